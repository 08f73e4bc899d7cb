/**
 * One log segment: `<baseOffset, 20 digits>.log` holding record batches
 * byte for byte as produced, plus its sparse `.index` and `.timeindex`.
 *
 * The segment knows positions and offsets; deciding what to append, when to
 * roll and what to delete is the partition log's job. All reads and writes are
 * synchronous pread/pwrite on one fd, so the log end is readable as soon as
 * `append` returns; durability comes from the flush scheduler's fdatasync.
 */
import fs from 'node:fs'
import path from 'node:path'
import { BATCH_HEADER_SIZE, LOG_OVERHEAD, Off } from '../../protocol/records/batch-header.ts'
import { readFully, readInt64 } from './batch-scan.ts'
import { OffsetIndex } from './offset-index.ts'
import { TimeIndex } from './time-index.ts'

export const LOG_SUFFIX = '.log'
export const INDEX_SUFFIX = '.index'
export const TIME_INDEX_SUFFIX = '.timeindex'

/** `00000000000000000042` for base offset 42, as Kafka names segment files. */
export function segmentName(base: number): string {
  return String(base).padStart(20, '0')
}

/** Parses `<20 digits><suffix>`; null for any other file name. */
export function parseSegmentFile(file: string): { base: number; suffix: string } | null {
  const m = /^(\d{20})(\.[a-z.]+)$/.exec(file)
  if (!m) return null
  const base = Number(m[1])
  if (!Number.isSafeInteger(base)) return null
  return { base, suffix: m[2] as string }
}

/** Where a batch is and what it holds, from its header. */
export interface BatchLocation {
  position: number
  size: number
  baseOffset: number
  lastOffset: number
  maxTimestamp: number
}

const EMPTY = Buffer.alloc(0)
/** Window for header walks: an index interval plus change, so a lookup is usually one pread. */
const HEADER_WINDOW = 16 * 1024
const headerWindow = Buffer.allocUnsafe(HEADER_WINDOW)
const fresh = (size: number): Buffer => Buffer.allocUnsafe(size)

const openRw = (p: string): number => fs.openSync(p, fs.constants.O_RDWR | fs.constants.O_CREAT, 0o644)

export class Segment {
  readonly base: number
  readonly logPath: string
  readonly indexPath: string
  readonly timeIndexPath: string
  fd: number
  /** Bytes of batches in the file. */
  size: number
  /** One past the last offset held; `base` while empty. Exact for the active segment. */
  nextOffset: number
  readonly index: OffsetIndex
  readonly timeIndex: TimeIndex
  /** Largest batch maxTimestamp seen, −1 if none. */
  maxTimestamp = -1
  /** Base offset of the first batch that reached `maxTimestamp`. */
  offsetOfMaxTimestamp = -1
  /** maxTimestamp of the first batch (−1 while empty or unknown): segment.ms counts from it, as in Kafka. */
  firstBatchTimestamp = -1
  /** Wall-clock time this segment object came to be (creation or load). */
  readonly createdMs: number
  bytesSinceIndex = 0
  /** Bytes known to be fdatasync'ed. */
  syncedSize = 0
  /** Index files written and fdatasync'ed (only once the segment is rolled). */
  indexesDurable = false
  active = true
  #indexFd = -1
  #timeFd = -1
  #syncs = 0
  #releaseIndexFds = false
  #closeWanted = false
  #closed = false

  private constructor(dir: string, base: number, fd: number, size: number, maxIndexBytes: number, nowMs: number) {
    this.base = base
    const stem = path.join(dir, segmentName(base))
    this.logPath = stem + LOG_SUFFIX
    this.indexPath = stem + INDEX_SUFFIX
    this.timeIndexPath = stem + TIME_INDEX_SUFFIX
    this.fd = fd
    this.size = size
    this.nextOffset = base
    this.createdMs = nowMs
    this.index = new OffsetIndex(this.indexPath, maxIndexBytes)
    this.timeIndex = new TimeIndex(this.timeIndexPath, maxIndexBytes)
  }

  /** A new, empty segment (files created or truncated). */
  static create(dir: string, base: number, maxIndexBytes: number, nowMs: number): Segment {
    const stem = path.join(dir, segmentName(base))
    const fd = fs.openSync(stem + LOG_SUFFIX, 'w+', 0o644)
    for (const s of [INDEX_SUFFIX, TIME_INDEX_SUFFIX]) fs.rmSync(stem + s, { force: true })
    return new Segment(dir, base, fd, 0, maxIndexBytes, nowMs)
  }

  /** An existing segment; its indexes are loaded or rebuilt by the caller. */
  static open(dir: string, base: number, maxIndexBytes: number, nowMs: number): Segment {
    const fd = fs.openSync(path.join(dir, segmentName(base) + LOG_SUFFIX), 'r+')
    const size = fs.fstatSync(fd).size
    const seg = new Segment(dir, base, fd, size, maxIndexBytes, nowMs)
    seg.syncedSize = size
    return seg
  }

