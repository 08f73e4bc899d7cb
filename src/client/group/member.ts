/**
 * One member of a classic consumer group: FindCoordinator → JoinGroup → SyncGroup → heartbeats,
 * driven by an injected clock and timer. It never fetches: ownership changes go to an
 * `AssignmentSink` (the consumer), and every rejoin is logged with a `why`.
 *
 * States:
 *   idle     not in a generation (before the first join, after losing the generation)
 *   joining  JoinGroup/SyncGroup under way (cooperative members keep their partitions meanwhile)
 *   stable   in a generation; heartbeats run on their own timer
 *   left     the poll watchdog fired: the member left the group and waits for the application
 *            to come back to poll before rejoining
 *   fatal    FENCED_INSTANCE_ID or a join the coordinator refuses for good; the consumer stops
 *   closed
 *
 * Rebalance protocols:
 *   EAGER        before every rejoin: commit (auto-commit) and revoke everything.
 *   COOPERATIVE  (KIP-429) keep owned partitions through the join (they are sent as
 *                `ownedPartitions`); after SyncGroup revoke only what the new assignment moved away,
 *                then rejoin at once so the moved partitions can be handed out.
 *
 * Ownership ends in one of two ways: revoked (clean: `onRevoked` runs while the partitions are
 * still owned, so a commit there works) or lost (the generation is already gone: session timeout,
 * UNKNOWN_MEMBER_ID / ILLEGAL_GENERATION, the poll watchdog; `onLost` runs and commits are refused).
 * Listener callbacks are serialised with each other and with the application's processing
 * through `AssignmentSink.hold`.
 */

import {
  decodeAssignment,
  decodeSubscription,
  encodeAssignment,
  encodeSubscription,
  type Subscription,
} from '../../protocol/consumer-protocol.ts'
import { ErrorCode, errorInfo } from '../../protocol/errors.ts'
import type { Clock } from '../../util/clock.ts'
import type { Assignor, MemberSubscription, RebalanceProtocol, TopicPartition } from '../assignors/types.ts'
import { backoffMs } from '../cluster/cluster.ts'
import { ClosedError, ConfigError } from '../errors.ts'
import { CLIENT_SIDE, CommitFailedError, FencedInstanceError, GroupJoinError, RebalanceListenerError } from './errors.ts'
import { commitOffsets, fetchCommittedOffsets, isTransportFailure, type RetryPolicy } from './offsets.ts'
import { describeTps, diffPartitions, flatten, groupByTopic, keyOf, TpSet } from './partitions.ts'
import type { Timer } from './timer.ts'
import type {
  AssignmentSink,
  CommittedOffset,
  GroupTransport,
  JoinGroupResult,
  Logger,
  MemberIdentity,
  MetadataSource,
  OffsetToCommit,
  RebalanceListener,
} from './types.ts'

export interface GroupMemberConfig {
  groupId: string
  groupInstanceId: string | null
  rackId: string | null
  sessionTimeoutMs: number
  heartbeatIntervalMs: number
  rebalanceTimeoutMs: number
  maxPollIntervalMs: number
  assignors: readonly Assignor[]
  autoCommit: boolean
  autoCommitIntervalMs: number
  retryBackoffMs: number
  retryBackoffMaxMs: number
  /** Budget of one commit or offset lookup, retries included (`default.api.timeout.ms`). */
  apiTimeoutMs: number
  /** How often the subscription is checked against metadata (regex matches, partition counts). */
  metadataRefreshMs: number
}

export interface GroupMemberDeps {
  transport: GroupTransport
  metadata: MetadataSource
  sink: AssignmentSink
  listener: RebalanceListener
  clock: Clock
  timer: Timer
  logger: Logger
}

export type MemberState = 'idle' | 'joining' | 'stable' | 'left' | 'fatal' | 'closed'

/** The assignment encoding version sent by the leader (the layout is the same for v0–v3; Java sends 3). */
const ASSIGNMENT_VERSION = 3

/** Join errors after which the member cannot go on. */
const FATAL_JOIN_CODES = new Set<number>([
  ErrorCode.INVALID_SESSION_TIMEOUT,
  ErrorCode.INCONSISTENT_GROUP_PROTOCOL,
  ErrorCode.GROUP_AUTHORIZATION_FAILED,
  ErrorCode.INVALID_GROUP_ID,
  ErrorCode.GROUP_MAX_SIZE_REACHED,
  ErrorCode.UNSUPPORTED_VERSION,
  ErrorCode.INVALID_REQUEST,
])

/** The highest rebalance protocol every assignor supports (Java's rule: [range, cooperative-sticky] → EAGER). */
export function chooseProtocol(assignors: readonly Assignor[]): RebalanceProtocol {
  if (assignors.length === 0) throw new ConfigError('partitionAssignmentStrategy is empty')
  if (assignors.every((a) => a.supportedProtocols.includes('COOPERATIVE'))) return 'COOPERATIVE'
  if (assignors.every((a) => a.supportedProtocols.includes('EAGER'))) return 'EAGER'
  throw new ConfigError(`the assignors ${assignors.map((a) => a.name).join(', ')} share no rebalance protocol`)
}

export class GroupMember {
  readonly config: GroupMemberConfig
  readonly protocol: RebalanceProtocol
  readonly #t: GroupTransport
  readonly #metadata: MetadataSource
  readonly #sink: AssignmentSink
  readonly #listener: RebalanceListener
  readonly #clock: Clock
  readonly #timer: Timer
  readonly #logger: Logger

