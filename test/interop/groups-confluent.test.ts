/**
 * Consumer groups with confluent-kafka (librdkafka 2.0.2) members against the broker. Every member is its
 * own Python process running the "production consumer pattern" (peers/group_member.py: manual commits
 * after processing, a synchronous commit in on_revoke, enable.auto.commit=false) and reports its
 * assignments, revocations and processed records as JSON lines. The tests check what the members saw
 * against what the coordinator stored.
 *
 * Debugging: GROUPS_DEBUG=cgrp,protocol turns on librdkafka's debug log; GROUPS_DUMP=<dir> writes each
 * member's events and log, and the broker's log, to that directory; GROUPS_FLUSH=fsync runs the broker with
 * fsync'd group writes (default: os, for speed; groups-durability.test.ts covers fsync).
 */
import assert from 'node:assert/strict'
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { after, before, test } from 'node:test'
import { Kafka, logLevel, type Producer } from 'kafkajs'
import { decodeAssignment, type GroupSnapshot } from '../../src/broker/coordinator/index.ts'
import { startBroker, type TestBroker } from '../helpers/broker.ts'
import { PYTHON } from '../helpers/run.ts'

const MEMBER = resolve(import.meta.dirname, 'peers', 'group_member.py')
let b: TestBroker
let kafka: Kafka

before(async () => {
  b = await startBroker({
    'log.flush.mode': (process.env.GROUPS_FLUSH as 'os' | 'fsync' | undefined) ?? 'os',
    'group.min.session.timeout.ms': 1000,
  })
  kafka = new Kafka({ clientId: 'groups-test', brokers: [b.bootstrap], logLevel: logLevel.NOTHING })
})
after(async () => {
  for (const m of Member.all) m.kill('SIGKILL')
  if (process.env.GROUPS_DUMP) writeFileSync(join(process.env.GROUPS_DUMP, 'broker.log'), b.logs.join('\n'))
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
      this.stderr += d.toString()
      if (!process.env.GROUPS_DUMP) this.stderr = this.stderr.slice(-20_000)
    })
    this.exited = new Promise((res) =>
      this.child.once('exit', (code) => {
        this.dump()
        res(code)
      }),
    )
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

  /** With GROUPS_DUMP=dir, keeps the member's events and librdkafka log for a post-mortem. */
  dump(): void {
    const dir = process.env.GROUPS_DUMP
    if (!dir) return
    mkdirSync(dir, { recursive: true })
    writeFileSync(join(dir, `${this.name}.jsonl`), this.events.map((e) => JSON.stringify(e)).join('\n'))
    writeFileSync(join(dir, `${this.name}.stderr`), this.stderr)
  }

  /** Graceful stop: close() revokes (committing synchronously) and leaves the group. */
  async stop(): Promise<void> {
    this.child.stdin.write('stop\n')
    let timer: NodeJS.Timeout | undefined
    const code = await Promise.race([this.exited, new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), 20_000)))])
    clearTimeout(timer)
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
  #running = true
  #loop: Promise<void>

  constructor(
    readonly topic: string,
    perBatch: number,
    intervalMs: number,
  ) {
    const producer: Producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 })
    this.#loop = (async () => {
      await producer.connect()
      while (this.#running) {
        const messages = []
        for (let i = 0; i < perBatch; i++, this.next++) messages.push({ key: `key-${this.next % 37}`, value: String(this.next) })
        await producer.send({ topic, acks: -1, messages })
        await new Promise((r) => setTimeout(r, intervalMs))
      }
      await producer.disconnect()
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

  // Range orders members by member id (client id + UUID): "three-d-…" sorts last, so it is the one left without a partition.
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

/** Runs 1 → 3 → 1 members while a producer keeps producing; returns the members and how many records were produced. */
async function scaleOneThreeOne(strategy: 'range' | 'cooperative-sticky'): Promise<{ everyone: Member[]; produced: number }> {
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
  const everyone = [first, second, third]
  await waitUntil(
    () => second.records.length > 20 && third.records.length > 20,
    'the new members process records',
    30_000,
    () => describeGroup(groupId, everyone),
  )

  await third.stop()
  await converged(groupId, topic, 4, [first, second])
  const before = second.records.length
  await waitUntil(() => second.records.length > before + 20, 'the second member keeps processing')
  await second.stop()
  await converged(groupId, topic, 4, [first])

  const produced = await producer.stop()
  const seen = () => new Set(everyone.flatMap((m) => m.records.map((r) => Number(r.v)))).size
  await waitUntil(
    () => seen() >= produced,
    `all ${produced} records are processed`,
    30_000,
    () => describeGroup(groupId, everyone),
  )
  await first.stop()
  for (const m of everyone) assert.ok(m.records.length > 0, `${m.name} processed records`)
  return { everyone, produced }
}

