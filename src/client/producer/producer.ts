/**
 * The producer: `send()` partitions a record and adds it to its partition's
 * open batch; the sender drains ready batches into one Produce request per
 * leader, and settles each record's promise from its partition's answer.
 *
 * Idempotence (default on, as in Kafka 3+): an InitProducerId gives a producer
 * id; each batch carries it with a per-partition sequence number, so the broker
 * drops duplicates from retries and refuses gaps. Up to 5 requests may be in
 * flight per connection; a batch coming back for a retry waits until its
 * partition has nothing in flight, so it is resent ahead of its successors.
 *
 * Errors per partition: retriable codes retry (after a metadata refresh when
 * the leader may have moved) until `retries` or `deliveryTimeoutMs` runs out;
 * DUPLICATE_SEQUENCE_NUMBER counts as success; UNKNOWN_PRODUCER_ID on the next
 * batch in line resets the producer id and retries (the broker wrote nothing);
 * OUT_OF_ORDER_SEQUENCE_NUMBER on it fails the batch, as the Java client does,
 * since records the broker had acknowledged may be lost; either code on a
 * later batch just means an earlier one is being retried. Any batch that fails
 * for good leaves a sequence gap, so the producer id is reset once nothing is
 * in flight, and queued batches are renumbered under the new id.
 * MESSAGE_TOO_LARGE on a batch of several records (a topic whose
 * max.message.bytes is below `batchSize`) splits it in two and resends the
 * halves ahead of later batches, with the sequence numbers it had, as the Java
 * producer does; a single record too large fails with it.
 */
import { InitProducerId, Produce } from '../../protocol/apis/index.ts'
import { ErrorCode, errorInfo, KafkaError } from '../../protocol/errors.ts'
import { type BatchInput, type Codec, encodeBatch, encodeBatchAsync } from '../../protocol/records/batch.ts'
import { CRC_START, Off } from '../../protocol/records/batch-header.ts'
import { crc32c } from '../../protocol/records/crc32c.ts'
import { RunScheduler } from '../../util/run-scheduler.ts'
import { backoffMs, Cluster, type ClusterOptions, type NodeConnection } from '../cluster/cluster.ts'
import type { TopicMetadata } from '../cluster/metadata.ts'
import {
  ClientError,
  ClosedError,
  ConfigError,
  codeInvalidatesMetadata,
  invalidatesMetadata,
  isRetriable,
  ProtocolError,
  RecordTooLargeError,
  TimeoutError,
} from '../errors.ts'
import { addSeq, BATCH_OVERHEAD, estimateRecordSize, type PendingRecord, type ProducerBatch, RecordAccumulator } from './accumulator.ts'
import { BatchBufferPool } from './buffer-pool.ts'
import { DefaultPartitioner, type PartitionChoice } from './partitioner.ts'

export type Acks = 'all' | -1 | 0 | 1
export type CompressionName = 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd'

const CODECS: Record<CompressionName, Codec> = { none: 0, gzip: 1, snappy: 2, lz4: 3, zstd: 4 }

export interface ProducerOptions extends Partial<ClusterOptions> {
  /** Share an existing cluster (connections and metadata) instead of opening one; it is not closed with the producer. */
  cluster?: Cluster
  /** `acks` ('all' = -1, the default). */
  acks?: Acks
  /** `compression.type` ('none'). */
  compression?: CompressionName
  /** `linger.ms` (5): how long a batch waits for more records. */
  lingerMs?: number
  /** `batch.size` (16384 bytes, before compression). */
  batchSize?: number
  /** `enable.idempotence` (true; turned off silently when acks or retries conflict and it was not asked for). */
  idempotent?: boolean
  /** `delivery.timeout.ms` (120000): a record's whole budget from `send()` to its acknowledgement. */
  deliveryTimeoutMs?: number
  /** `max.in.flight.requests.per.connection` (5). */
  maxInFlightRequestsPerConnection?: number
  /** `max.request.size` (1048576). */
  maxRequestSize?: number
  /** `buffer.memory` (33554432): bytes of unsent records before `send()` waits. */
  bufferMemory?: number
  /** `max.block.ms` (60000): how long `send()` may wait for metadata or buffer space. */
  maxBlockMs?: number
  /** Replaces the default partitioner for records without an explicit partition. */
  partitioner?: (choice: PartitionChoice) => number
}

export type HeaderValue = Buffer | string | null

export interface ProducerRecord {
  topic: string
  key?: Buffer | string | null
  value: Buffer | string | null
  partition?: number
  headers?: Record<string, HeaderValue> | ReadonlyArray<{ key: string; value: HeaderValue }>
  /** Create time in ms (default: now). */
  timestamp?: number | bigint | Date
}

export interface RecordMetadata {
  topic: string
  partition: number
  /** -1 when unknown (acks=0, or a duplicate the broker no longer has the offset of). */
  offset: bigint
  /** The record's create time, or the broker's append time for LogAppendTime topics (ms since the epoch). */
  timestamp: bigint
}

/**
 * The outcome of a `sendBatch()` call: one promise for all its records, settled
 * when the last one has its metadata, or at the first failure.
 */
