/**
 * Reused buffers for large response frames (Fetch responses: up to
 * `fetch.max.bytes`). Each frame would otherwise land in fresh memory, and fresh
 * memory costs a page fault per 4 KiB that the kernel must zero first: measured
 * here, that made up nearly half of a consumer's CPU time. A frame is leased for
 * one response and comes back once everything that reads it is done with it
 * (`release` by every holder), so its bytes must not escape to the application:
 * the fetcher copies record keys and values out of it.
 */
export interface FrameLease {
  /** The frame: exactly the size asked for. */
  readonly buf: Buffer
  /** One more holder; each holder calls `release` once. */
  retain(): void
  release(): void
}

/** Pooled capacities are rounded up to this, so frames of varying size share buffers. */
const ROUND = 1024 * 1024

export class FramePool {
  readonly #free: Buffer[] = []
  readonly #maxFree: number
  readonly #maxCapacity: number

  /** Keeps up to `maxFree` idle buffers; frames larger than `maxCapacity` get buffers of their own. */
  constructor(maxFree = 2, maxCapacity = 64 * 1024 * 1024) {
    this.#maxFree = maxFree
    this.#maxCapacity = maxCapacity
  }

  /** A frame of `size` bytes, held once by the caller. */
  lease(size: number): FrameLease {
    if (size > this.#maxCapacity) return fixed(Buffer.allocUnsafe(size))
    let i = this.#free.findIndex((b) => b.length >= size)
    let whole: Buffer
    if (i >= 0) {
      whole = this.#free[i] as Buffer
      this.#free.splice(i, 1)
    } else {
      // None is large enough: let the smallest idle one go, so the pool moves to the sizes now seen.
      if (this.#free.length >= this.#maxFree) {
        i = 0
        for (let k = 1; k < this.#free.length; k++) if ((this.#free[k] as Buffer).length < (this.#free[i] as Buffer).length) i = k
        this.#free.splice(i, 1)
      }
      whole = Buffer.allocUnsafeSlow(Math.ceil(size / ROUND) * ROUND)
    }
    let refs = 1
    return {
      buf: whole.subarray(0, size),
      retain: () => {
        refs++
      },
      release: () => {
        if (refs <= 0) return
        if (--refs === 0 && this.#free.length < this.#maxFree) this.#free.push(whole)
      },
    }
  }

  /** Idle buffers (for tests). */
  get idle(): number {
    return this.#free.length
  }
}

function fixed(buf: Buffer): FrameLease {
  return { buf, retain: () => {}, release: () => {} }
}
