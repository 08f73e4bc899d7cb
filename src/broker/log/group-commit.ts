/**
 * Durability with group commit, shared by every partition of a data dir.
 *
 * Appends only reach the page cache; `flush` makes them durable. While one
 * sync round (fdatasync of every dirty segment fd, in parallel on the libuv
 * threadpool) is in flight, new callers queue; when it ends, ONE new round
 * covers all of them and every partition that became dirty meanwhile. A round
 * starts on `setImmediate`, so every flush issued in the same event-loop turn
 * (all partitions of a Produce request, all requests read in one poll) shares it.
 *
 * Modes (broker config `log.flush.mode`): 'fsync' (default) — `flush()` resolves
 * after fdatasync, and a round covers every dirty partition; 'os' — `flush()`
 * resolves at once and the kernel writes back when it likes. `sync()` syncs in
 * both modes (segment roll, close, flush.ms); in 'os' mode a round then covers
 * only the partitions asked for.
 *
 * After an fdatasync error the scheduler fails every later call: a failed
 * fsync may have dropped dirty pages (fsyncgate), so retrying cannot prove
 * anything was written. The broker should stop taking writes for this dir.
 */
import fs from 'node:fs'

export type FlushMode = 'fsync' | 'os'
export type FsyncFn = (fd: number) => Promise<void>

/** What one round does for one target: fdatasync `fds`, then report. */
export interface SyncJob {
  readonly fds: readonly number[]
  done(ok: boolean): void
}

/** Something with dirty files (a partition log). */
export interface FlushTarget {
  /** Called when a round starts: snapshot what the round will cover and pin its fds. */
  beginSync(): SyncJob
}

export interface FlushSchedulerOptions {
  mode?: FlushMode
  /** Injectable for tests and benchmarks; defaults to fs.fdatasync. */
  fsync?: FsyncFn
  log?: (msg: string) => void
}

export const fdatasync: FsyncFn = (fd) =>
  new Promise((resolve, reject) => {
    fs.fdatasync(fd, (err) => (err ? reject(err) : resolve()))
  })

interface Round {
  promise: Promise<void>
  resolve: () => void
  reject: (err: Error) => void
  targets: Set<FlushTarget> | null
}

function newRound(): Round {
  let resolve!: () => void
  let reject!: (err: Error) => void
  const promise = new Promise<void>((res, rej) => {
    resolve = res
    reject = rej
  })
  // Fire-and-forget callers (roll, background syncs) must not crash the process with an unhandled rejection.
  promise.catch(() => {})
  return { promise, resolve, reject, targets: null }
}

const RESOLVED = Promise.resolve()

export class FlushScheduler {
  readonly mode: FlushMode
  #fsync: FsyncFn
  #log: (msg: string) => void
  #dirty = new Set<FlushTarget>()
  /** Targets someone waits for in the next round ('os' mode syncs only these; 'fsync' mode every dirty one). */
  #requested = new Set<FlushTarget>()
  #requestAll = false
  #running: Round | null = null
  #next: Round | null = null
  #scheduled = false
  #failure: Error | null = null
  #rounds = 0
  #fsyncs = 0

  constructor(opts: FlushSchedulerOptions = {}) {
    this.mode = opts.mode ?? 'fsync'
    this.#fsync = opts.fsync ?? fdatasync
    this.#log = opts.log ?? ((m) => console.warn(m))
  }

  /** Rounds run and fdatasync calls made, for tests and metrics. */
  get stats(): { rounds: number; fsyncs: number } {
    return { rounds: this.#rounds, fsyncs: this.#fsyncs }
  }

  /** The fdatasync error that failed this scheduler, if any. */
  get failure(): Error | null {
    return this.#failure
  }

  get idle(): boolean {
    return this.#running === null && this.#next === null
  }

  /** Called on every append: cheap (a Set add). */
  markDirty(t: FlushTarget): void {
    this.#dirty.add(t)
  }

  isDirty(t: FlushTarget): boolean {
    return this.#dirty.has(t)
  }

  /** A target going away (deleted partition): never sync it again. */
  forget(t: FlushTarget): void {
    this.#dirty.delete(t)
    this.#requested.delete(t)
  }

  /** fdatasyncs `fds` outside any round, with the same (injectable) function; for index files at checkpoints. */
  async fsyncFds(fds: readonly number[]): Promise<void> {
    if (this.#failure) throw this.#failure
    await Promise.all(fds.map((fd) => this.#fsync(fd)))
  }

  /** Durability for acks=all: waits for fdatasync in 'fsync' mode, resolves at once in 'os' mode. */
  flush(t: FlushTarget): Promise<void> {
    if (this.mode === 'os') return this.#failure ? Promise.reject(this.#failure) : RESOLVED
    return this.sync(t)
  }

  /**
   * Resolves once everything `t` (or, without `t`, every target) had appended
   * before the call is on disk, whatever the mode.
   */
  sync(t?: FlushTarget): Promise<void> {
    if (this.#failure) return Promise.reject(this.#failure)
    const dirty = t === undefined ? this.#dirty.size > 0 : this.#dirty.has(t)
    if (dirty) {
      if (t === undefined) this.#requestAll = true
      else this.#requested.add(t)
      return this.#enqueue()
    }
    const r = this.#running
    if (r !== null && (t === undefined || r.targets?.has(t))) return r.promise
    return RESOLVED
  }

  #enqueue(): Promise<void> {
    if (this.#next === null) this.#next = newRound()
    const p = this.#next.promise
    if (this.#running === null) this.#schedule()
    return p
  }

  #schedule(): void {
    if (this.#scheduled) return
    this.#scheduled = true
    setImmediate(() => {
      this.#scheduled = false
      this.#start()
    })
  }

  #start(): void {
    const round = this.#next
    if (round === null || this.#running !== null) return
    this.#next = null
    if (this.#failure) {
      round.reject(this.#failure)
      return
    }
    let targets: FlushTarget[]
    if (this.mode === 'fsync' || this.#requestAll) {
      targets = [...this.#dirty]
      this.#dirty.clear()
    } else {
      targets = [...this.#requested].filter((t) => this.#dirty.delete(t))
    }
    this.#requested.clear()
    this.#requestAll = false
    round.targets = new Set(targets)
    this.#running = round
    const jobs: SyncJob[] = []
    const syncs: Promise<void>[] = []
    try {
      for (const t of targets) {
        const job = t.beginSync()
        jobs.push(job)
        for (const fd of job.fds) syncs.push(this.#fsync(fd))
      }
    } catch (err) {
      syncs.push(Promise.reject(err))
    }
    this.#rounds++
    this.#fsyncs += syncs.length
    Promise.all(syncs).then(
      () => {
        for (const j of jobs) j.done(true)
        this.#finish(round, null)
      },
      (err: unknown) => {
        const e = err instanceof Error ? err : new Error(String(err))
        this.#failure = e
        this.#log(`log flush failed, refusing further flushes: ${e.message}`)
        for (const j of jobs) j.done(false)
        this.#finish(round, e)
      },
    )
  }

  #finish(round: Round, err: Error | null): void {
    this.#running = null
    if (err) round.reject(err)
    else round.resolve()
    if (this.#next !== null) this.#schedule()
  }
}
