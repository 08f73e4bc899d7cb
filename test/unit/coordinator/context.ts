/**
 * The one test context for the group coordinator (Kafka's `GroupMetadataManagerTestContext`): a coordinator
 * on a ManualClock + ManualTimer, request builders, and an in-memory `__consumer_offsets` log. Every
 * result's records are encoded, appended to the log and replayed, as the broker would; `advance(ms)` fires
 * due timers and does the same with their records; `rebuild()` replays the encoded log into a fresh coordinator.
 */
import assert from 'node:assert/strict'
import {
  type CoordinatorConfig,
  type CoordinatorRecord,
  decodeRecord,
  type EncodedRecord,
  encodeRecord,
  encodeSubscription,
  GroupCoordinator,
  type HeartbeatResponse,
  type JoinGroupRequest,
  type JoinGroupResponse,
  type LeaveGroupRequest,
  type LeaveGroupResponse,
  ManualTimer,
  type OffsetCommitRequest,
  type OffsetCommitResponse,
  type OffsetFetchResponse,
  type RequestContext,
  type SyncGroupRequest,
  type SyncGroupResponse,
} from '../../../src/broker/coordinator/index.ts'
import { ErrorCode } from '../../../src/protocol/errors.ts'
import { ManualClock } from '../../../src/util/clock.ts'

export const GROUP = 'group-id'
export const CLIENT_ID = 'client'
export const CLIENT_HOST = '/127.0.0.1'

/** Latest versions of each API (the defaults of the builders). */
export const V = { join: 9, sync: 5, heartbeat: 4, leave: 5, commit: 9, fetch: 9, describe: 5, list: 5, deleteGroups: 2, offsetDelete: 0 }

export function subscription(topics: string[]): Buffer {
  return encodeSubscription({ topics }, 0)
}

export const RANGE = (topics = ['foo']) => ({ name: 'range', metadata: subscription(topics) })
export const ROUNDROBIN = (topics = ['foo']) => ({ name: 'roundrobin', metadata: subscription(topics) })

/** A JoinGroup request with test defaults. */
export function joinRequest(p: Partial<JoinGroupRequest> = {}): JoinGroupRequest {
  return {
    groupId: GROUP,
    sessionTimeoutMs: 10_000,
    rebalanceTimeoutMs: 60_000,
    memberId: '',
    groupInstanceId: null,
    protocolType: 'consumer',
    protocols: [RANGE()],
    reason: null,
    ...p,
  }
}

export function syncRequest(p: Partial<SyncGroupRequest> & { memberId: string; generationId: number }): SyncGroupRequest {
  return { groupId: GROUP, groupInstanceId: null, protocolType: null, protocolName: null, assignments: [], ...p }
}

/** A response that may still be parked. */
export class Parked<T> {
  value: T | undefined = undefined
  constructor(
    readonly records: CoordinatorRecord[],
    readonly response: Promise<T>,
  ) {
    response.then((v) => {
      this.value = v
    })
  }
  get done(): boolean {
    return this.value !== undefined
  }
}

/** Lets resolved promises run their continuations (no time passes). */
export async function flush(): Promise<void> {
  await new Promise<void>((resolve) => setImmediate(resolve))
}

export interface ContextOptions {
  /** False: the coordinator waits for a log to be replayed and `onLoaded()` (as in `rebuild`); by default it starts loaded, like the broker's after an empty log. */
  loaded?: boolean
  config?: Partial<CoordinatorConfig>
  topicExists?: (topic: string, partition: number) => boolean
  start?: number
}

export interface JoinedMember {
  memberId: string
  generationId: number
  leader: string
  response: JoinGroupResponse
}

export class CoordinatorContext {
  readonly clock: ManualClock
  readonly timer: ManualTimer
  readonly coordinator: GroupCoordinator
  /** Every record appended, in order, and its encoding. */
  readonly records: CoordinatorRecord[] = []
  readonly log: EncodedRecord[] = []
  readonly #opts: ContextOptions
  #uuid = 0

  constructor(opts: ContextOptions = {}) {
    this.#opts = opts
    this.clock = new ManualClock(opts.start ?? 1_700_000_000_000)
    this.timer = new ManualTimer(this.clock)
    this.coordinator = new GroupCoordinator({
      clock: this.clock,
      timer: this.timer,
      config: { initialRebalanceDelayMs: 3000, ...opts.config },
      topicExists: opts.topicExists,
      generateUuid: () => `uuid-${++this.#uuid}`,
    })
    if (opts.loaded !== false) this.coordinator.onLoaded()
  }

  ctx(version: number, clientId = CLIENT_ID): RequestContext {
    return { version, clientId, clientHost: CLIENT_HOST }
  }

