/**
 * What the client benchmark's parent (bench/clients.ts) and its per-client child
 * processes (runner.ts) share: the jobs, their results, the IPC messages, and the
 * helpers every client adapter uses the same way (timing marks, delivery checks,
 * latency payloads and percentiles), so that only the client calls differ.
 */

export type ClientName = 'cohort' | 'kafkajs' | 'platformatic'
export const CLIENTS: readonly ClientName[] = ['cohort', 'kafkajs', 'platformatic']

export interface ProduceJob {
  kind: 'produce'
  topic: string
  partitions: number
  count: number
  /** Bytes of each message value (no key, no headers). */
  size: number
  acks: -1 | 1
  /** Messages in flight at most: the loop awaits each window of this many before starting the next. */
  window: number
  /** Messages per send() call, for the clients whose API takes a list (kafkajs, @platformatic/kafka). */
  batch: number
}

export interface ConsumeJob {
  kind: 'consume'
  topic: string
  partitions: number
  /** Messages in the topic: the consumer stops once it has every one of them. */
  count: number
  size: number
  groupId: string
}

export interface LatencyJob {
  kind: 'latency'
  topic: string
  partitions: number
  groupId: string
  acks: -1 | 1
  /** Messages per second sent, evenly paced. */
  rate: number
  durationMs: number
  size: number
  /** Cohort's producer lingerMs for this run (the other clients send at once). */
  lingerMs: number
}

export type Job = ProduceJob | ConsumeJob | LatencyJob

/** Client settings that are not the client's defaults, per client; recorded with the results. */
export interface ClientTuning {
  cohort: { batchSize: number; lingerMs: number }
}

export interface RunnerConfig {
  client: ClientName
  bootstrap: string
  jobs: Job[]
  tuning: ClientTuning
  /** Per-job limit; a job that does not finish in time reports what it got. */
  jobTimeoutMs: number
}

export interface ProduceResult {
  kind: 'produce'
  acked: number
  failed: number
  firstError: string | null
  seconds: number
  /** CPU of the client process over the window, µs (user + system, all threads). */
  cpuMicros: number
  /** The system (kernel) part of it. */
  sysMicros: number
}

export interface Delivery {
  /** Distinct messages received in offset order per partition. */
  received: number
  duplicates: number
  /** Offsets skipped (a message lost, or delivered out of order). */
  gaps: number
  /** Messages whose value did not have the produced size. */
  badSize: number
}

export interface ConsumeResult {
  kind: 'consume'
  delivery: Delivery
  /** From the consumer's construction to its first message (group join, offset lookup, first fetch). */
  startSeconds: number
  /** From the first message to the last. */
  seconds: number
  cpuMicros: number
  sysMicros: number
  timedOut: boolean
}

export interface LatencyResult {
  kind: 'latency'
  sent: number
  received: number
  /** End-to-end latencies in ms, sorted. Summarised by the parent. */
  p50: number
  p90: number
  p99: number
  p999: number
  max: number
  /** Achieved send rate, messages/s. */
  rate: number
  seconds: number
}

export type JobResult = ProduceResult | ConsumeResult | LatencyResult

/** Child → parent. `mark` asks the parent to sample the broker's CPU now (start and end of a timed window). */
export type ChildMessage =
  | {
      type: 'mark'
      job: number
      at: 'start' | 'end' /** The child's monotonic clock, µs (cuts a CPU profile to the window). */
      hr: number
    }
  | { type: 'result'; job: number; result: JobResult }
  | { type: 'error'; job: number; message: string }
  | { type: 'done' }

const hrMicros = () => Number(process.hrtime.bigint() / 1000n)

/** Calls the parent's CPU marks and the client process's own CPU clock around a timed window. */
export class Window {
  #cpu0 = 0
  #sys0 = 0
  #t0 = 0
  #t1 = 0
  #cpu1 = 0
  #sys1 = 0
  readonly #job: number

  constructor(job: number) {
    this.#job = job
  }

