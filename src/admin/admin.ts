/**
 * The admin client: topic, config, offset and cluster operations on top of
 * the shared `Cluster`. See README.md for how errors are reported.
 */

import { backoffMs, Cluster, type ClusterOptions, metadataBody } from '../client/cluster/cluster.ts'
import { listOffsets as lookupOffsets, OffsetSpec, tpKey } from '../client/cluster/offsets.ts'
import { type ClientError, ConfigError, UnsupportedVersionError } from '../client/errors.ts'
import {
  AlterConfigs,
  CreatePartitions,
  CreateTopics,
  DeleteRecords,
  DeleteTopics,
  DescribeCluster,
  DescribeConfigs,
  IncrementalAlterConfigs,
  Metadata,
} from '../protocol/apis/index.ts'
import { ErrorCode, errorInfo, KafkaError } from '../protocol/errors.ts'
import { ZERO_UUID } from '../protocol/schema/codec.ts'
import {
  type CommittedOffset,
  type CoordinatorNode,
  GroupAdmin,
  type GroupDescription,
  type GroupLag,
  type GroupListing,
  type OffsetDeleteResult,
  type OffsetToAlter,
  type PartitionResult,
  type RebalanceHistory,
  type RemovedMember,
  type TopicPartition,
} from './groups.ts'

export interface AdminOptions extends Partial<ClusterOptions> {
  /** Share an existing cluster instead of opening one; it is not closed with the admin client. */
  cluster?: Cluster
}

export interface NewTopic {
  name: string
  /** Default: the broker's `num.partitions` (needs CreateTopics v4+). */
  partitions?: number
  /** Default: the broker's `default.replication.factor` (needs CreateTopics v4+). */
  replicationFactor?: number
  configs?: Record<string, string>
}

export interface CreateTopicResult {
  name: string
  /** Null when the broker's CreateTopics version predates topic ids (v7), or on error. */
  topicId: string | null
  /** -1 when the broker's version does not report it (before v5). */
  partitions: number
  replicationFactor: number
  error: KafkaError | null
}

export interface TopicListing {
  name: string
  topicId: string | null
  internal: boolean
  partitions: number
}

export interface PartitionDescription {
  partition: number
  leader: number
  leaderEpoch: number
  replicas: number[]
  isr: number[]
  offlineReplicas: number[]
  error: KafkaError | null
}

export interface TopicDescription {
  name: string
  topicId: string | null
  internal: boolean
  partitions: PartitionDescription[]
  error: KafkaError | null
}

export type ConfigSource =
  | 'unknown'
  | 'topic'
  | 'dynamic-broker'
  | 'dynamic-default-broker'
  | 'static-broker'
  | 'default'
  | 'dynamic-broker-logger'
  | 'client-metrics'
  | 'group'

const CONFIG_SOURCES: ConfigSource[] = [
  'unknown',
  'topic',
  'dynamic-broker',
  'dynamic-default-broker',
  'static-broker',
  'default',
  'dynamic-broker-logger',
  'client-metrics',
  'group',
]

export type ConfigType = 'unknown' | 'boolean' | 'string' | 'int' | 'short' | 'long' | 'double' | 'list' | 'class' | 'password'
const CONFIG_TYPES: ConfigType[] = ['unknown', 'boolean', 'string', 'int', 'short', 'long', 'double', 'list', 'class', 'password']

export interface ConfigEntry {
  name: string
  /** Null for sensitive values and unset ones. */
  value: string | null
  readOnly: boolean
  isDefault: boolean
  source: ConfigSource
  sensitive: boolean
  synonyms: { name: string; value: string | null; source: ConfigSource }[]
  type: ConfigType
  documentation: string | null
}

export interface ConfigChanges {
  set?: Record<string, string>
  delete?: readonly string[]
}

export type OffsetSpecInput = 'earliest' | 'latest' | 'max-timestamp' | { timestamp: number | bigint | Date }

export interface PartitionOffset {
  partition: number
  /** -1 when no record has a timestamp at or after the one asked for. */
  offset: bigint
  timestamp: bigint
  leaderEpoch: number
  error: KafkaError | ClientError | null
}

export interface RecordsToDelete {
  topic: string
  partition: number
  /** Records before this offset are deleted; -1 means up to the high watermark. */
  offset: bigint
}