  /**
   * Appends records to the log (encoded, as the broker writes them) and replays them; like the broker's
   * GroupService, with the rebalance-history records the operation produced, then those the replay produced.
   */
  append(records: readonly CoordinatorRecord[]): void {
    const all = [...this.coordinator.takeHistoryRecords(), ...records]
    for (const r of all) {
      const enc = encodeRecord(r)
      this.records.push(r)
      this.log.push(enc)
      // Replay what was written, not the object: the log is the source of truth.
      this.coordinator.replay(decodeRecord(enc.key, enc.value))
    }
    if (all.length > 0) this.append([])
  }

  advance(ms: number): CoordinatorRecord[] {
    return this.timer.advance(ms, (recs) => this.append(recs))
  }

  // --- requests --------------------------------------------------------------------------------

  join(p: Partial<JoinGroupRequest> = {}, version = V.join, clientId = CLIENT_ID): Parked<JoinGroupResponse> {
    const r = this.coordinator.joinGroup(joinRequest(p), this.ctx(version, clientId))
    this.append(r.records)
    return new Parked(r.records, r.response)
  }

  sync(p: Partial<SyncGroupRequest> & { memberId: string; generationId: number }, version = V.sync): Parked<SyncGroupResponse> {
    const r = this.coordinator.syncGroup(syncRequest(p), this.ctx(version))
    this.append(r.records)
    return new Parked(r.records, r.response)
  }

  heartbeat(
    p: { memberId: string; generationId: number; groupId?: string; groupInstanceId?: string | null },
    version = V.heartbeat,
  ): HeartbeatResponse {
    const r = this.coordinator.heartbeat({ groupId: GROUP, groupInstanceId: null, ...p }, this.ctx(version))
    this.append(r.records)
    return r.response
  }

  leave(p: Partial<LeaveGroupRequest>, version = V.leave): LeaveGroupResponse {
    const r = this.coordinator.leaveGroup({ groupId: GROUP, memberId: '', members: [], ...p }, this.ctx(version))
    this.append(r.records)
    return r.response
  }

  leaveMembers(members: { memberId: string; groupInstanceId?: string | null }[], groupId = GROUP): LeaveGroupResponse {
    return this.leave({
      groupId,
      members: members.map((m) => ({ memberId: m.memberId, groupInstanceId: m.groupInstanceId ?? null, reason: null })),
    })
  }

  commit(
    p: Partial<OffsetCommitRequest> & {
      offsets?: { topic: string; partition: number; offset: bigint | number; metadata?: string | null; leaderEpoch?: number }[]
    },
    version = V.commit,
  ): { records: CoordinatorRecord[]; response: OffsetCommitResponse } {
    const byTopic = new Map<string, OffsetCommitRequest['topics'][number]>()
    for (const o of p.offsets ?? []) {
      let t = byTopic.get(o.topic)
      if (t === undefined) byTopic.set(o.topic, (t = { name: o.topic, partitions: [] }))
      t.partitions.push({
        partitionIndex: o.partition,
        committedOffset: BigInt(o.offset),
        committedLeaderEpoch: o.leaderEpoch ?? -1,
        commitTimestamp: -1n,
        committedMetadata: o.metadata === undefined ? '' : o.metadata,
      })
    }
    const { offsets: _unused, ...rest } = p
    const req: OffsetCommitRequest = {
      groupId: GROUP,
      generationIdOrMemberEpoch: -1,
      memberId: '',
      groupInstanceId: null,
      retentionTimeMs: -1n,
      topics: [...byTopic.values()],
      ...rest,
    }
    const r = this.coordinator.offsetCommit(req, this.ctx(version))
    this.append(r.records)
    return r
  }

  /** OffsetFetch v8+ for one group; `topics` null = all. Returns that group's answer. */
  fetchOffsets(
    groupId: string,
    topics: { name: string; partitionIndexes: number[] }[] | null = null,
  ): OffsetFetchResponse['groups'][number] {
    const r = this.coordinator.offsetFetch(
      { groupId: '', topics: [], groups: [{ groupId, memberId: null, memberEpoch: -1, topics }], requireStable: false },
      this.ctx(V.fetch),
    )
    return r.response.groups[0] as OffsetFetchResponse['groups'][number]
  }

  /** The committed offset (-1n if none) as OffsetFetch reports it. */
  committed(groupId: string, topic: string, partition: number): bigint {
    const g = this.fetchOffsets(groupId, [{ name: topic, partitionIndexes: [partition] }])
    return g.topics[0]?.partitions[0]?.committedOffset as bigint
  }

  expireOffsets(): CoordinatorRecord[] {
    const r = this.coordinator.expireOffsets()
    this.append(r.records)
    return r.records
  }

  // --- flows -----------------------------------------------------------------------------------

  /** A dynamic member's first JoinGroup (v4+): answered MEMBER_ID_REQUIRED with its new id. */
  async requestMemberId(p: Partial<JoinGroupRequest> = {}, version = V.join): Promise<string> {
    const first = this.join({ ...p, memberId: '' }, version)
    const r = await first.response
    assert.equal(r.errorCode, ErrorCode.MEMBER_ID_REQUIRED)
    return r.memberId
  }

