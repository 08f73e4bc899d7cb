/**
 * The classic group coordinator. File map:
 *   coordinator.ts        GroupCoordinator: request handlers, join phase, sessions, offsets, expiry, replay
 *   classic-group.ts      ClassicGroup / ClassicGroupMember: the in-memory state machine and its transition table
 *   history.ts            the rebalance history's entries: members before/after, partitions moved, duration, waits
 *   offsets.ts            OffsetStore: committed offsets (durable; written only by replay)
 *   records.ts            `__consumer_offsets` record model and Kafka-compatible encoding (plus Cohort's rebalance-history record); partitionFor
 *   (consumer-protocol.ts moved to src/protocol: broker and client share it)
 *   timer.ts              Timer interface, ManualTimer (tests) and SystemTimer (broker)
 *   result.ts             CoordinatorResult, HandlerResult, Deferred
 *   types.ts              request/response types, RequestContext, CoordinatorConfig and defaults
 */

export {
  ASSIGNMENT_MAX_VERSION,
  type Assignment,
  CONSUMER_PROTOCOL_TYPE,
  decodeAssignment,
  decodeSubscription,
  EMPTY_CONSUMER_ASSIGNMENT,
  encodeAssignment,
  encodeSubscription,
  SUBSCRIPTION_MAX_VERSION,
  type Subscription,
  subscribedTopicsOf,
  type TopicPartitions,
} from '../../protocol/consumer-protocol.ts'
export {
  type ClassicGroup,
  type ClassicGroupMember,
  GROUP_STATES,
  type GroupState,
  IllegalStateTransitionError,
  type Protocol,
  type RebalanceTrigger,
  VALID_PREVIOUS_STATES,
} from './classic-group.ts'
export {
  GroupCoordinator,
  type GroupCoordinatorOptions,
  type GroupSnapshot,
  HISTORY_LIMIT,
  type MemberSnapshot,
  type RebalanceHistoryEntry,
} from './coordinator.ts'
export {
  REBALANCE_TRIGGERS,
  type RebalanceMember,
  type RebalanceMemberEntry,
  type TopicPartitionList,
} from './history.ts'
export { type CommittedOffset, OffsetStore } from './offsets.ts'
export {
  type CoordinatorRecord,
  decodeRecord,
  type EncodedRecord,
  encodeRecord,
  GROUP_METADATA_VALUE_VERSION,
  type GroupMetadataMember,
  type GroupMetadataRecord,
  type GroupMetadataValue,
  groupMetadataRecord,
  groupMetadataTombstone,
  javaStringHashCode,
  OFFSET_COMMIT_VALUE_VERSION,
  OFFSET_COMMIT_VALUE_VERSION_WITH_EXPIRE,
  type OffsetCommitRecord,
  type OffsetCommitValue,
  offsetCommitRecord,
  offsetCommitTombstone,
  partitionFor,
  type RebalanceHistoryRecord,
  type RebalanceHistoryValue,
  RecordType,
  rebalanceHistoryRecord,
  rebalanceHistoryTombstone,
  type UnknownRecord,
} from './records.ts'
export { type CoordinatorResult, Deferred, EMPTY_RESULT, type HandlerResult } from './result.ts'
export { ManualTimer, SystemTimer, type Timer, type TimerTask } from './timer.ts'
export * from './types.ts'
