import { Fetch } from '../../protocol/apis/index.ts'
import { ErrorCode } from '../../protocol/errors.ts'
import { batchSpans } from '../../protocol/records/batch.ts'
import { batchHeader, Compression } from '../../protocol/records/batch-header.ts'
import { ZERO_UUID } from '../../protocol/schema/codec.ts'
import type { StructOf } from '../../protocol/schema/dsl.ts'
import type { BufferPool } from '../../util/buffer-pool.ts'
import type { BrokerContext } from '../context.ts'
import { AppendNotifier } from '../produce/append-notifier.ts'
import { defineHandler } from './handler.ts'

type FetchRequest = StructOf<typeof Fetch.request>
const EMPTY: Buffer = Buffer.alloc(0)
/** Our partitions' leader epoch: a single node that never changes leader. */
const LEADER_EPOCH = 0

interface Wanted {
  topic: string | null
  topicId: string
  partition: number
  fetchOffset: bigint
  maxBytes: number
  currentLeaderEpoch: number
}

function partitionError(p: Wanted, errorCode: number, hw = -1n, logStart = -1n) {
  return {
    partitionIndex: p.partition,
    errorCode,
    highWatermark: hw,
    lastStableOffset: hw,
    logStartOffset: logStart,
    abortedTransactions: [],
    preferredReadReplica: -1,
    records: EMPTY,
  }
}

function hasZstd(records: Buffer): boolean {
  for (const s of batchSpans(records)) if (batchHeader.compression(records, s.at) === Compression.zstd) return true
  return false
}

/** Reads of at least this many bytes go into a pooled buffer; smaller ones come from recycled heap anyway. */
const POOLED_READ_MIN = 64 * 1024

/**
 * The buffers one Fetch response reads its records into, taken from the broker's pool and given
 * back once the response is on the socket. Fresh multi-MiB buffers cost a page fault per 4 KiB,
 * which was a quarter of the broker's time serving fetches of 1 KiB records.
 */
class ReadLease {
  readonly #pool: BufferPool | undefined
  readonly #taken: Buffer[] = []
  constructor(pool: BufferPool | undefined) {
    this.#pool = pool
  }

  readonly alloc = (size: number): Buffer => {
    const b = size >= POOLED_READ_MIN ? this.#pool?.take(size) : null
    if (!b) return Buffer.allocUnsafe(size)
    this.#taken.push(b)
    return b.subarray(0, size)
  }

