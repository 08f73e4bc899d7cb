/**
 * What every coordinator operation returns: the records to append to `__consumer_offsets` and, for
 * requests, the response. The caller appends the records, waits until they are durable, replays them
 * (`GroupCoordinator.replay`) and only then sends the response (Kafka's `CoordinatorResult`).
 */
import type { CoordinatorRecord } from './records.ts'

export interface CoordinatorResult<R = void> {
  readonly records: CoordinatorRecord[]
  readonly response?: R
}

/** A handler's result: the response is always there (possibly a promise for a parked request). */
export interface HandlerResult<R> extends CoordinatorResult<R> {
  readonly response: R
}

export const EMPTY_RESULT: CoordinatorResult = Object.freeze({ records: [] as CoordinatorRecord[] }) as CoordinatorResult

export function result<R>(response: R, records: CoordinatorRecord[] = []): HandlerResult<R> {
  return { records, response }
}

/** A parked response: the coordinator resolves it later (join phase complete, leader's Sync, a timer). */
export class Deferred<T> {
  readonly promise: Promise<T>
  #resolve!: (v: T) => void
  #done = false

  constructor() {
    this.promise = new Promise<T>((resolve) => {
      this.#resolve = resolve
    })
  }

  get done(): boolean {
    return this.#done
  }

  /** Resolves once; later calls are ignored and return false. */
  resolve(value: T): boolean {
    if (this.#done) return false
    this.#done = true
    this.#resolve(value)
    return true
  }
}