export interface DeleteRecordsResult extends RecordsToDelete {
  /** The partition's new log start offset; -1 on error. */
  lowWatermark: bigint
  error: KafkaError | null
}

export interface ClusterDescription {
  clusterId: string | null
  controllerId: number
  brokers: { nodeId: number; host: string; port: number; rack: string | null }[]
}

/** Thrown by `throwIfErrors`: every failed item of a result, keyed as in the result. */
export class AdminError extends AggregateError {
  override readonly name = 'AdminError'
  readonly failures: Map<string, Error>
  constructor(failures: Map<string, Error>) {
    super([...failures.values()], `${failures.size} item(s) failed: ${[...failures].map(([k, e]) => `${k}: ${e.message}`).join('; ')}`)
    this.failures = failures
  }
}

/** Throws an AdminError when any item of a per-item result failed; returns the result otherwise. */
export function throwIfErrors<K, V extends { error: Error | null }>(
  results: ReadonlyMap<K, V> | readonly V[],
): ReadonlyMap<K, V> | readonly V[] {
  const failures = new Map<string, Error>()
  const entries: Iterable<[unknown, V]> = Array.isArray(results)
    ? results.map((v, i) => [i, v] as [unknown, V])
    : (results as ReadonlyMap<K, V>)
  for (const [k, v] of entries) if (v.error) failures.set(String(k), v.error)
  if (failures.size > 0) throw new AdminError(failures)
  return results
}

const RESOURCE_TOPIC = 2
const OP_SET = 0
const OP_DELETE = 1

function kafkaError(code: number, what: string, message?: string | null): KafkaError | null {
  if (code === ErrorCode.NONE) return null
  return new KafkaError(code, `${what}: ${errorInfo(code).name}${message ? `: ${message}` : ''}`)
}

function orNull(id: string): string | null {
  return id === ZERO_UUID ? null : id
}

export class Admin {
  readonly cluster: Cluster
  readonly #owns: boolean
  readonly #groups: GroupAdmin

  constructor(options: AdminOptions) {
    if (options.cluster) {
      this.cluster = options.cluster
      this.#owns = false
    } else {
      if (options.bootstrapServers === undefined) throw new ConfigError('bootstrapServers (or cluster) is required')
      this.cluster = new Cluster(options as ClusterOptions)
      this.#owns = true
    }
    this.#groups = new GroupAdmin(this.cluster)
  }

  async close(): Promise<void> {
    if (this.#owns) await this.cluster.close()
  }

  /**
   * Retries the items whose error is retriable (NOT_CONTROLLER, a topic still
   * being set up) after a metadata refresh, until the budget runs out. Kafka
   * counts UNKNOWN_TOPIC_OR_PARTITION as retriable, but for an admin call it
   * means the topic does not exist, so it is returned at once.
   */
  async #perItem<I, R extends { error: KafkaError | null }>(
    items: readonly I[],
    key: (i: I) => string,
    once: (items: readonly I[]) => Promise<Map<string, R>>,
  ): Promise<Map<string, R>> {
    const deadline = Date.now() + this.cluster.options.defaultApiTimeoutMs
    const out = new Map<string, R>()
    let pending = items
    for (let attempt = 1; ; attempt++) {
      const res = await once(pending)
      const again: I[] = []
      for (const i of pending) {
        const r = res.get(key(i))
        if (r === undefined) continue
        out.set(key(i), r)
        if (r.error?.retriable && r.error.code !== ErrorCode.UNKNOWN_TOPIC_OR_PARTITION) again.push(i)
      }
      const wait = backoffMs(attempt, this.cluster.options.retryBackoffMs, this.cluster.options.retryBackoffMaxMs)
      if (again.length === 0 || Date.now() + wait >= deadline) return out
      await this.cluster.refreshMetadata([]).catch(() => {})
      await this.cluster.sleep(wait)
      pending = again
    }
  }

  // ---- topics -------------------------------------------------------------------

