/**
 * Client comparison: Cohort's client, kafkajs 2.2.4 and @platformatic/kafka 1.x
 * against the same Cohort broker in one run. Produce and consume throughput
 * (messages/s, MB/s) for 100-byte and 1 KB messages with acks=1 and acks=all,
 * and end-to-end latency percentiles at a fixed, moderate send rate.
 *
 * Run:  node --import tsx bench/clients.ts [--quick] [--messages N] [--messages-1kb N] [--json FILE]
 *       --quick            a short form (20,000 / 5,000 messages, 1 round, 2 s of latency, each client in one process)
 *       --messages N       messages per 100-byte scenario (default 1,000,000)
 *       --messages-1kb N   messages per 1 KB scenario (default messages / 4)
 *       --rounds R         repeat every scenario R times, client order rotated, medians reported (default 3, quick 1)
 *       --clients LIST     cohort,kafkajs,platformatic (default all three)
 *       --sizes LIST       value sizes in bytes (default 100,1024)
 *       --acks LIST        1,all (default both)
 *       --only LIST        throughput,latency (default both)
 *       --partitions P     partitions per topic (default 8)
 *       --window W         messages in flight per producer: each window is awaited before the next (default 5,000)
 *       --batch B          messages per send() call for kafkajs and @platformatic/kafka (default 1,000)
 *       --batch-size B     Cohort producer batchSize, bytes (default 131072; Kafka's default is 16384)
 *       --linger-ms L      Cohort producer lingerMs for throughput (default 0: like the other two clients, send a window
 *                          as soon as it is handed over; Kafka's default 5 holds each window's last batch back 5 ms)
 *       --latency-rate R   messages/s in the latency test (default 1000)
 *       --latency-seconds S  (default 10, quick 2)
 *       --latency-acks LIST  (default 1,all)
 *       --flush-mode M     the broker's log.flush.mode: fsync (its default: acks=all waits for fdatasync) or os
 *       --share-process    run all of a client's jobs in one process (default only with --quick)
 *       --profile          write a V8 CPU profile of each Cohort client process and print its top functions
 *       --client-flags=F   extra node flags for the client processes (e.g. --client-flags=--trace-gc), for experiments
 *       --broker-flags=F   extra node flags for the broker process, for experiments
 *       --quiet-wait S     before each process, wait up to S s for other work on the machine to stop (default 5, quick 0)
 *       --attempts N       run a client's scenario up to N times while other work contends with it, keep the least
 *                          contended run (default 2, quick 1)
 *       --budget S         no more quiet-waits and re-runs after S s of the run (default 1200)
 *       --job-timeout S    give up on a job after S s (default 300, quick 60)
 *
 * Method (details in docs/benchmarks/clients.md): one broker in a child process
 * (bench/lib/broker-child.ts); each client in a child process of its own
 * (bench/lib/clients/runner.ts), one after the other, never two at once. Each
 * client writes to a fresh topic; its consumer (a fresh group) then reads that
 * topic back from the beginning. Produce time runs from the first send to the
 * last acknowledgement; consume time from the first message to the last (the
 * group join before it is reported separately). MB = 10^6 bytes of message values.
 */
import { type ChildProcess, fork } from 'node:child_process'
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { createTopic, deleteTopic, endOffsets } from './lib/admin.ts'
import { type BrokerProcess, startBroker } from './lib/broker-proc.ts'
import type {
  ChildMessage,
  ClientName,
  ClientTuning,
  ConsumeResult,
  Job,
  JobResult,
  LatencyResult,
  ProduceResult,
  RunnerConfig,
} from './lib/clients/common.ts'
import { formatSummary, summarise } from './lib/cpuprofile.ts'
import { machineInfo } from './lib/machine.ts'
import { otherProcessTicks, waitQuiet } from './lib/sampler.ts'

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    messages: { type: 'string' },
    'messages-1kb': { type: 'string' },
    rounds: { type: 'string' },
    clients: { type: 'string', default: 'cohort,kafkajs,platformatic' },
    sizes: { type: 'string', default: '100,1024' },
    acks: { type: 'string', default: '1,all' },
    only: { type: 'string', default: 'throughput,latency' },
    partitions: { type: 'string', default: '8' },
    window: { type: 'string', default: '5000' },
    batch: { type: 'string', default: '1000' },
    'batch-size': { type: 'string', default: '131072' },
    'linger-ms': { type: 'string', default: '0' },
    'latency-rate': { type: 'string', default: '1000' },
    'latency-seconds': { type: 'string' },
    'latency-acks': { type: 'string', default: '1,all' },
    'flush-mode': { type: 'string', default: 'fsync' },
    'share-process': { type: 'boolean' },
    profile: { type: 'boolean', default: false },
    'profile-dir': { type: 'string', default: '.tmp/bench-profiles' },
    'quiet-wait': { type: 'string' },
    attempts: { type: 'string' },
    budget: { type: 'string' },
    'client-flags': { type: 'string' },
    'broker-flags': { type: 'string' },
    'job-timeout': { type: 'string' },
    json: { type: 'string' },
    'data-dir': { type: 'string' },
  },
})

