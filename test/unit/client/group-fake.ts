/**
 * An in-memory classic group coordinator for the group member's unit tests, plus the fakes around a
 * member (sink, metadata, listener, logger) and a harness on a ManualClock. It follows the classic
 * protocol's rules closely enough for the client's logic to be exercised (MEMBER_ID_REQUIRED,
 * parked joins completing once every member rejoined, leader assignments, static replacement,
 * heartbeat and commit answers per state); every call is recorded, and `intercept` lets a test
 * answer any call itself.
 */

import type { Assignor, GroupAssignment, MemberSubscription } from '../../../src/client/assignors/types.ts'
import { ConnectionError } from '../../../src/client/errors.ts'
import { GroupMember, type GroupMemberConfig } from '../../../src/client/group/member.ts'
import { keyOf } from '../../../src/client/group/partitions.ts'
import { ManualTimer, type Timer } from '../../../src/client/group/timer.ts'
import type {
  AssignmentSink,
  GroupTransport,
  JoinGroupArgs,
  JoinGroupResult,
  Logger,
  MemberIdentity,
  MetadataSource,
  OffsetToCommit,
  RebalanceListener,
  SyncGroupArgs,
  SyncGroupResult,
  TopicPartition,
} from '../../../src/client/group/types.ts'
import { decodeSubscription } from '../../../src/protocol/consumer-protocol.ts'
import { ErrorCode } from '../../../src/protocol/errors.ts'
import { ManualClock } from '../../../src/util/clock.ts'

type State = 'Empty' | 'PreparingRebalance' | 'CompletingRebalance' | 'Stable'

interface FakeMemberState {
  memberId: string
  instanceId: string | null
  protocols: { name: string; metadata: Buffer }[]
  join: ((r: JoinGroupResult) => void) | null
  sync: ((r: SyncGroupResult) => void) | null
  assignment: Buffer
}

export interface Call {
  api: 'join' | 'sync' | 'heartbeat' | 'leave' | 'commit' | 'fetch'
  client: string
  memberId: string
  generationId?: number
  offsets?: OffsetToCommit[]
  reason?: string
}

/** Answers a call instead of the coordinator: a code, or undefined to let the coordinator answer. */
export type Intercept = (call: Call) => number | undefined

export class FakeCoordinator {
  state: State = 'Empty'
  generation = 0
  protocol: string | null = null
  leader: string | null = null
  readonly members = new Map<string, FakeMemberState>()
  readonly instances = new Map<string, string>()
  readonly offsets = new Map<string, bigint>()
  readonly calls: Call[] = []
  /** While true every call fails as if the coordinator could not be reached. */
  unreachable = false
  /** While true `connect()` hangs, as a FindCoordinator that keeps retrying does. */
  stallConnect = false
  #stalled: Array<() => void> = []

