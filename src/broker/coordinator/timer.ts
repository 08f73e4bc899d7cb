/**
 * Keyed timers whose callbacks return coordinator results (Kafka's `CoordinatorTimer`): an expiring
 * session writes records exactly as a request does. Scheduling an existing key replaces its timer.
 *
 * Keys used by the coordinator: `heartbeat-<group>-<member>`, `join-<group>`, `sync-<group>`.
 */
import { ManualScheduler } from '../../util/manual-timer.ts'
import type { CoordinatorRecord } from './records.ts'
import type { CoordinatorResult } from './result.ts'

export type TimerTask = () => CoordinatorResult<void>

export interface Timer {
  schedule(key: string, delayMs: number, fire: TimerTask): void
  cancel(key: string): void
}

/**
 * A timer for tests and benchmarks, driven by a ManualClock (see ManualScheduler for the order in
 * which due timers fire).
 */
export class ManualTimer extends ManualScheduler<CoordinatorResult<void>> implements Timer {
  /**
   * Moves time forward by `ms`, firing every timer that falls due. `onFired` sees each fired timer's
   * records right away (a test context replays them before the next timer fires). Returns all records.
   */
  advance(ms: number, onFired?: (records: CoordinatorRecord[]) => void): CoordinatorRecord[] {
    const all: CoordinatorRecord[] = []
    this.fireDue(ms, (r) => {
      // Called without records too: what the timer changed besides them (the rebalance history) is drained there.
      onFired?.(r.records)
      all.push(...r.records)
    })
    return all
  }
}

/** setTimeout accepts at most 2^31−1 ms; longer delays are re-armed in steps. */
const MAX_TIMEOUT_MS = 2 ** 31 - 1

/**
 * Real timers for the broker. Fired results' records go to `sink`, which must append, await durability
 * and replay them, just as for a request. Timers are unref'd so they never keep the process alive.
 */
export class SystemTimer implements Timer {
  readonly #sink: (records: CoordinatorRecord[]) => void
  readonly #onError: (err: unknown, key: string) => void
  readonly #handles = new Map<string, NodeJS.Timeout>()
  readonly #now: () => number

  constructor(
    sink: (records: CoordinatorRecord[]) => void,
    opts: { onError?: (err: unknown, key: string) => void; now?: () => number } = {},
  ) {
    this.#sink = sink
    this.#onError = opts.onError ?? ((err, key) => console.error(`coordinator timer ${key} failed:`, err))
    this.#now = opts.now ?? Date.now
  }

  schedule(key: string, delayMs: number, fire: TimerTask): void {
    this.cancel(key)
    this.#arm(key, this.#now() + Math.max(0, delayMs), fire)
  }

  #arm(key: string, deadline: number, fire: TimerTask): void {
    const wait = Math.min(Math.max(0, deadline - this.#now()), MAX_TIMEOUT_MS)
    const handle = setTimeout(() => {
      if (this.#handles.get(key) !== handle) return
      if (this.#now() < deadline) {
        this.#arm(key, deadline, fire)
        return
      }
      this.#handles.delete(key)
      try {
        const r = fire()
        // Even without records: the sink also writes what the timer changed in the rebalance history.
        this.#sink(r.records)
      } catch (err) {
        this.#onError(err, key)
      }
    }, wait)
    handle.unref()
    this.#handles.set(key, handle)
  }

  cancel(key: string): void {
    const h = this.#handles.get(key)
    if (h !== undefined) {
      clearTimeout(h)
      this.#handles.delete(key)
    }
  }

  get size(): number {
    return this.#handles.size
  }

  /** Cancels every timer (broker shutdown). */
  close(): void {
    for (const h of this.#handles.values()) clearTimeout(h)
    this.#handles.clear()
  }
}