  get isEmpty(): boolean {
    return this.size === 0
  }

  /** Accounts one batch just written at `position` (the append hot path: no allocation unless an index grows). */
  onBatch(baseOffset: number, lastOffset: number, position: number, size: number, maxTimestamp: number, indexInterval: number): void {
    if (this.bytesSinceIndex > indexInterval) {
      this.index.append(baseOffset - this.base, position)
      if (this.maxTimestamp >= 0) this.timeIndex.maybeAppend(this.maxTimestamp, this.offsetOfMaxTimestamp - this.base)
      this.bytesSinceIndex = 0
    }
    if (position === 0) this.firstBatchTimestamp = maxTimestamp
    if (maxTimestamp > this.maxTimestamp) {
      this.maxTimestamp = maxTimestamp
      this.offsetOfMaxTimestamp = baseOffset
    }
    this.bytesSinceIndex += size
    this.nextOffset = lastOffset + 1
  }

  /** Loads both index files, keeping their valid prefixes; false if either was missing, damaged or stale. */
  loadIndexes(): boolean {
    const read = (p: string): Buffer | null => {
      try {
        return fs.readFileSync(p)
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null
        throw err
      }
    }
    const idx = read(this.indexPath)
    const tix = read(this.timeIndexPath)
    let ok = idx !== null && tix !== null
    if (idx !== null && !this.index.load(idx, this.size)) ok = false
    if (tix !== null && !this.timeIndex.load(tix, 0x7fffffff)) ok = false
    // The last offset entry must name a batch starting where it says.
    if (this.index.entries > 0) {
      const pos = this.index.lastPosition()
      const h = this.readHeader(pos)
      if (h === null || h.baseOffset !== this.base + this.index.lastRel()) {
        this.index.clear()
        ok = false
      }
    }
    if (this.timeIndex.entries > 0) {
      this.maxTimestamp = this.timeIndex.lastTimestamp()
      this.offsetOfMaxTimestamp = this.base + this.timeIndex.lastRel()
    }
    return ok
  }

  /** The header fields of the batch at `position`, or null past the end / on a short read. */
  readHeader(position: number): BatchLocation | null {
    if (position + BATCH_HEADER_SIZE > this.size) return null
    const n = readFully(this.fd, headerWindow, BATCH_HEADER_SIZE, position)
    if (n < BATCH_HEADER_SIZE) return null
    return {
      position,
      size: headerWindow.readInt32BE(Off.batchLength) + LOG_OVERHEAD,
      baseOffset: readInt64(headerWindow, Off.baseOffset),
      lastOffset: readInt64(headerWindow, Off.baseOffset) + headerWindow.readInt32BE(Off.lastOffsetDelta),
      maxTimestamp: readInt64(headerWindow, Off.maxTimestamp),
    }
  }

  /**
   * Walks batch headers from `position` (which must start a batch) to the end
   * of the segment, through a shared window, until `visit` returns true; returns
   * the batch it stopped at or null. Stops quietly at anything malformed.
   */
  walk(position: number, visit: (b: BatchLocation) => boolean): BatchLocation | null {
    let winPos = 0
    let winLen = 0
    let pos = position
    const loc: BatchLocation = { position: 0, size: 0, baseOffset: 0, lastOffset: 0, maxTimestamp: 0 }
    while (pos + BATCH_HEADER_SIZE <= this.size) {
      if (winLen === 0 || pos < winPos || pos + BATCH_HEADER_SIZE > winPos + winLen) {
        winPos = pos
        winLen = readFully(this.fd, headerWindow, Math.min(HEADER_WINDOW, this.size - pos), pos)
        if (winLen < BATCH_HEADER_SIZE) return null
      }
      const at = pos - winPos
      const size = headerWindow.readInt32BE(at + Off.batchLength) + LOG_OVERHEAD
      if (size < BATCH_HEADER_SIZE || pos + size > this.size) return null
      loc.position = pos
      loc.size = size
      loc.baseOffset = readInt64(headerWindow, at + Off.baseOffset)
      loc.lastOffset = loc.baseOffset + headerWindow.readInt32BE(at + Off.lastOffsetDelta)
      loc.maxTimestamp = readInt64(headerWindow, at + Off.maxTimestamp)
      if (visit(loc)) return { ...loc }
      pos += size
    }
    return null
  }

  /** The batch holding `offset`, or the first one after it (compaction leaves gaps); null if none here. */
  findBatch(offset: number): BatchLocation | null {
    const start = offset <= this.base ? 0 : this.index.lookup(offset - this.base)
    return this.walk(start, (b) => b.lastOffset >= offset)
  }

