/**
 * Raw loopback TCP throughput between two Node processes on this machine: the
 * ceiling any broker on it can reach for bytes moved over one socket, and the
 * baseline the broker benchmark compares against.
 *
 * This process sends: it writes one `chunk`-byte buffer over and over (waiting
 * for 'drain' when the socket buffer is full) on `connections` sockets for
 * `durationMs`. A child process (this file with --receiver) reads and discards,
 * counting bytes from its first byte to the end of each stream.
 *
 * Run alone: node --import tsx bench/loopback-baseline.ts [--quick] [--json]
 * The broker benchmark (bench/broker-throughput.ts) imports measureLoopback.
 */
import { fork } from 'node:child_process'
import { connect, createServer, type Socket } from 'node:net'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { otherProcessTicks } from './lib/sampler.ts'

export interface LoopbackResult {
  chunk: number
  connections: number
  seconds: number
  bytes: number
  /** 10^6 bytes per second, as counted by the receiver. */
  mbps: number
  /** CPU of each side, in cores (1.0 = one core busy for the whole run). */
  senderCpu: number
  receiverCpu: number
  /** Cores used by other user processes during the run (other work on the machine). */
  others: number | null
}

interface ReceiverReport {
  type: 'done'
  bytes: number
  first: number
  last: number
  cpuMicros: number
}

const SELF = fileURLToPath(import.meta.url)

/** Child side: accept connections, discard what arrives, report each stream when it ends. */
function receiver(): void {
  // CPU is counted for the process from the first byte of a run (any stream) until its last stream ends.
  let open = 0
  let cpu0 = -1
  const cpuNow = () => {
    const u = process.cpuUsage()
    return u.user + u.system
  }
  const server = createServer((sock: Socket) => {
    let bytes = 0
    let first = 0
    open++
    sock.on('data', (chunk: Buffer) => {
      if (bytes === 0) {
        first = performance.now()
        if (cpu0 < 0) cpu0 = cpuNow()
      }
      bytes += chunk.length
    })
    sock.on('end', () => {
      const report: ReceiverReport = { type: 'done', bytes, first, last: performance.now(), cpuMicros: cpuNow() - cpu0 }
      if (--open === 0) cpu0 = -1
      process.send?.(report)
      sock.end()
    })
    sock.on('error', () => {})
  })
  server.listen(0, '127.0.0.1', () => {
    const a = server.address()
    process.send?.({ type: 'ready', port: typeof a === 'object' && a ? a.port : 0 })
  })
  process.on('disconnect', () => process.exit(0))
}

/** Measures one (chunk, connections) point against a fresh receiver process. */
export async function measureLoopback(chunk: number, connections: number, durationMs: number): Promise<LoopbackResult> {
  const child = fork(SELF, ['--receiver'], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  try {
    const reports: ReceiverReport[] = []
    let allDone: () => void = () => {}
    const done = new Promise<void>((r) => {
      allDone = r
    })
    const port = await new Promise<number>((resolve, reject) => {
      child.on('message', (m: { type: string; port?: number } | ReceiverReport) => {
        if (m.type === 'ready') resolve((m as { port: number }).port)
        else if (m.type === 'done') {
          reports.push(m as ReceiverReport)
          if (reports.length === connections) allDone()
        }
      })
      child.once('exit', (code) => reject(new Error(`loopback receiver exited with ${code}`)))
    })
    const buf = Buffer.alloc(chunk, 0x5a)
    const socks = await Promise.all(
      Array.from(
        { length: connections },
        () =>
          new Promise<Socket>((resolve, reject) => {
            const s = connect({ host: '127.0.0.1', port })
            s.once('connect', () => resolve(s))
            s.once('error', reject)
          }),
      ),
    )
    const exclude = new Set([process.pid, child.pid as number])
    const u0 = process.cpuUsage()
    const s0 = otherProcessTicks(exclude)
    const t0 = performance.now()
    let stop = false
    for (const s of socks) {
      s.setNoDelay(true)
      const pump = () => {
        while (!stop) if (!s.write(buf)) break
        if (stop) s.end()
        else s.once('drain', pump)
      }
      pump()
    }
    await new Promise((r) => setTimeout(r, durationMs))
    stop = true
    // A socket waiting for 'drain' ends there; one that is not (never, in practice) is ended now.
    for (const s of socks) if (s.writableNeedDrain === false) s.end()
    await done
    const u1 = process.cpuUsage(u0)
    const s1 = otherProcessTicks(exclude)
    const senderSeconds = (performance.now() - t0) / 1000
    for (const s of socks) s.destroy()
    const bytes = reports.reduce((n, r) => n + r.bytes, 0)
    const first = Math.min(...reports.map((r) => r.first))
    const last = Math.max(...reports.map((r) => r.last))
    const seconds = (last - first) / 1000
    const senderCpu = (u1.user + u1.system) / 1e6 / senderSeconds
    const receiverCpu = Math.max(...reports.map((r) => r.cpuMicros)) / 1e6 / seconds
    return {
      chunk,
      connections,
      seconds,
      bytes,
      mbps: bytes / seconds / 1e6,
      senderCpu,
      receiverCpu,
      others: s0 !== null && s1 !== null ? Math.max(0, s1 - s0) / 100 / senderSeconds : null,
    }
  } finally {
    child.disconnect()
  }
}

/** The points the broker benchmark measures; the baseline is the best of them. */
export function loopbackPoints(quick: boolean): { chunk: number; connections: number }[] {
  if (quick) return [{ chunk: 1 << 20, connections: 1 }]
  return [
    { chunk: 64 << 10, connections: 1 },
    { chunk: 256 << 10, connections: 1 },
    { chunk: 1 << 20, connections: 1 },
    { chunk: 1 << 20, connections: 4 },
  ]
}

async function main(): Promise<void> {
  const quick = process.argv.includes('--quick')
  const json = process.argv.includes('--json')
  const out: LoopbackResult[] = []
  for (const p of loopbackPoints(quick)) out.push(await measureLoopback(p.chunk, p.connections, quick ? 1000 : 2000))
  if (json) {
    console.log(JSON.stringify(out, null, 2))
    return
  }
  console.log('chunk      conns  MB/s     sender cpu  receiver cpu  other load')
  for (const r of out) {
    console.log(
      `${String(r.chunk / 1024).padStart(5)} KiB  ${String(r.connections).padStart(5)}  ${r.mbps.toFixed(0).padStart(7)}  ${r.senderCpu.toFixed(2).padStart(10)}  ${r.receiverCpu.toFixed(2).padStart(12)}  ${(r.others ?? Number.NaN).toFixed(2).padStart(10)}`,
    )
  }
}

if (process.argv.includes('--receiver')) receiver()
else if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main()