  /** Lets hanging `connect()` calls go on. */
  unstall(): void {
    this.stallConnect = false
    for (const r of this.#stalled.splice(0)) r()
  }

  stalledConnects(): number {
    return this.#stalled.length
  }
  intercept: Intercept | null = null
  coordinatorLookups = 0
  #nextId = 0

  transport(client: string): GroupTransport & { dead: string[] } {
    const self = this
    const dead: string[] = []
    const gate = async (): Promise<void> => {
      await Promise.resolve()
      if (self.unreachable) throw new ConnectionError('fake-coordinator:9092', 'connection refused')
    }
    return {
      dead,
      async connect(): Promise<void> {
        if (self.stallConnect) await new Promise<void>((r) => self.#stalled.push(r))
        await gate()
      },
      async joinGroup(a: JoinGroupArgs): Promise<JoinGroupResult> {
        await gate()
        return self.#join(client, a)
      },
      async syncGroup(a: SyncGroupArgs): Promise<SyncGroupResult> {
        await gate()
        return self.#sync(client, a)
      },
      async heartbeat(m: MemberIdentity): Promise<number> {
        await gate()
        return self.#heartbeat(client, m)
      },
      async leaveGroup(a): Promise<number> {
        await gate()
        self.calls.push({ api: 'leave', client, memberId: a.memberId, reason: a.reason })
        if (!self.members.has(a.memberId)) return ErrorCode.UNKNOWN_MEMBER_ID
        self.#remove(a.memberId)
        return ErrorCode.NONE
      },
      async offsetCommit(m: MemberIdentity, offsets: readonly OffsetToCommit[]) {
        await gate()
        const code = self.#commit(client, m, offsets)
        return offsets.map((o) => ({ topic: o.topic, partition: o.partition, errorCode: code }))
      },
      async offsetFetch(_groupId: string, partitions: readonly TopicPartition[]) {
        await gate()
        self.calls.push({ api: 'fetch', client, memberId: '' })
        return {
          errorCode: 0,
          partitions: partitions.map((tp) => ({
            ...tp,
            offset: self.offsets.get(keyOf(tp)) ?? -1n,
            metadata: '',
            leaderEpoch: -1,
            errorCode: 0,
          })),
        }
      },
      coordinatorDead(why: string): void {
        dead.push(why)
      },
      async close(): Promise<void> {},
    }
  }

  /** Drops a member as a session expiry would, starting a rebalance. */
  expire(memberId: string): void {
    this.#remove(memberId)
  }

  committed(topic: string, partition: number): bigint | undefined {
    return this.offsets.get(keyOf({ topic, partition }))
  }

  callsOf(api: Call['api'], client?: string): Call[] {
    return this.calls.filter((c) => c.api === api && (client === undefined || c.client === client))
  }

  #intercepted(call: Call): number | undefined {
    this.calls.push(call)
    return this.intercept?.(call)
  }

  #join(client: string, a: JoinGroupArgs): JoinGroupResult | Promise<JoinGroupResult> {
    const code = this.#intercepted({ api: 'join', client, memberId: a.memberId, reason: a.reason })
    const fail = (errorCode: number, memberId = a.memberId): JoinGroupResult => ({
      errorCode,
      generationId: -1,
      protocolName: null,
      leader: '',
      skipAssignment: false,
      memberId,
      members: [],
    })
    if (code !== undefined) return fail(code)
    let m: FakeMemberState | undefined
    if (a.groupInstanceId !== null) {
      const old = this.instances.get(a.groupInstanceId)
      if (a.memberId === '' && old !== undefined) {
        // Static replacement: the old member is fenced; in Stable the group does not rebalance.
        const prev = this.members.get(old) as FakeMemberState
        const memberId = `${a.groupInstanceId}-${++this.#nextId}`
        prev.join?.(fail(ErrorCode.FENCED_INSTANCE_ID))
        prev.sync?.({ errorCode: ErrorCode.FENCED_INSTANCE_ID, assignment: Buffer.alloc(0) })
        this.members.delete(old)
        m = { ...prev, memberId, protocols: a.protocols, join: null, sync: null }
        this.members.set(memberId, m)
        this.instances.set(a.groupInstanceId, memberId)
        if (this.leader === old) this.leader = memberId
        if (this.state === 'Stable') {
          return {
            errorCode: 0,
            generationId: this.generation,
            protocolName: this.protocol,
            leader: this.leader ?? '',
            skipAssignment: this.leader === memberId,
            memberId,
            members: [],
          }
        }
      } else if (a.memberId !== '' && old !== undefined && old !== a.memberId) {
        return fail(ErrorCode.FENCED_INSTANCE_ID)
      }
    }
    if (!m) {
      if (a.memberId === '') {
        if (a.groupInstanceId === null) return fail(ErrorCode.MEMBER_ID_REQUIRED, `${client}-${++this.#nextId}`)
        const memberId = `${a.groupInstanceId}-${++this.#nextId}`
        m = { memberId, instanceId: a.groupInstanceId, protocols: a.protocols, join: null, sync: null, assignment: Buffer.alloc(0) }
        this.members.set(memberId, m)
        this.instances.set(a.groupInstanceId, memberId)
      } else {
        m = this.members.get(a.memberId)
        if (!m) {
          // A member id the coordinator handed out with MEMBER_ID_REQUIRED, joining for real.
          m = { memberId: a.memberId, instanceId: null, protocols: a.protocols, join: null, sync: null, assignment: Buffer.alloc(0) }
          this.members.set(a.memberId, m)
        } else {
          const same =
            JSON.stringify(m.protocols.map((p) => [p.name, p.metadata.toString('hex')])) ===
            JSON.stringify(a.protocols.map((p) => [p.name, p.metadata.toString('hex')]))
          m.protocols = a.protocols
          if (this.state === 'Stable' && same && this.leader !== m.memberId) {
            return {
              errorCode: 0,
              generationId: this.generation,
              protocolName: this.protocol,
              leader: this.leader ?? '',
              skipAssignment: false,
              memberId: m.memberId,
              members: [],
            }
          }
        }
      }
    }
    const member = m
    if (this.state !== 'PreparingRebalance') this.#prepareRebalance()
    return new Promise<JoinGroupResult>((resolve) => {
      member.join = resolve
      this.#maybeCompleteJoin()
    })
  }