/** value → every processing of it, in the order the members' clocks saw them. */
function processings(everyone: Member[]): Map<number, { who: Member; p: number; o: number; t: number }[]> {
  const out = new Map<number, { who: Member; p: number; o: number; t: number }[]>()
  for (const m of everyone) {
    for (const r of m.records) {
      const v = Number(r.v)
      let list = out.get(v)
      if (!list) out.set(v, (list = []))
      list.push({ who: m, p: r.p as number, o: r.o as number, t: r.t })
    }
  }
  for (const list of out.values()) list.sort((x, y) => x.t - y.t)
  return out
}

function assertNothingLost(seen: Map<number, unknown>, produced: number): void {
  for (let i = 0; i < produced; i++) assert.ok(seen.has(i), `record ${i} was never processed`)
  assert.equal(seen.size, produced, 'nothing but the produced records was processed')
}

test('scaling 1 → 3 → 1 members while producing loses and duplicates nothing (range, eager)', async () => {
  const { everyone, produced } = await scaleOneThreeOne('range')
  const seen = processings(everyone)
  assertNothingLost(seen, produced)
  const duplicated = [...seen].filter(([, list]) => list.length > 1)
  assert.deepEqual(
    duplicated.slice(0, 5).map(([v, list]) => [v, list.map((x) => `${x.who.name}@${x.p}:${x.o}`)]),
    [],
    `${duplicated.length} records processed more than once`,
  )
  assertNeverOwnedTwice(everyone)
  assertNoFailures(everyone)
  // Each partition's records were processed in offset order, across owners.
  const last = new Map<number, number>()
  for (const x of [...seen.values()].flat().sort((a, b) => a.t - b.t || a.o - b.o)) {
    assert.ok(x.o > (last.get(x.p) ?? -1), `partition ${x.p}: offset ${x.o} processed after ${last.get(x.p)}`)
    last.set(x.p, x.o)
  }
})

/**
 * The same with cooperative-sticky. librdkafka before 2.10 has a client bug here (confluentinc/librdkafka#4059,
 * fixed by #4908): its per-record asynchronous commits keep flowing while the member's second, cooperative
 * JoinGroup is parked; commits that reach the coordinator after that join completed carry the previous
 * generation, get ILLEGAL_GENERATION (as from Kafka: `ClassicGroup.validateOffsetCommit`), and librdkafka
 * 2.0.2 then declares its whole assignment *lost*, which skips on_revoke and its commit, so the next owner
 * re-processes what was processed after the last successful commit. So this test asserts that nothing is
 * lost, that no partition is ever owned twice, and that every duplicate is explained by exactly that path.
 */
test('scaling 1 → 3 → 1 members while producing loses nothing (cooperative-sticky); duplicates only from librdkafka#4059', async () => {
  const { everyone, produced } = await scaleOneThreeOne('cooperative-sticky')
  const seen = processings(everyone)
  assertNothingLost(seen, produced)
  assertNeverOwnedTwice(everyone)
  for (const m of everyone) {
    // Every failure is a commit the coordinator refused for a stale generation or a rebalance in progress.
    for (const f of m.failures) {
      assert.equal(f.ev, 'commit-failed', `${m.name}: ${JSON.stringify(f)}`)
      assert.match(f.error ?? '', /ILLEGAL_GENERATION|REBALANCE_IN_PROGRESS/, `${m.name}: ${JSON.stringify(f)}`)
    }
    // Every lost assignment follows an ILLEGAL_GENERATION commit failure (no session expired, no member was fenced).
    let previousLoss = -1
    m.events.forEach((e, i) => {
      if (e.ev !== 'lost') return
      const cause = m.events.slice(previousLoss + 1, i).some((x) => x.ev === 'commit-failed' && /ILLEGAL_GENERATION/.test(x.error ?? ''))
      assert.ok(cause, `${m.name} lost its assignment without a failed commit before it: ${m.summary()}`)
      previousLoss = i
    })
  }
  // Every duplicate: its first processing was on a partition its member then lost (not revoked, so uncommitted).
  let duplicates = 0
  for (const [v, list] of seen) {
    if (list.length === 1) continue
    duplicates++
    const first = list[0] as { who: Member; p: number; o: number; t: number }
    const after = first.who.rebalanceEvents.find((e) => e.t >= first.t && e.ev !== 'assigned' && e.partitions?.includes(first.p))
    assert.equal(
      after?.ev,
      'lost',
      `record ${v} (partition ${first.p} offset ${first.o}) processed by ${list.map((x) => x.who.name).join(', ')}; after the first processing its partition was ${after?.ev ?? 'kept'}`,
    )
  }
  if (duplicates > 0) console.log(`# cooperative-sticky: ${duplicates} records re-processed after librdkafka#4059 lost assignments`)
})

