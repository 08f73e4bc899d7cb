/**
 * Lag in seconds, estimated as kafka-lag-exporter does (seglo/kafka-lag-exporter,
 * LookupTable.scala, MemoryTable): each poll adds the partition's log-end
 * offset and the poll time to a table; the time at which the log end passed a
 * committed offset is read off the table by interpolation (or extrapolation
 * outside it), and the lag is how long ago that was.
 */

export interface Point {
  offset: bigint
  /** ms since the epoch. */
  time: number
}

export type AddPointResult = 'OutOfOrder' | 'NonMonotonic' | 'Updated' | 'Inserted'

export type LookupResult =
  | { kind: 'LagIsZero' }
  | { kind: 'TooFewPoints' }
  /** The estimated time (ms) at which the log end was at the offset; null when the table cannot say (see `predict`). */
  | { kind: 'Prediction'; time: number | null }

/** kafka-lag-exporter's default `lookup-table.memory.size`. */
export const DEFAULT_TABLE_SIZE = 60

/** A sliding window of (log end, time) points for one partition. */
export class LookupTable {
  readonly #points: Point[] = []

  constructor(readonly limit: number = DEFAULT_TABLE_SIZE) {
    if (!Number.isInteger(limit) || limit < 2) throw new RangeError(`the lookup table needs room for 2 points at least, got ${limit}`)
  }

  get points(): readonly Point[] {
    return this.#points
  }

  get length(): number {
    return this.#points.length
  }

  mostRecentPoint(): Point | undefined {
    return this.#points[this.#points.length - 1]
  }

  /** The point has the same offset as the two newest points: it would extend a flat line. */
  isFlat(point: Point): boolean {
    const n = this.#points.length
    return n > 1 && (this.#points[n - 1] as Point).offset === point.offset && (this.#points[n - 2] as Point).offset === point.offset
  }

  /**
   * Adds a poll's log end. A point not newer than the newest is dropped
   * (OutOfOrder), so is one with a lower offset (NonMonotonic). A run of equal
   * offsets is kept as its first and last points: the newest is moved
   * forward instead of adding another (Updated). Otherwise the point is
   * appended, dropping the oldest when the table is full (Inserted).
   */
  addPoint(point: Point): AddPointResult {
    const mrp = this.mostRecentPoint()
    if (mrp !== undefined) {
      if (mrp.time >= point.time) return 'OutOfOrder'
      if (mrp.offset > point.offset) return 'NonMonotonic'
      if (this.isFlat(point)) {
        this.#points[this.#points.length - 1] = point
        return 'Updated'
      }
    }
    if (this.#points.length === this.limit) this.#points.shift()
    this.#points.push(point)
    return 'Inserted'
  }

  /**
   * When was the log end at `offset`? The newest offset → LagIsZero; fewer
   * than 2 points → TooFewPoints; otherwise the newest pair of neighbouring
   * points with left ≤ offset ≤ right is interpolated, and an offset outside
   * the table is extrapolated along the line from the oldest to the newest point.
   */
  lookup(offset: bigint): LookupResult {
    const n = this.#points.length
    if (n > 0 && offset === (this.#points[n - 1] as Point).offset) return { kind: 'LagIsZero' }
    if (n < 2) return { kind: 'TooFewPoints' }
    for (let i = n - 1; i > 0; i--) {
      const right = this.#points[i] as Point
      const left = this.#points[i - 1] as Point
      if (offset >= left.offset && offset <= right.offset) return { kind: 'Prediction', time: predict(offset, left, right) }
    }
    return { kind: 'Prediction', time: predict(offset, this.#points[0] as Point, this.#points[n - 1] as Point) }
  }

  clear(): void {
    this.#points.length = 0
  }
}

/**
 * The time on the line through `left` and `right` at `offset`:
 * `right.time − (right.offset − offset) · (right.time − left.time) / (right.offset − left.offset)`.
 * Null when the two points have the same offset (the log end did not move over
 * the whole table and the offset is not on it): kafka-lag-exporter divides by
 * zero there and reports ±Infinity or NaN.
 */
export function predict(offset: bigint, left: Point, right: Point): number | null {
  const dy = Number(right.offset - left.offset)
  if (dy === 0) return null
  const dx = right.time - left.time
  const Dy = Number(right.offset - offset)
  return right.time - (Dy * dx) / dy
}

/**
 * Seconds of lag for a group that committed `committed`, polled at `pollTime`:
 * 0 when it is at the newest log end, null with fewer than 2 points or when
 * the table cannot estimate it, else `(pollTime − predicted time) / 1000`,
 * never below 0 (a commit beyond the newest sample is caught up; the exporter
 * would report a negative lag).
 */
export function timeLagSeconds(table: LookupTable, committed: bigint | null, pollTime: number): number | null {
  if (committed === null) return null
  const r = table.lookup(committed)
  if (r.kind === 'LagIsZero') return 0
  if (r.kind === 'TooFewPoints' || r.time === null || !Number.isFinite(r.time)) return null
  return Math.max(0, (pollTime - r.time) / 1000)
}
