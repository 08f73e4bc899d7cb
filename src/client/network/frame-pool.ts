/**
 * Reused buffers for large response frames (Fetch responses: up to
 * `fetch.max.bytes`). Each frame would otherwise land in fresh memory, and fresh
 * memory costs a page fault per 4 KiB that the kernel must zero first: measured
 * here, that made up nearly half of a consumer's CPU time. A frame is leased for
 * one response and comes back once everything that reads it is done with it
 * (`release` by every holder), so its bytes must not escape to the application:
 * the fetcher copies record keys and values out of it.
 */
import { BufferPool } from '../../util/buffer-pool.ts'

export interface FrameLease {
  /** The frame: exactly the size asked for. */
  readonly buf: Buffer
  /** One more holder; each holder calls `release` once. */
  retain(): void
  release(): void
}

export class FramePool {
  readonly #pool: BufferPool

  /** Keeps up to `maxFree` idle buffers; frames larger than `maxCapacity` get buffers of their own. */
  constructor(maxFree = 2, maxCapacity = 64 * 1024 * 1024) {
    this.#pool = new BufferPool({ maxFree, maxCapacity, round: 1024 * 1024 })
  }

  /** A frame of `size` bytes, held once by the caller. */
  lease(size: number): FrameLease {
    const whole = this.#pool.take(size)
    if (whole === null) return fixed(Buffer.allocUnsafe(size))
    let refs = 1
    return {
      buf: whole.subarray(0, size),
      retain: () => {
        refs++
      },
      release: () => {
        if (refs <= 0) return
        if (--refs === 0) this.#pool.give(whole)
      },
    }
  }

  /** Idle buffers (for tests). */
  get idle(): number {
    return this.#pool.idle
  }
}

function fixed(buf: Buffer): FrameLease {
  return { buf, retain: () => {}, release: () => {} }
}
