/**
 * The fetch engine shared by `SimpleConsumer` and the group `Consumer`: per-partition positions,
 * one Fetch in flight per leader carrying only the partitions that have nothing buffered (so
 * memory stays bounded by roughly one fetch per partition and a slow reader slows fetching down),
 * offset resets, and a queue of completed fetches that readers take records from.
 *
 * Positions move as records are taken, so a position is always "the next offset the application
 * has not been given". A partition can be paused (not fetched, its buffered records kept but not
 * handed out) or held without a position (`add(tp, 'hold')`) until a `seek` gives it one, which is
 * how the group consumer waits for committed offsets.
 */
import { Fetch } from '../../protocol/apis/index.ts'
import { ErrorCode, errorInfo, KafkaError } from '../../protocol/errors.ts'
import {
  type BatchView,
  batchRecords,
  batchSpans,
  controlType,
  type RecordHeader,
  viewBatch,
  viewBatchAsync,
} from '../../protocol/records/batch.ts'
import { ZERO_UUID } from '../../protocol/schema/codec.ts'
import type { ResponseOf } from '../../protocol/schema/dsl.ts'
import { RunScheduler } from '../../util/run-scheduler.ts'
import { backoffMs, type Cluster, type NodeConnection } from '../cluster/cluster.ts'
import { listOffsets, OffsetSpec, tpKey } from '../cluster/offsets.ts'
import { ClientError, ConfigError, codeInvalidatesMetadata, invalidatesMetadata, UnknownTopicError } from '../errors.ts'
import { type FrameLease, FramePool } from '../network/frame-pool.ts'

export type OffsetResetStrategy = 'earliest' | 'latest' | 'none'
export type IsolationLevel = 'read_uncommitted' | 'read_committed'

/** Fetch settings, with Kafka's names and defaults. */
export interface FetchOptions {
  /** `fetch.max.wait.ms` (500). */
  fetchMaxWaitMs?: number
  /** `fetch.min.bytes` (1). */
  fetchMinBytes?: number
  /** `fetch.max.bytes` (52428800). */
  fetchMaxBytes?: number
  /** `max.partition.fetch.bytes` (1048576). */
  maxPartitionFetchBytes?: number
  /** `isolation.level` ('read_uncommitted'). */
  isolationLevel?: IsolationLevel
  /** `auto.offset.reset` ('latest'): where to start without an offset, or after OFFSET_OUT_OF_RANGE. */
  autoOffsetReset?: OffsetResetStrategy
}

export interface ResolvedFetchOptions {
  fetchMaxWaitMs: number
  fetchMinBytes: number
  fetchMaxBytes: number
  maxPartitionFetchBytes: number
  isolationLevel: 0 | 1
  autoOffsetReset: OffsetResetStrategy
}

const ISOLATION: Record<IsolationLevel, 0 | 1> = { read_uncommitted: 0, read_committed: 1 }

export function resolveFetchOptions(options: FetchOptions): ResolvedFetchOptions {
  const autoOffsetReset = options.autoOffsetReset ?? 'latest'
  if (!['earliest', 'latest', 'none'].includes(autoOffsetReset)) throw new ConfigError(`autoOffsetReset must be earliest, latest or none`)
  const isolation = options.isolationLevel ?? 'read_uncommitted'
  if (!(isolation in ISOLATION)) throw new ConfigError(`isolationLevel must be read_uncommitted or read_committed`)
  return {
    fetchMaxWaitMs: options.fetchMaxWaitMs ?? 500,
    fetchMinBytes: options.fetchMinBytes ?? 1,
    fetchMaxBytes: options.fetchMaxBytes ?? 52_428_800,
    maxPartitionFetchBytes: options.maxPartitionFetchBytes ?? 1_048_576,
    isolationLevel: ISOLATION[isolation],
    autoOffsetReset,
  }
}

export interface ConsumerRecord {
  topic: string
  partition: number
  offset: bigint
  /**
   * Views into the bytes of the record's batch (copied out of the fetch response, whose buffer is
   * reused): copy them to keep them for long after the record is processed without keeping the batch.
   */
  key: Buffer | null
  value: Buffer | null
  headers: RecordHeader[]
  /** Ms since the epoch: create time, or the broker's append time for LogAppendTime topics. */
  timestamp: bigint
  timestampType: 'create' | 'log-append'
  /** The partition's high watermark when the record was fetched. */
  highWatermark: bigint
  leaderEpoch: number
}

/**
 * The records the fetcher hands out. A class rather than literals: every record of every fetch
 * shares one shape, and `lag`, which few readers look at, costs nothing until it is read.
 */
