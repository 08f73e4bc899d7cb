/**
 * Walks the record batches of a segment file through a reused window buffer,
 * for recovery (length + CRC-32C checks), index rebuilds (headers only) and
 * the cleaner (whole batches). Never throws on garbage: the walk stops and
 * says why.
 */
import fs from 'node:fs'
import { BATCH_HEADER_SIZE, CRC_START, LOG_OVERHEAD, Off } from '../../protocol/records/batch-header.ts'
import { crc32c } from '../../protocol/records/crc32c.ts'

/** One batch seen by the walk. `buf` is a window the walk reuses: copy what must outlive the step. */
export interface ScannedBatch {
  buf: Buffer
  /** Where the batch starts in `buf` (only the header is there in a headers-only walk of a large batch). */
  at: number
  /** Its file position. */
  position: number
  size: number
  baseOffset: number
  lastOffset: number
  maxTimestamp: number
}

export type ScanStop = { kind: 'end' } | { kind: 'torn' | 'corrupt'; reason: string }

export interface ScanResult {
  /** File position just past the last good batch. */
  end: number
  stop: ScanStop
}

const WINDOW = 1 << 20
let shared: Buffer | null = null

/** Reads an int64 that is known to fit a double (offsets, timestamps) without allocating a bigint. */
export function readInt64(buf: Buffer, at: number): number {
  return buf.readInt32BE(at) * 4294967296 + buf.readUInt32BE(at + 4)
}

/**
 * Checks the bytes of one batch that do not need decoding: magic 2, a length
 * that covers the header, a sane lastOffsetDelta and, if asked, CRC-32C of
 * [attributes, end). Returns a reason, or null when fine.
 */
export function batchProblem(buf: Buffer, at: number, size: number, verifyCrc: boolean): string | null {
  if (size < BATCH_HEADER_SIZE) return `batch length ${size - LOG_OVERHEAD} is shorter than a header`
  const magic = buf.readInt8(at + Off.magic)
  if (magic !== 2) return `magic ${magic}, expected 2`
  if (buf.readInt32BE(at + Off.lastOffsetDelta) < 0) return 'negative lastOffsetDelta'
  if (verifyCrc) {
    const stored = buf.readUInt32BE(at + Off.crc)
    const actual = crc32c(buf.subarray(at + CRC_START, at + size))
    if (stored !== actual) return `CRC mismatch (stored ${stored.toString(16)}, computed ${actual.toString(16)})`
  }
  return null
}

export interface ScanOptions {
  /** Check CRC-32C (reads every byte); otherwise only headers are needed. */
  verifyCrc?: boolean
  /** A full check of each whole batch (replaces the built-in CRC check): a reason to stop, or null. */
  verify?: (buf: Buffer, at: number, size: number) => string | null
  /** Load whole batches into the window (the cleaner); implied by verifyCrc. */
  wholeBatches?: boolean
  /** The first batch's base offset must be ≥ this, and each next one above the previous last offset. */
  minOffset?: number
  /** Relative offsets must fit an int32 from this segment base. */
  segmentBase?: number
}

/**
 * Calls `visit` for each good batch in [start, end) of the file, in order;
 * `visit` returning false stops the walk (reported as 'end').
 */
export function scanBatches(
  fd: number,
  start: number,
  end: number,
  opts: ScanOptions,
  visit: (b: ScannedBatch) => boolean | undefined,
): ScanResult {
  const whole = opts.verifyCrc === true || opts.wholeBatches === true || opts.verify !== undefined
  let buf = shared ?? Buffer.allocUnsafe(WINDOW)
  shared = buf
  let winPos = start
  let winLen = 0
  let pos = start
  let expectNext = opts.minOffset ?? Number.NEGATIVE_INFINITY
  const batch: ScannedBatch = { buf, at: 0, position: 0, size: 0, baseOffset: 0, lastOffset: 0, maxTimestamp: 0 }
  const fill = (from: number, need: number): void => {
    if (need > buf.length) {
      buf = Buffer.allocUnsafe(need)
      if (need <= 4 * WINDOW) shared = buf
    }
    winPos = from
    winLen = readFully(fd, buf, Math.min(buf.length, end - from), from)
  }
  while (pos < end) {
    if (end - pos < BATCH_HEADER_SIZE) {
      return { end: pos, stop: { kind: 'torn', reason: `${end - pos} trailing bytes, less than a batch header` } }
    }
    if (pos < winPos || pos + BATCH_HEADER_SIZE > winPos + winLen) fill(pos, BATCH_HEADER_SIZE)
    let at = pos - winPos
    const length = buf.readInt32BE(at + Off.batchLength)
    const size = length + LOG_OVERHEAD
    if (length < BATCH_HEADER_SIZE - LOG_OVERHEAD) {
      return { end: pos, stop: { kind: 'corrupt', reason: `batch length ${length} at position ${pos}` } }
    }
    if (size > end - pos) {
      return { end: pos, stop: { kind: 'torn', reason: `batch at position ${pos} claims ${size} bytes, ${end - pos} left` } }
    }
    if (whole && pos + size > winPos + winLen) {
      fill(pos, size)
      at = 0
    }
    const problem =
      batchProblem(buf, at, whole ? size : BATCH_HEADER_SIZE, opts.verifyCrc === true && opts.verify === undefined) ??
      (opts.verify ? opts.verify(buf, at, size) : null)
    if (problem !== null) return { end: pos, stop: { kind: 'corrupt', reason: `${problem} at position ${pos}` } }
    const baseOffset = readInt64(buf, at + Off.baseOffset)
    const lastOffset = baseOffset + buf.readInt32BE(at + Off.lastOffsetDelta)
    if (baseOffset < expectNext) {
      return { end: pos, stop: { kind: 'corrupt', reason: `offset ${baseOffset} at position ${pos} does not follow ${expectNext - 1}` } }
    }
    if (opts.segmentBase !== undefined && lastOffset - opts.segmentBase > 0x7fffffff) {
      return { end: pos, stop: { kind: 'corrupt', reason: `offset ${lastOffset} at position ${pos} is out of the segment's range` } }
    }
    batch.buf = buf
    batch.at = at
    batch.position = pos
    batch.size = size
    batch.baseOffset = baseOffset
    batch.lastOffset = lastOffset
    batch.maxTimestamp = readInt64(buf, at + Off.maxTimestamp)
    expectNext = lastOffset + 1
    pos += size
    if (visit(batch) === false) return { end: pos, stop: { kind: 'end' } }
  }
  return { end: pos, stop: { kind: 'end' } }
}

/** pread until `len` bytes or EOF; returns the bytes read. */
export function readFully(fd: number, buf: Buffer, len: number, position: number, bufOffset = 0): number {
  let done = 0
  while (done < len) {
    const n = fs.readSync(fd, buf, bufOffset + done, len - done, position + done)
    if (n === 0) break
    done += n
  }
  return done
}
