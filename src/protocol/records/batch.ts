/**
 * Record batch v2 (magic 2): encode, decode, and walk concatenated batches.
 * Header layout is in batch-header.ts, records in record.ts, the produce-time
 * check in check.ts (re-exported here so callers have one import).
 */

import { CorruptBatchError } from './batch-error.ts'
import { Attr, BATCH_HEADER_SIZE, batchHeader, CRC_START, LOG_OVERHEAD, Off } from './batch-header.ts'
import {
  type Codec,
  CompressionError,
  compress,
  compressSync,
  decompress,
  decompressSync,
  isCodec,
  UnsupportedCodecError,
} from './compression.ts'
import { crc32c } from './crc32c.ts'
import {
  decodeRecords,
  decodeRecordsWith,
  encodeRecords,
  type KafkaRecord,
  measureRecords,
  type RecordBuilder,
  type RecordContext,
  type RecordInput,
  writeRecords,
} from './record.ts'

export { CorruptBatchError } from './batch-error.ts'
export { type BatchCheck, BatchErrorCode, type CheckOptions, checkBatch } from './check.ts'
export type { Codec } from './compression.ts'
export type { KafkaRecord, RecordBuilder, RecordHeader, RecordInput } from './record.ts'

export interface DecodedBatch {
  baseOffset: bigint
  batchLength: number
  partitionLeaderEpoch: number
  magic: number
  crc: number
  attributes: number
  compression: number
  logAppendTime: boolean
  isTransactional: boolean
  isControl: boolean
  lastOffsetDelta: number
  baseTimestamp: bigint
  maxTimestamp: bigint
  producerId: bigint
  producerEpoch: number
  baseSequence: number
  records: KafkaRecord[]
}

export interface BatchInput {
  records: RecordInput[]
  compression?: Codec
  baseOffset?: bigint
  partitionLeaderEpoch?: number
  producerId?: bigint
  producerEpoch?: number
  baseSequence?: number
  transactional?: boolean
  control?: boolean
  logAppendTime?: boolean
  /** Base timestamp; defaults to the first record's timestamp, else now. */
  timestamp?: bigint | number
}

/** Kafka's RecordBatch.NO_TIMESTAMP. */
const NO_TIMESTAMP = -1n

/**
 * Timestamps follow Kafka's producer: each record has its own (default: the
 * batch timestamp, else now), baseTimestamp is the first record's, and
 * maxTimestamp the largest. A LogAppendTime batch's maxTimestamp is the append
 * time, which readers then report for every record.
 */
interface Plan {
  input: BatchInput
  codec: Codec
  attributes: number
  baseTimestamp: bigint
  maxTimestamp: bigint
  /** Bytes of the encoded records (before compression). */
  bodySize: number
  /** Writes the encoded records at `buf[at]`. */
  writeBody: (buf: Buffer, at: number) => void
}

function attributesOf(input: BatchInput, codec: Codec): number {
  let attributes = codec
  if (input.logAppendTime) attributes |= Attr.timestampType
  if (input.transactional) attributes |= Attr.transactional
  if (input.control) attributes |= Attr.control
  return attributes
}

/**
 * The common case (a producer's records, all with number timestamps): no BigInt
 * per record and no intermediate buffers; null when any timestamp is a bigint or
 * too far from the base for exact number arithmetic.
 */
function planNumbers(input: BatchInput, codec: Codec): Plan | null {
  if (typeof input.timestamp === 'bigint') return null
  const records = input.records
  const fallback = input.timestamp ?? Date.now()
  let base = fallback
  let max = -1
  for (let i = 0; i < records.length; i++) {
    const t = (records[i] as RecordInput).timestamp
    if (t === undefined) {
      if (i === 0 && input.timestamp === undefined) base = fallback
      if (fallback > max) max = fallback
      continue
    }
    if (typeof t !== 'number' || !Number.isSafeInteger(t)) return null
    if (i === 0 && input.timestamp === undefined) base = t
    if (t > max) max = t
  }
  if (!Number.isSafeInteger(base)) return null
  const bodySize = measureRecords(records, base, fallback)
  if (bodySize < 0) return null
  return {
    input,
    codec,
    attributes: attributesOf(input, codec),
    baseTimestamp: BigInt(base),
    maxTimestamp: input.logAppendTime ? BigInt(fallback) : records.length === 0 ? NO_TIMESTAMP : BigInt(max),
    bodySize,
    writeBody: (buf, at) => {
      writeRecords(buf, at, records, base, fallback)
    },
  }
}

