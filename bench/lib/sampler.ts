/**
 * CPU accounting for one measurement window: the broker process's CPU time
 * (over IPC), this process's (the load generator's), other user processes'
 * (from /proc/PID/stat: other people's work on the machine), and the whole
 * machine's busy time from /proc/stat. What is left is kernel threads and
 * interrupts (writeback, journal, block I/O, softirq) — partly the broker's own
 * I/O. On 2 cores, these show who the bottleneck is.
 */
import { readdirSync, readFileSync } from 'node:fs'
import os from 'node:os'
import type { BrokerProcess } from './broker-proc.ts'

export interface Sample {
  wallMs: number
  selfMicros: number
  broker: { micros: number; wall: number; rss: number } | null
  stat: { busy: number; total: number } | null
  /** Clock ticks used so far by user processes other than the broker and this one (children reaped included). */
  otherTicks: number | null
}

export interface CpuShare {
  /** Fractions of one core (1.0 = one core fully busy). */
  broker: number | null
  loadgen: number
  /** Fraction of all cores busy (1.0 = every core). */
  machine: number | null
  /** Cores used by other user processes (other work on the machine: it contends with the benchmark). */
  others: number | null
  /** Cores busy in kernel threads and interrupts (writeback, journal, block I/O, softirq), part of it for the broker's I/O. */
  kernel: number | null
  brokerRssMB: number | null
}

export const CORES = os.availableParallelism()

export function procStat(): { busy: number; total: number } | null {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] as string
    const f = line.trim().split(/\s+/).slice(1).map(Number)
    const total = f.slice(0, 8).reduce((a, b) => a + b, 0)
    const idle = (f[3] ?? 0) + (f[4] ?? 0)
    return { busy: total - idle, total }
  } catch {
    return null
  }
}

const TICKS_PER_SECOND = 100

/**
 * CPU ticks of every user process except `exclude` (and kernel threads, whose
 * parent is kthreadd, pid 2). cutime/cstime count children that were reaped, so
 * short-lived commands (a compiler, a test run) are seen when they end.
 */
export function otherProcessTicks(exclude: Set<number>): number | null {
  let total = 0
  let ok = false
  let pids: string[]
  try {
    pids = readdirSync('/proc').filter((d) => /^\d+$/.test(d))
  } catch {
    return null
  }
  for (const d of pids) {
    const pid = Number(d)
    if (exclude.has(pid) || pid === 2) continue
    let text: string
    try {
      text = readFileSync(`/proc/${d}/stat`, 'utf8')
    } catch {
      continue
    }
    // Fields after the parenthesised command name: state ppid ... utime(14) stime(15) cutime(16) cstime(17).
    const f = text.slice(text.lastIndexOf(')') + 2).split(' ')
    if (f[1] === '2') continue
    total += Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])
    ok = true
  }
  return ok ? total : null
}

export async function sample(broker: BrokerProcess | null): Promise<Sample> {
  const b = broker ? await broker.cpu() : null
  const u = process.cpuUsage()
  const exclude = new Set([process.pid, ...(broker ? [broker.pid] : [])])
  return { wallMs: performance.now(), selfMicros: u.user + u.system, broker: b, stat: procStat(), otherTicks: otherProcessTicks(exclude) }
}

export function share(a: Sample, b: Sample): CpuShare {
  const wallMicros = (b.wallMs - a.wallMs) * 1000
  const broker = a.broker && b.broker ? (b.broker.micros - a.broker.micros) / (b.broker.wall - a.broker.wall) : null
  const loadgen = (b.selfMicros - a.selfMicros) / wallMicros
  const machine = a.stat && b.stat ? (b.stat.busy - a.stat.busy) / (b.stat.total - a.stat.total) : null
  const others =
    a.otherTicks !== null && b.otherTicks !== null ? Math.max(0, b.otherTicks - a.otherTicks) / TICKS_PER_SECOND / (wallMicros / 1e6) : null
  const kernel = machine === null ? null : Math.max(0, machine * CORES - loadgen - (broker ?? 0) - (others ?? 0))
  return { broker, loadgen, machine, others, kernel, brokerRssMB: b.broker ? b.broker.rss / 1e6 : null }
}

/** Share of all cores used by user processes other than this one over the next `ms` (the idle broker counts, but is idle). */
export async function othersBusy(ms: number): Promise<number> {
  const exclude = new Set([process.pid])
  const a = otherProcessTicks(exclude)
  const t0 = performance.now()
  await new Promise((r) => setTimeout(r, ms))
  const b = otherProcessTicks(exclude)
  if (a === null || b === null) return 0
  return Math.max(0, b - a) / TICKS_PER_SECOND / ((performance.now() - t0) / 1000) / CORES
}

/**
 * Waits (up to `maxMs`) until the machine is quiet: other user processes under
 * `threshold` of all cores over 300 ms. Other work on a 2-core machine halves
 * what the broker gets. Returns the last busy share seen.
 */
export async function waitQuiet(maxMs: number, threshold = 0.15): Promise<number> {
  const until = performance.now() + maxMs
  let busy = await othersBusy(300)
  while (busy > threshold && performance.now() < until) busy = await othersBusy(300)
  return busy
}
