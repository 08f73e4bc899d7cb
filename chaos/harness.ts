/**
 * The chaos harness: a broker in a child process, a producer of uniquely identified records, and a
 * consumer group of Cohort and confluent-kafka member processes, put through scale-ups, graceful
 * scale-downs, rolling restarts of static members, kill -9, partition additions and broker restarts
 * for a bounded time, chosen by a seeded PRNG. Afterwards it lets the group drain what was produced,
 * stops everything and hands the run directory to the checker (chaos/checker.ts).
 *
 * Everything the run did is in its directory (see chaos/events.ts), so a report can be recomputed with
 * `node --import tsx chaos/checker.ts DIR`.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { appendFileSync, closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { Admin } from '../src/admin/index.ts'
import { Producer } from '../src/client/index.ts'
import { type CheckReport, check, formatReport } from './checker.ts'
import { type ChaosEvent, incarnationName, type MemberEvent, type ProducedRecord } from './events.ts'
import { Prng } from './prng.ts'

export const REPO = resolve(import.meta.dirname, '..')
export const PYTHON = '/usr/bin/python3'
const COHORT_MEMBER = join(REPO, 'chaos/cohort-member.ts')
const PYTHON_MEMBER = join(REPO, 'chaos/peers/chaos_member.py')
const BROKER_ENTRY = join(REPO, 'chaos/broker.ts')

export const SCENARIOS = ['scale', 'rolling', 'kill', 'partitions', 'broker'] as const
export type Scenario = (typeof SCENARIOS)[number]
/** Scenarios after which no record may be processed twice. */
export const GRACEFUL_SCENARIOS: readonly Scenario[] = ['scale', 'rolling', 'partitions']

export interface ChaosOptions {
  /** How long chaos actions keep coming (the drain and shutdown come after). */
  durationMs: number
  /** Members at the start (static members: they take part in rolling restarts). */
  members: number
  minMembers: number
  maxMembers: number
  /** Fraction of members that run confluent-kafka (Python) instead of Cohort's client. */
  pythonShare: number
  seed: number
  /** Members process through the idempotent helper, into one shared SQLite store. */
  idempotent: boolean
  partitions: number
  maxPartitions: number
  /** Records produced per second. */
  rate: number
  strategy: 'range' | 'cooperative-sticky'
  /** Members commit after every N records (and always in onRevoked). */
  commitEvery: number
  scenarios: readonly Scenario[]
  /** How the broker is stopped for a restart (`random`: the PRNG picks, per restart). */
  brokerSignal: 'SIGTERM' | 'SIGKILL' | 'random'
  /** Pause between two chaos actions, drawn from [min, max]. */
  gapMs: readonly [number, number]
  sessionTimeoutMs: number
  /** How long the group may take to process everything after the chaos stops. */
  drainTimeoutMs: number
  /** Run directory (default: a new one under the system's temp dir). */
  dir?: string
  /** librdkafka debug contexts for the Python members' stderr (e.g. `cgrp`), for diagnosis. */
  pythonDebug?: string
  /** Progress lines (default: stderr). */
  log?: (line: string) => void
}

export const DEFAULT_OPTIONS: ChaosOptions = {
  durationMs: 60_000,
  members: 4,
  minMembers: 2,
  maxMembers: 6,
  pythonShare: 0.5,
  seed: 1,
  idempotent: false,
  partitions: 6,
  maxPartitions: 12,
  rate: 200,
  strategy: 'cooperative-sticky',
  commitEvery: 1,
  scenarios: SCENARIOS,
  brokerSignal: 'random',
  gapMs: [2000, 5000],
  sessionTimeoutMs: 6000,
  drainTimeoutMs: 60_000,
}

export interface ChaosResult {
  dir: string
  report: CheckReport
  text: string
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

/** Reads a growing JSON-lines file incrementally. */
class Tail {
  #fd: number | null = null
  #pos = 0
  #rest = ''
  constructor(readonly path: string) {}

