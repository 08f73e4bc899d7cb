/**
 * A segment's sparse offset index: (offset relative to the segment base int32,
 * file position int32), big-endian, 8 bytes an entry, as in Kafka's `.index`.
 *
 * Entries name the first byte of a batch by that batch's base offset; one is
 * added every `index.interval.bytes` of log.
 */
import { SparseIndex } from './sparse-index.ts'

export { writeFully } from './sparse-index.ts'

export const OFFSET_ENTRY = 8

export class OffsetIndex extends SparseIndex {
  constructor(path: string, maxBytes: number, capacity = 64) {
    super(path, maxBytes, OFFSET_ENTRY, capacity)
  }

  protected writeEntry(buf: Buffer, at: number, rel: number, position: number): void {
    buf.writeInt32BE(rel, at)
    buf.writeInt32BE(position, at + 4)
  }

  protected readEntry(data: Buffer, at: number): [number, number] {
    return [data.readInt32BE(at), data.readInt32BE(at + 4)]
  }

  /** Offsets and positions both strictly increase; positions stay inside the log (`logSize`). */
  protected follows(rel: number, position: number, logSize: number): boolean {
    return rel >= 0 && position >= 0 && position < logSize && (this.n === 0 || (rel > this.lastRel() && position > this.lastPosition()))
  }

  lastRel(): number {
    return this.lastKey()
  }

  lastPosition(): number {
    return this.lastValue()
  }

  append(rel: number, position: number): void {
    if (this.n > 0 && (rel <= this.lastRel() || position <= this.lastPosition())) return
    this.push(rel, position)
  }

  /** File position of the last indexed batch whose base offset is ≤ `rel`; 0 when there is none. */
  lookup(rel: number): number {
    const i = this.floor(rel)
    return i < 0 ? 0 : (this.values[i] as number)
  }

  /** The largest indexed batch position ≤ `position`, or 0. */
  floorPosition(position: number): number {
    let lo = 0
    let hi = this.n - 1
    let found = 0
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1
      const p = this.values[mid] as number
      if (p <= position) {
        found = p
        lo = mid + 1
      } else hi = mid - 1
    }
    return found
  }

  /** Drops the entries at or past file position `position`. */
  truncateToPosition(position: number): void {
    let n = this.n
    while (n > 0 && (this.values[n - 1] as number) >= position) n--
    this.truncateTo(n)
  }
}
