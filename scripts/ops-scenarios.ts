/**
 * Reproduces the lag causes of the chapter "Consumer Deep Dive: Groups and Rebalancing" so that
 * `cohort groups`, `cohort lag` and the broker's /metrics can be watched diagnosing them
 * (docs/operations.md is the session this script was written for).
 *
 *   node --import tsx scripts/ops-scenarios.ts <scenario> [options]
 *
 * Scenarios (each with its own topic and group, so several can share one broker):
 *
 *   healthy              6 partitions, 60 records/s, 3 consumers at 5 ms a record: lag stays near 0
 *   slow-processing      6 partitions, 60 records/s, 6 consumers at 150 ms a record (6.7/s each, each
 *                        partition receives 10/s): every partition has its consumer and lag still grows
 *   too-few-consumers    6 partitions, 120 records/s, 1 consumer at 15 ms a record (about 66/s)
 *   hot-partition        6 partitions, 100 records/s of which 60 % carry one customer's key, 6 consumers
 *                        at 20 ms a record (50/s each): one partition's owner cannot keep up
 *   frequent-rebalances  6 partitions, 30 records/s, 3 dynamic consumers with max.poll.interval.ms 5 s:
 *                        c2 restarts every 20 s (down 3 s), c3 stalls 7 s on one record every 25 s
 *
 * `--fixed` applies the fix docs/operations.md recommends for the scenario (bulk processing of each
 * batch; as many consumers as partitions; keys spread by task id; static membership, a longer
 * session timeout, cooperative-sticky and a max.poll.interval.ms above the slowest record).
 *
 * Options:
 *   --bootstrap-server H:P   use this broker (else one is started in this process)
 *   --port P                 the embedded broker's port (9092)
 *   --metrics-port P         the embedded broker's Prometheus port (9404; 0 picks one)
 *   --data-dir D             the embedded broker's data (default: a temporary directory, removed at exit)
 *   --duration S             stop after S seconds (default: run until Ctrl-C)
 *   --topic T, --group G     names (default tasks-<short>, notify-<short>; short = slow, few, hot, rebalance, healthy)
 *   --partitions N, --rate N (records/s), --consumers N, --handler-ms N
 *   --members-from N         number the consumers from cN (a second process scaling out the same group
 *                            runs with --rate 0 --consumers K --members-from 2)
 *   --fixed                  the scenario's fix
 *   --report S               seconds between progress lines (10; 0 = none)
 *   --verbose                the client's own info lines (joins, assignments) too
 *
 * Ctrl-C (or SIGTERM, or --duration) stops the producer, closes the consumers (each commits what it
 * processed and leaves) and the embedded broker. Only 127.0.0.1 is used unless told otherwise.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { parseArgs } from 'node:util'
import { Admin } from '../src/admin/index.ts'
import { Broker } from '../src/broker/broker.ts'
import { DEFAULT_CONFIG } from '../src/broker/config.ts'
import {
  Consumer,
  type ConsumerOptions,
  type Logger,
  type LogLevel,
  type Message,
  Producer,
  type RebalanceListener,
  type TopicPartition,
} from '../src/client/index.ts'

// ---- scenarios ----------------------------------------------------------------------------------

/** What one consumer does besides handling records. */
interface MemberPlan {
  name: string
  /** Close, stay away `downMs`, start again, every `everyMs` (a pod restart). */
  restart?: { everyMs: number; downMs: number }
  /** Once every `everyMs`, one record takes `stallMs` (a slow downstream call). */
  stall?: { everyMs: number; stallMs: number }
}

interface Plan {
  short: string
  partitions: number
  /** Records per second, all partitions together. */
  rate: number
  /** Share of records carrying the hot customer's key (0: keys spread over many customers). */
  hotShare: number
  /** Key by task id instead of customer id (the hot-partition fix). */
  keyByTask: boolean
  handlerMs: number
  /** Process a whole batch (up to maxPollRecords) in one bulk call of handlerMs + 1 ms a record. */
  bulk: boolean
  members: MemberPlan[]
  consumer: Pick<
    ConsumerOptions,
    'sessionTimeoutMs' | 'heartbeatIntervalMs' | 'maxPollIntervalMs' | 'partitionAssignmentStrategy' | 'maxPollRecords'
  >
  /** group.instance.id for every member: `<group>-<name>`. */
  static: boolean
  describe: string
}

const plainMembers = (n: number): MemberPlan[] => Array.from({ length: n }, (_, i) => ({ name: `c${i + 1}` }))

