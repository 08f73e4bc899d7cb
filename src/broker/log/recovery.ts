/**
 * Bringing a partition's segments back after a restart.
 *
 * Clean shutdown (marker present and matching): load the index files, check
 * them, and walk the few batch headers past the last index entry.
 *
 * Unclean: segments before the recovery point's segment are trusted as after a
 * clean shutdown (they, and their index files, were fdatasync'ed before the
 * recovery point moved past them). From the recovery point on, every batch is
 * checked — length, magic, offsets in order, CRC-32C — and the log is cut at
 * the first bad one, dropping any later segment. Garbage never throws: a torn
 * tail, zero fill, a length past EOF or a flipped bit all end as one
 * truncation and ONE log line.
 */
import { checkBatch } from '../../protocol/records/batch.ts'
import { type ScanResult, type ScanStop, scanBatches } from './batch-scan.ts'
import { Segment } from './segment.ts'

/** The last flushed point: everything before `position` of segment `segment`, and all earlier segments, is on disk. */
export interface RecoveryPoint {
  offset: number
  segment: number
  position: number
}

export interface LoadOptions {
  dir: string
  /** Segment base offsets found on disk, ascending. */
  bases: number[]
  clean: boolean
  recoveryPoint: RecoveryPoint | null
  indexInterval: number
  maxIndexBytes: number
  nowMs: number
  log: (msg: string) => void
}

export interface Truncation {
  segment: number
  position: number
  lostBytes: number
  droppedSegments: number
  reason: string
}

export interface LoadedSegments {
  segments: Segment[]
  /** Segments whose bytes were re-read rather than known durable: the next sync round must cover them. */
  unsynced: Segment[]
  truncation: Truncation | null
}

const verifyBatch = (buf: Buffer, at: number, size: number): string | null => {
  const c = checkBatch(buf, at, size, { compacted: true })
  return c.ok ? null : c.reason
}

/**
 * Accounts the batches in [from, to) of `seg` into its index, timestamps and
 * next offset: headers only, or with every check when `verify`. `from` must
 * start a batch; the index counter restarts there.
 */
export function accountBatches(seg: Segment, from: number, to: number, interval: number, verify: boolean, minOffset: number): ScanResult {
  if (from === 0) seg.nextOffset = seg.base
  seg.bytesSinceIndex = 0
  return scanBatches(seg.fd, from, to, { minOffset, segmentBase: seg.base, verify: verify ? verifyBatch : undefined }, (b) => {
    seg.onBatch(b.baseOffset, b.lastOffset, b.position, b.size, b.maxTimestamp, interval)
    return true
  })
}

function resetAccounting(seg: Segment): void {
  seg.index.clear()
  seg.timeIndex.clear()
  seg.maxTimestamp = -1
  seg.offsetOfMaxTimestamp = -1
  seg.firstBatchTimestamp = -1
  seg.bytesSinceIndex = 0
  seg.nextOffset = seg.base
}

/** Opens a segment trusted to be whole: index files if sound, else a rebuild; then the tail past the last entry. */
function loadTrusted(seg: Segment, interval: number): ScanResult {
  if (seg.loadIndexes()) {
    const indexed = seg.index.entries > 0
    const r = accountBatches(
      seg,
      indexed ? seg.index.lastPosition() : 0,
      seg.size,
      interval,
      false,
      indexed ? seg.base + seg.index.lastRel() : seg.base,
    )
    if (r.stop.kind === 'end') return r
  }
  resetAccounting(seg)
  return accountBatches(seg, 0, seg.size, interval, false, seg.base)
}

/**
 * Prepares the recovery point's segment for a check from `position`: keeps the
 * index entries below it (made durable before the recovery point was written)
 * and walks the headers from the last of them. False if that does not line up.
 */