  start(): void {
    if (this.#t0 !== 0) return
    process.send?.({ type: 'mark', job: this.#job, at: 'start', hr: hrMicros() } satisfies ChildMessage)
    const u = process.cpuUsage()
    this.#cpu0 = u.user + u.system
    this.#sys0 = u.system
    this.#t0 = performance.now()
  }

  end(): void {
    if (this.#t0 === 0 || this.#t1 !== 0) return
    this.#t1 = performance.now()
    const u = process.cpuUsage()
    this.#cpu1 = u.user + u.system
    this.#sys1 = u.system
    process.send?.({ type: 'mark', job: this.#job, at: 'end', hr: hrMicros() } satisfies ChildMessage)
  }

  get started(): boolean {
    return this.#t0 !== 0
  }

  get seconds(): number {
    return this.#t0 === 0 ? 0 : ((this.#t1 || performance.now()) - this.#t0) / 1000
  }

  /** The kernel's share of `cpuMicros` (system time: syscalls, page faults). */
  get sysMicros(): number {
    if (this.#t0 === 0) return 0
    return (this.#t1 !== 0 ? this.#sys1 : process.cpuUsage().system) - this.#sys0
  }

  get cpuMicros(): number {
    if (this.#t0 === 0) return 0
    if (this.#t1 !== 0) return this.#cpu1 - this.#cpu0
    const u = process.cpuUsage()
    return u.user + u.system - this.#cpu0
  }
}

/**
 * Checks what a consumer delivers: per partition, offsets must come in order from 0
 * without gaps; a repeated offset counts as a duplicate. Done once `count` distinct
 * messages arrived.
 */
export class DeliveryCheck {
  readonly #next: number[]
  readonly #count: number
  readonly #size: number
  received = 0
  duplicates = 0
  gaps = 0
  badSize = 0

  constructor(partitions: number, count: number, size: number) {
    this.#next = new Array<number>(partitions).fill(0)
    this.#count = count
    this.#size = size
  }

  /** Records one message; true once every message has arrived. */
  add(partition: number, offset: number, valueLength: number): boolean {
    const expected = this.#next[partition] ?? 0
    if (offset < expected) {
      this.duplicates++
      return false
    }
    if (offset > expected) this.gaps += offset - expected
    this.#next[partition] = offset + 1
    if (valueLength !== this.#size) this.badSize++
    this.received++
    return this.received >= this.#count
  }

  get done(): boolean {
    return this.received >= this.#count
  }

  result(): Delivery {
    return { received: this.received, duplicates: this.duplicates, gaps: this.gaps, badSize: this.badSize }
  }
}

/** The one value every throughput message carries (the clients copy it into their batches). */
export function payload(size: number): Buffer {
  const b = Buffer.allocUnsafe(size)
  for (let i = 0; i < size; i++) b[i] = 32 + (i % 95)
  return b
}

// ---- latency payloads: [kind u8][sent at, performance.now() float64][padding] ----

export const PING = 0
export const TIMED = 1

export function latencyValue(size: number, kind: number): Buffer {
  const b = payload(Math.max(9, size))
  b[0] = kind
  b.writeDoubleBE(performance.now(), 1)
  return b
}

export function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)] as number
}

/**
 * The generic end-to-end latency loop, with the client reduced to three calls:
 * a consumer that hands every value to `onValue`, a fire-and-forget `send`, and
 * `stop`. Pings go out every 50 ms until the consumer sees one (it has joined and
 * is positioned), then `rate` timed messages a second for `durationMs`, each
 * carrying its send time; latency = receive time − send time, one clock.
 */
export async function runLatency(
  job: LatencyJob,
  client: {
    startConsumer(onValue: (value: Buffer) => void): Promise<void>
    send(value: Buffer): void
    stop(): Promise<void>
  },
  timeoutMs: number,
): Promise<LatencyResult> {
  const lat: number[] = []
  let pinged = false
  let onPing: () => void = () => {}
  const pingSeen = new Promise<void>((r) => (onPing = r))
  let onAll: () => void = () => {}
  const allSeen = new Promise<void>((r) => (onAll = r))
  let sent = 0
  let sending = true
  await client.startConsumer((v) => {
    const now = performance.now()
    if (v[0] === PING) {
      if (!pinged) {
        pinged = true
        onPing()
      }
      return
    }
    lat.push(now - v.readDoubleBE(1))
    if (!sending && lat.length >= sent) onAll()
  })
  const pinger = setInterval(() => client.send(latencyValue(job.size, PING)), 50)
  client.send(latencyValue(job.size, PING))
  const ready = await Promise.race([pingSeen.then(() => true), sleep(timeoutMs).then(() => false)])
  clearInterval(pinger)
  if (!ready) throw new Error('the consumer saw no ping within the job timeout')
  await sleep(200)
  const t0 = performance.now()
  await new Promise<void>((resolve) => {
    const tick = setInterval(() => {
      const elapsed = performance.now() - t0
      const due = Math.min(Math.floor((elapsed * job.rate) / 1000), Math.floor((job.durationMs * job.rate) / 1000))
      while (sent < due) {
        client.send(latencyValue(job.size, TIMED))
        sent++
      }
      if (elapsed >= job.durationMs) {
        clearInterval(tick)
        resolve()
      }
    }, 1)
  })
  const seconds = (performance.now() - t0) / 1000
  sending = false
  if (lat.length < sent) await Promise.race([allSeen, sleep(10_000)])
  await client.stop()
  const s = Float64Array.from(lat).sort()
  return {
    kind: 'latency',
    sent,
    received: lat.length,
    p50: percentile(s, 0.5),
    p90: percentile(s, 0.9),
    p99: percentile(s, 0.99),
    p999: percentile(s, 0.999),
    max: s.length > 0 ? (s[s.length - 1] as number) : Number.NaN,
    rate: sent / seconds,
    seconds,
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms))
}

/** Resolves with `p`, or with `fallback()` once `ms` have passed. */
export async function within<T>(p: Promise<T>, ms: number, fallback: () => T): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  try {
    return await Promise.race([p, new Promise<T>((r) => (timer = setTimeout(() => r(fallback()), ms)))])
  } finally {
    clearTimeout(timer)
  }
}

/**
 * The produce loop of the clients that send lists of messages (kafkajs, @platformatic/kafka):
 * `job.count` messages in windows of `job.window`, each window split into sends of `job.batch`
 * messages awaited together. `send(k)` sends k messages. Measured over the loop alone, so the
 * caller closes its producer afterwards.
 */
export async function produceInBatches(
  job: ProduceJob,
  index: number,
  timeoutMs: number,
  send: (k: number) => Promise<unknown>,
): Promise<ProduceResult> {
  const w = new Window(index)
  let acked = 0
  let failed = 0
  let firstError: string | null = null
  const loop = async (): Promise<void> => {
    w.start()
    for (let sent = 0; sent < job.count; ) {
      const n = Math.min(job.window, job.count - sent)
      const sends: Promise<void>[] = []
      for (let i = 0; i < n; i += job.batch) {
        const k = Math.min(job.batch, n - i)
        sends.push(
          send(k).then(
            () => {
              acked += k
            },
            (err: Error) => {
              failed += k
              firstError ??= err.message
            },
          ),
        )
      }
      sent += n
      await Promise.all(sends)
    }
    w.end()
  }
  await within(loop(), timeoutMs, () => undefined)
  return { kind: 'produce', acked, failed, firstError, seconds: w.seconds, cpuMicros: w.cpuMicros, sysMicros: w.sysMicros }
}