  /** Creates topics at the controller. Each result has its own error (TOPIC_ALREADY_EXISTS, INVALID_CONFIG, ...). */
  async createTopics(topics: readonly NewTopic[], options: { validateOnly?: boolean } = {}): Promise<Map<string, CreateTopicResult>> {
    const needsDefaults = topics.some((t) => t.partitions === undefined || t.replicationFactor === undefined)
    const timeoutMs = this.cluster.options.requestTimeoutMs
    return this.#perItem(
      topics,
      (t) => t.name,
      async (list) => {
        const res = await this.cluster.send(
          'controller',
          CreateTopics,
          {
            topics: list.map((t) => ({
              name: t.name,
              numPartitions: t.partitions ?? -1,
              replicationFactor: t.replicationFactor ?? -1,
              assignments: [],
              configs: Object.entries(t.configs ?? {}).map(([name, value]) => ({ name, value })),
            })),
            timeoutMs,
            validateOnly: options.validateOnly ?? false,
          },
          // Partition count and replication factor -1 (broker defaults) need v4; validateOnly needs v1.
          { versions: { min: needsDefaults ? 4 : options.validateOnly ? 1 : 0 } },
        )
        const out = new Map<string, CreateTopicResult>()
        for (const t of res.topics) {
          out.set(t.name, {
            name: t.name,
            topicId: orNull(t.topicId),
            partitions: t.numPartitions,
            replicationFactor: t.replicationFactor,
            error: kafkaError(t.errorCode, `create topic ${t.name}`, t.errorMessage),
          })
        }
        return out
      },
    )
  }

  /** Deletes topics by name at the controller; each result has its own error. */
  async deleteTopics(names: readonly string[]): Promise<Map<string, { name: string; error: KafkaError | null }>> {
    const timeoutMs = this.cluster.options.requestTimeoutMs
    return this.#perItem(
      names,
      (n) => n,
      async (list) => {
        const res = await this.cluster.send('controller', DeleteTopics, (version) =>
          version >= 6 ? { topics: list.map((name) => ({ name, topicId: ZERO_UUID })), timeoutMs } : { topicNames: [...list], timeoutMs },
        )
        const out = new Map<string, { name: string; error: KafkaError | null }>()
        for (const r of res.responses) {
          if (r.name === null) continue
          out.set(r.name, { name: r.name, error: kafkaError(r.errorCode, `delete topic ${r.name}`, r.errorMessage) })
        }
        return out
      },
    )
  }

  /** Every topic the brokers report; internal ones (`__consumer_offsets`) only with `includeInternal`. */
  async listTopics(options: { includeInternal?: boolean } = {}): Promise<Map<string, TopicListing>> {
    const res = await this.cluster.send('any', Metadata, (v) => metadataBody(v, null, false))
    const out = new Map<string, TopicListing>()
    for (const t of res.topics) {
      if (t.name === null || t.errorCode !== ErrorCode.NONE) continue
      if (t.isInternal && !options.includeInternal) continue
      out.set(t.name, { name: t.name, topicId: orNull(t.topicId), internal: t.isInternal, partitions: t.partitions.length })
    }
    return new Map([...out].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
  }

  /** Partitions, leaders, replicas and ISR per topic. An unknown topic has UNKNOWN_TOPIC_OR_PARTITION as its error. */
  async describeTopics(names: readonly string[]): Promise<Map<string, TopicDescription>> {
    if (names.length === 0) return new Map()
    return this.#perItem(
      names,
      (n) => n,
      async (list) => {
        const res = await this.cluster.send('any', Metadata, (v) => metadataBody(v, list, false))
        const out = new Map<string, TopicDescription>()
        for (const t of res.topics) {
          if (t.name === null) continue
          const partitions = t.partitions
            .map((p) => ({
              partition: p.partitionIndex,
              leader: p.leaderId,
              leaderEpoch: p.leaderEpoch,
              replicas: p.replicaNodes,
              isr: p.isrNodes,
              offlineReplicas: p.offlineReplicas,
              error: kafkaError(p.errorCode, `${t.name}-${p.partitionIndex}`),
            }))
            .sort((a, b) => a.partition - b.partition)
          // A topic still being created reports LEADER_NOT_AVAILABLE, which #perItem retries.
          out.set(t.name, {
            name: t.name,
            topicId: orNull(t.topicId),
            internal: t.isInternal,
            partitions,
            error: kafkaError(t.errorCode, `topic ${t.name}`),
          })
        }
        return out
      },
    )
  }

  /** Grows a topic to `total` partitions. Throws the topic's KafkaError on failure. */
  async createPartitions(name: string, total: number, options: { validateOnly?: boolean } = {}): Promise<void> {
    const timeoutMs = this.cluster.options.requestTimeoutMs
    const res = await this.#perItem(
      [name],
      (n) => n,
      async () => {
        const r = await this.cluster.send('controller', CreatePartitions, {
          topics: [{ name, count: total, assignments: null }],
          timeoutMs,
          validateOnly: options.validateOnly ?? false,
        })
        return new Map(
          r.results.map((x) => [x.name, { error: kafkaError(x.errorCode, `create partitions for ${x.name}`, x.errorMessage) }]),
        )
      },
    )
    const err = res.get(name)?.error
    if (err) throw err
    await this.cluster.refreshMetadata([name]).catch(() => {})
  }

  // ---- configs ------------------------------------------------------------------

  /** A topic's configs by name. Throws the resource's KafkaError (e.g. UNKNOWN_TOPIC_OR_PARTITION). */
  async describeConfigs(
    topic: string,
    options: { keys?: readonly string[]; includeSynonyms?: boolean; includeDocumentation?: boolean } = {},
  ): Promise<Map<string, ConfigEntry>> {
    const res = await this.cluster.send('any', DescribeConfigs, {
      resources: [{ resourceType: RESOURCE_TOPIC, resourceName: topic, configurationKeys: options.keys ? [...options.keys] : null }],
      includeSynonyms: options.includeSynonyms ?? false,
      includeDocumentation: options.includeDocumentation ?? false,
    })
    const r = res.results.find((x) => x.resourceName === topic)
    if (!r) throw new KafkaError(ErrorCode.UNKNOWN_SERVER_ERROR, `DescribeConfigs returned no result for topic ${topic}`)
    const err = kafkaError(r.errorCode, `describe configs of ${topic}`, r.errorMessage)
    if (err) throw err
    const out = new Map<string, ConfigEntry>()
    for (const c of r.configs) {
      // v0 has only isDefault; later versions report the source, with 5 (DEFAULT_CONFIG) for defaults.
      const source = c.configSource >= 0 ? (CONFIG_SOURCES[c.configSource] ?? 'unknown') : c.isDefault ? 'default' : 'unknown'
      out.set(c.name, {
        name: c.name,
        value: c.value,
        readOnly: c.readOnly,
        isDefault: c.configSource >= 0 ? c.configSource === 5 : c.isDefault,
        source,
        sensitive: c.isSensitive,
        synonyms: c.synonyms.map((s) => ({ name: s.name, value: s.value, source: CONFIG_SOURCES[s.source] ?? 'unknown' })),
        type: CONFIG_TYPES[c.configType] ?? 'unknown',
        documentation: c.documentation,
      })
    }
    return out
  }

  /**
   * Sets and deletes (reverts to default) topic configs. Uses
   * IncrementalAlterConfigs; a broker without it gets AlterConfigs with the
   * topic's current overrides merged with the changes, since that API replaces
   * the whole set. Throws the resource's KafkaError.
   */
  async alterConfigs(topic: string, changes: ConfigChanges, options: { validateOnly?: boolean } = {}): Promise<void> {
    const set = Object.entries(changes.set ?? {})
    const del = [...(changes.delete ?? [])]
    const validateOnly = options.validateOnly ?? false
    let result: { errorCode: number; errorMessage: string | null; resourceName: string }[]
    try {
      const res = await this.cluster.send('any', IncrementalAlterConfigs, {
        resources: [
          {
            resourceType: RESOURCE_TOPIC,
            resourceName: topic,
            configs: [
              ...set.map(([name, value]) => ({ name, configOperation: OP_SET, value })),
              ...del.map((name) => ({ name, configOperation: OP_DELETE, value: null })),
            ],
          },
        ],
        validateOnly,
      })
      result = res.responses
    } catch (err) {
      if (!(err instanceof UnsupportedVersionError)) throw err
      const current = await this.describeConfigs(topic)
      const merged = new Map<string, string | null>()
      for (const c of current.values()) if (c.source === 'topic') merged.set(c.name, c.value)
      for (const name of del) merged.delete(name)
      for (const [name, value] of set) merged.set(name, value)
      const res = await this.cluster.send('any', AlterConfigs, {
        resources: [{ resourceType: RESOURCE_TOPIC, resourceName: topic, configs: [...merged].map(([name, value]) => ({ name, value })) }],
        validateOnly,
      })
      result = res.responses
    }
    const r = result.find((x) => x.resourceName === topic)
    if (!r) throw new KafkaError(ErrorCode.UNKNOWN_SERVER_ERROR, `no AlterConfigs result for topic ${topic}`)
    const err = kafkaError(r.errorCode, `alter configs of ${topic}`, r.errorMessage)
    if (err) throw err
  }

  // ---- offsets and records --------------------------------------------------------

  /** Offsets of one partition, or of every partition of the topic, keyed by partition. */
  async listOffsets(
    topic: string,
    partition: number | undefined,
    spec: OffsetSpecInput,
    options: { isolationLevel?: 'read_uncommitted' | 'read_committed' } = {},
  ): Promise<Map<number, PartitionOffset>> {
    let timestamp: bigint
    if (spec === 'earliest') timestamp = OffsetSpec.earliest
    else if (spec === 'latest') timestamp = OffsetSpec.latest
    else if (spec === 'max-timestamp') timestamp = OffsetSpec.maxTimestamp
    else {
      const t = spec.timestamp
      timestamp = t instanceof Date ? BigInt(t.getTime()) : BigInt(t)
      if (timestamp < 0n) throw new ConfigError(`timestamp must be >= 0, not ${timestamp}`)
    }
    const partitions =
      partition === undefined ? (await this.cluster.topic(topic, { autoCreate: false })).partitions.map((p) => p.partition) : [partition]
    const answers = await lookupOffsets(
      this.cluster,
      partitions.map((p) => ({ topic, partition: p, timestamp })),
      { isolationLevel: options.isolationLevel === 'read_committed' ? 1 : 0 },
    )
    const out = new Map<number, PartitionOffset>()
    for (const p of partitions) {
      const a = answers.get(tpKey(topic, p))
      if (a) out.set(p, { partition: p, offset: a.offset, timestamp: a.timestamp, leaderEpoch: a.leaderEpoch, error: a.error })
    }
    return out
  }

  /** Deletes records before the given offsets at each partition's leader; results in input order, each with its error. */
  async deleteRecords(specs: RecordsToDelete | readonly RecordsToDelete[]): Promise<DeleteRecordsResult[]> {
    const list: readonly RecordsToDelete[] = Array.isArray(specs) ? specs : [specs as RecordsToDelete]
    const timeoutMs = this.cluster.options.requestTimeoutMs
    const results = await this.#perItem(
      list,
      (s) => tpKey(s.topic, s.partition),
      async (pending) => {
        const out = new Map<string, DeleteRecordsResult>()
        const byLeader = new Map<number, RecordsToDelete[]>()
        for (const s of pending) {
          try {
            const leader = await this.cluster.leaderFor(s.topic, s.partition, { autoCreate: false })
            let l = byLeader.get(leader)
            if (!l) byLeader.set(leader, (l = []))
            l.push(s)
          } catch (err) {
            if (!(err instanceof KafkaError)) throw err
            out.set(tpKey(s.topic, s.partition), { ...s, lowWatermark: -1n, error: err })
          }
        }
        await Promise.all(
          [...byLeader].map(async ([leader, specsForLeader]) => {
            const topics = new Map<string, RecordsToDelete[]>()
            for (const s of specsForLeader) {
              let l = topics.get(s.topic)
              if (!l) topics.set(s.topic, (l = []))
              l.push(s)
            }
            const res = await this.cluster.send(leader, DeleteRecords, {
              topics: [...topics].map(([name, ss]) => ({
                name,
                partitions: ss.map((s) => ({ partitionIndex: s.partition, offset: s.offset })),
              })),
              timeoutMs,
            })
            for (const t of res.topics) {
              for (const p of t.partitions) {
                const spec = specsForLeader.find((s) => s.topic === t.name && s.partition === p.partitionIndex)
                if (!spec) continue
                out.set(tpKey(t.name, p.partitionIndex), {
                  ...spec,
                  lowWatermark: p.errorCode === ErrorCode.NONE ? p.lowWatermark : -1n,
                  error: kafkaError(p.errorCode, `delete records of ${t.name}-${p.partitionIndex}`),
                })
              }
            }
          }),
        )
        return out
      },
    )
    return list.map(
      (s) =>
        results.get(tpKey(s.topic, s.partition)) ?? {
          ...s,
          lowWatermark: -1n,
          error: new KafkaError(ErrorCode.UNKNOWN_SERVER_ERROR, `no DeleteRecords result for ${s.topic}-${s.partition}`),
        },
    )
  }

  // ---- cluster --------------------------------------------------------------------

  /** Cluster id, controller and brokers: DescribeCluster where the broker has it, else Metadata. */
  async describeCluster(): Promise<ClusterDescription> {
    try {
      const res = await this.cluster.send(
        'any',
        DescribeCluster,
        { includeClusterAuthorizedOperations: false, endpointType: 1 },
        { errorCode: (r) => r.errorCode },
      )
      const err = kafkaError(res.errorCode, 'describe cluster', res.errorMessage)
      if (err) throw err
      return {
        clusterId: res.clusterId,
        controllerId: res.controllerId,
        brokers: res.brokers.map((b) => ({ nodeId: b.brokerId, host: b.host, port: b.port, rack: b.rack })),
      }
    } catch (err) {
      if (!(err instanceof UnsupportedVersionError)) throw err
    }
    const meta = await this.cluster.refreshMetadata([])
    return {
      clusterId: meta.clusterId,
      controllerId: meta.controllerId,
      brokers: [...meta.brokers.values()].sort((a, b) => a.nodeId - b.nodeId),
    }
  }

  // ---- consumer groups -------------------------------------------------------------

  /** The group's coordinator (FindCoordinator), remembered until a request says it moved. */
  findCoordinator(groupId: string): Promise<CoordinatorNode> {
    return this.#groups.coordinator(groupId)
  }

  /** Every group known to every broker, sorted by id; `states` filters by state, case-insensitive. */
  listGroups(options: { states?: readonly string[] } = {}): Promise<GroupListing[]> {
    return this.#groups.listGroups(options)
  }

  /** State, assignor and members (assignments decoded) per group; a missing group is `Dead` with no members. */
  describeGroups(groupIds: readonly string[]): Promise<Map<string, GroupDescription>> {
    return this.#groups.describeGroups(groupIds)
  }

  /** Deletes empty groups and their offsets; each result carries its error (NON_EMPTY_GROUP, GROUP_ID_NOT_FOUND). */
  deleteGroups(groupIds: readonly string[]): Promise<Map<string, { groupId: string; error: KafkaError | null }>> {
    return this.#groups.deleteGroups(groupIds)
  }

  /** Committed offsets of a group: all of them, or the given partitions (offset -1 where none). */
  listGroupOffsets(groupId: string, partitions?: readonly TopicPartition[]): Promise<CommittedOffset[]> {
    return this.#groups.listGroupOffsets(groupId, partitions)
  }

  /** Sets committed offsets of a group without members (refused with UNKNOWN_MEMBER_ID while it has some). */
  alterGroupOffsets(groupId: string, offsets: readonly OffsetToAlter[]): Promise<PartitionResult[]> {
    return this.#groups.alterGroupOffsets(groupId, offsets)
  }

  /** The rebalances Cohort's broker recorded per group: trigger, members before and after, partitions moved, waits. */
  describeRebalanceHistory(groupIds: readonly string[]): Promise<Map<string, RebalanceHistory>> {
    return this.#groups.describeRebalanceHistory(groupIds)
  }

  /** Removes static members by group.instance.id so their partitions move now, not after their session timeout. */
  removeGroupMembers(groupId: string, groupInstanceIds: readonly string[], reason?: string): Promise<RemovedMember[]> {
    return this.#groups.removeGroupMembers(groupId, groupInstanceIds, reason)
  }

  /** Deletes committed offsets of partitions the group does not subscribe to (OffsetDelete). */
  deleteGroupOffsets(groupId: string, partitions: readonly TopicPartition[]): Promise<OffsetDeleteResult> {
    return this.#groups.deleteGroupOffsets(groupId, partitions)
  }

  /** Per partition the group committed or owns: committed offset, log start and end, lag (unclamped) and owner. */
  groupLag(groupId: string): Promise<GroupLag> {
    return this.#groups.groupLag(groupId)
  }
}
