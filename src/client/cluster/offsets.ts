/**
 * ListOffsets, grouped by partition leader: one request per leader, each
 * partition's outcome (offset or Kafka error) reported separately. Shared by
 * the consumer's offset resets and the admin client.
 */
import { ListOffsets } from '../../protocol/apis/index.ts'
import { ErrorCode, KafkaError } from '../../protocol/errors.ts'
import type { ResponseOf } from '../../protocol/schema/dsl.ts'
import { ClientError } from '../errors.ts'
import { backoffMs, type Cluster } from './cluster.ts'

/** Kafka's special ListOffsets timestamps. */
export const OffsetSpec = { latest: -1n, earliest: -2n, maxTimestamp: -3n } as const

export interface OffsetQuery {
  topic: string
  partition: number
  /** A time in ms, or one of `OffsetSpec`. */
  timestamp: bigint
}

export interface OffsetAnswer {
  topic: string
  partition: number
  /** -1 when no record has a timestamp at or after the one asked for. */
  offset: bigint
  timestamp: bigint
  leaderEpoch: number
  error: KafkaError | ClientError | null
}

export function tpKey(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`
}

export interface ListOffsetsOptions {
  isolationLevel?: 0 | 1
  /** Overall budget (default the cluster's `defaultApiTimeoutMs`). */
  timeoutMs?: number
}

/**
 * Looks the offsets up at each partition's leader, retrying partitions whose
 * error is retriable (after a metadata refresh) within the time budget.
 * Failures that remain become each affected partition's `error`.
 */
export async function listOffsets(
  cluster: Cluster,
  queries: readonly OffsetQuery[],
  options: ListOffsetsOptions = {},
): Promise<Map<string, OffsetAnswer>> {
  const deadline = Date.now() + (options.timeoutMs ?? cluster.options.defaultApiTimeoutMs)
  const out = new Map<string, OffsetAnswer>()
  let pending = queries
  for (let attempt = 1; ; attempt++) {
    const answers = await listOnce(cluster, pending, { ...options, timeoutMs: Math.max(1, deadline - Date.now()) })
    const again: OffsetQuery[] = []
    for (const q of pending) {
      const a = answers.get(tpKey(q.topic, q.partition)) as OffsetAnswer
      out.set(tpKey(q.topic, q.partition), a)
      if (a.error?.retriable) again.push(q)
    }
    const wait = backoffMs(attempt, cluster.options.retryBackoffMs, cluster.options.retryBackoffMaxMs)
    if (again.length === 0 || Date.now() + wait >= deadline) return out
    await cluster.refreshMetadata([...new Set(again.map((q) => q.topic))]).catch(() => {})
    await cluster.sleep(wait)
    pending = again
  }
}

async function listOnce(
  cluster: Cluster,
  queries: readonly OffsetQuery[],
  options: ListOffsetsOptions,
): Promise<Map<string, OffsetAnswer>> {
  const out = new Map<string, OffsetAnswer>()
  const byLeader = new Map<number, OffsetQuery[]>()
  const fail = (q: OffsetQuery, err: unknown): void => {
    const error =
      err instanceof KafkaError || err instanceof ClientError
        ? err
        : new ClientError(err instanceof Error ? err.message : String(err), false, { cause: err })
    out.set(tpKey(q.topic, q.partition), { topic: q.topic, partition: q.partition, offset: -1n, timestamp: -1n, leaderEpoch: -1, error })
  }
  await Promise.all(
    queries.map(async (q) => {
      try {
        const leader = await cluster.leaderFor(q.topic, q.partition, { timeoutMs: options.timeoutMs, autoCreate: false })
        let list = byLeader.get(leader)
        if (!list) byLeader.set(leader, (list = []))
        list.push(q)
      } catch (err) {
        fail(q, err)
      }
    }),
  )
  const needsMaxTimestamp = queries.some((q) => q.timestamp === OffsetSpec.maxTimestamp)
  await Promise.all(
    [...byLeader].map(async ([leader, list]) => {
      const topics = new Map<string, OffsetQuery[]>()
      for (const q of list) {
        let l = topics.get(q.topic)
        if (!l) topics.set(q.topic, (l = []))
        l.push(q)
      }
      let res: ResponseOf<typeof ListOffsets>
      try {
        res = await cluster.send(
          leader,
          ListOffsets,
          {
            replicaId: -1,
            isolationLevel: options.isolationLevel ?? 0,
            topics: [...topics].map(([name, qs]) => ({
              name,
              partitions: qs.map((q) => ({ partitionIndex: q.partition, timestamp: q.timestamp, maxNumOffsets: 1 })),
            })),
          },
          // Max-timestamp lookups need v7; read_committed needs v2.
          { versions: { min: needsMaxTimestamp ? 7 : options.isolationLevel === 1 ? 2 : 0 }, deadlineMs: options.timeoutMs },
        )
      } catch (err) {
        for (const q of list) fail(q, err)
        return
      }
      for (const t of res.topics) {
        for (const p of t.partitions) {
          const offset = p.oldStyleOffsets.length > 0 ? (p.oldStyleOffsets[0] as bigint) : p.offset
          out.set(tpKey(t.name, p.partitionIndex), {
            topic: t.name,
            partition: p.partitionIndex,
            offset: p.errorCode === ErrorCode.NONE ? offset : -1n,
            timestamp: p.timestamp,
            leaderEpoch: p.leaderEpoch,
            error: p.errorCode === ErrorCode.NONE ? null : new KafkaError(p.errorCode, `${t.name}-${p.partitionIndex}: ListOffsets failed`),
          })
        }
      }
      for (const q of list) {
        if (!out.has(tpKey(q.topic, q.partition)))
          fail(q, new KafkaError(ErrorCode.UNKNOWN_SERVER_ERROR, `no ListOffsets result for ${q.topic}-${q.partition}`))
      }
    }),
  )
  return out
}
