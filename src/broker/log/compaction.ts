/**
 * The log cleaner for cleanup.policy=compact, one partition at a time.
 *
 * 1. Map every key in the given (sealed, durable) segments to its latest offset.
 * 2. Rewrite the segments, in groups whose total size fits segment.bytes, into
 *    `<first base>.log.cleaned`, keeping a record only if it is the latest for
 *    its key. Kept records keep their offsets and timestamps: a rewritten batch
 *    has its original baseOffset and per-record offset deltas, so it may have
 *    gaps. Batches with nothing to change are copied byte for byte.
 * 3. fdatasync the output; the partition log swaps it in.
 *
 * Tombstones (null value) follow KIP-534: the first pass that keeps one sets
 * the batch's delete horizon (attribute bit 6, baseTimestamp = now +
 * delete.retention.ms, record timestamps re-based on it); a pass at or after
 * the horizon drops it. Records without a key are dropped (Kafka refuses them
 * at produce time on compacted topics: INVALID_RECORD). Control batches are
 * copied. A batch emptied by cleaning is dropped whole, producer state included.
 */
import fs from 'node:fs'
import { Writer } from '../../protocol/primitives/writer.ts'
import { type DecodedBatch, decodeBatch, type KafkaRecord } from '../../protocol/records/batch.ts'
import { Attr, BATCH_HEADER_SIZE, CRC_START, LOG_OVERHEAD, Off } from '../../protocol/records/batch-header.ts'
import { compressSync, isCodec } from '../../protocol/records/compression.ts'
import { crc32c } from '../../protocol/records/crc32c.ts'
import { type ScannedBatch, scanBatches } from './batch-scan.ts'
import { writeFully } from './offset-index.ts'
import type { Segment } from './segment.ts'

export interface CleanOptions {
  /** Sealed, durable segments, oldest first. */
  segments: Segment[]
  nowMs: number
  deleteRetentionMs: number
  /** Groups of segments are merged while their sizes add up to at most this. */
  maxSegmentBytes: number
  fsync: (fd: number) => Promise<void>
  /** Re-checked between steps and right before a swap: false once a group was deleted or the log closed. */
  stillValid: (group: Segment[]) => boolean
  /** Replaces `group` by the cleaned file (synchronously). */
  swap: (group: Segment[], cleanedPath: string) => void
}

export interface CleanResult {
  /** Earliest delete horizon of a retained tombstone; Infinity if none. */
  nextHorizon: number
  groupsRewritten: number
  bytesBefore: number
  bytesAfter: number
}

/** Bytes of batches handled between two yields to the event loop. */
const CHUNK = 4 * 1024 * 1024
const KEEP_ATTRS = Attr.compressionMask | Attr.timestampType | Attr.transactional

const yieldToLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

/** Visits every batch of `seg`, whole, yielding to the event loop every few MiB. */
async function eachBatch(seg: Segment, visit: (b: ScannedBatch) => void): Promise<void> {
  let pos = 0
  let min = seg.base
  while (pos < seg.size) {
    let budget = CHUNK
    const r = scanBatches(seg.fd, pos, seg.size, { wholeBatches: true, minOffset: min, segmentBase: seg.base }, (b) => {
      visit(b)
      min = b.lastOffset + 1
      budget -= b.size
      return budget > 0
    })
    if (r.stop.kind !== 'end') throw new Error(`segment ${seg.base} is unreadable at ${r.end}: ${r.stop.reason}`)
    pos = r.end
    await yieldToLoop()
  }
}

/** Latest offset of every key, keys as latin1 strings (one char per byte). */
export async function buildKeyMap(segments: Segment[]): Promise<Map<string, number>> {
  const map = new Map<string, number>()
  for (const seg of segments) {
    await eachBatch(seg, (b) => {
      if ((b.buf.readInt16BE(b.at + Off.attributes) & Attr.control) !== 0) return
      for (const r of decodeBatch(b.buf, b.at).records) if (r.key !== null) map.set(r.key.toString('latin1'), Number(r.offset))
    })
  }
  return map
}

/** Consecutive runs of segments whose sizes add up to at most `maxBytes` and whose offsets fit one segment. */
export function groupSegments(segments: Segment[], maxBytes: number): Segment[][] {
  const groups: Segment[][] = []
  let cur: Segment[] = []
  let bytes = 0
  for (const s of segments) {
    const first = cur[0]
    if (first !== undefined && (bytes + s.size > maxBytes || s.nextOffset - first.base > 0x7fffffff)) {
      groups.push(cur)
      cur = []
      bytes = 0
    }
    cur.push(s)
    bytes += s.size
  }
  if (cur.length > 0) groups.push(cur)
  return groups
}

type Verdict = { kind: 'copy' } | { kind: 'drop' } | { kind: 'rewrite'; bytes: Buffer }

interface FilterState {
  map: Map<string, number>
  nowMs: number
  deleteRetentionMs: number
  nextHorizon: number
}

