/**
 * A segment's sparse offset index: (offset relative to the segment base int32,
 * file position int32), big-endian, 8 bytes an entry, as in Kafka's `.index`.
 *
 * Entries name the first byte of a batch by that batch's base offset; one is
 * added every `index.interval.bytes` of log. The entries live in memory (typed
 * arrays) and are written to the file lazily (`persist`): the file is a cache
 * that a clean shutdown keeps and recovery can rebuild, never the truth.
 */
import fs from 'node:fs'

export const OFFSET_ENTRY = 8

export class OffsetIndex {
  #rel: Int32Array
  #pos: Int32Array
  #n = 0
  /** Entries already in the file. */
  #written = 0
  /** The file is not known to hold a prefix of the entries (new object, truncation, damage): rewrite it whole. */
  #rewrite = true
  readonly maxEntries: number

  constructor(
    readonly path: string,
    maxBytes: number,
    capacity = 64,
  ) {
    this.maxEntries = Math.max(1, Math.floor(maxBytes / OFFSET_ENTRY))
    this.#rel = new Int32Array(capacity)
    this.#pos = new Int32Array(capacity)
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

  lastRel(): number {
    return this.#n === 0 ? -1 : (this.#rel[this.#n - 1] as number)
  }

  lastPosition(): number {
    return this.#n === 0 ? -1 : (this.#pos[this.#n - 1] as number)
  }

  append(rel: number, position: number): void {
    const n = this.#n
    if (n > 0 && (rel <= (this.#rel[n - 1] as number) || position <= (this.#pos[n - 1] as number))) return
    if (n === this.#rel.length) this.#grow()
    this.#rel[n] = rel
    this.#pos[n] = position
    this.#n = n + 1
  }

  #grow(): void {
    const cap = this.#rel.length * 2
    const rel = new Int32Array(cap)
    const pos = new Int32Array(cap)
    rel.set(this.#rel)
    pos.set(this.#pos)
    this.#rel = rel
    this.#pos = pos
  }

  /** File position of the last indexed batch whose base offset is ≤ `rel`; 0 when there is none. */
  lookup(rel: number): number {
    let lo = 0
    let hi = this.#n - 1
    let found = -1
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1
      if ((this.#rel[mid] as number) <= rel) {
        found = mid
        lo = mid + 1
      } else hi = mid - 1
    }
    return found < 0 ? 0 : (this.#pos[found] as number)
  }

  /** The largest indexed batch position ≤ `position`, or 0. */
  floorPosition(position: number): number {
    let lo = 0
    let hi = this.#n - 1
    let found = 0
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1
      const p = this.#pos[mid] as number
      if (p <= position) {
        found = p
        lo = mid + 1
      } else hi = mid - 1
    }
    return found
  }

  /** Drops the entries at or past file position `position`. */
  truncateToPosition(position: number): void {
    let n = this.#n
    while (n > 0 && (this.#pos[n - 1] as number) >= position) n--
    this.#truncate(n)
  }

  #truncate(n: number): void {
    if (n >= this.#n) return
    this.#n = n
    if (this.#written > n) this.#rewrite = true
  }

  clear(): void {
    this.#truncate(0)
  }

  /** Writes the entries not yet in the file; returns whether anything was written. */
  persist(fd: number): boolean {
    if (this.#rewrite) {
      fs.ftruncateSync(fd, 0)
      this.#written = 0
      this.#rewrite = false
    } else if (this.#written === this.#n) return false
    const count = this.#n - this.#written
    const buf = Buffer.allocUnsafe(count * OFFSET_ENTRY)
    for (let i = 0; i < count; i++) {
      buf.writeInt32BE(this.#rel[this.#written + i] as number, i * OFFSET_ENTRY)
      buf.writeInt32BE(this.#pos[this.#written + i] as number, i * OFFSET_ENTRY + 4)
    }
    writeFully(fd, buf, this.#written * OFFSET_ENTRY)
    this.#written = this.#n
    return true
  }

  /**
   * Loads entries from `data` (the file's bytes), keeping the longest valid
   * prefix: strictly increasing offsets and positions, positions below `logSize`.
   * Returns false when something had to be dropped.
   */
  load(data: Buffer, logSize: number): boolean {
    const total = Math.floor(data.length / OFFSET_ENTRY)
    this.#n = 0
    this.#written = 0
    let clean = data.length % OFFSET_ENTRY === 0
    for (let i = 0; i < total; i++) {
      const rel = data.readInt32BE(i * OFFSET_ENTRY)
      const pos = data.readInt32BE(i * OFFSET_ENTRY + 4)
      const n = this.#n
      const ok =
        rel >= 0 && pos >= 0 && pos < logSize && (n === 0 || (rel > (this.#rel[n - 1] as number) && pos > (this.#pos[n - 1] as number)))
      if (!ok) {
        clean = false
        break
      }
      this.append(rel, pos)
    }
    this.#written = this.#n
    this.#rewrite = !clean
    return clean
  }
}

/** pwrite until every byte is written (a short write is legal for regular files too). */
export function writeFully(fd: number, buf: Buffer, position: number): void {
  let done = 0
  while (done < buf.length) {
    done += fs.writeSync(fd, buf, done, buf.length - done, position + done)
  }
}
