/**
 * Cohort's Kafka client: a producer, a group consumer (classic protocol,
 * eager and cooperative rebalancing, static membership), a group-less
 * consumer, the assignors, and the shared cluster layer (connections,
 * version negotiation, metadata, retries) that they and the admin client
 * are built on.
 *
 * Import it as `cohort/client`.
 *
 * @module client
 */

export type { RecordHeader } from '../protocol/records/record.ts'
export type { Clock } from '../util/clock.ts'
export * from './assignors/index.ts'
export type { ResolvedClusterOptions } from './cluster/cluster.ts'
export {
  Cluster,
  type ClusterOptions,
  type NodeConnection,
  type NodeTarget,
  type SendOptions,
  type TopicWaitOptions,
} from './cluster/cluster.ts'
export type { BrokerNode, ClusterMetadata, PartitionMetadata, TopicMetadata } from './cluster/metadata.ts'
export { OffsetSpec } from './cluster/offsets.ts'
export {
  type CloseOptions,
  type CommittedPosition,
  Consumer,
  type ConsumerOptions,
  type Logger,
  type LogLevel,
  type ManualAssignment,
  type Message,
  type MessageBatch,
  type OffsetToCommit,
  type RebalanceListener,
  type RunHandlers,
  silentLogger,
  stderrLogger,
} from './consumer/consumer.ts'
export type { FetchOptions } from './consumer/fetcher.ts'
export {
  type ConsumerRecord,
  type IsolationLevel,
  type OffsetResetStrategy,
  type PartitionAssignment,
  SimpleConsumer,
  type SimpleConsumerOptions,
} from './consumer/simple-consumer.ts'
export {
  ClientError,
  ClosedError,
  ConfigError,
  ConnectionError,
  ErrorCode,
  isRetriable,
  KafkaError,
  ProtocolError,
  RecordTooLargeError,
  RequestTimeoutError,
  TimeoutError,
  UnknownTopicError,
  UnsupportedVersionError,
} from './errors.ts'
export {
  CommitFailedError,
  FencedInstanceError,
  GroupJoinError,
  NoOffsetForPartitionError,
  RebalanceListenerError,
} from './group/errors.ts'
export type { MemberState } from './group/member.ts'
export {
  type ClaimResult,
  defaultOwner,
  InDoubtError,
  type InDoubtPolicy,
  MemoryProcessedStore,
  type OnceResult,
  offsetIdentity,
  PROCESSED_TABLE,
  type ProcessedRecord,
  type ProcessedState,
  type ProcessedStore,
  type ProcessOnceOptions,
  type ProcessOnceResult,
  processedTableSql,
  processOnce,
  processOnceInTransaction,
  type SideEffectContext,
  SqliteProcessedStore,
  type SqliteProcessedStoreOptions,
  type TransactionalProcessedStore,
} from './idempotent/index.ts'
export { Connection, type ConnectionOptions, type RequestOptions } from './network/connection.ts'
export { ApiVersionTable, negotiateApiVersions } from './network/versions.ts'
export { keyPartition, murmur2, toPositive } from './producer/murmur2.ts'
export type { PartitionChoice } from './producer/partitioner.ts'
export type { HeaderValue } from './producer/producer.ts'
export {
  type Acks,
  type CompressionName,
  Producer,
  type ProducerOptions,
  type ProducerRecord,
  type RecordMetadata,
} from './producer/producer.ts'