class BatchOutcome {
  readonly results: RecordMetadata[]
  #left: number
  #settled = false
  constructor(
    count: number,
    readonly resolve: (m: RecordMetadata[]) => void,
    readonly reject: (err: Error) => void,
  ) {
    this.results = new Array<RecordMetadata>(count)
    this.#left = count
  }

  done(index: number, m: RecordMetadata): void {
    this.results[index] = m
    if (--this.#left === 0 && !this.#settled) {
      this.#settled = true
      this.resolve(this.results)
    }
  }

  failed(err: Error): void {
    if (this.#settled) return
    this.#settled = true
    this.reject(err)
  }
}

/**
 * One record from `send()` or `sendBatch()` to its outcome: what the accumulator
 * needs, plus where the outcome goes (the record's own promise, or its place in
 * a batch's). A class, so that a burst of sends allocates one object per record
 * rather than several closures.
 */
class Pending implements PendingRecord {
  /** The partition it was appended to (-1 before). */
  partition = -1
  constructor(
    readonly topic: string,
    /** The partition the caller asked for, if any. */
    readonly requested: number | undefined,
    readonly key: Buffer | null,
    readonly value: Buffer | null,
    readonly headers: { key: string; value: Buffer | null }[],
    readonly timestamp: number,
    readonly size: number,
    readonly deadline: number,
    /** A send()'s settlers, or null for a record of a sendBatch(). */
    readonly done: ((m: RecordMetadata) => void) | null,
    readonly failed: ((err: Error) => void) | null,
    readonly batch: BatchOutcome | null,
    readonly index: number,
  ) {}

  resolve(offset: bigint, timestamp: bigint): void {
    const m: RecordMetadata = { topic: this.topic, partition: this.partition, offset, timestamp }
    if (this.batch !== null) this.batch.done(this.index, m)
    else this.done?.(m)
  }

  reject(err: Error): void {
    if (this.batch !== null) this.batch.failed(err)
    else this.failed?.(err)
  }
}

const NO_HEADERS: { key: string; value: Buffer | null }[] = []

/** Free memory the batch buffer pool may keep (at most `bufferMemory`). */
const POOL_MAX_BYTES = 8 * 1024 * 1024

// send() takes its promise's settlers through one shared executor rather than a closure per record.
let capturedResolve: (m: RecordMetadata) => void = () => {}
let capturedReject: (err: Error) => void = () => {}
function capture(resolve: (m: RecordMetadata) => void, reject: (err: Error) => void): void {
  capturedResolve = resolve
  capturedReject = reject
}

interface SequenceState {
  next: number
  lastAcked: number
}

const IDEMPOTENT_MAX_IN_FLIGHT = 5

function toBuffer(v: Buffer | string | null | undefined): Buffer | null {
  if (v === null || v === undefined) return null
  return typeof v === 'string' ? Buffer.from(v, 'utf8') : v
}

function toMs(t: number | bigint | Date | undefined): number {
  if (t === undefined) return Date.now()
  if (t instanceof Date) return t.getTime()
  return Number(t)
}

interface Resolved {
  acks: -1 | 0 | 1
  codec: Codec
  lingerMs: number
  batchSize: number
  idempotent: boolean
  deliveryTimeoutMs: number
  retries: number
  maxInFlight: number
  maxRequestSize: number
  bufferMemory: number
  maxBlockMs: number
  requestTimeoutMs: number
  retryBackoffMs: number
  retryBackoffMaxMs: number
  allowAutoCreateTopics: boolean
}

function resolveOptions(o: ProducerOptions, cluster: Cluster): Resolved {
  const acksIn = o.acks ?? 'all'
  const acks = acksIn === 'all' ? -1 : acksIn
  if (acks !== -1 && acks !== 0 && acks !== 1) throw new ConfigError(`acks must be 'all', -1, 0 or 1, not ${String(acksIn)}`)
  const compression = o.compression ?? 'none'
  if (!(compression in CODECS)) throw new ConfigError(`unknown compression ${compression}`)
  const retries = o.retries ?? cluster.options.retries
  const maxInFlight = o.maxInFlightRequestsPerConnection ?? 5
  let idempotent = o.idempotent ?? true
  if (idempotent && (acks !== -1 || retries === 0 || maxInFlight > IDEMPOTENT_MAX_IN_FLIGHT)) {
    if (o.idempotent === true) {
      throw new ConfigError('idempotence needs acks=all, retries > 0 and maxInFlightRequestsPerConnection <= 5')
    }
    idempotent = false
  }
  const r: Resolved = {
    acks,
    codec: CODECS[compression],
    lingerMs: o.lingerMs ?? 5,
    batchSize: o.batchSize ?? 16384,
    idempotent,
    deliveryTimeoutMs: o.deliveryTimeoutMs ?? 120_000,
    retries,
    maxInFlight,
    maxRequestSize: o.maxRequestSize ?? 1_048_576,
    bufferMemory: o.bufferMemory ?? 33_554_432,
    maxBlockMs: o.maxBlockMs ?? 60_000,
    requestTimeoutMs: cluster.options.requestTimeoutMs,
    retryBackoffMs: cluster.options.retryBackoffMs,
    retryBackoffMaxMs: cluster.options.retryBackoffMaxMs,
    allowAutoCreateTopics: cluster.options.allowAutoCreateTopics,
  }
  for (const k of ['lingerMs', 'batchSize', 'deliveryTimeoutMs', 'maxInFlight', 'maxRequestSize', 'bufferMemory', 'maxBlockMs'] as const) {
    if (!Number.isFinite(r[k]) || r[k] < 0) throw new ConfigError(`${k} must be a non-negative number`)
  }
  if (r.maxInFlight < 1) throw new ConfigError('maxInFlightRequestsPerConnection must be at least 1')
  if (r.deliveryTimeoutMs < r.lingerMs + r.requestTimeoutMs) {
    throw new ConfigError(
      `deliveryTimeoutMs (${r.deliveryTimeoutMs}) must be at least lingerMs + requestTimeoutMs (${r.lingerMs + r.requestTimeoutMs})`,
    )
  }
  return r
}

export class Producer {
  readonly cluster: Cluster
  readonly #owns: boolean
  readonly #o: Resolved
  readonly #acc: RecordAccumulator
  readonly #pool: BatchBufferPool
  readonly #partitioner: DefaultPartitioner
  readonly #custom: ((c: PartitionChoice) => number) | undefined

