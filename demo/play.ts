/**
 * One play of the demo's script against a fresh embedded broker, with one consumer configuration:
 *
 *   1. one consumer                      consumer-1 owns every partition
 *   2. scale to three                    consumer-2 and consumer-3 join: a rebalance
 *   3. consumer-3 stops gracefully       SIGTERM: it finishes its message and closes
 *   4. kill -9 of the busiest consumer   in the middle of sending a notification
 *   5. consumer-3 restarts               same instance id (HOSTNAME)
 *   6. drain and stop                    the producer stops; the rest is processed; SIGTERM to all
 *
 * Tasks are produced all along. Every step is narrated from what the members report (demo/protocol.ts)
 * and from the group's lag (Admin.groupLag). The counts come from the notifications table the members
 * write to and from the producer's acknowledgements: nothing is assumed.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs'
import { join, resolve } from 'node:path'
import { createInterface } from 'node:readline'
import { setTimeout as sleep } from 'node:timers/promises'
import Database from 'better-sqlite3'
import { GROUP_ID } from '../examples/notification-service/consumer.ts'
import { TASK_COMPLETED, TASK_CREATED } from '../examples/notification-service/events.ts'
import { createTaskProducer, publishTaskCompleted, publishTaskCreated } from '../examples/notification-service/producer.ts'
import { Admin, type GroupLag } from '../src/admin/index.ts'
import { Broker } from '../src/broker/broker.ts'
import type { Producer } from '../src/client/index.ts'
import { type Cause, causeLabel, explain, type MemberLog, type Occurrence, type Step } from './attribution.ts'
import { type MemberEvent, NOTIFICATIONS_TABLE_SQL, type NotificationRow, notificationId, type Strategy, tpName } from './protocol.ts'

const ROOT = resolve(import.meta.dirname, '..')
const MEMBER = resolve(import.meta.dirname, 'member.ts')

export interface PlayConfig {
  strategy: Strategy
  /** Where the broker's data, the notifications database and the members' stderr go. */
  dir: string
  /** How long one notification takes to send (the same in every play). */
  notifyMs: number
  sessionTimeoutMs: number
  heartbeatIntervalMs: number
  /** How long each step runs once the group has settled. */
  runMs: number
  /** How long after consumer-3's stop the busiest consumer is killed. */
  killAfterMs: number
  /** A new task every this many ms; every other task is completed 2.5 s after it was created. */
  taskEveryMs: number
  out: (line: string) => void
}

export interface PlayResult {
  strategy: Strategy
  seconds: number
  /** Task events acknowledged by the broker. */
  produced: number
  /** Handler runs that finished, repeats included. */
  processed: number
  /** Notifications sent beyond the first for the same task event. */
  duplicates: number
  duplicateCauses: Cause[]
  /** Task events never notified. */
  lost: number
  lostIds: string[]
  /** Messages handed to a handler again (with the idempotent helper most are not notified again). */
  redeliveries: number
  redeliveryCauses: Cause[]
  /** Problems the script ran into (a wait that timed out, a member that failed). */
  warnings: string[]
}

/** Users whose keys spread evenly over task-created's three partitions (murmur2: 2, 1, 0, 2, 1, 0). */
const USERS = ['user-1', 'user-4', 'user-8', 'user-2', 'user-5', 'user-12']
const TITLES = ['Buy groceries', 'Call dentist', 'Review PR', 'Book flights', 'Water plants', 'Pay rent', 'Fix the bike', 'Plan sprint']
const PARTITIONS = [tpName(TASK_COMPLETED, 0), tpName(TASK_CREATED, 0), tpName(TASK_CREATED, 1), tpName(TASK_CREATED, 2)]

/** Every child process the demo started, so that none outlives it. */
const children = new Set<ChildProcess>()
process.once('exit', () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL')
})

/** One member process: started ahead of time, joining the group when told to. */
class Member {
  readonly events: MemberEvent[] = []
  readonly log: MemberLog
  readonly child: ChildProcess
  readonly ready: Promise<void>
  readonly exited: Promise<void>
  started = false
  /** Told about each event once the play has begun. */
  onEvent: (m: Member, e: MemberEvent) => void = () => {}
  readonly #err: WriteStream