const SCENARIOS = ['healthy', 'slow-processing', 'too-few-consumers', 'hot-partition', 'frequent-rebalances'] as const
type ScenarioName = (typeof SCENARIOS)[number]

function basePlan(short: string): Plan {
  return {
    short,
    partitions: 6,
    rate: 60,
    hotShare: 0,
    keyByTask: false,
    handlerMs: 5,
    bulk: false,
    members: plainMembers(3),
    consumer: { sessionTimeoutMs: 10_000, heartbeatIntervalMs: 1_000, maxPollIntervalMs: 60_000 },
    static: false,
    describe: '',
  }
}

/** The scenario as it misbehaves, or with `fixed` as docs/operations.md fixes it. */
function planFor(name: ScenarioName, fixed: boolean): Plan {
  switch (name) {
    case 'healthy':
      return { ...basePlan('healthy'), describe: '3 consumers at 5 ms a record share 60 records/s over 6 partitions' }
    case 'slow-processing': {
      const p = { ...basePlan('slow'), members: plainMembers(6), handlerMs: 150 }
      if (!fixed) return { ...p, describe: 'each of the 6 partitions receives 10 records/s; its consumer handles one in 150 ms (6.7/s)' }
      return {
        ...p,
        bulk: true,
        consumer: { ...p.consumer, maxPollRecords: 100 },
        describe: 'fixed: each consumer sends a whole batch (up to 100 records) in one bulk call of 150 ms + 1 ms a record',
      }
    }
    case 'too-few-consumers': {
      const p = { ...basePlan('few'), rate: 120, handlerMs: 15 }
      if (!fixed)
        return {
          ...p,
          members: plainMembers(1),
          describe: '1 consumer (about 66 records/s at 15 ms each) for 6 partitions and 120 records/s',
        }
      return {
        ...p,
        members: plainMembers(6),
        describe: 'fixed: 6 consumers, one per partition (KEDA’s recommendation, capped at the partition count)',
      }
    }
    case 'hot-partition': {
      const p = { ...basePlan('hot'), rate: 100, hotShare: 0.6, handlerMs: 20, members: plainMembers(6) }
      if (!fixed) return { ...p, describe: '60 % of 100 records/s are keyed customer-42; 6 consumers handle 50 records/s each' }
      return { ...p, keyByTask: true, describe: 'fixed: records keyed by task id, so customer-42’s tasks spread over every partition' }
    }
    case 'frequent-rebalances': {
      const p = {
        ...basePlan('rebalance'),
        rate: 30,
        members: [
          { name: 'c1' },
          { name: 'c2', restart: { everyMs: 20_000, downMs: 3_000 } },
          { name: 'c3', stall: { everyMs: 25_000, stallMs: 7_000 } },
        ],
      }
      if (!fixed) {
        return {
          ...p,
          consumer: { sessionTimeoutMs: 6_000, heartbeatIntervalMs: 1_000, maxPollIntervalMs: 5_000 },
          describe: 'dynamic members, max.poll.interval.ms 5 s: c2 restarts every 20 s (down 3 s), c3 stalls 7 s on a record every 25 s',
        }
      }
      return {
        ...p,
        static: true,
        consumer: {
          sessionTimeoutMs: 30_000,
          heartbeatIntervalMs: 3_000,
          maxPollIntervalMs: 30_000,
          partitionAssignmentStrategy: ['cooperative-sticky'],
        },
        describe:
          'fixed: static members (group.instance.id), session.timeout.ms 30 s, max.poll.interval.ms 30 s, cooperative-sticky; same restarts and stalls',
      }
    }
  }
}

// ---- arguments ----------------------------------------------------------------------------------

const USAGE = `usage: node --import tsx scripts/ops-scenarios.ts <${SCENARIOS.join('|')}> [--bootstrap-server H:P] [--port P]
       [--metrics-port P] [--data-dir D] [--duration S] [--topic T] [--group G] [--partitions N] [--rate N]
       [--consumers N] [--handler-ms N] [--members-from N] [--fixed] [--report S] [--verbose]`

const { values: flags, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    'bootstrap-server': { type: 'string' },
    port: { type: 'string', default: '9092' },
    'metrics-port': { type: 'string', default: '9404' },
    'data-dir': { type: 'string' },
    duration: { type: 'string' },
    topic: { type: 'string' },
    group: { type: 'string' },
    partitions: { type: 'string' },
    rate: { type: 'string' },
    consumers: { type: 'string' },
    'handler-ms': { type: 'string' },
    'members-from': { type: 'string' },
    fixed: { type: 'boolean', default: false },
    report: { type: 'string', default: '10' },
    verbose: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
})

