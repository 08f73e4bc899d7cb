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
 * `baseTimestamp`. `timestamps[i]` is record i's absolute timestamp. The
 * general form, for timestamps that need 64 bits; `measureRecords` and
 * `writeRecords` are the allocation-free form for number timestamps.
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

// ---- the number-timestamp form: sizes first, then every byte written once into the caller's buffer ----

/** Timestamp deltas below this magnitude are zigzag-encoded exactly in float64 arithmetic (2·|d| < 2^53). */
export const MAX_NUMBER_DELTA = 2 ** 51

/** Byte length of a key or value as encoded (-1 = null); strings count their UTF-8 bytes. */
function lengthOf(v: Buffer | string | null | undefined): number {
  if (v === null || v === undefined) return -1
  return typeof v === 'string' ? Buffer.byteLength(v, 'utf8') : v.length
}

/** Zigzag varlong size of a safe integer. */
function zigzagSize(v: number): number {
  if (v >= -0x40000000 && v < 0x40000000) return varintSize(v)
  let u = v >= 0 ? v * 2 : -v * 2 - 1
  let n = 1
  while (u >= 128) {
    u = Math.floor(u / 128)
    n++
  }
  return n
}

function putUvarint(buf: Buffer, at: number, v: number): number {
  let x = v >>> 0
  while (x >= 0x80) {
    buf[at++] = (x & 0x7f) | 0x80
    x >>>= 7
  }
  buf[at++] = x
  return at
}

function putVarint(buf: Buffer, at: number, v: number): number {
  return putUvarint(buf, at, (v << 1) ^ (v >> 31))
}

function putZigzag(buf: Buffer, at: number, v: number): number {
  if (v >= -0x40000000 && v < 0x40000000) return putVarint(buf, at, v)
  let u = v >= 0 ? v * 2 : -v * 2 - 1
  while (u >= 128) {
    buf[at++] = (u % 128) | 0x80
    u = Math.floor(u / 128)
  }
  buf[at++] = u
  return at
}

/** Writes a key, value or header value of byte length `n` (from `lengthOf`), with its varint length. */
function putBytes(buf: Buffer, at: number, v: Buffer | string | null | undefined, n: number): number {
  at = putVarint(buf, at, n)
  if (n <= 0) return at
  if (typeof v === 'string') buf.write(v, at, n, 'utf8')
  else buf.set(v as Buffer, at)
  return at + n
}

let sizeScratch = new Int32Array(1024)

/**
 * Sizes of `records` encoded with number timestamps: record i's timestamp is
 * `records[i].timestamp ?? fallback` (each a number: the caller checked), its
 * delta taken from `baseTimestamp`. Returns the total bytes, or -1 when a delta
 * is too large for number arithmetic (use `encodeRecords`). The per-record
 * sizes stay in a scratch array for the `writeRecords` call that must follow.
 */
export function measureRecords(records: readonly RecordInput[], baseTimestamp: number, fallback: number): number {
  if (sizeScratch.length < records.length) sizeScratch = new Int32Array(Math.max(records.length, sizeScratch.length * 2))
  const sizes = sizeScratch
  let total = 0
  for (let i = 0; i < records.length; i++) {
    const r = records[i] as RecordInput
    const delta = ((r.timestamp as number | undefined) ?? fallback) - baseTimestamp
    if (!(delta > -MAX_NUMBER_DELTA && delta < MAX_NUMBER_DELTA)) return -1
    const k = lengthOf(r.key)
    const v = lengthOf(r.value)
    let size = 1 + zigzagSize(delta) + varintSize(i) + varintSize(k) + Math.max(k, 0) + varintSize(v) + Math.max(v, 0)
    const headers = r.headers
    const hn = headers === undefined ? 0 : headers.length
    size += varintSize(hn)
    for (let h = 0; h < hn; h++) {
      const hd = (headers as NonNullable<RecordInput['headers']>)[h] as { key: string; value: Buffer | string | null }
      const hk = Buffer.byteLength(hd.key, 'utf8')
      const hv = lengthOf(hd.value)
      size += varintSize(hk) + hk + varintSize(hv) + Math.max(hv, 0)
    }
    sizes[i] = size
    total += uvarintSize(((size << 1) ^ (size >> 31)) >>> 0) + size
  }
  return total
}