  // Records waiting for metadata or buffer space, in send order; while any wait, later records queue behind them.
  #waiting: Pending[] = []
  #waitingHead = 0
  #unblocking = false
  #spaceWaiters: Array<() => void> = []
  #idleWaiters: Array<() => void> = []

  #inflight = new Set<ProducerBatch>()
  /** Per broker: requests in flight, and compressed requests still encoding (`queued`, chained in order). */
  #nodes = new Map<number, { inflight: number; queued: number; chain: Promise<void> }>()
  #connecting = new Set<number>()
  #nodeBackoffUntil = new Map<number, number>()
  #metadataWanted = new Set<string>()
  #metadataRefreshing = false
  #lastMetadataRefreshMs = 0

  #producerId = -1n
  #producerEpoch = -1
  #pidState: 'none' | 'initializing' | 'ready' | 'reset-pending' = 'none'
  #sequences = new Map<string, SequenceState>()

  #flushing = 0
  /** The sender is running (it may be entered from send() itself, see #sendFilled). */
  #inRun = false
  #closing = false
  #stopped = false
  readonly #wake = new RunScheduler(() => this.#run())
  #available = new WeakMap<TopicMetadata, number[]>()

  constructor(options: ProducerOptions) {
    if (options.cluster) {
      this.cluster = options.cluster
      this.#owns = false
    } else {
      if (options.bootstrapServers === undefined) throw new ConfigError('bootstrapServers (or cluster) is required')
      this.cluster = new Cluster(options as ClusterOptions)
      this.#owns = true
    }
    this.#o = resolveOptions(options, this.cluster)
    this.#acc = new RecordAccumulator(this.#o.batchSize)
    this.#pool = new BatchBufferPool(this.#o.batchSize, Math.min(this.#o.bufferMemory, POOL_MAX_BYTES))
    this.#partitioner = new DefaultPartitioner()
    this.#custom = options.partitioner
  }

  /** Whether batches carry a producer id and sequence numbers. */
  get idempotent(): boolean {
    return this.#o.idempotent
  }