export class FetchedRecord implements ConsumerRecord {
  constructor(
    public topic: string,
    public partition: number,
    public offset: bigint,
    public key: Buffer | null,
    public value: Buffer | null,
    public headers: RecordHeader[],
    public timestamp: bigint,
    public timestampType: 'create' | 'log-append',
    public highWatermark: bigint,
    public leaderEpoch: number,
  ) {}

  /** highWatermark − (offset + 1): records after this one in the partition when it was fetched. */
  get lag(): bigint {
    return this.highWatermark - this.offset - 1n
  }
}

/** Records of one partition taken in one go, in offset order. */
export interface TakenRecords {
  topic: string
  partition: number
  records: ConsumerRecord[]
  /** The partition's high watermark when these were fetched. */
  highWatermark: bigint
}

/** Where to start a partition: an offset, a reset strategy, or 'hold' (no position until a seek). */
export type StartOffset = bigint | 'earliest' | 'latest' | 'hold'

interface PartitionState {
  topic: string
  partition: number
  /** Next offset to hand out or fetch; null while it must be looked up. */
  position: bigint | null
  reset: 'earliest' | 'latest' | null
  /** Bumped by assign/seek so that data fetched for an old position is dropped. */
  epoch: number
  buffered: boolean
  /** While buffered: the offset after the buffered answer (its records may end before the high watermark). */
  bufferedUntil: bigint
  fetching: boolean
  resetting: boolean
  paused: boolean
  backoffUntil: number
  failures: number
  highWatermark: bigint
  /** Where reading ends for `exitAtEnd`: the high watermark, or the last stable offset for read_committed; -1 until fetched. */
  endOffset: bigint
  /** A non-retriable error parks the partition until the next seek. */
  error: Error | null
}

/**
 * One partition's answer to a fetch, waiting to be read. Its batches are verified (CRC) and
 * decompressed when the answer arrives, but their records are decoded one batch at a time as they
 * are taken, so the records alive at any time are those of the batch being read, not of the whole
 * answer (up to `maxPartitionFetchBytes` per partition): far less for the garbage collector to copy.
 */
interface Completed {
  state: PartitionState
  epoch: number
  /** Batches with records to hand out (control and aborted batches already dropped), in offset order. */
  batches: BatchView[]
  /** The next batch of `batches` to decode. */
  next: number
  /** The records of the batch being read. */
  records: ConsumerRecord[]
  index: number
  fetchOffset: bigint
  /** Position after the last batch, past control and filtered records too. */
  nextOffset: bigint
  highWatermark: bigint
  /** The response frame the batches lie in, released when the entry leaves the queue. */
  frame: FrameLease | null
}

const NO_RECORDS: ConsumerRecord[] = []
/** Fetch responses at least this large are received into a pooled frame. */
const POOLED_FRAME_MIN = 64 * 1024
/**
 * Records of a pooled frame are copied out this many bytes at a time: below glibc's mmap threshold
 * (128 KiB), so the copies reuse freed heap memory instead of faulting in fresh pages.
 */
const COPY_SEGMENT_BYTES = 32 * 1024
/**
 * Fetches in flight per leader, each for partitions with nothing buffered and none in another
 * fetch. Java's consumer sends one per node; with one, a partition drained while that fetch is out
 * waits for it to come back, and a reader that drains partitions faster than the broker answers
 * goes idle (measured: a quarter of the time at 1 KiB records). A second one lets it go out at
 * once. Memory stays bounded as before: a partition is fetched only when nothing of it is buffered.
 */
const FETCHES_PER_LEADER = 2

export class Fetcher {
  readonly cluster: Cluster
  readonly #o: ResolvedFetchOptions
  #partitions = new Map<string, PartitionState>()
  #completed: Completed[] = []
  /** Fetch responses are received into reused buffers; records get copies of their bytes. */
  readonly #frames = new FramePool()
  #errors: Error[] = []
  /** Fetches in flight per leader. */
  #nodesFetching = new Map<number, number>()
  #nodeBackoffUntil = new Map<number, number>()
  #nodeFailures = new Map<number, number>()
  #waiters: Array<() => void> = []
  readonly #wake = new RunScheduler(() => this.#run())
  #metadataRefreshing = false
  #closed = false

  constructor(cluster: Cluster, options: ResolvedFetchOptions) {
    this.cluster = cluster
    this.#o = options
  }

  get options(): ResolvedFetchOptions {
    return this.#o
  }

  get closed(): boolean {
    return this.#closed
  }