for (const strategy of ['range', 'cooperative-sticky'] as const) {
  test(`static members restarted within session.timeout.ms get their partitions back; the other members see no rebalance (${strategy})`, async () => {
    const topic = `g-static-${strategy}`
    await createTopic(topic, 6)
    const start = (id: string) =>
      new Member(`static-${strategy}-${id}`, { topic, group: topic, strategy, instanceId: id, sessionTimeoutMs: 6000 })
    const members = new Map(['s1', 's2', 's3'].map((id) => [id, start(id)]))
    await converged(topic, topic, 6, [...members.values()])
    const generation = group(topic)?.generationId
    const rebalances = b.broker.context.groups.coordinator.history(topic).length

    // Restart a follower, then the leader (JoinGroup v5 < v9: the new leader id is answered as a follower, KIP-814).
    const leaderClient = group(topic)?.members.find((m) => m.memberId === group(topic)?.leaderId)?.clientId
    const leaderId = [...members.keys()].find((id) => `static-${strategy}-${id}` === leaderClient) as string
    const followerId = [...members.keys()].find((id) => id !== leaderId) as string
    for (const id of [followerId, leaderId]) {
      const old = members.get(id) as Member
      const others = [...members.values()].filter((m) => m !== old)
      const seenBefore = others.map((m) => m.rebalanceEvents.length)
      const ownedBefore = old.owned
      const memberIdBefore = group(topic)?.members.find((m) => m.groupInstanceId === id)?.memberId
      await old.stop() // librdkafka sends no LeaveGroup for a static member
      const restarted = start(id)
      members.set(id, restarted)
      await converged(topic, topic, 6, [...members.values()])
      assert.deepEqual(restarted.owned, ownedBefore, `${id} got its partitions back`)
      const g = group(topic)
      assert.equal(g?.generationId, generation, 'no new generation')
      assert.equal(b.broker.context.groups.coordinator.history(topic).length, rebalances, 'no rebalance')
      assert.notEqual(g?.members.find((m) => m.groupInstanceId === id)?.memberId, memberIdBefore, 'the restart got a new member id')
      // Several heartbeat intervals (500 ms) pass: a rebalance would have reached the other members by now.
      await new Promise((r) => setTimeout(r, 1500))
      assert.deepEqual(
        others.map((m) => m.rebalanceEvents.length),
        seenBefore,
        `the other members saw no revoke/assign: ${others.map((m) => m.summary()).join('\n')}`,
      )
      assert.equal(group(topic)?.state, 'Stable')
    }
    // The replaced leader (told it is a follower) is still the group's leader: the next rebalance works.
    members.set('s4', start('s4'))
    await converged(topic, topic, 6, [...members.values()])
    assertNoFailures([...members.values()])
    await stopAll([...members.values()])
  })
}

test('a member (the leader) that stops heartbeating (SIGSTOP) loses its partitions after session.timeout.ms; the others get them', async () => {
  const topic = 'g-sigstop'
  const sessionTimeoutMs = 2000
  await createTopic(topic, 3)
  const members = ['a', 'b', 'c'].map((n) => new Member(`sigstop-${n}`, { topic, group: topic, sessionTimeoutMs }))
  await converged(topic, topic, 3, members)
  // Freeze the leader: the coordinator must also elect a new one.
  const leaderClient = group(topic)?.members.find((m) => m.memberId === group(topic)?.leaderId)?.clientId
  const frozen = members.find((m) => m.name === leaderClient) as Member
  const [a, b2] = members.filter((m) => m !== frozen) as [Member, Member]
  const frozenPartitions = frozen.owned
  const frozenId = group(topic)?.members.find((m) => m.clientId === frozen.name)?.memberId as string
  const rebalances = b.broker.context.groups.coordinator.history(topic).length

  frozen.kill('SIGSTOP')
  const stoppedAt = Date.now()
  await converged(topic, topic, 3, [a, b2], 15_000)
  const elapsed = Date.now() - stoppedAt
  // Its last heartbeat was at most one heartbeat interval (500 ms) before the SIGSTOP.
  assert.ok(elapsed >= sessionTimeoutMs - 500, `partitions moved after ${elapsed} ms, before the session could expire`)
  const history = b.broker.context.groups.coordinator.history(topic)
  assert.equal(history.length, rebalances + 1, 'one rebalance')
  assert.equal(history.at(-1)?.trigger, 'session-timeout')
  assert.ok(history.at(-1)?.membersBefore.includes(frozenId) && !history.at(-1)?.membersAfter.includes(frozenId))
  for (const p of frozenPartitions) assert.ok(a.owned.includes(p) || b2.owned.includes(p), `partition ${p} moved to a live member`)
  const newLeader = group(topic)?.members.find((m) => m.memberId === group(topic)?.leaderId)?.clientId
  assert.ok(newLeader === a.name || newLeader === b2.name, `a live member leads now (${newLeader})`)
  frozen.kill('SIGKILL')
  await frozen.exited
  assertNoFailures([a, b2])
  await stopAll([a, b2])
})

