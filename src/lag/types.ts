/**
 * What the lag monitor reads: one snapshot of consumer groups at a point in
 * time. The shapes are the admin client's `GroupLag` (src/admin/groups.ts)
 * reduced to the fields the monitor uses, so `GroupLag` satisfies them and the
 * pure modules here do not depend on the admin client.
 */

export interface TopicPartitionRef {
  topic: string
  partition: number
}

export interface OwnerInput {
  memberId: string
  groupInstanceId: string | null
  clientId: string
  /** As the coordinator reports it, e.g. `/127.0.0.1`. */
  clientHost: string
}

export interface MemberInput extends OwnerInput {
  partitions: readonly TopicPartitionRef[]
}

export interface PartitionInput extends TopicPartitionRef {
  /** Null when the group has no commit for the partition. */
  committed: bigint | null
  /** -1 when it could not be read. */
  logStart: bigint
  /** The high watermark; -1 when it could not be read. */
  logEnd: bigint
  owner: OwnerInput | null
}

export interface GroupInput {
  groupId: string
  /** 'Stable' | 'Empty' | 'PreparingRebalance' | 'CompletingRebalance' | 'Dead' (or another broker's name). */
  state: string
  /** The assignor chosen by the group, '' when none. */
  protocol: string
  /** 'consumer', '' for groups that only commit offsets; absent when not known. */
  protocolType?: string
  members: readonly MemberInput[]
  /** Sorted by topic, then partition. */
  partitions: readonly PartitionInput[]
}

export interface LagSnapshot {
  /** When the snapshot was taken, in ms since the epoch: every sample in it is stamped with this time. */
  time: number
  groups: readonly GroupInput[]
  /** Groups that could not be read this time: their history is kept for the next snapshot instead of being forgotten. */
  unreadable?: readonly string[]
}

export function tpKey(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`
}

export function compareTp(a: TopicPartitionRef, b: TopicPartitionRef): number {
  return a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition
}
