/**
 * Broker throughput: produce and fetch against a Cohort broker running in its
 * own process, next to the machine's baselines measured in the same run (raw
 * loopback TCP between two Node processes, and the disk's write+fdatasync rate).
 *
 * Run:  node --import tsx bench/broker-throughput.ts [--quick] [--profile] [--kcat] [--json FILE]
 *       --quick         ~20 s instead of ~2.5 min (fewer points, 1 s windows)
 *       --profile       also profile the broker under produce and fetch loads, in separate runs: `node --cpu-prof`
 *                       (JS thread, wall clock, top functions) and `perf record` (on-CPU, kernel included)
 *                       (profiles kept in --profile-dir, default .tmp/bench-profiles)
 *       --only LIST     run only these sections, comma-separated: baselines, produce, fsync, fetch, kcat, profile, perf, malloc
 *       --quiet-wait S  before each point, wait up to S seconds for other work on the machine to stop (default 10, quick 2)
 *       --attempts N    run a point up to N times while other work contends with it, keep the least contended (default 3, quick 1)
 *       --budget S      stop waiting for quiet and re-running after S seconds of the run (default 170, quick 25)
 *       --kcat          also time kcat producing 1M 100-byte records (if kcat is installed)
 *       --data-dir DIR  where the broker's logs go (default: a temp dir under the OS temp dir, removed after)
 *
 * Method (details in docs/benchmarks/broker.md): the broker runs alone in a
 * child process (`node --import tsx bench/lib/broker-child.ts`); this process is
 * the load generator and speaks the wire protocol directly with the project's
 * codec. Record batches (uncompressed, `recordSize`-byte values, no keys) and
 * whole Produce requests are built once before timing; each send only writes a
 * fresh 12-byte head and the shared body. Every scenario has a warm-up, then a
 * timed window in which acknowledged (produce) or received (fetch) records and
 * batch bytes are counted; MB = 10^6 bytes. CPU columns are in cores (1.00 =
 * one core busy for the whole window): broker process, load generator (this
 * process), other user processes (other work on the machine), kernel threads
 * and interrupts (writeback, journal, block I/O — partly the broker's own I/O).
 */
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { createTopic, deleteTopic, endOffsets } from './lib/admin.ts'
import { type BuiltBatch, buildBatch } from './lib/batches.ts'
import { type BrokerProcess, startBroker } from './lib/broker-proc.ts'
import { formatSummary, summarise } from './lib/cpuprofile.ts'
import { type DiskResult, measureFdatasync } from './lib/disk.ts'
import { type FetchResult, runFetch } from './lib/fetch-load.ts'
import { machineInfo } from './lib/machine.ts'
import { formatPerf, perfAvailable, perfRecord, summarisePerf } from './lib/perf.ts'
import { type LoadResult, runProduce, sleep } from './lib/produce-load.ts'
import { type CpuShare, waitQuiet } from './lib/sampler.ts'
import { type LoopbackResult, loopbackPoints, measureLoopback } from './loopback-baseline.ts'

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    profile: { type: 'boolean', default: false },
    only: { type: 'string' },
    'quiet-wait': { type: 'string' },
    attempts: { type: 'string' },
    budget: { type: 'string' },
    'profile-dir': { type: 'string', default: '.tmp/bench-profiles' },
    kcat: { type: 'boolean', default: false },
    json: { type: 'string' },
    'data-dir': { type: 'string' },
  },
})

const QUICK = args.quick === true
const SECTIONS = new Set(
  args.only
    ? args.only.split(',').map((x) => x.trim())
    : ['baselines', 'produce', 'fsync', 'fetch', ...(args.kcat ? ['kcat'] : []), ...(args.profile ? ['profile', 'perf'] : [])],
)
const ROOT = fileURLToPath(new URL('..', import.meta.url))
const PARTITIONS = 8
const INFLIGHT = 5
const WARMUP_MS = QUICK ? 300 : 500
const WINDOW_MS = QUICK ? 1000 : 2500
const KiB = 1024
const MiB = 1024 * 1024
const FILL_BYTES = QUICK ? 64 * MiB : 384 * MiB

const dataRoot = args['data-dir'] ? path.resolve(args['data-dir']) : mkdtempSync(path.join(os.tmpdir(), 'cohort-bench-'))
mkdirSync(dataRoot, { recursive: true })
let brokerSeq = 0
let topicSeq = 0