function plan(input: BatchInput): Plan {
  const codec = input.compression ?? 0
  if (!isCodec(codec)) throw new UnsupportedCodecError(codec)
  const fast = planNumbers(input, codec)
  if (fast) return fast
  const fallback = input.timestamp !== undefined ? BigInt(input.timestamp) : BigInt(Date.now())
  const timestamps = input.records.map((r) => (r.timestamp !== undefined ? BigInt(r.timestamp) : fallback))
  const baseTimestamp = input.timestamp !== undefined ? fallback : (timestamps[0] ?? fallback)
  let maxTimestamp = NO_TIMESTAMP
  for (const t of timestamps) if (t > maxTimestamp) maxTimestamp = t
  if (input.logAppendTime) maxTimestamp = fallback
  const body = encodeRecords(input.records, timestamps, baseTimestamp)
  return {
    input,
    codec,
    attributes: attributesOf(input, codec),
    baseTimestamp,
    maxTimestamp,
    bodySize: body.length,
    writeBody: (buf, at) => {
      body.copy(buf, at)
    },
  }
}

/** The records alone (what gets compressed). */
function body(p: Plan): Buffer {
  const buf = Buffer.allocUnsafe(p.bodySize)
  p.writeBody(buf, 0)
  return buf
}

/** Where an encoded batch is written: a buffer of exactly `size` bytes (e.g. from a pool of reused buffers). */
export type BatchAllocator = (size: number) => Buffer

const freshBuffer: BatchAllocator = (size) => Buffer.allocUnsafe(size)

/** The whole batch; `payload` is the compressed records, or null to write the plain records in place. */
function assemble(p: Plan, payload: Buffer | null, alloc: BatchAllocator): Buffer {
  const { input } = p
  const size = BATCH_HEADER_SIZE + (payload === null ? p.bodySize : payload.length)
  const buf = alloc(size)
  if (buf.length !== size) throw new RangeError(`the batch allocator returned ${buf.length} bytes for ${size}`)
  const count = input.records.length
  buf.writeBigInt64BE(input.baseOffset ?? 0n, Off.baseOffset)
  buf.writeInt32BE(buf.length - LOG_OVERHEAD, Off.batchLength)
  buf.writeInt32BE(input.partitionLeaderEpoch ?? -1, Off.partitionLeaderEpoch)
  buf.writeInt8(2, Off.magic)
  buf.writeInt16BE(p.attributes, Off.attributes)
  buf.writeInt32BE(count - 1, Off.lastOffsetDelta)
  buf.writeBigInt64BE(p.baseTimestamp, Off.baseTimestamp)
  buf.writeBigInt64BE(p.maxTimestamp, Off.maxTimestamp)
  buf.writeBigInt64BE(input.producerId ?? -1n, Off.producerId)
  buf.writeInt16BE(input.producerEpoch ?? -1, Off.producerEpoch)
  buf.writeInt32BE(input.baseSequence ?? -1, Off.baseSequence)
  buf.writeInt32BE(count, Off.recordCount)
  if (payload === null) p.writeBody(buf, Off.records)
  else payload.copy(buf, Off.records)
  buf.writeUInt32BE(crc32c(buf.subarray(CRC_START)), Off.crc)
  return buf
}

/** Encodes one batch, compressing synchronously; `alloc` provides the batch's buffer. */
export function encodeBatch(input: BatchInput, alloc: BatchAllocator = freshBuffer): Buffer {
  const p = plan(input)
  return assemble(p, p.codec === 0 ? null : compressSync(p.codec, body(p)), alloc)
}

/** Encodes one batch with the codec's async form, so a large batch does not block the event loop. */
export async function encodeBatchAsync(input: BatchInput, alloc: BatchAllocator = freshBuffer): Promise<Buffer> {
  const p = plan(input)
  if (p.codec === 0) return assemble(p, null, alloc)
  return assemble(p, await compress(p.codec, body(p)), alloc)
}

