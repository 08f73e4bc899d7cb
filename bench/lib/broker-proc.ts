/**
 * Starts the broker under test in a child process (see broker-child.ts) and
 * gives the parent its address, its CPU time, and a way to stop it.
 */
import { type ChildProcess, fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'

export interface CpuSample {
  /** Microseconds of CPU (user + system, all threads) since the process started. */
  micros: number
  /** The broker's own monotonic clock at the sample, in microseconds (the IPC reply may be late under load). */
  wall: number
  rss: number
}

export interface BrokerProcess {
  host: string
  port: number
  pid: number
  cpu(): Promise<CpuSample>
  stop(): Promise<void>
}

export interface BrokerProcessOptions {
  dataDir: string
  flushMode: 'os' | 'fsync'
  /** Write a V8 CPU profile of the broker into this directory (node --cpu-prof). */
  cpuProfDir?: string
  cpuProfName?: string
  /** Extra node flags for the broker process (e.g. --perf-basic-prof for `perf` symbol names). */
  nodeFlags?: string[]
  /** Extra environment for the broker process (e.g. GLIBC_TUNABLES). */
  env?: Record<string, string>
  /** Extra broker settings (Kafka names), e.g. `group.initial.rebalance.delay.ms`. */
  config?: Record<string, string | number | boolean>
}

const CHILD = fileURLToPath(new URL('./broker-child.ts', import.meta.url))

export async function startBroker(opts: BrokerProcessOptions): Promise<BrokerProcess> {
  const execArgv = [...(opts.nodeFlags ?? []), '--import', 'tsx']
  if (opts.cpuProfDir) {
    execArgv.unshift('--cpu-prof', `--cpu-prof-dir=${opts.cpuProfDir}`)
    if (opts.cpuProfName) execArgv.unshift(`--cpu-prof-name=${opts.cpuProfName}`)
  }
  const config = { 'log.dirs': opts.dataDir, 'log.flush.mode': opts.flushMode, 'auto.create.topics.enable': false, ...opts.config }
  const child: ChildProcess = fork(CHILD, [JSON.stringify(config)], {
    execArgv,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    // As bin/cohort.js does: enough libuv threads for one fdatasync per dirty partition in a group-commit round.
    env: { ...process.env, UV_THREADPOOL_SIZE: process.env.UV_THREADPOOL_SIZE ?? '16', ...opts.env },
  })
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  const bootstrap = await new Promise<string>((resolve, reject) => {
    const onMsg = (m: { type: string; bootstrap?: string }) => {
      if (m.type === 'ready') {
        child.off('message', onMsg)
        resolve(m.bootstrap as string)
      }
    }
    child.on('message', onMsg)
    void exited.then((code) => reject(new Error(`broker process exited with ${code} before it was ready`)))
  })
  const [host, port] = bootstrap.split(':') as [string, string]
  let nextId = 1
  const waiting = new Map<number, (s: CpuSample) => void>()
  child.on('message', (m: { type: string; id: number; user: number; system: number; wall: number; rss: number }) => {
    if (m.type !== 'cpu') return
    waiting.get(m.id)?.({ micros: m.user + m.system, wall: m.wall, rss: m.rss })
    waiting.delete(m.id)
  })
  return {
    host,
    port: Number(port),
    pid: child.pid as number,
    cpu() {
      const id = nextId++
      return new Promise((resolve) => {
        waiting.set(id, resolve)
        child.send({ type: 'cpu', id })
      })
    },
    async stop() {
      child.send({ type: 'stop' })
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000)
      await exited
      clearTimeout(timer)
    },
  }
}
