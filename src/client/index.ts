/**
 * Cohort's Kafka client: a producer, a group-less consumer, and the shared
 * cluster layer (connections, version negotiation, metadata, retries) that
 * they and the admin client are built on.
 */
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
export { Connection, type ConnectionOptions, type RequestOptions } from './network/connection.ts'
export { ApiVersionTable, negotiateApiVersions } from './network/versions.ts'
export { keyPartition, murmur2, toPositive } from './producer/murmur2.ts'
export type { PartitionChoice } from './producer/partitioner.ts'
export {
  type Acks,
  type CompressionName,
  Producer,
  type ProducerOptions,
  type ProducerRecord,
  type RecordMetadata,
} from './producer/producer.ts'