const QUICK = args.quick === true
const ROOT = fileURLToPath(new URL('..', import.meta.url))
const RUNNER = fileURLToPath(new URL('./lib/clients/runner.ts', import.meta.url))
const MESSAGES = Number(args.messages ?? (QUICK ? 20_000 : 1_000_000))
const MESSAGES_1KB = Number(args['messages-1kb'] ?? Math.max(1, Math.round(MESSAGES / 4)))
const ROUNDS = Number(args.rounds ?? (QUICK ? 1 : 3))
const CLIENT_LIST = (args.clients as string).split(',').map((s) => s.trim()) as ClientName[]
const SIZES = (args.sizes as string).split(',').map(Number)
const parseAcks = (s: string) => s.split(',').map((a) => (a.trim() === 'all' || a.trim() === '-1' ? -1 : 1)) as (-1 | 1)[]
const ACKS = parseAcks(args.acks as string)
const ONLY = new Set((args.only as string).split(',').map((s) => s.trim()))
const PARTITIONS = Number(args.partitions)
const WINDOW = Number(args.window)
const BATCH = Number(args.batch)
const LATENCY_RATE = Number(args['latency-rate'])
const LATENCY_MS = 1000 * Number(args['latency-seconds'] ?? (QUICK ? 2 : 10))
const LATENCY_ACKS = parseAcks(args['latency-acks'] as string)
const FLUSH_MODE = args['flush-mode'] === 'os' ? 'os' : 'fsync'
const SHARE = args['share-process'] ?? QUICK
const QUIET_WAIT_MS = 1000 * Number(args['quiet-wait'] ?? (QUICK ? 0 : 5))
const ATTEMPTS = Number(args.attempts ?? (QUICK ? 1 : 2))
const DEADLINE = performance.now() + 1000 * Number(args.budget ?? 1200)
const JOB_TIMEOUT_MS = 1000 * Number(args['job-timeout'] ?? (QUICK ? 60 : 300))
const PROFILE_DIR = path.resolve(ROOT, args['profile-dir'] as string)
const TUNING: ClientTuning = {
  cohort: { batchSize: Number(args['batch-size']), lingerMs: Number(args['linger-ms']) },
}
/** Cores of other work above which a window counts as contended. */
const CONTENDED = 0.25

for (const c of CLIENT_LIST) if (!['cohort', 'kafkajs', 'platformatic'].includes(c)) throw new Error(`unknown client ${c}`)

const log = (s: string) => process.stderr.write(`${s}\n`)
const fmtInt = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '–')
const fmt1 = (n: number) => (Number.isFinite(n) ? n.toFixed(1) : '–')
const fmt2 = (n: number | null | undefined) => (n === null || n === undefined || !Number.isFinite(n) ? '–' : n.toFixed(2))
const acksName = (a: -1 | 1) => (a === -1 ? 'all' : '1')
const sizeName = (s: number) => (s >= 1000 ? `${s / 1024 === Math.round(s / 1024) ? `${s / 1024} KiB` : `${s} B`}` : `${s} B`)

// ---- plan ------------------------------------------------------------------------------------------

interface Planned {
  client: ClientName
  round: number
  job: Job
  /** For throughput jobs: the scenario. */
  size: number
  acks: -1 | 1
  /** How the row is named in reports (default: the client's name). */
  label?: string
}