function fail(message: string): never {
  process.stderr.write(`${message}\n${USAGE}\n`)
  process.exit(1)
}

function num(name: string, value: string | undefined, min: number): number | undefined {
  if (value === undefined) return undefined
  const n = Number(value)
  if (!Number.isFinite(n) || n < min) fail(`--${name} must be a number ≥ ${min}, got '${value}'`)
  return n
}

if (flags.help) {
  process.stdout.write(`${USAGE}\n`)
  process.exit(0)
}
const scenario = positionals[0] as ScenarioName | undefined
if (positionals.length !== 1 || scenario === undefined || !SCENARIOS.includes(scenario)) fail('one scenario, please')

const plan = planFor(scenario, flags.fixed)
const partitionsFlag = num('partitions', flags.partitions, 1)
if (partitionsFlag !== undefined) plan.partitions = partitionsFlag
const rateFlag = num('rate', flags.rate, 0)
if (rateFlag !== undefined) plan.rate = rateFlag
const handlerFlag = num('handler-ms', flags['handler-ms'], 0)
if (handlerFlag !== undefined) plan.handlerMs = handlerFlag
const consumersFlag = num('consumers', flags.consumers, 0)
if (consumersFlag !== undefined) {
  // Keep the scenario's special members (the restarter, the staller) and add or drop plain ones.
  const special = plan.members.filter((m) => m.restart || m.stall).slice(0, consumersFlag)
  const taken = new Set(special.map((m) => m.name))
  const plain: MemberPlan[] = []
  for (let n = 1; plain.length + special.length < consumersFlag; n++) if (!taken.has(`c${n}`)) plain.push({ name: `c${n}` })
  plan.members = [...plain, ...special].sort((a, b) => a.name.localeCompare(b.name, 'en', { numeric: true }))
}
const membersFrom = num('members-from', flags['members-from'], 1)
if (membersFrom !== undefined) {
  // A second process joining the same group (--rate 0) names its members after the first one's.
  plan.members = plan.members.map((m) => ({ ...m, name: `c${Number(m.name.slice(1)) + membersFrom - 1}` }))
}
const durationS = num('duration', flags.duration, 1)
const reportS = num('report', flags.report, 0) ?? 10
const topic = flags.topic ?? `tasks-${plan.short}`
const groupId = flags.group ?? `notify-${plan.short}`

// ---- output -------------------------------------------------------------------------------------

const started = Date.now()
const stamp = (): string => `[${String(Math.round((Date.now() - started) / 1000)).padStart(4)} s]`
const say = (line: string): void => {
  process.stdout.write(`${stamp()} ${line}\n`)
}
const tps = (list: readonly TopicPartition[]): string => {
  if (list.length === 0) return 'nothing'
  const byTopic = new Map<string, number[]>()
  for (const tp of list) byTopic.set(tp.topic, [...(byTopic.get(tp.topic) ?? []), tp.partition])
  return [...byTopic].map(([t, ps]) => `${t}:${ps.sort((a, b) => a - b).join(',')}`).join(' ')
}

// ---- the broker ---------------------------------------------------------------------------------

