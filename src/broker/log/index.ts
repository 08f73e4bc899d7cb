/** Durable log storage: partition logs, the data dir's topics, group commit and log configs. */

export { batchesFrom } from './batch-reader.ts'
export { type FlushMode, FlushScheduler, type FlushTarget, type FsyncFn, fdatasync, type SyncJob } from './group-commit.ts'
export {
  brokerTopicDefaults,
  type CleanupPolicy,
  compacts,
  DEFAULT_LOG_CONFIG,
  deletes,
  InvalidConfigError,
  kafkaDefault,
  type LogConfig,
  parseLogConfig,
  TOPIC_CONFIG_KEYS,
  topicConfigInfo,
  validateTopicConfigs,
} from './log-config.ts'
export { type BrokerLogDefaults, LogManager, type LogManagerDeps, type TopicLogConfig } from './log-manager.ts'
export type { TopicMeta } from './metadata-log.ts'
export { type AppendResult, PartitionLog, type PartitionLogDeps, type ReadOptions, type ReadResult } from './partition-log.ts'
export type { RecoveryPoint } from './recovery.ts'