const fmtInt = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '–')
const fmt0 = (n: number) => (Number.isFinite(n) ? n.toFixed(0) : '–')
const fmt2 = (n: number | null | undefined) => (n === null || n === undefined || Number.isNaN(n) ? '–' : n.toFixed(2))
const size = (b: number) => (b >= MiB ? `${b / MiB} MiB` : `${b / KiB} KiB`)
const log = (s: string) => process.stderr.write(`${s}\n`)
/** Past this point of the run, no more waiting for a quiet machine and no re-runs: the bench stays bounded. */
const DEADLINE = performance.now() + 1000 * Number(args.budget ?? (QUICK ? 25 : 170))
const QUIET_WAIT_MS = 1000 * Number(args['quiet-wait'] ?? (QUICK ? 2 : 10))
let noisy = 0

/** Before each timed point: wait for other work on the machine to stop, and say so when it does not. */
async function quiet(): Promise<void> {
  const left = DEADLINE - performance.now()
  const busy = await waitQuiet(Math.max(0, Math.min(QUIET_WAIT_MS, left)))
  if (busy > 0.15) {
    noisy++
    log(`  (machine still ${(100 * busy).toFixed(0)} % busy with other work after ${QUIET_WAIT_MS / 1000} s: measuring anyway)`)
  }
}

/** Cores of other work above which a window counts as contended. */
const CONTENDED = 0.25
const ATTEMPTS = Number(args.attempts ?? (QUICK ? 1 : 3))
/** Profiled runs are not repeated: the profiler itself shows up as other work. */
let retries = true
let retried = 0

/** Runs a point up to ATTEMPTS times while other work on the machine contends with it; keeps the least contended run. */
async function leastContended<T>(
  run: () => Promise<T>,
  othersOf: (r: T) => number | null = (r) => (r as LoadResult).cpu?.others ?? null,
): Promise<T> {
  let best: T | null = null
  const attempts = retries && performance.now() < DEADLINE ? ATTEMPTS : 1
  for (let i = 0; i < attempts; i++) {
    const r = await run()
    const others = othersOf(r) ?? 0
    if (best === null || others < (othersOf(best) ?? 0)) best = r
    if (others <= CONTENDED || performance.now() > DEADLINE) break
    if (i + 1 < attempts) {
      retried++
      log(`  (contended: ${others.toFixed(2)} cores of other work in the window; again)`)
    }
  }
  return best as T
}

const cpuCell = (c: CpuShare | null) =>
  c ? `${fmt2(c.broker)} / ${fmt2(c.loadgen)} / ${fmt2(c.others)}${(c.others ?? 0) > CONTENDED ? ' ⚠' : ''} / ${fmt2(c.kernel)}` : '–'
const perCore = (r: LoadResult) => (r.cpu?.broker ? fmtInt(r.records / r.seconds / r.cpu.broker) : '–')

interface ProduceRow {
  mode: 'os' | 'fsync'
  acks: number
  recordSize: number
  batchBytes: number
  recordsPerBatch: number
  connections: number
  inflight: number
  result: LoadResult
}

interface FetchRow {
  recordSize: number
  connections: number
  partitionMaxBytes: number
  topicBytes: number
  result: FetchResult
}

async function withBroker<T>(
  mode: 'os' | 'fsync',
  fn: (b: BrokerProcess) => Promise<T>,
  prof?: { dir?: string; name?: string; nodeFlags?: string[]; env?: Record<string, string> },
): Promise<T> {
  const dataDir = path.join(dataRoot, `broker-${++brokerSeq}-${mode}`)
  const b = await startBroker({
    dataDir,
    flushMode: mode,
    cpuProfDir: prof?.dir,
    cpuProfName: prof?.name,
    nodeFlags: prof?.nodeFlags,
    env: prof?.env,
  })
  try {
    return await fn(b)
  } finally {
    await b.stop()
    rmSync(dataDir, { recursive: true, force: true })
  }
}

const batches = new Map<string, BuiltBatch>()
function batchFor(recordSize: number, batchBytes: number): BuiltBatch {
  const k = `${recordSize}/${batchBytes}`
  let b = batches.get(k)
  if (!b) {
    b = buildBatch(recordSize, batchBytes)
    batches.set(k, b)
  }
  return b
}

