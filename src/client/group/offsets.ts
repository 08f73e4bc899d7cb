/**
 * OffsetCommit and OffsetFetch with the retry rules per error code. They only classify and retry;
 * what a classification means for membership (rejoin, partitions lost, fatal) is the member's call,
 * so the same code serves group members and manually assigned consumers (generation −1).
 *
 *   code                                             commit                     fetch
 *   NONE                                             ok                         ok
 *   COORDINATOR_NOT_AVAILABLE, NOT_COORDINATOR,      rediscover, retry          rediscover, retry
 *     connection lost, request timeout
 *   COORDINATOR_LOAD_IN_PROGRESS, REQUEST_TIMED_OUT  retry                      retry
 *   UNSTABLE_OFFSET_COMMIT (KIP-447)                 –                          retry
 *   REBALANCE_IN_PROGRESS                            'rebalance'                –
 *   ILLEGAL_GENERATION, UNKNOWN_MEMBER_ID            'generation'               –
 *   FENCED_INSTANCE_ID                               'fenced'                   –
 *   UNKNOWN_TOPIC_OR_PARTITION                       fail                       no offset (−1)
 *   OFFSET_METADATA_TOO_LARGE, anything else         fail                       fail
 * Retries stop at the deadline with the last failure.
 */
import { ErrorCode, errorInfo, KafkaError } from '../../protocol/errors.ts'
import type { Clock } from '../../util/clock.ts'
import type { TopicPartition } from '../assignors/types.ts'
import { backoffMs } from '../cluster/cluster.ts'
import { ClientError, TimeoutError } from '../errors.ts'
import { CommitFailedError } from './errors.ts'
import { keyOf } from './partitions.ts'
import type { CommittedOffset, GroupTransport, MemberIdentity, OffsetToCommit } from './types.ts'

export interface RetryPolicy {
  clock: Clock
  /** Waits `ms` (on the member's timer, so tests never sleep); rejects when the consumer closes. */
  sleep(ms: number): Promise<void>
  retryBackoffMs: number
  retryBackoffMaxMs: number
  /** Overall budget of one call including its retries. */
  timeoutMs: number
}

export type CommitOutcome =
  | { kind: 'ok' }
  | { kind: 'rebalance' }
  | { kind: 'generation'; code: number }
  | { kind: 'fenced' }
  | { kind: 'failed'; error: Error }

const REDISCOVER = new Set<number>([ErrorCode.COORDINATOR_NOT_AVAILABLE, ErrorCode.NOT_COORDINATOR])
const RETRY = new Set<number>([ErrorCode.COORDINATOR_LOAD_IN_PROGRESS, ErrorCode.REQUEST_TIMED_OUT, ErrorCode.NETWORK_EXCEPTION])

/** A transport failure worth retrying after finding the coordinator again. */
export function isTransportFailure(err: unknown): boolean {
  return (err instanceof ClientError && err.retriable) || (err instanceof KafkaError && err.retriable)
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}

