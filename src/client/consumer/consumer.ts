/**
 * The group consumer: `subscribe` (classic group protocol, eager or cooperative) or `assign`
 * (manual, no group), then messages through `for await`, `batches()` or `run()`.
 *
 * Layers:
 *   Fetcher     (fetcher.ts)      positions, fetches per leader, buffering; never knows about groups
 *   GroupMember (group/member.ts) join/sync/heartbeat/commit state machine; never fetches
 *   Consumer    (this file)       the AssignmentSink between them, delivery and its gating
 *
 * Delivery gating is what makes rebalances safe with an async application. A delivery (a message
 * or a batch) is "in flight" until the application asks for the next one (or a `run` handler
 * returns). Rebalance callbacks wait until nothing is in flight and hold further deliveries while
 * they run, so `onRevoked` sees exactly the processed positions, as Java's poll() guarantees by
 * running callbacks on the polling thread. The max.poll.interval.ms watchdog runs whenever the
 * application is not waiting for a delivery: heartbeats run on their own timer, so slow processing
 * alone never looks like a dead member, but processing that never comes back (or a loop that
 * stopped without close()) does.
 */
import { AsyncLocalStorage } from 'node:async_hooks'
import { type Clock, systemClock } from '../../util/clock.ts'
import { assignorByName, DEFAULT_ASSIGNORS } from '../assignors/index.ts'
import type { Assignor, TopicPartition } from '../assignors/types.ts'
import { backoffMs, Cluster, type ClusterOptions } from '../cluster/cluster.ts'
import { ClosedError, ConfigError, isRetriable, TimeoutError } from '../errors.ts'
import { CLIENT_SIDE, CommitFailedError, NoOffsetForPartitionError } from '../group/errors.ts'
import { stderrLogger } from '../group/logger.ts'
import { GroupMember, type MemberState } from '../group/member.ts'
import { ClusterMetadataSource } from '../group/metadata.ts'
import { commitOffsets, fetchCommittedOffsets, type RetryPolicy } from '../group/offsets.ts'
import { describeTps, keyOf, TpSet } from '../group/partitions.ts'
import { SystemTimer, type Timer } from '../group/timer.ts'
import { WireGroupTransport } from '../group/transport.ts'
import type {
  AssignmentSink,
  CommittedOffset,
  GroupTransport,
  Logger,
  MetadataSource,
  OffsetToCommit,
  RebalanceListener,
} from '../group/types.ts'
import { type ConsumerRecord, Fetcher, type FetchOptions, resolveFetchOptions } from './fetcher.ts'

export {
  CommitFailedError,
  FencedInstanceError,
  GroupJoinError,
  NoOffsetForPartitionError,
  RebalanceListenerError,
} from '../group/errors.ts'
export { silentLogger, stderrLogger } from '../group/logger.ts'
export type { MemberState } from '../group/member.ts'
export { ManualTimer, SystemTimer, type Timer } from '../group/timer.ts'
export type { Logger, LogLevel, OffsetToCommit, RebalanceListener, TopicPartition } from '../group/types.ts'
export type { ConsumerRecord, IsolationLevel, OffsetResetStrategy } from './fetcher.ts'

/** Options with Kafka's names in camelCase and Kafka's (Java 3.x) defaults. */
export interface ConsumerOptions extends Partial<ClusterOptions>, FetchOptions {
  /** Share an existing cluster instead of opening one; it is not closed with the consumer. */
  cluster?: Cluster
  /** `group.id`: needed for `subscribe` and for committing. */
  groupId?: string
  /** `group.instance.id`: static membership (KIP-345). */
  groupInstanceId?: string | null
  /** `client.rack`, sent in the subscription (KIP-881). */
  clientRack?: string | null
  /** `session.timeout.ms` (45000). */
  sessionTimeoutMs?: number
  /** `heartbeat.interval.ms` (3000). */
  heartbeatIntervalMs?: number
  /** `max.poll.interval.ms` (300000): how long processing of one delivery may take before the member leaves. */
  maxPollIntervalMs?: number
  /** The rebalance timeout sent in JoinGroup (default `maxPollIntervalMs`, as Java does). */
  rebalanceTimeoutMs?: number
  /** `partition.assignment.strategy`: assignors or their names, in preference order (default range, cooperative-sticky). */
  partitionAssignmentStrategy?: readonly (Assignor | string)[]
  /** `enable.auto.commit` (true). */
  enableAutoCommit?: boolean
  /** `auto.commit.interval.ms` (5000). */
  autoCommitIntervalMs?: number
  /** `max.poll.records` (500): the most records one delivery (a batch) carries. */
  maxPollRecords?: number
  /** The listener for `subscribe` when none is passed there. */
  rebalanceListener?: RebalanceListener
  /** Where log lines go (default: one line each on stderr, info and above). */
  logger?: Logger
  /**
   * Time of the group logic; tests pass a ManualClock.
   * @internal
   */
  clock?: Clock
  /**
   * Timers of the group logic; tests pass a ManualTimer.
   * @internal
   */
  timer?: Timer
  /**
   * Replaces the group RPCs (tests; default: the coordinator over the wire).
   * @internal
   */
  groupTransport?: GroupTransport
  /**
   * Replaces metadata lookups for subscriptions (tests; default: the cluster's).
   * @internal
   */
  metadataSource?: MetadataSource
}

