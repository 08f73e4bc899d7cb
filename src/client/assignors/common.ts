/** Helpers shared by the assignors. */
import { javaHashMapOrder } from './java-hash.ts'
import type { GroupAssignment, MemberSubscription, TopicPartition } from './types.ts'

/** `String.compareTo`: UTF-16 code unit order, which is also JavaScript's `<` on strings. */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

/** Topic, then partition. */
export function compareTopicPartitions(a: TopicPartition, b: TopicPartition): number {
  return compareStrings(a.topic, b.topic) || a.partition - b.partition
}

/**
 * `AbstractPartitionAssignor.MemberInfo.compareTo`: static members first, ordered by group.instance.id,
 * then dynamic members by member id.
 */
export function compareMembers(a: MemberSubscription, b: MemberSubscription): number {
  if (a.groupInstanceId !== null && b.groupInstanceId !== null) return compareStrings(a.groupInstanceId, b.groupInstanceId)
  if (a.groupInstanceId !== null) return -1
  if (b.groupInstanceId !== null) return 1
  return compareStrings(a.memberId, b.memberId)
}

/** Rejects duplicate member ids; everything else an assignor accepts as it comes. */
export function checkMembers(members: readonly MemberSubscription[]): void {
  const seen = new Set<string>()
  for (const m of members) {
    if (seen.has(m.memberId)) throw new Error(`duplicate member id ${JSON.stringify(m.memberId)}`)
    seen.add(m.memberId)
  }
}

/**
 * The members in the iteration order of Java's leader-side `Map<String, Subscription>`: a HashMap filled in
 * JoinGroup-response order (`ConsumerCoordinator.onLeaderElected`).
 */
export function javaMemberOrder(members: readonly MemberSubscription[]): MemberSubscription[] {
  const byId = new Map(members.map((m) => [m.memberId, m]))
  return javaHashMapOrder(byId.keys()).map((id) => byId.get(id)!)
}

/**
 * The topics an assignor works on, as Java's `AbstractPartitionAssignor.assign` builds them: topics some
 * member subscribes to that have metadata and at least one partition. Sorted by name.
 */
export function subscribedTopicCounts(
  members: readonly MemberSubscription[],
  partitionsPerTopic: ReadonlyMap<string, number>,
): Map<string, number> {
  const names = new Set<string>()
  for (const m of members) for (const t of m.topics) names.add(t)
  const out = new Map<string, number>()
  for (const t of [...names].sort(compareStrings)) {
    const n = partitionsPerTopic.get(t)
    if (n === undefined || n <= 0) continue
    if (!Number.isInteger(n)) throw new RangeError(`partition count of ${t} is not an integer: ${n}`)
    out.set(t, n)
  }
  return out
}

/** Builds the result: one entry per member in input order, partitions sorted by topic then partition. */
export function toGroupAssignment(
  members: readonly MemberSubscription[],
  partitionsOf: (memberId: string) => readonly TopicPartition[] | undefined,
): GroupAssignment {
  const assignments: GroupAssignment['assignments'] = new Map()
  for (const m of members) {
    const partitions = [...(partitionsOf(m.memberId) ?? [])].sort(compareTopicPartitions)
    assignments.set(m.memberId, { partitions, userData: null })
  }
  return { assignments }
}