  #prepareRebalance(): void {
    if (this.state === 'CompletingRebalance') {
      for (const m of this.members.values()) {
        m.sync?.({ errorCode: ErrorCode.REBALANCE_IN_PROGRESS, assignment: Buffer.alloc(0) })
        m.sync = null
      }
    }
    this.state = 'PreparingRebalance'
  }

  #maybeCompleteJoin(): void {
    if (this.state !== 'PreparingRebalance') return
    const all = [...this.members.values()]
    if (all.length === 0) {
      this.state = 'Empty'
      this.generation++
      return
    }
    if (all.some((m) => m.join === null)) return
    this.generation++
    if (this.leader === null || !this.members.has(this.leader)) this.leader = (all[0] as FakeMemberState).memberId
    const leader = this.members.get(this.leader) as FakeMemberState
    this.protocol = leader.protocols.map((p) => p.name).find((n) => all.every((m) => m.protocols.some((p) => p.name === n))) ?? null
    this.state = 'CompletingRebalance'
    for (const m of all) {
      const join = m.join as (r: JoinGroupResult) => void
      m.join = null
      join({
        errorCode: 0,
        generationId: this.generation,
        protocolName: this.protocol,
        leader: this.leader,
        skipAssignment: false,
        memberId: m.memberId,
        members:
          m.memberId === this.leader
            ? all.map((x) => ({
                memberId: x.memberId,
                groupInstanceId: x.instanceId,
                metadata: (x.protocols.find((p) => p.name === this.protocol) as { metadata: Buffer }).metadata,
              }))
            : [],
      })
    }
  }

  #check(m: { memberId: string; generationId: number; groupInstanceId: string | null }): number {
    if (m.groupInstanceId !== null) {
      const cur = this.instances.get(m.groupInstanceId)
      if (cur !== undefined && cur !== m.memberId) return ErrorCode.FENCED_INSTANCE_ID
    }
    if (!this.members.has(m.memberId)) return ErrorCode.UNKNOWN_MEMBER_ID
    if (m.generationId !== this.generation) return ErrorCode.ILLEGAL_GENERATION
    return ErrorCode.NONE
  }

  #sync(client: string, a: SyncGroupArgs): SyncGroupResult | Promise<SyncGroupResult> {
    const code = this.#intercepted({ api: 'sync', client, memberId: a.memberId, generationId: a.generationId })
    if (code !== undefined) return { errorCode: code, assignment: Buffer.alloc(0) }
    const err = this.#check(a)
    if (err !== ErrorCode.NONE) return { errorCode: err, assignment: Buffer.alloc(0) }
    const m = this.members.get(a.memberId) as FakeMemberState
    if (this.state === 'PreparingRebalance') return { errorCode: ErrorCode.REBALANCE_IN_PROGRESS, assignment: Buffer.alloc(0) }
    if (this.state === 'Stable') return { errorCode: 0, assignment: m.assignment }
    return new Promise<SyncGroupResult>((resolve) => {
      m.sync = resolve
      if (a.memberId === this.leader) {
        for (const x of this.members.values())
          x.assignment = a.assignments.find((y) => y.memberId === x.memberId)?.assignment ?? Buffer.alloc(0)
        this.state = 'Stable'
        for (const x of this.members.values()) {
          x.sync?.({ errorCode: 0, assignment: x.assignment })
          x.sync = null
        }
      }
    })
  }

  #heartbeat(client: string, m: MemberIdentity): number {
    const code = this.#intercepted({ api: 'heartbeat', client, memberId: m.memberId, generationId: m.generationId })
    if (code !== undefined) return code
    const err = this.#check(m)
    if (err !== ErrorCode.NONE) return err
    return this.state === 'PreparingRebalance' ? ErrorCode.REBALANCE_IN_PROGRESS : ErrorCode.NONE
  }

  #commit(client: string, m: MemberIdentity, offsets: readonly OffsetToCommit[]): number {
    const code = this.#intercepted({ api: 'commit', client, memberId: m.memberId, generationId: m.generationId, offsets: [...offsets] })
    if (code !== undefined) return code
    if (!(m.generationId < 0 && this.state === 'Empty')) {
      const err = this.#check(m)
      if (err !== ErrorCode.NONE) return err
      if (this.state === 'CompletingRebalance') return ErrorCode.REBALANCE_IN_PROGRESS
    }
    for (const o of offsets) this.offsets.set(keyOf(o), o.offset)
    return ErrorCode.NONE
  }

  #remove(memberId: string): void {
    const m = this.members.get(memberId)
    if (!m) return
    this.members.delete(memberId)
    if (m.instanceId !== null && this.instances.get(m.instanceId) === memberId) this.instances.delete(m.instanceId)
    m.join?.({
      errorCode: ErrorCode.UNKNOWN_MEMBER_ID,
      generationId: -1,
      protocolName: null,
      leader: '',
      skipAssignment: false,
      memberId,
      members: [],
    })
    m.sync?.({ errorCode: ErrorCode.UNKNOWN_MEMBER_ID, assignment: Buffer.alloc(0) })
    if (this.leader === memberId) this.leader = null
    if (this.state !== 'PreparingRebalance') this.#prepareRebalance()
    this.#maybeCompleteJoin()
  }
}