/** A record as the application gets it, with how far its partition was behind when it was fetched. */
export interface Message extends ConsumerRecord {
  /** highWatermark − (offset + 1): records after this one in the partition when it was fetched. */
  lag: bigint
}

/** Consecutive records of one partition, at most `maxPollRecords`. */
export interface MessageBatch {
  topic: string
  partition: number
  messages: Message[]
  firstOffset: bigint
  lastOffset: bigint
  /** The partition's high watermark when the batch was fetched. */
  highWatermark: bigint
  /** highWatermark − (lastOffset + 1). */
  lag: bigint
}

export interface RunHandlers {
  /** Called for each message in turn; the next one waits until it resolves. */
  eachMessage?: (message: Message) => void | Promise<void>
  /** Called for each batch in turn; the next one waits until it resolves. */
  eachBatch?: (batch: MessageBatch) => void | Promise<void>
}

export interface CloseOptions {
  /** Send LeaveGroup even for a static member (default: only dynamic members leave, as in Java). */
  leaveGroup?: boolean
  /** How long to wait for in-flight processing to finish (default 30000, Java's close timeout). */
  timeoutMs?: number
}

/** A manually assigned partition, optionally with where to start. */
export interface ManualAssignment extends TopicPartition {
  offset?: bigint | 'earliest' | 'latest'
}

export interface CommittedPosition extends TopicPartition {
  /** −1 when nothing is committed. */
  offset: bigint
  metadata: string | null
}

interface Resolved {
  groupId: string | null
  groupInstanceId: string | null
  clientRack: string | null
  sessionTimeoutMs: number
  heartbeatIntervalMs: number
  maxPollIntervalMs: number
  rebalanceTimeoutMs: number
  assignors: Assignor[]
  enableAutoCommit: boolean
  autoCommitIntervalMs: number
  maxPollRecords: number
}

const DONE: IteratorReturnResult<undefined> = { done: true, value: undefined }

/** One message or batch handed to the application; released once when the application is done with it. */
interface Delivery {
  consumer: Consumer
  released: boolean
  tp: TopicPartition
  key: string
  /** The partition's unfinished-work entry this delivery counts in (null once the partition was seeked or dropped). */
  pending: Unprocessed
}

/**
 * A partition with deliveries handed out but not finished: `from` is the first offset not known to be
 * processed. Commits of "the current positions" (commit(), auto-commit, the commit before a
 * revocation) use it instead of the fetch position, which is already past the records handed out.
 */
interface Unprocessed {
  from: bigint
  inFlight: number
}

/** Set while a `run()` handler runs, so a `close()` it calls does not wait for the handler itself. */
const handlerContext = new AsyncLocalStorage<Delivery>()

export class Consumer implements AsyncIterable<Message> {
  readonly cluster: Cluster
  readonly groupId: string | null
  readonly #owns: boolean
  readonly #o: Resolved
  readonly #fetcher: Fetcher
  readonly #clock: Clock
  readonly #timer: Timer
  readonly #ownTimer: SystemTimer | null
  readonly #logger: Logger
  readonly #metadata: MetadataSource
  #transport: GroupTransport | null
  #member: GroupMember | null = null
  #listener: RebalanceListener
  #mode: 'none' | 'subscribed' | 'manual' = 'none'
  readonly #manual = new TpSet()
  /** Partitions waiting for their committed offset, with the token of the assignment that asked. */
  readonly #awaiting = new Map<string, number>()
  #assignToken = 0
  #holds = 0
  #inFlight = 0
  /** Calls waiting in #take (the application is "in poll"). */
  #pollers = 0
  #idleWaiters: Array<() => void> = []
  #abandonInFlight = false
  #fatal: Error | null = null
  #errors: Error[] = []
  #closing = false
  #closed: Promise<void> | null = null
  #running = false
  #commitChain: Promise<void> = Promise.resolve()
  readonly #unprocessed = new Map<string, Unprocessed>()
  #sleepSeq = 0

  constructor(options: ConsumerOptions) {
    const fetchOptions = resolveFetchOptions(options)
    this.#o = resolveOptions(options)
    this.groupId = this.#o.groupId
    if (options.cluster) {
      this.cluster = options.cluster
      this.#owns = false
    } else {
      if (options.bootstrapServers === undefined) throw new ConfigError('bootstrapServers (or cluster) is required')
      this.cluster = new Cluster(options as ClusterOptions)
      this.#owns = true
    }
    this.#fetcher = new Fetcher(this.cluster, fetchOptions)
    this.#clock = options.clock ?? systemClock
    this.#ownTimer = options.timer ? null : new SystemTimer()
    this.#timer = options.timer ?? (this.#ownTimer as SystemTimer)
    this.#logger = options.logger ?? stderrLogger()
    this.#metadata = options.metadataSource ?? new ClusterMetadataSource(this.cluster)
    this.#transport = options.groupTransport ?? (this.#o.groupId !== null ? new WireGroupTransport(this.cluster, this.#o.groupId) : null)
    this.#listener = options.rebalanceListener ?? {}
  }