interface Row extends Planned {
  result: JobResult | null
  error: string | null
  /** Broker cores over the job's window. */
  brokerCores: number | null
  /** Cores used by other processes on the machine over the window. */
  otherCores: number | null
  /** Offsets the broker holds for the topic after a produce job. */
  stored: number | null
  profile: string | null
}

let topicSeq = 0
/**
 * The processes to run, grouped in units: a unit is re-run as a whole (on fresh topics) when
 * other work on the machine contended with it.
 */
function plan(): Planned[][][] {
  const runs: Planned[][][] = []
  const perClient = new Map<ClientName, Planned[]>()
  const add = (jobs: Planned[]) => {
    if (!SHARE) {
      // One process per job: fresh heap and event loop for each.
      runs.push(jobs.map((j) => [j]))
    } else {
      const list = perClient.get(jobs[0]?.client as ClientName) ?? []
      list.push(...jobs)
      perClient.set(jobs[0]?.client as ClientName, list)
    }
  }
  if (ONLY.has('throughput')) {
    let turn = 0
    for (let round = 0; round < ROUNDS; round++) {
      for (const size of SIZES) {
        for (const acks of ACKS) {
          const count = size >= 1000 ? MESSAGES_1KB : MESSAGES
          // Rotate the order of the clients from scenario to scenario, so none is always first (or last) after a busy spell.
          const order = CLIENT_LIST.map((_, i) => CLIENT_LIST[(i + turn) % CLIENT_LIST.length] as ClientName)
          turn++
          for (const client of order) {
            const topic = `bench-${client}-${size}-${acksName(acks)}-${round}-${++topicSeq}`
            add([
              {
                client,
                round,
                size,
                acks,
                job: { kind: 'produce', topic, partitions: PARTITIONS, count, size, acks, window: WINDOW, batch: BATCH },
              },
              {
                client,
                round,
                size,
                acks,
                job: { kind: 'consume', topic, partitions: PARTITIONS, count, size, groupId: `${topic}-group` },
              },
            ])
          }
        }
      }
    }
  }
  if (ONLY.has('latency')) {
    for (const acks of LATENCY_ACKS) {
      // Cohort twice: lingerMs 0 (sends at once, as the other two clients do) and its default 5 ms.
      const variants = CLIENT_LIST.flatMap((client): { client: ClientName; lingerMs: number; label: string }[] =>
        client === 'cohort'
          ? [
              { client, lingerMs: 0, label: 'cohort (lingerMs 0)' },
              { client, lingerMs: 5, label: 'cohort (lingerMs 5, default)' },
            ]
          : [{ client, lingerMs: 0, label: client }],
      )
      for (const { client, lingerMs, label } of variants) {
        const topic = `latency-${client}-${lingerMs}-${acksName(acks)}-${++topicSeq}`
        add([
          {
            client,
            label,
            round: 0,
            size: 100,
            acks,
            job: {
              kind: 'latency',
              topic,
              partitions: PARTITIONS,
              groupId: `${topic}-group`,
              acks,
              rate: LATENCY_RATE,
              durationMs: LATENCY_MS,
              size: 100,
              lingerMs,
            },
          },
        ])
      }
    }
  }
  for (const list of perClient.values()) runs.push([list])
  return runs
}

/** The same unit on fresh topics and groups, for another attempt. */
function retopic(unit: Planned[][], attempt: number): Planned[][] {
  return unit.map((run) =>
    run.map((p) => {
      const job = { ...p.job, topic: `${p.job.topic}-a${attempt}` }
      if (job.kind !== 'produce') job.groupId = `${job.topic}-group`
      return { ...p, job }
    }),
  )
}

