/**
 * The shapes every partition assignor works with. Assignors are pure functions of their inputs: no I/O,
 * no clocks, no state kept between calls.
 */

export interface TopicPartition {
  topic: string
  partition: number
}

/** KIP-429: EAGER revokes everything before a rebalance; COOPERATIVE revokes only what moves. */
export type RebalanceProtocol = 'EAGER' | 'COOPERATIVE'

/** One member's decoded Subscription, as the leader sees it in the JoinGroup response. */
export interface MemberSubscription {
  memberId: string
  /** group.instance.id of a static member (KIP-345), else null. */
  groupInstanceId: string | null
  topics: string[]
  userData: Buffer | null
  /** Subscription v1+ (KIP-429); empty for v0. */
  ownedPartitions: TopicPartition[]
  /** Subscription v2+ (KIP-792); -1 when unknown. */
  generationId: number
  /** Subscription v3+ (KIP-881); null when unknown. */
  rackId: string | null
}

export interface GroupAssignment {
  assignments: Map<string /* memberId */, { partitions: TopicPartition[]; userData: Buffer | null }>
}

export interface Assignor {
  /** The protocol name on the wire (JoinGroup `protocols[].name`). */
  readonly name: string
  /** Java: EAGER for range/roundrobin/sticky; COOPERATIVE (and EAGER) for cooperative-sticky. */
  readonly supportedProtocols: readonly RebalanceProtocol[]
  readonly version: number
  /**
   * userData this member sends in its subscription (sticky: the previous assignment + generation).
   * `owned` is the last assignment the member received, even when the EAGER protocol has revoked
   * it before this join, and `generationId` the generation it came with (-1 if it never got one).
   */
  subscriptionUserData(topics: string[], owned: TopicPartition[], generationId: number): Buffer | null
  /**
   * Leader side: partitionsPerTopic has every subscribed topic's partition count. `members` should be in
   * the order of the JoinGroup response (Java's leader builds a HashMap in that order, and the sticky
   * assignors' tie-breaks follow that map's iteration order).
   */
  assign(members: readonly MemberSubscription[], partitionsPerTopic: ReadonlyMap<string, number>): GroupAssignment
}