let broker: Broker | null = null
let tempDir: string | null = null
let bootstrap = flags['bootstrap-server']
if (bootstrap === undefined) {
  const dataDir = flags['data-dir'] ?? (tempDir = mkdtempSync(join(tmpdir(), 'cohort-ops-')))
  const port = num('port', flags.port, 0) as number
  const metricsPort = num('metrics-port', flags['metrics-port'], 0) as number
  broker = await Broker.start({
    config: { ...DEFAULT_CONFIG, port, 'log.dirs': dataDir, 'metrics.port': metricsPort },
    log: flags.verbose ? (msg) => say(`broker: ${msg}`) : () => {},
  })
  bootstrap = broker.bootstrap
  const m = broker.metricsAddress
  say(`embedded broker on ${bootstrap} (data in ${dataDir})${m ? `, metrics on http://${m.host}:${m.port}/metrics` : ''}`)
}

// ---- the topic ----------------------------------------------------------------------------------

{
  const admin = new Admin({ bootstrapServers: bootstrap, clientId: 'ops-scenarios' })
  try {
    const created = (await admin.createTopics([{ name: topic, partitions: plan.partitions, replicationFactor: 1 }])).get(topic)
    if (created?.error && created.error.errorName !== 'TOPIC_ALREADY_EXISTS') throw created.error
    if (created?.error) {
      const existing = (await admin.describeTopics([topic])).get(topic)
      say(`topic ${topic} exists already (${existing?.partitions.length ?? '?'} partitions): reusing it, with what it holds`)
    } else say(`created topic ${topic} with ${plan.partitions} partitions`)
  } finally {
    await admin.close()
  }
}

const overrides = (['partitions', 'rate', 'consumers', 'handler-ms', 'members-from'] as const)
  .filter((k) => flags[k] !== undefined)
  .map((k) => `--${k} ${flags[k]}`)
say(`${scenario}${flags.fixed ? ' (fixed)' : ''}: ${plan.describe}${overrides.length > 0 ? ` — changed by ${overrides.join(' ')}` : ''}`)
say(
  `group ${groupId}, ${plan.members.length} consumer(s), ${plan.rate} records/s; try: npx cohort lag --bootstrap-server ${bootstrap} --group ${groupId}`,
)

// ---- the producer -------------------------------------------------------------------------------

let stopping = false
let produced = 0
let produceErrors = 0
const producer = new Producer({ bootstrapServers: bootstrap, clientId: `ops-producer-${plan.short}` })
const HOT_CUSTOMER = 'customer-42'

/** One task event; `seq` numbers it. */
function taskEvent(seq: number): { key: string; value: string } {
  const customer = Math.random() < plan.hotShare ? HOT_CUSTOMER : `customer-${1000 + Math.floor(Math.random() * 900)}`
  const id = `task-${seq}`
  return {
    key: plan.keyByTask ? id : customer,
    value: JSON.stringify({ id, customer, title: `Task ${seq}`, createdAt: new Date().toISOString() }),
  }
}

/** Sends at `plan.rate` records/s on a 50 ms tick, catching up on ticks the event loop delayed. */
async function produceLoop(): Promise<void> {
  const t0 = Date.now()
  let inFlight = 0
  while (!stopping) {
    const due = Math.floor(((Date.now() - t0) / 1000) * plan.rate)
    // Never let more than 10 s of records pile up unacknowledged (a broker that went away).
    while (produced < due && inFlight < Math.max(1000, plan.rate * 10)) {
      const { key, value } = taskEvent(produced)
      produced++
      inFlight++
      producer.send({ topic, key, value }).then(
        () => inFlight--,
        (err: unknown) => {
          inFlight--
          if (produceErrors++ === 0) say(`produce failed: ${err instanceof Error ? err.message : String(err)}`)
        },
      )
    }
    await sleep(50)
  }
}

// ---- the consumers ------------------------------------------------------------------------------

interface Running {
  plan: MemberPlan
  consumer: Consumer | null
  processed: number
  loop: Promise<void> | null
  stallAt: number
  restarts: number
}

const members: Running[] = plan.members.map((m) => ({
  plan: m,
  consumer: null,
  processed: 0,
  loop: null,
  stallAt: Date.now(),
  restarts: 0,
}))

function memberLogger(name: string): Logger {
  const min: LogLevel = flags.verbose ? 'info' : 'warn'
  const rank: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 }
  return (level, message) => {
    if (rank[level] >= rank[min]) say(`${name}: ${level} ${message}`)
  }
}

function listener(r: Running, consumer: Consumer): RebalanceListener {
  return {
    onAssigned: (list) => {
      if (list.length > 0) say(`${r.plan.name}: assigned ${tps(list)}; owns ${tps(consumer.assignment())}`)
    },
    onRevoked: async (list) => {
      // Commit what was processed before the partitions go: the next owner starts exactly there.
      await consumer.commit().catch((err: unknown) => say(`${r.plan.name}: commit before revoking failed: ${String(err)}`))
      if (list.length > 0) say(`${r.plan.name}: revoked ${tps(list)} (committed first)`)
    },
    onLost: (list) => say(`${r.plan.name}: lost ${tps(list)} (no chance to commit)`),
  }
}

/** The slow downstream call: handlerMs a record, or a bulk call for a batch; c3's occasional stall. */
async function handle(r: Running, records: number): Promise<void> {
  const stall = r.plan.stall
  if (stall && Date.now() - r.stallAt >= stall.everyMs) {
    r.stallAt = Date.now() + stall.stallMs
    say(`${r.plan.name}: this record takes ${stall.stallMs / 1000} s (a slow downstream call)`)
    await sleep(stall.stallMs)
  }
  const ms = plan.bulk ? plan.handlerMs + records : plan.handlerMs * records
  if (ms > 0) await sleep(ms)
}

