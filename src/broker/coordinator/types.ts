/** Decoded request and response shapes of the group-coordinator APIs, and the coordinator's configuration. */
import type { OffsetCommit } from '../../protocol/apis/08-offset-commit.ts'
import type { OffsetFetch } from '../../protocol/apis/09-offset-fetch.ts'
import type { JoinGroup } from '../../protocol/apis/11-join-group.ts'
import type { Heartbeat } from '../../protocol/apis/12-heartbeat.ts'
import type { LeaveGroup } from '../../protocol/apis/13-leave-group.ts'
import type { SyncGroup } from '../../protocol/apis/14-sync-group.ts'
import type { DescribeGroups } from '../../protocol/apis/15-describe-groups.ts'
import type { ListGroups } from '../../protocol/apis/16-list-groups.ts'
import type { DeleteGroups } from '../../protocol/apis/42-delete-groups.ts'
import type { OffsetDelete } from '../../protocol/apis/47-offset-delete.ts'
import type { DescribeRebalanceHistory } from '../../protocol/apis/32000-describe-rebalance-history.ts'
import type { RequestOf, ResponseOf } from '../../protocol/schema/dsl.ts'

export type JoinGroupRequest = RequestOf<typeof JoinGroup>
export type JoinGroupResponse = ResponseOf<typeof JoinGroup>
export type JoinGroupResponseMember = JoinGroupResponse['members'][number]
export type SyncGroupRequest = RequestOf<typeof SyncGroup>
export type SyncGroupResponse = ResponseOf<typeof SyncGroup>
export type HeartbeatRequest = RequestOf<typeof Heartbeat>
export type HeartbeatResponse = ResponseOf<typeof Heartbeat>
export type LeaveGroupRequest = RequestOf<typeof LeaveGroup>
export type LeaveGroupResponse = ResponseOf<typeof LeaveGroup>
export type OffsetCommitRequest = RequestOf<typeof OffsetCommit>
export type OffsetCommitResponse = ResponseOf<typeof OffsetCommit>
export type OffsetFetchRequest = RequestOf<typeof OffsetFetch>
export type OffsetFetchResponse = ResponseOf<typeof OffsetFetch>
export type DescribeGroupsRequest = RequestOf<typeof DescribeGroups>
export type DescribeGroupsResponse = ResponseOf<typeof DescribeGroups>
export type ListGroupsRequest = RequestOf<typeof ListGroups>
export type ListGroupsResponse = ResponseOf<typeof ListGroups>
export type DeleteGroupsRequest = RequestOf<typeof DeleteGroups>
export type DeleteGroupsResponse = ResponseOf<typeof DeleteGroups>
export type OffsetDeleteRequest = RequestOf<typeof OffsetDelete>
export type OffsetDeleteResponse = ResponseOf<typeof OffsetDelete>
export type DescribeRebalanceHistoryRequest = RequestOf<typeof DescribeRebalanceHistory>
export type DescribeRebalanceHistoryResponse = ResponseOf<typeof DescribeRebalanceHistory>

/** Who sent a request: the API version it was decoded with and the client's identity from the header/socket. */
export interface RequestContext {
  readonly version: number
  readonly clientId: string
  readonly clientHost: string
}

export interface CoordinatorConfig {
  /** group.initial.rebalance.delay.ms */
  initialRebalanceDelayMs: number
  /** group.min.session.timeout.ms */
  minSessionTimeoutMs: number
  /** group.max.session.timeout.ms */
  maxSessionTimeoutMs: number
  /** group.max.size */
  maxGroupSize: number
  /** How long a new member's parked JoinGroup may wait before it is dropped (classicGroupNewMemberJoinTimeoutMs). */
  newMemberJoinTimeoutMs: number
  /** offset.metadata.max.bytes (compared with the metadata string's length, as Kafka does) */
  offsetMetadataMaxBytes: number
  /** offsets.retention.minutes, in ms */
  offsetsRetentionMs: number
  /** offsets.topic.num.partitions */
  offsetsTopicPartitions: number
}

export const DEFAULT_COORDINATOR_CONFIG: Readonly<CoordinatorConfig> = Object.freeze({
  initialRebalanceDelayMs: 3000,
  minSessionTimeoutMs: 6000,
  maxSessionTimeoutMs: 1_800_000,
  maxGroupSize: 2_147_483_647,
  newMemberJoinTimeoutMs: 300_000,
  offsetMetadataMaxBytes: 4096,
  offsetsRetentionMs: 7 * 24 * 60 * 60 * 1000,
  offsetsTopicPartitions: 50,
})