  /** Sends one record; resolves when its batch is acknowledged (or written, with acks=0). */
  send(record: ProducerRecord): Promise<RecordMetadata> {
    if (this.#closing) return Promise.reject(new ClosedError('producer'))
    const promise = new Promise<RecordMetadata>(capture)
    const resolve = capturedResolve
    const reject = capturedReject
    try {
      this.#accept(this.#prepare(record, Date.now(), resolve, reject, null, 0))
    } catch (err) {
      reject(err as Error)
    }
    return promise
  }

  /**
   * Sends records in order, as `send()` each would, behind one promise: it resolves with their
   * metadata in the same order once every one is acknowledged, or rejects with the first failure
   * (the others are still sent). Every record is checked first: one that cannot be sent (no
   * topic, a bad partition, larger than `maxRequestSize`) refuses the call and none is sent.
   * Cheaper than a `send()` per record when records come in bulk.
   */
  sendBatch(records: readonly ProducerRecord[]): Promise<RecordMetadata[]> {
    if (this.#closing) return Promise.reject(new ClosedError('producer'))
    if (records.length === 0) return Promise.resolve([])
    let outcome: BatchOutcome | undefined
    const promise = new Promise<RecordMetadata[]>((resolve, reject) => {
      outcome = new BatchOutcome(records.length, resolve, reject)
    })
    const o = outcome as BatchOutcome
    const now = Date.now()
    // Every record is checked before any is accepted, so a bad one sends none.
    const prepared = new Array<Pending>(records.length)
    try {
      for (let i = 0; i < records.length; i++) prepared[i] = this.#prepare(records[i] as ProducerRecord, now, null, null, o, i)
    } catch (err) {
      o.failed(err as Error)
      return promise
    }
    for (const r of prepared) this.#accept(r, now)
    return promise
  }

  /** Appends a prepared record now if it can be, else queues it behind the records waiting for metadata or space. */
  #accept(r: Pending, now = Date.now()): void {
    if (this.#waitingHead === this.#waiting.length && this.#acc.bufferedBytes + r.size <= this.#o.bufferMemory) {
      const meta = this.#cachedTopic(r.topic, now)
      if (meta) {
        this.#append(r, meta, now)
        return
      }
    }
    this.#waiting.push(r)
    if (!this.#unblocking) void this.#unblock()
  }

  /** Sends everything accepted so far without waiting for `lingerMs`, and waits until each record has its outcome. */
  async flush(): Promise<void> {
    this.#flushing++
    this.#wake.soon()
    try {
      await this.#waitUnblocked()
      const pending = [...this.#acc.batches(), ...this.#inflight]
      await Promise.all(pending.map((b) => b.settled))
    } finally {
      this.#flushing--
    }
  }

  /**
   * Flushes, then closes. With `timeoutMs`, records still pending after it fail
   * with ClosedError. The cluster is closed too unless it was passed in.
   */
  async close(options: { timeoutMs?: number } = {}): Promise<void> {
    if (this.#stopped) return
    this.#closing = true
    const timeoutMs = options.timeoutMs ?? Number.POSITIVE_INFINITY
    let timer: NodeJS.Timeout | undefined
    const flushed = this.flush()
    if (Number.isFinite(timeoutMs)) {
      await Promise.race([flushed, new Promise<void>((r) => (timer = setTimeout(r, timeoutMs)))])
      clearTimeout(timer)
    } else {
      await flushed
    }
    this.#stopped = true
    this.#wake.stop()
    const closed = new ClosedError('producer')
    for (const w of this.#waiting.splice(this.#waitingHead)) w.reject(closed)
    this.#waiting = []
    this.#waitingHead = 0
    for (const b of [...this.#acc.batches(), ...this.#inflight]) this.#finish(b, closed)
    if (this.#owns) await this.cluster.close()
  }

  // ---- accepting records ------------------------------------------------------

  #prepare(
    r: ProducerRecord,
    now: number,
    done: ((m: RecordMetadata) => void) | null,
    failed: ((err: Error) => void) | null,
    batch: BatchOutcome | null,
    index: number,
  ): Pending {
    if (typeof r.topic !== 'string' || r.topic === '') throw new ConfigError('record.topic must be a non-empty string')
    if (r.partition !== undefined && (!Number.isInteger(r.partition) || r.partition < 0)) {
      throw new ConfigError(`record.partition must be a non-negative integer, not ${r.partition}`)
    }
    const key = toBuffer(r.key)
    const value = toBuffer(r.value)
    let headers = NO_HEADERS
    if (r.headers) {
      headers = []
      const list = Array.isArray(r.headers)
        ? (r.headers as ReadonlyArray<{ key: string; value: HeaderValue }>)
        : Object.entries(r.headers as Record<string, HeaderValue>).map(([k, v]) => ({ key: k, value: v }))
      for (const h of list) headers.push({ key: h.key, value: toBuffer(h.value) })
    }
    const size = estimateRecordSize(key, value, headers)
    if (size + BATCH_OVERHEAD > this.#o.maxRequestSize) throw new RecordTooLargeError(size + BATCH_OVERHEAD, this.#o.maxRequestSize)
    const timestamp = r.timestamp === undefined ? now : toMs(r.timestamp)
    return new Pending(r.topic, r.partition, key, value, headers, timestamp, size, now + this.#o.maxBlockMs, done, failed, batch, index)
  }

  /** Metadata of a topic from the cache when it can be used as is, else undefined. */
  #cachedTopic(topic: string, now = Date.now()): TopicMetadata | undefined {
    const metadata = this.cluster.metadata
    const meta = metadata.topic(topic)
    if (!meta || meta.errorCode !== ErrorCode.NONE || meta.partitions.length === 0) return undefined
    return now - metadata.updatedAtMs < this.cluster.options.metadataMaxAgeMs ? meta : undefined
  }

  async #unblock(): Promise<void> {
    this.#unblocking = true
    try {
      // A head index rather than shift(): the queue can hold every record of a large synchronous burst.
      while (this.#waitingHead < this.#waiting.length) {
        const w = this.#waiting[this.#waitingHead] as Pending
        try {
          const meta =
            this.#cachedTopic(w.topic) ??
            (await this.cluster.topic(w.topic, {
              timeoutMs: Math.max(0, w.deadline - Date.now()),
              autoCreate: this.#o.allowAutoCreateTopics,
            }))
          if (this.#acc.bufferedBytes + w.size > this.#o.bufferMemory) await this.#waitForSpace(w)
          if (this.#stopped) throw new ClosedError('producer')
          this.#append(w, meta)
        } catch (err) {
          w.reject(err as Error)
        }
        this.#waiting[this.#waitingHead++] = undefined as unknown as Pending
        if (this.#waitingHead >= 1024 && this.#waitingHead * 2 >= this.#waiting.length) {
          this.#waiting = this.#waiting.slice(this.#waitingHead)
          this.#waitingHead = 0
        }
      }
      this.#waiting = []
      this.#waitingHead = 0
    } finally {
      this.#unblocking = false
      for (const f of this.#idleWaiters.splice(0)) f()
    }
  }

  async #waitForSpace(w: Pending): Promise<void> {
    while (this.#acc.bufferedBytes > 0 && this.#acc.bufferedBytes + w.size > this.#o.bufferMemory) {
      const left = w.deadline - Date.now()
      if (left <= 0) throw new TimeoutError(`no buffer space for a record within maxBlockMs (${this.#o.maxBlockMs} ms)`)
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left)
        this.#spaceWaiters.push(() => {
          clearTimeout(t)
          resolve()
        })
      })
    }
  }

  #waitUnblocked(): Promise<void> {
    if (this.#waitingHead === this.#waiting.length) return Promise.resolve()
    return new Promise((resolve) => this.#idleWaiters.push(resolve))
  }

  #availablePartitions(meta: TopicMetadata): number[] {
    let a = this.#available.get(meta)
    if (!a) {
      a = meta.partitions.filter((p) => p.leader >= 0).map((p) => p.partition)
      this.#available.set(meta, a)
    }
    return a
  }

  #append(r: Pending, meta: TopicMetadata, now = Date.now()): void {
    const topic = r.topic
    const n = meta.partitions.length
    let partition = r.requested
    if (partition !== undefined) {
      if (partition >= n) {
        r.reject(
          new KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `topic ${topic} has ${n} partitions; partition ${partition} does not exist`),
        )
        return
      }
    } else if (this.#custom === undefined && r.key === null && (partition = this.#partitioner.stickyFor(topic, n)) !== undefined) {
      // The common unkeyed case while the sticky partition's batch has room: no PartitionChoice needed.
      r.partition = partition
      if (this.#acc.append(topic, partition, r, now, true) === 'appended') {
        this.#wake.soon()
        this.#sendFilled()
        return
      }
      const choice: PartitionChoice = { topic, key: null, numPartitions: n, available: this.#availablePartitions(meta) }
      partition = this.#partitioner.onNewBatch(choice, partition)
    } else {
      const choice: PartitionChoice = { topic, key: r.key, numPartitions: n, available: this.#availablePartitions(meta) }
      if (this.#custom) {
        partition = this.#custom(choice)
        if (!Number.isInteger(partition) || partition < 0 || partition >= n) {
          r.reject(new ConfigError(`the partitioner chose partition ${partition} of ${topic}, which has ${n}`))
          return
        }
      } else {
        partition = this.#partitioner.partition(choice)
        if (r.key === null) {
          r.partition = partition
          if (this.#acc.append(topic, partition, r, now, true) === 'appended') {
            this.#wake.soon()
            this.#sendFilled()
            return
          }
          partition = this.#partitioner.onNewBatch(choice, partition)
        }
      }
    }
    r.partition = partition
    this.#acc.append(topic, partition, r, now)
    this.#wake.soon()
    this.#sendFilled()
  }

  /**
   * Sends at once, rather than at the next microtask, once filled batches add up to half a request:
   * a burst of send() calls then overlaps with the broker writing its first batches, instead of
   * the whole burst being encoded and sent only after it ends.
   */
  #sendFilled(): void {
    if (this.#acc.filledBytes * 2 >= this.#o.maxRequestSize && !this.#inRun) this.#run()
  }

  // ---- the sender -------------------------------------------------------------

  #run(): void {
    if (this.#stopped || this.#inRun) return
    this.#inRun = true
    try {
      this.#drain()
    } finally {
      this.#inRun = false
    }
  }

  #drain(): void {
    this.#acc.filledBytes = 0
    const now = Date.now()
    let nextWake = Number.POSITIVE_INFINITY
    const o = this.#o

    for (const b of this.#acc.expire(now, o.deliveryTimeoutMs)) {
      const cause = b.lastError ? `: ${b.lastError.message}` : ''
      this.#failForGood(
        b,
        new TimeoutError(
          `expiring ${b.count} record(s) for ${b.topic}-${b.partition}: ${now - b.createdMs} ms has passed since batch creation${cause}`,
          { cause: b.lastError },
        ),
      )
    }
    for (const q of this.#acc.queues()) if (q.head) nextWake = Math.min(nextWake, q.head.createdMs + o.deliveryTimeoutMs)

    if (o.idempotent && this.#pidState !== 'ready') {
      if (this.#pidState === 'none' && !this.#acc.isEmpty()) this.#initProducerId()
      if (this.#pidState === 'reset-pending' && this.#inflight.size === 0) this.#initProducerId()
      this.#wake.at(nextWake)
      return
    }

    const flushing = this.#flushing > 0 || this.#closing
    const requests = new Map<number, { nc: NodeConnection; batches: ProducerBatch[]; bytes: number }>()
    for (const q of this.#acc.queues()) {
      const head = q.head
      if (!head) continue
      const r = q.readiness(now, { lingerMs: o.lingerMs, flushing })
      if (!r.ready) {
        nextWake = Math.min(nextWake, r.atMs)
        continue
      }
      // A retried batch goes out only once its partition is quiet, so it cannot be overtaken.
      if (head.attempts > 0 && q.inflight > 0) continue
      if (o.idempotent && q.inflight >= IDEMPOTENT_MAX_IN_FLIGHT) continue
      const leader = this.cluster.metadata.leaderFor(q.topic, q.partition)
      if (leader === undefined || !this.cluster.metadata.brokers.has(leader)) {
        this.#wantMetadata(q.topic)
        nextWake = Math.min(nextWake, now + o.retryBackoffMs)
        continue
      }
      let req = requests.get(leader)
      if (!req) {
        const nc = this.cluster.readyConnection(leader)
        if (!nc) {
          const until = this.#nodeBackoffUntil.get(leader) ?? 0
          if (until > now) nextWake = Math.min(nextWake, until)
          else this.#connect(leader, q.topic)
          continue
        }
        if (this.#node(leader).inflight >= o.maxInFlight) continue
        req = { nc, batches: [], bytes: 0 }
        requests.set(leader, req)
      }
      if (req.batches.length > 0 && req.bytes + head.sizeBytes > o.maxRequestSize) continue
      q.batches.shift()
      head.closed = true
      if (o.idempotent && head.baseSequence < 0) {
        const st = this.#sequence(q.topic, q.partition)
        head.producerId = this.#producerId
        head.producerEpoch = this.#producerEpoch
        head.baseSequence = st.next
        st.next = addSeq(st.next, head.count)
      }
      q.inflight++
      this.#inflight.add(head)
      req.batches.push(head)
      req.bytes += head.sizeBytes
    }
    for (const [leader, req] of requests) this.#sendProduce(leader, req.nc, req.batches)
    // A partition may hold more ready batches than one request takes.
    if (requests.size > 0) this.#wake.soon()
    this.#wake.at(nextWake)
  }

  #node(id: number): { inflight: number; queued: number; chain: Promise<void> } {
    let n = this.#nodes.get(id)
    if (!n) {
      n = { inflight: 0, queued: 0, chain: Promise.resolve() }
      this.#nodes.set(id, n)
    }
    return n
  }

  #sequence(topic: string, partition: number): SequenceState {
    const key = `${topic}\u0000${partition}`
    let s = this.#sequences.get(key)
    if (!s) {
      s = { next: 0, lastAcked: -1 }
      this.#sequences.set(key, s)
    }
    return s
  }

  #connect(leader: number, topic: string): void {
    if (this.#connecting.has(leader)) return
    this.#connecting.add(leader)
    this.cluster.connection(leader).then(
      () => {
        this.#connecting.delete(leader)
        this.#wake.soon()
      },
      () => {
        this.#connecting.delete(leader)
        this.#nodeBackoffUntil.set(leader, Date.now() + this.#o.retryBackoffMs)
        this.#wantMetadata(topic)
        this.#wake.soon()
      },
    )
  }

  #wantMetadata(topic: string): void {
    this.#metadataWanted.add(topic)
    if (this.#metadataRefreshing) return
    const wait = Math.max(0, this.#lastMetadataRefreshMs + this.#o.retryBackoffMs - Date.now())
    this.#metadataRefreshing = true
    setTimeout(() => {
      const topics = [...this.#metadataWanted]
      this.#metadataWanted.clear()
      this.#lastMetadataRefreshMs = Date.now()
      this.cluster
        .refreshMetadata(topics, this.#o.allowAutoCreateTopics)
        .catch(() => {})
        .finally(() => {
          this.#metadataRefreshing = false
          this.#wake.soon()
        })
    }, wait)
  }

  #sendProduce(leader: number, nc: NodeConnection, batches: ProducerBatch[]): void {
    const node = this.#node(leader)
    node.inflight++
    const o = this.#o
    const versionOf = (): number => nc.versions.pick(Produce, { min: o.codec === 4 ? 7 : 3 })
    if (o.codec === 0 && node.queued === 0) {
      // Uncompressed batches encode synchronously, so with nothing queued for the node the request
      // goes out now, in drain order, even while the application is still inside a burst of send().
      let version: number
      try {
        version = versionOf()
        for (const b of batches) this.#encodeNow(b)
      } catch (err) {
        this.#requestFailed(leader, batches, err as Error)
        return
      }
      this.#dispatch(leader, nc, version, batches)
      return
    }
    // Compressed batches encode off the event loop; chaining per node keeps requests in drain order on the wire.
    node.queued++
    node.chain = node.chain.then(async () => {
      let version: number
      try {
        version = versionOf()
        await Promise.all(batches.map((b) => this.#encode(b)))
      } catch (err) {
        node.queued--
        this.#requestFailed(leader, batches, err as Error)
        return
      }
      node.queued--
      this.#dispatch(leader, nc, version, batches)
    })
  }

  /** Writes one Produce request for encoded batches and settles them from its answer. */
  #dispatch(leader: number, nc: NodeConnection, version: number, batches: ProducerBatch[]): void {
    const node = this.#node(leader)
    const o = this.#o
    const byTopic = new Map<string, { index: number; records: Buffer }[]>()
    for (const b of batches) {
      let list = byTopic.get(b.topic)
      if (!list) byTopic.set(b.topic, (list = []))
      list.push({ index: b.partition, records: b.encoded as Buffer })
    }
    const body = {
      transactionalId: null,
      acks: o.acks,
      timeoutMs: o.requestTimeoutMs,
      topicData: [...byTopic].map(([name, partitionData]) => ({ name, partitionData })),
    }
    if (o.acks === 0) {
      nc.conn.request(Produce, version, body, { expectResponse: false }).then(
        () => {
          node.inflight--
          for (const b of batches) this.#succeed(b, -1n, null)
          this.#wake.soon()
        },
        (err: Error) => this.#requestFailed(leader, batches, err),
      )
      return
    }
    nc.conn.request(Produce, version, body).then(
      (res) => {
        node.inflight--
        const results = new Map<string, (typeof res.responses)[number]['partitionResponses'][number]>()
        for (const t of res.responses) for (const p of t.partitionResponses) results.set(`${t.name}\u0000${p.index}`, p)
        for (const b of batches) {
          const p = results.get(`${b.topic}\u0000${b.partition}`)
          if (!p) this.#partitionFailed(b, new ProtocolError(`the Produce response has no result for ${b.topic}-${b.partition}`))
          else this.#partitionResult(b, p.errorCode, p.baseOffset, p.logAppendTimeMs, p.errorMessage)
        }
        this.#wake.soon()
      },
      (err: Error) => this.#requestFailed(leader, batches, err),
    )
  }

  /** Encodes an uncompressed batch (or restamps it for a retry) synchronously. */
  #encodeNow(b: ProducerBatch): void {
    if (b.encoded === null) {
      b.encoded = encodeBatch(this.#batchInput(b), (size) => this.#takeBuffer(b, size))
      return
    }
    this.#restamp(b)
  }

  #batchInput(b: ProducerBatch): BatchInput {
    return {
      records: b.records,
      compression: this.#o.codec,
      producerId: b.producerId,
      producerEpoch: b.producerEpoch,
      baseSequence: b.baseSequence,
    }
  }

  #takeBuffer(b: ProducerBatch, size: number): Buffer {
    const { buf, pooled } = this.#pool.take(size)
    b.pooled = pooled
    return buf
  }

  async #encode(b: ProducerBatch): Promise<void> {
    if (b.encoded === null) {
      b.encoded = await encodeBatchAsync(this.#batchInput(b), (size) => this.#takeBuffer(b, size))
      return
    }
    this.#restamp(b)
  }

  /** A batch encoded under another producer id or sequence gets the new stamp (and CRC) in place. */
  #restamp(b: ProducerBatch): void {
    const buf = b.encoded as Buffer
    if (
      buf.readBigInt64BE(Off.producerId) !== b.producerId ||
      buf.readInt16BE(Off.producerEpoch) !== b.producerEpoch ||
      buf.readInt32BE(Off.baseSequence) !== b.baseSequence
    ) {
      // The header fields sit inside the CRC, so a renumbered batch needs a new CRC, but not a new encoding.
      buf.writeBigInt64BE(b.producerId, Off.producerId)
      buf.writeInt16BE(b.producerEpoch, Off.producerEpoch)
      buf.writeInt32BE(b.baseSequence, Off.baseSequence)
      buf.writeUInt32BE(crc32c(buf.subarray(CRC_START)), Off.crc)
    }
  }

  #requestFailed(leader: number, batches: ProducerBatch[], err: Error): void {
    this.#node(leader).inflight--
    if (invalidatesMetadata(err)) this.cluster.invalidate()
    for (const b of batches) this.#partitionFailed(b, err)
    this.#wake.soon()
  }

  #partitionResult(b: ProducerBatch, code: number, baseOffset: bigint, logAppendTimeMs: bigint, message: string | null): void {
    if (code === ErrorCode.NONE || code === ErrorCode.DUPLICATE_SEQUENCE_NUMBER) {
      this.#succeed(b, baseOffset, logAppendTimeMs >= 0n ? Number(logAppendTimeMs) : null)
      return
    }
    if (code === ErrorCode.MESSAGE_TOO_LARGE && b.count > 1) {
      // As Java's producer does: split the batch and send the halves (a single record too large fails below).
      this.#untrack(b)
      this.#releaseBuffer(b)
      for (const half of b.split(Date.now())) this.#acc.reenqueue(half)
      this.#wake.soon()
      return
    }
    const info = errorInfo(code)
    const err = new KafkaError(code, `${b.topic}-${b.partition}: ${info.name}${message ? `: ${message}` : ''}`)
    if (this.#o.idempotent && (code === ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER || code === ErrorCode.UNKNOWN_PRODUCER_ID)) {
      const st = this.#sequence(b.topic, b.partition)
      const stale = b.producerId !== this.#producerId
      const nextInLine = !stale && addSeq(st.lastAcked, 1) === b.baseSequence
      this.#untrack(b)
      if (!nextInLine) {
        // An earlier batch failed or is being retried (or the id was already reset): this one just follows it.
        this.#retry(b, err, true)
      } else if (code === ErrorCode.UNKNOWN_PRODUCER_ID) {
        this.#requestReset()
        this.#retry(b, err, true)
      } else {
        this.#failForGood(b, err)
      }
      return
    }
    this.#partitionFailed(b, err)
  }

  #partitionFailed(b: ProducerBatch, err: Error): void {
    this.#untrack(b)
    if (isRetriable(err) && this.#o.acks !== 0) {
      if (err instanceof KafkaError && codeInvalidatesMetadata(err.code)) {
        this.cluster.invalidate(err.code)
        this.#wantMetadata(b.topic)
      }
      this.#retry(b, err, false)
    } else {
      this.#failForGood(b, err)
    }
  }

  #untrack(b: ProducerBatch): void {
    if (!this.#inflight.delete(b)) return
    this.#acc.queue(b.topic, b.partition).inflight--
  }

  #retry(b: ProducerBatch, err: Error, free: boolean): void {
    b.lastError = err
    const now = Date.now()
    // Sequence-ordering retries (`free`) do not count against `retries`: they are not the batch's own failure.
    if (now - b.createdMs >= this.#o.deliveryTimeoutMs || (!free && b.attempts >= this.#o.retries) || this.#stopped) {
      this.#failForGood(b, err)
      return
    }
    b.attempts++
    b.retryAtMs = now + backoffMs(b.attempts, this.#o.retryBackoffMs, this.#o.retryBackoffMaxMs)
    this.#acc.reenqueue(b)
    this.#wake.soon()
  }

  #succeed(b: ProducerBatch, baseOffset: bigint, logAppendTimeMs: number | null): void {
    this.#untrack(b)
    if (this.#o.idempotent && b.producerId === this.#producerId && b.baseSequence >= 0) {
      this.#sequence(b.topic, b.partition).lastAcked = addSeq(b.baseSequence, b.count - 1)
    }
    this.#acc.release(b)
    b.complete(baseOffset, logAppendTimeMs)
    this.#releaseBuffer(b)
    this.#spaceFreed()
  }

