/**
 * The records inside a v2 batch (after decompression):
 * `length varint, attributes int8, timestampDelta varlong, offsetDelta varint,
 *  keyLength varint (-1 = null), key, valueLength varint, value,
 *  headerCount varint, [headerKeyLength varint, headerKey, headerValueLength varint, headerValue]`,
 * all varints zigzag.
 */
import { MalformedError, Reader, TruncatedError } from '../primitives/reader.ts'
import { Writer } from '../primitives/writer.ts'
import { CorruptBatchError } from './batch-error.ts'

export interface RecordHeader {
  key: string
  value: Buffer | null
}

export interface KafkaRecord {
  offset: bigint
  timestamp: bigint
  key: Buffer | null
  value: Buffer | null
  headers: RecordHeader[]
}

export interface RecordInput {
  key?: Buffer | string | null
  value: Buffer | string | null
  timestamp?: bigint | number
  headers?: { key: string; value: Buffer | string | null }[]
}

/** Smallest possible record: one byte each for length, attributes, timestampDelta, offsetDelta, keyLength, valueLength, headerCount. */
export const MIN_RECORD_SIZE = 7
/** The same minus the length prefix: the least a record's `length` may claim. */
const MIN_RECORD_BODY = MIN_RECORD_SIZE - 1

function bytesOf(v: Buffer | string | null | undefined): Buffer | null {
  if (v === null || v === undefined) return null
  return typeof v === 'string' ? Buffer.from(v, 'utf8') : v
}

function uvarintSize(u: number): number {
  return u < 0x80 ? 1 : u < 0x4000 ? 2 : u < 0x200000 ? 3 : u < 0x10000000 ? 4 : 5
}

function varintSize(v: number): number {
  return uvarintSize(((v << 1) ^ (v >> 31)) >>> 0)
}

function varlongSize(v: bigint): number {
  let u = BigInt.asUintN(64, (v << 1n) ^ (v >> 63n))
  let n = 1
  while (u >= 0x80n) {
    u >>= 7n
    n++
  }
  return n
}

function sizedBytes(b: Buffer | null): number {
  return b === null ? 1 : varintSize(b.length) + b.length
}

function writeBytes(w: Writer, b: Buffer | null): void {
  if (b === null) {
    w.varint(-1)
  } else {
    w.varint(b.length)
    w.raw(b)
  }
}

/**
 * Encodes `records` with offset deltas 0..n-1 and timestamps relative to
 * `baseTimestamp`. `timestamps[i]` is record i's absolute timestamp.
 */
export function encodeRecords(records: RecordInput[], timestamps: bigint[], baseTimestamp: bigint): Buffer {
  const w = new Writer(Math.max(256, records.length * 32))
  for (let i = 0; i < records.length; i++) {
    const r = records[i] as RecordInput
    const key = bytesOf(r.key)
    const value = bytesOf(r.value)
    const headers = (r.headers ?? []).map((h) => ({ key: Buffer.from(h.key, 'utf8'), value: bytesOf(h.value) }))
    const tsDelta = (timestamps[i] as bigint) - baseTimestamp
    let size = 1 + varlongSize(tsDelta) + varintSize(i) + sizedBytes(key) + sizedBytes(value) + varintSize(headers.length)
    for (const h of headers) size += sizedBytes(h.key) + sizedBytes(h.value)
    w.varint(size).int8(0).varlong(tsDelta).varint(i)
    writeBytes(w, key)
    writeBytes(w, value)
    w.varint(headers.length)
    for (const h of headers) {
      writeBytes(w, h.key)
      writeBytes(w, h.value)
    }
  }
  return w.toBuffer()
}

export interface RecordContext {
  baseOffset: bigint
  baseTimestamp: bigint
  /** For LogAppendTime batches every record's timestamp is the batch's maxTimestamp. */
  logAppendTime: bigint | null
}

function nullableBytes(r: Reader, what: string): Buffer | null {
  const n = r.varint()
  if (n < -1) throw new CorruptBatchError(`negative ${what} length ${n}`)
  return n === -1 ? null : r.bytes(n)
}

/**
 * Decodes exactly `count` records filling `buf[start, end)`. Keys, values and
 * header values are views into `buf`, not copies. A count the bytes cannot hold
 * is rejected before anything is allocated for it.
 */
export function decodeRecords(buf: Buffer, start: number, end: number, count: number, ctx: RecordContext): KafkaRecord[] {
  if (count < 0) throw new CorruptBatchError(`negative record count ${count}`)
  if (count > (end - start) / MIN_RECORD_SIZE) {
    throw new CorruptBatchError(`record count ${count} is more than ${end - start} bytes of records can hold`)
  }
  const r = new Reader(buf, start, end)
  const records: KafkaRecord[] = []
  try {
    for (let i = 0; i < count; i++) {
      const length = r.varint()
      if (length < MIN_RECORD_BODY || length > r.remaining) throw new CorruptBatchError(`record ${i} has bad length ${length}`)
      const recordEnd = r.offset + length
      r.int8() // attributes: unused in v2
      const tsDelta = r.varlong()
      const offsetDelta = r.varint()
      const key = nullableBytes(r, 'key')
      const value = nullableBytes(r, 'value')
      const headerCount = r.varint()
      // Each header takes at least two bytes (two lengths), which bounds a lying count.
      if (headerCount < 0 || headerCount > (recordEnd - r.offset) / 2)
        throw new CorruptBatchError(`record ${i} has bad header count ${headerCount}`)
      const headers: RecordHeader[] = []
      for (let h = 0; h < headerCount; h++) {
        const keyLen = r.varint()
        if (keyLen < 0) throw new CorruptBatchError(`record ${i} has a header with null key`)
        const hk = r.utf8(keyLen)
        headers.push({ key: hk, value: nullableBytes(r, 'header value') })
      }
      if (r.offset !== recordEnd) throw new CorruptBatchError(`record ${i} fields do not add up to its length ${length}`)
      records.push({
        offset: ctx.baseOffset + BigInt(offsetDelta),
        timestamp: ctx.logAppendTime ?? ctx.baseTimestamp + tsDelta,
        key,
        value,
        headers,
      })
    }
  } catch (err) {
    if (err instanceof TruncatedError || err instanceof MalformedError)
      throw new CorruptBatchError(`records: ${err.message}`, { cause: err })
    throw err
  }
  if (r.offset !== end) throw new CorruptBatchError(`${end - r.offset} bytes left over after ${count} records`)
  return records
}