/** Runs a unit, again while other work contended with it (up to ATTEMPTS), and keeps the least contended attempt. */
async function runUnit(b: BrokerProcess, bootstrap: string, unit: Planned[][]): Promise<Row[]> {
  let best: Row[] = []
  let bestOthers = Number.POSITIVE_INFINITY
  for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
    const rows: Row[] = []
    for (const run of attempt === 1 ? unit : retopic(unit, attempt)) rows.push(...(await runChild(b, bootstrap, run)))
    const others = Math.max(0, ...rows.map((r) => r.otherCores ?? 0))
    if (others < bestOthers) {
      best = rows
      bestOthers = others
    }
    if (others <= CONTENDED || performance.now() > DEADLINE) break
    if (attempt < ATTEMPTS) {
      retried++
      log(`  (contended: ${others.toFixed(2)} cores of other work; again on fresh topics)`)
    }
  }
  return best
}
let retried = 0

// ---- running -----------------------------------------------------------------------------------------

async function runChild(b: BrokerProcess, bootstrap: string, planned: Planned[]): Promise<Row[]> {
  const client = planned[0]?.client as ClientName
  const rows: Row[] = planned.map((p) => ({
    ...p,
    result: null,
    error: null,
    brokerCores: null,
    otherCores: null,
    stored: null,
    profile: null,
  }))
  for (const p of planned) if (p.job.kind !== 'consume') await createTopic(b.host, b.port, p.job.topic, p.job.partitions)
  if (QUIET_WAIT_MS > 0 && performance.now() < DEADLINE) {
    const busy = await waitQuiet(QUIET_WAIT_MS)
    if (busy > 0.15) log(`  (machine still ${(100 * busy).toFixed(0)} % busy with other work: measuring anyway)`)
  }
  const config: RunnerConfig = { client, bootstrap, jobs: planned.map((p) => p.job), tuning: TUNING, jobTimeoutMs: JOB_TIMEOUT_MS }
  // One directory per process: tsx's loader hooks run in a thread of their own, which writes a profile too.
  const profDir = path.join(PROFILE_DIR, `client-${client}-${process.pid}-${++profSeq}`)
  const execArgv = [...(args['client-flags']?.split(' ').filter((f) => f !== '') ?? []), '--import', 'tsx']
  const profiling = args.profile === true && client === 'cohort'
  if (profiling) {
    mkdirSync(profDir, { recursive: true })
    execArgv.unshift('--cpu-prof', `--cpu-prof-dir=${profDir}`)
  }
  const child: ChildProcess = fork(RUNNER, [JSON.stringify(config)], { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  const exclude = () => new Set([process.pid, b.pid, child.pid as number])
  type Mark = { broker: Promise<{ micros: number; wall: number }>; others: number | null; wall: number; hr: number }
  const marks = new Map<number, { start?: Mark; end?: Mark }>()
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  child.on('message', (m: ChildMessage) => {
    if (m.type === 'mark') {
      const mk: Mark = { broker: b.cpu(), others: otherProcessTicks(exclude()), wall: performance.now(), hr: m.hr }
      const e = marks.get(m.job) ?? {}
      e[m.at] = mk
      marks.set(m.job, e)
    } else if (m.type === 'result') {
      ;(rows[m.job] as Row).result = m.result
    } else if (m.type === 'error') {
      ;(rows[m.job] as Row).error = m.message
    }
  })
  const code = await exited
  if (code !== 0) for (const r of rows) if (!r.result && !r.error) r.error = `client process exited with ${code}`
  for (const [i, e] of marks) {
    const row = rows[i] as Row
    if (!e.start || !e.end) continue
    const [b0, b1] = await Promise.all([e.start.broker, e.end.broker])
    row.brokerCores = b1.wall > b0.wall ? (b1.micros - b0.micros) / (b1.wall - b0.wall) : null
    const secs = (e.end.wall - e.start.wall) / 1000
    row.otherCores = e.start.others !== null && e.end.others !== null && secs > 0 ? (e.end.others - e.start.others) / 100 / secs : null
    if (profiling) {
      try {
        row.profile = formatSummary(summarise(mainThreadProfile(profDir), [e.start.hr, e.end.hr]), 25)
      } catch (err) {
        row.profile = `(profile not readable: ${(err as Error).message})`
      }
    }
  }
  for (const r of rows) {
    if (r.job.kind === 'produce') {
      const ends = await endOffsets(b.host, b.port, r.job.topic, r.job.partitions)
      r.stored = ends.reduce((a, c) => a + c, 0)
    } else {
      // The topic has been read back (or the latency run is over): drop it, so dirty pages do not pile up.
      await deleteTopic(b.host, b.port, r.job.topic).catch(() => {})
    }
    log(`  ${describe(r)}`)
  }
  return rows
}
let profSeq = 0

/** The main thread's profile among a process's profiles: the largest one. */
function mainThreadProfile(dir: string): string {
  const files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'))
  files.sort((a, b) => statSync(path.join(dir, b)).size - statSync(path.join(dir, a)).size)
  if (!files[0]) throw new Error(`no profile in ${dir}`)
  return path.join(dir, files[0])
}

function describe(r: Row): string {
  const head = `${(r.label ?? r.client).padEnd(12)} ${r.job.kind.padEnd(7)} ${sizeName(r.size).padStart(6)} acks=${acksName(r.acks).padEnd(3)}`
  const cpu = ` broker ${fmt2(r.brokerCores)} cores, others ${fmt2(r.otherCores)}${(r.otherCores ?? 0) > CONTENDED ? ' ⚠' : ''}`
  if (r.error) return `${head} ERROR ${r.error.split('\n')[0]}`
  const res = r.result
  if (!res) return `${head} no result`
  if (res.kind === 'produce') {
    const n = res.acked
    return `${head} ${fmtInt(n / res.seconds)} msgs/s ${fmt1((n * r.size) / res.seconds / 1e6)} MB/s in ${res.seconds.toFixed(2)} s (acked ${n}, failed ${res.failed}, stored ${r.stored}), client ${fmt2(res.cpuMicros / 1e6 / res.seconds)} cores (sys ${fmt2(res.sysMicros / res.cpuMicros)}),${cpu}${res.firstError ? ` first error: ${res.firstError}` : ''}`
  }
  if (res.kind === 'consume') {
    const d = res.delivery
    return `${head} ${fmtInt(d.received / res.seconds)} msgs/s ${fmt1((d.received * r.size) / res.seconds / 1e6)} MB/s in ${res.seconds.toFixed(2)} s after ${res.startSeconds.toFixed(2)} s to the first (received ${d.received}, dup ${d.duplicates}, gaps ${d.gaps}, bad ${d.badSize}${res.timedOut ? ', TIMED OUT' : ''}), client ${fmt2(res.cpuMicros / 1e6 / res.seconds)} cores (sys ${fmt2(res.sysMicros / res.cpuMicros)}),${cpu}`
  }
  return `${head} sent ${res.sent} received ${res.received} at ${fmtInt(res.rate)}/s: p50 ${fmt2(res.p50)} p99 ${fmt2(res.p99)} p99.9 ${fmt2(res.p999)} max ${fmt2(res.max)} ms`
}

/** Whether a row delivered what it had to: every message acknowledged and stored, or every message received once. */
function rowOk(r: Row): boolean {
  if (r.error || !r.result) return false
  const res = r.result
  if (res.kind === 'produce') return res.failed === 0 && res.acked === (r.job as { count: number }).count && r.stored === res.acked
  if (res.kind === 'consume') {
    const d = res.delivery
    return !res.timedOut && d.received === (r.job as { count: number }).count && d.duplicates === 0 && d.gaps === 0 && d.badSize === 0
  }
  return res.sent > 0 && res.received === res.sent
}

// ---- report ------------------------------------------------------------------------------------------

function median(xs: number[]): number {
  const s = xs.filter(Number.isFinite).sort((a, b) => a - b)
  if (s.length === 0) return Number.NaN
  const m = Math.floor(s.length / 2)
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2
}

interface Cell {
  rate: number
  mbps: number
  cpuPerMsg: number
  clientCores: number
  brokerCores: number
  contended: boolean
  startSeconds: number
  runs: number
  ok: boolean
}

function cell(rows: Row[], size: number): Cell {
  const rates: number[] = []
  const cpu: number[] = []
  const cores: number[] = []
  const broker: number[] = []
  const start: number[] = []
  let contended = false
  for (const r of rows) {
    const res = r.result as ProduceResult | ConsumeResult | null
    if (!res || res.seconds <= 0) continue
    const n = res.kind === 'produce' ? res.acked : res.delivery.received
    rates.push(n / res.seconds)
    cpu.push(res.cpuMicros / n)
    cores.push(res.cpuMicros / 1e6 / res.seconds)
    if (r.brokerCores !== null) broker.push(r.brokerCores)
    if (res.kind === 'consume') start.push(res.startSeconds)
    if ((r.otherCores ?? 0) > CONTENDED) contended = true
  }
  const rate = median(rates)
  return {
    rate,
    mbps: (rate * size) / 1e6,
    cpuPerMsg: median(cpu),
    clientCores: median(cores),
    brokerCores: median(broker),
    contended,
    startSeconds: median(start),
    runs: rates.length,
    ok: rows.length > 0 && rows.every(rowOk),
  }
}

function ratio(a: number, b: number, target: number): string {
  if (!Number.isFinite(a) || !Number.isFinite(b) || b === 0) return '–'
  const r = a / b
  return `${r.toFixed(2)}× (${r >= target ? 'met' : '**missed**'}, target ≥ ${target}×)`
}

function report(rows: Row[]): { text: string; summary: unknown } {
  const out: string[] = []
  const summary: Record<string, unknown> = {}
  for (const size of SIZES) {
    for (const acks of ACKS) {
      const key = `${size}/${acksName(acks)}`
      const of = (client: ClientName, kind: 'produce' | 'consume') =>
        cell(
          rows.filter((r) => r.client === client && r.size === size && r.acks === acks && r.job.kind === kind),
          size,
        )
      const cells = new Map(CLIENT_LIST.map((c) => [c, { produce: of(c, 'produce'), consume: of(c, 'consume') }]))
      if ([...cells.values()].every((c) => c.produce.runs === 0 && c.consume.runs === 0)) continue
      summary[key] = Object.fromEntries(cells)
      const count = size >= 1000 ? MESSAGES_1KB : MESSAGES
      out.push(`\n### ${sizeName(size)} values, acks=${acksName(acks)} (${fmtInt(count)} messages, ${PARTITIONS} partitions)\n`)
      out.push(
        '| client | produce msgs/s | produce MB/s | consume msgs/s | consume MB/s | client CPU µs/msg produce / consume | client cores produce / consume | broker cores produce / consume | consumer start s | all delivered |',
      )
      out.push('|---|---|---|---|---|---|---|---|---|---|')
      for (const [c, { produce: p, consume: q }] of cells) {
        const warn = (x: Cell) => (x.contended ? ' ⚠' : '')
        out.push(
          `| ${c} | ${fmtInt(p.rate)}${warn(p)} | ${fmt1(p.mbps)} | ${fmtInt(q.rate)}${warn(q)} | ${fmt1(q.mbps)} | ${fmt2(p.cpuPerMsg)} / ${fmt2(q.cpuPerMsg)} | ${fmt2(p.clientCores)} / ${fmt2(q.clientCores)} | ${fmt2(p.brokerCores)} / ${fmt2(q.brokerCores)} | ${fmt2(q.startSeconds)} | ${p.ok && q.ok ? 'yes' : '**NO**'} |`,
        )
      }
      const co = cells.get('cohort')
      for (const [other, target] of [
        ['platformatic', 1.5],
        ['kafkajs', 3],
      ] as const) {
        const o = cells.get(other)
        if (!co || !o) continue
        out.push(
          `| **cohort ÷ ${other}** | ${ratio(co.produce.rate, o.produce.rate, target)} | | ${ratio(co.consume.rate, o.consume.rate, target)} | | | | | | |`,
        )
      }
    }
  }
  const lat = rows.filter((r) => r.job.kind === 'latency')
  if (lat.length > 0) {
    out.push(
      `\n### End-to-end latency (100-byte values, ${fmtInt(LATENCY_RATE)} msgs/s for ${LATENCY_MS / 1000} s, ${PARTITIONS} partitions)\n`,
    )
    out.push('| client | acks | sent | received | send rate msgs/s | p50 ms | p90 ms | p99 ms | p99.9 ms | max ms |')
    out.push('|---|---|---|---|---|---|---|---|---|---|')
    for (const r of lat) {
      const res = r.result as LatencyResult | null
      if (!res) {
        out.push(`| ${r.label ?? r.client} | ${acksName(r.acks)} | error: ${(r.error ?? '?').split('\n')[0]} |||||||| `)
        continue
      }
      const warn = (r.otherCores ?? 0) > CONTENDED ? ' ⚠' : ''
      out.push(
        `| ${r.label ?? r.client} | ${acksName(r.acks)} | ${res.sent} | ${res.received} | ${fmtInt(res.rate)} | ${fmt2(res.p50)}${warn} | ${fmt2(res.p90)} | ${fmt2(res.p99)} | ${fmt2(res.p999)} | ${fmt2(res.max)} |`,
      )
    }
    summary.latency = lat.map((r) => ({ client: r.label ?? r.client, acks: r.acks, ...(r.result ?? { error: r.error }) }))
  }
  return { text: out.join('\n'), summary }
}

// ---- main --------------------------------------------------------------------------------------------

async function main(): Promise<number> {
  const dataRoot = args['data-dir'] ? path.resolve(args['data-dir']) : mkdtempSync(path.join(os.tmpdir(), 'cohort-clients-bench-'))
  mkdirSync(dataRoot, { recursive: true })
  const machine = machineInfo(dataRoot)
  const started = performance.now()
  const b = await startBroker({
    dataDir: path.join(dataRoot, 'broker'),
    flushMode: FLUSH_MODE,
    nodeFlags: args['broker-flags']?.split(' ').filter((f) => f !== ''),
    config: { 'group.initial.rebalance.delay.ms': 0 },
  })
  const bootstrap = `${b.host}:${b.port}`
  log(
    `broker ${bootstrap} (log.flush.mode ${FLUSH_MODE}); ${CLIENT_LIST.join(', ')}; ${fmtInt(MESSAGES)} × 100 B / ${fmtInt(MESSAGES_1KB)} × 1 KiB messages, ${ROUNDS} round(s)`,
  )
  const rows: Row[] = []
  try {
    for (const unit of plan()) rows.push(...(await runUnit(b, bootstrap, unit)))
  } finally {
    await b.stop()
    if (!args['data-dir']) rmSync(dataRoot, { recursive: true, force: true })
  }
  const { text, summary } = report(rows)
  const failed = rows.filter((r) => !rowOk(r))
  const lines = [
    `# Client comparison (${machine.date})`,
    '',
    `Machine: ${machine.cpuModel}, ${machine.nproc} CPUs, ${machine.memory}, ${machine.kernel}, Node ${machine.node}; broker log.flush.mode ${FLUSH_MODE}.`,
    `Cohort producer batchSize ${TUNING.cohort.batchSize}, lingerMs ${TUNING.cohort.lingerMs}; kafkajs and @platformatic/kafka ${BATCH} messages per send(); ${fmtInt(WINDOW)} messages in flight per producer window.`,
    `Medians of ${ROUNDS} round(s). ⚠ = other processes used more than ${CONTENDED} cores during the window (${retried} re-run(s) for contention, up to ${ATTEMPTS} attempts, least contended kept).`,
    text,
    '',
    failed.length === 0 ? 'Every client delivered every message.' : `**${failed.length} job(s) did not deliver every message:**`,
    ...failed.map((r) => `- ${describe(r)}`),
    `\nTotal bench time ${((performance.now() - started) / 1000).toFixed(0)} s.`,
  ]
  for (const r of rows)
    if (r.profile) lines.push(`\nProfile of ${r.client} ${r.job.kind} ${sizeName(r.size)} acks=${acksName(r.acks)}:\n${r.profile}`)
  console.log(lines.join('\n'))
  if (args.json) {
    writeFileSync(
      args.json,
      JSON.stringify(
        {
          machine,
          settings: { MESSAGES, MESSAGES_1KB, ROUNDS, PARTITIONS, WINDOW, BATCH, TUNING, FLUSH_MODE, LATENCY_RATE, LATENCY_MS, SHARE },
          summary,
          rows: rows.map((r) => ({ ...r, profile: undefined, ok: rowOk(r) })),
          ok: failed.length === 0,
        },
        (_, v) => (typeof v === 'bigint' ? String(v) : v),
        2,
      ),
    )
  }
  return failed.length === 0 ? 0 : 1
}

process.exitCode = await main()