  /** The broker has answered the last request carrying the batch: its buffer can take another batch. */
  #releaseBuffer(b: ProducerBatch): void {
    if (b.pooled === null) return
    this.#pool.give(b.pooled)
    b.pooled = null
    b.encoded = null
  }

  /** Fails a batch for good; a sequenced one leaves a gap, so the producer id must be renewed. */
  #failForGood(b: ProducerBatch, err: Error): void {
    this.#untrack(b)
    if (this.#o.idempotent && b.baseSequence >= 0 && b.producerId === this.#producerId) this.#requestReset()
    this.#finish(b, err)
  }

  #finish(b: ProducerBatch, err: Error): void {
    if (b.done) return
    this.#acc.release(b)
    b.fail(err)
    // When closing, a batch may still sit in a socket's write queue: leave its buffer alone.
    if (!this.#stopped && !this.#inflight.has(b)) this.#releaseBuffer(b)
    this.#spaceFreed()
  }

  #spaceFreed(): void {
    for (const f of this.#spaceWaiters.splice(0)) f()
  }

  // ---- producer id -------------------------------------------------------------

  #requestReset(): void {
    if (this.#pidState === 'ready') this.#pidState = 'reset-pending'
  }

  #initProducerId(): void {
    this.#pidState = 'initializing'
    this.cluster
      .send(
        'any',
        InitProducerId,
        { transactionalId: null, transactionTimeoutMs: 2147483647, producerId: -1n, producerEpoch: -1 },
        { errorCode: (r) => r.errorCode, deadlineMs: this.#o.maxBlockMs },
      )
      .then((res) => {
        if (res.errorCode !== ErrorCode.NONE) throw new KafkaError(res.errorCode, `InitProducerId failed: ${errorInfo(res.errorCode).name}`)
        this.#producerId = res.producerId
        this.#producerEpoch = res.producerEpoch
        this.#sequences.clear()
        // Batches waiting for a retry keep their order under the new id: renumber them from 0.
        for (const q of this.#acc.queues()) {
          for (const b of q.batches) {
            if (b.baseSequence < 0) continue
            const st = this.#sequence(q.topic, q.partition)
            b.producerId = this.#producerId
            b.producerEpoch = this.#producerEpoch
            b.baseSequence = st.next
            st.next = addSeq(st.next, b.count)
          }
        }
        this.#pidState = 'ready'
        this.#wake.soon()
      })
      .catch((err: unknown) => {
        this.#pidState = 'none'
        const e = err instanceof Error ? err : new ClientError(String(err), false)
        // Without a producer id nothing can be sent: fail what is queued rather than let it wait out deliveryTimeoutMs.
        for (const q of this.#acc.queues()) for (const b of q.batches.splice(0)) this.#finish(b, e)
        if (!this.#stopped) this.#wake.at(Date.now() + this.#o.retryBackoffMs)
      })
  }
}
