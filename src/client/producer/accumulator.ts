/**
 * Per-partition queues of batches. Records join the newest open batch of their
 * partition until it reaches `batchSize`; a batch is ready once it is full, is
 * followed by another, has waited `lingerMs`, or a flush is under way. Time
 * comes in as arguments, so the logic is tested without sleeping.
 */
import type { RecordHeader } from '../../protocol/records/batch.ts'

/** A record after `send()` has normalised it: bytes, a timestamp, and its promise's settlers. */
export interface PendingRecord {
  key: Buffer | null
  value: Buffer | null
  headers: { key: string; value: Buffer | null }[]
  timestamp: number
  /** Estimated encoded size inside a batch. */
  size: number
  /** `timestamp`: the record's own, or the broker's append time (ms since the epoch). */
  resolve: (offset: bigint, timestamp: bigint) => void
  reject: (err: Error) => void
}

/** A producer sequence number `n` records after `seq`: sequences wrap at 2^31 (Kafka's int32 sequence space). */
export function addSeq(seq: number, n: number): number {
  return (seq + n) % 0x80000000
}

/** Kafka's v2 batch header. */
export const BATCH_OVERHEAD = 61

/** An upper bound on a record's encoded size: its bytes plus the varints that frame them. */
export function estimateRecordSize(key: Buffer | null, value: Buffer | null, headers: readonly RecordHeader[]): number {
  let n = 21 + (key?.length ?? 0) + (value?.length ?? 0)
  for (const h of headers) n += 10 + Buffer.byteLength(h.key) + (h.value?.length ?? 0)
  return n
}

export class ProducerBatch {
  readonly topic: string
  readonly partition: number
  readonly createdMs: number
  readonly records: PendingRecord[] = []
  sizeBytes = BATCH_OVERHEAD
  /** No more records may join (drained once, or full). */
  closed = false
  attempts = 0
  retryAtMs = 0
  lastError: Error | null = null
  // Idempotence stamp; baseSequence -1 until the batch is first drained.
  producerId = -1n
  producerEpoch = -1
  baseSequence = -1
  /** The encoded batch, kept for retries (restamped in place if the producer id changes). */
  encoded: Buffer | null = null
  /** The pooled buffer `encoded` lies in, returned to the pool once the batch is done (null: not pooled). */
  pooled: Buffer | null = null
  /** Resolves (never rejects) once every record of the batch has its outcome. */
  readonly settled: Promise<void>
  #settle: () => void = () => {}
  #done = false

