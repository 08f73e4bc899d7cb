/**
 * CPU accounting for one measurement window: the broker process's CPU time
 * (over IPC), this process's (the load generator's), and the whole machine's
 * busy time from /proc/stat — on 2 cores, these show who the bottleneck is.
 */
import { readFileSync } from 'node:fs'
import os from 'node:os'
import type { BrokerProcess } from './broker-proc.ts'

export interface Sample {
  wallMs: number
  selfMicros: number
  broker: { micros: number; wall: number; rss: number } | null
  stat: { busy: number; total: number } | null
}

export interface CpuShare {
  /** Fractions of one core (1.0 = one core fully busy). */
  broker: number | null
  loadgen: number
  /** Fraction of all cores busy (1.0 = every core). */
  machine: number | null
  /** Cores busy with anything but the broker and this process (other work on the machine, unattributed kernel time). */
  others: number | null
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

export async function sample(broker: BrokerProcess | null): Promise<Sample> {
  const b = broker ? await broker.cpu() : null
  const u = process.cpuUsage()
  return { wallMs: performance.now(), selfMicros: u.user + u.system, broker: b, stat: procStat() }
}

export function share(a: Sample, b: Sample): CpuShare {
  const wallMicros = (b.wallMs - a.wallMs) * 1000
  const broker = a.broker && b.broker ? (b.broker.micros - a.broker.micros) / (b.broker.wall - a.broker.wall) : null
  const loadgen = (b.selfMicros - a.selfMicros) / wallMicros
  const machine = a.stat && b.stat ? (b.stat.busy - a.stat.busy) / (b.stat.total - a.stat.total) : null
  const others = machine === null ? null : Math.max(0, machine * CORES - loadgen - (broker ?? 0))
  return { broker, loadgen, machine, others, brokerRssMB: b.broker ? b.broker.rss / 1e6 : null }
}

/** Share of all cores busy over the next `ms`. */
export async function machineBusy(ms: number): Promise<number> {
  const a = procStat()
  await new Promise((r) => setTimeout(r, ms))
  const b = procStat()
  if (!a || !b || b.total === a.total) return 0
  return (b.busy - a.busy) / (b.total - a.total)
}

/**
 * Waits (up to `maxMs`) until the machine is quiet: under `threshold` of all
 * cores busy over 300 ms. Other work on a 2-core machine halves what the broker
 * gets. Returns the last busy share seen.
 */
export async function waitQuiet(maxMs: number, threshold = 0.15): Promise<number> {
  const until = performance.now() + maxMs
  let busy = await machineBusy(300)
  while (busy > threshold && performance.now() < until) busy = await machineBusy(300)
  return busy
}
