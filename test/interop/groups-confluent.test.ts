/**
 * Consumer groups with confluent-kafka (librdkafka 2.0.2) members against the broker. Every member is its
 * own Python process running the "production consumer pattern" (peers/group_member.py: manual commits
 * after processing, a synchronous commit in on_revoke, enable.auto.commit=false) and reports its
 * assignments, revocations and processed records as JSON lines. The tests check what the members saw
 * against what the coordinator stored.
 */
import assert from 'node:assert/strict'
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process'
import { resolve } from 'node:path'
import { after, before, test } from 'node:test'
import { Kafka, logLevel, type Producer } from 'kafkajs'
import { decodeAssignment, type GroupSnapshot } from '../../src/broker/coordinator/index.ts'
import { startBroker, type TestBroker } from '../helpers/broker.ts'
import { PYTHON } from '../helpers/run.ts'

const MEMBER = resolve(import.meta.dirname, 'peers', 'group_member.py')
let b: TestBroker
let kafka: Kafka

before(async () => {
  b = await startBroker({ 'log.flush.mode': 'os', 'group.min.session.timeout.ms': 1000 })
  kafka = new Kafka({ clientId: 'groups-test', brokers: [b.bootstrap], logLevel: logLevel.NOTHING })
})
after(async () => {
  for (const m of Member.all) m.kill('SIGKILL')
  await b.stop()
})

// --- helpers -------------------------------------------------------------------------------------

interface MemberEvent {
  ev: string
  name: string
  t: number
  partitions?: number[]
  owned?: number[]
  offsets?: Record<string, number>
  p?: number
  o?: number
  v?: string
  error?: string
  where?: string
}

interface MemberOptions {
  topic: string
  group: string
  strategy?: 'range' | 'roundrobin' | 'cooperative-sticky'
  instanceId?: string
  sessionTimeoutMs?: number
  maxRecords?: number
}