  constructor(
    readonly slot: string,
    readonly name: string,
    cfg: PlayConfig,
    dbPath: string,
  ) {
    this.log = { name, slot, events: this.events, killedAt: null, exitedAt: null }
    this.#err = createWriteStream(join(cfg.dir, `${name}.stderr`))
    this.child = spawn(process.execPath, ['--import', 'tsx', MEMBER], {
      cwd: ROOT,
      env: {
        ...process.env,
        DEMO_STRATEGY: cfg.strategy,
        DEMO_MEMBER: name,
        HOSTNAME: slot,
        DEMO_DB: dbPath,
        DEMO_NOTIFY_MS: String(cfg.notifyMs),
        DEMO_SESSION_MS: String(cfg.sessionTimeoutMs),
        DEMO_HEARTBEAT_MS: String(cfg.heartbeatIntervalMs),
      },
      stdio: ['pipe', 'pipe', 'pipe'],
    })
    children.add(this.child)
    this.child.stdin?.on('error', () => {}) // EPIPE once the process is gone: nothing left to tell it
    this.child.stderr?.pipe(this.#err)
    let readyResolve: () => void = () => {}
    this.ready = new Promise((r) => (readyResolve = r))
    createInterface({ input: this.child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      let e: MemberEvent
      try {
        e = JSON.parse(line) as MemberEvent
      } catch {
        return // a line cut by kill -9
      }
      this.events.push(e)
      if (e.ev === 'ready') readyResolve()
      this.onEvent(this, e)
    })
    this.exited = new Promise((r) =>
      this.child.once('exit', () => {
        this.log.exitedAt = Date.now()
        children.delete(this.child)
        r()
      }),
    )
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null
  }

  start(bootstrap: string): void {
    this.started = true
    this.child.stdin?.write(`${JSON.stringify({ bootstrap })}\n`)
  }

  /** Lets an unused member exit. */
  dismiss(): void {
    this.child.stdin?.end()
  }

  terminate(): void {
    this.child.kill('SIGTERM')
  }

  kill(): void {
    this.log.killedAt = Date.now()
    this.child.kill('SIGKILL')
  }

  /** The partitions it owns, by its own account. */
  owned(): string[] {
    const owned = new Set<string>()
    for (const e of this.events) {
      if (e.ev === 'assigned') for (const tp of e.owns) owned.add(tp)
      if (e.ev === 'revoked' || e.ev === 'lost') for (const tp of e.partitions) owned.delete(tp)
    }
    return [...owned].sort()
  }
}

/** Publishes tasks while running: task-created for each, task-completed for every other one 2.5 s later. */
class TaskFeed {
  readonly produced: string[] = []
  readonly #sends = new Set<Promise<void>>()
  readonly #completions = new Map<NodeJS.Timeout, () => void>()
  #n = 0
  #timer: NodeJS.Timeout | undefined
  failures = 0

  constructor(
    readonly producer: Producer,
    everyMs: number,
  ) {
    this.#timer = setInterval(() => this.#next(), everyMs)
    this.#next()
  }

  #track(topic: string, id: string, send: Promise<unknown>): void {
    const p = send.then(
      () => void this.produced.push(notificationId(topic, id)),
      () => void this.failures++,
    )
    this.#sends.add(p)
    void p.finally(() => this.#sends.delete(p))
  }

  #next(): void {
    const n = ++this.#n
    const task = {
      id: `t-${String(n).padStart(3, '0')}`,
      userId: USERS[n % USERS.length] as string,
      title: TITLES[n % TITLES.length] as string,
    }
    this.#track(TASK_CREATED, task.id, publishTaskCreated(this.producer, { ...task, createdAt: new Date().toISOString() }))
    if (n % 2 === 0) {
      const complete = (): void => {
        this.#track(TASK_COMPLETED, task.id, publishTaskCompleted(this.producer, { ...task, completedAt: new Date().toISOString() }))
      }
      const timer = setTimeout(() => {
        this.#completions.delete(timer)
        complete()
      }, 2500)
      this.#completions.set(timer, complete)
    }
  }