async function produceScenario(
  b: BrokerProcess,
  mode: 'os' | 'fsync',
  acks: -1 | 1,
  recordSize: number,
  batchBytes: number,
  connections: number,
  durationMs = WINDOW_MS,
  onStart?: () => void,
): Promise<ProduceRow> {
  const batch = batchFor(recordSize, batchBytes)
  const result = await leastContended(async () => {
    const topic = `produce-${++topicSeq}`
    await createTopic(b.host, b.port, topic, PARTITIONS)
    await quiet()
    const r = await runProduce({
      host: b.host,
      port: b.port,
      topic,
      partitions: PARTITIONS,
      connections,
      inflight: INFLIGHT,
      batch,
      acks,
      warmupMs: WARMUP_MS,
      durationMs,
      broker: b,
      onStart,
    })
    await deleteTopic(b.host, b.port, topic)
    return r
  })
  const row = { mode, acks, recordSize, batchBytes, recordsPerBatch: batch.records, connections, inflight: INFLIGHT, result }
  log(
    `  produce ${mode} acks=${acks} ${recordSize} B × ${batch.records}/batch (${size(batchBytes)}) conns=${connections}: ` +
      `${fmtInt(result.records / result.seconds)} rec/s, ${fmt0(result.bytes / result.seconds / 1e6)} MB/s, cpu ${cpuCell(result.cpu)}`,
  )
  return row
}

