/**
 * The group RPCs on the wire. The coordinator is found with FindCoordinator (through the shared
 * cluster), then reached over two connections of its own, as the Java client keeps a separate
 * coordinator connection: Kafka answers a connection's requests in order, so
 *   - a JoinGroup parked for up to the rebalance timeout must not sit in front of Fetches
 *     (cooperative members keep fetching during a rebalance), hence not the cluster's connection;
 *   - commits, heartbeats and LeaveGroup must not sit behind a parked JoinGroup either (a
 *     cooperative member commits the partitions it keeps while the join is parked), hence a
 *     `control` connection next to the `join` one.
 */
import { FindCoordinator, Heartbeat, JoinGroup, LeaveGroup, OffsetCommit, OffsetFetch, SyncGroup } from '../../protocol/apis/index.ts'
import { CONSUMER_PROTOCOL_TYPE } from '../../protocol/consumer-protocol.ts'
import { ErrorCode, errorInfo, KafkaError } from '../../protocol/errors.ts'
import type { TopicPartition } from '../assignors/types.ts'
import type { Cluster } from '../cluster/cluster.ts'
import { ClosedError } from '../errors.ts'
import { Connection } from '../network/connection.ts'
import { type ApiVersionTable, CLIENT_SOFTWARE_NAME, CLIENT_SOFTWARE_VERSION, negotiateApiVersions } from '../network/versions.ts'
import { groupByTopic } from './partitions.ts'
import type {
  GroupTransport,
  JoinGroupArgs,
  JoinGroupResult,
  MemberIdentity,
  OffsetFetchResult,
  OffsetToCommit,
  SyncGroupArgs,
  SyncGroupResult,
} from './types.ts'

interface Link {
  conn: Connection
  versions: ApiVersionTable
}

interface CoordinatorNode {
  nodeId: number
  host: string
  port: number
}

type LinkKind = 'join' | 'control'

/** Extra time a JoinGroup/SyncGroup may take beyond the rebalance timeout (Java adds the same 5 s). */
const JOIN_GRACE_MS = 5000

export class WireGroupTransport implements GroupTransport {
  readonly #cluster: Cluster
  readonly #groupId: string
  #coordinator: Promise<CoordinatorNode> | null = null
  readonly #links = new Map<LinkKind, Promise<Link>>()
  #closed = false

  constructor(cluster: Cluster, groupId: string) {
    this.#cluster = cluster
    this.#groupId = groupId
  }

