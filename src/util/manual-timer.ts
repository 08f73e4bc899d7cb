/**
 * Keyed timers driven by a ManualClock, shared by the coordinator's and the group member's tests
 * (and benchmarks): `advance(ms)` fires due timers in deadline order (ties in scheduling order),
 * moving the clock to each deadline first so a callback sees the time it was due at. Timers a
 * callback schedules fire in the same advance when they fall due within it. Scheduling an existing
 * key replaces its timer.
 */
import type { ManualClock } from './clock.ts'

interface Entry<R> {
  deadline: number
  seq: number
  fire: () => R
}

export class ManualScheduler<R> {
  readonly clock: ManualClock
  readonly #entries = new Map<string, Entry<R>>()
  #seq = 0

  constructor(clock: ManualClock) {
    this.clock = clock
  }

  schedule(key: string, delayMs: number, fire: () => R): void {
    this.#entries.delete(key)
    this.#entries.set(key, { deadline: this.clock.now() + Math.max(0, delayMs), seq: ++this.#seq, fire })
  }

  cancel(key: string): void {
    this.#entries.delete(key)
  }

  isScheduled(key: string): boolean {
    return this.#entries.has(key)
  }

  /** The absolute deadline of a key, or undefined. */
  deadline(key: string): number | undefined {
    return this.#entries.get(key)?.deadline
  }

  /** Milliseconds until the key fires, or undefined. */
  remaining(key: string): number | undefined {
    const e = this.#entries.get(key)
    return e === undefined ? undefined : e.deadline - this.clock.now()
  }

  get size(): number {
    return this.#entries.size
  }

  keys(): string[] {
    return [...this.#entries.keys()]
  }

  /** Moves time forward by `ms`, firing every timer that falls due; `onFired` sees each result as it comes. */
  fireDue(ms: number, onFired?: (result: R) => void): void {
    const target = this.clock.now() + ms
    for (;;) {
      let nextKey: string | undefined
      let next: Entry<R> | undefined
      for (const [key, e] of this.#entries) {
        if (e.deadline > target) continue
        if (next === undefined || e.deadline < next.deadline || (e.deadline === next.deadline && e.seq < next.seq)) {
          next = e
          nextKey = key
        }
      }
      if (next === undefined || nextKey === undefined) break
      this.#entries.delete(nextKey)
      if (next.deadline > this.clock.now()) this.clock.set(next.deadline)
      const r = next.fire()
      onFired?.(r)
    }
    if (target > this.clock.now()) this.clock.set(target)
  }
}
