/**
 * Reads a snapshot of consumer groups through an admin client: ListGroups,
 * then per group DescribeGroups + OffsetFetch + ListOffsets (the admin
 * client's `groupLag`), plus every partition of the group's topics that it
 * neither committed nor owns (KEDA counts those too). Works against any
 * Kafka-compatible cluster.
 */

import type { GroupInput, LagSnapshot, PartitionInput } from './types.ts'
import { compareTp, tpKey } from './types.ts'

/** What the snapshot needs of an admin client; `Admin` from src/admin satisfies it. */
export interface LagSource {
  listGroups(): Promise<readonly { groupId: string; protocolType: string; state: string | null }[]>
  groupLag(groupId: string): Promise<GroupInput>
  listTopics(): Promise<ReadonlyMap<string, { partitions: number }>>
  listOffsets(
    topic: string,
    partition: undefined,
    spec: 'earliest' | 'latest',
  ): Promise<ReadonlyMap<number, { offset: bigint; error: Error | null }>>
}

export interface SnapshotResult {
  snapshot: LagSnapshot
  /** Groups that could not be read this time, with why. */
  failures: { groupId: string; error: string }[]
  /** How long the reads took (kafka-lag-exporter's poll time). */
  pollMs: number
}

/** Protocol types watched by --all-groups: consumer groups and groups that only commit offsets. */
export const WATCHED_PROTOCOL_TYPES: ReadonlySet<string> = new Set(['consumer', ''])

export async function readSnapshot(
  source: LagSource,
  selection: { groups: readonly string[] } | 'all',
  now: () => number = Date.now,
): Promise<SnapshotResult> {
  const started = now()
  const listing = await source.listGroups()
  const types = new Map(listing.map((g) => [g.groupId, g.protocolType]))
  const ids =
    selection === 'all' ? listing.filter((g) => WATCHED_PROTOCOL_TYPES.has(g.protocolType)).map((g) => g.groupId) : [...selection.groups]
  const failures: SnapshotResult['failures'] = []
  const read = await Promise.all(
    ids.map(async (groupId) => {
      try {
        return await source.groupLag(groupId)
      } catch (err) {
        failures.push({ groupId, error: err instanceof Error ? err.message : String(err) })
        return null
      }
    }),
  )
  const groups = read.filter((g): g is GroupInput => g !== null)

  // Every partition of each group's topics: the rows the group neither committed nor owns are added without a commit.
  const topics = new Set(groups.flatMap((g) => g.partitions.map((p) => p.topic)))
  const counts = topics.size > 0 ? await source.listTopics() : new Map<string, { partitions: number }>()
  const missing = new Map<string, number[]>()
  for (const g of groups) {
    const have = new Set(g.partitions.map((p) => tpKey(p.topic, p.partition)))
    for (const topic of new Set(g.partitions.map((p) => p.topic))) {
      const n = counts.get(topic)?.partitions ?? 0
      for (let partition = 0; partition < n; partition++) {
        if (have.has(tpKey(topic, partition))) continue
        let list = missing.get(topic)
        if (!list) missing.set(topic, (list = []))
        if (!list.includes(partition)) list.push(partition)
      }
    }
  }
  const extra = new Map<string, { logStart: bigint; logEnd: bigint }>()
  await Promise.all(
    [...missing.keys()].map(async (topic) => {
      const [ends, starts] = await Promise.all([
        source.listOffsets(topic, undefined, 'latest'),
        source.listOffsets(topic, undefined, 'earliest'),
      ])
      for (const partition of missing.get(topic) as number[]) {
        const end = ends.get(partition)
        const start = starts.get(partition)
        extra.set(tpKey(topic, partition), {
          logEnd: end && !end.error ? end.offset : -1n,
          logStart: start && !start.error ? start.offset : -1n,
        })
      }
    }),
  )
  const completed = groups.map((g): GroupInput => {
    const have = new Set(g.partitions.map((p) => tpKey(p.topic, p.partition)))
    const added: PartitionInput[] = []
    for (const topic of new Set(g.partitions.map((p) => p.topic))) {
      for (const partition of missing.get(topic) ?? []) {
        const k = tpKey(topic, partition)
        const offsets = extra.get(k)
        if (have.has(k) || !offsets) continue
        added.push({ topic, partition, committed: null, owner: null, ...offsets })
      }
    }
    return {
      groupId: g.groupId,
      state: g.state,
      protocol: g.protocol,
      protocolType: types.get(g.groupId) ?? g.protocolType,
      members: g.members,
      partitions: [...g.partitions, ...added].sort(compareTp),
    }
  })
  const time = now()
  return { snapshot: { time, groups: completed, unreadable: failures.map((f) => f.groupId) }, failures, pollMs: time - started }
}
