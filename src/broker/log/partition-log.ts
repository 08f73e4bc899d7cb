/**
 * One partition's log: an ordered list of segments, the last one active.
 *
 * Batches are stored exactly as produced. `append` assigns offsets by patching
 * each header's baseOffset and partitionLeaderEpoch, which lie outside the
 * CRC; only a LogAppendTime topic changes CRC-covered bytes (attributes and
 * maxTimestamp), and then that batch's CRC is recomputed. Records are never
 * decoded on the produce or fetch path.
 *
 * Offsets and timestamps are plain numbers inside (exact below 2^53, i.e.
 * centuries of offsets); the public API speaks bigint like the protocol.
 */
import fs from 'node:fs'
import path from 'node:path'
import { ErrorCode, KafkaError } from '../../protocol/errors.ts'
import { decodeBatch, stampLogAppendTime } from '../../protocol/records/batch.ts'
import { BATCH_HEADER_SIZE, LOG_OVERHEAD, Off } from '../../protocol/records/batch-header.ts'
import type { Clock } from '../../util/clock.ts'
import { readInt64 } from './batch-scan.ts'
import { readCheckpoint, syncDir, syncDirSync, writeCheckpoint, writeCheckpointSync } from './checkpoint.ts'
import { type CleanResult, cleanSegments } from './compaction.ts'
import { type FlushMode, FlushScheduler, type FlushTarget, type FsyncFn, type SyncJob } from './group-commit.ts'
import { compacts, deletes, type LogConfig } from './log-config.ts'
import { writeFully } from './offset-index.ts'
import { accountBatches, loadSegments, type RecoveryPoint } from './recovery.ts'
import { INDEX_SUFFIX, LOG_SUFFIX, parseSegmentFile, Segment, TIME_INDEX_SUFFIX } from './segment.ts'

export const CLEAN_SHUTDOWN_FILE = '.cohort-clean-shutdown'
export const RECOVERY_POINT_FILE = 'recovery-point-checkpoint'
export const LOG_START_FILE = 'log-start-offset-checkpoint'

export interface PartitionLogDeps {
  clock: Clock
  /** One line per event worth an operator's attention; default console.warn. */
  log?: (msg: string) => void
  /** Shared by all partitions of a data dir (LogManager); a private one is made from flushMode/fsync otherwise. */
  scheduler?: FlushScheduler
  flushMode?: FlushMode
  fsync?: FsyncFn
  /** partitionLeaderEpoch written into every batch; 0 on a single node. */
  leaderEpoch?: number
}

export interface AppendResult {
  baseOffset: bigint
  lastOffset: bigint
  /** Largest maxTimestamp of the appended batches (the append time for LogAppendTime). */
  maxTimestamp: bigint
  /** The LogAppendTime stamped into the batches, or −1 (CreateTime): Produce's log_append_time_ms. */
  appendTime: bigint
}

export interface ReadResult {
  /** Whole batches, in order; their concatenation is the Fetch `records` field. Usually one buffer. */
  records: Buffer[]
  bytes: number
}

export interface ReadOptions {
  /** Exclusive bound, e.g. the high watermark: no batch whose last offset is at or past it is returned. */
  upTo?: bigint
  /** KIP-74: return the first batch even if it is larger than maxBytes. */
  minOneBatch?: boolean
  /** Where the bytes are read into: a buffer of exactly `size` bytes (default: a fresh one). */
  alloc?: (size: number) => Buffer
}

interface CleanShutdown {
  leo: number
  segment: number
  size: number
}

const EMPTY_READ: ReadResult = Object.freeze({ records: [], bytes: 0 }) as ReadResult
const TWO32 = 4294967296
const MAX_OFFSET = Number.MAX_SAFE_INTEGER

function corrupt(msg: string): KafkaError {
  return new KafkaError(ErrorCode.CORRUPT_MESSAGE, msg)
}