// ---- the fakes around a member ----------------------------------------------------------------

/** Records what the member tells the fetching side; `busy` simulates the application processing a delivery. */
export class FakeSink implements AssignmentSink {
  readonly events: string[] = []
  readonly fetching = new Map<string, TopicPartition>()
  readonly positionsOf = new Map<string, bigint>()
  readonly errors: { err: Error; fatal: boolean }[] = []
  #busy = false
  #idle: Array<() => void> = []
  holds = 0

  get busy(): boolean {
    return this.#busy
  }
  set busy(v: boolean) {
    this.#busy = v
    if (!v) for (const w of this.#idle.splice(0)) w()
  }

  async hold(why: string): Promise<() => void> {
    while (this.#busy) await new Promise<void>((r) => this.#idle.push(r))
    this.holds++
    this.events.push(`hold ${why}`)
    return () => {
      this.holds--
    }
  }
  assign(tps: readonly TopicPartition[]): void {
    for (const tp of tps) this.fetching.set(keyOf(tp), tp)
    this.events.push(`assign ${fmt(tps)}`)
  }
  ready(tps: readonly TopicPartition[]): void {
    this.events.push(`ready ${fmt(tps)}`)
  }
  revoke(tps: readonly TopicPartition[]): void {
    for (const tp of tps) this.fetching.delete(keyOf(tp))
    this.events.push(`revoke ${fmt(tps)}`)
  }
  lose(tps: readonly TopicPartition[]): void {
    for (const tp of tps) this.fetching.delete(keyOf(tp))
    this.events.push(`lose ${fmt(tps)}`)
  }
  positions(tps: readonly TopicPartition[]): OffsetToCommit[] {
    return tps.flatMap((tp) => {
      const o = this.positionsOf.get(keyOf(tp))
      return o === undefined ? [] : [{ topic: tp.topic, partition: tp.partition, offset: o }]
    })
  }
  error(err: Error, fatal: boolean): void {
    this.errors.push({ err, fatal })
  }
}

export class FakeMetadata implements MetadataSource {
  readonly counts = new Map<string, number>()
  async partitionCounts(topics: readonly string[]): Promise<Map<string, number>> {
    return new Map(topics.flatMap((t) => (this.counts.has(t) ? [[t, this.counts.get(t) as number] as const] : [])))
  }
  async matchingTopics(pattern: RegExp): Promise<string[]> {
    return [...this.counts.keys()].filter((t) => pattern.test(t))
  }
}

export interface ListenerCall {
  kind: 'assigned' | 'revoked' | 'lost'
  tps: string
}

/** A listener that records its calls and runs optional hooks (awaited, like the real thing). */
export function recordingListener(
  calls: ListenerCall[],
  hooks: Partial<Record<'assigned' | 'revoked' | 'lost', (tps: TopicPartition[]) => void | Promise<void>>> = {},
): RebalanceListener {
  return {
    onAssigned: async (tps) => {
      calls.push({ kind: 'assigned', tps: fmt(tps) })
      await hooks.assigned?.(tps)
    },
    onRevoked: async (tps) => {
      calls.push({ kind: 'revoked', tps: fmt(tps) })
      await hooks.revoked?.(tps)
    },
    onLost: async (tps) => {
      calls.push({ kind: 'lost', tps: fmt(tps) })
      await hooks.lost?.(tps)
    },
  }
}

export function fmt(tps: readonly TopicPartition[]): string {
  return [...tps]
    .sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition))
    .map((tp) => `${tp.topic}-${tp.partition}`)
    .join(',')
}