  /**
   * Whole batches starting at the one that holds `offset`: as many as fit in
   * `maxBytes`, only those whose last offset is below `upTo`, and the first
   * one even if larger when `minOneBatch`. Null when no batch here reaches
   * `offset`; an empty buffer when one does but none may be returned.
   */
  read(offset: number, maxBytes: number, upTo: number, minOneBatch: boolean, alloc: (size: number) => Buffer = fresh): Buffer | null {
    const first = this.findBatch(offset)
    if (first === null) return null
    if (first.lastOffset >= upTo) return EMPTY
    if (first.size > maxBytes && !minOneBatch) return EMPTY
    // Where reading must stop: the batch holding upTo (a batch boundary), else the end of the segment.
    let stop = this.size
    if (upTo < this.nextOffset) stop = this.findBatch(upTo)?.position ?? this.size
    const maxEnd = Math.min(stop, first.position + Math.max(maxBytes, first.size))
    const buf = alloc(maxEnd - first.position)
    const got = readFully(this.fd, buf, buf.length, first.position)
    if (got < first.size) return EMPTY
    let end = first.position + got
    if (end < stop) {
      // Cut after the last whole batch: walk from the last indexed batch start before the limit.
      let at = Math.max(this.index.floorPosition(end), first.position + first.size) - first.position
      for (;;) {
        if (at + LOG_OVERHEAD > got) break
        const size = buf.readInt32BE(at + Off.batchLength) + LOG_OVERHEAD
        if (size < BATCH_HEADER_SIZE || at + size > got) break
        at += size
      }
      end = first.position + at
    }
    const n = end - first.position
    return n === buf.length ? buf : buf.subarray(0, n)
  }

  /** `size` bytes at `position`, freshly allocated. */
  readAt(position: number, size: number): Buffer {
    const buf = Buffer.allocUnsafe(size)
    const n = readFully(this.fd, buf, size, position)
    return n === size ? buf : buf.subarray(0, n)
  }

  /** Cuts the log at `position` and forgets index entries past it. */
  truncateTo(position: number): void {
    if (position >= this.size) return
    fs.ftruncateSync(this.fd, position)
    this.size = position
    if (this.syncedSize > position) this.syncedSize = position
    this.index.truncateToPosition(position)
  }

  #openIndexFds(): void {
    if (this.#indexFd < 0) this.#indexFd = openRw(this.indexPath)
    if (this.#timeFd < 0) this.#timeFd = openRw(this.timeIndexPath)
  }

  /** Writes index entries not yet in the files (page cache only). */
  persistIndexes(): void {
    this.#openIndexFds()
    this.index.persist(this.#indexFd)
    this.timeIndex.persist(this.#timeFd)
  }

  /** The segment stops being the active one: add the closing time-index entry and write the index files. */
  seal(): void {
    if (this.maxTimestamp >= 0) this.timeIndex.maybeAppend(this.maxTimestamp, this.offsetOfMaxTimestamp - this.base)
    this.active = false
    this.persistIndexes()
  }

  /** The fds a sync round must fdatasync: the log, plus the index files of a sealed segment. */
  syncFds(includeIndexes: boolean): number[] {
    if (!includeIndexes) return [this.fd]
    this.#openIndexFds()
    return [this.fd, this.#indexFd, this.#timeFd]
  }

  /** Index fds, opened if needed (to fdatasync the index files). */
  indexFds(): number[] {
    this.#openIndexFds()
    return [this.#indexFd, this.#timeFd]
  }

  /** Whether some index entry is not in the files yet. */
  get indexesPending(): boolean {
    return this.index.pending || this.timeIndex.pending
  }

  /** Closes the index fds of a sealed segment once nothing holds them (they are reopened on demand). */
  releaseIndexFds(): void {
    if (this.#syncs > 0) {
      this.#releaseIndexFds = true
      return
    }
    this.#closeIndexFds()
  }

  #closeIndexFds(): void {
    this.#releaseIndexFds = false
    for (const fd of [this.#indexFd, this.#timeFd]) if (fd >= 0) fs.closeSync(fd)
    this.#indexFd = -1
    this.#timeFd = -1
  }

  /** A sync round holds the fds: closing waits until it is over. */
  pin(): void {
    this.#syncs++
  }

  unpin(): void {
    this.#syncs--
    if (this.#syncs > 0) return
    if (this.#closeWanted) this.#closeNow()
    else if (this.#releaseIndexFds && !this.#closed) this.#closeIndexFds()
  }

  get closed(): boolean {
    return this.#closed || this.#closeWanted
  }

  close(): void {
    if (this.#closed) return
    if (this.#syncs > 0) {
      this.#closeWanted = true
      return
    }
    this.#closeNow()
  }

  #closeNow(): void {
    if (this.#closed) return
    this.#closed = true
    this.#closeWanted = false
    fs.closeSync(this.fd)
    this.#closeIndexFds()
  }

  /** Closes (deferred while a sync holds it) and removes the files, the log first so a crash leaves no half segment. */
  delete(): void {
    this.close()
    for (const p of [this.logPath, this.indexPath, this.timeIndexPath]) fs.rmSync(p, { force: true })
  }
}