  #stateValue: MemberState = 'idle'
  /** Woken when the member leaves 'joining' (a commit waits for its own rebalance to settle). */
  readonly #joinWaiters = new Set<() => void>()
  /** The SyncGroup in flight, if any: close() lets it finish so the commit in onRevoked is in the new generation. */
  #syncInFlight: Promise<unknown> | null = null
  #memberId = ''
  #generationId = -1
  #protocolName: string | null = null
  #leaderId = ''
  readonly #owned = new TpSet()
  /**
   * The last assignment received and its generation, kept across revocations and losses (Java's
   * StickyAssignor `memberAssignment`): under EAGER every partition is revoked before the join, so
   * this, not the owned set, is what makes the `sticky` assignor sticky.
   */
  #lastAssignment: { partitions: TopicPartition[]; generationId: number } = { partitions: [], generationId: -1 }
  /** Partitions whose ownership ended without a revoke, waiting for `onLost`. */
  readonly #lostPending = new TpSet()
  #topics: string[] = []
  #pattern: RegExp | null = null
  #subscribed = false
  /** Partition counts of the watched topics when the current assignment was made. */
  #snapshot = new Map<string, number>()
  /** The leader watches every member's topics, not just its own. */
  #groupTopics: string[] = []

  #rejoinWhy: string | null = null
  #loop: Promise<void> | null = null
  /** Bumped by unsubscribe(): a join loop from before it must not act on answers it gets afterwards. */
  #subscription = 0
  #loopSubscription = 0
  #joinFailures = 0
  #inJoin = false
  #heartbeatInFlight = false
  #lastHeartbeatOkMs = 0
  #waitingForPoll = false
  #closing = false
  #fatal: Error | null = null
  #sleepSeq = 0
  readonly #sleepers = new Set<(err: Error) => void>()
  /** Serialises listener callbacks (join loop, close, watchdog) with each other. */
  #callbacks: Promise<void> = Promise.resolve()
  readonly #lastCommitted = new Map<string, bigint>()
  #autoCommitting = false

  constructor(config: GroupMemberConfig, deps: GroupMemberDeps) {
    if (config.groupId === '') throw new ConfigError('groupId must not be empty')
    if (config.heartbeatIntervalMs >= config.sessionTimeoutMs) {
      throw new ConfigError(
        `heartbeatIntervalMs (${config.heartbeatIntervalMs}) must be lower than sessionTimeoutMs (${config.sessionTimeoutMs})`,
      )
    }
    const names = new Set<string>()
    for (const a of config.assignors) {
      if (names.has(a.name)) throw new ConfigError(`assignor ${a.name} is listed twice`)
      names.add(a.name)
    }
    this.config = config
    this.protocol = chooseProtocol(config.assignors)
    this.#t = deps.transport
    this.#metadata = deps.metadata
    this.#sink = deps.sink
    this.#listener = deps.listener
    this.#clock = deps.clock
    this.#timer = deps.timer
    this.#logger = deps.logger
  }

  // ---- introspection ------------------------------------------------------------------------

  get state(): MemberState {
    return this.#state
  }

