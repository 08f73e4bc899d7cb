/**
 * `roundrobin` (Java `RoundRobinAssignor`, librdkafka `rdkafka_roundrobin_assignor.c`). All partitions of all
 * subscribed topics, sorted by topic then partition, are dealt to the members in `MemberInfo` order (static
 * members by group.instance.id first, then member ids) with one circular cursor that skips members not
 * subscribed to the partition's topic.
 */
import { checkMembers, compareMembers, javaMemberOrder, subscribedTopicCounts, toGroupAssignment } from './common.ts'
import type { Assignor, GroupAssignment, MemberSubscription, TopicPartition } from './types.ts'

export const ROUNDROBIN_ASSIGNOR_NAME = 'roundrobin'

function assignRoundRobin(members: readonly MemberSubscription[], partitionsPerTopic: ReadonlyMap<string, number>): GroupAssignment {
  checkMembers(members)
  const counts = subscribedTopicCounts(members, partitionsPerTopic) // sorted by topic name
  const sorted = javaMemberOrder(members).sort(compareMembers)
  const subscribed = sorted.map((m) => new Set(m.topics))
  const lists: TopicPartition[][] = sorted.map(() => [])

  let cursor = 0 // Java's CircularIterator: peek() is sorted[cursor], next() returns it and advances
  for (const [topic, numPartitions] of counts) {
    for (let partition = 0; partition < numPartitions; partition++) {
      // Some member subscribes to `topic` (counts only holds subscribed topics), so this terminates.
      while (!subscribed[cursor].has(topic)) cursor = (cursor + 1) % sorted.length
      lists[cursor].push({ topic, partition })
      cursor = (cursor + 1) % sorted.length
    }
  }
  const result = new Map(sorted.map((m, i) => [m.memberId, lists[i]]))
  return toGroupAssignment(members, (id) => result.get(id))
}

export const roundRobinAssignor: Assignor = Object.freeze({
  name: ROUNDROBIN_ASSIGNOR_NAME,
  supportedProtocols: Object.freeze(['EAGER'] as const),
  version: 0,
  subscriptionUserData: () => null,
  assign: assignRoundRobin,
})
