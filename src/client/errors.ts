/**
 * The client's typed errors. Every error a caller can see carries `retriable`,
 * so retry loops (ours and the caller's) decide on one flag rather than on
 * class names. Kafka error codes surface as the protocol's `KafkaError`.
 */
import { ErrorCode, KafkaError } from '../protocol/errors.ts'

export { ErrorCode, KafkaError }

/** Base of the errors raised by the client itself (not by a broker's error code). */
export class ClientError extends Error {
  override readonly name: string = 'ClientError'
  readonly retriable: boolean
  constructor(message: string, retriable: boolean, options?: { cause?: unknown }) {
    super(message, options)
    this.retriable = retriable
  }
}

/**
 * The connection could not be made, or closed while requests were in flight.
 * Retriable: a request that was written may or may not have been applied, which
 * is why the producer's retries rely on idempotence to avoid duplicates.
 */
export class ConnectionError extends ClientError {
  override readonly name = 'ConnectionError'
  readonly broker: string
  constructor(broker: string, message: string, options?: { cause?: unknown }) {
    super(`${broker}: ${message}`, true, options)
    this.broker = broker
  }
}

/** No response within `requestTimeoutMs`. The connection is closed, since a late answer would desynchronise it. */
export class RequestTimeoutError extends ClientError {
  override readonly name = 'RequestTimeoutError'
  constructor(
    readonly broker: string,
    readonly api: string,
    readonly timeoutMs: number,
  ) {
    super(`${broker}: ${api} request timed out after ${timeoutMs} ms`, true)
  }
}

/** The broker's version range for an API does not overlap ours, or it does not offer the API at all. */
export class UnsupportedVersionError extends ClientError {
  override readonly name = 'UnsupportedVersionError'
  constructor(
    readonly api: string,
    readonly ours: { min: number; max: number },
    readonly broker: { min: number; max: number } | null,
  ) {
    super(
      broker === null
        ? `the broker does not support ${api} (we implement v${ours.min}-v${ours.max})`
        : `no common version for ${api}: we implement v${ours.min}-v${ours.max}, the broker v${broker.min}-v${broker.max}`,
      false,
    )
  }
}

/** The broker sent bytes we cannot make sense of (bad frame, correlation id out of order). */
export class ProtocolError extends ClientError {
  override readonly name = 'ProtocolError'
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, false, options)
  }
}

/** A retry budget (count or time) ran out; `cause` is the last failure. */
export class TimeoutError extends ClientError {
  override readonly name = 'TimeoutError'
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, false, options)
  }
}

/** A bad option or argument from the caller. */
export class ConfigError extends ClientError {
  override readonly name = 'ConfigError'
  constructor(message: string) {
    super(message, false)
  }
}

/** The producer, consumer or cluster was closed while the operation was pending. */
export class ClosedError extends ClientError {
  override readonly name = 'ClosedError'
  constructor(what: string) {
    super(`${what} is closed`, false)
  }
}

/** A record that can never be sent: larger than `maxRequestSize`. */
export class RecordTooLargeError extends ClientError {
  override readonly name = 'RecordTooLargeError'
  constructor(size: number, limit: number) {
    super(`the record is ${size} bytes when serialized, larger than maxRequestSize (${limit})`, false)
  }
}

/**
 * The metadata says the topic (or partition) does not exist and creating it
 * was not asked for. Kafka counts UNKNOWN_TOPIC_OR_PARTITION as retriable,
 * because a broker may not know a new topic yet; once the cluster's metadata
 * says so, retrying the same request will not help.
 */
export class UnknownTopicError extends KafkaError {
  override readonly retriable = false
  readonly topic: string
  constructor(topic: string, message: string) {
    super(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, message)
    this.topic = topic
  }
}

export function isRetriable(err: unknown): boolean {
  return (err instanceof KafkaError || err instanceof ClientError) && err.retriable
}

/** Error codes after which the partition's leader (or the topic) may have moved, so metadata is worth refreshing before a retry. */
const STALE_METADATA = new Set<number>([
  ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
  ErrorCode.LEADER_NOT_AVAILABLE,
  ErrorCode.NOT_LEADER_OR_FOLLOWER,
  ErrorCode.REPLICA_NOT_AVAILABLE,
  ErrorCode.NOT_CONTROLLER,
  ErrorCode.FENCED_LEADER_EPOCH,
  ErrorCode.UNKNOWN_LEADER_EPOCH,
  ErrorCode.KAFKA_STORAGE_ERROR,
  ErrorCode.UNKNOWN_TOPIC_ID,
  ErrorCode.INCONSISTENT_TOPIC_ID,
  ErrorCode.LISTENER_NOT_FOUND,
])

export function invalidatesMetadata(err: unknown): boolean {
  if (err instanceof KafkaError) return STALE_METADATA.has(err.code)
  return err instanceof ConnectionError || err instanceof RequestTimeoutError
}

export function codeInvalidatesMetadata(code: number): boolean {
  return STALE_METADATA.has(code)
}