  // ---- group membership ---------------------------------------------------------------------

  /**
   * Joins the group (`groupId`) for these topics, or for every topic matching a pattern (checked
   * again on each metadata refresh, `metadataMaxAgeMs`). Calling it again changes the subscription;
   * an empty list unsubscribes.
   */
  subscribe(topics: readonly string[] | RegExp, listener?: RebalanceListener): void {
    this.#throwIfClosed()
    if (this.#o.groupId === null || this.#transport === null) throw new ConfigError('subscribe() needs a groupId')
    if (this.#mode === 'manual') throw new ConfigError('subscribe() after assign(): call assign([]) first')
    if (!(topics instanceof RegExp)) {
      for (const t of topics) if (typeof t !== 'string' || t === '') throw new ConfigError(`bad topic name ${JSON.stringify(t)}`)
      if (topics.length === 0) {
        this.unsubscribe().catch((err: unknown) => this.#logger('warn', `unsubscribe failed: ${String(err)}`, { group: this.#o.groupId }))
        return
      }
    }
    if (listener) this.#listener = listener
    this.#mode = 'subscribed'
    if (!this.#member) this.#member = this.#newMember(this.#o.groupId, this.#transport)
    this.#member.subscribe(topics)
    // Not iterating yet counts as not polling, as in Java (whose first poll() would only now join).
    if (this.#pollers === 0) this.#member.pollEnded()
  }

  /** Revokes everything (onRevoked, auto-commit), leaves the group and stops consuming. */
  async unsubscribe(): Promise<void> {
    this.#throwIfClosed()
    if (this.#mode !== 'subscribed' || !this.#member) return
    this.#mode = 'none'
    await this.#member.unsubscribe()
  }

  /**
   * Manual assignment without a group (Java's `assign`): replaces the assigned partitions. Without
   * an explicit offset a partition starts at its committed offset when `groupId` is set, else at
   * `autoOffsetReset`. Commits then go out with generation −1 (a standalone commit).
   */
  assign(partitions: readonly ManualAssignment[]): void {
    this.#throwIfClosed()
    if (this.#mode === 'subscribed') throw new ConfigError('assign() while subscribed: call unsubscribe() first')
    const next = new TpSet(partitions)
    const removed = this.#manual.list().filter((tp) => !next.has(tp))
    this.#fetcher.remove(removed)
    for (const tp of removed) this.#awaiting.delete(keyOf(tp))
    const lookup: TopicPartition[] = []
    for (const a of partitions) {
      if (this.#manual.has(a) && a.offset === undefined) continue
      if (this.#fetcher.has(a.topic, a.partition)) {
        if (a.offset !== undefined) this.seek(a, a.offset)
        continue
      }
      if (a.offset !== undefined) this.#fetcher.add([a], a.offset)
      else if (this.#transport !== null) {
        this.#fetcher.add([a], 'hold')
        this.#awaiting.set(keyOf(a), ++this.#assignToken)
        lookup.push({ topic: a.topic, partition: a.partition })
      } else this.#fetcher.add([a])
    }
    this.#manual.clear()
    for (const tp of next) this.#manual.add(tp)
    this.#mode = next.size > 0 ? 'manual' : 'none'
    if (lookup.length > 0) void this.#resolvePositions(lookup)
    if (this.#mode === 'manual') this.#scheduleManualAutoCommit()
    this.#fetcher.wake()
  }

  /** The partitions this consumer owns now (group) or was assigned (manual). */
  assignment(): TopicPartition[] {
    if (this.#mode === 'subscribed') return this.#member?.assignment() ?? []
    return this.#manual.list()
  }

  /** Group, member id, generation and instance id, for logs and transactional producers. */
  groupMetadata(): { groupId: string | null; memberId: string; generationId: number; groupInstanceId: string | null; state: MemberState } {
    const m = this.#member
    return {
      groupId: this.#o.groupId,
      memberId: m?.memberId ?? '',
      generationId: m?.generationId ?? -1,
      groupInstanceId: this.#o.groupInstanceId,
      state: m?.state ?? 'idle',
    }
  }

  // ---- positions ----------------------------------------------------------------------------

  /** Moves a partition's position; buffered records are dropped. Works inside `onAssigned`. */
  seek(tp: TopicPartition, offset: bigint | 'earliest' | 'latest'): void {
    this.#throwIfClosed()
    this.#fetcher.seek(tp.topic, tp.partition, offset)
    this.#awaiting.delete(keyOf(tp))
    this.#unprocessed.delete(keyOf(tp))
    this.#fetcher.wake()
  }

  /** The next offset to be delivered (null while it is being looked up, undefined when not assigned). */
  position(tp: TopicPartition): bigint | null | undefined {
    return this.#fetcher.position(tp.topic, tp.partition)
  }

  pause(partitions: readonly TopicPartition[]): void {
    for (const tp of partitions) this.#fetcher.pause(tp.topic, tp.partition)
  }

  resume(partitions: readonly TopicPartition[]): void {
    for (const tp of partitions) this.#fetcher.resume(tp.topic, tp.partition)
  }

  paused(): TopicPartition[] {
    return this.assignment().filter((tp) => this.#fetcher.isPaused(tp.topic, tp.partition))
  }

  /** Committed offsets of `partitions` (offset −1 where nothing is committed). */
  async committed(partitions: readonly TopicPartition[]): Promise<CommittedPosition[]> {
    this.#throwIfClosed()
    const map = await this.#fetchCommitted(partitions)
    return partitions.map((tp) => {
      const c = map.get(keyOf(tp))
      return { topic: tp.topic, partition: tp.partition, offset: c?.offset ?? -1n, metadata: c?.metadata ?? null }
    })
  }

  // ---- commits ------------------------------------------------------------------------------

  /**
   * Commits synchronously (awaits the coordinator): `offsets` as given (each the next offset to
   * read), or the position of every owned partition: past every record handed out so far, the
   * message or batch in hand included (call it after processing). Auto-commit, by contrast, never
   * covers a delivery still being processed. In a group it is refused with a
   * CommitFailedError, before anything is sent, for partitions this member does not own in its
   * current generation; inside `onRevoked` the revoked partitions are still owned.
   */
  async commit(offsets?: readonly OffsetToCommit[]): Promise<void> {
    this.#throwIfClosed(true)
    if (this.#fatal) throw this.#fatal
    if (offsets) this.#markProcessed(offsets)
    // Taken now: a record handed out while this commit waits in the chain is not covered by it.
    const list = offsets ?? this.#handedOutPositions()
    // Behind every commitAsync issued before it, as Java's commitSync waits for pending async
    // commits: sent ahead of them, this commit would be overwritten by their older offsets.
    const run = this.#commitChain.then(() => this.#commitNow(list))
    this.#commitChain = run.then(
      () => {},
      () => {},
    )
    return run
  }

  async #commitNow(list: readonly OffsetToCommit[]): Promise<void> {
    if (this.#fatal) throw this.#fatal
    if (this.#mode === 'subscribed' && this.#member) return this.#member.commit(list)
    if (list.length === 0) return
    if (this.#o.groupId === null || this.#transport === null) throw new ConfigError('commit() needs a groupId')
    const notAssigned = list.filter((o) => !this.#manual.has(o))
    if (notAssigned.length > 0) {
      throw new CommitFailedError(CLIENT_SIDE, `commit refused: ${describeTps(notAssigned)} not assigned to this consumer`, notAssigned)
    }
    const identity = { groupId: this.#o.groupId, generationId: -1, memberId: '', groupInstanceId: null }
    const out = await commitOffsets(this.#transport, identity, list, this.#retryPolicy())
    if (out.kind === 'ok') return
    if (out.kind === 'failed') throw out.error
    const code = out.kind === 'generation' ? out.code : out.kind === 'rebalance' ? 27 : 82
    throw new CommitFailedError(code, `standalone commit refused by the coordinator (group ${this.#o.groupId} has active members?)`, [
      ...list,
    ])
  }

  /**
   * Commits without waiting. Positions are taken now; commits complete in call order. Failures go
   * to `callback`, or to the logger without one.
   */
  commitAsync(offsets?: readonly OffsetToCommit[], callback?: (err: Error | null) => void): void {
    const list = offsets ?? this.#handedOutPositions()
    if (offsets) this.#markProcessed(offsets)
    const report = (err: Error | null): void => {
      try {
        if (callback) callback(err)
        else if (err) this.#logger('warn', `commitAsync failed: ${err.message}`, { group: this.#o.groupId })
      } catch (thrown) {
        this.#logger('error', `commitAsync callback threw: ${String(thrown)}`, { group: this.#o.groupId })
      }
    }
    try {
      this.#throwIfClosed(true)
    } catch (err) {
      report(err as Error)
      return
    }
    this.#commitChain = this.#commitChain
      .then(() => this.#commitNow(list))
      .then(
        () => report(null),
        (err: unknown) => report(err instanceof Error ? err : new Error(String(err))),
      )
  }

  /** Commits a processed message: its offset + 1, the next one to read. */
  commitMessage(message: Pick<ConsumerRecord, 'topic' | 'partition' | 'offset' | 'leaderEpoch'>): Promise<void> {
    return this.commit([
      { topic: message.topic, partition: message.partition, offset: message.offset + 1n, leaderEpoch: message.leaderEpoch },
    ])
  }

  // ---- consumption --------------------------------------------------------------------------

  [Symbol.asyncIterator](): AsyncIterator<Message> {
    return this.messages()
  }

  /**
   * Messages one at a time. The previous message counts as processed (and its offset as consumed)
   * when `next()` is called again; rebalance callbacks never run in between. Leaving the loop
   * (`break`, a throw) leaves the message in hand unprocessed: the partition is rewound to it, so
   * it is delivered again and neither auto-commit nor the commit before a revocation covers it —
   * commit it with `commitMessage` before a `break` if it was processed. Ends on `close()`; a
   * fatal error (FencedInstanceError) or a listener's error rejects `next()`.
   */
  messages(): AsyncIterableIterator<Message> {
    let holding: Delivery | null = null
    const release = (done: boolean): void => {
      if (holding) this.#release(holding, done)
      holding = null
    }
    return {
      next: async (): Promise<IteratorResult<Message>> => {
        release(true)
        const taken = await this.#take(() => this.#fetcher.takeRecord(), recordStart)
        if (taken === undefined) return DONE
        holding = taken.delivery
        return { done: false, value: toMessage(taken.value) }
      },
      // Leaving the loop (break, throw) leaves the message unprocessed: it is delivered again and
      // not committed as consumed, unless it was committed explicitly (commitMessage) first.
      return: async (): Promise<IteratorResult<Message>> => {
        release(false)
        return DONE
      },
      [Symbol.asyncIterator]() {
        return this
      },
    }
  }

  /**
   * Batches of up to `maxPollRecords` messages of one partition; a batch counts as processed when
   * `next()` is called again, and as unprocessed (delivered again) when the loop is left.
   */
  batches(): AsyncIterableIterator<MessageBatch> {
    let holding: Delivery | null = null
    const release = (done: boolean): void => {
      if (holding) this.#release(holding, done)
      holding = null
    }
    return {
      next: async (): Promise<IteratorResult<MessageBatch>> => {
        release(true)
        const taken = await this.#take(() => this.#fetcher.takeRecords(this.#o.maxPollRecords), batchStart)
        if (taken === undefined) return DONE
        holding = taken.delivery
        const b = taken.value
        return { done: false, value: toBatch(b.topic, b.partition, b.records, b.highWatermark) }
      },
      return: async (): Promise<IteratorResult<MessageBatch>> => {
        release(false)
        return DONE
      },
      [Symbol.asyncIterator]() {
        return this
      },
    }
  }

  /**
   * Calls the handler for each message (or batch) until `close()`; resolves then. A handler that
   * throws stops the loop and rejects `run()`; the partition is first rewound to the failed message
   * (or the batch's first), so a new `run()` retries it.
   */
  async run(handlers: RunHandlers): Promise<void> {
    this.#throwIfClosed()
    if (!handlers.eachMessage === !handlers.eachBatch) throw new ConfigError('run() needs exactly one of eachMessage or eachBatch')
    if (this.#running) throw new ConfigError('run() is already running')
    this.#running = true
    try {
      for (;;) {
        if (handlers.eachBatch) {
          const taken = await this.#take(() => this.#fetcher.takeRecords(this.#o.maxPollRecords), batchStart)
          if (taken === undefined) return
          const t = taken.value
          const batch = toBatch(t.topic, t.partition, t.records, t.highWatermark)
          let done = false
          try {
            await handlerContext.run(taken.delivery, () => (handlers.eachBatch as (b: MessageBatch) => void | Promise<void>)(batch))
            done = true
          } finally {
            this.#release(taken.delivery, done)
          }
        } else {
          const taken = await this.#take(() => this.#fetcher.takeRecord(), recordStart)
          if (taken === undefined) return
          const message = toMessage(taken.value)
          let done = false
          try {
            await handlerContext.run(taken.delivery, () => (handlers.eachMessage as (m: Message) => void | Promise<void>)(message))
            done = true
          } finally {
            this.#release(taken.delivery, done)
          }
        }
      }
    } finally {
      this.#running = false
    }
  }

  // ---- closing ------------------------------------------------------------------------------

  /**
   * Stops delivering, waits for in-flight processing (up to `timeoutMs`), then in a group:
   * auto-commits (when enabled), runs `onRevoked` and sends LeaveGroup unless the member is static
   * (pass `leaveGroup: true` to leave anyway). Idempotent.
   */
  close(options: CloseOptions = {}): Promise<void> {
    if (this.#closed) return this.#closed
    this.#closed = this.#close(options)
    return this.#closed
  }

  async #close(options: CloseOptions): Promise<void> {
    this.#closing = true
    this.#fetcher.wake()
    const timeoutMs = options.timeoutMs ?? 30_000
    // Called from inside a run() handler: that handler's delivery ends with it, do not wait for it.
    const inHandler = handlerContext.getStore()
    if (inHandler?.consumer === this) this.#release(inHandler, true)
    if (this.#inFlight > 0) {
      this.#logger(
        'info',
        `close: waiting up to ${timeoutMs} ms for the message or batch being processed ` +
          '(an iterator holds its delivery until next() or return(): break out of a for-await loop before awaiting close())',
        { group: this.#o.groupId },
      )
      let timer: NodeJS.Timeout | undefined
      const idle = new Promise<void>((resolve) => this.#idleWaiters.push(resolve))
      const timedOut = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs)))
      if ((await Promise.race([idle, timedOut])) === 'timeout') {
        this.#logger('warn', `close: processing still in flight after ${timeoutMs} ms; closing anyway`, { group: this.#o.groupId })
        this.#abandonInFlight = true
      }
      clearTimeout(timer)
    }
    try {
      if (this.#member) {
        await this.#member.close({ leaveGroup: options.leaveGroup })
      } else if (this.#mode === 'manual' && this.#o.enableAutoCommit && this.#transport !== null && !this.#fatal) {
        await this.commit().catch((err: unknown) => this.#logger('warn', `final commit failed: ${String(err)}`, { group: this.#o.groupId }))
      }
      await this.#commitChain
    } finally {
      this.#timer.cancel('manual-auto-commit')
      this.#ownTimer?.cancelAll()
      this.#fetcher.close()
      if (!this.#member) await this.#transport?.close().catch(() => {})
      if (this.#owns) await this.cluster.close()
    }
  }

  // ---- internals: the sink the group member drives -------------------------------------------

  #newMember(groupId: string, transport: GroupTransport): GroupMember {
    const o = this.#o
    const c = this.cluster.options
    const sink: AssignmentSink = {
      hold: () => this.#hold(),
      assign: (tps) => {
        this.#fetcher.add(tps, 'hold')
        for (const tp of tps) this.#awaiting.set(keyOf(tp), ++this.#assignToken)
      },
      ready: (tps) => void this.#resolvePositions(tps),
      revoke: (tps) => this.#drop(tps),
      lose: (tps) => this.#drop(tps),
      positions: (tps) => this.#positions(tps, 'processed'),
      error: (err, fatal) => {
        if (fatal) this.#fatal = err
        else this.#errors.push(err)
        this.#fetcher.wake()
      },
    }
    // The listener may be replaced by a later subscribe(); the member always calls the current one.
    const listener: RebalanceListener = {
      onAssigned: (tps) => this.#listener.onAssigned?.(tps),
      onRevoked: (tps) => this.#listener.onRevoked?.(tps),
      onLost: (tps) => {
        const l = this.#listener
        return (l.onLost ?? l.onRevoked)?.call(l, tps)
      },
    }
    return new GroupMember(
      {
        groupId,
        groupInstanceId: o.groupInstanceId,
        rackId: o.clientRack,
        sessionTimeoutMs: o.sessionTimeoutMs,
        heartbeatIntervalMs: o.heartbeatIntervalMs,
        rebalanceTimeoutMs: o.rebalanceTimeoutMs,
        maxPollIntervalMs: o.maxPollIntervalMs,
        assignors: o.assignors,
        autoCommit: o.enableAutoCommit,
        autoCommitIntervalMs: o.autoCommitIntervalMs,
        retryBackoffMs: c.retryBackoffMs,
        retryBackoffMaxMs: c.retryBackoffMaxMs,
        apiTimeoutMs: c.defaultApiTimeoutMs,
        metadataRefreshMs: c.metadataMaxAgeMs,
      },
      { transport, metadata: this.#metadata, sink, listener, clock: this.#clock, timer: this.#timer, logger: this.#logger },
    )
  }

  async #hold(): Promise<() => void> {
    this.#holds++
    while (this.#inFlight > 0 && !this.#abandonInFlight) await new Promise<void>((resolve) => this.#idleWaiters.push(resolve))
    let released = false
    return () => {
      if (released) return
      released = true
      this.#holds--
      if (this.#holds === 0) this.#fetcher.wake()
    }
  }

  #drop(tps: readonly TopicPartition[]): void {
    this.#fetcher.remove(tps)
    for (const tp of tps) {
      this.#awaiting.delete(keyOf(tp))
      this.#unprocessed.delete(keyOf(tp))
    }
  }

  /**
   * What `commit()` and `commitAsync()` without offsets commit: everything handed out so far, the
   * delivery in hand included (Java's commitSync() after processing what poll() returned), which
   * then counts as processed.
   */
  #handedOutPositions(): OffsetToCommit[] {
    const list = this.#positions(this.assignment(), 'handed-out')
    this.#markProcessed(list)
    return list
  }

  /**
   * Commit positions: 'handed-out' is the fetch position (past every record delivered);
   * 'processed' stops at the first record of a delivery still in the application's hands, which
   * is what auto-commit and the commit before a revocation may commit.
   */
  #positions(tps: readonly TopicPartition[], upTo: 'handed-out' | 'processed'): OffsetToCommit[] {
    const out: OffsetToCommit[] = []
    for (const tp of tps) {
      const p =
        (upTo === 'processed' ? this.#unprocessed.get(keyOf(tp))?.from : undefined) ?? this.#fetcher.position(tp.topic, tp.partition)
      if (typeof p === 'bigint' && !this.#awaiting.has(keyOf(tp))) out.push({ topic: tp.topic, partition: tp.partition, offset: p })
    }
    return out
  }

  /** Starts newly assigned partitions at their committed offset, else `autoOffsetReset`, unless seeked meanwhile. */
  async #resolvePositions(tps: readonly TopicPartition[]): Promise<void> {
    const tokens = new Map<string, number>()
    for (const tp of tps) {
      const t = this.#awaiting.get(keyOf(tp))
      if (t !== undefined) tokens.set(keyOf(tp), t)
    }
    const stillWaiting = (): TopicPartition[] =>
      tps.filter((tp) => this.#awaiting.get(keyOf(tp)) === tokens.get(keyOf(tp)) && tokens.has(keyOf(tp)))
    for (let attempt = 1; !this.#closing; attempt++) {
      const want = stillWaiting()
      if (want.length === 0) return
      try {
        const committed = await this.#fetchCommitted(want)
        for (const tp of stillWaiting()) {
          this.#awaiting.delete(keyOf(tp))
          const c = committed.get(keyOf(tp))
          const reset = this.#fetcher.options.autoOffsetReset
          if (c && c.offset >= 0n) this.#fetcher.seek(tp.topic, tp.partition, c.offset)
          else if (reset === 'none') this.#fetcher.pushError(new NoOffsetForPartitionError(tp.topic, tp.partition))
          else this.#fetcher.seek(tp.topic, tp.partition, reset)
        }
        this.#fetcher.wake()
        return
      } catch (err) {
        if (this.#closing || err instanceof ClosedError) return
        // TimeoutError: the lookup's own retries ran out; keep trying while the partitions are still ours.
        if (!isRetriable(err) && !(err instanceof TimeoutError)) {
          this.#errors.push(err as Error)
          this.#fetcher.wake()
          return
        }
        this.#logger('warn', `looking up committed offsets of ${describeTps(want)} failed: ${(err as Error).message}; retrying`, {
          group: this.#o.groupId,
        })
        await this.#sleep(backoffMs(attempt, this.cluster.options.retryBackoffMs, this.cluster.options.retryBackoffMaxMs)).catch(() => {})
      }
    }
  }

  #fetchCommitted(tps: readonly TopicPartition[]): Promise<Map<string, CommittedOffset>> {
    if (this.#member) return this.#member.fetchCommitted(tps)
    if (this.#o.groupId === null || this.#transport === null) return Promise.reject(new ConfigError('committed offsets need a groupId'))
    return fetchCommittedOffsets(this.#transport, this.#o.groupId, tps, this.#retryPolicy())
  }

  // ---- internals: delivery ------------------------------------------------------------------

  /**
   * The next delivery, or undefined once closing. Waits while a rebalance callback holds deliveries.
   * While the application is in here it is "in poll": the max.poll.interval.ms watchdog is off, as
   * Java resets its poll timer inside poll(). It runs whenever nobody is waiting in here (processing,
   * or not iterating at all), so a consumer whose loop stopped without close() leaves the group
   * instead of holding its partitions forever.
   */
  async #take<T>(
    take: () => T | undefined,
    start: (v: T) => TopicPartition & { offset: bigint },
  ): Promise<{ value: T; delivery: Delivery } | undefined> {
    if (this.#pollers++ === 0) this.#member?.pollStarted()
    try {
      for (;;) {
        if (this.#closing) return undefined
        if (this.#fatal) throw this.#fatal
        const err = this.#errors.shift() ?? this.#fetcher.takeError()
        if (err) throw err
        if (this.#holds === 0) {
          const value = take()
          if (value !== undefined) {
            this.#inFlight++
            const at = start(value)
            const key = keyOf(at)
            let pending = this.#unprocessed.get(key)
            if (pending === undefined) this.#unprocessed.set(key, (pending = { from: at.offset, inFlight: 0 }))
            pending.inFlight++
            return { value, delivery: { consumer: this, released: false, tp: { topic: at.topic, partition: at.partition }, key, pending } }
          }
        }
        await this.#fetcher.waitForData()
      }
    } finally {
      if (--this.#pollers === 0) this.#member?.pollEnded()
    }
  }

  /**
   * Ends a delivery. Processed (`done`): once nothing of the partition is in flight, its commit
   * position is the fetch position again. Not processed (a handler threw, an iterator was left): the
   * partition is rewound to its first unprocessed offset, so the records are delivered again (a
   * new run() or loop retries them) and never committed as consumed.
   */
  #release(d: Delivery, done: boolean): void {
    if (d.released) return
    d.released = true
    const p = d.pending
    if (this.#unprocessed.get(d.key) === p) {
      p.inFlight--
      if (!done) {
        this.#unprocessed.delete(d.key)
        if (this.#fetcher.has(d.tp.topic, d.tp.partition)) this.#fetcher.seek(d.tp.topic, d.tp.partition, p.from)
      } else if (p.inFlight === 0) {
        this.#unprocessed.delete(d.key)
      }
    }
    this.#inFlight--
    if (this.#inFlight === 0) for (const w of this.#idleWaiters.splice(0)) w()
  }

  /** Offsets committed explicitly count as processed: the commit position never goes below them. */
  #markProcessed(offsets: readonly OffsetToCommit[]): void {
    for (const o of offsets) {
      const p = this.#unprocessed.get(keyOf(o))
      if (p !== undefined && o.offset > p.from) p.from = o.offset
    }
  }

  #scheduleManualAutoCommit(): void {
    if (!this.#o.enableAutoCommit || this.#transport === null || this.#closing) return
    this.#timer.schedule('manual-auto-commit', this.#o.autoCommitIntervalMs, () => {
      if (this.#mode !== 'manual' || this.#closing) return
      this.#scheduleManualAutoCommit()
      this.commitAsync(this.#positions(this.assignment(), 'processed'), (err) => {
        if (err) this.#logger('debug', `auto-commit failed: ${err.message}`, { group: this.#o.groupId })
      })
    })
  }

  #retryPolicy(): RetryPolicy {
    const c = this.cluster.options
    return {
      clock: this.#clock,
      sleep: (ms) => this.#sleep(ms),
      retryBackoffMs: c.retryBackoffMs,
      retryBackoffMaxMs: c.retryBackoffMaxMs,
      timeoutMs: c.defaultApiTimeoutMs,
    }
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.#timer.schedule(`consumer-sleep-${++this.#sleepSeq}`, ms, resolve))
  }

  #throwIfClosed(allowClosing = false): void {
    if (this.#closed && !(allowClosing && this.#closing && this.#member?.state !== 'closed')) throw new ClosedError('consumer')
  }
}

function recordStart(r: ConsumerRecord): TopicPartition & { offset: bigint } {
  return r
}

function batchStart(b: { topic: string; partition: number; records: ConsumerRecord[] }): TopicPartition & { offset: bigint } {
  return { topic: b.topic, partition: b.partition, offset: (b.records[0] as ConsumerRecord).offset }
}

function toMessage(rec: ConsumerRecord): Message {
  // The fetcher's records are FetchedRecords, whose `lag` is a getter.
  return rec as Message
}

function toBatch(topic: string, partition: number, records: ConsumerRecord[], highWatermark: bigint): MessageBatch {
  const messages = records as Message[]
  const first = messages[0] as Message
  const last = messages[messages.length - 1] as Message
  return {
    topic,
    partition,
    messages,
    firstOffset: first.offset,
    lastOffset: last.offset,
    highWatermark,
    lag: highWatermark - (last.offset + 1n),
  }
}

function resolveOptions(o: ConsumerOptions): Resolved {
  const maxPollIntervalMs = o.maxPollIntervalMs ?? 300_000
  const strategy = o.partitionAssignmentStrategy ?? DEFAULT_ASSIGNORS
  const assignors = strategy.map((a) => {
    if (typeof a !== 'string') return a
    const found = assignorByName(a)
    if (!found) throw new ConfigError(`unknown partition assignment strategy ${JSON.stringify(a)}`)
    return found
  })
  const r: Resolved = {
    groupId: o.groupId ?? null,
    groupInstanceId: o.groupInstanceId ?? null,
    clientRack: o.clientRack ?? null,
    sessionTimeoutMs: o.sessionTimeoutMs ?? 45_000,
    heartbeatIntervalMs: o.heartbeatIntervalMs ?? 3000,
    maxPollIntervalMs,
    rebalanceTimeoutMs: o.rebalanceTimeoutMs ?? maxPollIntervalMs,
    assignors,
    enableAutoCommit: o.enableAutoCommit ?? true,
    autoCommitIntervalMs: o.autoCommitIntervalMs ?? 5000,
    maxPollRecords: o.maxPollRecords ?? 500,
  }
  if (r.groupId === '') throw new ConfigError('groupId must not be empty')
  if (r.groupInstanceId === '') throw new ConfigError('groupInstanceId must not be empty')
  if (r.groupInstanceId !== null && r.groupId === null) throw new ConfigError('groupInstanceId needs a groupId')
  for (const k of [
    'sessionTimeoutMs',
    'heartbeatIntervalMs',
    'maxPollIntervalMs',
    'rebalanceTimeoutMs',
    'autoCommitIntervalMs',
    'maxPollRecords',
  ] as const) {
    if (!Number.isInteger(r[k]) || r[k] <= 0) throw new ConfigError(`${k} must be a positive integer`)
  }
  if (r.heartbeatIntervalMs >= r.sessionTimeoutMs) throw new ConfigError('heartbeatIntervalMs must be lower than sessionTimeoutMs')
  return r
}