/** Fills a topic with `bytes` of `recordSize` records in 256 KiB batches; returns its end offsets. */
async function fill(b: BrokerProcess, topic: string, recordSize: number, bytes: number): Promise<number[]> {
  await createTopic(b.host, b.port, topic, PARTITIONS)
  const t0 = performance.now()
  await runProduce({
    host: b.host,
    port: b.port,
    topic,
    partitions: PARTITIONS,
    connections: 4,
    inflight: INFLIGHT,
    batch: batchFor(recordSize, 256 * KiB),
    acks: 1,
    warmupMs: 0,
    durationMs: 0,
    stopAfterBytes: bytes,
  })
  const ends = await endOffsets(b.host, b.port, topic, PARTITIONS)
  log(
    `  filled ${topic}: ${fmtInt(ends.reduce((a, c) => a + c, 0))} records of ${recordSize} B in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  )
  return ends
}

async function fetchScenario(
  b: BrokerProcess,
  topic: string,
  ends: number[],
  recordSize: number,
  connections: number,
  partitionMaxBytes: number,
  durationMs = WINDOW_MS,
  onStart?: () => void,
): Promise<FetchRow> {
  const result = await leastContended(async () => {
    await quiet()
    return runFetch({
      host: b.host,
      port: b.port,
      topic,
      endOffsets: ends,
      connections,
      partitionMaxBytes,
      maxBytes: 64 * MiB,
      warmupMs: WARMUP_MS,
      durationMs,
      broker: b,
      onStart,
    })
  })
  log(
    `  fetch ${recordSize} B conns=${connections} partitionMaxBytes=${size(partitionMaxBytes)}: ` +
      `${fmtInt(result.records / result.seconds)} rec/s, ${fmt0(result.bytes / result.seconds / 1e6)} MB/s, cpu ${cpuCell(result.cpu)}`,
  )
  return { recordSize, connections, partitionMaxBytes, topicBytes: FILL_BYTES, result }
}

function dropCaches(): void {
  // Write back what earlier scenarios left dirty, so it does not land in a later window.
  spawnSync('sync')
}

// ---- profiles -------------------------------------------------------------------------------------

/**
 * Compiles src/ with tsc (no type check, source maps on) into a scratch directory, so the profiled
 * broker runs plain JS whose profile maps back to TypeScript lines. Falls back to tsx (function names only).
 */
function compileBroker(): string | null {
  const outDir = path.join(ROOT, '.tmp/bench-broker-dist')
  rmSync(outDir, { recursive: true, force: true })
  const tsc = path.join(ROOT, 'node_modules/typescript/bin/tsc')
  const r = spawnSync(
    process.execPath,
    [tsc, '-p', 'tsconfig.build.json', '--outDir', outDir, '--noCheck', '--declaration', 'false', '--sourceMap', 'true'],
    { encoding: 'utf8', cwd: ROOT },
  )
  const entry = path.join(outDir, 'broker', 'broker.js')
  if (r.status !== 0 || !existsSync(entry)) {
    log(`  (tsc build for profiling failed, profiling the tsx-loaded broker instead: ${(r.stdout + r.stderr).slice(0, 300)})`)
    return null
  }
  return entry
}

/**
 * The same produce and fetch points with glibc's malloc told to keep freed memory
 * (no munmap/brk trimming): a fresh multi-MiB Buffer then reuses pages instead of
 * faulting in new ones. An experiment for a suggested broker change (buffer reuse).
 */
const MALLOC_TUNABLES = 'glibc.malloc.mmap_threshold=268435456:glibc.malloc.trim_threshold=4294967296:glibc.malloc.top_pad=268435456'

async function mallocExperiment(): Promise<string> {
  const rows: string[] = [
    '| glibc malloc | load | MB/s | records/s | CPU broker / loadgen / other / kernel | MB/s per broker core |',
    '|---|---|---|---|---|---|',
  ]
  for (const tuned of QUICK ? [false, true] : [false, true, false, true]) {
    const env = tuned ? { GLIBC_TUNABLES: MALLOC_TUNABLES } : undefined
    await withBroker(
      'os',
      async (b) => {
        const p = (await produceScenario(b, 'os', 1, 1024, 256 * KiB, 4)).result
        const ends = await fill(b, 'malloc-fetch', 1024, FILL_BYTES)
        const f = (await fetchScenario(b, 'malloc-fetch', ends, 1024, 4, 4 * MiB)).result
        for (const [label, r] of [
          ['produce 1 KB, 256 KiB batches, 4 conns', p],
          ['fetch 1 KB, 4 conns, 4 MiB/partition', f],
        ] as const) {
          const mbps = r.bytes / r.seconds / 1e6
          rows.push(
            `| ${tuned ? 'keep freed memory' : 'default'} | ${label} | ${fmt0(mbps)} | ${fmtInt(r.records / r.seconds)} | ${cpuCell(r.cpu)} | ${r.cpu?.broker ? fmt0(mbps / r.cpu.broker) : '–'} |`,
          )
        }
      },
      { env },
    )
  }
  return `GLIBC_TUNABLES=${MALLOC_TUNABLES} on the broker process only\n\n${rows.join('\n')}`
}

/** `perf record` of the broker (on-CPU, kernel included) under a produce and a fetch load. */
async function perfRuns(): Promise<string[]> {
  if (!perfAvailable()) return ['perf is not installed: skipped']
  const dir = path.resolve(ROOT, args['profile-dir'] as string)
  mkdirSync(dir, { recursive: true })
  const ms = QUICK ? 3000 : 5000
  const out: string[] = []
  type Run = {
    name: string
    mode: 'os' | 'fsync'
    label: string
    body: (b: BrokerProcess, onStart: () => void) => Promise<LoadResult>
  }
  const runs: Run[] = [
    {
      name: 'perf-produce-1KB.data',
      mode: 'os',
      label: `produce, os mode, acks=1, 1 KB records, 256 KiB batches, 4 connections × ${INFLIGHT} in flight`,
      body: async (b, onStart) => (await produceScenario(b, 'os', 1, 1024, 256 * KiB, 4, ms, onStart)).result,
    },
    {
      name: 'perf-produce-fsync-1KB.data',
      mode: 'fsync',
      label: `produce, fsync mode, acks=-1, 1 KB records, 256 KiB batches, 16 connections × ${INFLIGHT} in flight`,
      body: async (b, onStart) => (await produceScenario(b, 'fsync', -1, 1024, 256 * KiB, 16, ms, onStart)).result,
    },
    {
      name: 'perf-fetch-1KB.data',
      mode: 'os',
      label: 'fetch, 1 KB records, 4 connections, partitionMaxBytes 4 MiB',
      body: async (b, onStart) => {
        const ends = await fill(b, 'perf-fetch', 1024, FILL_BYTES)
        return (await fetchScenario(b, 'perf-fetch', ends, 1024, 4, 4 * MiB, ms, onStart)).result
      },
    },
  ]
  retries = false
  for (const r of runs) {
    const file = path.join(dir, r.name)
    rmSync(file, { force: true })
    log(`perf: ${r.label}`)
    const result = await withBroker(
      r.mode,
      async (b) => {
        let recording: Promise<boolean> = Promise.resolve(false)
        // Recording starts with the load (warm-up included) and lasts warm-up + window.
        const res = await r.body(b, () => {
          recording = perfRecord(b.pid, (WARMUP_MS + ms) / 1000, file).done
        })
        await recording
        return res
      },
      { nodeFlags: ['--perf-basic-prof'] },
    )
    const sum = summarisePerf(file)
    const rate = `${fmtInt(result.records / result.seconds)} rec/s, ${fmt0(result.bytes / result.seconds / 1e6)} MB/s while recorded; CPU broker / loadgen / other / kernel ${cpuCell(result.cpu)}`
    out.push(`### ${r.label}\n${rate}; ${path.relative(ROOT, file)}\n\`\`\`\n${sum ? formatPerf(sum) : 'no samples'}\n\`\`\``)
  }
  retries = true
  return out
}