/** Keys of one member's timers, prefixed so several members can share one ManualTimer. */
function prefixed(timer: Timer, prefix: string): Timer {
  return {
    schedule: (key, delayMs, fire) => timer.schedule(`${prefix}/${key}`, delayMs, fire),
    cancel: (key) => timer.cancel(`${prefix}/${key}`),
  }
}

// ---- tiny assignors (the real ones are tested on their own) -------------------------------------

/** Eager: partitions of every topic dealt round-robin over members sorted by id. */
export const dealAssignor: Assignor = {
  name: 'deal',
  supportedProtocols: ['EAGER'],
  version: 0,
  subscriptionUserData: () => null,
  assign: (members, counts) => deal(members, counts),
}

/**
 * Cooperative: members keep what they own while it is still theirs in a balanced split; partitions
 * are otherwise dealt to the least loaded member (and the member layer withholds any transfer).
 */
export const stickyishAssignor: Assignor = {
  name: 'stickyish',
  supportedProtocols: ['COOPERATIVE', 'EAGER'],
  version: 0,
  subscriptionUserData: () => null,
  assign: (members, counts) => {
    const sorted = [...members].sort((a, b) => (a.memberId < b.memberId ? -1 : 1))
    const all = [...counts].flatMap(([topic, n]) => Array.from({ length: n }, (_, partition) => ({ topic, partition })))
    const quota = Math.ceil(all.length / Math.max(1, sorted.length))
    const out = new Map<string, TopicPartition[]>(sorted.map((m) => [m.memberId, []]))
    const taken = new Set<string>()
    for (const m of sorted) {
      for (const tp of m.ownedPartitions) {
        const l = out.get(m.memberId) as TopicPartition[]
        if (l.length < quota && counts.has(tp.topic) && !taken.has(keyOf(tp))) {
          l.push(tp)
          taken.add(keyOf(tp))
        }
      }
    }
    for (const tp of all) {
      if (taken.has(keyOf(tp))) continue
      const m = sorted.reduce((best, x) =>
        (out.get(x.memberId) as TopicPartition[]).length < (out.get(best.memberId) as TopicPartition[]).length ? x : best,
      )
      ;(out.get(m.memberId) as TopicPartition[]).push(tp)
    }
    return { assignments: new Map([...out].map(([id, partitions]) => [id, { partitions, userData: null }])) }
  },
}

