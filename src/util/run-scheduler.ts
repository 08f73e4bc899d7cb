/**
 * Coalesces wake-ups of a loop that must run "soon" (once per microtask, however
 * many callers ask) or "at" a time (one timer, always at the earliest time asked
 * for). The producer's sender and the consumer's fetcher both drive their work this way.
 */
export class RunScheduler {
  readonly #run: () => void
  #scheduled = false
  #timer: NodeJS.Timeout | null = null
  #timerAt = Number.POSITIVE_INFINITY
  #stopped = false

  constructor(run: () => void) {
    this.#run = run
  }

  /** Runs once in a microtask, however often this is called before then. */
  soon(): void {
    if (this.#scheduled || this.#stopped) return
    this.#scheduled = true
    queueMicrotask(() => {
      this.#scheduled = false
      if (!this.#stopped) this.#run()
    })
  }

  /** Runs at `atMs` (epoch ms) unless an earlier run is already armed; Infinity does nothing. */
  at(atMs: number): void {
    if (!Number.isFinite(atMs) || this.#stopped) return
    if (this.#timer && this.#timerAt <= atMs) return
    if (this.#timer) clearTimeout(this.#timer)
    this.#timerAt = atMs
    this.#timer = setTimeout(
      () => {
        this.#timer = null
        this.#timerAt = Number.POSITIVE_INFINITY
        this.#run()
      },
      Math.max(0, atMs - Date.now()),
    )
  }

  /** No more runs: clears the armed timer and ignores later requests. */
  stop(): void {
    this.#stopped = true
    if (this.#timer) clearTimeout(this.#timer)
    this.#timer = null
  }
}