/** Writes the records `measureRecords` just measured (same arguments) at `buf[at]`; returns the end. */
export function writeRecords(buf: Buffer, at: number, records: readonly RecordInput[], baseTimestamp: number, fallback: number): number {
  const sizes = sizeScratch
  for (let i = 0; i < records.length; i++) {
    const r = records[i] as RecordInput
    at = putVarint(buf, at, sizes[i] as number)
    buf[at++] = 0
    at = putZigzag(buf, at, ((r.timestamp as number | undefined) ?? fallback) - baseTimestamp)
    at = putVarint(buf, at, i)
    const key = r.key
    at = putBytes(buf, at, key, lengthOf(key))
    const value = r.value
    at = putBytes(buf, at, value, lengthOf(value))
    const headers = r.headers
    const hn = headers === undefined ? 0 : headers.length
    at = putVarint(buf, at, hn)
    for (let h = 0; h < hn; h++) {
      const hd = (headers as NonNullable<RecordInput['headers']>)[h] as { key: string; value: Buffer | string | null }
      at = putBytes(buf, at, hd.key, Buffer.byteLength(hd.key, 'utf8'))
      at = putBytes(buf, at, hd.value, lengthOf(hd.value))
    }
  }
  return at
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

/** Builds the object handed out for one decoded record (the fetcher builds its consumer records directly). */
export type RecordBuilder<T> = (offset: bigint, timestamp: bigint, key: Buffer | null, value: Buffer | null, headers: RecordHeader[]) => T

const kafkaRecord: RecordBuilder<KafkaRecord> = (offset, timestamp, key, value, headers) => ({ offset, timestamp, key, value, headers })

/**
 * Reads a zigzag varlong as a number when it fits in 49 bits (7 bytes, every
 * realistic timestamp delta), else returns null with the reader unmoved.
 */
function smallVarlong(r: Reader): number | null {
  const start = r.offset
  let result = 0
  let mul = 1
  for (let i = 0; i < 7; i++) {
    const b = r.uint8()
    result += (b & 0x7f) * mul
    if ((b & 0x80) === 0) return result % 2 === 0 ? result / 2 : -(result + 1) / 2
    mul *= 128
  }
  r.offset = start
  return null
}

/**
 * Decodes exactly `count` records filling `buf[start, end)`. Keys, values and
 * header values are views into `buf`, not copies. A count the bytes cannot hold
 * is rejected before anything is allocated for it.
 */
export function decodeRecords(buf: Buffer, start: number, end: number, count: number, ctx: RecordContext): KafkaRecord[] {
  return decodeRecordsWith(buf, start, end, count, ctx, kafkaRecord)
}

const NO_BYTES = Buffer.alloc(0)

/**
 * Where a segment of whole records starting at `buf[from]` ends: as many records as fit in
 * `max` bytes, at least one. A length that cannot be right ends the segment at `end`, where
 * decoding then reports it.
 */
function segmentEnd(buf: Buffer, from: number, end: number, max: number): number {
  let q = from
  while (q < end) {
    let u = 0
    let shift = 0
    let p = q
    let b: number
    do {
      if (p >= end || shift > 28) return end
      b = buf[p++] as number
      u |= (b & 0x7f) << shift
      shift += 7
    } while (b & 0x80)
    const length = (u >>> 1) ^ -(u & 1)
    const recordEnd = p + length
    if (length < 0 || recordEnd > end) return end
    if (recordEnd - from > max && q > from) return q
    q = recordEnd
  }
  return q
}

/**
 * As `decodeRecords`, with `build` making each record's object. With `copySegments` > 0 the
 * records are decoded from copies of `buf` made a segment of whole records (about that many
 * bytes) at a time, so keys and values are views into those copies rather than into `buf`,
 * which the caller may then reuse.
 */
export function decodeRecordsWith<T>(
  buf: Buffer,
  start: number,
  end: number,
  count: number,
  ctx: RecordContext,
  build: RecordBuilder<T>,
  copySegments = 0,
): T[] {
  if (count < 0) throw new CorruptBatchError(`negative record count ${count}`)
  if (count > (end - start) / MIN_RECORD_SIZE) {
    throw new CorruptBatchError(`record count ${count} is more than ${end - start} bytes of records can hold`)
  }
  // `r` reads `buf` itself, or the current copied segment, which starts at `buf[base]` and ends at `buf[segEnd]`.
  let r = copySegments > 0 ? new Reader(NO_BYTES) : new Reader(buf, start, end)
  let base = copySegments > 0 ? start : 0
  let segEnd = copySegments > 0 ? start : end
  const records = new Array<T>(count)
  // Consecutive records mostly share their timestamp and step their offset by one: reuse the
  // previous BigInt or add 1n to it instead of building each from base + delta.
  let lastOffsetDelta = Number.NaN
  let lastOffset = 0n
  let lastTsDelta = Number.NaN
  let lastTimestamp = 0n
  try {
    for (let i = 0; i < count; i++) {
      if (copySegments > 0 && base + r.offset >= segEnd) {
        const from = base + r.offset
        const to = segmentEnd(buf, from, end, copySegments)
        const seg = Buffer.allocUnsafe(to - from)
        buf.copy(seg, 0, from, to)
        r = new Reader(seg)
        base = from
        segEnd = to
      }
      const length = r.varint()
      if (length < MIN_RECORD_BODY || length > r.remaining) throw new CorruptBatchError(`record ${i} has bad length ${length}`)
      const recordEnd = r.offset + length
      r.int8() // attributes: unused in v2
      let timestamp: bigint
      const small = smallVarlong(r)
      if (ctx.logAppendTime !== null) {
        if (small === null) r.varlong()
        timestamp = ctx.logAppendTime
      } else if (small === null) {
        timestamp = ctx.baseTimestamp + r.varlong()
        lastTsDelta = Number.NaN
      } else if (small === lastTsDelta) {
        timestamp = lastTimestamp
      } else {
        timestamp = ctx.baseTimestamp + BigInt(small)
        lastTsDelta = small
        lastTimestamp = timestamp
      }
      const offsetDelta = r.varint()
      const offset = offsetDelta === lastOffsetDelta + 1 ? lastOffset + 1n : ctx.baseOffset + BigInt(offsetDelta)
      lastOffsetDelta = offsetDelta
      lastOffset = offset
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
      records[i] = build(offset, timestamp, key, value, headers)
    }
  } catch (err) {
    if (err instanceof TruncatedError || err instanceof MalformedError)
      throw new CorruptBatchError(`records: ${err.message}`, { cause: err })
    throw err
  }
  const at = base + r.offset
  if (at !== end) throw new CorruptBatchError(`${end - at} bytes left over after ${count} records`)
  return records
}