  /** The coordinator's node, looking it up when unknown (retrying retriable errors within the cluster's budget). */
  coordinator(): Promise<CoordinatorNode> {
    if (this.#coordinator) return this.#coordinator
    const groupId = this.#groupId
    const p = this.#cluster
      .send('any', FindCoordinator, (v) => (v >= 4 ? { keyType: 0, coordinatorKeys: [groupId] } : { key: groupId, keyType: 0 }), {
        errorCode: (r) => r.coordinators[0]?.errorCode ?? r.errorCode,
      })
      .then((res) => {
        const c = res.coordinators[0]
        const node = c ? { nodeId: c.nodeId, host: c.host, port: c.port, errorCode: c.errorCode } : { ...res }
        if (node.errorCode !== ErrorCode.NONE) {
          throw new KafkaError(node.errorCode, `FindCoordinator for group ${groupId}: ${errorInfo(node.errorCode).name}`)
        }
        return { nodeId: node.nodeId, host: node.host, port: node.port }
      })
    this.#coordinator = p
    p.catch(() => {
      if (this.#coordinator === p) this.#coordinator = null
    })
    return p
  }

  coordinatorDead(_why: string): void {
    this.#coordinator = null
    const links = [...this.#links.values()]
    this.#links.clear()
    for (const l of links) l.then((x) => x.conn.close()).catch(() => {})
  }

  async #link(kind: LinkKind): Promise<Link> {
    for (;;) {
      if (this.#closed) throw new ClosedError('group transport')
      const existing = this.#links.get(kind)
      if (!existing) break
      const l = await existing
      if (!l.conn.closed) return l
      if (this.#links.get(kind) === existing) this.#links.delete(kind)
    }
    const o = this.#cluster.options
    const p = (async (): Promise<Link> => {
      const node = await this.coordinator()
      const conn = new Connection({
        host: node.host,
        port: node.port,
        clientId: o.clientId,
        requestTimeoutMs: o.requestTimeoutMs,
        connectTimeoutMs: o.socketConnectionSetupTimeoutMs,
      })
      try {
        await conn.connect()
        const versions = await negotiateApiVersions(conn, { name: CLIENT_SOFTWARE_NAME, version: CLIENT_SOFTWARE_VERSION })
        return { conn, versions }
      } catch (err) {
        conn.close()
        throw err
      }
    })()
    this.#links.set(kind, p)
    p.then(
      (l) =>
        l.conn.onClose(() => {
          if (this.#links.get(kind) === p) this.#links.delete(kind)
        }),
      () => {
        if (this.#links.get(kind) === p) this.#links.delete(kind)
      },
    )
    return p
  }

  async connect(): Promise<void> {
    await this.#link('join')
  }

  async joinGroup(a: JoinGroupArgs): Promise<JoinGroupResult> {
    const { conn, versions } = await this.#link('join')
    // Static membership needs v5; v4+ lets a new member be handed its id (MEMBER_ID_REQUIRED).
    const v = versions.pick(JoinGroup, a.groupInstanceId !== null ? { min: 5 } : undefined)
    const res = await conn.request(
      JoinGroup,
      v,
      {
        groupId: a.groupId,
        sessionTimeoutMs: a.sessionTimeoutMs,
        rebalanceTimeoutMs: a.rebalanceTimeoutMs,
        memberId: a.memberId,
        groupInstanceId: a.groupInstanceId,
        protocolType: CONSUMER_PROTOCOL_TYPE,
        protocols: a.protocols,
        reason: a.reason.slice(0, 1000),
      },
      { timeoutMs: Math.max(conn.requestTimeoutMs, a.rebalanceTimeoutMs + JOIN_GRACE_MS) },
    )
    return {
      errorCode: res.errorCode,
      generationId: res.generationId,
      protocolName: res.protocolName,
      leader: res.leader,
      skipAssignment: res.skipAssignment,
      memberId: res.memberId,
      members: res.members.map((m) => ({ memberId: m.memberId, groupInstanceId: m.groupInstanceId, metadata: m.metadata })),
    }
  }

  async syncGroup(a: SyncGroupArgs, rebalanceTimeoutMs: number): Promise<SyncGroupResult> {
    const { conn, versions } = await this.#link('join')
    const v = versions.pick(SyncGroup, a.groupInstanceId !== null ? { min: 3 } : undefined)
    const res = await conn.request(
      SyncGroup,
      v,
      {
        groupId: a.groupId,
        generationId: a.generationId,
        memberId: a.memberId,
        groupInstanceId: a.groupInstanceId,
        protocolType: CONSUMER_PROTOCOL_TYPE,
        protocolName: a.protocolName,
        assignments: a.assignments,
      },
      { timeoutMs: Math.max(conn.requestTimeoutMs, rebalanceTimeoutMs + JOIN_GRACE_MS) },
    )
    return { errorCode: res.errorCode, assignment: res.assignment }
  }

  async heartbeat(m: MemberIdentity): Promise<number> {
    const { conn, versions } = await this.#link('control')
    const v = versions.pick(Heartbeat, m.groupInstanceId !== null ? { min: 3 } : undefined)
    const res = await conn.request(Heartbeat, v, {
      groupId: m.groupId,
      generationId: m.generationId,
      memberId: m.memberId,
      groupInstanceId: m.groupInstanceId,
    })
    return res.errorCode
  }

  async leaveGroup(a: { groupId: string; memberId: string; groupInstanceId: string | null; reason: string }): Promise<number> {
    const { conn, versions } = await this.#link('control')
    // A static member can only leave by instance id, which needs v3 (KIP-345).
    const v = versions.pick(LeaveGroup, a.groupInstanceId !== null ? { min: 3 } : undefined)
    const res = await conn.request(LeaveGroup, v, {
      groupId: a.groupId,
      memberId: a.memberId,
      members: [{ memberId: a.memberId, groupInstanceId: a.groupInstanceId, reason: a.reason.slice(0, 1000) }],
    })
    if (res.errorCode !== ErrorCode.NONE) return res.errorCode
    return res.members[0]?.errorCode ?? ErrorCode.NONE
  }

  async offsetCommit(
    m: MemberIdentity,
    offsets: readonly OffsetToCommit[],
  ): Promise<{ topic: string; partition: number; errorCode: number }[]> {
    const { conn, versions } = await this.#link('control')
    // v1 is the first with generation and member id; a static member's commit needs v7.
    const v = versions.pick(OffsetCommit, { min: m.groupInstanceId !== null ? 7 : 1 })
    const byTopic = new Map<string, OffsetToCommit[]>()
    for (const o of offsets) {
      let l = byTopic.get(o.topic)
      if (!l) byTopic.set(o.topic, (l = []))
      l.push(o)
    }
    const res = await conn.request(OffsetCommit, v, {
      groupId: m.groupId,
      generationIdOrMemberEpoch: m.generationId,
      memberId: m.memberId,
      groupInstanceId: m.groupInstanceId,
      topics: [...byTopic].map(([name, list]) => ({
        name,
        partitions: list.map((o) => ({
          partitionIndex: o.partition,
          committedOffset: o.offset,
          committedLeaderEpoch: o.leaderEpoch ?? -1,
          committedMetadata: o.metadata ?? '',
        })),
      })),
    })
    return res.topics.flatMap((t) => t.partitions.map((p) => ({ topic: t.name, partition: p.partitionIndex, errorCode: p.errorCode })))
  }

  async offsetFetch(groupId: string, partitions: readonly TopicPartition[], requireStable: boolean): Promise<OffsetFetchResult> {
    const { conn, versions } = await this.#link('control')
    // v1 reads offsets Kafka stores (v0 read ZooKeeper's).
    const v = versions.pick(OffsetFetch, { min: 1 })
    const topics = groupByTopic(partitions).map((t) => ({ name: t.topic, partitionIndexes: t.partitions }))
    const res = await conn.request(
      OffsetFetch,
      v,
      v >= 8 ? { groups: [{ groupId, topics }], requireStable } : { groupId, topics, requireStable },
    )
    if (v >= 8) {
      const g = res.groups[0]
      if (!g) return { errorCode: ErrorCode.UNKNOWN_SERVER_ERROR, partitions: [] }
      return {
        errorCode: g.errorCode,
        partitions: g.topics.flatMap((t) =>
          t.partitions.map((p) => ({
            topic: t.name,
            partition: p.partitionIndex,
            offset: p.committedOffset,
            metadata: p.metadata,
            leaderEpoch: p.committedLeaderEpoch,
            errorCode: p.errorCode,
          })),
        ),
      }
    }
    return {
      errorCode: res.errorCode,
      partitions: res.topics.flatMap((t) =>
        t.partitions.map((p) => ({
          topic: t.name,
          partition: p.partitionIndex,
          offset: p.committedOffset,
          metadata: p.metadata,
          leaderEpoch: p.committedLeaderEpoch,
          errorCode: p.errorCode,
        })),
      ),
    }
  }

  async close(): Promise<void> {
    this.#closed = true
    this.coordinatorDead('closed')
  }
}
