/**
 * The admin client: topics, configs, offsets, consumer groups (list, describe, delete, committed
 * offsets, resets, lag) and the cluster, on the same cluster layer as the producer and consumer.
 *
 * Import it as `cohort/admin`.
 *
 * @module admin
 */
export {
  Admin,
  AdminError,
  type AdminOptions,
  type ClusterDescription,
  type ConfigChanges,
  type ConfigEntry,
  type ConfigSource,
  type ConfigType,
  type CreateTopicResult,
  type DeleteRecordsResult,
  type NewTopic,
  type OffsetSpecInput,
  type PartitionDescription,
  type PartitionOffset,
  type RecordsToDelete,
  type TopicDescription,
  type TopicListing,
  throwIfErrors,
} from './admin.ts'
export {
  type CommittedOffset,
  type CoordinatorNode,
  compareTopicPartition,
  type GroupDescription,
  type GroupLag,
  type GroupListing,
  type GroupState,
  type MemberDescription,
  type OffsetDeleteResult,
  type OffsetToAlter,
  type PartitionLag,
  type PartitionOwner,
  type PartitionResult,
  type RebalanceHistory,
  type RebalanceMember,
  type RebalanceRecord,
  type RemovedMember,
  type TopicPartition,
} from './groups.ts'
export {
  type GroupResetResult,
  OffsetResetError,
  type PlanOptions,
  planOffsetReset,
  type ResetNotice,
  type ResetOptions,
  type ResetPlan,
  type ResetScenario,
  type ResetScope,
  type ResetTarget,
  resetGroupOffsets,
  type TopicSelection,
} from './offset-reset.ts'
