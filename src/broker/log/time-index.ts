/**
 * A segment's sparse time index: (timestamp int64, offset relative to the
 * segment base int32), big-endian, 12 bytes an entry, as in Kafka's
 * `.timeindex`. An entry (T, o) says: T is the largest timestamp of the
 * segment up to the batch based at o, and every batch before o is below T.
 * Entries are added on the offset index's interval, only when the maximum
 * grew, plus a last one when the segment stops being the active one.
 */
import { SparseIndex } from './sparse-index.ts'

export const TIME_ENTRY = 12
const TWO_32 = 4294967296

export class TimeIndex extends SparseIndex {
  constructor(path: string, maxBytes: number, capacity = 64) {
    super(path, maxBytes, TIME_ENTRY, capacity)
  }

  protected writeEntry(buf: Buffer, at: number, ts: number, rel: number): void {
    buf.writeInt32BE(Math.floor(ts / TWO_32), at)
    buf.writeUInt32BE(((ts % TWO_32) + TWO_32) % TWO_32, at + 4)
    buf.writeInt32BE(rel, at + 8)
  }

  protected readEntry(data: Buffer, at: number): [number, number] {
    return [data.readInt32BE(at) * TWO_32 + data.readUInt32BE(at + 4), data.readInt32BE(at + 8)]
  }

  /** Timestamps strictly increase, offsets never decrease and stay ≤ `maxRel`. */
  protected follows(ts: number, rel: number, maxRel: number): boolean {
    return rel >= 0 && rel <= maxRel && (this.n === 0 || (ts > this.lastTimestamp() && rel >= this.lastRel()))
  }

  lastTimestamp(): number {
    return this.lastKey()
  }

  lastRel(): number {
    return this.lastValue()
  }

  /** Appends (ts, rel) if ts is above the last entry's timestamp. */
  maybeAppend(ts: number, rel: number): void {
    if (this.n > 0 && (ts <= this.lastTimestamp() || rel < this.lastRel())) return
    this.push(ts, rel)
  }

  /** Relative offset of the last entry whose timestamp is ≤ `ts`, where a scan for `ts` may start; 0 if none. */
  lookup(ts: number): number {
    const i = this.floor(ts)
    return i < 0 ? 0 : (this.values[i] as number)
  }

  /** Drops entries whose relative offset is ≥ `rel`. */
  truncateToRel(rel: number): void {
    let n = this.n
    while (n > 0 && (this.values[n - 1] as number) >= rel) n--
    this.truncateTo(n)
  }
}
