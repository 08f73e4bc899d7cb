/**
 * `sticky` (Java `StickyAssignor`): the AbstractStickyAssignor algorithm under the EAGER protocol. A member
 * revokes everything before it rejoins, so its previous assignment travels in userData (Java's
 * "ConsumerUserData" V1: the partitions + the generation they were assigned in), not in `ownedPartitions`.
 * The result is the full target assignment.
 */
import { assignSticky } from './abstract-sticky.ts'
import { toGroupAssignment } from './common.ts'
import type { Assignor, GroupAssignment, MemberSubscription, TopicPartition } from './types.ts'
import { decodeStickyUserData, encodeStickyUserData, type MemberData } from './user-data.ts'

export const STICKY_ASSIGNOR_NAME = 'sticky'

/** Java `StickyAssignor.memberData`: always from userData, whatever the Subscription's owned partitions say. */
export function stickyMemberData(m: MemberSubscription): MemberData {
  return decodeStickyUserData(m.userData)
}

function assign(members: readonly MemberSubscription[], partitionsPerTopic: ReadonlyMap<string, number>): GroupAssignment {
  const { index, assignment } = assignSticky(members, partitionsPerTopic, stickyMemberData)
  return toGroupAssignment(members, (id) => assignment.get(id)?.map((p) => index.tp(p)))
}

/**
 * Java sends null until the member's first assignment, then that assignment and its generation. Pass the
 * latest assignment (even though the eager protocol revoked it before this join) and its generation;
 * `owned` empty with `generationId` < 0 means "never assigned".
 */
function subscriptionUserData(_topics: string[], owned: TopicPartition[], generationId: number): Buffer | null {
  if (owned.length === 0 && generationId < 0) return null
  return encodeStickyUserData(owned, generationId)
}

export const stickyAssignor: Assignor = Object.freeze({
  name: STICKY_ASSIGNOR_NAME,
  supportedProtocols: Object.freeze(['EAGER'] as const),
  version: 0,
  subscriptionUserData,
  assign,
})