function resumeAt(seg: Segment, position: number, interval: number): boolean {
  seg.loadIndexes()
  seg.index.truncateToPosition(position)
  if (seg.index.entries === 0) {
    resetAccounting(seg)
    const r = accountBatches(seg, 0, position, interval, false, seg.base)
    return r.end === position && r.stop.kind === 'end'
  }
  seg.timeIndex.truncateToRel(seg.index.lastRel() + 1)
  seg.maxTimestamp = seg.timeIndex.lastTimestamp()
  seg.offsetOfMaxTimestamp = seg.timeIndex.entries > 0 ? seg.base + seg.timeIndex.lastRel() : -1
  seg.firstBatchTimestamp = seg.readHeader(0)?.maxTimestamp ?? -1
  const r = accountBatches(seg, seg.index.lastPosition(), position, interval, false, seg.base + seg.index.lastRel())
  return r.end === position && r.stop.kind === 'end'
}

function describe(stop: ScanStop): string {
  return stop.kind === 'end' ? 'trailing bytes' : `${stop.kind}: ${stop.reason}`
}

/** Opens the segments of a partition directory, recovering them if the last shutdown was not clean. */
export function loadSegments(o: LoadOptions): LoadedSegments {
  const segments = o.bases.map((b) => Segment.open(o.dir, b, o.maxIndexBytes, o.nowMs))
  const unsynced: Segment[] = []
  let truncation: Truncation | null = null

  // Where checking starts: the recovery point's segment and position, else the last segment from its start.
  let from = o.clean ? segments.length : Math.max(0, segments.length - 1)
  let fromPos = 0
  const rp = o.recoveryPoint
  if (!o.clean && rp !== null) {
    const i = segments.findIndex((s) => s.base >= rp.segment)
    from = i >= 0 ? i : Math.max(0, segments.length - 1)
    const s = segments[i]
    if (s !== undefined && s.base === rp.segment && rp.position > 0 && rp.position <= s.size) {
      // Trust the position only if a batch at or past the recovery offset starts there.
      const h = rp.position < s.size ? s.readHeader(rp.position) : null
      if (rp.position === s.size || (h !== null && h.baseOffset >= rp.offset)) fromPos = rp.position
    }
  }

  for (let i = 0; i < segments.length; i++) {
    const seg = segments[i] as Segment
    if (i < from) {
      const r = loadTrusted(seg, o.indexInterval)
      if (r.end < seg.size) {
        // Damage below the recovery point: cut this segment's bad tail; later segments hold higher offsets and stay.
        const lost = seg.size - r.end
        seg.truncateTo(r.end)
        unsynced.push(seg)
        o.log(`log ${o.dir}: segment ${seg.base} is damaged below the recovery point (${describe(r.stop)}); cut ${lost} bytes`)
      }
      continue
    }
    let start = 0
    if (i === from && fromPos > 0 && resumeAt(seg, fromPos, o.indexInterval)) start = fromPos
    else resetAccounting(seg)
    const r = accountBatches(seg, start, seg.size, o.indexInterval, true, start === 0 ? seg.base : seg.nextOffset)
    seg.syncedSize = 0
    unsynced.push(seg)
    if (r.end < seg.size) {
      let lost = seg.size - r.end
      const dropped = segments.splice(i + 1)
      for (const d of dropped) {
        lost += d.size
        d.delete()
      }
      seg.truncateTo(r.end)
      truncation = { segment: seg.base, position: r.end, lostBytes: lost, droppedSegments: dropped.length, reason: describe(r.stop) }
      break
    }
  }

  // A merged compaction output that replaced its first segment before the others were deleted overlaps them.
  for (let i = 0; i + 1 < segments.length; ) {
    const a = segments[i] as Segment
    const b = segments[i + 1] as Segment
    if (a.nextOffset > b.base) {
      segments.splice(i + 1, 1)
      b.delete()
      o.log(`log ${o.dir}: removed segment ${b.base}, superseded by compacted segment ${a.base}`)
    } else i++
  }
  const t = truncation as Truncation | null
  if (t !== null) {
    o.log(
      `log ${o.dir}: unclean shutdown; truncated segment ${t.segment} at position ${t.position} (${t.reason}), ` +
        `dropped ${t.lostBytes} bytes${t.droppedSegments > 0 ? ` and ${t.droppedSegments} later segment(s)` : ''}`,
    )
  }
  return { segments, unsynced: unsynced.filter((s) => segments.includes(s)), truncation: t }
}
