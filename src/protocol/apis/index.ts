/**
 * Every API definition this codebase knows, one file per API key (`NN-kebab-name.ts`).
 * `ALL_APIS` is ordered by key; `apiByKey` looks one up by its key.
 */
import type { ApiDefinition } from '../schema/dsl.ts'
import { Produce } from './00-produce.ts'
import { Fetch } from './01-fetch.ts'
import { ListOffsets } from './02-list-offsets.ts'
import { Metadata } from './03-metadata.ts'
import { OffsetCommit } from './08-offset-commit.ts'
import { OffsetFetch } from './09-offset-fetch.ts'
import { FindCoordinator } from './10-find-coordinator.ts'
import { JoinGroup } from './11-join-group.ts'
import { Heartbeat } from './12-heartbeat.ts'
import { LeaveGroup } from './13-leave-group.ts'
import { SyncGroup } from './14-sync-group.ts'
import { DescribeGroups } from './15-describe-groups.ts'
import { ListGroups } from './16-list-groups.ts'
import { SaslHandshake } from './17-sasl-handshake.ts'
import { ApiVersions } from './18-api-versions.ts'
import { CreateTopics } from './19-create-topics.ts'
import { DeleteTopics } from './20-delete-topics.ts'
import { DeleteRecords } from './21-delete-records.ts'
import { InitProducerId } from './22-init-producer-id.ts'
import { DescribeConfigs } from './32-describe-configs.ts'
import { AlterConfigs } from './33-alter-configs.ts'
import { SaslAuthenticate } from './36-sasl-authenticate.ts'
import { CreatePartitions } from './37-create-partitions.ts'
import { DeleteGroups } from './42-delete-groups.ts'
import { IncrementalAlterConfigs } from './44-incremental-alter-configs.ts'
import { OffsetDelete } from './47-offset-delete.ts'
import { DescribeCluster } from './60-describe-cluster.ts'
import { ConsumerGroupHeartbeat } from './68-consumer-group-heartbeat.ts'
import { ConsumerGroupDescribe } from './69-consumer-group-describe.ts'
import { DescribeRebalanceHistory } from './32000-describe-rebalance-history.ts'

export {
  AlterConfigs,
  ApiVersions,
  ConsumerGroupDescribe,
  ConsumerGroupHeartbeat,
  CreatePartitions,
  CreateTopics,
  DeleteGroups,
  DeleteRecords,
  DeleteTopics,
  DescribeCluster,
  DescribeConfigs,
  DescribeGroups,
  DescribeRebalanceHistory,
  Fetch,
  FindCoordinator,
  Heartbeat,
  IncrementalAlterConfigs,
  InitProducerId,
  JoinGroup,
  LeaveGroup,
  ListGroups,
  ListOffsets,
  Metadata,
  OffsetCommit,
  OffsetDelete,
  OffsetFetch,
  Produce,
  SaslAuthenticate,
  SaslHandshake,
  SyncGroup,
}

/** Kafka's API keys for the APIs defined here. */
export const ApiKey = {
  Produce: 0,
  Fetch: 1,
  ListOffsets: 2,
  Metadata: 3,
  OffsetCommit: 8,
  OffsetFetch: 9,
  FindCoordinator: 10,
  JoinGroup: 11,
  Heartbeat: 12,
  LeaveGroup: 13,
  SyncGroup: 14,
  DescribeGroups: 15,
  ListGroups: 16,
  SaslHandshake: 17,
  ApiVersions: 18,
  CreateTopics: 19,
  DeleteTopics: 20,
  DeleteRecords: 21,
  InitProducerId: 22,
  DescribeConfigs: 32,
  AlterConfigs: 33,
  SaslAuthenticate: 36,
  CreatePartitions: 37,
  DeleteGroups: 42,
  IncrementalAlterConfigs: 44,
  OffsetDelete: 47,
  DescribeCluster: 60,
  ConsumerGroupHeartbeat: 68,
  ConsumerGroupDescribe: 69,
  /** Cohort's own (not Kafka's): the group coordinator's rebalance history. */
  DescribeRebalanceHistory: 32000,
} as const
export type ApiKeyName = keyof typeof ApiKey

export const ALL_APIS: readonly ApiDefinition[] = [
  Produce,
  Fetch,
  ListOffsets,
  Metadata,
  OffsetCommit,
  OffsetFetch,
  FindCoordinator,
  JoinGroup,
  Heartbeat,
  LeaveGroup,
  SyncGroup,
  DescribeGroups,
  ListGroups,
  SaslHandshake,
  ApiVersions,
  CreateTopics,
  DeleteTopics,
  DeleteRecords,
  InitProducerId,
  DescribeConfigs,
  AlterConfigs,
  SaslAuthenticate,
  CreatePartitions,
  DeleteGroups,
  IncrementalAlterConfigs,
  OffsetDelete,
  DescribeCluster,
  ConsumerGroupHeartbeat,
  ConsumerGroupDescribe,
  DescribeRebalanceHistory,
]

const byKey = new Map<number, ApiDefinition>(ALL_APIS.map((a) => [a.key, a]))

export function apiByKey(key: number): ApiDefinition | undefined {
  return byKey.get(key)
}