/** Polls `cond` every 50 ms until it holds; fails with `describe()` after `timeoutMs`. */
async function waitUntil(cond: () => boolean, what: string, timeoutMs = 30_000, describe: () => string = () => ''): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!cond()) {
    if (Date.now() > deadline) assert.fail(`timed out after ${timeoutMs} ms waiting until ${what}\n${describe()}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

/** One group_member.py process. */
class Member {
  static readonly all = new Set<Member>()
  readonly events: MemberEvent[] = []
  readonly child: ChildProcessWithoutNullStreams
  stderr = ''
  exited: Promise<number | null>
  #buf = ''

  constructor(
    readonly name: string,
    opts: MemberOptions,
  ) {
    const args = [MEMBER, '--bootstrap', b.bootstrap, '--topic', opts.topic, '--group', opts.group, '--name', name]
    args.push('--strategy', opts.strategy ?? 'range', '--session-timeout-ms', String(opts.sessionTimeoutMs ?? 6000))
    if (opts.instanceId) args.push('--instance-id', opts.instanceId)
    if (opts.maxRecords) args.push('--max-records', String(opts.maxRecords))
    if (process.env.GROUPS_DEBUG) args.push('--debug', process.env.GROUPS_DEBUG)
    this.child = spawn(PYTHON, args, { stdio: ['pipe', 'pipe', 'pipe'] })
    Member.all.add(this)
    this.child.stdout.on('data', (d: Buffer) => {
      this.#buf += d.toString()
      let nl = this.#buf.indexOf('\n')
      while (nl >= 0) {
        const line = this.#buf.slice(0, nl)
        this.#buf = this.#buf.slice(nl + 1)
        if (line.trim() !== '') this.events.push(JSON.parse(line) as MemberEvent)
        nl = this.#buf.indexOf('\n')
      }
    })
    this.child.stderr.on('data', (d: Buffer) => {
      this.stderr = (this.stderr + d.toString()).slice(-20_000)
    })
    this.exited = new Promise((res) => this.child.once('exit', (code) => res(code)))
    this.child.stdin.on('error', () => {})
  }

  /** Partitions the member owns now, by its own events. */
  get owned(): number[] {
    for (let i = this.events.length - 1; i >= 0; i--) {
      const e = this.events[i] as MemberEvent
      if (e.owned !== undefined) return e.owned
    }
    return []
  }

  get assignedOnce(): boolean {
    return this.events.some((e) => e.ev === 'assigned')
  }

  get records(): MemberEvent[] {
    return this.events.filter((e) => e.ev === 'record')
  }

  /** Events that change ownership: assigned, revoked, lost. */
  get rebalanceEvents(): MemberEvent[] {
    return this.events.filter((e) => e.ev === 'assigned' || e.ev === 'revoked' || e.ev === 'lost')
  }

  get failures(): MemberEvent[] {
    return this.events.filter((e) => e.ev === 'commit-failed' || e.ev === 'error')
  }

  /** Graceful stop: close() revokes (committing synchronously) and leaves the group. */
  async stop(): Promise<void> {
    this.child.stdin.write('stop\n')
    const code = await Promise.race([this.exited, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 20_000))])
    assert.equal(code, 0, `${this.name} did not exit cleanly (${code}): ${this.stderr.slice(-3000)}`)
    assert.equal(this.events.at(-1)?.ev, 'closed', `${this.name} did not report closing`)
    Member.all.delete(this)
  }

  kill(signal: NodeJS.Signals): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal)
    if (signal === 'SIGKILL') Member.all.delete(this)
  }

  summary(): string {
    return `${this.name}: owned ${JSON.stringify(this.owned)}; ${this.records.length} records; rebalance events ${JSON.stringify(
      this.rebalanceEvents.map((e) => `${e.ev}${JSON.stringify(e.partitions)}`),
    )}; failures ${JSON.stringify(this.failures)}`
  }
}

function group(groupId: string): GroupSnapshot | undefined {
  return b.broker.context.groups.coordinator.group(groupId)
}

/** client id → partitions of `topic` the coordinator assigned it in the current (Stable) generation. */
function storedAssignment(groupId: string, topic: string): Map<string, number[]> {
  const out = new Map<string, number[]>()
  for (const m of group(groupId)?.members ?? []) {
    const a = decodeAssignment(m.assignment)
    const ps = a.assignedPartitions.filter((tp) => tp.topic === topic).flatMap((tp) => tp.partitions)
    out.set(
      m.clientId,
      [...ps].sort((x, y) => x - y),
    )
  }
  return out
}

function describeGroup(groupId: string, members: Member[]): string {
  const g = group(groupId)
  return [
    `group ${groupId}: ${g?.state} generation ${g?.generationId}, members ${JSON.stringify(g?.members.map((m) => m.clientId))}`,
    ...members.map((m) => m.summary()),
    ...b.logs.filter((l) => l.includes(groupId)).slice(-30),
  ].join('\n')
}

/**
 * The group has converged: the coordinator is Stable with exactly these members, each member's own
 * events show it owning exactly what the coordinator assigned it, and together they own every partition
 * once. Checked twice 200 ms apart, so events still in a pipe cannot fake it.
 */
async function converged(groupId: string, topic: string, partitions: number, members: Member[], timeoutMs = 30_000): Promise<void> {
  const holds = () => {
    const g = group(groupId)
    if (g?.state !== 'Stable' || g.members.length !== members.length) return false
    const stored = storedAssignment(groupId, topic)
    const all: number[] = []
    for (const m of members) {
      const mine = stored.get(m.name)
      if (mine === undefined || !m.assignedOnce || JSON.stringify(mine) !== JSON.stringify(m.owned)) return false
      all.push(...m.owned)
    }
    all.sort((x, y) => x - y)
    return JSON.stringify(all) === JSON.stringify(Array.from({ length: partitions }, (_, i) => i))
  }
  const what = `group ${groupId} converges on ${partitions} partitions over ${members.map((m) => m.name).join(', ')}`
  for (;;) {
    await waitUntil(holds, what, timeoutMs, () => describeGroup(groupId, members))
    await new Promise((r) => setTimeout(r, 200))
    if (holds()) return
  }
}

/**
 * From the members' own event timestamps (one machine, one clock): no partition was ever owned by two
 * members at once. At equal timestamps a release counts before an acquisition.
 */
function assertNeverOwnedTwice(members: Member[]): void {
  const steps: { t: number; delta: number; p: number; who: string }[] = []
  for (const m of members) {
    for (const e of m.rebalanceEvents) {
      for (const p of e.partitions ?? []) steps.push({ t: e.t, delta: e.ev === 'assigned' ? 1 : -1, p, who: m.name })
    }
  }
  steps.sort((x, y) => x.t - y.t || x.delta - y.delta)
  const owners = new Map<number, Set<string>>()
  for (const s of steps) {
    let set = owners.get(s.p)
    if (!set) owners.set(s.p, (set = new Set()))
    if (s.delta > 0) {
      assert.equal(set.size, 0, `partition ${s.p} assigned to ${s.who} at ${s.t} while ${[...set].join(', ')} still owned it`)
      set.add(s.who)
    } else set.delete(s.who)
  }
}

function assertNoFailures(members: Member[]): void {
  for (const m of members) assert.deepEqual(m.failures, [], `${m.name} reported failures`)
}

async function createTopic(topic: string, numPartitions: number): Promise<void> {
  const admin = kafka.admin()
  await admin.connect()
  await admin.createTopics({ topics: [{ topic, numPartitions }], waitForLeaders: true })
  await admin.disconnect()
}

/** Produces keyed records with sequence-number values 0, 1, 2, … until stopped. */
class SequenceProducer {
  next = 0
  #producer: Producer
  #running = true
  #loop: Promise<void>

  constructor(
    readonly topic: string,
    perBatch: number,
    intervalMs: number,
  ) {
    this.#producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 })
    this.#loop = (async () => {
      await this.#producer.connect()
      while (this.#running) {
        const messages = []
        for (let i = 0; i < perBatch; i++, this.next++) messages.push({ key: `key-${this.next % 37}`, value: String(this.next) })
        await this.#producer.send({ topic, acks: -1, messages })
        await new Promise((r) => setTimeout(r, intervalMs))
      }
      await this.#producer.disconnect()
    })()
  }

  /** Stops producing; resolves with the number of records produced (all acknowledged). */
  async stop(): Promise<number> {
    this.#running = false
    await this.#loop
    return this.next
  }
}

async function stopAll(members: Member[]): Promise<void> {
  await Promise.all(members.map((m) => m.stop()))
}

// --- tests ---------------------------------------------------------------------------------------

test('3 members on 3 partitions get one partition each; a 4th member stays idle', async () => {
  const topic = 'g-three'
  await createTopic(topic, 3)
  const members = ['a', 'b', 'c'].map((n) => new Member(`three-${n}`, { topic, group: 'g-three' }))
  await converged('g-three', topic, 3, members)
  for (const m of members) assert.equal(m.owned.length, 1, `${m.name} owns one partition`)

  const idle = new Member('three-d', { topic, group: 'g-three' })
  const four = [...members, idle]
  await converged('g-three', topic, 3, four)
  for (const m of members) assert.equal(m.owned.length, 1, `${m.name} owns one partition`)
  assert.deepEqual(idle.owned, [], 'the 4th member is idle')
  assert.ok(idle.assignedOnce, 'the idle member got an (empty) assignment')
  assertNeverOwnedTwice(four)
  assertNoFailures(four)
  await stopAll(four)
})

for (const strategy of ['range', 'cooperative-sticky'] as const) {
  test(`3 members on 6 partitions get two each and the group converges (${strategy})`, async () => {
    const topic = `g-six-${strategy}`
    await createTopic(topic, 6)
    const members: Member[] = []
    // One at a time, so each arrival rebalances a group that already owns partitions.
    for (const n of ['a', 'b', 'c']) {
      members.push(new Member(`six-${strategy}-${n}`, { topic, group: topic, strategy }))
      await converged(topic, topic, 6, members)
    }
    for (const m of members) assert.equal(m.owned.length, 2, `${m.name} owns two partitions`)
    const g = group(topic)
    assert.equal(g?.protocolName, strategy)
    if (strategy === 'cooperative-sticky') {
      // Incremental: nobody gave up everything when a member arrived; the first member only ever lost partitions it handed over.
      const first = members[0] as Member
      const revoked = first.rebalanceEvents.filter((e) => e.ev === 'revoked').flatMap((e) => e.partitions ?? [])
      assert.equal(revoked.length, 4, `the first member handed over exactly 4 partitions: ${first.summary()}`)
    }
    assertNeverOwnedTwice(members)
    assertNoFailures(members)
    await stopAll(members)
  })
}

for (const strategy of ['range', 'cooperative-sticky'] as const) {
  test(`scaling 1 → 3 → 1 members while producing loses and duplicates nothing (${strategy})`, async () => {
    const topic = `g-scale-${strategy}`
    const groupId = topic
    await createTopic(topic, 4)
    const producer = new SequenceProducer(topic, 10, 20)
    const first = new Member(`scale-${strategy}-1`, { topic, group: groupId, strategy })
    await converged(groupId, topic, 4, [first])
    await waitUntil(() => first.records.length > 50, 'the first member processes records')

    const second = new Member(`scale-${strategy}-2`, { topic, group: groupId, strategy })
    await converged(groupId, topic, 4, [first, second])
    const third = new Member(`scale-${strategy}-3`, { topic, group: groupId, strategy })
    await converged(groupId, topic, 4, [first, second, third])
    await waitUntil(
      () => second.records.length > 20 && third.records.length > 20,
      'the new members process records',
      30_000,
      () => describeGroup(groupId, [first, second, third]),
    )

    await third.stop()
    await converged(groupId, topic, 4, [first, second])
    await waitUntil(() => second.records.length > 40, 'the second member keeps processing')
    await second.stop()
    await converged(groupId, topic, 4, [first])

    const produced = await producer.stop()
    const everyone = [first, second, third]
    const seen = () => new Set(everyone.flatMap((m) => m.records.map((r) => Number(r.v)))).size
    await waitUntil(
      () => seen() >= produced,
      `all ${produced} records are processed`,
      30_000,
      () => describeGroup(groupId, everyone),
    )
    await first.stop()

    const counts = new Map<number, string[]>()
    for (const m of everyone) for (const r of m.records) counts.set(Number(r.v), [...(counts.get(Number(r.v)) ?? []), m.name])
    const duplicated = [...counts].filter(([, who]) => who.length > 1)
    assert.deepEqual(duplicated.slice(0, 10), [], `${duplicated.length} records processed more than once`)
    for (let i = 0; i < produced; i++) assert.ok(counts.has(i), `record ${i} was never processed`)
    assert.equal(counts.size, produced)
    assertNeverOwnedTwice(everyone)
    assertNoFailures(everyone)
    // Every member processed something, and each partition's records were processed in offset order.
    for (const m of everyone) assert.ok(m.records.length > 0, `${m.name} processed records`)
    const lastOffset = new Map<number, number>()
    for (const r of everyone.flatMap((m) => m.records).sort((x, y) => x.t - y.t || (x.o as number) - (y.o as number))) {
      const prev = lastOffset.get(r.p as number) ?? -1
      assert.ok((r.o as number) > prev, `partition ${r.p}: offset ${r.o} processed after ${prev}`)
      lastOffset.set(r.p as number, r.o as number)
    }
  })
}