  get #state(): MemberState {
    return this.#stateValue
  }

  set #state(s: MemberState) {
    const was = this.#stateValue
    this.#stateValue = s
    if (was === 'joining' && s !== 'joining') for (const wake of [...this.#joinWaiters]) wake()
  }
  get memberId(): string {
    return this.#memberId
  }
  get generationId(): number {
    return this.#generationId
  }
  get protocolName(): string | null {
    return this.#protocolName
  }
  get isLeader(): boolean {
    return this.#memberId !== '' && this.#leaderId === this.#memberId
  }
  get fatalError(): Error | null {
    return this.#fatal
  }
  /** The resolved subscription (a pattern's current matches). */
  get topics(): readonly string[] {
    return this.#topics
  }
  /** Why the member will rejoin, or null when no rejoin is pending. */
  get rejoinReason(): string | null {
    return this.#rejoinWhy
  }
  assignment(): TopicPartition[] {
    return this.#owned.list()
  }
  owns(tp: TopicPartition): boolean {
    return this.#owned.has(tp)
  }

  // ---- subscription -------------------------------------------------------------------------

  /** Sets the subscription (a list of topics, or a pattern matched against the cluster's topics) and (re)joins. */
  subscribe(topics: readonly string[] | RegExp): void {
    this.#throwIfUnusable()
    const first = !this.#subscribed
    this.#subscribed = true
    if (topics instanceof RegExp) {
      this.#pattern = topics
      this.#topics = []
    } else {
      this.#pattern = null
      this.#topics = [...new Set(topics)].sort()
    }
    const what = topics instanceof RegExp ? `pattern ${topics}` : `topics ${this.#topics.join(', ')}`
    this.requestRejoin(first ? `subscribed to ${what}` : `subscription changed to ${what}`)
    this.#scheduleMetadataCheck()
  }

  /** Asks for a rebalance; the reason is logged when the join starts. */
  requestRejoin(why: string): void {
    if (this.#closing || this.#fatal || !this.#subscribed) return
    if (this.#rejoinWhy === null) this.#rejoinWhy = why
    else this.#log('debug', `rejoin already pending (${this.#rejoinWhy}); also: ${why}`)
    if (this.#waitingForPoll) return
    this.#ensureLoop()
  }

  // ---- poll watchdog (max.poll.interval.ms) -------------------------------------------------

  /** The application is waiting for a delivery ("in poll"): the watchdog is off meanwhile. */
  pollStarted(): void {
    this.#timer.cancel('poll-timeout')
    if (this.#waitingForPoll && !this.#closing && !this.#fatal) {
      this.#waitingForPoll = false
      this.#state = 'idle'
      this.#rejoinWhy = `processing resumed after exceeding max.poll.interval.ms=${this.config.maxPollIntervalMs}`
      this.#ensureLoop()
    }
  }

  /** The application stopped waiting (it got a delivery, or stopped iterating): it has `maxPollIntervalMs` to come back. */
  pollEnded(): void {
    if (this.#closing || this.#fatal || !this.#subscribed || this.#waitingForPoll) return
    this.#timer.schedule('poll-timeout', this.config.maxPollIntervalMs, () => this.#pollExpired())
  }

  #pollExpired(): void {
    if (this.#closing || this.#fatal || this.#waitingForPoll) return
    const c = this.config
    this.#log(
      'warn',
      `processing exceeded max.poll.interval.ms=${c.maxPollIntervalMs} ; leaving the group so its partitions can be reassigned`,
    )
    // Java sends LeaveGroup only for dynamic members; a static member is removed by its session timeout.
    if (this.#memberId !== '' && c.groupInstanceId === null) {
      const args = { groupId: c.groupId, memberId: this.#memberId, groupInstanceId: null, reason: 'consumer poll timeout has expired' }
      this.#t.leaveGroup(args).then(
        (code) => {
          if (code !== ErrorCode.NONE) this.#log('debug', `LeaveGroup after the poll timeout: ${errorInfo(code).name}`)
        },
        (err: unknown) => this.#log('debug', `LeaveGroup after the poll timeout failed: ${describe(err)}`),
      )
    }
    this.#waitingForPoll = true
    this.#lose('processing exceeded max.poll.interval.ms', true)
    this.#state = 'left'
  }

  // ---- commits ------------------------------------------------------------------------------

  /**
   * Commits `offsets` (default: the consumed positions of every owned partition) as this member
   * in its current generation. Refused locally, before anything is sent, when the member is in no
   * generation or a partition is not owned: another member may own it already, and its commits
   * must not be overwritten (kafkajs #1046).
   */
  async commit(offsets?: readonly OffsetToCommit[]): Promise<void> {
    this.#throwIfUnusable()
    // Sent now, the commit would meet the coordinator between generations (REBALANCE_IN_PROGRESS or
    // ILLEGAL_GENERATION). Wait for this member's own rebalance instead, then commit what it still
    // owns in the new generation: cooperative members keep processing during a rebalance.
    if (this.#state === 'joining' && !this.#closing) await this.#joinSettled(offsets)
    const list = offsets ?? this.#sink.positions(this.#owned.list())
    if (list.length === 0) return
    if (this.#generationId < 0 || this.#memberId === '') {
      throw new CommitFailedError(
        CLIENT_SIDE,
        `commit refused: this consumer is not in an active generation of group ${this.config.groupId} ` +
          `(${this.#rejoinWhy ?? 'not joined'}); its partitions may already belong to another member`,
        list.map((o) => ({ topic: o.topic, partition: o.partition })),
      )
    }
    const notOwned = list.filter((o) => !this.#owned.has(o)).map((o) => ({ topic: o.topic, partition: o.partition }))
    if (notOwned.length > 0) {
      throw new CommitFailedError(
        CLIENT_SIDE,
        `commit refused: ${describeTps(notOwned)} not owned by this member in generation ${this.#generationId} of group ${this.config.groupId}`,
        notOwned,
      )
    }
    const identity = this.#identity()
    const out = await commitOffsets(this.#t, identity, list, this.#retryPolicy())
    const tps = list.map((o) => ({ topic: o.topic, partition: o.partition }))
    switch (out.kind) {
      case 'ok':
        for (const o of list) this.#lastCommitted.set(keyOf(o), o.offset)
        return
      case 'rebalance':
        // The group is rebalancing without this member knowing yet; when it is already rejoining,
        // asking again would only start another rebalance after this one.
        if (this.#state === 'stable' && this.#rejoinWhy === null) this.requestRejoin('OffsetCommit answered REBALANCE_IN_PROGRESS')
        throw new CommitFailedError(
          ErrorCode.REBALANCE_IN_PROGRESS,
          `commit failed: group ${this.config.groupId} is rebalancing; commit again once the rebalance completes if the partitions are still owned`,
          tps,
          true,
        )
      case 'generation': {
        const name = errorInfo(out.code).name
        // A newer generation may have been joined while the commit was under way: only the generation
        // it was sent in is lost. While this member is joining, the answer most likely means its own
        // JoinGroup completed first (it travels on another connection): the join settles membership,
        // and an UNKNOWN_MEMBER_ID there loses the partitions if they really are gone.
        if (identity.generationId === this.#generationId && identity.memberId === this.#memberId && this.#state !== 'joining') {
          this.#lose(`OffsetCommit answered ${name}`, out.code === ErrorCode.UNKNOWN_MEMBER_ID)
        }
        throw new CommitFailedError(
          out.code,
          `commit failed: ${name}: generation ${identity.generationId} of group ${this.config.groupId} is over; ` +
            'the partitions may already belong to another member (did processing exceed max.poll.interval.ms?)',
          tps,
        )
      }
      case 'fenced': {
        const err = new FencedInstanceError(this.config.groupInstanceId ?? '', 'OffsetCommit')
        this.#fail(err)
        throw err
      }
      case 'failed':
        throw out.error
    }
  }

  /** Committed offsets of `partitions` (offset −1 where none). */
  fetchCommitted(partitions: readonly TopicPartition[]): Promise<Map<string, CommittedOffset>> {
    this.#throwIfUnusable()
    return fetchCommittedOffsets(this.#t, this.config.groupId, partitions, this.#retryPolicy())
  }

  // ---- leaving ------------------------------------------------------------------------------

  /**
   * Leaves for good: revokes what is owned (auto-committing first when enabled), then sends
   * LeaveGroup unless the member is static and `leaveGroup` is not asked for (a static member that
   * restarts within the session timeout gets its partitions back without a rebalance).
   */
  async close(options: { leaveGroup?: boolean } = {}): Promise<void> {
    if (this.#state === 'closed') return
    this.#closing = true
    this.#rejoinWhy = null
    for (const k of ['poll-timeout', 'auto-commit', 'metadata']) this.#timer.cancel(k)
    const c = this.config
    if (this.#syncInFlight !== null) await this.#within(this.#syncInFlight, c.sessionTimeoutMs)
    try {
      await this.#withHold('closing', async () => {
        await this.#callLostPending()
        const owned = this.#owned.list()
        if (owned.length > 0 && !this.#fatal) await this.#revoke(owned, 'the consumer is closing')
      })
      const leave = c.groupInstanceId === null || options.leaveGroup === true
      if (leave && this.#memberId !== '' && !this.#fatal) {
        const code = await this.#t.leaveGroup({
          groupId: c.groupId,
          memberId: this.#memberId,
          groupInstanceId: c.groupInstanceId,
          reason: 'the consumer is closing',
        })
        if (code === ErrorCode.NONE) this.#log('info', 'left the group', { why: 'the consumer is closing' })
        else this.#log('warn', `LeaveGroup answered ${errorInfo(code).name}`)
      } else if (!leave) {
        this.#log('info', 'closing without LeaveGroup (static member; the coordinator keeps its partitions until sessionTimeoutMs)')
      }
    } catch (err) {
      this.#log('warn', `leaving the group failed: ${describe(err)}`)
    } finally {
      this.#state = 'closed'
      this.#timer.cancel('heartbeat')
      for (const wake of this.#sleepers) wake(new ClosedError('consumer'))
      this.#sleepers.clear()
      this.#memberId = ''
      this.#generationId = -1
      await this.#t.close().catch(() => {})
    }
  }

  /** Revokes everything and leaves the group, but stays usable for a later `subscribe`. */
  async unsubscribe(): Promise<void> {
    this.#throwIfUnusable()
    this.#subscribed = false
    this.#subscription++
    this.#rejoinWhy = null
    for (const k of ['poll-timeout', 'auto-commit', 'metadata', 'heartbeat']) this.#timer.cancel(k)
    await this.#withHold('unsubscribing', async () => {
      await this.#callLostPending()
      const owned = this.#owned.list()
      if (owned.length > 0) await this.#revoke(owned, 'unsubscribed')
    })
    // A join parked at the coordinator is not awaited: LeaveGroup answers it, and the loop, no longer
    // active, drops that answer (a later subscribe() restarts the loop once it has returned).
    if (this.#memberId !== '') {
      const c = this.config
      await this.#t
        .leaveGroup({ groupId: c.groupId, memberId: this.#memberId, groupInstanceId: c.groupInstanceId, reason: 'unsubscribed' })
        .catch((err: unknown) => this.#log('warn', `LeaveGroup failed: ${describe(err)}`))
    }
    this.#memberId = ''
    this.#generationId = -1
    this.#state = 'idle'
  }

  // ---- the join loop ------------------------------------------------------------------------

  #ensureLoop(): void {
    if (this.#loop) return
    this.#loop = this.#joinLoop().finally(() => {
      this.#loop = null
      if (this.#rejoinWhy !== null && !this.#closing && !this.#fatal && !this.#waitingForPoll && this.#subscribed) this.#ensureLoop()
    })
  }

  #active(): boolean {
    return (
      !this.#closing && this.#fatal === null && !this.#waitingForPoll && this.#subscribed && this.#loopSubscription === this.#subscription
    )
  }

  async #joinLoop(): Promise<void> {
    this.#loopSubscription = this.#subscription
    while (this.#rejoinWhy !== null && this.#active()) {
      let why = this.#rejoinWhy
      try {
        await this.#prepare(why)
        if (!this.#active()) return
        // The reason may have changed while waiting for the application (e.g. it came back after the poll watchdog).
        why = this.#rejoinWhy ?? why
        this.#rejoinWhy = null
        this.#state = 'joining'
        this.#log('info', `rejoining group ${this.config.groupId}`, { why })
        if (await this.#joinAndSync(why)) this.#joinFailures = 0
      } catch (err) {
        if (this.#closing) return
        if (err instanceof FencedInstanceError || err instanceof GroupJoinError) {
          this.#fail(err)
          return
        }
        this.#joinFailures++
        if (isTransportFailure(err)) this.#t.coordinatorDead(describe(err))
        if (this.#rejoinWhy === null) this.#rejoinWhy = why
        if (this.#state === 'joining') this.#state = this.#generationId >= 0 ? 'stable' : 'idle'
        this.#log('warn', `join attempt failed: ${describe(err)}; retrying`, { why })
        await this.#backoff()
      }
    }
  }

  async #backoff(): Promise<void> {
    await this.#sleep(backoffMs(Math.max(1, this.#joinFailures), this.config.retryBackoffMs, this.config.retryBackoffMaxMs)).catch(() => {})
  }

  /** Retries the join later for a retriable failure, keeping the original reason. */
  async #retryJoin(why: string, what: string): Promise<null> {
    this.#joinFailures++
    this.#log('debug', `${what}; retrying the join`)
    this.requestRejoin(why)
    if (this.#state === 'joining') this.#state = this.#generationId >= 0 ? 'stable' : 'idle'
    await this.#backoff()
    return null
  }

  /** Before a join: onLost for what was lost; EAGER revokes all; COOPERATIVE revokes unsubscribed topics. */
  async #prepare(why: string): Promise<void> {
    await this.#withHold(why, async () => {
      await this.#callLostPending()
      if (!this.#active()) return
      const owned = this.#owned.list()
      if (this.protocol === 'EAGER') {
        if (owned.length > 0) await this.#revoke(owned, why)
      } else if (this.#pattern === null) {
        const gone = owned.filter((tp) => !this.#topics.includes(tp.topic))
        if (gone.length > 0) await this.#revoke(gone, 'no longer subscribed')
      }
    })
  }

  async #joinAndSync(why: string): Promise<boolean> {
    const join = await this.#join(why)
    if (join === null || !this.#active()) return false
    const assigned = await this.#sync(join, why)
    if (assigned === null || !this.#active()) return false
    await this.#complete(assigned, why)
    return true
  }

  async #join(why: string): Promise<JoinGroupResult | null> {
    const c = this.config
    const topics = await this.#resolveSubscription()
    this.#snapshot = await this.#metadata.partitionCounts(topics)
    const owned = this.#owned.list()
    const protocols = c.assignors.map((a) => ({
      name: a.name,
      metadata: encodeSubscription({
        topics,
        userData: a.subscriptionUserData(topics, this.#lastAssignment.partitions, this.#lastAssignment.generationId),
        ownedPartitions: groupByTopic(owned),
        generationId: this.#generationId,
        rackId: c.rackId,
      }),
    }))
    for (;;) {
      if (!this.#active()) return null
      await this.#t.connect()
      if (!this.#active()) return null
      this.#inJoin = true
      let res: JoinGroupResult
      try {
        res = await this.#t.joinGroup({
          groupId: c.groupId,
          memberId: this.#memberId,
          groupInstanceId: c.groupInstanceId,
          sessionTimeoutMs: c.sessionTimeoutMs,
          rebalanceTimeoutMs: c.rebalanceTimeoutMs,
          protocols,
          reason: why,
        })
      } finally {
        this.#inJoin = false
      }
      // Closed, unsubscribed or left by the poll watchdog while the join was parked: ignore the answer.
      if (!this.#active()) return null
      const code = res.errorCode
      switch (code) {
        case ErrorCode.NONE:
          this.#memberId = res.memberId
          this.#generationId = res.generationId
          this.#protocolName = res.protocolName
          this.#leaderId = res.leader
          this.#lastHeartbeatOkMs = this.#clock.now()
          return res
        case ErrorCode.MEMBER_ID_REQUIRED:
          // KIP-394: the coordinator hands out the id; join again with it at once.
          this.#memberId = res.memberId
          continue
        case ErrorCode.UNKNOWN_MEMBER_ID:
        case ErrorCode.ILLEGAL_GENERATION:
          this.#lose(`JoinGroup answered ${errorInfo(code).name}`, code === ErrorCode.UNKNOWN_MEMBER_ID)
          return null
        case ErrorCode.FENCED_INSTANCE_ID:
          throw new FencedInstanceError(c.groupInstanceId ?? '', 'JoinGroup')
        case ErrorCode.COORDINATOR_NOT_AVAILABLE:
        case ErrorCode.NOT_COORDINATOR:
          this.#t.coordinatorDead(`JoinGroup: ${errorInfo(code).name}`)
          return this.#retryJoin(why, `JoinGroup answered ${errorInfo(code).name}`)
        default:
          if (FATAL_JOIN_CODES.has(code) || !(errorInfo(code).retriable || code === ErrorCode.REBALANCE_IN_PROGRESS)) {
            throw new GroupJoinError(code, `JoinGroup for group ${c.groupId} failed: ${errorInfo(code).name}: ${errorInfo(code).message}`)
          }
          return this.#retryJoin(why, `JoinGroup answered ${errorInfo(code).name}`)
      }
    }
  }

  async #sync(join: JoinGroupResult, why: string): Promise<TopicPartition[] | null> {
    const c = this.config
    const leader = join.leader === this.#memberId
    const assignments = leader && !join.skipAssignment ? await this.#assign(join) : []
    if (!this.#active()) return null
    await this.#t.connect()
    if (!this.#active()) return null
    this.#inJoin = true
    let res: { errorCode: number; assignment: Buffer }
    try {
      const sent = this.#t.syncGroup(
        {
          groupId: c.groupId,
          generationId: this.#generationId,
          memberId: this.#memberId,
          groupInstanceId: c.groupInstanceId,
          protocolName: this.#protocolName,
          assignments,
        },
        c.rebalanceTimeoutMs,
      )
      this.#syncInFlight = sent
      res = await sent
    } finally {
      this.#inJoin = false
      this.#syncInFlight = null
    }
    if (!this.#active()) return null
    const code = res.errorCode
    switch (code) {
      case ErrorCode.NONE: {
        this.#lastHeartbeatOkMs = this.#clock.now()
        if (res.assignment.length === 0) return []
        try {
          return flatten(decodeAssignment(res.assignment).assignedPartitions)
        } catch (err) {
          throw new GroupJoinError(ErrorCode.INCONSISTENT_GROUP_PROTOCOL, `cannot decode the assignment from SyncGroup: ${describe(err)}`)
        }
      }
      case ErrorCode.REBALANCE_IN_PROGRESS:
        this.requestRejoin(`SyncGroup answered REBALANCE_IN_PROGRESS (${why})`)
        this.#state = 'stable'
        return null
      case ErrorCode.UNKNOWN_MEMBER_ID:
      case ErrorCode.ILLEGAL_GENERATION:
        this.#lose(`SyncGroup answered ${errorInfo(code).name}`, code === ErrorCode.UNKNOWN_MEMBER_ID)
        return null
      case ErrorCode.FENCED_INSTANCE_ID:
        throw new FencedInstanceError(c.groupInstanceId ?? '', 'SyncGroup')
      case ErrorCode.COORDINATOR_NOT_AVAILABLE:
      case ErrorCode.NOT_COORDINATOR:
        this.#t.coordinatorDead(`SyncGroup: ${errorInfo(code).name}`)
        return this.#retryJoin(why, `SyncGroup answered ${errorInfo(code).name}`)
      default:
        if (errorInfo(code).retriable) return this.#retryJoin(why, `SyncGroup answered ${errorInfo(code).name}`)
        throw new GroupJoinError(code, `SyncGroup for group ${c.groupId} failed: ${errorInfo(code).name}: ${errorInfo(code).message}`)
    }
  }

  /** The leader's job: run the assignor the coordinator chose on every member's subscription. */
  async #assign(join: JoinGroupResult): Promise<{ memberId: string; assignment: Buffer }[]> {
    const assignor = this.config.assignors.find((a) => a.name === join.protocolName)
    if (!assignor) {
      throw new GroupJoinError(
        ErrorCode.INCONSISTENT_GROUP_PROTOCOL,
        `the coordinator chose assignor ${join.protocolName}, which this member does not have (${this.config.assignors.map((a) => a.name).join(', ')})`,
      )
    }
    const members: MemberSubscription[] = []
    for (const m of join.members) {
      let s: Subscription
      try {
        s = decodeSubscription(m.metadata)
      } catch (err) {
        this.#log('warn', `member ${m.memberId} sent a subscription that does not decode (${describe(err)}); it gets nothing`)
        s = { version: 0, topics: [], userData: null, ownedPartitions: [], generationId: -1, rackId: null }
      }
      members.push({
        memberId: m.memberId,
        groupInstanceId: m.groupInstanceId,
        topics: s.topics,
        userData: s.userData,
        ownedPartitions: flatten(s.ownedPartitions),
        generationId: s.generationId,
        rackId: s.rackId,
      })
    }
    const topics = [...new Set(members.flatMap((m) => m.topics))].sort()
    const counts = await this.#metadata.partitionCounts(topics)
    this.#groupTopics = topics
    for (const [t, n] of counts) this.#snapshot.set(t, n)
    const result = assignor.assign(members, counts)
    if (this.protocol === 'COOPERATIVE') withholdTransfers(members, result.assignments)
    const listing = members.map((m) => `${m.memberId}: ${describeTps(result.assignments.get(m.memberId)?.partitions ?? [], 8)}`).join('; ')
    this.#log('info', `assigned as leader with ${assignor.name}: ${listing}`)
    return members.map((m) => {
      const a = result.assignments.get(m.memberId)
      return {
        memberId: m.memberId,
        assignment: encodeAssignment(
          { assignedPartitions: groupByTopic(a?.partitions ?? []), userData: a?.userData ?? null },
          ASSIGNMENT_VERSION,
        ),
      }
    })
  }

  async #complete(assigned: TopicPartition[], why: string): Promise<void> {
    this.#state = 'stable'
    this.#lastHeartbeatOkMs = this.#clock.now()
    this.#scheduleHeartbeat(this.config.heartbeatIntervalMs)
    this.#scheduleAutoCommit()
    const subscribed = new Set(this.#topics)
    const unexpected = assigned.filter((tp) => !subscribed.has(tp.topic))
    if (unexpected.length > 0) {
      // Java does the same: an assignment for topics we do not subscribe to is stale; ask again.
      this.#log('warn', `the assignment names unsubscribed topics (${describeTps(unexpected)}); rejoining`)
      this.requestRejoin('the assignment did not match the subscription')
      return
    }
    this.#lastAssignment = { partitions: assigned, generationId: this.#generationId }
    const { added, revoked } = diffPartitions(this.#owned, assigned)
    if (revoked.length > 0) await this.#withHold(why, () => this.#revoke(revoked, 'the new assignment moved them to another member'))
    if (!this.#active() || this.#generationId < 0) return
    for (const tp of added) this.#owned.add(tp)
    this.#sink.assign(added, why)
    this.#log(
      'info',
      `joined generation ${this.#generationId} as ${this.isLeader ? 'leader' : 'follower'} (${this.#protocolName}, ${this.protocol}); ` +
        `owns ${describeTps(this.#owned.list())}; added ${describeTps(added)}; revoked ${describeTps(revoked)}`,
    )
    await this.#withHold(why, () => this.#callListener('onAssigned', added))
    this.#sink.ready(added.filter((tp) => this.#owned.has(tp)))
    if (revoked.length > 0 && this.protocol === 'COOPERATIVE') {
      this.requestRejoin(`follow-up rebalance after revoking ${revoked.length} partition(s) (KIP-429)`)
    }
  }

  async #resolveSubscription(): Promise<string[]> {
    if (this.#pattern !== null) this.#topics = (await this.#metadata.matchingTopics(this.#pattern)).sort()
    return this.#topics
  }

  // ---- revoke / lose / fail -----------------------------------------------------------------

  /** Clean revocation: auto-commit, onRevoked while still owned, then hand them back. */
  async #revoke(tps: TopicPartition[], why: string): Promise<void> {
    const still = tps.filter((tp) => this.#owned.has(tp))
    if (still.length === 0) return
    if (this.config.autoCommit && this.#generationId >= 0) await this.#commitQuietly(still, 'before revocation')
    await this.#callListener('onRevoked', still)
    for (const tp of still) {
      this.#owned.delete(tp)
      this.#lostPending.delete(tp)
      this.#lastCommitted.delete(keyOf(tp))
    }
    this.#sink.revoke(still, why)
    this.#log('info', `revoked ${describeTps(still)}`, { why })
  }

  /** The generation is gone: what was owned is lost (fetching stops now, onLost runs before the rejoin). */
  #lose(why: string, resetMemberId: boolean): void {
    if (this.#closing) return
    this.#generationId = -1
    if (resetMemberId) this.#memberId = ''
    this.#state = 'idle'
    this.#timer.cancel('heartbeat')
    const tps = this.#owned.list()
    this.#owned.clear()
    for (const tp of tps) {
      this.#lostPending.add(tp)
      this.#lastCommitted.delete(keyOf(tp))
    }
    if (tps.length > 0) {
      this.#sink.lose(tps, why)
      this.#log('warn', `partitions lost: ${describeTps(tps)}`, { why })
      // Told now (once the application is between deliveries), not when a rejoin gets that far: the
      // join loop may be stuck finding the coordinator for a long time.
      void this.#withHold(why, () => this.#callLostPending()).catch(() => {})
    }
    this.requestRejoin(why)
  }

  #fail(err: Error): void {
    if (this.#fatal || this.#closing) return
    this.#fatal = err
    this.#state = 'fatal'
    this.#rejoinWhy = null
    for (const k of ['heartbeat', 'poll-timeout', 'auto-commit', 'metadata']) this.#timer.cancel(k)
    for (const wake of this.#sleepers) wake(err)
    this.#sleepers.clear()
    const tps = this.#owned.list()
    this.#owned.clear()
    for (const tp of tps) this.#lostPending.add(tp)
    if (tps.length > 0) this.#sink.lose(tps, err.message)
    this.#log('error', `stopping: ${err.message}`)
    this.#sink.error(err, true)
    void this.#withHold('fatal', () => this.#callLostPending()).catch(() => {})
  }

  async #callLostPending(): Promise<void> {
    if (this.#lostPending.size === 0) return
    const tps = this.#lostPending.list()
    this.#lostPending.clear()
    await this.#callListener('onLost', tps)
  }

  async #callListener(name: 'onAssigned' | 'onRevoked' | 'onLost', tps: TopicPartition[]): Promise<void> {
    const l = this.#listener
    const fn = name === 'onLost' ? (l.onLost ?? l.onRevoked) : l[name]
    if (!fn) return
    try {
      await fn.call(l, tps)
    } catch (err) {
      this.#log('error', `rebalance listener ${name}(${describeTps(tps)}) threw: ${describe(err)}`)
      this.#sink.error(new RebalanceListenerError(name, err), false)
    }
  }

  /** Runs `fn` with deliveries held and no other listener work running. */
  #withHold<T>(why: string, fn: () => Promise<T>): Promise<T> {
    const run = this.#callbacks.then(async () => {
      const release = await this.#sink.hold(why)
      try {
        return await fn()
      } finally {
        release()
      }
    })
    this.#callbacks = run.then(
      () => {},
      () => {},
    )
    return run
  }

  // ---- heartbeats ---------------------------------------------------------------------------

  #scheduleHeartbeat(delayMs: number): void {
    if (this.#closing && this.#state === 'closed') return
    this.#timer.schedule('heartbeat', Math.max(0, delayMs), () => this.#heartbeatTick())
  }

  /**
   * Runs while the member has a generation. Heartbeats are sent only when stable; the session check
   * runs in every state except while a JoinGroup/SyncGroup is parked at the coordinator (which keeps
   * such members alive), so a member that cannot reach the coordinator to rejoin still finds out
   * that its partitions are gone.
   */
  #heartbeatTick(): void {
    if (this.#fatal || this.#state === 'closed' || this.#generationId < 0 || this.#memberId === '') return
    const c = this.config
    if (this.#inJoin) {
      this.#scheduleHeartbeat(c.heartbeatIntervalMs)
      return
    }
    const now = this.#clock.now()
    const sinceOk = now - this.#lastHeartbeatOkMs
    if (sinceOk >= c.sessionTimeoutMs) {
      this.#sessionExpired(sinceOk)
      return
    }
    const untilExpiry = c.sessionTimeoutMs - sinceOk
    this.#scheduleHeartbeat(Math.min(c.heartbeatIntervalMs, untilExpiry))
    if (this.#state !== 'stable' || this.#heartbeatInFlight) return
    this.#heartbeatInFlight = true
    const identity = this.#identity()
    this.#t.heartbeat(identity).then(
      (code) => {
        this.#heartbeatInFlight = false
        this.#onHeartbeat(code, identity)
      },
      (err: unknown) => {
        this.#heartbeatInFlight = false
        if (this.#closing || identity.generationId !== this.#generationId) return
        this.#log('debug', `heartbeat failed: ${describe(err)}; finding the coordinator again`)
        if (isTransportFailure(err)) this.#t.coordinatorDead(`heartbeat: ${describe(err)}`)
        this.#scheduleHeartbeat(Math.min(this.config.retryBackoffMs, untilExpiry))
      },
    )
  }

  #onHeartbeat(code: number, sent: MemberIdentity): void {
    // An answer about a generation we already left says nothing about the current one.
    if (this.#fatal || this.#state === 'closed' || sent.generationId !== this.#generationId || sent.memberId !== this.#memberId) return
    const name = errorInfo(code).name
    switch (code) {
      case ErrorCode.NONE:
        this.#lastHeartbeatOkMs = this.#clock.now()
        return
      case ErrorCode.REBALANCE_IN_PROGRESS:
        // The coordinator reset our session timer; the member is still in the (old) generation.
        this.#lastHeartbeatOkMs = this.#clock.now()
        this.requestRejoin('the group is rebalancing (heartbeat answered REBALANCE_IN_PROGRESS)')
        return
      case ErrorCode.UNKNOWN_MEMBER_ID:
        this.#lose('heartbeat answered UNKNOWN_MEMBER_ID: the coordinator no longer knows this member', true)
        return
      case ErrorCode.ILLEGAL_GENERATION:
        this.#lose('heartbeat answered ILLEGAL_GENERATION: the group moved on to a newer generation', false)
        return
      case ErrorCode.FENCED_INSTANCE_ID:
        this.#fail(new FencedInstanceError(this.config.groupInstanceId ?? '', 'Heartbeat'))
        return
      case ErrorCode.COORDINATOR_NOT_AVAILABLE:
      case ErrorCode.NOT_COORDINATOR:
        this.#t.coordinatorDead(`heartbeat: ${name}`)
        this.#scheduleHeartbeat(this.config.retryBackoffMs)
        return
      default:
        if (errorInfo(code).retriable) {
          this.#scheduleHeartbeat(this.config.retryBackoffMs)
          return
        }
        this.#fail(new GroupJoinError(code, `Heartbeat for group ${this.config.groupId} failed: ${name}: ${errorInfo(code).message}`))
    }
  }

  #sessionExpired(sinceOk: number): void {
    this.#log(
      'warn',
      `no successful heartbeat for ${sinceOk} ms (sessionTimeoutMs=${this.config.sessionTimeoutMs}); the coordinator will have removed this member`,
    )
    this.#t.coordinatorDead('session timed out')
    this.#lose('session timed out without a successful heartbeat (coordinator unreachable)', true)
  }

  // ---- auto-commit and metadata -------------------------------------------------------------

  #scheduleAutoCommit(): void {
    if (!this.config.autoCommit || this.#closing || this.#fatal) return
    this.#timer.schedule('auto-commit', this.config.autoCommitIntervalMs, () => {
      this.#scheduleAutoCommit()
      if (this.#autoCommitting || this.#generationId < 0 || this.#owned.size === 0) return
      this.#autoCommitting = true
      this.#commitQuietly(this.#owned.list(), 'auto-commit').finally(() => {
        this.#autoCommitting = false
      })
    })
  }

  /** Commits the consumed positions of `tps` that moved since their last commit; failures are logged. */
  async #commitQuietly(tps: TopicPartition[], what: string): Promise<void> {
    const offsets = this.#sink.positions(tps).filter((o) => this.#lastCommitted.get(keyOf(o)) !== o.offset)
    if (offsets.length === 0) return
    try {
      await this.commit(offsets)
      this.#log('debug', `${what}: committed ${offsets.map((o) => `${o.topic}-${o.partition}@${o.offset}`).join(', ')}`)
    } catch (err) {
      this.#log(err instanceof CommitFailedError && err.retriable ? 'debug' : 'warn', `${what} failed: ${describe(err)}`)
    }
  }

  #scheduleMetadataCheck(): void {
    if (this.#closing || this.#fatal) return
    this.#timer.schedule('metadata', this.config.metadataRefreshMs, () => {
      this.#scheduleMetadataCheck()
      void this.#checkMetadata()
    })
  }

  /**
   * A pattern subscription whose matches changed, or a partition count that changed for a watched
   * topic (the member's own, plus every member's for the leader), triggers a rejoin, as in Java.
   */
  async #checkMetadata(): Promise<void> {
    if (this.#state !== 'stable' || this.#rejoinWhy !== null || !this.#subscribed) return
    try {
      if (this.#pattern !== null) {
        const now = (await this.#metadata.matchingTopics(this.#pattern)).sort()
        const added = now.filter((t) => !this.#topics.includes(t))
        const removed = this.#topics.filter((t) => !now.includes(t))
        if (added.length > 0 || removed.length > 0) {
          this.#topics = now
          const parts = [...added.map((t) => `+${t}`), ...removed.map((t) => `-${t}`)]
          this.requestRejoin(`topics matching ${this.#pattern} changed: ${parts.join(' ')}`)
          return
        }
      }
      const watched = [...new Set([...this.#topics, ...(this.isLeader ? this.#groupTopics : [])])]
      const counts = await this.#metadata.partitionCounts(watched)
      for (const t of watched) {
        const before = this.#snapshot.get(t)
        const after = counts.get(t)
        if (before !== after && this.#state === 'stable' && this.#rejoinWhy === null) {
          this.requestRejoin(`partition count of topic ${t} changed: ${before ?? 'none'} → ${after ?? 'none'}`)
          return
        }
      }
    } catch (err) {
      this.#log('debug', `metadata check failed: ${describe(err)}`)
    }
  }

  // ---- helpers ------------------------------------------------------------------------------

  #identity(): MemberIdentity {
    return {
      groupId: this.config.groupId,
      generationId: this.#generationId,
      memberId: this.#memberId,
      groupInstanceId: this.config.groupInstanceId,
    }
  }

  #retryPolicy(): RetryPolicy {
    return {
      clock: this.#clock,
      sleep: (ms) => this.#sleep(ms),
      retryBackoffMs: this.config.retryBackoffMs,
      retryBackoffMaxMs: this.config.retryBackoffMaxMs,
      timeoutMs: this.config.apiTimeoutMs,
    }
  }

  /**
   * Resolves when this member's rebalance is over (it left 'joining'), or throws a retriable
   * CommitFailedError after the API timeout, or when the member stops.
   */
  async #joinSettled(offsets: readonly OffsetToCommit[] | undefined): Promise<void> {
    const key = `join-settled-${++this.#sleepSeq}`
    let wake: () => void = () => {}
    const settled = await new Promise<boolean>((resolve) => {
      wake = () => resolve(true)
      this.#joinWaiters.add(wake)
      this.#timer.schedule(key, this.config.apiTimeoutMs, () => resolve(false))
    }).finally(() => {
      this.#joinWaiters.delete(wake)
      this.#timer.cancel(key)
    })
    if (settled) return
    const tps = (offsets ?? []).map((o) => ({ topic: o.topic, partition: o.partition }))
    throw new CommitFailedError(
      ErrorCode.REBALANCE_IN_PROGRESS,
      `commit failed: group ${this.config.groupId} was still rebalancing after ${this.config.apiTimeoutMs} ms; commit again once it completes`,
      tps,
      true,
    )
  }

  /** Waits for `p` (its failure ignored) at most `ms` on the member's timer. */
  async #within(p: Promise<unknown>, ms: number): Promise<void> {
    const key = `within-${++this.#sleepSeq}`
    await Promise.race([p.then(noop, noop), new Promise<void>((resolve) => this.#timer.schedule(key, ms, resolve))])
    this.#timer.cancel(key)
  }

  #sleep(ms: number): Promise<void> {
    if (this.#state === 'closed') return Promise.reject(new ClosedError('consumer'))
    if (this.#fatal) return Promise.reject(this.#fatal)
    return new Promise((resolve, reject) => {
      const key = `sleep-${++this.#sleepSeq}`
      const abort = (err: Error): void => {
        this.#timer.cancel(key)
        reject(err)
      }
      this.#sleepers.add(abort)
      this.#timer.schedule(key, ms, () => {
        this.#sleepers.delete(abort)
        resolve()
      })
    })
  }

  #throwIfUnusable(): void {
    if (this.#fatal) throw this.#fatal
    if (this.#state === 'closed') throw new ClosedError('consumer')
  }

  #log(level: 'debug' | 'info' | 'warn' | 'error', message: string, extra: Record<string, string> = {}): void {
    this.#logger(level, extra.why !== undefined ? `${message}: why=${extra.why}` : message, {
      group: this.config.groupId,
      member: this.#memberId === '' ? null : this.#memberId,
      instance: this.config.groupInstanceId,
      generation: this.#generationId,
      ...extra,
    })
  }
}

/**
 * COOPERATIVE safety net on the leader: a partition still owned by one member is never handed
 * straight to another in the same rebalance; the owner revokes it first and the follow-up
 * rebalance hands it over (KIP-429). Cooperative-sticky already does this; a custom assignor
 * that claims COOPERATIVE may not.
 */
function withholdTransfers(
  members: readonly MemberSubscription[],
  assignments: Map<string, { partitions: TopicPartition[]; userData: Buffer | null }>,
): void {
  const owner = new Map<string, string>()
  for (const m of members) for (const tp of m.ownedPartitions) owner.set(keyOf(tp), m.memberId)
  for (const [memberId, a] of assignments) {
    a.partitions = a.partitions.filter((tp) => {
      const o = owner.get(keyOf(tp))
      return o === undefined || o === memberId
    })
  }
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}

function noop(): void {}
