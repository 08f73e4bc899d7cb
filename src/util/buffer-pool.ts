/**
 * Reused large buffers. On the machines Cohort runs on, fresh multi-megabyte
 * memory is faulted in and zeroed page by page by the kernel, and the garbage
 * collector must account for it: for buffers that live only while one request
 * or response is handled (fetch responses in the client, produce frames and
 * fetch reads in the broker), taking them from a small free list is far cheaper.
 * Whoever takes a buffer gives it back only when nothing refers to its bytes.
 */
export class BufferPool {
  readonly #free: Buffer[] = []
  readonly #maxFree: number
  readonly #maxCapacity: number
  readonly #round: number

  /**
   * Keeps up to `maxFree` idle buffers; sizes above `maxCapacity` are not pooled; capacities are
   * rounded up to `round`, so that requests of varying size share buffers.
   */
  constructor(options: { maxFree: number; maxCapacity: number; round: number }) {
    this.#maxFree = options.maxFree
    this.#maxCapacity = options.maxCapacity
    this.#round = options.round
  }

  /** A buffer of at least `size` bytes, or null when a buffer that large is not pooled. */
  take(size: number): Buffer | null {
    if (size > this.#maxCapacity) return null
    for (let i = this.#free.length - 1; i >= 0; i--) {
      const b = this.#free[i] as Buffer
      if (b.length >= size) {
        this.#free.splice(i, 1)
        return b
      }
    }
    // None is large enough: let the smallest idle one go, so the pool moves to the sizes now seen.
    if (this.#free.length >= this.#maxFree) {
      let k = 0
      for (let i = 1; i < this.#free.length; i++) if ((this.#free[i] as Buffer).length < (this.#free[k] as Buffer).length) k = i
      this.#free.splice(k, 1)
    }
    return Buffer.allocUnsafeSlow(Math.ceil(size / this.#round) * this.#round)
  }

  /** Gives back a buffer from `take` (kept if the pool has room). */
  give(buf: Buffer): void {
    if (this.#free.length < this.#maxFree) this.#free.push(buf)
  }

  /** Idle buffers (for tests). */
  get idle(): number {
    return this.#free.length
  }
}
