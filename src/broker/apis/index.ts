/**
 * Every API the broker serves. ApiVersions advertises exactly this list
 * (each handler's own version range), so what is advertised is what exists —
 * except Cohort's own APIs (`advertised: false`), which are answered but not listed.
 */
import { produceHandler } from './00-produce.ts'
import { fetchHandler } from './01-fetch.ts'
import { listOffsetsHandler } from './02-list-offsets.ts'
import { metadataHandler } from './03-metadata.ts'
import { findCoordinatorHandler } from './10-find-coordinator.ts'
import { apiVersionsHandler } from './18-api-versions.ts'
import { createTopicsHandler } from './19-create-topics.ts'
import { deleteTopicsHandler } from './20-delete-topics.ts'
import { deleteRecordsHandler } from './21-delete-records.ts'
import { initProducerIdHandler } from './22-init-producer-id.ts'
import { describeConfigsHandler } from './32-describe-configs.ts'
import { alterConfigsHandler } from './33-alter-configs.ts'
import { createPartitionsHandler } from './37-create-partitions.ts'
import { incrementalAlterConfigsHandler } from './44-incremental-alter-configs.ts'
import { describeClusterHandler } from './60-describe-cluster.ts'
import { describeRebalanceHistoryHandler } from './32000-describe-rebalance-history.ts'
import {
  deleteGroupsHandler,
  describeGroupsHandler,
  heartbeatHandler,
  joinGroupHandler,
  leaveGroupHandler,
  listGroupsHandler,
  offsetCommitHandler,
  offsetDeleteHandler,
  offsetFetchHandler,
  syncGroupHandler,
} from './group-apis.ts'
import type { ApiHandler } from './handler.ts'

export function allHandlers(supported: () => { apiKey: number; minVersion: number; maxVersion: number }[]): ApiHandler[] {
  return [
    produceHandler,
    fetchHandler,
    listOffsetsHandler,
    metadataHandler,
    offsetCommitHandler,
    offsetFetchHandler,
    findCoordinatorHandler,
    joinGroupHandler,
    heartbeatHandler,
    leaveGroupHandler,
    syncGroupHandler,
    describeGroupsHandler,
    listGroupsHandler,
    deleteGroupsHandler,
    offsetDeleteHandler,
    apiVersionsHandler(supported),
    createTopicsHandler,
    deleteTopicsHandler,
    deleteRecordsHandler,
    initProducerIdHandler,
    describeConfigsHandler,
    alterConfigsHandler,
    createPartitionsHandler,
    incrementalAlterConfigsHandler,
    describeClusterHandler,
    describeRebalanceHistoryHandler,
  ] as unknown as ApiHandler[]
}
