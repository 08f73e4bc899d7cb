/**
 * Reused receive buffers for large request frames. A produce request of a
 * megabyte would otherwise be copied out of the socket's chunks into fresh
 * memory, which this kind of machine faults in and zeroes page by page (a
 * tenth of the broker's time at 1 KiB records) and which the garbage collector
 * must then account for. A frame is leased while its request is handled and
 * comes back when the request is answered; only APIs whose handlers keep no
 * view of the frame after they settle may use it (see `ConnectionHandler.reusesFrame`).
 */

/** Capacities are rounded up to this, so frames of varying size share buffers. */
const ROUND = 256 * 1024

export class FramePool {
  readonly #free: Buffer[] = []
  readonly #maxFree: number
  readonly #maxCapacity: number

  /** Keeps up to `maxFree` idle buffers; frames above `maxCapacity` are not pooled. */
  constructor(maxFree = 8, maxCapacity = 16 * 1024 * 1024) {
    this.#maxFree = maxFree
    this.#maxCapacity = maxCapacity
  }

  /** A buffer of at least `size` bytes, or null when such frames are not pooled. */
  take(size: number): Buffer | null {
    if (size > this.#maxCapacity) return null
    for (let i = this.#free.length - 1; i >= 0; i--) {
      const b = this.#free[i] as Buffer
      if (b.length >= size) {
        this.#free.splice(i, 1)
        return b
      }
    }
    // None large enough: drop the smallest idle one if full, so the pool follows the sizes seen.
    if (this.#free.length >= this.#maxFree) {
      let k = 0
      for (let i = 1; i < this.#free.length; i++) if ((this.#free[i] as Buffer).length < (this.#free[k] as Buffer).length) k = i
      this.#free.splice(k, 1)
    }
    return Buffer.allocUnsafeSlow(Math.ceil(size / ROUND) * ROUND)
  }

  give(buf: Buffer): void {
    if (this.#free.length < this.#maxFree) this.#free.push(buf)
  }

  /** Idle buffers (for tests). */
  get idle(): number {
    return this.#free.length
  }
}
