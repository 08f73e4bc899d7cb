/**
 * Burrow's consumer-lag evaluation (linkedin/Burrow HEAD ced55ba9,
 * core/internal/evaluator/caching.go and core/internal/storage/inmemory.go):
 * a ring of the last `intervals` commits per partition, a ring of the last
 * `intervals` log-end offsets, and rules over the window they cover. No
 * thresholds besides `allowedLag`: a partition is judged by how its commits
 * and lag moved. See README.md in this folder for each rule and where
 * Cohort's polling model departs from Burrow's commit stream.
 */

/** Burrow's status constants, in its order of severity. */
export const STATUS_VALUE = { NOTFOUND: 0, OK: 1, WARN: 2, ERR: 3, STOP: 4, STALL: 5, REWIND: 6 } as const

/** A partition's status: STOP, STALL and REWIND are errors, reported as ERR for the group. */
export type PartitionStatus = 'OK' | 'WARN' | 'STOP' | 'STALL' | 'REWIND'
export type GroupStatus = 'NOTFOUND' | 'OK' | 'WARN' | 'ERR'

export interface BurrowConfig {
  /** Commits (and log-end samples) kept per partition: Burrow's `storage.intervals`, default 10. */
  intervals: number
  /** A commit less than this many ms after the previous one replaces it (keeping the earlier timestamp): `min-distance`, default 0. */
  minDistanceMs: number
  /** Lag at or below this is no lag: `allowed-lag`, default 0. */
  allowedLag: bigint
  /** A partition whose ring is filled below this fraction is OK without evaluation: `minimum-complete`, default 0. */
  minimumComplete: number
}

export const DEFAULT_BURROW: BurrowConfig = { intervals: 10, minDistanceMs: 0, allowedLag: 0n, minimumComplete: 0 }

/** One stored commit. */
export interface ConsumerOffset {
  offset: bigint
  /** When the commit was made, ms since the epoch. */
  timestamp: number
  /** Log end − offset when the commit was stored, clamped at 0 and never updated; null when unknown (Burrow: a back-filled commit). */
  lag: bigint | null
}

/** The last `intervals` commits of one partition, oldest first (Burrow's offset ring). */
export class OffsetRing {
  readonly #entries: ConsumerOffset[] = []

  constructor(
    readonly intervals: number = DEFAULT_BURROW.intervals,
    readonly minDistanceMs: number = DEFAULT_BURROW.minDistanceMs,
  ) {
    if (!Number.isInteger(intervals) || intervals < 1) throw new RangeError(`intervals must be a positive integer, got ${intervals}`)
  }