  read(): MemberEvent[] {
    if (this.#fd === null) {
      if (!existsSync(this.path)) return []
      this.#fd = openSync(this.path, 'r')
    }
    const out: MemberEvent[] = []
    const buf = Buffer.alloc(1 << 16)
    for (;;) {
      const n = readSync(this.#fd, buf, 0, buf.length, this.#pos)
      if (n <= 0) break
      this.#pos += n
      this.#rest += buf.subarray(0, n).toString()
    }
    let nl = this.#rest.indexOf('\n')
    while (nl >= 0) {
      const line = this.#rest.slice(0, nl)
      this.#rest = this.#rest.slice(nl + 1)
      if (line.trim() !== '') {
        try {
          out.push(JSON.parse(line) as MemberEvent)
        } catch {
          // cut by kill -9
        }
      }
      nl = this.#rest.indexOf('\n')
    }
    return out
  }

  close(): void {
    if (this.#fd !== null) closeSync(this.#fd)
    this.#fd = null
  }
}

interface Member {
  slot: string
  n: number
  name: string
  kind: 'cohort' | 'python'
  static: boolean
  child: ChildProcess
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  tail: Tail
  alive: boolean
  /** A stop or kill was asked: no other action picks it. */
  busy: boolean
  started: boolean
  assignedOnce: boolean
}

class BrokerProcess {
  child: ChildProcess | null = null
  port = 0
  stderr = ''
  constructor(
    readonly dataDir: string,
    readonly settings: string[],
    readonly errPath: string,
  ) {}

  get bootstrap(): string {
    return `127.0.0.1:${this.port}`
  }

  async start(): Promise<void> {
    const args = ['--import', 'tsx', BROKER_ENTRY, '--port', String(this.port), '--data-dir', this.dataDir]
    for (const s of this.settings) args.push('--set', s)
    const child = spawn(process.execPath, args, { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] })
    this.child = child
    child.stderr?.on('data', (d: Buffer) => {
      appendFileSync(this.errPath, d)
      this.stderr = (this.stderr + d.toString()).slice(-4000)
    })
    const bootstrap = await new Promise<string>((res, rej) => {
      let out = ''
      const timer = setTimeout(() => rej(new Error(`broker did not start in 30 s: ${this.stderr}`)), 30_000)
      child.stdout?.on('data', (d: Buffer) => {
        out += d.toString()
        const m = /listening on (\S+)/.exec(out)
        if (m) {
          clearTimeout(timer)
          res(m[1] as string)
        }
      })
      child.once('exit', (code) => {
        clearTimeout(timer)
        rej(new Error(`broker exited with ${code}: ${this.stderr}`))
      })
    })
    this.port = Number(bootstrap.slice(bootstrap.lastIndexOf(':') + 1))
  }

  async stop(signal: NodeJS.Signals): Promise<void> {
    const child = this.child
    if (!child || child.exitCode !== null || child.signalCode !== null) return
    const exited = new Promise<void>((r) => child.once('exit', () => r()))
    child.kill(signal)
    const t = setTimeout(() => child.kill('SIGKILL'), 15_000)
    await exited
    clearTimeout(t)
  }
}

export async function runChaos(options: Partial<ChaosOptions> = {}): Promise<ChaosResult> {
  const o: ChaosOptions = { ...DEFAULT_OPTIONS, ...options }
  const log = o.log ?? ((line: string) => process.stderr.write(`${line}\n`))
  const dir = o.dir ?? mkdtempSync(join(tmpdir(), `cohort-chaos-${o.seed}-`))
  mkdirSync(join(dir, 'members'), { recursive: true })
  for (const f of ['produced.jsonl', 'chaos.jsonl']) rmSync(join(dir, f), { force: true })
  const havePython = existsSync(PYTHON)
  const pythonShare = havePython ? o.pythonShare : 0
  if (!havePython && o.pythonShare > 0) log(`chaos: ${PYTHON} not found; every member runs Cohort's client`)
  const scenarios = new Set(o.scenarios)
  writeFileSync(
    join(dir, 'run.json'),
    `${JSON.stringify({ ...o, log: undefined, pythonShare, started: new Date().toISOString() }, null, 2)}\n`,
  )

  const prng = new Prng(o.seed)
  const t0 = Date.now()
  const since = (): string => `+${((Date.now() - t0) / 1000).toFixed(1)}s`
  const record = (e: Omit<ChaosEvent, 't'>): void => {
    const ev: ChaosEvent = { t: Date.now(), ...e }
    appendFileSync(join(dir, 'chaos.jsonl'), `${JSON.stringify(ev)}\n`)
  }
  const topic = 'chaos'
  const group = 'chaos'
  const storePath = join(dir, 'store.db')
  if (o.idempotent) for (const suffix of ['', '-wal', '-shm']) rmSync(storePath + suffix, { force: true })

  const broker = new BrokerProcess(
    join(dir, 'broker-data'),
    ['group.initial.rebalance.delay.ms=0', 'group.min.session.timeout.ms=1000', 'log.flush.mode=fsync', 'auto.create.topics.enable=false'],
    join(dir, 'broker.err'),
  )
  await broker.start()
  record({ action: 'broker-start', detail: { port: broker.port } })
  log(`chaos: broker on ${broker.bootstrap}, run directory ${dir}`)

  const admin = new Admin({ bootstrapServers: broker.bootstrap, retryBackoffMs: 50, metadataMaxAgeMs: 1000 })
  try {
    const created = (await admin.createTopics([{ name: topic, partitions: o.partitions }])).get(topic)
    if (created?.error) throw created.error
  } catch (err) {
    await admin.close().catch(() => {})
    await broker.stop('SIGKILL')
    throw err
  }
  let partitions = o.partitions

  // ---- members ------------------------------------------------------------------------------

  const members: Member[] = []
  const incarnations = new Map<string, number>()
  let slotSeq = 0
  const live = (): Member[] => members.filter((m) => m.alive && !m.busy)
  const running = (): Member[] => members.filter((m) => m.alive)

  const startMember = (slot: string, kind: 'cohort' | 'python', isStatic: boolean): Member => {
    const n = (incarnations.get(slot) ?? 0) + 1
    incarnations.set(slot, n)
    const name = incarnationName(slot, n)
    const outPath = join(dir, 'members', `${slot}.${n}.jsonl`)
    const out = openSync(outPath, 'a')
    const err = openSync(join(dir, 'members', `${slot}.${n}.err`), 'a')
    const common = [
      '--bootstrap',
      broker.bootstrap,
      '--topic',
      topic,
      '--group',
      group,
      '--name',
      name,
      '--strategy',
      o.strategy,
      '--session-timeout-ms',
      String(o.sessionTimeoutMs),
      '--heartbeat-interval-ms',
      '500',
      '--commit-every',
      String(o.commitEvery),
    ]
    if (isStatic) common.push('--instance-id', `chaos-${slot}`)
    if (o.idempotent) common.push('--store', storePath)
    const pyExtra = o.pythonDebug ? ['--debug', o.pythonDebug] : []
    const child =
      kind === 'cohort'
        ? spawn(process.execPath, ['--import', 'tsx', COHORT_MEMBER, ...common], { cwd: REPO, stdio: ['pipe', out, err] })
        : spawn(PYTHON, [PYTHON_MEMBER, ...common, ...pyExtra], { cwd: REPO, stdio: ['pipe', out, err] })
    closeSync(out)
    closeSync(err)
    child.stdin?.on('error', () => {})
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) =>
      child.once('exit', (code, signal) => r({ code, signal })),
    )
    const m: Member = {
      slot,
      n,
      name,
      kind,
      static: isStatic,
      child,
      exited,
      tail: new Tail(outPath),
      alive: true,
      busy: false,
      started: false,
      assignedOnce: false,
    }
    void exited.then(({ code, signal }) => {
      m.alive = false
      // requested: the harness asked it to stop or killed it; otherwise the member ended on its own.
      record({ action: 'exit', target: name, detail: { code, signal, requested: m.busy } })
    })
    members.push(m)
    record({ action: 'start', target: name, detail: { kind, static: isStatic, pid: child.pid } })
    log(`chaos ${since()}: start ${name} (${kind}${isStatic ? ', static' : ''})`)
    return m
  }