/** What cleaning does to one batch. */
export function filterBatch(buf: Buffer, at: number, st: FilterState): Verdict {
  const attrs = buf.readInt16BE(at + Off.attributes)
  if ((attrs & Attr.control) !== 0) return { kind: 'copy' }
  const batch = decodeBatch(buf, at)
  const hasHorizon = (attrs & Attr.deleteHorizon) !== 0
  const horizon = hasHorizon ? Number(batch.baseTimestamp) : -1
  const kept: KafkaRecord[] = []
  let changed = false
  let tombstones = 0
  for (const r of batch.records) {
    if (r.key === null) {
      changed = true
      continue
    }
    const latest = st.map.get(r.key.toString('latin1'))
    if (latest !== undefined && latest > Number(r.offset)) {
      changed = true
      continue
    }
    if (r.value === null) {
      if (hasHorizon && st.nowMs >= horizon) {
        changed = true
        continue
      }
      tombstones++
    }
    kept.push(r)
  }
  if (kept.length === 0) return { kind: 'drop' }
  let newHorizon: number | null = null
  if (tombstones > 0) {
    newHorizon = hasHorizon ? horizon : st.nowMs + st.deleteRetentionMs
    if (newHorizon < st.nextHorizon) st.nextHorizon = newHorizon
    if (!hasHorizon) changed = true
  } else if (hasHorizon) changed = true
  if (!changed) return { kind: 'copy' }
  return { kind: 'rewrite', bytes: encodeRetained(batch, kept, newHorizon) }
}

function writeBytes(w: Writer, b: Buffer | null): void {
  if (b === null) w.varint(-1)
  else w.varint(b.length).raw(b)
}

/**
 * Encodes the kept records of `src` as one batch with src's baseOffset and
 * each record's own offset delta and timestamp (offsets may have gaps).
 * `deleteHorizonMs` set: attribute bit 6, baseTimestamp = the horizon.
 */
export function encodeRetained(src: DecodedBatch, kept: KafkaRecord[], deleteHorizonMs: number | null): Buffer {
  const lat = src.logAppendTime
  let maxTs = -1n
  for (const r of kept) if (r.timestamp > maxTs) maxTs = r.timestamp
  if (lat) maxTs = src.maxTimestamp
  const baseTs = deleteHorizonMs !== null ? BigInt(deleteHorizonMs) : lat ? src.baseTimestamp : (kept[0] as KafkaRecord).timestamp
  const w = new Writer(kept.length * 32 + 64)
  for (const r of kept) {
    const rec = new Writer(64)
    rec.int8(0)
    rec.varlong(lat ? 0n : r.timestamp - baseTs)
    rec.varint(Number(r.offset - src.baseOffset))
    writeBytes(rec, r.key)
    writeBytes(rec, r.value)
    rec.varint(r.headers.length)
    for (const h of r.headers) {
      writeBytes(rec, Buffer.from(h.key, 'utf8'))
      writeBytes(rec, h.value)
    }
    const body = rec.toBuffer()
    w.varint(body.length).raw(body)
  }
  const codec = src.compression
  if (!isCodec(codec)) throw new Error(`unsupported codec ${codec}`)
  const payload = compressSync(codec, w.toBuffer())
  const out = Buffer.allocUnsafe(BATCH_HEADER_SIZE + payload.length)
  const last = kept[kept.length - 1] as KafkaRecord
  out.writeBigInt64BE(src.baseOffset, Off.baseOffset)
  out.writeInt32BE(out.length - LOG_OVERHEAD, Off.batchLength)
  out.writeInt32BE(src.partitionLeaderEpoch, Off.partitionLeaderEpoch)
  out.writeInt8(2, Off.magic)
  out.writeInt16BE((src.attributes & KEEP_ATTRS) | (deleteHorizonMs !== null ? Attr.deleteHorizon : 0), Off.attributes)
  out.writeInt32BE(Number(last.offset - src.baseOffset), Off.lastOffsetDelta)
  out.writeBigInt64BE(baseTs, Off.baseTimestamp)
  out.writeBigInt64BE(maxTs, Off.maxTimestamp)
  out.writeBigInt64BE(src.producerId, Off.producerId)
  out.writeInt16BE(src.producerEpoch, Off.producerEpoch)
  out.writeInt32BE(src.baseSequence, Off.baseSequence)
  out.writeInt32BE(kept.length, Off.recordCount)
  payload.copy(out, Off.records)
  out.writeUInt32BE(crc32c(out.subarray(CRC_START)), Off.crc)
  return out
}

/** Cleans `segments`; see the module comment. */
export async function cleanSegments(o: CleanOptions): Promise<CleanResult> {
  const result: CleanResult = { nextHorizon: Number.POSITIVE_INFINITY, groupsRewritten: 0, bytesBefore: 0, bytesAfter: 0 }
  for (const s of o.segments) s.pin()
  try {
    const map = await buildKeyMap(o.segments)
    const st: FilterState = { map, nowMs: o.nowMs, deleteRetentionMs: o.deleteRetentionMs, nextHorizon: Number.POSITIVE_INFINITY }
    for (const group of groupSegments(o.segments, o.maxSegmentBytes)) {
      if (!o.stillValid(group)) continue
      const cleanedPath = `${(group[0] as Segment).logPath}.cleaned`
      const fd = fs.openSync(cleanedPath, 'w', 0o644)
      let out = 0
      let changed = group.length > 1
      try {
        for (const seg of group) {
          await eachBatch(seg, (b) => {
            const v = filterBatch(b.buf, b.at, st)
            if (v.kind === 'copy') {
              writeFully(fd, b.buf.subarray(b.at, b.at + b.size), out)
              out += b.size
            } else {
              changed = true
              if (v.kind === 'rewrite') {
                writeFully(fd, v.bytes, out)
                out += v.bytes.length
              }
            }
          })
        }
        if (changed) await o.fsync(fd)
      } finally {
        fs.closeSync(fd)
      }
      if (!changed || !o.stillValid(group)) {
        fs.rmSync(cleanedPath, { force: true })
        continue
      }
      result.bytesBefore += group.reduce((n, s) => n + s.size, 0)
      result.bytesAfter += out
      result.groupsRewritten++
      o.swap(group, cleanedPath)
    }
    result.nextHorizon = st.nextHorizon
  } finally {
    for (const s of o.segments) s.unpin()
  }
  return result
}
