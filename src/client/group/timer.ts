/**
 * Keyed timers for the group member (heartbeats, session check, poll watchdog, auto-commit, backoff).
 * Scheduling an existing key replaces its timer, so "the next heartbeat" is always one entry.
 * The member never calls setTimeout itself: tests drive a `ManualTimer` on a `ManualClock` and
 * never sleep.
 */
import type { ManualClock } from '../../util/clock.ts'

export interface Timer {
  schedule(key: string, delayMs: number, fire: () => void): void
  cancel(key: string): void
}

/** setTimeout accepts at most 2^31−1 ms; longer delays are re-armed in steps. */
const MAX_TIMEOUT_MS = 2 ** 31 - 1

/**
 * Real timers. They are ref'd on purpose: a consumer that is still a group member must keep the
 * process alive even while every connection is down (a coordinator outage), or Node would exit
 * under an application that is awaiting the next message. `close()` cancels them all.
 */
export class SystemTimer implements Timer {
  readonly #handles = new Map<string, NodeJS.Timeout>()

  schedule(key: string, delayMs: number, fire: () => void): void {
    this.cancel(key)
    const arm = (left: number): void => {
      const step = Math.min(Math.max(0, left), MAX_TIMEOUT_MS)
      const h = setTimeout(() => {
        if (left > step) return arm(left - step)
        this.#handles.delete(key)
        fire()
      }, step)
      this.#handles.set(key, h)
    }
    arm(delayMs)
  }

  cancel(key: string): void {
    const h = this.#handles.get(key)
    if (h !== undefined) clearTimeout(h)
    this.#handles.delete(key)
  }

  /** Cancels every timer. */
  cancelAll(): void {
    for (const h of this.#handles.values()) clearTimeout(h)
    this.#handles.clear()
  }
}

interface Entry {
  deadline: number
  seq: number
  fire: () => void
}

/**
 * Timers driven by a ManualClock: `advance(ms)` fires due timers in deadline order (ties in
 * scheduling order), moving the clock to each deadline first so a callback sees the time it was
 * due at. Timers a callback schedules fire in the same advance when they fall due within it.
 */
export class ManualTimer implements Timer {
  readonly clock: ManualClock
  readonly #entries = new Map<string, Entry>()
  #seq = 0

  constructor(clock: ManualClock) {
    this.clock = clock
  }

  schedule(key: string, delayMs: number, fire: () => void): void {
    this.#entries.delete(key)
    this.#entries.set(key, { deadline: this.clock.now() + Math.max(0, delayMs), seq: ++this.#seq, fire })
  }

  cancel(key: string): void {
    this.#entries.delete(key)
  }

  isScheduled(key: string): boolean {
    return this.#entries.has(key)
  }

  /** Milliseconds until the key fires, or undefined. */
  remaining(key: string): number | undefined {
    const e = this.#entries.get(key)
    return e === undefined ? undefined : e.deadline - this.clock.now()
  }

  keys(): string[] {
    return [...this.#entries.keys()]
  }

  advance(ms: number): void {
    const target = this.clock.now() + ms
    for (;;) {
      let nextKey: string | undefined
      let next: Entry | undefined
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
      next.fire()
    }
    if (target > this.clock.now()) this.clock.set(target)
  }
}
