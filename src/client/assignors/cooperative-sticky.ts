/**
 * `cooperative-sticky` (Java `CooperativeStickyAssignor`, KIP-429). The sticky target assignment, minus every
 * partition that would move from a member that still owns it to another member: the owner revokes it after
 * this rebalance and rejoins at once, and the follow-up rebalance assigns it. So no partition is ever
 * assigned to a member while another still owns it.
 *
 * A member's claim is its Subscription's `ownedPartitions` and generation: the Subscription v2+ field when
 * set (≥ 0), else the generation in userData (Java's 4-byte "generation" struct; absent userData = no
 * generation). librdkafka sends Subscription v3 with the generation, so its userData (Java StickyAssignor's
 * format) is never read.
 */
import { assignSticky } from './abstract-sticky.ts'
import { toGroupAssignment } from './common.ts'
import type { Assignor, GroupAssignment, MemberSubscription, TopicPartition } from './types.ts'
import { decodeCooperativeUserData, encodeCooperativeUserData, type MemberData } from './user-data.ts'

export const COOPERATIVE_STICKY_ASSIGNOR_NAME = 'cooperative-sticky'

/** Java `CooperativeStickyAssignor.memberData`. */
export function cooperativeMemberData(m: MemberSubscription): MemberData {
  if (m.generationId >= 0) return { partitions: m.ownedPartitions, generation: m.generationId }
  return { partitions: m.ownedPartitions, generation: decodeCooperativeUserData(m.userData) }
}

function assign(members: readonly MemberSubscription[], partitionsPerTopic: ReadonlyMap<string, number>): GroupAssignment {
  const { index, assignment, transferring } = assignSticky(members, partitionsPerTopic, cooperativeMemberData)
  const moving = transferring ?? partitionsTransferringOwnership(members, assignment, index.id.bind(index))
  for (const [id, consumer] of moving) {
    const list = assignment.get(consumer)!
    const i = list.indexOf(id)
    if (i >= 0) list.splice(i, 1)
  }
  return toGroupAssignment(members, (id) => assignment.get(id)?.map((p) => index.tp(p)))
}

/**
 * Java `computePartitionsTransferringOwnership` (general case): partitions newly assigned to one member that
 * some member's Subscription still lists as owned and is losing.
 */
function partitionsTransferringOwnership(
  members: readonly MemberSubscription[],
  assignment: ReadonlyMap<string, number[]>,
  idOf: (tp: TopicPartition) => number | undefined,
): Map<number, string> {
  const added = new Map<number, string>()
  const revoked = new Set<number>()
  for (const m of members) {
    const owned = new Set<number>()
    for (const tp of m.ownedPartitions) {
      const id = idOf(tp)
      if (id !== undefined) owned.add(id)
    }
    const assigned = new Set(assignment.get(m.memberId))
    for (const id of assigned) if (!owned.has(id)) added.set(id, m.memberId)
    for (const id of owned) if (!assigned.has(id)) revoked.add(id)
  }
  for (const id of added.keys()) if (!revoked.has(id)) added.delete(id)
  return added
}

/** Java sends the generation of its latest assignment (-1 before the first) in every subscription. */
function subscriptionUserData(_topics: string[], _owned: TopicPartition[], generationId: number): Buffer | null {
  return encodeCooperativeUserData(generationId)
}

export const cooperativeStickyAssignor: Assignor = Object.freeze({
  name: COOPERATIVE_STICKY_ASSIGNOR_NAME,
  supportedProtocols: Object.freeze(['COOPERATIVE', 'EAGER'] as const),
  version: 0,
  subscriptionUserData,
  assign,
})
