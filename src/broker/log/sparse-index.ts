/**
 * What a segment's two sparse indexes share: entries of (key, value) kept in
 * memory in typed arrays, sorted by key, looked up by floor search, and
 * written to their file lazily — the file is a cache that a clean shutdown
 * keeps and recovery can rebuild, never the truth. Subclasses give the
 * on-disk entry layout and the rule for which entries may follow which.
 */
import fs from 'node:fs'

export abstract class SparseIndex {
  protected keys: Float64Array
  protected values: Int32Array
  protected n = 0
  /** Entries already in the file. */
  #written = 0
  /** The file is not known to hold a prefix of the entries (new object, truncation, damage): rewrite it whole. */
  #rewrite = true
  readonly maxEntries: number

  constructor(
    readonly path: string,
    maxBytes: number,
    private readonly entrySize: number,
    capacity = 64,
  ) {
    this.maxEntries = Math.max(1, Math.floor(maxBytes / entrySize))
    this.keys = new Float64Array(capacity)
    this.values = new Int32Array(capacity)
  }

  protected abstract writeEntry(buf: Buffer, at: number, key: number, value: number): void
  protected abstract readEntry(data: Buffer, at: number): [key: number, value: number]
  /** Whether (key, value) may follow the last entry; `limit` bounds values when loading from a file. */
  protected abstract follows(key: number, value: number, limit: number): boolean

  get entries(): number {
    return this.n
  }

  /** Entries not yet written to the file. */
  get pending(): boolean {
    return this.#rewrite || this.#written !== this.n
  }

  get isFull(): boolean {
    return this.n >= this.maxEntries
  }

  protected lastKey(): number {
    return this.n === 0 ? -1 : (this.keys[this.n - 1] as number)
  }

  protected lastValue(): number {
    return this.n === 0 ? -1 : (this.values[this.n - 1] as number)
  }

  protected push(key: number, value: number): void {
    const n = this.n
    if (n === this.keys.length) {
      const keys = new Float64Array(n * 2)
      const values = new Int32Array(n * 2)
      keys.set(this.keys)
      values.set(this.values)
      this.keys = keys
      this.values = values
    }
    this.keys[n] = key
    this.values[n] = value
    this.n = n + 1
  }

  /** Index of the last entry whose key is ≤ `key`, or -1. */
  protected floor(key: number): number {
    let lo = 0
    let hi = this.n - 1
    let found = -1
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1
      if ((this.keys[mid] as number) <= key) {
        found = mid
        lo = mid + 1
      } else hi = mid - 1
    }
    return found
  }

  /** Keeps the first `n` entries. */
  protected truncateTo(n: number): void {
    if (n >= this.n) return
    this.n = n
    if (this.#written > n) this.#rewrite = true
  }

  clear(): void {
    this.truncateTo(0)
  }

  /** Writes the entries not yet in the file; returns whether anything was written. */
  persist(fd: number): boolean {
    if (this.#rewrite) {
      fs.ftruncateSync(fd, 0)
      this.#written = 0
      this.#rewrite = false
    } else if (this.#written === this.n) return false
    const count = this.n - this.#written
    const buf = Buffer.allocUnsafe(count * this.entrySize)
    for (let i = 0; i < count; i++) {
      this.writeEntry(buf, i * this.entrySize, this.keys[this.#written + i] as number, this.values[this.#written + i] as number)
    }
    writeFully(fd, buf, this.#written * this.entrySize)
    this.#written = this.n
    return true
  }

  /** Loads the longest valid prefix of `data` (the file's bytes); returns false when something had to be dropped. */
  load(data: Buffer, limit: number): boolean {
    const total = Math.floor(data.length / this.entrySize)
    this.n = 0
    let clean = data.length % this.entrySize === 0
    for (let i = 0; i < total; i++) {
      const [key, value] = this.readEntry(data, i * this.entrySize)
      if (!this.follows(key, value, limit)) {
        clean = false
        break
      }
      this.push(key, value)
    }
    this.#written = this.n
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