export class PartitionLog implements FlushTarget {
  readonly dir: string
  #config: LogConfig
  readonly #clock: Clock
  readonly #log: (msg: string) => void
  readonly #scheduler: FlushScheduler
  readonly #leaderEpoch: number
  #segments: Segment[]
  #active: Segment
  #logStartOffset: number
  #leo: number
  #size: number
  /** Sealed segments not yet fdatasync'ed (with their index files). */
  #unsynced: Segment[]
  /** Last point known durable, and the one last written to the recovery-point file. */
  #flushed: RecoveryPoint | null
  #checkpointed: RecoveryPoint | null
  #checkpointChain: Promise<void> = Promise.resolve()
  #background = new Set<Promise<unknown>>()
  #compaction: Promise<void> | null = null
  /** Segments below this base have been cleaned and not touched since. */
  #cleanedThrough = -1
  /** Earliest delete horizon among retained tombstones (Infinity if none known). */
  #nextHorizon = Number.POSITIVE_INFINITY
  #closed = false
  /** Set once close() wrote the clean-shutdown marker: no file may change after it. */
  #final = false
  #dropped = false

  private constructor(dir: string, config: LogConfig, deps: PartitionLogDeps, scheduler: FlushScheduler) {
    this.dir = dir
    this.#config = config
    this.#clock = deps.clock
    this.#log = deps.log ?? ((m) => console.warn(m))
    this.#scheduler = scheduler
    this.#leaderEpoch = deps.leaderEpoch ?? 0
    this.#segments = []
    this.#active = null as unknown as Segment
    this.#logStartOffset = 0
    this.#leo = 0
    this.#size = 0
    this.#unsynced = []
    this.#flushed = null
    this.#checkpointed = null
  }

  /** Opens (creating if needed) the log in `dir`, recovering it if the last shutdown was not clean. */
  static async open(dir: string, config: LogConfig, deps: PartitionLogDeps): Promise<PartitionLog> {
    return PartitionLog.openSync(dir, config, deps)
  }

  /** As `open`, synchronously (startup, topic creation): recovery blocks the caller. */
  static openSync(dir: string, config: LogConfig, deps: PartitionLogDeps): PartitionLog {
    const scheduler = deps.scheduler ?? new FlushScheduler({ mode: deps.flushMode, fsync: deps.fsync, log: deps.log })
    const log = new PartitionLog(dir, config, deps, scheduler)
    log.#load()
    return log
  }

