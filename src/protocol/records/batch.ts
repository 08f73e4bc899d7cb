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
import { decodeRecords, encodeRecords, type KafkaRecord, type RecordInput } from './record.ts'

export { CorruptBatchError } from './batch-error.ts'
export { type BatchCheck, BatchErrorCode, type CheckOptions, checkBatch } from './check.ts'
export type { Codec } from './compression.ts'
export type { KafkaRecord, RecordHeader, RecordInput } from './record.ts'

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

interface Plan {
  input: BatchInput
  codec: Codec
  body: Buffer
  attributes: number
  baseTimestamp: bigint
  maxTimestamp: bigint
}

/**
 * Timestamps follow Kafka's producer: each record has its own (default: the
 * batch timestamp, else now), baseTimestamp is the first record's, and
 * maxTimestamp the largest. A LogAppendTime batch's maxTimestamp is the append
 * time, which readers then report for every record.
 */
function plan(input: BatchInput): Plan {
  const codec = input.compression ?? 0
  if (!isCodec(codec)) throw new UnsupportedCodecError(codec)
  const fallback = input.timestamp !== undefined ? BigInt(input.timestamp) : BigInt(Date.now())
  const timestamps = input.records.map((r) => (r.timestamp !== undefined ? BigInt(r.timestamp) : fallback))
  const baseTimestamp = input.timestamp !== undefined ? fallback : (timestamps[0] ?? fallback)
  let maxTimestamp = NO_TIMESTAMP
  for (const t of timestamps) if (t > maxTimestamp) maxTimestamp = t
  if (input.logAppendTime) maxTimestamp = fallback
  let attributes = codec
  if (input.logAppendTime) attributes |= Attr.timestampType
  if (input.transactional) attributes |= Attr.transactional
  if (input.control) attributes |= Attr.control
  return { input, codec, body: encodeRecords(input.records, timestamps, baseTimestamp), attributes, baseTimestamp, maxTimestamp }
}

function assemble(p: Plan, payload: Buffer): Buffer {
  const { input } = p
  const buf = Buffer.allocUnsafe(BATCH_HEADER_SIZE + payload.length)
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
  payload.copy(buf, Off.records)
  buf.writeUInt32BE(crc32c(buf.subarray(CRC_START)), Off.crc)
  return buf
}

/** Encodes one batch, compressing synchronously. */
export function encodeBatch(input: BatchInput): Buffer {
  const p = plan(input)
  return assemble(p, compressSync(p.codec, p.body))
}

/** Encodes one batch with the codec's async form, so a large batch does not block the event loop. */
export async function encodeBatchAsync(input: BatchInput): Promise<Buffer> {
  const p = plan(input)
  return assemble(p, await compress(p.codec, p.body))
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

function finish(h: Header, data: Buffer, start: number, end: number): DecodedBatch {
  const { recordCount, size, ...fields } = h
  const records = decodeRecords(data, start, end, recordCount, {
    baseOffset: h.baseOffset,
    baseTimestamp: h.baseTimestamp,
    logAppendTime: h.logAppendTime ? h.maxTimestamp : null,
  })
  return { ...fields, records }
}

function codecFailure(err: unknown): never {
  if (err instanceof CompressionError) throw new CorruptBatchError(err.message, { cause: err })
  throw err
}

/**
 * Decodes the batch at `buf[at]`: verifies the CRC, decompresses synchronously
 * and decodes every record. Record keys and values are views into `buf` (or into
 * the decompressed bytes): copy them to keep them beyond `buf`'s lifetime.
 */
export function decodeBatch(buf: Buffer, at = 0): DecodedBatch {
  const h = readHeader(buf, at)
  const start = at + Off.records
  const end = at + h.size
  if (h.compression === 0) return finish(h, buf, start, end)
  let data: Buffer
  try {
    data = decompressSync(h.compression, buf.subarray(start, end))
  } catch (err) {
    codecFailure(err)
  }
  return finish(h, data, 0, data.length)
}

/** As `decodeBatch`, decompressing off the event loop where the codec allows it. */
export async function decodeBatchAsync(buf: Buffer, at = 0): Promise<DecodedBatch> {
  const h = readHeader(buf, at)
  const start = at + Off.records
  const end = at + h.size
  if (h.compression === 0) return finish(h, buf, start, end)
  let data: Buffer
  try {
    data = await decompress(h.compression, buf.subarray(start, end))
  } catch (err) {
    codecFailure(err)
  }
  return finish(h, data, 0, data.length)
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