  release(): void {
    for (const b of this.#taken) this.#pool?.give(b)
    this.#taken.length = 0
  }
}

/** Reads what one fetch asks for; returns the response topics and the bytes they carry. */
function readAll(broker: BrokerContext, wanted: Wanted[], version: number, responseMaxBytes: number, alloc?: (size: number) => Buffer) {
  let budget = responseMaxBytes
  let total = 0
  const byTopic = new Map<string, { topic: string; topicId: string; partitions: ReturnType<typeof partitionError>[] }>()
  for (const p of wanted) {
    const key = p.topic ?? p.topicId
    let entry = byTopic.get(key)
    if (!entry) {
      entry = { topic: p.topic ?? '', topicId: p.topicId, partitions: [] }
      byTopic.set(key, entry)
    }
    if (p.topic === null) {
      entry.partitions.push(partitionError(p, ErrorCode.UNKNOWN_TOPIC_ID))
      continue
    }
    const log = broker.logs.partition(p.topic, p.partition)
    if (!log) {
      entry.partitions.push(partitionError(p, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION))
      continue
    }
    const hw = log.logEndOffset
    const start = log.logStartOffset
    if (p.currentLeaderEpoch > LEADER_EPOCH) {
      entry.partitions.push(partitionError(p, ErrorCode.UNKNOWN_LEADER_EPOCH, hw, start))
      continue
    }
    if (p.currentLeaderEpoch >= 0 && p.currentLeaderEpoch < LEADER_EPOCH) {
      entry.partitions.push(partitionError(p, ErrorCode.FENCED_LEADER_EPOCH, hw, start))
      continue
    }
    if (p.fetchOffset < start || p.fetchOffset > hw) {
      entry.partitions.push(partitionError(p, ErrorCode.OFFSET_OUT_OF_RANGE, hw, start))
      continue
    }
    let records: Buffer = EMPTY
    if (p.fetchOffset < hw && budget > 0) {
      // KIP-74: the first batch goes out even when it is larger than the limits, so a consumer never stalls on it.
      const limit = Math.min(p.maxBytes, budget)
      const read = log.read(p.fetchOffset, limit, { upTo: hw, minOneBatch: total === 0, alloc })
      records = read.records.length === 1 ? (read.records[0] as Buffer) : Buffer.concat(read.records)
      budget -= records.length
      total += records.length
    }
    if (version < 10 && records.length > 0 && hasZstd(records)) {
      entry.partitions.push(partitionError(p, ErrorCode.UNSUPPORTED_COMPRESSION_TYPE, hw, start))
      continue
    }
    entry.partitions.push({
      partitionIndex: p.partition,
      errorCode: ErrorCode.NONE,
      highWatermark: hw,
      lastStableOffset: hw,
      logStartOffset: start,
      abortedTransactions: [],
      preferredReadReplica: -1,
      records,
    })
  }
  return { topics: [...byTopic.values()], bytes: total }
}

function wantedPartitions(broker: BrokerContext, req: FetchRequest, version: number): Wanted[] {
  const out: Wanted[] = []
  for (const t of req.topics) {
    let name: string | null = t.topic
    if (version >= 13) name = t.topicId !== ZERO_UUID ? (broker.logs.topicById(t.topicId)?.name ?? null) : null
    for (const p of t.partitions) {
      out.push({
        topic: name,
        topicId: t.topicId,
        partition: p.partition,
        fetchOffset: p.fetchOffset,
        maxBytes: p.partitionMaxBytes,
        currentLeaderEpoch: p.currentLeaderEpoch,
      })
    }
  }
  return out
}

export const fetchHandler = defineHandler(Fetch, { min: 4, max: 17 }, (ctx, req) => {
  const { broker, version } = ctx
  // Fetch sessions (KIP-227) are not kept: session id 0 tells the client to send full fetches.
  if (req.sessionId !== 0) {
    return { throttleTimeMs: 0, errorCode: ErrorCode.FETCH_SESSION_ID_NOT_FOUND, sessionId: 0, responses: [] }
  }
  const wanted = wantedPartitions(broker, req, version)
  const maxBytes = req.maxBytes
  const toResponse = (topics: ReturnType<typeof readAll>['topics']) => ({
    throttleTimeMs: 0,
    errorCode: ErrorCode.NONE,
    sessionId: 0,
    responses: topics.map((t) => ({ topic: t.topic, topicId: t.topicId, partitions: t.partitions })),
  })
  const respond = () => {
    const lease = new ReadLease(broker.readBuffers)
    const topics = readAll(broker, wanted, version, maxBytes, lease.alloc).topics
    ctx.afterSend(() => lease.release())
    return toResponse(topics)
  }
  const firstLease = new ReadLease(broker.readBuffers)
  const first = readAll(broker, wanted, version, maxBytes, firstLease.alloc)
  const anyError = first.topics.some((t) => t.partitions.some((p) => p.errorCode !== ErrorCode.NONE))
  if (first.bytes >= req.minBytes || req.maxWaitMs <= 0 || anyError || wanted.length === 0) {
    ctx.afterSend(() => firstLease.release())
    return toResponse(first.topics)
  }
  // Not sent: nothing refers to what it read.
  firstLease.release()
  // Long poll: park until enough bytes arrive on any wanted partition, or max.wait.ms passes.
  return new Promise((resolve) => {
    const keys = wanted.filter((w) => w.topic !== null).map((w) => AppendNotifier.key(w.topic as string, w.partition))
    let settled = false
    const finish = () => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      unregister()
      resolve(respond())
    }
    const timer = setTimeout(finish, req.maxWaitMs)
    const unregister = broker.appends.wait(keys, () => {
      if (req.minBytes <= 1 || readAll(broker, wanted, version, maxBytes).bytes >= req.minBytes) finish()
    })
    ctx.conn.onClose(finish)
  })
})
