/**
 * `cohort lag`: a live view of consumer lag per group and partition, with
 * Burrow's status, kafka-lag-exporter's lag in seconds, KEDA's recommended
 * consumer count and the chapter's diagnoses; `--once` for scripts,
 * `--metrics-port` to serve the same numbers to Prometheus. The logic lives in
 * src/lag/; this file reads snapshots on a timer and prints them.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { type Command, Option } from 'commander'
import { Admin } from '../admin/index.ts'
import { LagMetrics } from '../lag/metrics.ts'
import { LagMonitor } from '../lag/monitor.ts'
import { renderText, toJson } from '../lag/render.ts'
import { readSnapshot } from '../lag/source.ts'
import { collect, parseIntOption, withBootstrap } from './common.ts'

interface LagFlags {
  bootstrapServer: string
  group: string[]
  allGroups?: boolean
  interval: string
  once?: boolean
  samples: string
  output: string
  metricsPort?: string
  metricsHost: string
  clusterName: string
  lagThreshold: string
  offsetResetPolicy: string
  quiet?: boolean
}

const CLEAR_SCREEN = '\x1b[H\x1b[2J'
const HIDE_CURSOR = '\x1b[?25l'
const SHOW_CURSOR = '\x1b[?25h'

async function writeOut(s: string): Promise<void> {
  if (!process.stdout.write(s)) await new Promise((res) => process.stdout.once('drain', res))
}

function parseInterval(value: string): number {
  const s = Number(value)
  if (!Number.isFinite(s) || s < 0.1) throw new Error(`--interval must be a number of seconds ≥ 0.1, got '${value}'`)
  return Math.round(s * 1000)
}

/** Serves the registry at /metrics; resolves with the bound address once listening. */
function serveMetrics(metrics: LagMetrics, host: string, port: number): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405).end()
      return
    }
    if (path === '/metrics') {
      metrics.metrics().then(
        (body) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(body),
        (err: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(String(err)),
      )
      return
    }
    if (path === '/' || path === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('cohort lag: metrics at /metrics\n')
      return
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n')
  })
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => {
      const a = server.address() as AddressInfo
      const shown = a.family === 'IPv6' ? `[${a.address}]` : a.address
      resolve({ server, url: `http://${shown}:${a.port}/metrics` })
    })
  })
}

export function registerLag(program: Command): void {
  withBootstrap(program.command('lag'))
    .description(
      "consumer lag per group and partition, refreshed live: offsets, lag in records and seconds, rates, owner, Burrow's status, KEDA's recommended consumer count, diagnoses",
    )
    .addOption(new Option('--group <group>', 'a group to watch, repeatable').argParser(collect).default([], 'every consumer group'))
    .option('--all-groups', 'watch every consumer group')
    .option('--interval <seconds>', 'seconds between refreshes', '5')
    .option('--once', 'print one snapshot and exit, for scripts')
    .option('--samples <n>', 'with --once: read N snapshots --interval apart and print the last (rates and lag in seconds need 2)', '1')
    .option('--output <format>', 'text or json (json: one document with --once, one line per refresh otherwise)', 'text')
    .option('--metrics-port <port>', 'also serve Prometheus metrics at http://HOST:PORT/metrics (0 picks a free port)')
    .option('--metrics-host <host>', 'address the metrics endpoint listens on', '127.0.0.1')
    .option('--cluster-name <name>', 'the cluster_name / cluster label of the metrics', 'default')
    .option('--lag-threshold <n>', "KEDA's lagThreshold: the lag one consumer is expected to keep up with", '10')
    .option('--offset-reset-policy <policy>', "KEDA's offsetResetPolicy, for partitions without a commit: latest or earliest", 'latest')
    .option('--quiet', 'with --metrics-port: serve metrics without printing the view (one stderr line gives the metrics URL)')
    .action(async (o: LagFlags) => {
      process.exitCode = await runLag(o)
    })
}

