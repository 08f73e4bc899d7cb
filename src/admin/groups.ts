/**
 * Consumer-group administration: the calls kafka-consumer-groups.sh makes
 * (ListGroups, FindCoordinator, DescribeGroups, OffsetFetch, ListOffsets,
 * OffsetCommit, DeleteGroups, OffsetDelete), each group's requests sent to its
 * coordinator and retried there when the coordinator moves or is loading.
 */
import { backoffMs, type Cluster } from '../client/cluster/cluster.ts'
import { listOffsets, OffsetSpec, tpKey } from '../client/cluster/offsets.ts'
import { ConfigError } from '../client/errors.ts'
import {
  DeleteGroups,
  DescribeGroups,
  DescribeRebalanceHistory,
  FindCoordinator,
  LeaveGroup,
  ListGroups,
  OffsetCommit,
  OffsetDelete,
  OffsetFetch,
} from '../protocol/apis/index.ts'
import { CONSUMER_PROTOCOL_TYPE, decodeAssignment, decodeSubscription } from '../protocol/consumer-protocol.ts'
import { ErrorCode, errorInfo, KafkaError } from '../protocol/errors.ts'

export interface TopicPartition {
  topic: string
  partition: number
}

/** Kafka's classic group states, as DescribeGroups and ListGroups name them. */
export type GroupState = 'Stable' | 'Empty' | 'PreparingRebalance' | 'CompletingRebalance' | 'Dead' | (string & {})

export interface GroupListing {
  groupId: string
  /** `consumer` for consumer groups; other protocol types (e.g. Connect's) and '' for offset-only groups. */
  protocolType: string
  /** Null when the broker's ListGroups predates states (v4). */
  state: GroupState | null
}

export interface CoordinatorNode {
  nodeId: number
  host: string
  port: number
}

export interface MemberDescription {
  memberId: string
  groupInstanceId: string | null
  clientId: string
  /** As the coordinator reports it, e.g. `/127.0.0.1`. */
  clientHost: string
  /** The member's assignment decoded (consumer protocol); empty when it has none or it is not a consumer group. */
  assignment: TopicPartition[]
  /** The subscribed topics from the member's metadata (consumer protocol); null when it cannot be decoded. */
  subscription: string[] | null
  rawMetadata: Buffer
  rawAssignment: Buffer
}

export interface GroupDescription {
  groupId: string
  state: GroupState
  protocolType: string
  /** The chosen protocol, for consumer groups the assignor name ('' while rebalancing or empty). */
  protocol: string
  members: MemberDescription[]
  coordinator: CoordinatorNode | null
  /** GROUP_ID_NOT_FOUND is not an error here: a missing group is described as `Dead` with no members. */
  error: KafkaError | null
}

export interface CommittedOffset extends TopicPartition {
  offset: bigint
  /** Null when the commit carries no leader epoch. */
  leaderEpoch: number | null
  metadata: string | null
  error: KafkaError | null
}

export interface OffsetToAlter extends TopicPartition {
  offset: bigint
  leaderEpoch?: number
  metadata?: string | null
}

export interface PartitionResult extends TopicPartition {
  error: KafkaError | null
}

export interface OffsetDeleteResult {
  /** A group-level error (GROUP_ID_NOT_FOUND, NON_EMPTY_GROUP, ...); the partitions then carry none. */
  error: KafkaError | null
  partitions: PartitionResult[]
}

export interface RemovedMember {
  groupInstanceId: string
  /** UNKNOWN_MEMBER_ID when no member of the group has this instance id. */
  error: KafkaError | null
}

export interface RebalanceMember {
  memberId: string
  groupInstanceId: string | null
  clientId: string
  clientHost: string
  inPreviousGeneration: boolean
  inNewGeneration: boolean
  /** When its JoinGroup for this rebalance arrived; null if it sent none. */
  joinedAt: number | null
  /** From when it had to rejoin to when it got its new assignment; null if it got none. */
  waitMs: number | null
  /** Partitions it gave up; null when unknown (not the consumer protocol, or never Stable). */
  revoked: TopicPartition[] | null
  /** Partitions it gained; null when unknown. */
  assigned: TopicPartition[] | null
}

