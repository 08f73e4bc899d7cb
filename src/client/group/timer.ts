/**
 * Keyed timers for the group member (heartbeats, session check, poll watchdog, auto-commit, backoff).
 * Scheduling an existing key replaces its timer, so "the next heartbeat" is always one entry.
 * The member never calls setTimeout itself: tests drive a `ManualTimer` on a `ManualClock` and
 * never sleep.
 */
import { ManualScheduler } from '../../util/manual-timer.ts'

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

/** Timers driven by a ManualClock, for tests (see ManualScheduler for the firing order). */
export class ManualTimer extends ManualScheduler<void> implements Timer {
  advance(ms: number): void {
    this.fireDue(ms)
  }
}