  /**
   * Stores a commit. One older than the newest stored is dropped (Burrow orders
   * commits and drops back-fills into a full ring; a poller never back-fills).
   * One within `minDistanceMs` of the newest replaces it and keeps its timestamp,
   * so commits more frequent than min-distance still advance the ring.
   */
  add(entry: ConsumerOffset): void {
    const last = this.#entries[this.#entries.length - 1]
    if (last !== undefined) {
      if (entry.timestamp < last.timestamp) return
      if (entry.timestamp - last.timestamp < this.minDistanceMs) {
        this.#entries[this.#entries.length - 1] = { ...entry, timestamp: last.timestamp }
        return
      }
    }
    this.#entries.push(entry)
    if (this.#entries.length > this.intervals) this.#entries.shift()
  }

  /** Stored commits, oldest first: Burrow's window (the ring with its leading empty slots removed). */
  get entries(): readonly ConsumerOffset[] {
    return this.#entries
  }

  get last(): ConsumerOffset | undefined {
    return this.#entries[this.#entries.length - 1]
  }

  clear(): void {
    this.#entries.length = 0
  }
}

/** Appends to a bounded list, dropping the oldest: the log-end ring (Burrow's broker offsets, one per refresh). */
export function pushBounded<T>(list: T[], value: T, limit: number): void {
  list.push(value)
  while (list.length > limit) list.shift()
}

export interface PartitionEvaluation {
  status: PartitionStatus
  /** Filled fraction of the ring: stored commits / intervals. */
  complete: number
  /** Newest log end − newest stored commit, clamped at 0; 0 without either. */
  currentLag: bigint
  /** Oldest and newest stored commit (Burrow's `start` and `end`). */
  start: ConsumerOffset | null
  end: ConsumerOffset | null
}

/**
 * Burrow's `evaluatePartitionStatus`: the window's completeness, the current
 * lag (newest log end − newest commit, clamped at 0), then the rules.
 */
export function evaluatePartition(
  offsets: readonly ConsumerOffset[],
  brokerOffsets: readonly bigint[],
  nowMs: number,
  config: Partial<BurrowConfig> = {},
): PartitionEvaluation {
  const c = { ...DEFAULT_BURROW, ...config }
  const window = offsets.slice(-c.intervals)
  const newestLeo = brokerOffsets[brokerOffsets.length - 1]
  const last = window[window.length - 1]
  const currentLag = newestLeo !== undefined && last !== undefined && newestLeo > last.offset ? newestLeo - last.offset : 0n
  const out: PartitionEvaluation = {
    status: 'OK',
    complete: window.length / c.intervals,
    currentLag,
    start: window[0] ?? null,
    end: last ?? null,
  }
  if (window.length === 0) return out
  if (out.complete >= c.minimumComplete) out.status = calculatePartitionStatus(window, brokerOffsets, currentLag, nowMs, c.allowedLag)
  return out
}

/**
 * Burrow HEAD's `calculatePartitionStatus`, in its order:
 * 1. current lag ≤ allowed → OK;
 * 2. STOP: no commit for longer than the window spans, unless a recent log end was ≤ the last commit (PR #338);
 * 3. REWIND: the first decrease of the committed offset was never recovered from (checked before the zero-lag rule since PR #716);
 * 4. some stored lag ≤ allowed → OK;
 * 5. STALL: every offset in the window is the same;
 * 6. WARN: the lag never decreased;
 * 7. otherwise OK.
 */
export function calculatePartitionStatus(
  offsets: readonly ConsumerOffset[],
  brokerOffsets: readonly bigint[],
  currentLag: bigint,
  nowMs: number,
  allowedLag: bigint = 0n,
): PartitionStatus {
  if (offsets.length === 0 || currentLag <= allowedLag) return 'OK'
  if (offsetsStopped(offsets, nowMs) && !recentLagZero(offsets, brokerOffsets)) return 'STOP'
  const rewind = offsetsRewind(offsets)
  if (rewind > 0 && !rewindRecovered(offsets, rewind)) return 'REWIND'
  if (lagAlwaysNotZero(offsets, allowedLag)) {
    if (offsetsStalled(offsets)) return 'STALL'
    if (lagNotDecreasing(offsets)) return 'WARN'
  }
  return 'OK'
}

/** Burrow rule 1: true when no stored commit had lag ≤ allowed (so the window was never caught up). */
export function lagAlwaysNotZero(offsets: readonly ConsumerOffset[], allowedLag: bigint = 0n): boolean {
  return !offsets.some((o) => o.lag !== null && o.lag <= allowedLag)
}

/** Burrow rule 2: index of the first commit lower than the one before it, -1 when there is none. */
export function offsetsRewind(offsets: readonly ConsumerOffset[]): number {
  for (let i = 1; i < offsets.length; i++) if ((offsets[i] as ConsumerOffset).offset < (offsets[i - 1] as ConsumerOffset).offset) return i
  return -1
}

/** Burrow rule 2, part 2: some commit at or after the rewind reached the offset committed just before it. */
export function rewindRecovered(offsets: readonly ConsumerOffset[], rewindIndex: number): boolean {
  const before = (offsets[rewindIndex - 1] as ConsumerOffset).offset
  for (let i = rewindIndex; i < offsets.length; i++) if ((offsets[i] as ConsumerOffset).offset >= before) return true
  return false
}

/** Burrow rule 3: the time since the last commit exceeds the time the window spans (strictly). */
export function offsetsStopped(offsets: readonly ConsumerOffset[], nowMs: number): boolean {
  const first = (offsets[0] as ConsumerOffset).timestamp
  const last = (offsets[offsets.length - 1] as ConsumerOffset).timestamp
  return nowMs - last > last - first
}

/** Burrow rule 4: every commit in the window is the same offset. */
export function offsetsStalled(offsets: readonly ConsumerOffset[]): boolean {
  for (let i = 1; i < offsets.length; i++)
    if ((offsets[i] as ConsumerOffset).offset !== (offsets[i - 1] as ConsumerOffset).offset) return false
  return true
}

/** Burrow rule 5: the stored lag never decreases from one commit to the next (commits without a lag are skipped). */
export function lagNotDecreasing(offsets: readonly ConsumerOffset[]): boolean {
  let previous: bigint | null = null
  for (const o of offsets) {
    if (o.lag === null) continue
    if (previous !== null && o.lag < previous) return false
    previous = o.lag
  }
  return true
}

/** PR #338: some stored log end is ≤ the newest commit, i.e. the consumer had caught up within the log-end window. */
export function recentLagZero(offsets: readonly ConsumerOffset[], brokerOffsets: readonly bigint[]): boolean {
  const last = (offsets[offsets.length - 1] as ConsumerOffset).offset
  return brokerOffsets.some((leo) => leo <= last)
}

export interface GroupEvaluation {
  status: GroupStatus
  /** Fraction of partitions whose ring is full. */
  complete: number
  /** Σ current lag (each clamped at 0). */
  totalLag: bigint
  /** Index (into the input) of the partition with the most current lag, -1 without partitions. */
  maxLagIndex: number
}

/**
 * Burrow's group status: the worst partition status, with STOP, STALL and
 * REWIND reported as ERR. A group without partitions is OK with complete 0,
 * as in Burrow (a group Burrow has never seen a commit for is NOTFOUND; the
 * caller decides that).
 */
export function evaluateGroup(partitions: readonly Pick<PartitionEvaluation, 'status' | 'complete' | 'currentLag'>[]): GroupEvaluation {
  let value: number = STATUS_VALUE.OK
  let totalLag = 0n
  let maxLagIndex = -1
  let completeCount = 0
  partitions.forEach((p, i) => {
    const v = Math.min(STATUS_VALUE[p.status], STATUS_VALUE.ERR)
    if (v > value) value = v
    totalLag += p.currentLag
    if (maxLagIndex < 0 || p.currentLag > (partitions[maxLagIndex] as PartitionEvaluation).currentLag) maxLagIndex = i
    if (p.complete === 1) completeCount++
  })
  const status: GroupStatus = value === STATUS_VALUE.ERR ? 'ERR' : value === STATUS_VALUE.WARN ? 'WARN' : 'OK'
  return { status, complete: partitions.length > 0 ? completeCount / partitions.length : 0, totalLag, maxLagIndex }
}