  /** The member-id handshake then the real (parked) JoinGroup. */
  async joinNew(p: Partial<JoinGroupRequest> = {}, version = V.join): Promise<Parked<JoinGroupResponse>> {
    const memberId = p.groupInstanceId ? '' : await this.requestMemberId(p, version)
    return this.join({ ...p, memberId }, version)
  }

  /** The response of a request that must have been answered by now. */
  async answered<T>(p: Parked<T>): Promise<T> {
    await flush()
    assert.ok(p.done, 'expected the request to have been answered, but it is still parked')
    return p.value as T
  }

  /** The only member of the group rejoins and syncs `times` times: one rebalance (trigger metadata-change) each. */
  async rejoinAlone(memberId: string, times: number, groupId = GROUP): Promise<void> {
    for (let i = 0; i < times; i++) {
      const r = await this.answered(this.join({ groupId, memberId }))
      await this.answered(this.sync({ groupId, memberId, generationId: r.generationId }))
    }
  }

  /** Advances time by initial-delay steps until every request is answered (bounded by the rebalance timeout). */
  async advanceUntilAnswered(
    parked: Parked<unknown>[],
    stepMs = Math.max(1, this.coordinator.config.initialRebalanceDelayMs),
  ): Promise<void> {
    for (let i = 0; i < 1000; i++) {
      await flush()
      if (parked.every((p) => p.done)) return
      this.advance(stepMs)
    }
    assert.fail('requests still parked after 1000 steps')
  }

  async assertParked<T>(p: Parked<T>): Promise<void> {
    await flush()
    assert.equal(p.done, false, `expected the request to be parked, but it was answered: ${JSON.stringify(p.value, replacer)}`)
  }

  /**
   * Builds a Stable group: n dynamic (or static when `instanceIds`) members join, the initial delay passes,
   * the leader assigns each member `assignment(memberId)`, and everyone syncs.
   */
  async stableGroup(
    n: number,
    opts: {
      groupId?: string
      instanceIds?: string[]
      join?: Partial<JoinGroupRequest>
      assignment?: (memberId: string) => Buffer
    } = {},
  ): Promise<{ members: JoinedMember[]; leader: JoinedMember; followers: JoinedMember[]; generationId: number }> {
    const groupId = opts.groupId ?? GROUP
    const parked: Parked<JoinGroupResponse>[] = []
    for (let i = 0; i < n; i++) {
      const instanceId = opts.instanceIds?.[i] ?? null
      parked.push(await this.joinNew({ groupId, groupInstanceId: instanceId, ...opts.join }))
    }
    // Every member after the first re-arms the initial delay once: wait until the join phase completes.
    await this.advanceUntilAnswered(parked)
    const members: JoinedMember[] = []
    for (const p of parked) {
      const r = await this.answered(p)
      assert.equal(r.errorCode, ErrorCode.NONE)
      members.push({ memberId: r.memberId, generationId: r.generationId, leader: r.leader, response: r })
    }
    const leader = members.find((m) => m.memberId === m.leader) as JoinedMember
    const followers = members.filter((m) => m !== leader)
    const assign = opts.assignment ?? ((id: string) => Buffer.from(`assignment-${id}`))
    const syncs = [
      this.sync({
        groupId,
        memberId: leader.memberId,
        generationId: leader.generationId,
        assignments: members.map((m) => ({ memberId: m.memberId, assignment: assign(m.memberId) })),
      }),
      ...followers.map((f) => this.sync({ groupId, memberId: f.memberId, generationId: f.generationId })),
    ]
    for (const s of syncs) assert.equal((await this.answered(s)).errorCode, ErrorCode.NONE)
    assert.equal(this.coordinator.group(groupId)?.state, 'Stable')
    return { members, leader, followers, generationId: leader.generationId }
  }

  /** A fresh coordinator (same config, same time) that replays this context's encoded log, then `onLoaded()`. */
  rebuild(log: readonly EncodedRecord[] = this.log): CoordinatorContext {
    const fresh = new CoordinatorContext({ ...this.#opts, loaded: false, start: this.clock.now() })
    for (const e of log) fresh.coordinator.replayEncoded(e.key, e.value)
    for (const e of log) {
      try {
        fresh.records.push(decodeRecord(e.key, e.value))
      } catch {
        // A record a test corrupted on purpose: the coordinator skipped it too.
      }
    }
    fresh.log.push(...log)
    fresh.append(fresh.coordinator.onLoaded().records)
    return fresh
  }

  state(groupId = GROUP): string | undefined {
    return this.coordinator.group(groupId)?.state
  }
}

export function replacer(_k: string, v: unknown): unknown {
  if (typeof v === 'bigint') return `${v}n`
  if (v !== null && typeof v === 'object' && (v as { type?: string }).type === 'Buffer')
    return `<${((v as { data: number[] }).data ?? []).length} bytes>`
  return v
}
