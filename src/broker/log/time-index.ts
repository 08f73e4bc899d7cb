/**
 * A segment's sparse time index: (timestamp int64, offset relative to the
 * segment base int32), big-endian, 12 bytes an entry, as in Kafka's
 * `.timeindex`. An entry (T, o) says: T is the largest timestamp of the
 * segment up to the batch based at o, and every batch before o is below T.
 * Entries are added on the offset index's interval, only when the maximum
 * grew, plus a last one when the segment stops being the active one.
 */
import fs from 'node:fs'
import { writeFully } from './offset-index.ts'

export const TIME_ENTRY = 12

export class TimeIndex {
  #ts: Float64Array
  #rel: Int32Array
  #n = 0
  #written = 0
  /** The file is not known to hold a prefix of the entries (new object, truncation, damage): rewrite it whole. */
  #rewrite = true
  readonly maxEntries: number

  constructor(
    readonly path: string,
    maxBytes: number,
    capacity = 64,
  ) {
    this.maxEntries = Math.max(1, Math.floor(maxBytes / TIME_ENTRY))
    this.#ts = new Float64Array(capacity)
    this.#rel = new Int32Array(capacity)
  }

  get entries(): number {
    return this.#n
  }

  /** Entries not yet written to the file. */
  get pending(): boolean {
    return this.#rewrite || this.#written !== this.#n
  }

  get isFull(): boolean {
    return this.#n >= this.maxEntries
  }

  lastTimestamp(): number {
    return this.#n === 0 ? -1 : (this.#ts[this.#n - 1] as number)
  }

  lastRel(): number {
    return this.#n === 0 ? -1 : (this.#rel[this.#n - 1] as number)
  }

  /** Appends (ts, rel) if ts is above the last entry's timestamp. */
  maybeAppend(ts: number, rel: number): void {
    const n = this.#n
    if (n > 0 && (ts <= (this.#ts[n - 1] as number) || rel < (this.#rel[n - 1] as number))) return
    if (n === this.#ts.length) {
      const t = new Float64Array(n * 2)
      const r = new Int32Array(n * 2)
      t.set(this.#ts)
      r.set(this.#rel)
      this.#ts = t
      this.#rel = r
    }
    this.#ts[n] = ts
    this.#rel[n] = rel
    this.#n = n + 1
  }

  /** Relative offset of the last entry whose timestamp is ≤ `ts`, where a scan for `ts` may start; 0 if none. */
  lookup(ts: number): number {
    let lo = 0
    let hi = this.#n - 1
    let found = -1
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1
      if ((this.#ts[mid] as number) <= ts) {
        found = mid
        lo = mid + 1
      } else hi = mid - 1
    }
    return found < 0 ? 0 : (this.#rel[found] as number)
  }

  /** Drops entries whose relative offset is ≥ `rel`. */
  truncateToRel(rel: number): void {
    let n = this.#n
    while (n > 0 && (this.#rel[n - 1] as number) >= rel) n--
    if (n >= this.#n) return
    this.#n = n
    if (this.#written > n) this.#rewrite = true
  }

  clear(): void {
    this.truncateToRel(0)
  }

  persist(fd: number): boolean {
    if (this.#rewrite) {
      fs.ftruncateSync(fd, 0)
      this.#written = 0
      this.#rewrite = false
    } else if (this.#written === this.#n) return false
    const count = this.#n - this.#written
    const buf = Buffer.allocUnsafe(count * TIME_ENTRY)
    for (let i = 0; i < count; i++) {
      const ts = this.#ts[this.#written + i] as number
      buf.writeInt32BE(Math.floor(ts / 4294967296), i * TIME_ENTRY)
      buf.writeUInt32BE(((ts % 4294967296) + 4294967296) % 4294967296, i * TIME_ENTRY + 4)
      buf.writeInt32BE(this.#rel[this.#written + i] as number, i * TIME_ENTRY + 8)
    }
    writeFully(fd, buf, this.#written * TIME_ENTRY)
    this.#written = this.#n
    return true
  }

  /** Loads the longest valid prefix (increasing timestamps, non-decreasing offsets ≤ `maxRel`); false if anything was dropped. */
  load(data: Buffer, maxRel: number): boolean {
    const total = Math.floor(data.length / TIME_ENTRY)
    this.#n = 0
    let clean = data.length % TIME_ENTRY === 0
    for (let i = 0; i < total; i++) {
      const ts = data.readInt32BE(i * TIME_ENTRY) * 4294967296 + data.readUInt32BE(i * TIME_ENTRY + 4)
      const rel = data.readInt32BE(i * TIME_ENTRY + 8)
      const n = this.#n
      const ok = rel >= 0 && rel <= maxRel && (n === 0 || (ts > (this.#ts[n - 1] as number) && rel >= (this.#rel[n - 1] as number)))
      if (!ok) {
        clean = false
        break
      }
      this.maybeAppend(ts, rel)
    }
    this.#written = this.#n
    this.#rewrite = !clean
    return clean
  }
}