async function runLag(o: LagFlags): Promise<number> {
  if (o.allGroups && o.group.length > 0) throw new Error('--group and --all-groups do not go together')
  if (o.output !== 'text' && o.output !== 'json') throw new Error(`--output must be text or json, got '${o.output}'`)
  if (o.offsetResetPolicy !== 'latest' && o.offsetResetPolicy !== 'earliest')
    throw new Error(`--offset-reset-policy must be latest or earliest, got '${o.offsetResetPolicy}'`)
  const intervalMs = parseInterval(o.interval)
  const samples = parseIntOption('--samples', o.samples, 1) as number
  const lagThreshold = parseIntOption('--lag-threshold', o.lagThreshold, 1) as number
  const metricsPort = parseIntOption('--metrics-port', o.metricsPort, 0)
  if (metricsPort !== undefined && metricsPort > 65535) throw new Error(`--metrics-port must be a port number, got '${o.metricsPort}'`)
  if (o.once && metricsPort !== undefined) throw new Error('--metrics-port serves a live view: it does not go with --once')
  if (o.quiet && metricsPort === undefined) throw new Error('--quiet only goes with --metrics-port')

  const selection = o.group.length > 0 ? { groups: o.group } : 'all'
  const keda = { lagThreshold: BigInt(lagThreshold), offsetResetPolicy: o.offsetResetPolicy as 'latest' | 'earliest' }
  const monitor = new LagMonitor({ keda, rateWindowMs: Math.max(60_000, 3 * intervalMs) })
  const tty = process.stdout.isTTY === true
  const color = tty && o.output === 'text' && !process.env.NO_COLOR
  const admin = new Admin({
    bootstrapServers: o.bootstrapServer,
    clientId: 'cohort-lag',
    defaultApiTimeoutMs: Math.max(15_000, intervalMs),
  })

  let stopping = false
  let wake: (() => void) | null = null
  let onStop: () => void = () => {}
  const stopped = new Promise<null>((res) => {
    onStop = () => res(null)
  })
  const sleep = (ms: number) =>
    new Promise<void>((res) => {
      const timer = setTimeout(res, ms)
      wake = () => {
        clearTimeout(timer)
        res()
      }
    })
  const stop = () => {
    stopping = true
    wake?.()
    onStop()
  }
  /** A read that SIGINT abandons (closing the admin client then ends it). */
  const read = () => Promise.race([readSnapshot(admin, selection), stopped])
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)

  let served: { server: Server; url: string } | null = null
  const metrics = metricsPort !== undefined ? new LagMetrics(o.clusterName) : null
  const live = !o.once
  const redraw = live && tty && o.output === 'text' && !o.quiet
  try {
    if (metrics) {
      served = await serveMetrics(metrics, o.metricsHost, metricsPort as number)
      process.stderr.write(`cohort lag: serving metrics at ${served.url}\n`)
    }
    if (o.once) {
      let last: Awaited<ReturnType<typeof readSnapshot>> | null = null
      let report: ReturnType<LagMonitor['observe']> | null = null
      for (let i = 0; i < samples && !stopping; i++) {
        if (i > 0) await sleep(intervalMs)
        const got = await read()
        if (got === null) break
        last = got
        report = monitor.observe(last.snapshot)
      }
      if (!report || !last) return 130
      await writeOut(
        o.output === 'json'
          ? `${JSON.stringify(toJson(report, last.failures), null, 2)}\n`
          : renderText(report, { color, lagThreshold: BigInt(lagThreshold), failures: last.failures }),
      )
      return last.failures.length > 0 ? 1 : 0
    }
    if (redraw) await writeOut(HIDE_CURSOR)
    while (!stopping) {
      const started = Date.now()
      let frame: string
      try {
        const got = await read()
        if (got === null) break
        const report = monitor.observe(got.snapshot)
        metrics?.update(report, got.pollMs)
        frame =
          o.output === 'json'
            ? `${JSON.stringify(toJson(report, got.failures))}\n`
            : renderText(report, { color, lagThreshold: BigInt(lagThreshold), failures: got.failures })
      } catch (err) {
        frame = `could not read the groups: ${err instanceof Error ? err.message : String(err)}\n`
      }
      if (stopping) break
      if (!o.quiet) {
        if (redraw) {
          const head = `cohort lag  ${new Date().toISOString()}  every ${intervalMs / 1000} s  ${o.bootstrapServer}  (Ctrl-C to quit)\n\n`
          await writeOut(`${CLEAR_SCREEN}${head}${frame}`)
        } else if (o.output === 'json') await writeOut(frame)
        else await writeOut(`--- ${new Date().toISOString()}\n${frame}\n`)
      }
      await sleep(Math.max(0, intervalMs - (Date.now() - started)))
    }
    return 0
  } finally {
    process.off('SIGINT', stop)
    process.off('SIGTERM', stop)
    if (redraw) await writeOut(SHOW_CURSOR)
    if (served) {
      const { server } = served
      await new Promise<void>((res) => {
        server.close(() => res())
        server.closeAllConnections()
      })
    }
    await admin.close()
  }
}
