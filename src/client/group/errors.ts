/**
 * Errors of the group consumer. Each carries Kafka's error code (`code`, or −1 when the client
 * refused something itself) and `retriable`, like every other client error, so callers decide on
 * one flag.
 */
import { ErrorCode, errorInfo, KafkaError } from '../../protocol/errors.ts'
import type { TopicPartition } from '../assignors/types.ts'

/** Code used for failures the client detects itself (no broker error code applies). */
export const CLIENT_SIDE = -1

/**
 * Another consumer registered with the same `groupInstanceId` (FENCED_INSTANCE_ID). Fatal: the
 * consumer stops, because two processes claiming one static identity cannot both be right.
 */
export class FencedInstanceError extends KafkaError {
  override readonly retriable = false
  readonly groupInstanceId: string
  constructor(groupInstanceId: string, where: string) {
    super(
      ErrorCode.FENCED_INSTANCE_ID,
      `${where}: FENCED_INSTANCE_ID: another consumer joined group with groupInstanceId ${JSON.stringify(groupInstanceId)}; this one stops`,
    )
    this.groupInstanceId = groupInstanceId
  }
}

/**
 * A commit that did not (and will not) happen as asked. `code` is the broker's error code
 * (REBALANCE_IN_PROGRESS, ILLEGAL_GENERATION, UNKNOWN_MEMBER_ID, OFFSET_METADATA_TOO_LARGE, …) or
 * −1 when the client refused it before sending (a partition this member no longer owns, or no
 * active membership). `retriable` is true only for REBALANCE_IN_PROGRESS: the same offsets can be
 * committed again once the rebalance completes, if the partitions are still owned.
 */
export class CommitFailedError extends KafkaError {
  override readonly retriable: boolean
  /** The partitions concerned (for a refusal: the ones not owned). */
  readonly partitions: TopicPartition[]
  constructor(code: number, message: string, partitions: TopicPartition[] = [], retriable = false) {
    super(code === CLIENT_SIDE ? ErrorCode.UNKNOWN_SERVER_ERROR : code, message)
    // KafkaError maps the code to its table entry; a client-side refusal keeps −1 as its code.
    Object.defineProperty(this, 'code', { value: code })
    Object.defineProperty(this, 'errorName', { value: code === CLIENT_SIDE ? 'COMMIT_REFUSED' : errorInfo(code).name })
    this.retriable = retriable
    this.partitions = partitions
  }
}

/**
 * The coordinator refused the member for good (INVALID_SESSION_TIMEOUT, INCONSISTENT_GROUP_PROTOCOL,
 * GROUP_AUTHORIZATION_FAILED, GROUP_MAX_SIZE_REACHED, INVALID_GROUP_ID, …) or the group chose a
 * protocol this member cannot run. The consumer stops.
 */
export class GroupJoinError extends KafkaError {
  override readonly retriable = false
}

/** A partition has no committed offset and `autoOffsetReset` is 'none'. */
export class NoOffsetForPartitionError extends KafkaError {
  override readonly retriable = false
  readonly topic: string
  readonly partition: number
  constructor(topic: string, partition: number) {
    super(ErrorCode.OFFSET_OUT_OF_RANGE, `${topic}-${partition} has no committed offset and autoOffsetReset is 'none'`)
    this.topic = topic
    this.partition = partition
  }
}

/** A rebalance listener callback threw; the rebalance itself went on (as in the Java client). */
export class RebalanceListenerError extends KafkaError {
  override readonly retriable = false
  readonly callback: 'onAssigned' | 'onRevoked' | 'onLost'
  constructor(callback: 'onAssigned' | 'onRevoked' | 'onLost', cause: unknown) {
    super(ErrorCode.UNKNOWN_SERVER_ERROR, `rebalance listener ${callback} threw: ${cause instanceof Error ? cause.message : String(cause)}`)
    Object.defineProperty(this, 'code', { value: CLIENT_SIDE })
    Object.defineProperty(this, 'errorName', { value: 'LISTENER_FAILED' })
    this.callback = callback
    this.cause = cause
  }
}