test('partitions added to a subscribed topic (CreatePartitions) get assigned to the members', async () => {
  const topic = 'g-grow'
  await createTopic(topic, 2)
  const members = ['a', 'b'].map((n) => new Member(`grow-${n}`, { topic, group: topic }))
  await converged(topic, topic, 2, members)

  const admin = kafka.admin()
  await admin.connect()
  await admin.createPartitions({ topicPartitions: [{ topic, count: 4 }] })
  await admin.disconnect()
  // librdkafka notices on its next metadata refresh (topic.metadata.refresh.interval.ms = 1000) and rejoins.
  await converged(topic, topic, 4, members, 20_000)

  // Records on the new partitions reach their owners.
  const producer = kafka.producer()
  await producer.connect()
  await producer.send({ topic, acks: -1, messages: [2, 3].map((partition) => ({ partition, value: `new-${partition}` })) })
  await producer.disconnect()
  for (const p of [2, 3]) {
    const owner = members.find((m) => m.owned.includes(p)) as Member
    await waitUntil(
      () => owner.records.some((r) => r.p === p && r.v === `new-${p}`),
      `${owner.name} processes the record on partition ${p}`,
    )
  }
  assertNeverOwnedTwice(members)
  assertNoFailures(members)
  await stopAll(members)
})

test('a rebalance does not wait for a frozen (SIGSTOP) member beyond its session timeout', async () => {
  const topic = 'g-frozen-join'
  const sessionTimeoutMs = 2000
  await createTopic(topic, 3)
  const members = ['a', 'b', 'c'].map((n) => new Member(`frozen-join-${n}`, { topic, group: topic, sessionTimeoutMs }))
  await converged(topic, topic, 3, members)
  const [a, b2, frozen] = members as [Member, Member, Member]
  frozen.kill('SIGSTOP')
  const stoppedAt = Date.now()
  // A new member arrives: the live members rejoin at once; the frozen one cannot, and its session ends the wait
  // (the rebalance timeout, max.poll.interval.ms = 30 s, would be far longer).
  const d = new Member('frozen-join-d', { topic, group: topic, sessionTimeoutMs })
  await converged(topic, topic, 3, [a, b2, d], 15_000)
  const elapsed = Date.now() - stoppedAt
  assert.ok(elapsed < sessionTimeoutMs + 5000, `the rebalance took ${elapsed} ms`)
  for (const m of [a, b2, d]) assert.equal(m.owned.length, 1, `${m.name} owns one partition`)
  frozen.kill('SIGKILL')
  await frozen.exited
  assertNeverOwnedTwice([a, b2, d])
  assertNoFailures([a, b2, d])
  await stopAll([a, b2, d])
})

test('a static member that restarts while the group is rebalancing completes the join (no wait for its session to expire)', async () => {
  const topic = 'g-static-rebalancing'
  await createTopic(topic, 6)
  const sessionTimeoutMs = 10_000
  const start = (id: string) => new Member(`static-rb-${id}`, { topic, group: topic, instanceId: id, sessionTimeoutMs })
  const s1 = start('s1')
  let s2 = start('s2')
  await converged(topic, topic, 6, [s1, s2])
  await s2.stop() // no LeaveGroup: s2 stays a member
  const s3 = start('s3') // a new member: the group rebalances and waits for s1 and s2 to rejoin
  await waitUntil(() => group(topic)?.state === 'PreparingRebalance', 'the group rebalances')
  const rebalancingAt = Date.now()
  s2 = start('s2')
  await converged(topic, topic, 6, [s1, s2, s3], 20_000)
  const elapsed = Date.now() - rebalancingAt
  assert.ok(elapsed < sessionTimeoutMs - 2000, `the join completed after ${elapsed} ms: it waited for the old s2's session`)
  for (const m of [s1, s2, s3]) assert.equal(m.owned.length, 2, `${m.name} owns two partitions`)
  assertNoFailures([s1, s2, s3])
  await stopAll([s1, s2, s3])
})
