/**
 * The client's view of the cluster, built from Metadata responses: brokers,
 * controller, and per topic its id and each partition's leader. Immutable
 * snapshots, so a reader never sees half an update.
 */
import type { Metadata } from '../../protocol/apis/index.ts'
import { ErrorCode } from '../../protocol/errors.ts'
import { ZERO_UUID } from '../../protocol/schema/codec.ts'
import type { ResponseOf } from '../../protocol/schema/dsl.ts'

export interface BrokerNode {
  nodeId: number
  host: string
  port: number
  rack: string | null
}

export interface PartitionMetadata {
  partition: number
  /** -1 while the partition has no leader. */
  leader: number
  leaderEpoch: number
  replicas: number[]
  isr: number[]
  offlineReplicas: number[]
  errorCode: number
}

export interface TopicMetadata {
  name: string
  /** Null when the broker's Metadata version predates topic ids (v10). */
  topicId: string | null
  isInternal: boolean
  /** Indexed by partition number. */
  partitions: PartitionMetadata[]
  errorCode: number
}

export class ClusterMetadata {
  constructor(
    readonly clusterId: string | null,
    readonly controllerId: number,
    readonly brokers: ReadonlyMap<number, BrokerNode>,
    readonly topics: ReadonlyMap<string, TopicMetadata>,
    readonly updatedAtMs: number,
    /** Error codes of the topics the latest response refused outright (unknown, invalid name), which are not in `topics`. */
    readonly topicErrors: ReadonlyMap<string, number> = new Map(),
  ) {}

  static empty(): ClusterMetadata {
    return new ClusterMetadata(null, -1, new Map(), new Map(), 0)
  }

  /** The same snapshot, marked as needing a refresh. */
  stale(): ClusterMetadata {
    return new ClusterMetadata(this.clusterId, this.controllerId, this.brokers, this.topics, 0, this.topicErrors)
  }

  topic(name: string): TopicMetadata | undefined {
    return this.topics.get(name)
  }

  topicNameById(id: string): string | undefined {
    for (const t of this.topics.values()) if (t.topicId === id) return t.name
    return undefined
  }

  leaderFor(topic: string, partition: number): number | undefined {
    const p = this.topics.get(topic)?.partitions[partition]
    return p && p.leader >= 0 ? p.leader : undefined
  }

  /**
   * Folds a Metadata response in. Brokers and controller are replaced; topics in
   * the response replace their entries (or are dropped when the broker no longer
   * knows them); other cached topics stay, unless the response listed all topics.
   * Used by `Cluster` on each metadata refresh.
   *
   * @internal
   */
  merge(res: ResponseOf<typeof Metadata>, allTopics: boolean, nowMs: number): ClusterMetadata {
    const brokers = new Map<number, BrokerNode>()
    for (const b of res.brokers) brokers.set(b.nodeId, { nodeId: b.nodeId, host: b.host, port: b.port, rack: b.rack })
    const topics = allTopics ? new Map<string, TopicMetadata>() : new Map(this.topics)
    const topicErrors = new Map<string, number>()
    for (const t of res.topics) {
      if (t.name === null) continue
      if (t.errorCode === ErrorCode.UNKNOWN_TOPIC_OR_PARTITION || t.errorCode === ErrorCode.INVALID_TOPIC_EXCEPTION) {
        topics.delete(t.name)
        topicErrors.set(t.name, t.errorCode)
        continue
      }
      const partitions: PartitionMetadata[] = []
      for (const p of t.partitions) {
        partitions[p.partitionIndex] = {
          partition: p.partitionIndex,
          leader: p.leaderId,
          leaderEpoch: p.leaderEpoch,
          replicas: p.replicaNodes,
          isr: p.isrNodes,
          offlineReplicas: p.offlineReplicas,
          errorCode: p.errorCode,
        }
      }
      // A sparse answer (a partition missing) would make indexes lie; keep such a topic out rather than guess.
      if (partitions.length !== t.partitions.length) continue
      topics.set(t.name, {
        name: t.name,
        topicId: t.topicId === ZERO_UUID ? (this.topics.get(t.name)?.topicId ?? null) : t.topicId,
        isInternal: t.isInternal,
        partitions,
        errorCode: t.errorCode,
      })
    }
    return new ClusterMetadata(res.clusterId ?? this.clusterId, res.controllerId, brokers, topics, nowMs, topicErrors)
  }
}
