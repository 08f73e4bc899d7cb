/**
 * Keyed timers whose callbacks return coordinator results (Kafka's `CoordinatorTimer`): an expiring
 * session writes records exactly as a request does. Scheduling an existing key replaces its timer.
 *
 * Keys used by the coordinator: `heartbeat-<group>-<member>`, `join-<group>`, `sync-<group>`.
 */
import type { ManualClock } from '../../util/clock.ts'
import type { CoordinatorRecord } from './records.ts'
import type { CoordinatorResult } from './result.ts'

export type TimerTask = () => CoordinatorResult<void>

export interface Timer {
  schedule(key: string, delayMs: number, fire: TimerTask): void
  cancel(key: string): void
}

interface Entry {
  deadline: number
  seq: number
  fire: TimerTask
}

/**
 * A timer for tests and benchmarks, driven by a ManualClock. `advance(ms)` fires due timers in deadline
 * order (ties in scheduling order), moving the clock to each deadline before firing so the callback
 * sees the time it was due at; timers scheduled by a callback fire in the same advance if due.
 */
export class ManualTimer implements Timer {
  readonly clock: ManualClock
  readonly #entries = new Map<string, Entry>()
  #seq = 0

  constructor(clock: ManualClock) {
    this.clock = clock
  }

  schedule(key: string, delayMs: number, fire: TimerTask): void {
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

  /**
   * Moves time forward by `ms`, firing every timer that falls due. `onFired` sees each fired timer's
   * records right away (a test context replays them before the next timer fires). Returns all records.
   */
  advance(ms: number, onFired?: (records: CoordinatorRecord[]) => void): CoordinatorRecord[] {
    const target = this.clock.now() + ms
    const all: CoordinatorRecord[] = []
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
      const r = next.fire()
      if (r.records.length > 0) {
        onFired?.(r.records)
        all.push(...r.records)
      }
    }
    if (target > this.clock.now()) this.clock.set(target)
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
        if (r.records.length > 0) this.#sink(r.records)
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
