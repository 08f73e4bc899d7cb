/**
 * `range` (Java `RangeAssignor`, librdkafka `rdkafka_range_assignor.c`). Per topic, the members subscribed
 * to it in `MemberInfo` order (static members by group.instance.id first, then member ids); each gets
 * ⌊P/N⌋ consecutive partitions and the first P mod N members one more.
 *
 * Java's rack-aware variant (KIP-881) needs the replicas' racks, which `partitionsPerTopic` does not carry;
 * with no replica racks Java falls back to exactly this.
 */
import { checkMembers, compareMembers, javaMemberOrder, subscribedTopicCounts, toGroupAssignment } from './common.ts'
import type { Assignor, GroupAssignment, MemberSubscription, TopicPartition } from './types.ts'

export const RANGE_ASSIGNOR_NAME = 'range'

function assignRange(members: readonly MemberSubscription[], partitionsPerTopic: ReadonlyMap<string, number>): GroupAssignment {
  checkMembers(members)
  const counts = subscribedTopicCounts(members, partitionsPerTopic)
  const result = new Map<string, TopicPartition[]>()
  for (const m of members) result.set(m.memberId, [])

  // Java collects each topic's members by walking its subscription HashMap, then sorts them (stably).
  const ordered = javaMemberOrder(members)
  for (const [topic, numPartitions] of counts) {
    const consumers = ordered.filter((m) => m.topics.includes(topic)).sort(compareMembers)
    if (consumers.length === 0) continue
    const perConsumer = Math.floor(numPartitions / consumers.length)
    const withExtra = numPartitions % consumers.length
    let next = 0
    for (let i = 0; i < consumers.length && next < numPartitions; i++) {
      const n = perConsumer + (i < withExtra ? 1 : 0)
      const list = result.get(consumers[i].memberId)!
      for (let k = 0; k < n; k++) list.push({ topic, partition: next++ })
    }
  }
  return toGroupAssignment(members, (id) => result.get(id))
}

export const rangeAssignor: Assignor = Object.freeze({
  name: RANGE_ASSIGNOR_NAME,
  supportedProtocols: Object.freeze(['EAGER'] as const),
  version: 0,
  subscriptionUserData: () => null,
  assign: assignRange,
})