interface Header extends Omit<DecodedBatch, 'records'> {
  recordCount: number
  size: number
}

/** Reads and verifies the header and CRC; throws CorruptBatchError. */
function readHeader(buf: Buffer, at: number): Header {
  if (at < 0 || buf.length - at < BATCH_HEADER_SIZE)
    throw new CorruptBatchError(`need ${BATCH_HEADER_SIZE} header bytes at ${at}, have ${Math.max(0, buf.length - at)}`)
  const batchLength = batchHeader.batchLength(buf, at)
  const size = batchLength + LOG_OVERHEAD
  if (size < BATCH_HEADER_SIZE) throw new CorruptBatchError(`batchLength ${batchLength} is smaller than the header`)
  if (at + size > buf.length) throw new CorruptBatchError(`truncated: batchLength says ${size} bytes, ${buf.length - at} available`)
  const magic = batchHeader.magic(buf, at)
  if (magic !== 2) throw new CorruptBatchError(`magic ${magic}, only 2 is supported`)
  const crc = batchHeader.crc(buf, at)
  const computed = crc32c(buf.subarray(at + CRC_START, at + size))
  if (crc !== computed) throw new CorruptBatchError(`CRC mismatch: stored 0x${crc.toString(16)}, computed 0x${computed.toString(16)}`)
  const attributes = batchHeader.attributes(buf, at)
  return {
    baseOffset: batchHeader.baseOffset(buf, at),
    batchLength,
    partitionLeaderEpoch: buf.readInt32BE(at + Off.partitionLeaderEpoch),
    magic,
    crc,
    attributes,
    compression: attributes & Attr.compressionMask,
    logAppendTime: (attributes & Attr.timestampType) !== 0,
    isTransactional: (attributes & Attr.transactional) !== 0,
    isControl: (attributes & Attr.control) !== 0,
    lastOffsetDelta: batchHeader.lastOffsetDelta(buf, at),
    baseTimestamp: batchHeader.baseTimestamp(buf, at),
    maxTimestamp: batchHeader.maxTimestamp(buf, at),
    producerId: batchHeader.producerId(buf, at),
    producerEpoch: batchHeader.producerEpoch(buf, at),
    baseSequence: batchHeader.baseSequence(buf, at),
    recordCount: batchHeader.recordCount(buf, at),
    size,
  }
}

function recordContext(h: Omit<DecodedBatch, 'records'>): RecordContext {
  return { baseOffset: h.baseOffset, baseTimestamp: h.baseTimestamp, logAppendTime: h.logAppendTime ? h.maxTimestamp : null }
}

function codecFailure(err: unknown): never {
  if (err instanceof CompressionError) throw new CorruptBatchError(err.message, { cause: err })
  throw err
}

/**
 * A batch whose header and CRC are verified (and whose records are decompressed)
 * but whose records are not decoded yet: `batchRecords` decodes them when they are
 * wanted, so a reader holds decoded records only for the batch it is reading.
 */
export interface BatchView extends Omit<DecodedBatch, 'records'> {
  recordCount: number
  /** The (decompressed) records are `data[start, end)`. */
  data: Buffer
  start: number
  end: number
}

function view(h: Header, data: Buffer, start: number, end: number): BatchView {
  const { size, ...fields } = h
  return { ...fields, data, start, end }
}

/** Verifies the batch at `buf[at]` and decompresses it synchronously; throws CorruptBatchError. */
export function viewBatch(buf: Buffer, at = 0): BatchView {
  const h = readHeader(buf, at)
  const start = at + Off.records
  const end = at + h.size
  if (h.compression === 0) return view(h, buf, start, end)
  let data: Buffer
  try {
    data = decompressSync(h.compression, buf.subarray(start, end))
  } catch (err) {
    codecFailure(err)
  }
  return view(h, data, 0, data.length)
}

/** As `viewBatch`, decompressing off the event loop where the codec allows it. */
export async function viewBatchAsync(buf: Buffer, at = 0): Promise<BatchView> {
  const h = readHeader(buf, at)
  const start = at + Off.records
  const end = at + h.size
  if (h.compression === 0) return view(h, buf, start, end)
  let data: Buffer
  try {
    data = await decompress(h.compression, buf.subarray(start, end))
  } catch (err) {
    codecFailure(err)
  }
  return view(h, data, 0, data.length)
}

