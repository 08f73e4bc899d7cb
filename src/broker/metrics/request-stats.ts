/**
 * Per-API request counters, kept as plain numbers and typed arrays so that counting a request allocates
 * nothing: one Map lookup, a few additions and a bucket scan. The Prometheus metrics read them at scrape
 * time (broker-metrics.ts).
 */
import type { RequestObserver } from '../router.ts'

/** Upper bounds (seconds) of the request-duration histogram buckets. Long polls and parked JoinGroups reach the top ones. */
export const DURATION_BUCKETS_SECONDS: readonly number[] = [
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
]
const BOUNDS_MICROS = Float64Array.from(DURATION_BUCKETS_SECONDS, (s) => s * 1e6)

export class ApiStats {
  /** Requests per bucket (not cumulative): bucket i counts durations ≤ DURATION_BUCKETS_SECONDS[i] and above the previous bound. */
  readonly buckets = new Float64Array(BOUNDS_MICROS.length)
  count = 0
  sumMicros = 0
  bytesIn = 0
  bytesOut = 0
  /** Requests answered without error. */
  ok = 0
  /** error code → requests whose response carried it (see response-errors.ts). */
  readonly errors = new Map<number, number>()

  constructor(
    readonly key: number,
    readonly name: string,
  ) {}
}

export class RequestStats implements RequestObserver {
  readonly #byKey = new Map<number, ApiStats>()

  constructor(apis: readonly { key: number; name: string }[]) {
    for (const a of [...apis].sort((x, y) => x.key - y.key)) this.#byKey.set(a.key, new ApiStats(a.key, a.name))
  }

  /** Every API, in key order. */
  apis(): IterableIterator<ApiStats> {
    return this.#byKey.values()
  }

  api(key: number): ApiStats | undefined {
    return this.#byKey.get(key)
  }

  onRequest(apiKey: number, _version: number, micros: number, bytesIn: number, bytesOut: number, errorCode: number): void {
    const s = this.#byKey.get(apiKey)
    if (s === undefined) return
    s.count++
    s.sumMicros += micros
    s.bytesIn += bytesIn
    s.bytesOut += bytesOut
    if (errorCode === 0) s.ok++
    else s.errors.set(errorCode, (s.errors.get(errorCode) ?? 0) + 1)
    const n = BOUNDS_MICROS.length
    let i = 0
    while (i < n && micros > (BOUNDS_MICROS[i] as number)) i++
    if (i < n) s.buckets[i] = (s.buckets[i] as number) + 1
  }
}