/** One completed rebalance as Cohort's broker recorded it (times in ms since the epoch, broker clock). */
export interface RebalanceRecord {
  /** The generation the rebalance produced. */
  generation: number
  /** join, leave, session-timeout, subscription-change, metadata-change, static-replacement, sync-timeout. */
  trigger: string
  reason: string
  protocolType: string | null
  protocol: string | null
  startedAt: number
  joinCompletedAt: number | null
  stableAt: number | null
  /** stableAt − startedAt; null if the group never became Stable in this generation. */
  durationMs: number | null
  maxWaitMs: number | null
  /** Topic-partitions whose owner changed; null when unknown. */
  partitionsMoved: number | null
  members: RebalanceMember[]
}

export interface RebalanceHistory {
  groupId: string
  /** Oldest first. */
  rebalances: RebalanceRecord[]
  /** GROUP_ID_NOT_FOUND for a group the broker does not know; UNSUPPORTED_VERSION from a broker that is not Cohort's. */
  error: KafkaError | null
}

export interface PartitionOwner {
  memberId: string
  groupInstanceId: string | null
  clientId: string
  clientHost: string
}

export interface PartitionLag extends TopicPartition {
  /** Null when the group has no commit for the partition. */
  committed: bigint | null
  logStart: bigint
  /** The high watermark; -1 when it could not be read. */
  logEnd: bigint
  /** logEnd − committed, not clamped (as kafka-consumer-groups.sh shows it); null without a commit or log end. */
  lag: bigint | null
  owner: PartitionOwner | null
}

export interface GroupLag {
  groupId: string
  state: GroupState
  protocol: string
  members: (PartitionOwner & { partitions: TopicPartition[] })[]
  /** Committed partitions ∪ assigned partitions, sorted by topic then partition. */
  partitions: PartitionLag[]
  /** When the log-end offsets were read (ms since the epoch). */
  at: number
}

const COORDINATOR_MOVED = new Set<number>([ErrorCode.NOT_COORDINATOR, ErrorCode.COORDINATOR_NOT_AVAILABLE])
const COORDINATOR_RETRY = new Set<number>([...COORDINATOR_MOVED, ErrorCode.COORDINATOR_LOAD_IN_PROGRESS])

function kafkaError(code: number, what: string, message?: string | null): KafkaError | null {
  if (code === ErrorCode.NONE) return null
  return new KafkaError(code, `${what}: ${errorInfo(code).name}${message ? `: ${message}` : ''}`)
}

export function compareTopicPartition(a: TopicPartition, b: TopicPartition): number {
  return a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition
}

function byTopic<T extends TopicPartition>(items: readonly T[]): Map<string, T[]> {
  const out = new Map<string, T[]>()
  for (const i of items) {
    let l = out.get(i.topic)
    if (!l) out.set(i.topic, (l = []))
    l.push(i)
  }
  return out
}

/** Group operations on a shared cluster. `Admin` exposes them; they are kept here to keep each file to one concern. */
export class GroupAdmin {
  readonly #cluster: Cluster
  readonly #coordinators = new Map<string, Promise<CoordinatorNode>>()

  constructor(cluster: Cluster) {
    this.#cluster = cluster
  }

  /** The group's coordinator, found once and remembered until a request says it moved. */
  coordinator(groupId: string): Promise<CoordinatorNode> {
    const known = this.#coordinators.get(groupId)
    if (known) return known
    const p = this.#cluster
      .send('any', FindCoordinator, (v) => (v >= 4 ? { keyType: 0, coordinatorKeys: [groupId] } : { key: groupId, keyType: 0 }), {
        errorCode: (r) => r.coordinators[0]?.errorCode ?? r.errorCode,
      })
      .then((res) => {
        const c = res.coordinators[0] ?? { nodeId: res.nodeId, host: res.host, port: res.port, errorCode: res.errorCode }
        const err = kafkaError(c.errorCode, `find coordinator of group ${groupId}`)
        if (err) throw err
        return { nodeId: c.nodeId, host: c.host, port: c.port }
      })
    this.#coordinators.set(groupId, p)
    p.catch(() => this.#coordinators.delete(groupId))
    return p
  }

  /**
   * Runs `once` at the group's coordinator, finding it again and retrying
   * while the answer is NOT_COORDINATOR, COORDINATOR_NOT_AVAILABLE or
   * COORDINATOR_LOAD_IN_PROGRESS, within the cluster's API budget.
   */
  async #atCoordinator<R>(groupId: string, once: (node: CoordinatorNode) => Promise<{ code: number; result: R }>): Promise<R> {
    const o = this.#cluster.options
    const deadline = Date.now() + o.defaultApiTimeoutMs
    for (let attempt = 1; ; attempt++) {
      const node = await this.coordinator(groupId)
      const { code, result } = await once(node)
      if (!COORDINATOR_RETRY.has(code)) return result
      if (COORDINATOR_MOVED.has(code)) this.#coordinators.delete(groupId)
      const wait = backoffMs(attempt, o.retryBackoffMs, o.retryBackoffMaxMs)
      if (Date.now() + wait >= deadline) return result
      await this.#cluster.sleep(wait)
    }
  }