  constructor(topic: string, partition: number, nowMs: number) {
    this.topic = topic
    this.partition = partition
    this.createdMs = nowMs
    this.settled = new Promise<void>((resolve) => (this.#settle = resolve))
  }

  get count(): number {
    return this.records.length
  }

  get done(): boolean {
    return this.#done
  }

  /** Adds the record if it fits; an empty batch takes any record, so an oversized one still goes out alone. */
  tryAppend(r: PendingRecord, batchSize: number): boolean {
    if (this.closed) return false
    if (this.records.length > 0 && this.sizeBytes + r.size > batchSize) return false
    this.records.push(r)
    this.sizeBytes += r.size
    return true
  }

  /**
   * Splits a batch the broker refused as too large into two halves of its records, in order,
   * each keeping this batch's stamp: the producer id and, for the second, the base sequence moved
   * on by the first's record count, so the partition's sequence numbers stay contiguous. This
   * batch settles once both halves have.
   */
  split(nowMs: number): [ProducerBatch, ProducerBatch] {
    const mid = Math.ceil(this.records.length / 2)
    const halves = [this.records.slice(0, mid), this.records.slice(mid)].map((records, i) => {
      const h = new ProducerBatch(this.topic, this.partition, this.createdMs)
      for (const r of records) {
        h.records.push(r)
        h.sizeBytes += r.size
      }
      h.closed = true
      h.attempts = Math.max(1, this.attempts)
      h.retryAtMs = nowMs
      h.lastError = this.lastError
      h.producerId = this.producerId
      h.producerEpoch = this.producerEpoch
      h.baseSequence = this.baseSequence < 0 ? -1 : addSeq(this.baseSequence, i === 0 ? 0 : mid)
      return h
    }) as [ProducerBatch, ProducerBatch]
    this.#done = true
    void Promise.all(halves.map((h) => h.settled)).then(() => this.#settle())
    return halves
  }

  complete(baseOffset: bigint, logAppendTimeMs: number | null): void {
    if (this.#done) return
    this.#done = true
    // One BigInt per record for its offset (the previous one plus 1n), and one per distinct timestamp:
    // records of a batch mostly share their millisecond.
    const known = baseOffset >= 0n
    let offset = known ? baseOffset - 1n : -1n
    let lastMs = logAppendTimeMs ?? Number.NaN
    let lastTs = logAppendTimeMs === null ? 0n : BigInt(logAppendTimeMs)
    for (let i = 0; i < this.records.length; i++) {
      const r = this.records[i] as PendingRecord
      if (known) offset += 1n
      if (logAppendTimeMs === null && r.timestamp !== lastMs) {
        lastMs = r.timestamp
        lastTs = BigInt(r.timestamp)
      }
      r.resolve(offset, lastTs)
    }
    this.#settle()
  }

  fail(err: Error): void {
    if (this.#done) return
    this.#done = true
    for (const r of this.records) r.reject(err)
    this.#settle()
  }
}

export interface DrainLimits {
  lingerMs: number
  /** True while a flush or close wants everything sent now. */
  flushing: boolean
}

export class PartitionQueue {
  readonly topic: string
  readonly partition: number
  readonly batches: ProducerBatch[] = []
  /** Batches of this partition currently in flight. */
  inflight = 0

  constructor(topic: string, partition: number) {
    this.topic = topic
    this.partition = partition
  }

  get head(): ProducerBatch | undefined {
    return this.batches[0]
  }

  /** Whether the head batch may be sent at `now`, and if not, when it will be (Infinity = not by time alone). */
  readiness(nowMs: number, limits: DrainLimits): { ready: boolean; atMs: number } {
    const b = this.batches[0]
    if (!b) return { ready: false, atMs: Number.POSITIVE_INFINITY }
    if (b.attempts > 0) return b.retryAtMs <= nowMs ? { ready: true, atMs: nowMs } : { ready: false, atMs: b.retryAtMs }
    if (b.closed || this.batches.length > 1 || limits.flushing) return { ready: true, atMs: nowMs }
    const at = b.createdMs + limits.lingerMs
    return at <= nowMs ? { ready: true, atMs: nowMs } : { ready: false, atMs: at }
  }
}

export class RecordAccumulator {
  readonly batchSize: number
  /** Queues by topic, then by partition. */
  readonly #byTopic = new Map<string, PartitionQueue[]>()
  readonly #queues: PartitionQueue[] = []
  /** Bytes of records accepted and not yet completed, for `bufferMemory`. */
  bufferedBytes = 0
  /** Bytes of batches filled since the producer last reset this: how much is ready to send. */
  filledBytes = 0

  constructor(batchSize: number) {
    this.batchSize = batchSize
  }

  queue(topic: string, partition: number): PartitionQueue {
    let list = this.#byTopic.get(topic)
    if (list === undefined) {
      list = []
      this.#byTopic.set(topic, list)
    }
    let q = list[partition]
    if (q === undefined) {
      q = new PartitionQueue(topic, partition)
      list[partition] = q
      this.#queues.push(q)
    }
    return q
  }

  /** Every partition queue, in the order they were first used. */
  queues(): IterableIterator<PartitionQueue> {
    return this.#queues.values()
  }

  /**
   * Appends to the partition's open batch. With `abortOnNewBatch`, returns
   * 'new-batch-needed' instead of opening a batch, so the sticky partitioner
   * can move on first (KIP-480).
   */
  append(topic: string, partition: number, r: PendingRecord, nowMs: number, abortOnNewBatch = false): 'appended' | 'new-batch-needed' {
    const q = this.queue(topic, partition)
    const last = q.batches[q.batches.length - 1]
    if (last?.tryAppend(r, this.batchSize)) {
      if (last.sizeBytes >= this.batchSize) this.#fill(last)
      this.bufferedBytes += r.size
      return 'appended'
    }
    if (last) this.#fill(last)
    if (abortOnNewBatch) return 'new-batch-needed'
    const b = new ProducerBatch(topic, partition, nowMs)
    b.tryAppend(r, this.batchSize)
    if (b.sizeBytes >= this.batchSize) this.#fill(b)
    q.batches.push(b)
    this.bufferedBytes += r.size
    return 'appended'
  }

  /** Closes a batch that takes no more records (full, or followed by a new one); it is ready to send. */
  #fill(b: ProducerBatch): void {
    if (b.closed) return
    b.closed = true
    this.filledBytes += b.sizeBytes
  }

  /** Puts a batch back for a retry, ahead of newer batches, in sequence order when it has one. */
  reenqueue(b: ProducerBatch): void {
    const q = this.queue(b.topic, b.partition)
    let i = 0
    if (b.baseSequence >= 0) {
      while (i < q.batches.length) {
        const other = q.batches[i] as ProducerBatch
        if (other.baseSequence < 0 || other.baseSequence > b.baseSequence) break
        i++
      }
    } else {
      while (i < q.batches.length && (q.batches[i] as ProducerBatch).attempts > 0) i++
    }
    q.batches.splice(i, 0, b)
  }

  /** Called once per batch when it completes or fails for good. */
  release(b: ProducerBatch): void {
    for (const r of b.records) this.bufferedBytes -= r.size
  }

  /** Removes and returns queued (not in-flight) batches older than `deliveryTimeoutMs`. */
  expire(nowMs: number, deliveryTimeoutMs: number): ProducerBatch[] {
    const out: ProducerBatch[] = []
    for (const q of this.#queues) {
      while (q.batches.length > 0 && nowMs - (q.batches[0] as ProducerBatch).createdMs >= deliveryTimeoutMs) {
        out.push(q.batches.shift() as ProducerBatch)
      }
    }
    return out
  }

  /** Every queued batch, oldest first per partition. */
  *batches(): Generator<ProducerBatch> {
    for (const q of this.#queues) yield* q.batches
  }

  isEmpty(): boolean {
    for (const q of this.#queues) if (q.batches.length > 0) return false
    return true
  }
}