async function profiles(): Promise<string[]> {
  const dir = path.resolve(ROOT, args['profile-dir'] as string)
  mkdirSync(dir, { recursive: true })
  const out: string[] = []
  log('profile: compiling the broker with tsc')
  const compiled = compileBroker()
  if (compiled) process.env.COHORT_BENCH_BROKER_MODULE = compiled
  const ms = QUICK ? 3000 : 6000
  type Run = { name: string; label: string; body: (b: BrokerProcess) => Promise<LoadResult> }
  const runs: Run[] = [
    {
      name: 'produce-100B.cpuprofile',
      label: `produce, os mode, acks=1, 100-byte records, 256 KiB batches, 4 connections × ${INFLIGHT} in flight, ${ms / 1000} s`,
      body: async (b) => (await produceScenario(b, 'os', 1, 100, 256 * KiB, 4, ms)).result,
    },
    {
      name: 'produce-1KB.cpuprofile',
      label: `produce, os mode, acks=1, 1 KB records, 256 KiB batches, 4 connections × ${INFLIGHT} in flight, ${ms / 1000} s`,
      body: async (b) => (await produceScenario(b, 'os', 1, 1024, 256 * KiB, 4, ms)).result,
    },
    {
      name: 'fetch-1KB.cpuprofile',
      label: `fetch, 1 KB records, 4 connections, partitionMaxBytes 4 MiB, ${ms / 1000} s (after a ${FILL_BYTES / MiB} MiB fill)`,
      body: async (b) => {
        const ends = await fill(b, 'profile-fetch', 1024, FILL_BYTES)
        return (await fetchScenario(b, 'profile-fetch', ends, 1024, 4, 4 * MiB, ms)).result
      },
    },
  ]
  retries = false
  for (const r of runs) {
    // One profile per thread (the tsx loader runs in a worker): give each run its own directory, keep the busiest.
    const runDir = path.join(dir, `${r.name}.d`)
    rmSync(runDir, { recursive: true, force: true })
    mkdirSync(runDir, { recursive: true })
    log(`profile: ${r.label}`)
    const result = await withBroker('os', r.body, { dir: runDir })
    const found = readdirSync(runDir)
      .filter((f) => f.endsWith('.cpuprofile'))
      .map((f) => ({ f: path.join(runDir, f), s: summarise(path.join(runDir, f), result.brokerWindow) }))
      .sort((a, b) => b.s.busyMs - a.s.busyMs)
    const main = found[0]
    if (!main) {
      out.push(`### ${r.label}\n(no profile written)`)
      continue
    }
    const file = path.join(dir, r.name)
    renameSync(main.f, file)
    rmSync(runDir, { recursive: true, force: true })
    const rate = `${fmtInt(result.records / result.seconds)} rec/s, ${fmt0(result.bytes / result.seconds / 1e6)} MB/s under the profiler; broker ${fmt2(result.cpu?.broker)} cores`
    out.push(`### ${r.label}\n${rate}; ${path.relative(ROOT, file)}, measurement window only\n\`\`\`\n${formatSummary(main.s, 20)}\n\`\`\``)
  }
  delete process.env.COHORT_BENCH_BROKER_MODULE
  retries = true
  return out
}

// ---- kcat -----------------------------------------------------------------------------------------

async function kcatRun(): Promise<string> {
  const has = spawnSync('kcat', ['-V']).status === 0
  if (!has) return 'kcat not installed: skipped'
  const n = QUICK ? 200_000 : 1_000_000
  const file = path.join(dataRoot, 'kcat-input.txt')
  const line = `${'k'.repeat(100)}\n`
  writeFileSync(file, line.repeat(n))
  return withBroker('os', async (b) => {
    const topic = 'kcat-100'
    await createTopic(b.host, b.port, topic, PARTITIONS)
    await quiet()
    const c0 = await b.cpu()
    const t0 = performance.now()
    const r = spawnSync(
      'kcat',
      ['-P', '-b', `${b.host}:${b.port}`, '-t', topic, '-X', 'linger.ms=5', '-X', 'batch.num.messages=10000', '-l', file],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
    )
    const secs = (performance.now() - t0) / 1000
    const c1 = await b.cpu()
    const ends = await endOffsets(b.host, b.port, topic, PARTITIONS)
    const got = ends.reduce((a, c) => a + c, 0)
    rmSync(file, { force: true })
    const status = r.status === 0 && got === n ? 'ok' : `exit ${r.status}, ${got}/${n} records in the log; ${r.stderr.slice(0, 300)}`
    return (
      `kcat -P -X linger.ms=5 -X batch.num.messages=10000 -l FILE (${fmtInt(n)} × 100-byte records, ${PARTITIONS} partitions, default acks=all, os mode): ` +
      `${secs.toFixed(2)} s wall incl. kcat start-up = ${fmtInt(n / secs)} rec/s, ${fmt0((n * 100) / secs / 1e6)} MB/s payload; ` +
      `broker CPU ${((c1.micros - c0.micros) / 1e6).toFixed(2)} s (${fmt2((c1.micros - c0.micros) / (c1.wall - c0.wall))} cores); ${status}`
    )
  })
}

