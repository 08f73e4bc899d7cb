/** Durable log storage: partition logs, the data dir's topics, group commit and log configs. */
export { type CleanupPolicy, compacts, DEFAULT_LOG_CONFIG, deletes, InvalidConfigError, type LogConfig, parseLogConfig, validateTopicConfigs } from './log-config.ts'
export { brokerTopicDefaults, kafkaDefault, TOPIC_CONFIG_KEYS } from './log-config.ts'
export { type FlushMode, FlushScheduler, type FlushTarget, type FsyncFn, fdatasync, type SyncJob } from './group-commit.ts'
export { type BrokerLogDefaults, LogManager, type LogManagerDeps, type TopicLogConfig } from './log-manager.ts'
export type { TopicMeta } from './metadata-log.ts'
export { type AppendResult, PartitionLog, type PartitionLogDeps, type ReadOptions, type ReadResult } from './partition-log.ts'
export type { RecoveryPoint } from './recovery.ts'
