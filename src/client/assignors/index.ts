/**
 * Partition assignors for the classic consumer-group protocol: pure functions from the members'
 * subscriptions to an assignment, matching the Java client's so that Cohort, Java and librdkafka members
 * can share a group whichever of them leads.
 */
import { COOPERATIVE_STICKY_ASSIGNOR_NAME, cooperativeStickyAssignor } from './cooperative-sticky.ts'
import { RANGE_ASSIGNOR_NAME, rangeAssignor } from './range.ts'
import { ROUNDROBIN_ASSIGNOR_NAME, roundRobinAssignor } from './round-robin.ts'
import { STICKY_ASSIGNOR_NAME, stickyAssignor } from './sticky.ts'
import type { Assignor } from './types.ts'

export { COOPERATIVE_STICKY_ASSIGNOR_NAME, cooperativeMemberData, cooperativeStickyAssignor } from './cooperative-sticky.ts'
export { diffAssignment } from './diff.ts'
export { RANGE_ASSIGNOR_NAME, rangeAssignor } from './range.ts'
export { ROUNDROBIN_ASSIGNOR_NAME, roundRobinAssignor } from './round-robin.ts'
export { STICKY_ASSIGNOR_NAME, stickyAssignor, stickyMemberData } from './sticky.ts'
export type { Assignor, GroupAssignment, MemberSubscription, RebalanceProtocol, TopicPartition } from './types.ts'
export {
  decodeCooperativeUserData,
  decodeStickyUserData,
  encodeCooperativeUserData,
  encodeStickyUserData,
  type MemberData,
} from './user-data.ts'

/** The built-in assignors, by wire name. */
export const BUILTIN_ASSIGNORS: ReadonlyMap<string, Assignor> = new Map<string, Assignor>([
  [RANGE_ASSIGNOR_NAME, rangeAssignor],
  [ROUNDROBIN_ASSIGNOR_NAME, roundRobinAssignor],
  [STICKY_ASSIGNOR_NAME, stickyAssignor],
  [COOPERATIVE_STICKY_ASSIGNOR_NAME, cooperativeStickyAssignor],
])

/** A built-in assignor by its wire name (`range`, `roundrobin`, `sticky`, `cooperative-sticky`). */
export function assignorByName(name: string): Assignor | undefined {
  return BUILTIN_ASSIGNORS.get(name)
}

/**
 * The Java 3.x default `partition.assignment.strategy`: range first (what a fresh group agrees on), with
 * cooperative-sticky also offered so a rolling upgrade can later drop range and switch without downtime.
 */
export const DEFAULT_ASSIGNORS: readonly Assignor[] = Object.freeze([rangeAssignor, cooperativeStickyAssignor])