/** Commits `offsets` as `identity`, retrying coordinator trouble until the policy's deadline. */
export async function commitOffsets(
  transport: GroupTransport,
  identity: MemberIdentity,
  offsets: readonly OffsetToCommit[],
  policy: RetryPolicy,
): Promise<CommitOutcome> {
  if (offsets.length === 0) return { kind: 'ok' }
  const deadline = policy.clock.now() + policy.timeoutMs
  for (let attempt = 1; ; attempt++) {
    let retryWhy: string
    try {
      const results = await transport.offsetCommit(identity, offsets)
      const codes = new Map<number, TopicPartition[]>()
      for (const r of results) {
        if (r.errorCode === ErrorCode.NONE) continue
        let l = codes.get(r.errorCode)
        if (!l) codes.set(r.errorCode, (l = []))
        l.push({ topic: r.topic, partition: r.partition })
      }
      if (codes.size === 0) return { kind: 'ok' }
      if (codes.has(ErrorCode.FENCED_INSTANCE_ID)) return { kind: 'fenced' }
      for (const code of [ErrorCode.UNKNOWN_MEMBER_ID, ErrorCode.ILLEGAL_GENERATION])
        if (codes.has(code)) return { kind: 'generation', code }
      if (codes.has(ErrorCode.REBALANCE_IN_PROGRESS)) return { kind: 'rebalance' }
      const fatal = [...codes].find(([code]) => !REDISCOVER.has(code) && !RETRY.has(code) && !(errorInfo(code).retriable && code !== 3))
      if (fatal) {
        const [code, tps] = fatal
        const where = tps.map((tp) => `${tp.topic}-${tp.partition}`).join(', ')
        return {
          kind: 'failed',
          error: new CommitFailedError(code, `OffsetCommit of ${where}: ${errorInfo(code).name}: ${errorInfo(code).message}`, tps),
        }
      }
      const first = [...codes.keys()][0] as number
      if ([...codes.keys()].some((c) => REDISCOVER.has(c))) transport.coordinatorDead(`OffsetCommit: ${errorInfo(first).name}`)
      retryWhy = errorInfo(first).name
    } catch (err) {
      if (!isTransportFailure(err)) return { kind: 'failed', error: err as Error }
      transport.coordinatorDead(`OffsetCommit: ${describe(err)}`)
      retryWhy = describe(err)
    }
    const wait = backoffMs(attempt, policy.retryBackoffMs, policy.retryBackoffMaxMs)
    if (policy.clock.now() + wait >= deadline) {
      return { kind: 'failed', error: new TimeoutError(`OffsetCommit did not succeed within ${policy.timeoutMs} ms: ${retryWhy}`) }
    }
    await policy.sleep(wait)
  }
}

/**
 * Committed offsets of `partitions` (offset −1 where none), retrying coordinator trouble and
 * UNSTABLE_OFFSET_COMMIT until the deadline. Other errors throw a KafkaError.
 */
export async function fetchCommittedOffsets(
  transport: GroupTransport,
  groupId: string,
  partitions: readonly TopicPartition[],
  policy: RetryPolicy,
): Promise<Map<string, CommittedOffset>> {
  const out = new Map<string, CommittedOffset>()
  if (partitions.length === 0) return out
  const deadline = policy.clock.now() + policy.timeoutMs
  for (let attempt = 1; ; attempt++) {
    let retryWhy: string
    try {
      const res = await transport.offsetFetch(groupId, partitions, true)
      let code = res.errorCode
      if (code === ErrorCode.NONE) {
        for (const p of res.partitions) {
          if (p.errorCode === ErrorCode.NONE || p.errorCode === ErrorCode.UNKNOWN_TOPIC_OR_PARTITION) continue
          code = p.errorCode
          break
        }
      }
      if (code === ErrorCode.NONE) {
        for (const p of res.partitions) {
          out.set(keyOf(p), p.errorCode === ErrorCode.NONE ? p : { ...p, offset: -1n, errorCode: ErrorCode.NONE })
        }
        for (const tp of partitions) {
          if (!out.has(keyOf(tp))) out.set(keyOf(tp), { ...tp, offset: -1n, metadata: null, leaderEpoch: -1, errorCode: ErrorCode.NONE })
        }
        return out
      }
      if (REDISCOVER.has(code)) transport.coordinatorDead(`OffsetFetch: ${errorInfo(code).name}`)
      else if (!RETRY.has(code) && code !== ErrorCode.UNSTABLE_OFFSET_COMMIT) {
        throw new KafkaError(code, `OffsetFetch for group ${groupId}: ${errorInfo(code).name}`)
      }
      retryWhy = errorInfo(code).name
    } catch (err) {
      if (!isTransportFailure(err)) throw err
      transport.coordinatorDead(`OffsetFetch: ${describe(err)}`)
      retryWhy = describe(err)
    }
    const wait = backoffMs(attempt, policy.retryBackoffMs, policy.retryBackoffMaxMs)
    if (policy.clock.now() + wait >= deadline) {
      throw new TimeoutError(`OffsetFetch for group ${groupId} did not succeed within ${policy.timeoutMs} ms: ${retryWhy}`)
    }
    await policy.sleep(wait)
  }
}