  const newSlot = (isStatic: boolean): Member => {
    const kind = prng.chance(pythonShare) ? 'python' : 'cohort'
    const slot = `${kind === 'python' ? 'py' : 'c'}${++slotSeq}`
    return startMember(slot, kind, isStatic)
  }

  // What members printed: who has started and been assigned, and which records were processed.
  const seen = new Set<string>()
  let processedCount = 0
  const poll = (): void => {
    for (const m of members) {
      for (const e of m.tail.read()) {
        if (e.ev === 'started') m.started = true
        else if (e.ev === 'assigned') m.assignedOnce = true
        else if (e.ev === 'rec') {
          processedCount++
          seen.add(e.id)
        }
      }
    }
  }
  const poller = setInterval(poll, 200)

  const waitFor = async (cond: () => boolean, timeoutMs: number): Promise<boolean> => {
    const deadline = Date.now() + timeoutMs
    while (!cond()) {
      if (Date.now() > deadline) return false
      await sleep(100)
      poll()
    }
    return true
  }

  const kill = async (m: Member, action: 'kill' | 'forced-kill' = 'kill'): Promise<void> => {
    m.busy = true
    if (m.alive) {
      record({ action, target: m.name })
      m.child.kill('SIGKILL')
    }
    await m.exited
  }