/** Every record of a viewed batch decoded, keys and values being views into its bytes. */
function decodeView(v: BatchView): DecodedBatch {
  const { recordCount, data, start, end, ...fields } = v
  return { ...fields, records: decodeRecords(data, start, end, recordCount, recordContext(v)) }
}

/**
 * Decodes the batch at `buf[at]`: verifies the CRC, decompresses synchronously
 * and decodes every record. Record keys and values are views into `buf` (or into
 * the decompressed bytes): copy them to keep them beyond `buf`'s lifetime.
 */
export function decodeBatch(buf: Buffer, at = 0): DecodedBatch {
  return decodeView(viewBatch(buf, at))
}

/** As `decodeBatch`, decompressing off the event loop where the codec allows it. */
export async function decodeBatchAsync(buf: Buffer, at = 0): Promise<DecodedBatch> {
  return decodeView(await viewBatchAsync(buf, at))
}

/**
 * Decodes a viewed batch's records, `build` making each record's object; throws CorruptBatchError.
 * With `copySegments` > 0, keys and values are views into copies of the batch's bytes made that
 * many bytes at a time (see `decodeRecordsWith`), not into the batch's own buffer.
 */
export function batchRecords<T>(v: BatchView, build: RecordBuilder<T>, copySegments = 0): T[] {
  return decodeRecordsWith(v.data, v.start, v.end, v.recordCount, recordContext(v), build, copySegments)
}

/**
 * Walks concatenated batches by their length fields alone. Stops at a truncated
 * tail (Fetch responses may end mid-batch) and at a length too small to be a v2
 * batch; callers compare the last span's end with `buf.length` to tell the two
 * from a clean end.
 */
export function* batchSpans(buf: Buffer): Generator<{ at: number; size: number }> {
  let at = 0
  while (at + LOG_OVERHEAD <= buf.length) {
    const size = batchHeader.totalSize(buf, at)
    if (size < BATCH_HEADER_SIZE || at + size > buf.length) return
    yield { at, size }
    at += size
  }
}

/** Decodes every complete batch of a record set; a truncated trailing batch is ignored. */
export function decodeBatches(buf: Buffer): DecodedBatch[] {
  const out: DecodedBatch[] = []
  for (const s of batchSpans(buf)) out.push(decodeBatch(buf, s.at))
  return out
}

/**
 * The type of a control record (transaction marker), from its key
 * `int16 version, int16 type`; null for anything else. Only meaningful for
 * records of a batch with `isControl`.
 */
export function controlType(record: Pick<KafkaRecord, 'key'>): 'abort' | 'commit' | null {
  const key = record.key
  if (key === null || key.length < 4) return null
  const type = key.readInt16BE(2)
  return type === 0 ? 'abort' : type === 1 ? 'commit' : null
}

/**
 * A transaction marker record for a control batch (`control: true,
 * transactional: true`): key `version 0, type`, value `version 0, coordinatorEpoch`.
 */
export function controlRecord(type: 'abort' | 'commit', coordinatorEpoch: number): RecordInput {
  const key = Buffer.alloc(4)
  key.writeInt16BE(type === 'commit' ? 1 : 0, 2)
  const value = Buffer.alloc(6)
  value.writeInt32BE(coordinatorEpoch, 2)
  return { key, value }
}

/**
 * Switches a stored batch to LogAppendTime in place, as Kafka's broker does when
 * a topic has `message.timestamp.type=LogAppendTime`: sets the attribute bit and
 * maxTimestamp, then recomputes the CRC (both fields are inside it).
 */
export function stampLogAppendTime(buf: Buffer, at: number, time: bigint): void {
  const size = batchHeader.totalSize(buf, at)
  buf.writeInt16BE(batchHeader.attributes(buf, at) | Attr.timestampType, at + Off.attributes)
  buf.writeBigInt64BE(time, at + Off.maxTimestamp)
  buf.writeUInt32BE(crc32c(buf.subarray(at + CRC_START, at + size)), at + Off.crc)
}