  #load(): void {
    const dir = this.dir
    fs.mkdirSync(dir, { recursive: true })
    const files = fs.readdirSync(dir)
    const logs = new Set<number>()
    for (const f of files) {
      if (f.endsWith('.cleaned') || f.endsWith('.tmp') || f.endsWith('.deleted')) {
        fs.rmSync(path.join(dir, f), { force: true })
        continue
      }
      const p = parseSegmentFile(f)
      if (p?.suffix === LOG_SUFFIX) logs.add(p.base)
    }
    for (const f of files) {
      const p = parseSegmentFile(f)
      if (p && (p.suffix === INDEX_SUFFIX || p.suffix === TIME_INDEX_SUFFIX) && !logs.has(p.base))
        fs.rmSync(path.join(dir, f), { force: true })
    }
    const bases = [...logs].sort((a, b) => a - b)
    const markerPath = path.join(dir, CLEAN_SHUTDOWN_FILE)
    const marker = readCheckpoint<CleanShutdown>(markerPath)
    if (fs.existsSync(markerPath)) {
      // From here on a crash must be seen as unclean.
      fs.rmSync(markerPath)
      syncDirSync(dir)
    }
    const lsoCk = readCheckpoint<{ offset: number }>(path.join(dir, LOG_START_FILE))
    const rp = readCheckpoint<RecoveryPoint>(path.join(dir, RECOVERY_POINT_FILE))
    const now = this.#clock.now()
    const c = this.#config
    if (bases.length === 0) {
      const base = typeof lsoCk?.offset === 'number' && lsoCk.offset >= 0 ? lsoCk.offset : 0
      this.#segments = [Segment.create(dir, base, c['segment.index.bytes'], now)]
    } else {
      const last = bases[bases.length - 1] as number
      const lastSize = fs.statSync(path.join(dir, `${String(last).padStart(20, '0')}${LOG_SUFFIX}`)).size
      let clean = marker !== null && marker.segment === last && marker.size === lastSize
      const opts = {
        dir,
        bases,
        recoveryPoint: rp,
        indexInterval: c['index.interval.bytes'],
        maxIndexBytes: c['segment.index.bytes'],
        nowMs: now,
        log: this.#log,
      }
      let loaded = loadSegments({ ...opts, clean })
      if (clean && (loaded.segments[loaded.segments.length - 1] as Segment).nextOffset !== marker?.leo) {
        for (const s of loaded.segments) s.close()
        clean = false
        loaded = loadSegments({ ...opts, clean })
      }
      this.#segments = loaded.segments
      for (const s of loaded.unsynced) if (s !== loaded.segments[loaded.segments.length - 1]) this.#unsynced.push(s)
      if (!clean) {
        for (const s of loaded.unsynced) s.persistIndexes()
        this.#flushed = rp
      }
      // The file's recovery point: after a clean close it covers everything (compaction may start at once).
      this.#checkpointed = rp
    }
    const segs = this.#segments
    for (const s of segs.slice(0, -1)) {
      s.active = false
      // Rebuilt indexes go to their files now and to disk with the next sync round.
      if (s.indexesPending && !this.#unsynced.includes(s)) this.#unsynced.push(s)
      s.indexesDurable = !this.#unsynced.includes(s)
      if (!s.indexesDurable) s.persistIndexes()
    }
    const active = segs[segs.length - 1] as Segment
    active.active = true
    active.indexesDurable = false
    active.firstBatchTimestamp = active.readHeader(0)?.maxTimestamp ?? -1
    this.#active = active
    this.#leo = Math.max(active.nextOffset, active.base)
    this.#size = segs.reduce((n, s) => n + s.size, 0)
    this.#logStartOffset = Math.max((segs[0] as Segment).base, typeof lsoCk?.offset === 'number' ? Math.min(lsoCk.offset, this.#leo) : 0)
    if (this.#flushed === null && active.syncedSize === active.size && this.#unsynced.length === 0) {
      this.#flushed = { offset: this.#leo, segment: active.base, position: active.size }
    }
    this.#deleteSegmentsBelowStart()
    if (this.#unsynced.length > 0 || active.syncedSize < active.size) this.#scheduler.markDirty(this)
    // Everything before the cleaned range may need a look after a restart.
    this.#nextHorizon = compacts(this.#config) ? now : Number.POSITIVE_INFINITY
  }

  // ---- state ----------------------------------------------------------------------------------

  get logStartOffset(): bigint {
    return BigInt(this.#logStartOffset)
  }

  get logEndOffset(): bigint {
    return BigInt(this.#leo)
  }

  get sizeBytes(): number {
    return this.#size
  }

  get config(): LogConfig {
    return this.#config
  }

  /** Number of segments (tests, metrics). */
  get segmentCount(): number {
    return this.#segments.length
  }

  /** Base offsets of the segments, oldest first. */
  segmentBases(): bigint[] {
    return this.#segments.map((s) => BigInt(s.base))
  }

  /** New topic configs (AlterConfigs); segment.index.bytes applies to segments created from now on. */
  setConfig(config: LogConfig): void {
    this.#config = config
  }

  #checkOpen(): void {
    if (this.#closed) throw new KafkaError(ErrorCode.KAFKA_STORAGE_ERROR, `log ${this.dir} is closed`)
  }

  // ---- append ---------------------------------------------------------------------------------

  /**
   * Appends one or more validated v2 batches, concatenated, with consecutive
   * offsets from the log end. The caller's buffer is patched in place and
   * written with one pwrite; it is readable as soon as this returns.
   */
  append(batches: Buffer, opts?: { logAppendTime?: bigint }): AppendResult {
    this.#checkOpen()
    const len = batches.length
    if (len === 0) throw corrupt('no record batches to append')
    // Pass 1: framing, and what the append will occupy.
    let at = 0
    let span = 0
    let incomingTs = -1
    while (at < len) {
      if (len - at < BATCH_HEADER_SIZE) throw corrupt(`${len - at} trailing bytes are not a batch`)
      const size = batches.readInt32BE(at + Off.batchLength) + LOG_OVERHEAD
      if (size < BATCH_HEADER_SIZE || size > len - at) throw corrupt(`bad batch length at byte ${at}`)
      if (batches[at + Off.magic] !== 2) throw corrupt(`magic ${batches[at + Off.magic]} at byte ${at}`)
      const delta = batches.readInt32BE(at + Off.lastOffsetDelta)
      if (delta < 0) throw corrupt(`negative lastOffsetDelta at byte ${at}`)
      const ts = readInt64(batches, at + Off.maxTimestamp)
      if (ts > incomingTs) incomingTs = ts
      span += delta + 1
      at += size
    }
    const base = this.#leo
    const last = base + span - 1
    if (last >= MAX_OFFSET) throw new KafkaError(ErrorCode.KAFKA_STORAGE_ERROR, 'offset space exhausted')
    const lat = opts?.logAppendTime
    const now = this.#clock.now()
    if (this.#shouldRoll(len, last, lat === undefined ? incomingTs : Number(lat), now)) this.#roll(now)
    const seg = this.#active

    // Pass 2: offsets and leader epoch (outside the CRC); LogAppendTime re-stamps and re-CRCs the batch.
    let next = base
    for (at = 0; at < len; ) {
      const size = batches.readInt32BE(at + Off.batchLength) + LOG_OVERHEAD
      batches.writeUInt32BE(Math.floor(next / TWO32), at + Off.baseOffset)
      batches.writeUInt32BE(next >>> 0, at + Off.baseOffset + 4)
      batches.writeInt32BE(this.#leaderEpoch, at + Off.partitionLeaderEpoch)
      if (lat !== undefined) stampLogAppendTime(batches, at, lat)
      next += batches.readInt32BE(at + Off.lastOffsetDelta) + 1
      at += size
    }

    const position = seg.size
    try {
      writeFully(seg.fd, batches, position)
    } catch (err) {
      try {
        fs.ftruncateSync(seg.fd, position)
      } catch {}
      throw err
    }

    // Pass 3: index entries and timestamps, now that the bytes are in.
    const interval = this.#config['index.interval.bytes']
    let maxTs = -1
    next = base
    for (at = 0; at < len; ) {
      const size = batches.readInt32BE(at + Off.batchLength) + LOG_OVERHEAD
      const lastOff = next + batches.readInt32BE(at + Off.lastOffsetDelta)
      const ts = readInt64(batches, at + Off.maxTimestamp)
      if (ts > maxTs) maxTs = ts
      seg.onBatch(next, lastOff, position + at, size, ts, interval)
      next = lastOff + 1
      at += size
    }
    seg.size = position + len
    this.#leo = last + 1
    this.#size += len
    this.#scheduler.markDirty(this)
    return { baseOffset: BigInt(base), lastOffset: BigInt(last), maxTimestamp: BigInt(maxTs), appendTime: lat ?? -1n }
  }

  #shouldRoll(incomingBytes: number, lastOffset: number, incomingTs: number, now: number): boolean {
    const seg = this.#active
    if (seg.isEmpty) return false
    const c = this.#config
    if (seg.size + incomingBytes > c['segment.bytes']) return true
    if (seg.index.isFull || seg.timeIndex.isFull) return true
    if (lastOffset - seg.base > 0x7fffffff) return true
    // Kafka: record time since the segment's first batch when both are known, else wall time since creation.
    const waited = seg.firstBatchTimestamp >= 0 && incomingTs >= 0 ? incomingTs - seg.firstBatchTimestamp : now - seg.createdMs
    return waited > c['segment.ms']
  }

  /** Rolls by segment.bytes / segment.ms (wall time since the active segment was created) / full index. */
  maybeRoll(nowMs: number): void {
    if (this.#closed) return
    const seg = this.#active
    if (seg.isEmpty) return
    const c = this.#config
    if (seg.size >= c['segment.bytes'] || seg.index.isFull || seg.timeIndex.isFull || nowMs - seg.createdMs > c['segment.ms'])
      this.#roll(nowMs)
  }

  #roll(now: number): void {
    const old = this.#active
    old.seal()
    this.#unsynced.push(old)
    const seg = Segment.create(this.dir, this.#leo, this.#config['segment.index.bytes'], now)
    this.#segments.push(seg)
    this.#active = seg
    // Make the sealed segment durable in the background so the recovery point can move past it.
    this.#scheduler.markDirty(this)
    this.#track(
      this.#scheduler
        .sync(this)
        .then(() => this.checkpoint())
        .catch((err: unknown) => this.#log(`log ${this.dir}: background flush after roll failed: ${(err as Error).message}`)),
    )
  }

  #track(p: Promise<unknown>): void {
    this.#background.add(p)
    void p.finally(() => this.#background.delete(p))
  }

  /** Resolves when the background work started so far (post-roll syncs and checkpoints, compaction) is over. */
  async settled(): Promise<void> {
    while (this.#background.size > 0 || this.#compaction !== null) {
      await Promise.allSettled([...this.#background, this.#compaction])
    }
  }

  // ---- durability ------------------------------------------------------------------------------

  /** Resolves when everything appended so far is on disk ('fsync' mode) or at once ('os' mode). */
  flush(): Promise<void> {
    return this.#scheduler.flush(this)
  }

  /** FlushTarget: snapshot of what a sync round covers (called by the scheduler). */
  beginSync(): SyncJob {
    if (this.#dropped) return { fds: [], done: () => {} }
    const sealed = this.#unsynced
    this.#unsynced = []
    const active = this.#active
    const activeSize = active.size
    const point: RecoveryPoint = { offset: this.#leo, segment: active.base, position: activeSize }
    const fds: number[] = []
    for (const s of sealed) {
      s.pin()
      fds.push(...s.syncFds(true))
    }
    const syncActive = active.syncedSize < activeSize
    if (syncActive) {
      active.pin()
      fds.push(active.fd)
    }
    return {
      fds,
      done: (ok) => {
        for (const s of sealed) s.unpin()
        if (syncActive) active.unpin()
        if (!ok) {
          this.#unsynced = [...sealed, ...this.#unsynced]
          return
        }
        for (const s of sealed) {
          s.syncedSize = s.size
          s.indexesDurable = true
          s.releaseIndexFds()
        }
        if (activeSize > active.syncedSize) active.syncedSize = activeSize
        if (!this.#dropped && (this.#flushed === null || point.offset >= this.#flushed.offset)) this.#flushed = point
      },
    }
  }

  /**
   * Writes the recovery point (the last flushed position) if it moved, after
   * making the index entries below it durable, so recovery can start there.
   */
  checkpoint(): Promise<void> {
    const run = this.#checkpointChain.then(() => this.#writeRecoveryPoint())
    this.#checkpointChain = run.catch(() => {})
    return run
  }

  async #writeRecoveryPoint(): Promise<void> {
    const point = this.#flushed
    if (point === null || point === this.#checkpointed || this.#dropped || this.#final) return
    const seg = this.#segments.find((s) => s.base === point.segment)
    if (seg !== undefined && !seg.closed) {
      seg.persistIndexes()
      seg.pin()
      try {
        await this.#scheduler.fsyncFds(seg.indexFds())
      } finally {
        seg.unpin()
        if (!seg.active) seg.releaseIndexFds()
      }
    }
    if (this.#dropped) return
    await writeCheckpoint(path.join(this.dir, RECOVERY_POINT_FILE), point)
    this.#checkpointed = point
  }

  // ---- reads -----------------------------------------------------------------------------------

  #segmentFor(offset: number): number {
    const segs = this.#segments
    let lo = 0
    let hi = segs.length - 1
    let found = 0
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1
      if ((segs[mid] as Segment).base <= offset) {
        found = mid
        lo = mid + 1
      } else hi = mid - 1
    }
    return found
  }

  /**
   * Whole batches from the one holding `offset`, up to `maxBytes` (never a
   * partial batch). Throws OFFSET_OUT_OF_RANGE below the log start or past the end.
   */
  read(offset: bigint, maxBytes: number, opts?: ReadOptions): ReadResult {
    this.#checkOpen()
    const off = Number(offset)
    if (off < this.#logStartOffset || off > this.#leo) {
      throw new KafkaError(
        ErrorCode.OFFSET_OUT_OF_RANGE,
        `offset ${offset} is outside [${this.#logStartOffset}, ${this.#leo}] of ${this.dir}`,
      )
    }
    const upTo = opts?.upTo === undefined ? this.#leo : Math.min(Number(opts.upTo), this.#leo)
    if (off >= upTo) return EMPTY_READ
    const minOne = opts?.minOneBatch === true
    for (let i = this.#segmentFor(off); i < this.#segments.length; i++) {
      const seg = this.#segments[i] as Segment
      if (seg.base >= upTo) break
      const buf = seg.read(off, maxBytes, upTo, minOne, opts?.alloc)
      if (buf === null) continue
      return buf.length === 0 ? EMPTY_READ : { records: [buf], bytes: buf.length }
    }
    return EMPTY_READ
  }

  /** ListOffsets by time: the first offset (≥ log start) whose record timestamp is ≥ `ts`. */
  offsetForTimestamp(ts: bigint): { offset: bigint; timestamp: bigint } | null {
    this.#checkOpen()
    const target = Number(ts)
    const lso = this.#logStartOffset
    for (const seg of this.#segments) {
      if (seg.maxTimestamp < target || seg.isEmpty || seg.nextOffset <= lso) continue
      const from = Math.max(seg.base + seg.timeIndex.lookup(target), lso)
      let hit: { offset: bigint; timestamp: bigint } | null = null
      seg.walk(seg.index.lookup(from - seg.base), (b) => {
        if (b.lastOffset < lso || b.maxTimestamp < target) return false
        for (const r of decodeBatch(seg.readAt(b.position, b.size)).records) {
          if (r.timestamp >= ts && r.offset >= BigInt(lso)) {
            hit = { offset: r.offset, timestamp: r.timestamp }
            return true
          }
        }
        return false
      })
      if (hit !== null) return hit
    }
    return null
  }

  /** ListOffsets −3: the offset and timestamp of the record with the largest timestamp (the first such). */
  maxTimestampOffset(): { offset: bigint; timestamp: bigint } | null {
    this.#checkOpen()
    let best: Segment | null = null
    for (const seg of this.#segments) if (!seg.isEmpty && seg.maxTimestamp > (best?.maxTimestamp ?? -1)) best = seg
    if (best === null) return null
    const loc = best.findBatch(best.offsetOfMaxTimestamp)
    const ts = BigInt(best.maxTimestamp)
    if (loc !== null) {
      for (const r of decodeBatch(best.readAt(loc.position, loc.size)).records)
        if (r.timestamp === ts) return { offset: r.offset, timestamp: ts }
    }
    return { offset: BigInt(best.offsetOfMaxTimestamp), timestamp: ts }
  }

  // ---- deletion ----------------------------------------------------------------------------------

  /** DeleteRecords: moves the log start offset up to `offset` (durably) and deletes the segments wholly below it. */
  deleteRecordsBefore(offset: bigint): bigint {
    this.#checkOpen()
    const o = Number(offset)
    if (o > this.#leo || o < 0) throw new KafkaError(ErrorCode.OFFSET_OUT_OF_RANGE, `offset ${offset} is past the log end ${this.#leo}`)
    if (o > this.#logStartOffset) {
      writeCheckpointSync(path.join(this.dir, LOG_START_FILE), { offset: o })
      this.#logStartOffset = o
      this.#deleteSegmentsBelowStart()
    }
    return BigInt(this.#logStartOffset)
  }

  #deleteSegmentsBelowStart(): void {
    let n = 0
    while (n + 1 < this.#segments.length && (this.#segments[n + 1] as Segment).base <= this.#logStartOffset) n++
    if (n > 0) this.#deleteOldest(n)
  }

  #deleteOldest(n: number): void {
    const gone = this.#segments.splice(0, n)
    for (const s of gone) {
      this.#size -= s.size
      s.delete()
    }
    this.#unsynced = this.#unsynced.filter((s) => !gone.includes(s))
    const first = (this.#segments[0] as Segment).base
    if (first > this.#logStartOffset) this.#logStartOffset = first
  }

  /** retention.ms and retention.bytes, by whole segments, oldest first, never the active one (delete policies only). */
  enforceRetention(nowMs: number): void {
    if (this.#closed || !deletes(this.#config)) return
    const c = this.#config
    const segs = this.#segments
    let n = 0
    const ms = c['retention.ms']
    if (ms >= 0) {
      while (n + 1 < segs.length && nowMs - largestTimestamp(segs[n] as Segment) > ms) n++
    }
    const bytes = c['retention.bytes']
    if (bytes >= 0) {
      let excess = this.#size - bytes
      for (let i = 0; i < n; i++) excess -= (segs[i] as Segment).size
      while (n + 1 < segs.length && excess >= (segs[n] as Segment).size) {
        excess -= (segs[n] as Segment).size
        n++
      }
    }
    if (n > 0) this.#deleteOldest(n)
  }

  // ---- compaction --------------------------------------------------------------------------------

  /**
   * cleanup.policy=compact: keeps the latest record per key in the sealed,
   * durable segments (the active segment is never touched, nor are its keys
   * consulted, as in Kafka), with original offsets and timestamps. Tombstones
   * get a delete horizon (now + delete.retention.ms) on the first pass and are
   * dropped on a pass after it; records without a key are dropped.
   */
  compact(nowMs: number): Promise<void> {
    if (this.#closed || !compacts(this.#config)) return Promise.resolve()
    if (this.#compaction !== null) return this.#compaction
    const run = this.#compact(nowMs).finally(() => {
      this.#compaction = null
    })
    this.#compaction = run
    return run
  }

  async #compact(nowMs: number): Promise<void> {
    const candidates = this.#cleanable(nowMs)
    if (candidates.length === 0) return
    const dirty = candidates.some((s) => s.base >= this.#cleanedThrough)
    if (!dirty && nowMs < this.#nextHorizon) return
    // The segment after the candidates (never among them: the active one at the latest) bounds what is now clean.
    const after = (this.#segments[this.#segments.indexOf(candidates[candidates.length - 1] as Segment) + 1] as Segment).base
    const result: CleanResult = await cleanSegments({
      segments: candidates,
      nowMs,
      deleteRetentionMs: this.#config['delete.retention.ms'],
      maxSegmentBytes: this.#config['segment.bytes'],
      fsync: (fd) => this.#scheduler.fsyncFds([fd]),
      stillValid: (group) => !this.#closed && group.every((s) => this.#segments.includes(s) && !s.closed),
      swap: (group, cleanedPath) => this.#swap(group, cleanedPath),
    })
    this.#cleanedThrough = after
    this.#nextHorizon = result.nextHorizon
  }

  /** Sealed segments below the recovery point's segment (so durable and never re-checked), oldest first. */
  #cleanable(nowMs: number): Segment[] {
    const limit = this.#checkpointed?.segment ?? -1
    const lag = this.#config['min.compaction.lag.ms']
    const out: Segment[] = []
    for (const s of this.#segments) {
      if (s.active || s.base >= limit || this.#unsynced.includes(s) || s.closed) break
      if (lag > 0 && s.maxTimestamp > nowMs - lag) break
      out.push(s)
    }
    return out
  }

  /**
   * Puts the cleaned file in place of `group` (synchronous, so no read sees a
   * half-swapped list). Order for crash safety: drop the old index files, rename
   * the cleaned file over the first segment (atomic), then delete the rest; a
   * crash in between leaves an overlap that loading resolves.
   */
  #swap(group: Segment[], cleanedPath: string): void {
    const first = group[0] as Segment
    fs.rmSync(first.indexPath, { force: true })
    fs.rmSync(first.timeIndexPath, { force: true })
    fs.renameSync(cleanedPath, first.logPath)
    for (const s of group.slice(1)) s.delete()
    first.close()
    const seg = Segment.open(this.dir, first.base, this.#config['segment.index.bytes'], this.#clock.now())
    accountBatches(seg, 0, seg.size, this.#config['index.interval.bytes'], false, seg.base)
    seg.seal()
    seg.indexesDurable = false
    const i = this.#segments.indexOf(first)
    this.#segments.splice(i, group.length, seg)
    this.#size += seg.size - group.reduce((n, s) => n + s.size, 0)
    // The log is durable (fsynced before the swap); index files and the directory follow in the background.
    this.#track(
      this.#scheduler
        .fsyncFds(seg.indexFds())
        .then(() => {
          seg.releaseIndexFds()
          return syncDir(this.dir)
        })
        .catch((err: unknown) => this.#log(`log ${this.dir}: sync after compaction failed: ${(err as Error).message}`)),
    )
  }

  // ---- lifecycle ---------------------------------------------------------------------------------

  /** Flushes everything, writes the recovery point and the clean-shutdown marker, closes the files. */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    if (this.#compaction !== null) await this.#compaction.catch(() => {})
    await Promise.allSettled([...this.#background])
    if (this.#dropped) return
    const active = this.#active
    try {
      active.persistIndexes()
      this.#scheduler.markDirty(this)
      await this.#scheduler.sync(this)
      await this.#scheduler.fsyncFds(active.indexFds())
      await this.checkpoint()
      const marker: CleanShutdown = { leo: this.#leo, segment: active.base, size: active.size }
      this.#final = true
      await writeCheckpoint(path.join(this.dir, CLEAN_SHUTDOWN_FILE), marker)
    } finally {
      for (const s of this.#segments) s.close()
    }
  }

  /** For topic deletion: stop everything without flushing, close the files (the caller removes the directory). */
  drop(): void {
    this.#dropped = true
    this.#closed = true
    this.#scheduler.forget(this)
    for (const s of this.#segments) s.close()
  }
}

/** Retention age basis, as Kafka: the largest record timestamp, else the file's modification time. */
function largestTimestamp(s: Segment): number {
  if (s.maxTimestamp >= 0) return s.maxTimestamp
  try {
    return fs.statSync(s.logPath).mtimeMs
  } catch {
    return 0
  }
}