// ---- main -----------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const started = performance.now()
  const machine = machineInfo(dataRoot)
  const report: string[] = []
  report.push(`# Cohort broker throughput${QUICK ? ' (--quick)' : ''}`)
  report.push(
    `date ${machine.date}; CPU ${machine.cpuModel}; nproc ${machine.nproc}; memory ${machine.memory}; disk ${machine.disk}; ${machine.kernel}; node ${machine.node}`,
  )

  const loopback: LoopbackResult[] = []
  const disk: DiskResult[] = []
  const produce: ProduceRow[] = []
  const fetch: FetchRow[] = []
  let profileText: string[] = []
  let perfText: string[] = []
  let mallocText = ''

  let kcatText = ''

  if (SECTIONS.has('baselines')) {
    log('loopback TCP baseline')
    for (const p of loopbackPoints(QUICK)) {
      const r = await leastContended(
        async () => {
          await quiet()
          return measureLoopback(p.chunk, p.connections, QUICK ? 1000 : 2000)
        },
        (x) => x.others,
      )
      log(`  ${size(p.chunk)} × ${p.connections}: ${fmt0(r.mbps)} MB/s`)
      loopback.push(r)
    }
    log('disk write+fdatasync baseline')
    dropCaches()
    for (const chunk of QUICK ? [64 * KiB, MiB] : [64 * KiB, MiB, 8 * MiB]) {
      await quiet()
      const r = measureFdatasync(dataRoot, chunk, QUICK ? 500 : 2000)
      log(`  ${size(chunk)}: ${fmt0(r.mbps)} MB/s, ${r.avgSyncMs.toFixed(2)} ms per fdatasync`)
      disk.push(r)
    }
  }

  if (SECTIONS.has('produce')) {
    log('produce, log.flush.mode=os, acks=1')
    await withBroker('os', async (b) => {
      const points: [number, number][] = QUICK
        ? [[256 * KiB, 4]]
        : [
            [256 * KiB, 1],
            [256 * KiB, 4],
            [256 * KiB, 8],
            [16 * KiB, 4],
            [64 * KiB, 4],
            [MiB, 4],
          ]
      for (const recordSize of [100, 1024]) {
        for (const [batchBytes, conns] of points) produce.push(await produceScenario(b, 'os', 1, recordSize, batchBytes, conns))
      }
    })
  }

  if (SECTIONS.has('fsync')) {
    log('produce, log.flush.mode=fsync, acks=-1 (group commit)')
    dropCaches()
    await withBroker('fsync', async (b) => {
      const conns = QUICK ? [4] : [1, 4, 16]
      for (const recordSize of [100, 1024]) {
        for (const c of conns) produce.push(await produceScenario(b, 'fsync', -1, recordSize, 256 * KiB, c))
      }
    })
  }

  if (SECTIONS.has('fetch')) {
    log('fetch, log.flush.mode=os')
    dropCaches()
    await withBroker('os', async (b) => {
      for (const recordSize of [100, 1024]) {
        const topic = `fetch-${recordSize}`
        const ends = await fill(b, topic, recordSize, FILL_BYTES)
        const points: [number, number][] = QUICK
          ? [[4, 4 * MiB]]
          : [
              [1, 4 * MiB],
              [4, 4 * MiB],
              [8, 4 * MiB],
              [4, MiB],
            ]
        for (const [conns, pmb] of points) fetch.push(await fetchScenario(b, topic, ends, recordSize, conns, pmb))
        await deleteTopic(b.host, b.port, topic)
      }
    })
  }

  if (SECTIONS.has('kcat')) {
    log('kcat producer (reference)')
    kcatText = await kcatRun()
    log(`  ${kcatText}`)
  }
  if (SECTIONS.has('profile')) profileText = await profiles()
  if (SECTIONS.has('perf')) perfText = await perfRuns()
  if (SECTIONS.has('malloc')) {
    log('malloc experiment: default glibc malloc vs. keeping freed memory, broker process only')
    mallocText = await mallocExperiment()
  }

  // ---- report ----
  const loopBest = loopback.length ? Math.max(...loopback.map((r) => r.mbps)) : Number.NaN
  const disk1M = disk.find((d) => d.chunk === MiB)?.mbps ?? Number.NaN

  if (loopback.length) {
    report.push('\n## Baselines (same run)')
    report.push('| baseline | chunk | conns | MB/s | CPU (cores) |')
    report.push('|---|---|---|---|---|')
    for (const r of loopback) {
      report.push(
        `| loopback TCP, Node → Node | ${size(r.chunk)} | ${r.connections} | ${fmt0(r.mbps)} | sender ${fmt2(r.senderCpu)}, receiver ${fmt2(r.receiverCpu)} |`,
      )
    }
    for (const d of disk) {
      report.push(
        `| disk append + fdatasync | ${size(d.chunk)} | 1 | ${fmt0(d.mbps)} | ${d.avgSyncMs.toFixed(2)} ms per fdatasync, ${fmtInt(d.syncs / d.seconds)} syncs/s |`,
      )
    }
  }

  if (produce.length) {
    report.push('\n## Produce')
    report.push(
      '| flush mode | acks | record | batch (records) | conns × in flight | records/s | MB/s | p50 / p99 ms | CPU broker / loadgen / other / kernel | rec/s per broker core | vs baseline |',
    )
    report.push('|---|---|---|---|---|---|---|---|---|---|---|')
    for (const p of produce) {
      const r = p.result
      const mbps = r.bytes / r.seconds / 1e6
      const base =
        p.mode === 'os' ? `${fmt0((100 * mbps) / loopBest)} % of loopback` : `${fmt0((100 * mbps) / disk1M)} % of 1 MiB fdatasync`
      report.push(
        `| ${p.mode} | ${p.acks} | ${p.recordSize} B | ${size(p.batchBytes)} (${fmtInt(p.recordsPerBatch)}) | ${p.connections} × ${p.inflight} | ${fmtInt(r.records / r.seconds)} | ${fmt0(mbps)} | ` +
          `${r.latencyMs ? `${r.latencyMs.p50.toFixed(1)} / ${r.latencyMs.p99.toFixed(1)}` : '–'} | ${cpuCell(r.cpu)} | ${perCore(r)} | ${base} |`,
      )
    }
  }

  if (fetch.length) {
    report.push('\n## Fetch')
    report.push(
      '| record | conns | partitionMaxBytes | records/s | MB/s | fetches/s | p50 / p99 ms | CPU broker / loadgen / other / kernel | rec/s per broker core | vs loopback |',
    )
    report.push('|---|---|---|---|---|---|---|---|---|---|')
    for (const f of fetch) {
      const r = f.result
      const mbps = r.bytes / r.seconds / 1e6
      report.push(
        `| ${f.recordSize} B | ${f.connections} | ${size(f.partitionMaxBytes)} | ${fmtInt(r.records / r.seconds)} | ${fmt0(mbps)} | ${fmtInt(r.requests / r.seconds)} | ` +
          `${r.latencyMs ? `${r.latencyMs.p50.toFixed(1)} / ${r.latencyMs.p99.toFixed(1)}` : '–'} | ${cpuCell(r.cpu)} | ${perCore(r)} | ${fmt0((100 * mbps) / loopBest)} % |`,
      )
    }
  }

  if (produce.length || fetch.length) {
    const best = (rows: ProduceRow[]) =>
      rows.reduce<ProduceRow | null>((a, r) => (!a || r.result.bytes / r.result.seconds > a.result.bytes / a.result.seconds ? r : a), null)
    const bestRec = (rows: { result: LoadResult }[]) =>
      rows.length ? Math.max(...rows.map((r) => r.result.records / r.result.seconds)) : Number.NaN
    const os100 = produce.filter((p) => p.mode === 'os' && p.recordSize === 100)
    const os1k = best(produce.filter((p) => p.mode === 'os' && p.recordSize === 1024))
    const fs1k = best(produce.filter((p) => p.mode === 'fsync' && p.recordSize === 1024))
    const fs100 = best(produce.filter((p) => p.mode === 'fsync' && p.recordSize === 100))
    const f100 = fetch.filter((f) => f.recordSize === 100)
    const f1k = fetch.filter((f) => f.recordSize === 1024)
    const mb = (r: { result: LoadResult } | null | undefined) => (r ? r.result.bytes / r.result.seconds / 1e6 : Number.NaN)
    const bestMb = (rows: { result: LoadResult }[]) => (rows.length ? Math.max(...rows.map((r) => mb(r))) : Number.NaN)
    const verdict = (ratio: number) => (Number.isNaN(ratio) ? '–' : ratio >= 1 ? 'met' : 'MISSED')
    report.push('\n## Targets (best point of each group)')
    report.push('| target | measured | reference | ratio to target | |')
    report.push('|---|---|---|---|---|')
    const r1 = bestRec(os100) / 500_000
    report.push(
      `| produce ≥ 500k records/s, 100-byte records (os, acks=1) | ${fmtInt(bestRec(os100))} rec/s | 500,000 rec/s | ${fmt2(r1)} | ${verdict(r1)} |`,
    )
    const r2 = f100.length ? bestRec(f100) / 500_000 : Number.NaN
    report.push(
      `| fetch ≥ 500k records/s, 100-byte records | ${f100.length ? fmtInt(bestRec(f100)) : '–'} rec/s | 500,000 rec/s | ${fmt2(r2)} | ${verdict(r2)} |`,
    )
    const r3 = mb(os1k) / (0.5 * loopBest)
    report.push(
      `| produce 1 KB records (os) ≥ 50 % of loopback TCP | ${fmt0(mb(os1k))} MB/s | 50 % × ${fmt0(loopBest)} = ${fmt0(loopBest / 2)} MB/s | ${fmt2(r3)} | ${verdict(r3)} |`,
    )
    const r4 = f1k.length ? bestMb(f1k) / (0.5 * loopBest) : Number.NaN
    report.push(
      `| fetch 1 KB records ≥ 50 % of loopback TCP | ${f1k.length ? fmt0(bestMb(f1k)) : '–'} MB/s | ${fmt0(loopBest / 2)} MB/s | ${fmt2(r4)} | ${verdict(r4)} |`,
    )
    const r5 = mb(fs1k) / (0.5 * disk1M)
    report.push(
      `| acks=-1, fsync mode, 1 KB records ≥ 50 % of fdatasync bandwidth (1 MiB writes) | ${fmt0(mb(fs1k))} MB/s (${fs1k?.connections ?? '–'} conns) | 50 % × ${fmt0(disk1M)} = ${fmt0(disk1M / 2)} MB/s | ${fmt2(r5)} | ${verdict(r5)} |`,
    )
    const r6 = mb(fs100) / (0.5 * disk1M)
    report.push(
      `| acks=-1, fsync mode, 100-byte records ≥ 50 % of fdatasync bandwidth (1 MiB writes) | ${fmt0(mb(fs100))} MB/s (${fs100?.connections ?? '–'} conns) | ${fmt0(disk1M / 2)} MB/s | ${fmt2(r6)} | ${verdict(r6)} |`,
    )
  }
  if (kcatText) report.push(`\n## kcat (reference)\n${kcatText}`)
  if (profileText.length) report.push(`\n## Broker CPU profiles (node --cpu-prof, separate runs)\n${profileText.join('\n\n')}`)
  if (mallocText) report.push(`\n## Experiment: page faults from fresh buffers\n${mallocText}`)
  if (perfText.length) report.push(`\n## Broker on-CPU profiles (perf record -g, separate runs)\n${perfText.join('\n\n')}`)
  report.push(
    `\nCPU columns: cores (1.00 = one core for the whole window): broker process / load generator / other user processes (other work on the machine) / kernel threads and interrupts (writeback, journal, block I/O, softirq: partly the broker's own I/O); ⚠ marks windows where other processes used more than ${CONTENDED} cores. ${noisy} point(s) started on a busy machine; ${retried} re-run(s) for contention (up to ${ATTEMPTS} attempts a point, least contended kept).`,
  )
  report.push(`Total bench time ${((performance.now() - started) / 1000).toFixed(0)} s.`)

  console.log(report.join('\n'))
  if (args.json)
    writeFileSync(
      args.json,
      JSON.stringify({ machine, loopback, disk, produce, fetch, kcat: kcatText }, (_, v) => (typeof v === 'bigint' ? String(v) : v), 2),
    )
}

try {
  await main()
} finally {
  if (!args['data-dir']) rmSync(dataRoot, { recursive: true, force: true })
}
await sleep(0)