function startMember(r: Running): void {
  const consumer = new Consumer({
    bootstrapServers: bootstrap as string,
    clientId: `${groupId}-${r.plan.name}`,
    groupId,
    groupInstanceId: plan.static ? `${groupId}-${r.plan.name}` : null,
    enableAutoCommit: false,
    autoOffsetReset: 'earliest',
    logger: memberLogger(r.plan.name),
    ...plan.consumer,
  })
  r.consumer = consumer
  consumer.subscribe([topic], listener(r, consumer))
  let lastCommit = Date.now()
  const commitNowAndThen = async (): Promise<void> => {
    if (Date.now() - lastCommit < 500) return
    lastCommit = Date.now()
    await consumer
      .commit()
      .catch((err: unknown) => say(`${r.plan.name}: commit failed: ${err instanceof Error ? err.message : String(err)}`))
  }
  r.loop = (async () => {
    if (plan.bulk) {
      for await (const batch of consumer.batches()) {
        await handle(r, batch.messages.length)
        r.processed += batch.messages.length
        await commitNowAndThen()
      }
    } else {
      for await (const _message of consumer as AsyncIterable<Message>) {
        await handle(r, 1)
        r.processed++
        await commitNowAndThen()
      }
    }
  })().catch((err: unknown) => say(`${r.plan.name}: stopped: ${err instanceof Error ? err.message : String(err)}`))
}

async function stopMember(r: Running): Promise<void> {
  const c = r.consumer
  if (!c) return
  r.consumer = null
  await c.close().catch((err: unknown) => say(`${r.plan.name}: close failed: ${String(err)}`))
  await r.loop
}

/** c2's life: up `everyMs`, closed (a pod going away), `downMs` later back with the same name. */
async function restartLoop(r: Running, restart: { everyMs: number; downMs: number }): Promise<void> {
  while (!stopping) {
    await sleepUnlessStopping(restart.everyMs)
    if (stopping) return
    say(`${r.plan.name}: restarting (closing now, back in ${restart.downMs / 1000} s)`)
    await stopMember(r)
    await sleepUnlessStopping(restart.downMs)
    if (stopping) return
    r.restarts++
    startMember(r)
  }
}

/** Aborted on shutdown, so that no pending sleep keeps the process alive. */
const stopSignal = new AbortController()
const stopped = new Promise<void>((resolve) => stopSignal.signal.addEventListener('abort', () => resolve(), { once: true }))
async function sleepUnlessStopping(ms: number): Promise<void> {
  await sleep(ms, undefined, { signal: stopSignal.signal }).catch(() => {})
}

// ---- progress -----------------------------------------------------------------------------------

let lastReport = { at: Date.now(), produced: 0, processed: 0 }
function report(): void {
  const now = Date.now()
  const processed = members.reduce((s, m) => s + m.processed, 0)
  const dt = (now - lastReport.at) / 1000
  const rate = (n: number) => (dt > 0 ? (n / dt).toFixed(1) : '-')
  const who = members
    .map((m) => `${m.plan.name} ${m.consumer ? tps(m.consumer.assignment()).replace(`${topic}:`, 'p') : '(down)'}`)
    .join('  ')
  say(
    `produced ${produced} (${rate(produced - lastReport.produced)}/s), processed ${processed} (${rate(processed - lastReport.processed)}/s); ${who}`,
  )
  lastReport = { at: now, produced, processed }
}

// ---- run ----------------------------------------------------------------------------------------

let reporter: NodeJS.Timeout | null = null
let shuttingDown: Promise<void> | null = null

function shutdown(why: string): Promise<void> {
  shuttingDown ??= stop(why)
  return shuttingDown
}

async function stop(why: string): Promise<void> {
  stopping = true
  stopSignal.abort()
  say(`${why}: stopping the producer, closing the consumers (each commits and leaves)`)
  if (reporter) clearInterval(reporter)
  await producer.close().catch(() => {})
  await Promise.all(members.map((m) => stopMember(m)))
  report()
  if (broker) await broker.close()
  if (tempDir) rmSync(tempDir, { recursive: true, force: true })
  say('done')
}

let signals = 0
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (++signals > 1) process.exit(130)
    void shutdown(signal)
  })
}

for (const m of members) startMember(m)
const lifecycles = members.flatMap((m) => (m.plan.restart ? [restartLoop(m, m.plan.restart)] : []))
if (reportS > 0) reporter = setInterval(report, reportS * 1000)
const producing = produceLoop()
if (durationS !== undefined) {
  await sleepUnlessStopping(durationS * 1000)
  await shutdown(`${durationS} s elapsed`)
}
await stopped
await Promise.all([producing, ...lifecycles, shuttingDown])