function deal(members: readonly MemberSubscription[], counts: ReadonlyMap<string, number>): GroupAssignment {
  const sorted = [...members].sort((a, b) => (a.memberId < b.memberId ? -1 : 1))
  const out = new Map<string, { partitions: TopicPartition[]; userData: Buffer | null }>(
    sorted.map((m) => [m.memberId, { partitions: [], userData: null }]),
  )
  let i = 0
  for (const [topic, n] of counts) {
    for (let p = 0; p < n; p++) {
      const subscribers = sorted.filter((m) => m.topics.includes(topic))
      if (subscribers.length === 0) break
      out.get((subscribers[i++ % subscribers.length] as MemberSubscription).memberId)?.partitions.push({ topic, partition: p })
    }
  }
  return { assignments: out }
}

// ---- the harness ------------------------------------------------------------------------------

export interface LogLine {
  level: string
  message: string
}

export interface TestMember {
  name: string
  member: GroupMember
  sink: FakeSink
  calls: ListenerCall[]
  logs: LogLine[]
  transport: ReturnType<FakeCoordinator['transport']>
}

export const BASE_CONFIG: Omit<GroupMemberConfig, 'assignors'> = {
  groupId: 'g',
  groupInstanceId: null,
  rackId: null,
  sessionTimeoutMs: 10_000,
  heartbeatIntervalMs: 1000,
  rebalanceTimeoutMs: 30_000,
  maxPollIntervalMs: 30_000,
  autoCommit: false,
  autoCommitIntervalMs: 5000,
  retryBackoffMs: 100,
  retryBackoffMaxMs: 1000,
  apiTimeoutMs: 60_000,
  metadataRefreshMs: 5000,
}

export class Harness {
  readonly clock = new ManualClock()
  readonly timer = new ManualTimer(this.clock)
  readonly coordinator = new FakeCoordinator()
  readonly metadata = new FakeMetadata()

  member(name: string, config: Partial<GroupMemberConfig> = {}, hooks: Parameters<typeof recordingListener>[1] = {}): TestMember {
    const sink = new FakeSink()
    const calls: ListenerCall[] = []
    const logs: LogLine[] = []
    const logger: Logger = (level, message) => {
      logs.push({ level, message })
      if (process.env.GROUP_TEST_LOG) console.log(`${this.clock.now() % 1_000_000} ${name} ${level} ${message}`)
    }
    const transport = this.coordinator.transport(name)
    const member = new GroupMember(
      { ...BASE_CONFIG, assignors: [dealAssignor], ...config },
      {
        transport,
        metadata: this.metadata,
        sink,
        listener: recordingListener(calls, hooks),
        clock: this.clock,
        timer: prefixed(this.timer, name),
        logger,
      },
    )
    return { name, member, sink, calls, logs, transport }
  }

  /** Lets promises and immediates run (fake RPCs answer in microtasks). */
  async settle(): Promise<void> {
    for (let i = 0; i < 20; i++) await new Promise<void>((r) => setImmediate(r))
  }

  /** Moves time forward in steps, letting async work run between them. */
  async tick(ms: number, step = 100): Promise<void> {
    await this.settle()
    for (let done = 0; done < ms; done += step) {
      this.timer.advance(Math.min(step, ms - done))
      await this.settle()
    }
  }

  /** Ticks until `cond` holds, failing after `maxMs` of fake time. */
  async until(cond: () => boolean, what: string, maxMs = 60_000): Promise<void> {
    for (let t = 0; t <= maxMs; t += 100) {
      await this.settle()
      if (cond()) return
      this.timer.advance(100)
    }
    throw new Error(`fake time ran out waiting until ${what}`)
  }
}

/** The topics/partitions a subscription in a JoinGroup call carried, for assertions on protocols. */
export function subscriptionOf(metadata: Buffer): ReturnType<typeof decodeSubscription> {
  return decodeSubscription(metadata)
}