  // ---- assignment -------------------------------------------------------------------------

  /** Replaces the assignment. Partitions kept from the old one keep their position unless a new offset is given. */
  assign(assignments: readonly { topic: string; partition: number; offset?: StartOffset }[]): void {
    const next = new Map<string, PartitionState>()
    for (const a of assignments) {
      checkTp(a.topic, a.partition)
      const key = tpKey(a.topic, a.partition)
      const old = this.#partitions.get(key)
      const st = old ?? this.#newState(a.topic, a.partition)
      if (a.offset !== undefined || !old) this.#seekState(st, a.offset)
      next.set(key, st)
    }
    for (const [key, st] of this.#partitions) if (!next.has(key)) st.epoch++
    this.#partitions = next
    this.#dropWhere((c) => next.get(tpKey(c.state.topic, c.state.partition)) !== c.state || c.epoch !== c.state.epoch)
    this.#wake.soon()
  }

  /** Adds partitions to the assignment (existing ones are left alone); no offset means `autoOffsetReset`. */
  add(partitions: readonly { topic: string; partition: number }[], offset?: StartOffset): void {
    for (const tp of partitions) {
      checkTp(tp.topic, tp.partition)
      const key = tpKey(tp.topic, tp.partition)
      if (this.#partitions.has(key)) continue
      const st = this.#newState(tp.topic, tp.partition)
      this.#seekState(st, offset)
      this.#partitions.set(key, st)
    }
    this.#wake.soon()
  }

  /** Removes partitions; their buffered records are dropped and in-flight data for them is ignored. */
  remove(partitions: readonly { topic: string; partition: number }[]): void {
    const gone = new Set<PartitionState>()
    for (const tp of partitions) {
      const key = tpKey(tp.topic, tp.partition)
      const st = this.#partitions.get(key)
      if (!st) continue
      st.epoch++
      gone.add(st)
      this.#partitions.delete(key)
    }
    if (gone.size > 0) this.#dropWhere((c) => gone.has(c.state))
  }

  has(topic: string, partition: number): boolean {
    return this.#partitions.has(tpKey(topic, partition))
  }

  /** Moves a partition's position; buffered records of it are dropped. */
  seek(topic: string, partition: number, offset: bigint | 'earliest' | 'latest'): void {
    const st = this.#partitions.get(tpKey(topic, partition))
    if (!st) throw new ConfigError(`${topic}-${partition} is not assigned`)
    this.#seekState(st, offset)
    this.#dropWhere((c) => c.state === st)
    this.#wake.soon()
  }

  /** Stops fetching a partition and handing out its buffered records, keeping its position. */
  pause(topic: string, partition: number): void {
    const st = this.#partitions.get(tpKey(topic, partition))
    if (!st) throw new ConfigError(`${topic}-${partition} is not assigned`)
    st.paused = true
  }

  resume(topic: string, partition: number): void {
    const st = this.#partitions.get(tpKey(topic, partition))
    if (!st) throw new ConfigError(`${topic}-${partition} is not assigned`)
    st.paused = false
    this.#wake.soon()
    this.wake()
  }

  isPaused(topic: string, partition: number): boolean {
    return this.#partitions.get(tpKey(topic, partition))?.paused === true
  }

  /** The next offset that will be returned for a partition (null while it is being looked up). */
  position(topic: string, partition: number): bigint | null | undefined {
    return this.#partitions.get(tpKey(topic, partition))?.position
  }

  /** The partition's last known high watermark (−1 before its first fetch). */
  highWatermark(topic: string, partition: number): bigint | undefined {
    return this.#partitions.get(tpKey(topic, partition))?.highWatermark
  }

  assignment(): { topic: string; partition: number }[] {
    return [...this.#partitions.values()].map((s) => ({ topic: s.topic, partition: s.partition }))
  }

  // ---- taking records ---------------------------------------------------------------------

  /** The oldest error not yet reported, if any. */
  takeError(): Error | undefined {
    return this.#errors.shift()
  }

  /** Reports an error through the same channel as fetch errors. */
  pushError(err: Error): void {
    this.#errors.push(err)
    this.wake()
  }

  /** The next buffered record (of a partition that is not paused), moving its position past it. */
  takeRecord(): ConsumerRecord | undefined {
    for (let i = 0; i < this.#completed.length; ) {
      const c = this.#completed[i] as Completed
      const st = c.state
      if (c.epoch !== st.epoch) {
        this.#removeAt(i)
        continue
      }
      if (st.paused) {
        i++
        continue
      }
      if (!this.#fill(i, c)) continue
      const rec = c.records[c.index++] as ConsumerRecord
      if (this.#exhausted(c)) this.#finish(i, c)
      else st.position = rec.offset + 1n
      return rec
    }
    return undefined
  }

  /** Up to `max` buffered records of one partition (not paused), moving its position past them. */
  takeRecords(max: number): TakenRecords | undefined {
    const want = Math.max(1, max)
    for (let i = 0; i < this.#completed.length; ) {
      const c = this.#completed[i] as Completed
      const st = c.state
      if (c.epoch !== st.epoch) {
        this.#removeAt(i)
        continue
      }
      if (st.paused) {
        i++
        continue
      }
      let records = NO_RECORDS
      let open = true
      while (records.length < want && (open = this.#fill(i, c))) {
        const n = Math.min(want - records.length, c.records.length - c.index)
        if (records.length === 0) records = c.index === 0 && n === c.records.length ? c.records : c.records.slice(c.index, c.index + n)
        else for (let k = 0; k < n; k++) records.push(c.records[c.index + k] as ConsumerRecord)
        c.index += n
      }
      // A batch that failed to decode removed the entry (#fill); the records before it still go out.
      if (open && this.#exhausted(c)) this.#finish(i, c)
      else if (records.length > 0 && this.#completed[i] === c) st.position = (records[records.length - 1] as ConsumerRecord).offset + 1n
      if (records.length > 0) return { topic: st.topic, partition: st.partition, records, highWatermark: c.highWatermark }
    }
    return undefined
  }

  /** Removes the entry at `i`, releasing its frame. */
  #removeAt(i: number): void {
    const [c] = this.#completed.splice(i, 1)
    c?.frame?.release()
  }

  /** Removes every entry matching `drop`, releasing their frames. */
  #dropWhere(drop: (c: Completed) => boolean): void {
    const keep: Completed[] = []
    for (const c of this.#completed) {
      if (drop(c)) c.frame?.release()
      else keep.push(c)
    }
    this.#completed = keep
  }

  /** Whether every record of the entry has been handed out. */
  #exhausted(c: Completed): boolean {
    return c.index >= c.records.length && c.next >= c.batches.length
  }

  /**
   * Makes `c.records[c.index]` available, decoding the next batch if needed. False when there is
   * nothing left: the entry is then finished (position past it) and removed from the queue, or,
   * when a batch does not decode, removed with the partition failed at that batch.
   */
  #fill(i: number, c: Completed): boolean {
    while (c.index >= c.records.length) {
      if (c.next >= c.batches.length) {
        this.#finish(i, c)
        return false
      }
      const b = c.batches[c.next++] as BatchView
      let records: ConsumerRecord[]
      try {
        records = this.#decode(c, b)
      } catch (err) {
        const st = c.state
        this.#removeAt(i)
        st.buffered = false
        let at = c.fetchOffset
        if (b.baseOffset > at) at = b.baseOffset
        st.position = at
        this.#partitionError(
          st,
          new KafkaError(ErrorCode.CORRUPT_MESSAGE, `${st.topic}-${st.partition} at offset ${st.position}: ${(err as Error).message}`),
        )
        this.#wake.soon()
        return false
      }
      c.records = records
      c.index = 0
    }
    return true
  }

  /** A batch's records as consumer records, without those before the fetch offset (brokers return whole batches). */
  #decode(c: Completed, b: BatchView): ConsumerRecord[] {
    const topic = c.state.topic
    const partition = c.state.partition
    const timestampType = b.logAppendTime ? 'log-append' : 'create'
    const highWatermark = c.highWatermark
    const leaderEpoch = b.partitionLeaderEpoch
    const records = batchRecords(
      b,
      (offset, timestamp, key, value, headers): ConsumerRecord =>
        new FetchedRecord(topic, partition, offset, key, value, headers, timestamp, timestampType, highWatermark, leaderEpoch),
      // Plain batches lie in the response frame, which goes back to the pool once the entry is done:
      // their records get copies of the bytes, made in segments small enough to come from recycled memory.
      c.frame !== null && b.compression === 0 ? COPY_SEGMENT_BYTES : 0,
    )
    const fetchOffset = c.fetchOffset
    if (b.baseOffset >= fetchOffset || records.length === 0 || (records[0] as ConsumerRecord).offset >= fetchOffset) return records
    return records.filter((r) => r.offset >= fetchOffset)
  }

  #finish(i: number, c: Completed): void {
    this.#removeAt(i)
    c.state.position = c.nextOffset
    c.state.buffered = false
    this.#wake.soon()
  }

  /** Whether every partition (not paused, not failed) has been read up to the end its last fetch reported. */
  atEnd(): boolean {
    for (const st of this.#partitions.values()) {
      if (st.error || st.paused) continue
      if (st.buffered || st.position === null || st.endOffset < 0n || st.position < st.endOffset) return false
    }
    return true
  }

  /** Resolves at the next change a reader may care about: data, an error, a fetch answer, `wake()` or close. */
  waitForData(): Promise<void> {
    if (this.#closed) return Promise.resolve()
    return new Promise<void>((resolve) => this.#waiters.push(resolve))
  }

  wake(): void {
    for (const w of this.#waiters.splice(0)) w()
  }

  close(): void {
    if (this.#closed) return
    this.#closed = true
    this.#wake.stop()
    this.#dropWhere(() => true)
    this.wake()
  }

  // ---- partition state --------------------------------------------------------------------

  #newState(topic: string, partition: number): PartitionState {
    return {
      topic,
      partition,
      position: null,
      reset: null,
      epoch: 0,
      buffered: false,
      bufferedUntil: -1n,
      fetching: false,
      resetting: false,
      paused: false,
      backoffUntil: 0,
      failures: 0,
      highWatermark: -1n,
      endOffset: -1n,
      error: null,
    }
  }

  #seekState(st: PartitionState, offset: StartOffset | undefined): void {
    st.epoch++
    st.buffered = false
    st.error = null
    st.failures = 0
    st.backoffUntil = 0
    if (typeof offset === 'bigint') {
      if (offset < 0n) throw new ConfigError(`offset must be >= 0, not ${offset}`)
      st.position = offset
      st.reset = null
      return
    }
    st.position = null
    if (offset === 'hold') {
      st.reset = null
      return
    }
    const strategy = offset ?? this.#o.autoOffsetReset
    if (strategy === 'none') {
      st.reset = null
      st.error = new ConfigError(`no offset given for ${st.topic}-${st.partition} and autoOffsetReset is 'none'`)
      this.#errors.push(st.error)
      this.wake()
    } else {
      st.reset = strategy
    }
  }

  // ---- fetching ---------------------------------------------------------------------------

  #run(): void {
    if (this.#closed) return
    const now = Date.now()
    let nextWake = Number.POSITIVE_INFINITY
    const toReset: PartitionState[] = []
    const byLeader = new Map<number, PartitionState[]>()
    // Leaders with a partition whose buffered answer stopped short of its end: it will want a fetch with data soon.
    let backlogged: Set<number> | null = null
    for (const st of this.#partitions.values()) {
      if (st.buffered && !st.paused && !st.error && st.bufferedUntil < st.endOffset) {
        const leader = this.cluster.metadata.leaderFor(st.topic, st.partition)
        if (leader !== undefined) (backlogged ??= new Set()).add(leader)
      }
      if (st.error || st.buffered || st.fetching || st.resetting || st.paused) continue
      if (st.backoffUntil > now) {
        nextWake = Math.min(nextWake, st.backoffUntil)
        continue
      }
      if (st.position === null) {
        if (st.reset) toReset.push(st)
        continue
      }
      const leader = this.cluster.metadata.leaderFor(st.topic, st.partition)
      if (leader === undefined || !this.cluster.metadata.brokers.has(leader)) {
        this.#refreshMetadata()
        continue
      }
      if ((this.#nodesFetching.get(leader) ?? 0) >= FETCHES_PER_LEADER) continue
      const until = this.#nodeBackoffUntil.get(leader) ?? 0
      if (until > now) {
        nextWake = Math.min(nextWake, until)
        continue
      }
      let list = byLeader.get(leader)
      if (!list) byLeader.set(leader, (list = []))
      list.push(st)
    }
    if (toReset.length > 0) void this.#resetOffsets(toReset)
    for (const [leader, list] of byLeader) {
      // A fetch for partitions that are all caught up long-polls on the broker (up to fetchMaxWaitMs),
      // and a broker answers a connection's requests in order: sent while another fetch to the same
      // leader is out, or while a partition of it is still reading a backlog, it would hold back the
      // data fetch that comes next. It waits for that fetch to come back (which wakes this loop) or for
      // the backlog to drain, and then goes, alone or together with the next data fetch.
      if (list.every(caughtUp)) {
        if ((this.#nodesFetching.get(leader) ?? 0) > 0) continue
        if (backlogged?.has(leader)) {
          nextWake = Math.min(nextWake, now + this.#o.fetchMaxWaitMs)
          continue
        }
      }
      void this.#fetch(leader, list)
    }
    this.#wake.at(nextWake)
  }

  #refreshMetadata(): void {
    if (this.#metadataRefreshing) return
    this.#metadataRefreshing = true
    const topics = [...new Set([...this.#partitions.values()].map((s) => s.topic))]
    this.cluster
      .topics(topics, { autoCreate: false })
      .catch((err: unknown) => {
        // A topic that does not exist is the caller's mistake: report it; anything else is retried.
        if (err instanceof UnknownTopicError) this.#fatal([err.topic], err)
        else if (err instanceof KafkaError && !err.retriable) this.#fatal(topics, err)
      })
      .finally(() => {
        setTimeout(() => {
          this.#metadataRefreshing = false
          this.#wake.soon()
        }, this.cluster.options.retryBackoffMs)
      })
  }

  #fatal(topics: string[], err: Error): void {
    let reported = false
    for (const st of this.#partitions.values()) {
      if (!topics.includes(st.topic) || st.error) continue
      st.error = err
      if (!reported) this.#errors.push(err)
      reported = true
    }
    this.wake()
  }

  #backoff(st: PartitionState): void {
    st.failures++
    st.backoffUntil = Date.now() + backoffMs(st.failures, this.cluster.options.retryBackoffMs, this.cluster.options.retryBackoffMaxMs)
  }

  #partitionError(st: PartitionState, err: Error): void {
    st.error = err
    this.#errors.push(err)
    this.wake()
  }

  async #resetOffsets(states: PartitionState[]): Promise<void> {
    const epochs = new Map(states.map((s) => [s, s.epoch]))
    for (const s of states) s.resetting = true
    try {
      const answers = await listOffsets(
        this.cluster,
        states.map((s) => ({
          topic: s.topic,
          partition: s.partition,
          timestamp: s.reset === 'earliest' ? OffsetSpec.earliest : OffsetSpec.latest,
        })),
        { isolationLevel: this.#o.isolationLevel, timeoutMs: this.cluster.options.requestTimeoutMs },
      )
      for (const s of states) {
        if (epochs.get(s) !== s.epoch) continue
        const a = answers.get(tpKey(s.topic, s.partition))
        if (!a) continue
        if (a.error) {
          if (a.error.retriable) this.#backoff(s)
          else this.#partitionError(s, a.error)
          continue
        }
        s.position = a.offset
        s.reset = null
        s.failures = 0
      }
    } catch (err) {
      if (this.#closed) return
      for (const s of states) this.#backoff(s)
      if (!(err instanceof ClientError && err.retriable) && !(err instanceof KafkaError && err.retriable)) {
        this.#errors.push(err as Error)
        this.wake()
      }
    } finally {
      for (const s of states) s.resetting = false
      this.#wake.soon()
      this.wake()
    }
  }

  async #fetch(leader: number, states: PartitionState[]): Promise<void> {
    this.#nodesFetching.set(leader, (this.#nodesFetching.get(leader) ?? 0) + 1)
    for (const s of states) s.fetching = true
    const epochs = new Map(states.map((s) => [s, s.epoch]))
    // The response frame, when large enough to come from the pool; each entry it fills holds it too.
    const lease: { frame: FrameLease | null } = { frame: null }
    try {
      let nc: NodeConnection
      try {
        nc = this.cluster.readyConnection(leader) ?? (await this.cluster.connection(leader))
      } catch (err) {
        this.#nodeFailed(leader, err as Error)
        return
      }
      const meta = this.cluster.metadata
      const ids = new Map<string, string>()
      let haveIds = true
      for (const s of states) {
        const id = meta.topic(s.topic)?.topicId
        if (id && id !== ZERO_UUID) ids.set(s.topic, id)
        else haveIds = false
      }
      // Fetch v13+ names topics by id only; without ids (old Metadata) stay at v12. v4 is the first with isolation levels.
      const version = nc.versions.pick(Fetch, { min: 4, max: haveIds ? undefined : 12 })
      const topics = new Map<string, PartitionState[]>()
      for (const s of states) {
        let l = topics.get(s.topic)
        if (!l) topics.set(s.topic, (l = []))
        l.push(s)
      }
      const positions = new Map(states.map((s) => [s, s.position as bigint]))
      let res: ResponseOf<typeof Fetch>
      try {
        res = await nc.conn.request(
          Fetch,
          version,
          {
            replicaId: -1,
            maxWaitMs: this.#o.fetchMaxWaitMs,
            minBytes: this.#o.fetchMinBytes,
            maxBytes: this.#o.fetchMaxBytes,
            isolationLevel: this.#o.isolationLevel,
            // Session id 0 with epoch -1: a full fetch every time, no incremental session (KIP-227).
            sessionId: 0,
            sessionEpoch: -1,
            topics: [...topics].map(([topic, list]) => ({
              topic,
              topicId: ids.get(topic) ?? ZERO_UUID,
              partitions: list.map((s) => ({
                partition: s.partition,
                currentLeaderEpoch: -1,
                fetchOffset: positions.get(s) as bigint,
                lastFetchedEpoch: -1,
                logStartOffset: -1n,
                partitionMaxBytes: this.#o.maxPartitionFetchBytes,
              })),
            })),
            forgottenTopicsData: [],
            rackId: '',
          },
          {
            timeoutMs: nc.conn.requestTimeoutMs + this.#o.fetchMaxWaitMs,
            allocate: (size) => {
              if (size < POOLED_FRAME_MIN) return Buffer.allocUnsafe(size)
              lease.frame = this.#frames.lease(size)
              return lease.frame.buf
            },
          },
        )
      } catch (err) {
        this.#nodeFailed(leader, err as Error)
        return
      }
      this.#nodeBackoffUntil.delete(leader)
      this.#nodeFailures.delete(leader)
      if (res.errorCode !== ErrorCode.NONE) {
        const err = new KafkaError(res.errorCode, `Fetch from broker ${leader}: ${errorInfo(res.errorCode).name}`)
        if (err.retriable) for (const s of states) this.#backoff(s)
        else for (const s of states) this.#partitionError(s, err)
        return
      }
      const byId = new Map([...ids].map(([name, id]) => [id, name]))
      for (const t of res.responses) {
        const name = version >= 13 ? byId.get(t.topicId) : t.topic
        if (name === undefined) continue
        for (const p of t.partitions) {
          const st = this.#partitions.get(tpKey(name, p.partitionIndex))
          if (!st || !epochs.has(st) || epochs.get(st) !== st.epoch || st.position !== positions.get(st)) continue
          await this.#partitionData(st, positions.get(st) as bigint, p, lease.frame)
        }
      }
    } finally {
      lease.frame?.release()
      const left = (this.#nodesFetching.get(leader) ?? 1) - 1
      if (left > 0) this.#nodesFetching.set(leader, left)
      else this.#nodesFetching.delete(leader)
      for (const s of states) s.fetching = false
      this.#wake.soon()
      // An exitAtEnd reader may be waiting for exactly this: an answer with no new records.
      this.wake()
    }
  }

  #nodeFailed(leader: number, err: Error): void {
    if (this.#closed) return
    const failures = (this.#nodeFailures.get(leader) ?? 0) + 1
    this.#nodeFailures.set(leader, failures)
    this.#nodeBackoffUntil.set(
      leader,
      Date.now() + backoffMs(failures, this.cluster.options.retryBackoffMs, this.cluster.options.retryBackoffMaxMs),
    )
    if (invalidatesMetadata(err)) {
      this.cluster.invalidate()
      this.#refreshMetadata()
    } else if (!(err instanceof ClientError && err.retriable)) {
      this.#errors.push(err)
      this.wake()
    }
  }

  async #partitionData(
    st: PartitionState,
    fetchOffset: bigint,
    p: ResponseOf<typeof Fetch>['responses'][number]['partitions'][number],
    frame: FrameLease | null,
  ): Promise<void> {
    const code = p.errorCode
    if (code !== ErrorCode.NONE) {
      if (code === ErrorCode.OFFSET_OUT_OF_RANGE) {
        if (this.#o.autoOffsetReset === 'none') {
          this.#partitionError(st, new KafkaError(code, `${st.topic}-${st.partition}: offset ${fetchOffset} is out of range`))
        } else {
          st.position = null
          st.reset = this.#o.autoOffsetReset
        }
        return
      }
      const err = new KafkaError(code, `${st.topic}-${st.partition}: ${errorInfo(code).name}`)
      if (codeInvalidatesMetadata(code)) {
        this.cluster.invalidate(code)
        this.#refreshMetadata()
        this.#backoff(st)
      } else if (err.retriable) {
        this.#backoff(st)
      } else {
        this.#partitionError(st, err)
      }
      return
    }
    st.highWatermark = p.highWatermark
    st.endOffset = this.#o.isolationLevel === 1 && p.lastStableOffset >= 0n ? p.lastStableOffset : p.highWatermark
    st.failures = 0
    const data = p.records
    if (!data || data.length === 0) return
    const epoch = st.epoch
    let batches: BatchView[]
    let controls: Map<BatchView, 'abort' | 'commit' | null>
    try {
      batches = []
      controls = new Map()
      for (const s of batchSpans(data)) {
        // Compressed batches decompress off the event loop; plain ones are only checked here.
        const compressed = (data.readInt16BE(s.at + 21) & 0x07) !== 0
        const b = compressed ? await viewBatchAsync(data, s.at) : viewBatch(data, s.at)
        // Control batches hold one small marker record, read now for read_committed.
        if (b.isControl) controls.set(b, b.recordCount > 0 ? controlType(batchRecords(b, markerKey)[0] as { key: Buffer | null }) : null)
        batches.push(b)
      }
    } catch (err) {
      this.#partitionError(
        st,
        new KafkaError(ErrorCode.CORRUPT_MESSAGE, `${st.topic}-${st.partition} at offset ${fetchOffset}: ${(err as Error).message}`),
      )
      return
    }
    // A seek, removal or reassignment while a batch was decompressing makes the data stale.
    if (st.epoch !== epoch) return
    if (batches.length === 0) {
      // Data but not one whole batch: the batch is larger than maxPartitionFetchBytes on a broker without KIP-74.
      this.#partitionError(
        st,
        new ClientError(
          `${st.topic}-${st.partition}: the batch at offset ${fetchOffset} is larger than maxPartitionFetchBytes (${this.#o.maxPartitionFetchBytes})`,
          false,
        ),
      )
      return
    }
    const kept = this.#select(fetchOffset, batches, controls, p.abortedTransactions ?? [])
    const last = batches[batches.length - 1] as BatchView
    const nextOffset = last.baseOffset + BigInt(last.lastOffsetDelta) + 1n
    if (nextOffset <= fetchOffset) {
      // Only batches wholly before the fetch offset: nothing to gain by asking again at once.
      this.#backoff(st)
      return
    }
    if (kept.length === 0) {
      st.position = nextOffset
      return
    }
    st.buffered = true
    st.bufferedUntil = nextOffset
    frame?.retain()
    this.#completed.push({
      state: st,
      epoch: st.epoch,
      batches: kept,
      next: 0,
      records: NO_RECORDS,
      index: 0,
      fetchOffset,
      nextOffset,
      highWatermark: p.highWatermark,
      frame,
    })
    this.wake()
  }

  /**
   * The batches whose records are handed out: control batches dropped, batches wholly before the
   * fetch offset dropped (records before it within a batch are dropped when it is decoded), and for
   * read_committed the batches of aborted transactions dropped, as the Java consumer does.
   */
  #select(
    fetchOffset: bigint,
    batches: BatchView[],
    controls: Map<BatchView, 'abort' | 'commit' | null>,
    aborted: { producerId: bigint; firstOffset: bigint }[],
  ): BatchView[] {
    const out: BatchView[] = []
    const readCommitted = this.#o.isolationLevel === 1
    const pending = readCommitted
      ? [...aborted].sort((a, b) => (a.firstOffset < b.firstOffset ? -1 : a.firstOffset > b.firstOffset ? 1 : 0))
      : []
    const abortedProducers = new Set<bigint>()
    for (const b of batches) {
      const lastOffset = b.baseOffset + BigInt(b.lastOffsetDelta)
      if (readCommitted && b.isTransactional) {
        while (pending.length > 0 && (pending[0] as { firstOffset: bigint }).firstOffset <= lastOffset) {
          abortedProducers.add((pending.shift() as { producerId: bigint }).producerId)
        }
      }
      if (b.isControl) {
        if (readCommitted && controls.get(b) === 'abort') abortedProducers.delete(b.producerId)
        continue
      }
      if (readCommitted && b.isTransactional && abortedProducers.has(b.producerId)) continue
      if (lastOffset < fetchOffset || b.recordCount === 0) continue
      out.push(b)
    }
    return out
  }
}

/** Whether a partition has been read up to the end its last fetch reported (a fetch of it would long-poll). */
function caughtUp(st: PartitionState): boolean {
  return st.endOffset >= 0n && st.position !== null && st.position >= st.endOffset
}

const markerKey = (_offset: bigint, _timestamp: bigint, key: Buffer | null): { key: Buffer | null } => ({ key })

function checkTp(topic: unknown, partition: unknown): void {
  if (typeof topic !== 'string' || !Number.isInteger(partition) || (partition as number) < 0) {
    throw new ConfigError(`bad assignment ${JSON.stringify({ topic, partition })}`)
  }
}
