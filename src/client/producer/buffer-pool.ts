/**
 * Reused buffers for encoded batches, as the Java producer's BufferPool keeps
 * `batch.size` buffers. An encoded batch lives until its partition's answer
 * (kept for retries), then its buffer goes back here for a later batch, instead
 * of each batch taking fresh memory: fresh multi-KiB buffers cost page faults
 * (the kernel zeroes every new page) and garbage collections (V8 counts them as
 * external memory). The producer owns these buffers alone: they are handed to
 * the socket and to nothing else, and come back only once the broker has
 * answered the request that carried them, so the socket is done with them.
 */
export class BatchBufferPool {
  /** Size of every pooled buffer; batches larger than this get a buffer of their own. */
  readonly capacity: number
  readonly #max: number
  readonly #free: Buffer[] = []

  /** `maxBytes`: how much free memory the pool may keep. */
  constructor(capacity: number, maxBytes: number) {
    this.capacity = capacity
    this.#max = Math.max(1, Math.floor(maxBytes / Math.max(1, capacity)))
  }

  /** A buffer of exactly `size` bytes, and the pooled buffer it is part of (null when not pooled). */
  take(size: number): { buf: Buffer; pooled: Buffer | null } {
    if (size > this.capacity) return { buf: Buffer.allocUnsafe(size), pooled: null }
    const pooled = this.#free.pop() ?? Buffer.allocUnsafeSlow(this.capacity)
    return { buf: pooled.subarray(0, size), pooled }
  }

  /** Returns a buffer from `take` once nothing reads it any more. */
  give(pooled: Buffer): void {
    if (this.#free.length < this.#max) this.#free.push(pooled)
  }

  get free(): number {
    return this.#free.length
  }
}