  /** Every group known to every broker, sorted by id; `states` filters (case-insensitive) where the broker supports it. */
  async listGroups(options: { states?: readonly string[] } = {}): Promise<GroupListing[]> {
    const meta = await this.#cluster.refreshMetadata([])
    const nodes = meta.brokers.size > 0 ? [...meta.brokers.keys()] : ['any' as const]
    const wanted = options.states?.map((s) => s.toLowerCase())
    const answers = await Promise.all(
      nodes.map((n) =>
        this.#cluster.send(
          n,
          ListGroups,
          { statesFilter: options.states ? [...options.states] : [], typesFilter: [] },
          { errorCode: (r) => r.errorCode },
        ),
      ),
    )
    const out = new Map<string, GroupListing>()
    for (const res of answers) {
      const err = kafkaError(res.errorCode, 'list groups')
      if (err) throw err
      for (const g of res.groups) {
        const state = g.groupState === '' ? null : g.groupState
        // Brokers before ListGroups v4 ignore the filter: apply it here when they report a state.
        if (wanted && state !== null && !wanted.includes(state.toLowerCase())) continue
        out.set(g.groupId, { groupId: g.groupId, protocolType: g.protocolType, state })
      }
    }
    return [...out.values()].sort((a, b) => (a.groupId < b.groupId ? -1 : a.groupId > b.groupId ? 1 : 0))
  }

  /** Describes groups at their coordinators, decoding consumer-protocol assignments. */
  async describeGroups(groupIds: readonly string[]): Promise<Map<string, GroupDescription>> {
    const out = new Map<string, GroupDescription>()
    await Promise.all(
      groupIds.map(async (groupId) => {
        let coordinator: CoordinatorNode | null = null
        try {
          const d = await this.#atCoordinator(groupId, async (node) => {
            coordinator = node
            const res = await this.#cluster.send(node.nodeId, DescribeGroups, { groups: [groupId], includeAuthorizedOperations: false })
            const g = res.groups.find((x) => x.groupId === groupId)
            if (!g) throw new KafkaError(ErrorCode.UNKNOWN_SERVER_ERROR, `DescribeGroups returned no result for group ${groupId}`)
            return { code: g.errorCode, result: g }
          })
          if (d.errorCode === ErrorCode.GROUP_ID_NOT_FOUND) {
            out.set(groupId, { groupId, state: 'Dead', protocolType: '', protocol: '', members: [], coordinator, error: null })
            return
          }
          const consumer = d.protocolType === CONSUMER_PROTOCOL_TYPE
          out.set(groupId, {
            groupId,
            state: d.groupState,
            protocolType: d.protocolType,
            protocol: d.protocolData,
            members: d.members.map((m) => ({
              memberId: m.memberId,
              groupInstanceId: m.groupInstanceId,
              clientId: m.clientId,
              clientHost: m.clientHost,
              assignment: consumer ? decodeAssigned(m.memberAssignment) : [],
              subscription: consumer ? decodeSubscribed(m.memberMetadata) : null,
              rawMetadata: m.memberMetadata,
              rawAssignment: m.memberAssignment,
            })),
            coordinator,
            error: kafkaError(d.errorCode, `describe group ${groupId}`),
          })
        } catch (err) {
          if (!(err instanceof KafkaError)) throw err
          out.set(groupId, { groupId, state: 'Dead', protocolType: '', protocol: '', members: [], coordinator, error: err })
        }
      }),
    )
    return new Map(groupIds.map((g) => [g, out.get(g) as GroupDescription]))
  }

  /** Deletes groups (they must be empty: NON_EMPTY_GROUP otherwise); each result carries its error. */
  async deleteGroups(groupIds: readonly string[]): Promise<Map<string, { groupId: string; error: KafkaError | null }>> {
    const out = new Map<string, { groupId: string; error: KafkaError | null }>()
    await Promise.all(
      groupIds.map(async (groupId) => {
        try {
          const code = await this.#atCoordinator(groupId, async (node) => {
            const res = await this.#cluster.send(node.nodeId, DeleteGroups, { groupsNames: [groupId] })
            const c = res.results.find((r) => r.groupId === groupId)?.errorCode ?? ErrorCode.UNKNOWN_SERVER_ERROR
            return { code: c, result: c }
          })
          out.set(groupId, { groupId, error: kafkaError(code, `delete group ${groupId}`) })
        } catch (err) {
          if (!(err instanceof KafkaError)) throw err
          out.set(groupId, { groupId, error: err })
        }
      }),
    )
    return new Map(groupIds.map((g) => [g, out.get(g) as { groupId: string; error: KafkaError | null }]))
  }

  /**
   * The group's committed offsets: every committed partition, or the given
   * ones (a partition without a commit then has offset -1). Sorted by topic
   * and partition. Throws a group-level KafkaError (e.g. GROUP_AUTHORIZATION_FAILED).
   */
  async listGroupOffsets(groupId: string, partitions?: readonly TopicPartition[]): Promise<CommittedOffset[]> {
    const topics = partitions
      ? [...byTopic(partitions)].map(([name, ps]) => ({ name, partitionIndexes: ps.map((p) => p.partition) }))
      : null
    const rows = await this.#atCoordinator(groupId, async (node) => {
      const res = await this.#cluster.send(node.nodeId, OffsetFetch, (v) =>
        v >= 8
          ? { groups: [{ groupId, topics }], requireStable: true }
          : { groupId, topics: v >= 2 ? topics : (topics ?? []), requireStable: v >= 7 },
      )
      if (res.groups.length > 0) {
        const g = res.groups.find((x) => x.groupId === groupId)
        return { code: g?.errorCode ?? ErrorCode.UNKNOWN_SERVER_ERROR, result: g?.topics ?? [] }
      }
      return { code: res.errorCode, result: res.topics }
    })
    const out: CommittedOffset[] = []
    for (const t of rows) {
      for (const p of t.partitions) {
        const code = p.errorCode
        // UNSTABLE_OFFSET_COMMIT (a transactional commit pending) is left to the caller to retry.
        out.push({
          topic: t.name,
          partition: p.partitionIndex,
          offset: p.committedOffset,
          leaderEpoch: p.committedLeaderEpoch >= 0 ? p.committedLeaderEpoch : null,
          metadata: p.metadata,
          error: kafkaError(code, `committed offset of ${t.name}-${p.partitionIndex}`),
        })
      }
    }
    return out.sort(compareTopicPartition)
  }

  /**
   * Commits offsets for the group as an admin (generation -1, no member id),
   * as kafka-consumer-groups.sh --reset-offsets --execute does. The coordinator
   * refuses it for a group with active members (UNKNOWN_MEMBER_ID).
   */
  async alterGroupOffsets(groupId: string, offsets: readonly OffsetToAlter[]): Promise<PartitionResult[]> {
    if (offsets.some((o) => o.offset < 0n)) throw new ConfigError('offsets to commit must be >= 0')
    const topics = [...byTopic(offsets)].map(([name, ps]) => ({
      name,
      partitions: ps.map((p) => ({
        partitionIndex: p.partition,
        committedOffset: p.offset,
        committedLeaderEpoch: p.leaderEpoch ?? -1,
        committedMetadata: p.metadata ?? '',
      })),
    }))
    const results = await this.#atCoordinator(groupId, async (node) => {
      const res = await this.#cluster.send(node.nodeId, OffsetCommit, { groupId, generationIdOrMemberEpoch: -1, memberId: '', topics })
      const list: { topic: string; partition: number; code: number }[] = []
      for (const t of res.topics) for (const p of t.partitions) list.push({ topic: t.name, partition: p.partitionIndex, code: p.errorCode })
      // Coordinator errors come back on every partition.
      return { code: list.find((x) => COORDINATOR_RETRY.has(x.code))?.code ?? ErrorCode.NONE, result: list }
    })
    return results
      .map((r) => ({ topic: r.topic, partition: r.partition, error: kafkaError(r.code, `commit offset of ${r.topic}-${r.partition}`) }))
      .sort(compareTopicPartition)
  }

  /**
   * Removes static members by group.instance.id (LeaveGroup v3+, as Java's
   * removeMembersFromConsumerGroup): a static member's partitions move at once instead of after
   * its session timeout, e.g. when scaling down for good. Throws a group-level KafkaError.
   */
  async removeGroupMembers(groupId: string, groupInstanceIds: readonly string[], reason = 'removed by an admin'): Promise<RemovedMember[]> {
    if (groupInstanceIds.length === 0) return []
    const res = await this.#atCoordinator(groupId, async (node) => {
      const r = await this.#cluster.send(
        node.nodeId,
        LeaveGroup,
        { groupId, memberId: '', members: groupInstanceIds.map((groupInstanceId) => ({ memberId: '', groupInstanceId, reason })) },
        { versions: { min: 3 } },
      )
      return { code: r.errorCode, result: r }
    })
    const err = kafkaError(res.errorCode, `remove members of group ${groupId}`)
    if (err) throw err
    return groupInstanceIds.map((id) => {
      const m = res.members.find((x) => x.groupInstanceId === id)
      return {
        groupInstanceId: id,
        error: m ? kafkaError(m.errorCode, `remove member ${id} of group ${groupId}`) : null,
      }
    })
  }

  /**
   * The rebalances Cohort's broker recorded for each group (Cohort's DescribeRebalanceHistory,
   * API key 32000; Kafka has no such API, so other brokers answer UNSUPPORTED_VERSION per group).
   */
  async describeRebalanceHistory(groupIds: readonly string[]): Promise<Map<string, RebalanceHistory>> {
    const out = new Map<string, RebalanceHistory>()
    const time = (ms: bigint): number | null => (ms < 0n ? null : Number(ms))
    const tps = (l: { topic: string; partitions: number[] }[] | null): TopicPartition[] | null =>
      l === null ? null : l.flatMap((t) => t.partitions.map((partition) => ({ topic: t.topic, partition }))).sort(compareTopicPartition)
    await Promise.all(
      groupIds.map(async (groupId) => {
        try {
          const g = await this.#atCoordinator(groupId, async (node) => {
            // Not advertised in ApiVersions (so that clients listing every API never see it): sent at
            // v0 without negotiation. A broker that is not Cohort's closes the connection.
            if (!this.#cluster.metadata.brokers.has(node.nodeId)) await this.#cluster.refreshMetadata([])
            const nc = await this.#cluster.connection(node.nodeId)
            const res = await nc.conn.request(DescribeRebalanceHistory, 0, { groups: [groupId] })
            const r = res.groups.find((x) => x.groupId === groupId)
            if (!r) throw new KafkaError(ErrorCode.UNKNOWN_SERVER_ERROR, `DescribeRebalanceHistory returned no result for group ${groupId}`)
            return { code: r.errorCode, result: r }
          })
          out.set(groupId, {
            groupId,
            error: kafkaError(g.errorCode, `rebalance history of group ${groupId}`, g.errorMessage),
            rebalances: g.rebalances.map((e) => ({
              generation: e.generationId,
              trigger: e.trigger,
              reason: e.reason,
              protocolType: e.protocolType,
              protocol: e.protocolName,
              startedAt: Number(e.startedAtMs),
              joinCompletedAt: time(e.joinCompletedAtMs),
              stableAt: time(e.stableAtMs),
              durationMs: time(e.durationMs),
              maxWaitMs: time(e.maxWaitMs),
              partitionsMoved: e.partitionsMoved < 0 ? null : e.partitionsMoved,
              members: e.members.map((m) => ({
                memberId: m.memberId,
                groupInstanceId: m.groupInstanceId,
                clientId: m.clientId,
                clientHost: m.clientHost,
                inPreviousGeneration: m.inPreviousGeneration,
                inNewGeneration: m.inNewGeneration,
                joinedAt: time(m.joinedAtMs),
                waitMs: time(m.waitMs),
                revoked: tps(m.revokedPartitions),
                assigned: tps(m.assignedPartitions),
              })),
            })),
          })
        } catch (err) {
          if (!(err instanceof Error)) throw err
          const e =
            err instanceof KafkaError
              ? err
              : new KafkaError(
                  ErrorCode.UNSUPPORTED_VERSION,
                  `rebalance history of group ${groupId}: ${err.message} (is this Cohort's broker?)`,
                )
          out.set(groupId, { groupId, rebalances: [], error: e })
        }
      }),
    )
    return new Map(groupIds.map((g) => [g, out.get(g) as RebalanceHistory]))
  }

  /** Deletes committed offsets of partitions the group no longer subscribes to (OffsetDelete). */
  async deleteGroupOffsets(groupId: string, partitions: readonly TopicPartition[]): Promise<OffsetDeleteResult> {
    const topics = [...byTopic(partitions)].map(([name, ps]) => ({ name, partitions: ps.map((p) => ({ partitionIndex: p.partition })) }))
    const res = await this.#atCoordinator(groupId, async (node) => {
      const r = await this.#cluster.send(node.nodeId, OffsetDelete, { groupId, topics })
      return { code: r.errorCode, result: r }
    })
    const groupError = kafkaError(res.errorCode, `delete offsets of group ${groupId}`)
    const out: PartitionResult[] = []
    for (const t of res.topics) {
      for (const p of t.partitions) {
        out.push({
          topic: t.name,
          partition: p.partitionIndex,
          error: kafkaError(p.errorCode, `delete offset of ${t.name}-${p.partitionIndex}`),
        })
      }
    }
    return { error: groupError, partitions: out.sort(compareTopicPartition) }
  }

  /**
   * Committed offset vs log end for every partition the group committed or
   * owns, with its owner: what `kafka-consumer-groups.sh --describe` shows.
   */
  async groupLag(groupId: string): Promise<GroupLag> {
    const [description, committed] = await Promise.all([
      this.describeGroups([groupId]).then((m) => m.get(groupId) as GroupDescription),
      this.listGroupOffsets(groupId),
    ])
    if (description.error) throw description.error
    const owners = new Map<string, PartitionOwner>()
    const members = description.members.map((m) => {
      const owner = { memberId: m.memberId, groupInstanceId: m.groupInstanceId, clientId: m.clientId, clientHost: m.clientHost }
      for (const tp of m.assignment) owners.set(tpKey(tp.topic, tp.partition), owner)
      return { ...owner, partitions: [...m.assignment].sort(compareTopicPartition) }
    })
    const rows = new Map<string, TopicPartition & { committed: bigint | null }>()
    for (const c of committed) {
      if (c.error || c.offset < 0n) continue
      rows.set(tpKey(c.topic, c.partition), { topic: c.topic, partition: c.partition, committed: c.offset })
    }
    for (const m of members) {
      for (const tp of m.partitions) {
        const k = tpKey(tp.topic, tp.partition)
        if (!rows.has(k)) rows.set(k, { ...tp, committed: null })
      }
    }
    const list = [...rows.values()].sort(compareTopicPartition)
    const [ends, starts] = await Promise.all([
      listOffsets(
        this.#cluster,
        list.map((r) => ({ topic: r.topic, partition: r.partition, timestamp: OffsetSpec.latest })),
      ),
      listOffsets(
        this.#cluster,
        list.map((r) => ({ topic: r.topic, partition: r.partition, timestamp: OffsetSpec.earliest })),
      ),
    ])
    const at = Date.now()
    return {
      groupId,
      state: description.state,
      protocol: description.protocol,
      members,
      partitions: list.map((r) => {
        const k = tpKey(r.topic, r.partition)
        const end = ends.get(k)
        const logEnd = end && !end.error ? end.offset : -1n
        const start = starts.get(k)
        return {
          topic: r.topic,
          partition: r.partition,
          committed: r.committed,
          logStart: start && !start.error ? start.offset : -1n,
          logEnd,
          lag: r.committed !== null && logEnd >= 0n ? logEnd - r.committed : null,
          owner: owners.get(k) ?? null,
        }
      }),
      at,
    }
  }
}

function decodeAssigned(buf: Buffer): TopicPartition[] {
  if (buf.length === 0) return []
  try {
    const out: TopicPartition[] = []
    for (const t of decodeAssignment(buf).assignedPartitions) for (const partition of t.partitions) out.push({ topic: t.topic, partition })
    return out.sort(compareTopicPartition)
  } catch {
    return []
  }
}

function decodeSubscribed(buf: Buffer): string[] | null {
  if (buf.length === 0) return null
  try {
    return decodeSubscription(buf).topics
  } catch {
    return null
  }
}