  /** A graceful stop: "stop" (static members keep their partitions until the session times out) or "leave". */
  const stop = async (m: Member, reason: string, leave: boolean): Promise<void> => {
    m.busy = true
    if (!m.alive) return
    record({ action: 'stop', target: m.name, detail: { reason, leave } })
    m.child.stdin?.write(leave ? 'leave\n' : 'stop\n')
    let timer: NodeJS.Timeout | undefined
    const done = await Promise.race([m.exited, new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), 30_000)))])
    clearTimeout(timer)
    if (done === 'timeout') {
      log(`chaos ${since()}: ${m.name} did not stop within 30 s; kill -9`)
      await kill(m, 'forced-kill')
    }
    // librdkafka sends no LeaveGroup for a static member: remove it the way an operator would
    // (LeaveGroup by instance id), so its partitions move now instead of after the session timeout.
    if (leave && m.static && m.kind === 'python') {
      await admin
        .removeGroupMembers(group, [`chaos-${m.slot}`], 'scaled down')
        .catch((err: unknown) => log(`chaos ${since()}: removing chaos-${m.slot} from the group failed: ${String(err)}`))
    }
  }

  // ---- producer -----------------------------------------------------------------------------

  const producer = new Producer({ bootstrapServers: broker.bootstrap, lingerMs: 5, metadataMaxAgeMs: 1000, retryBackoffMs: 50 })
  let seq = 0
  let inFlight = 0
  let producedOk = 0
  let producedFailed = 0
  let pendingLines: string[] = []
  const flushProduced = (): void => {
    if (pendingLines.length === 0) return
    appendFileSync(join(dir, 'produced.jsonl'), pendingLines.join(''))
    pendingLines = []
  }
  let producing = true
  const producerLoop = (async () => {
    const tickMs = 50
    let credit = 0
    let next = Date.now()
    while (producing) {
      credit += (o.rate * tickMs) / 1000
      // Back-pressure while the broker is away: do not pile up more than a few seconds of records.
      while (credit >= 1 && inFlight < o.rate * 5) {
        credit--
        const id = `m${String(seq++).padStart(7, '0')}`
        inFlight++
        producer.send({ topic, key: `user-${seq % 101}`, value: id }).then(
          (md) => {
            inFlight--
            producedOk++
            const line: ProducedRecord = { id, p: md.partition, o: Number(md.offset), t: Date.now() }
            pendingLines.push(`${JSON.stringify(line)}\n`)
          },
          (err: unknown) => {
            inFlight--
            producedFailed++
            pendingLines.push(`${JSON.stringify({ id, p: -1, o: -1, t: Date.now(), failed: true, error: String(err) })}\n`)
          },
        )
      }
      if (credit > o.rate) credit = o.rate
      flushProduced()
      next += tickMs
      await sleep(Math.max(0, next - Date.now()))
    }
  })()

  // ---- chaos --------------------------------------------------------------------------------

  let harnessError: Error | null = null
  const restarts: Promise<void>[] = []
  let chaosEnd = Number.POSITIVE_INFINITY
  try {
    record({ action: 'phase', detail: { phase: 'start' } })
    const nPython = Math.round(o.members * pythonShare)
    for (let i = 0; i < o.members; i++) {
      const kind = i < nPython ? 'python' : 'cohort'
      startMember(`${kind === 'python' ? 'py' : 'c'}${++slotSeq}`, kind, true)
    }
    if (!(await waitFor(() => members.every((m) => m.assignedOnce), 60_000))) {
      throw new Error(`the first members were not all assigned within 60 s`)
    }
    record({ action: 'phase', detail: { phase: 'chaos' } })
    log(`chaos ${since()}: group formed; chaos for ${o.durationMs / 1000} s`)

    chaosEnd = Date.now() + o.durationMs
    // Every enabled scenario once, in a seeded order, then weighted draws.
    const firstRound = prng.shuffleOf([...scenarios])
    while (Date.now() < chaosEnd) {
      await sleep(Math.min(prng.between(o.gapMs[0], o.gapMs[1]), Math.max(0, chaosEnd - Date.now())))
      if (Date.now() >= chaosEnd) break
      const feasible = (s: Scenario): boolean => {
        const n = live().length
        switch (s) {
          case 'scale':
            return n < o.maxMembers || n > o.minMembers
          case 'rolling':
            return live().some((m) => m.static)
          case 'kill':
            return n > 1
          case 'partitions':
            return partitions < o.maxPartitions
          case 'broker':
            return true
        }
      }
      let scenario: Scenario | undefined
      while (firstRound.length > 0 && scenario === undefined) {
        const s = firstRound.shift() as Scenario
        if (feasible(s)) scenario = s
      }
      if (scenario === undefined) {
        const weights: Record<Scenario, number> = { scale: 4, rolling: 1, kill: 3, partitions: 1, broker: 1 }
        const choices = Object.fromEntries(SCENARIOS.filter((s) => scenarios.has(s) && feasible(s)).map((s) => [s, weights[s]])) as Record<
          Scenario,
          number
        >
        if (Object.keys(choices).length === 0) continue
        scenario = prng.weighted(choices)
      }
      await act(scenario)
    }
    record({ action: 'phase', detail: { phase: 'drain' } })
    await Promise.all(restarts)
  } catch (err) {
    harnessError = err as Error
    log(`chaos: harness error: ${harnessError.message}`)
  }

  async function act(s: Scenario): Promise<void> {
    switch (s) {
      case 'scale': {
        const n = live().length
        const up = n <= o.minMembers ? true : n >= o.maxMembers ? false : prng.chance(0.5)
        if (up) {
          newSlot(false)
        } else {
          // Prefer the dynamic members scale-ups added; a static one leaves explicitly.
          const dynamic = live().filter((m) => !m.static)
          const victim = prng.pick(dynamic.length > 0 ? dynamic : live())
          log(`chaos ${since()}: scale down: stop ${victim.name}`)
          await stop(victim, 'scale-down', true)
        }
        return
      }
      case 'rolling': {
        const statics = live().filter((m) => m.static)
        log(`chaos ${since()}: rolling restart of ${statics.map((m) => m.name).join(', ')}`)
        for (const m of statics) {
          if (Date.now() >= chaosEnd) break
          if (!m.alive || m.busy) continue
          await stop(m, 'rolling-restart', false)
          const next = startMember(m.slot, m.kind, true)
          await waitFor(() => next.assignedOnce || !next.alive, 20_000)
        }
        return
      }
      case 'kill': {
        const victim = prng.pick(live())
        const restart = prng.chance(0.6)
        const delay = prng.between(200, 2000)
        log(`chaos ${since()}: kill -9 ${victim.name}${restart ? `, restart in ${Math.round(delay)} ms` : ''}`)
        await kill(victim)
        if (restart) {
          restarts.push(
            sleep(delay).then(() => {
              if (producing) startMember(victim.slot, victim.kind, victim.static)
            }),
          )
        }
        return
      }
      case 'partitions': {
        const to = Math.min(o.maxPartitions, partitions + prng.int(1, 2))
        log(`chaos ${since()}: partitions ${partitions} → ${to}`)
        record({ action: 'add-partitions', detail: { from: partitions, to } })
        await admin.createPartitions(topic, to)
        partitions = to
        return
      }
      case 'broker': {
        const signal = o.brokerSignal === 'random' ? (prng.chance(0.5) ? 'SIGKILL' : 'SIGTERM') : o.brokerSignal
        const downMs = prng.between(300, 2000)
        log(`chaos ${since()}: broker restart (${signal}, down ${Math.round(downMs)} ms)`)
        record({ action: 'broker-stop', detail: { signal } })
        await broker.stop(signal)
        await sleep(downMs)
        await broker.start()
        record({ action: 'broker-start', detail: { port: broker.port } })
        return
      }
    }
  }

  // ---- drain and shutdown -------------------------------------------------------------------

  producing = false
  await producerLoop
  await producer.flush().catch(() => {})
  await waitFor(() => inFlight === 0, 60_000)
  flushProduced()
  const expected = producedOk
  log(`chaos ${since()}: produced ${producedOk} (${producedFailed} failed sends); draining`)
  if (!harnessError) {
    if (live().length === 0) newSlot(true)
    const ackedIds = readAckedIds(dir)
    const drained = await waitFor(() => ackedIds.every((id) => seen.has(id)), o.drainTimeoutMs)
    if (!drained) log(`chaos ${since()}: drain timed out: ${ackedIds.filter((id) => !seen.has(id)).length} of ${expected} never processed`)
  }
  record({ action: 'phase', detail: { phase: 'shutdown' } })
  await Promise.all(running().map((m) => stop(m, 'final', true)))
  poll()
  clearInterval(poller)
  for (const m of members) m.tail.close()
  await producer.close({ timeoutMs: 5000 }).catch(() => {})
  await admin.close().catch(() => {})
  await broker.stop('SIGTERM')
  record({ action: 'phase', detail: { phase: 'end' } })
  log(`chaos ${since()}: stopped; ${processedCount} records processed by ${members.length} member processes; checking`)

  const report = check(dir, { harnessError: harnessError?.message ?? null })
  const text = formatReport(report)
  writeFileSync(join(dir, 'report.json'), `${JSON.stringify(report, null, 2)}\n`)
  writeFileSync(join(dir, 'report.txt'), text)
  return { dir, report, text }
}

function readAckedIds(dir: string): string[] {
  const out: string[] = []
  const tail = new Tail(join(dir, 'produced.jsonl'))
  for (const r of tail.read() as unknown as ProducedRecord[]) if (!r.failed) out.push(r.id)
  tail.close()
  return out
}