  /** Stops creating tasks; completions still due are sent now. Resolves once everything is acknowledged. */
  async stop(): Promise<void> {
    clearInterval(this.#timer)
    for (const [timer, complete] of this.#completions) {
      clearTimeout(timer)
      complete()
    }
    this.#completions.clear()
    while (this.#sends.size > 0) await Promise.all(this.#sends)
  }
}

const pad = (s: string, n: number): string => s.padEnd(n)

/** The next event `ev` from `m` (after those seen so far), or null after `ms`. */
async function waitForEvent<K extends MemberEvent['ev']>(m: Member, ev: K, ms: number): Promise<Extract<MemberEvent, { ev: K }> | null> {
  const from = m.events.length
  const deadline = Date.now() + ms
  for (;;) {
    const e = m.events.slice(from).find((x) => x.ev === ev)
    if (e) return e as Extract<MemberEvent, { ev: K }>
    if (Date.now() > deadline) return null
    await sleep(5)
  }
}
const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`

/** Waits for `p`, at most `ms` (without keeping the process alive afterwards). */
async function within(p: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined
  await Promise.race([p, new Promise<void>((r) => (timer = setTimeout(r, ms)))])
  clearTimeout(timer)
}

/** A play's member processes, started ahead of the play (loading Node and TypeScript takes a moment). */
export interface Cast {
  cfg: PlayConfig
  dbPath: string
  /** consumer-1, consumer-2, consumer-3, and consumer-3#2 (the restart). */
  members: [Member, Member, Member, Member]
}

export function cast(cfg: PlayConfig): Cast {
  mkdirSync(cfg.dir, { recursive: true })
  const dbPath = join(cfg.dir, 'notifications.db')
  const setup = new Database(dbPath)
  setup.pragma('journal_mode = WAL')
  setup.exec(NOTIFICATIONS_TABLE_SQL)
  setup.close()
  const member = (slot: string, n: number): Member => new Member(slot, n === 1 ? slot : `${slot}#${n}`, cfg, dbPath)
  return { cfg, dbPath, members: [member('consumer-1', 1), member('consumer-2', 1), member('consumer-3', 1), member('consumer-3', 2)] }
}

/** Lets a cast that will not play go. */
export async function dismiss(c: Cast): Promise<void> {
  for (const m of c.members) m.dismiss()
  await within(Promise.all(c.members.map((m) => m.exited)), 5000)
  for (const m of c.members) if (m.alive) m.kill()
}

/** Plays the script with `c`; `onDrain` is called when the last step begins (a quiet moment to cast the next play). */
export async function play(players: Cast, onDrain: () => void = () => {}): Promise<PlayResult> {
  const { cfg, dbPath } = players
  const out = cfg.out
  const warnings: string[] = []

  let t0 = Date.now()
  const stamp = (t = Date.now()): string => `+${((t - t0) / 1000).toFixed(1)}s`.padStart(7)
  const say = (text: string, t?: number): void => out(`${stamp(t)}  ${text}`)
  const warn = (text: string): void => {
    warnings.push(text)
    say(`(!) ${text}`)
  }
  const steps: Step[] = []
  const members = new Map<string, MemberLog>()
  const firstNotified = new Map<string, Occurrence>()
  const slowShown = new Set<string>()
  const shown = (m: Member): string => pad(m.name, 13)

  const onEvent = (m: Member, e: MemberEvent): void => {
    switch (e.ev) {
      case 'assigned':
        if (e.partitions.length === 0) break // cooperative rebalancing: nothing new for this member
        say(`${shown(m)}assigned ${e.partitions.join(', ')}  (owns ${e.owns.join(', ') || 'nothing'})`, e.t)
        break
      case 'revoked': {
        const c = e.commit
        const commit = c
          ? `committed ${Object.entries(c.offsets)
              .map(([tp, o]) => `${tp}@${o}`)
              .join(', ')} first (${c.where === 'onRevoked' ? 'in onRevoked' : c.where})`
          : cfg.strategy === 'auto-commit'
            ? 'no commit: nothing processed since the last auto-commit'
            : 'no commit (see the line above)'
        say(`${shown(m)}revoked ${e.partitions.join(', ')}: ${commit}`, e.t)
        break
      }
      case 'lost':
        say(`${shown(m)}LOST ${e.partitions.join(', ')}: nothing could be committed`, e.t)
        break
      case 'commit':
        if (e.where === 'auto-commit') {
          const offsets = Object.entries(e.offsets).map(([tp, o]) => `${tp}@${o}`)
          say(`${shown(m)}auto-commit (every 5 s): committed ${offsets.join(', ')}`, e.t)
        }
        break
      case 'commit-failed':
        if (e.where === 'after processing' && cfg.strategy !== 'auto-commit') break // the service logs it itself
        say(`${shown(m)}commit failed (${e.where}): ${e.error}`, e.t)
        break
      case 'notified': {
        const first = firstNotified.get(e.id)
        if (!first) firstNotified.set(e.id, { member: m.name, tp: e.tp, offset: e.offset, t: e.t })
        else {
          const cause = explain(first, members, steps)
          say(
            `${shown(m)}DUPLICATE ${e.id} (${e.tp}@${e.offset}), first sent by ${first.member} at ${stamp(first.t).trim()} ← ${causeLabel(cause)}`,
            e.t,
          )
        }
        break
      }
      case 'skipped': {
        const first = firstNotified.get(e.id)
        const why = first ? ` ← ${causeLabel(explain(first, members, steps))}` : ''
        say(`${shown(m)}redelivered ${e.id} (${e.tp}@${e.offset}): already notified, the idempotent store skips it${why}`, e.t)
        break
      }
      case 'log':
        if (e.line.startsWith('Shutdown.')) say(`${shown(m)}${e.line}`, e.t)
        else if (e.line.startsWith('slow processing') && !slowShown.has(m.slot)) {
          slowShown.add(m.slot)
          say(`${shown(m)}${e.line}  (it warns for every message over 100 ms; not shown again)`, e.t)
        } else if (/^commit failed.*rebalancing/.test(e.line)) {
          say(
            `${shown(m)}commit after processing refused: the group is rebalancing (the next commit, or the one in onRevoked, covers it)`,
            e.t,
          )
        } else if (/failed/.test(e.line)) say(`${shown(m)}${e.line}`, e.t)
        break
      case 'closed':
        if (cfg.strategy === 'auto-commit') say(`${shown(m)}closed after processing ${plural(e.processed, 'message')}`, e.t)
        break
      case 'error':
        warn(`${m.name} failed: ${e.error.split('\n')[0]}`)
        break
    }
  }

  const [c1, c2, c3, c3again] = players.members
  const all = players.members
  for (const m of all) {
    m.onEvent = onEvent
    members.set(m.name, m.log)
  }

  const brokerLog = createWriteStream(join(cfg.dir, 'broker.log'))
  const broker = await Broker.start({
    config: {
      port: 0,
      'log.dirs': join(cfg.dir, 'broker'),
      'log.flush.mode': 'os',
      'group.initial.rebalance.delay.ms': 0,
      'group.min.session.timeout.ms': 1000,
      'auto.create.topics.enable': false,
    },
    log: (line) => brokerLog.write(`${line}\n`),
  })
  const admin = new Admin({ bootstrapServers: broker.bootstrap })
  const producer = createTaskProducer(broker.bootstrap)
  let feed: TaskFeed | null = null
  try {
    for (const [name, r] of await admin.createTopics([
      { name: TASK_CREATED, partitions: 3 },
      { name: TASK_COMPLETED, partitions: 1 },
    ])) {
      if (r.error) throw new Error(`creating ${name}: ${r.error.message}`)
    }
    await within(Promise.all(all.map((m) => m.ready)), 60_000)
    for (const m of all) if (!m.events.some((e) => e.ev === 'ready')) throw new Error(`${m.name} did not start: see ${cfg.dir}`)

    t0 = Date.now()
    const slotOf = (clientId: string): string => clientId.replace(`${GROUP_ID}-`, '')
    const liveSlots = (): string[] => [...new Set(all.filter((m) => m.started && m.alive).map((m) => m.slot))].sort()

    /** Admin.groupLag, asked again while the coordinator is busy with a rebalance. */
    const groupLag = async (): Promise<GroupLag> => {
      for (let attempt = 1; ; attempt++) {
        try {
          return await admin.groupLag(GROUP_ID)
        } catch (err) {
          if (attempt === 5) throw err
          await sleep(200)
        }
      }
    }

    /** The group's lag, like kafka-consumer-groups.sh --describe. */
    const lagTable = async (): Promise<void> => {
      const lag = await groupLag().catch((err: unknown) => void warn(`no lag table: ${String(err)}`))
      if (!lag) return
      const owners = new Map<string, string>()
      for (const mem of lag.members) {
        const slot = slotOf(mem.clientId)
        const note = liveSlots().includes(slot) ? '' : ' (process gone)'
        for (const tp of mem.partitions) owners.set(tpName(tp.topic, tp.partition), slot + note)
      }
      const rows = [['TOPIC', 'PARTITION', 'CURRENT-OFFSET', 'LOG-END-OFFSET', 'LAG', 'CONSUMER-ID']]
      for (const p of lag.partitions) {
        const owner = owners.get(tpName(p.topic, p.partition)) ?? '-'
        rows.push([p.topic, String(p.partition), String(p.committed ?? '-'), String(p.logEnd), String(p.lag ?? '-'), owner])
      }
      const widths = (rows[0] as string[]).map((_, i) => Math.max(...rows.map((r) => (r[i] as string).length)))
      say(`lag of group ${GROUP_ID} (${lag.state}, ${lag.members.length} member${lag.members.length === 1 ? '' : 's'}):`)
      for (const r of rows) out(`           ${r.map((c, i) => c.padEnd(widths[i] as number)).join('  ')}`.trimEnd())
    }

    /** Polls the group until `holds` (each member's partitions by slot), or warns after `timeoutMs`. */
    /**
     * Polls the group until it is Stable, every partition is owned and `holds` (each member's
     * partitions by slot), for `quietMs` in a row; warns after `timeoutMs`.
     */
    const settle = async (
      what: string,
      holds: (owned: Map<string, string[]>) => boolean,
      timeoutMs: number,
      quietMs = 0,
    ): Promise<boolean> => {
      const deadline = Date.now() + timeoutMs
      let since: number | null = null
      while (Date.now() < deadline) {
        let ok = false
        try {
          const lag = await admin.groupLag(GROUP_ID)
          const owned = new Map<string, string[]>()
          for (const mem of lag.members)
            owned.set(
              slotOf(mem.clientId),
              mem.partitions.map((tp) => tpName(tp.topic, tp.partition)),
            )
          const all = [...owned.values()].flat().sort()
          ok = lag.state === 'Stable' && all.join() === [...PARTITIONS].sort().join() && holds(owned)
        } catch {
          // the coordinator is busy with the rebalance: ask again
        }
        if (!ok) since = null
        else if (since === null) since = Date.now()
        if (since !== null && Date.now() - since >= quietMs) return true
        await sleep(200)
      }
      warn(`gave up waiting ${timeoutMs / 1000} s for ${what}`)
      return false
    }
    const step = (n: number, label: string, detail: string): void => {
      const s = { n, label, t: Date.now() }
      steps.push(s)
      out('')
      say(`STEP ${n}: ${label}${detail ? ` — ${detail}` : ''}`)
    }

    feed = new TaskFeed(producer, cfg.taskEveryMs)
    say(`producing a task every ${cfg.taskEveryMs / 1000} s (keys: 6 users), every other one completed 2.5 s later`)

    // 1 ---------------------------------------------------------------------------------------
    step(1, 'one consumer', 'consumer-1 starts')
    c1.start(broker.bootstrap)
    await settle('consumer-1 to own every partition', (owned) => owned.get('consumer-1')?.length === 4, 30_000)
    await sleep(cfg.runMs)
    await lagTable()

    // 2 ---------------------------------------------------------------------------------------
    step(2, 'scale to three', 'consumer-2 and consumer-3 start: a rebalance')
    c2.start(broker.bootstrap)
    c3.start(broker.bootstrap)
    await settle(
      'the three consumers to share the partitions',
      (owned) => ['consumer-1', 'consumer-2', 'consumer-3'].every((s) => (owned.get(s)?.length ?? 0) > 0),
      30_000,
    )
    await sleep(cfg.runMs)
    await lagTable()

    // 3 ---------------------------------------------------------------------------------------
    // Stop consumer-3 in a group that has settled, so that what follows is this step's doing (a static
    // member that stops in the middle of a rebalance is waited for until its session times out).
    await settle('the group to be stable', () => true, 30_000, 1500)
    step(3, 'consumer-3 stops gracefully', 'SIGTERM')
    c3.terminate()
    await within(c3.exited, 20_000)
    if (c3.alive) warn('consumer-3 did not stop within 20 s')
    await settle('the group to settle', (owned) => liveSlots().every((s) => owned.has(s)), 30_000)
    const kept = (await groupLag().catch(() => null))?.members.some((mem) => slotOf(mem.clientId) === 'consumer-3')
    if (kept) {
      say(
        `consumer-3 is still a member: a static member sends no LeaveGroup, so its partitions wait for it ` +
          `(for ${cfg.sessionTimeoutMs / 1000} s, its session timeout)`,
      )
    }
    await lagTable()
    await sleep(cfg.killAfterMs)

    // 4 ---------------------------------------------------------------------------------------
    // The busiest consumer (the most partitions, then the most lag) is the one with work in hand.
    const victim = await (async (): Promise<Member> => {
      const lag = await groupLag().catch(() => null)
      if (!lag) return c1
      const load = (m: Member): [number, bigint] => {
        const mine = lag.members
          .filter((x) => slotOf(x.clientId) === m.slot)
          .flatMap((x) => x.partitions.map((tp) => tpName(tp.topic, tp.partition)))
        const behind = lag.partitions.filter((p) => mine.includes(tpName(p.topic, p.partition))).reduce((sum, p) => sum + (p.lag ?? 0n), 0n)
        return [mine.length, behind]
      }
      const candidates = [c1, c2].filter((m) => m.alive)
      candidates.sort((a, b) => {
        const [pa, la] = load(a)
        const [pb, lb] = load(b)
        return pb - pa || (lb > la ? 1 : lb < la ? -1 : 0)
      })
      return candidates[0] as Member
    })()
    step(4, `kill -9 of ${victim.slot}`, `the busiest consumer, in the middle of sending a notification`)
    await waitForEvent(victim, 'notified', 10_000)
    victim.kill()
    const last = [...victim.events].reverse().find((e) => e.ev === 'deliver' || e.ev === 'notified' || e.ev === 'done')
    if (last && last.ev !== 'done') {
      say(
        `killed ${victim.slot} (kill -9) while it was sending ${last.id} (${last.tp}@${last.offset}): ` +
          `${last.ev === 'notified' ? 'the notification is out, the handler has not returned' : 'not sent yet'}`,
      )
    } else say(`killed ${victim.slot} (kill -9) while it was idle`)
    // What it had sent past the group's committed offsets: the next owner starts at those offsets.
    const offsets = await admin.listGroupOffsets(GROUP_ID).catch((err: unknown) => {
      warn(`could not read the committed offsets: ${String(err)}`)
      return []
    })
    const committed = new Map(offsets.map((c) => [tpName(c.topic, c.partition), Number(c.offset)]))
    const past = victim.owned().map((tp) => {
      const from = committed.get(tp) ?? -1
      const sent = new Set(victim.events.flatMap((e) => (e.ev === 'notified' && e.tp === tp && e.offset >= from ? [e.offset] : [])))
      return { tp, from, sent: sent.size }
    })
    say(
      `${victim.slot} had sent ${plural(
        past.reduce((n, p) => n + p.sent, 0),
        'notification',
      )} past the group's committed offsets: ` +
        past.map((p) => `${p.tp} ${p.sent} (committed ${p.from < 0 ? 'none' : `@${p.from}`})`).join(', '),
    )
    await victim.exited

    // 5 ---------------------------------------------------------------------------------------
    step(
      5,
      'consumer-3 restarts with the same instance id',
      cfg.strategy === 'auto-commit' ? 'a new member: no static membership here' : '',
    )
    c3again.start(broker.bootstrap)
    const killedAt = victim.log.killedAt ?? Date.now()
    const before = c3.events.filter((e) => e.ev === 'assigned').at(-1)
    const back = await waitForEvent(c3again, 'assigned', 20_000)
    if (back && before && cfg.strategy !== 'auto-commit') {
      const same = back.owns.join() === before.owns.join()
      say(
        `consumer-3 is back as ${GROUP_ID}-consumer-3: ${same ? 'it got the same partitions back' : `it owned ${before.owns.join(', ')} before`}`,
      )
    }
    await settle(`${victim.slot} to be removed from the group`, (owned) => !owned.has(victim.slot) && owned.has('consumer-3'), 40_000)
    say(
      `${victim.slot} is out of the group, ${((Date.now() - killedAt) / 1000).toFixed(1)} s after the kill (session timeout ${cfg.sessionTimeoutMs / 1000} s)`,
    )
    await lagTable()

    // 6 ---------------------------------------------------------------------------------------
    step(6, 'drain and stop', 'the producer stops; once every task event is notified, SIGTERM to all')
    onDrain()
    await feed.stop()
    const drainDeadline = Date.now() + 40_000
    const notifiedIds = (): Set<string> => {
      const db = new Database(dbPath, { readonly: true })
      try {
        return new Set((db.prepare('SELECT DISTINCT id FROM notifications').all() as { id: string }[]).map((r) => r.id))
      } finally {
        db.close()
      }
    }
    // Every partition's owner processes it in order from its committed offset, so once the newest
    // task event is notified, so are the repeats before it.
    for (;;) {
      const done = notifiedIds()
      if (feed.produced.every((id) => done.has(id))) break
      if (Date.now() > drainDeadline) {
        warn('gave up waiting 40 s for every task event to be notified')
        break
      }
      await sleep(250)
    }
    say(`all ${feed.produced.length} task events notified`)
    for (const m of all) if (m.started && m.alive) m.terminate()
    await within(Promise.all(all.filter((m) => m.started).map((m) => m.exited)), 20_000)
    for (const m of all) {
      if (m.started && m.alive) {
        warn(`${m.name} did not stop within 20 s of SIGTERM: killed`)
        m.kill()
      }
    }
    await lagTable()

    // The count ------------------------------------------------------------------------------
    const rows = (() => {
      const db = new Database(dbPath, { readonly: true })
      try {
        return db.prepare('SELECT seq, id, member, tp, "offset", at, text FROM notifications ORDER BY seq').all() as NotificationRow[]
      } finally {
        db.close()
      }
    })()
    const byId = new Map<string, NotificationRow[]>()
    for (const r of rows) {
      let list = byId.get(r.id)
      if (!list) byId.set(r.id, (list = []))
      list.push(r)
    }
    const duplicateCauses: Cause[] = []
    for (const list of byId.values()) {
      for (let k = 1; k < list.length; k++) {
        const prev = list[k - 1] as NotificationRow
        duplicateCauses.push(explain({ member: prev.member, tp: prev.tp, offset: prev.offset, t: prev.at }, members, steps))
      }
    }
    const deliveries = new Map<string, Occurrence[]>()
    let processed = 0
    for (const m of all) {
      for (const e of m.events) {
        if (e.ev === 'done') processed++
        if (e.ev !== 'deliver') continue
        const key = `${e.tp}@${e.offset}`
        let list = deliveries.get(key)
        if (!list) deliveries.set(key, (list = []))
        list.push({ member: m.name, tp: e.tp, offset: e.offset, t: e.t })
      }
    }
    const redeliveryCauses: Cause[] = []
    for (const list of deliveries.values()) {
      list.sort((a, b) => a.t - b.t)
      for (let k = 1; k < list.length; k++) redeliveryCauses.push(explain(list[k - 1] as Occurrence, members, steps))
    }
    const lostIds = feed.produced.filter((id) => !byId.has(id))
    if (feed.failures > 0) warn(`${feed.failures} sends failed (not counted as produced)`)
    return {
      strategy: cfg.strategy,
      seconds: (Date.now() - t0) / 1000,
      produced: feed.produced.length,
      processed,
      duplicates: duplicateCauses.length,
      duplicateCauses,
      lost: lostIds.length,
      lostIds,
      redeliveries: redeliveryCauses.length,
      redeliveryCauses,
      warnings,
    }
  } finally {
    await feed?.stop().catch(() => {})
    for (const m of all) {
      if (!m.started) m.dismiss()
      else if (m.alive) m.kill()
    }
    await within(Promise.all(all.map((m) => m.exited)), 5000)
    await producer.close().catch(() => {})
    await admin.close().catch(() => {})
    await broker.close()
    brokerLog.end()
  }
}
