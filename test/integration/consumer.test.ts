/**
 * The group Consumer against Cohort's broker, in process: members splitting a topic, scaling up and
 * down while records are produced (commit in onRevoked: nothing lost, nothing twice), cooperative-sticky
 * keeping unmoved partitions, a static member's restart, and groups mixing Cohort with confluent-kafka
 * (librdkafka) members running test/interop/peers/group_member.py.
 *
 * Every member reports ownership changes as timestamped events (the Python peer prints the same
 * shape), so "never owned twice" is checked across both kinds of member. Session timeouts are short
 * and every wait has a deadline.
 */
import assert from 'node:assert/strict'
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { resolve } from 'node:path'
import { after, before, test } from 'node:test'
import { Admin } from '../../src/admin/index.ts'
import type { GroupSnapshot } from '../../src/broker/coordinator/index.ts'
import { Consumer, type ConsumerOptions } from '../../src/client/consumer/consumer.ts'
import { Producer } from '../../src/client/index.ts'
import { decodeAssignment } from '../../src/protocol/consumer-protocol.ts'
import { startBroker, type TestBroker } from '../helpers/broker.ts'
import { PYTHON } from '../helpers/run.ts'

const PEER = resolve(import.meta.dirname, '../interop/peers/group_member.py')

let b: TestBroker
let admin: Admin
let producer: Producer

before(async () => {
  b = await startBroker({ 'log.flush.mode': 'os', 'group.min.session.timeout.ms': 1000 })
  admin = new Admin({ bootstrapServers: b.bootstrap })
  producer = new Producer({ bootstrapServers: b.bootstrap, lingerMs: 2 })
})

after(async () => {
  for (const p of PyMember.all) p.kill()
  for (const m of CohortMember.all) await m.consumer.close({ timeoutMs: 1000 }).catch(() => {})
  await producer?.close()
  await admin?.close()
  await b?.stop()
})

// ---- helpers ------------------------------------------------------------------------------------

interface OwnershipEvent {
  ev: 'assigned' | 'revoked' | 'lost'
  name: string
  /** Seconds since the epoch, as the Python peer reports them. */
  t: number
  partitions: number[]
}

interface GroupMemberLike {
  readonly name: string
  readonly owned: number[]
  readonly assignedOnce: boolean
  readonly ownershipEvents: OwnershipEvent[]
  summary(): string
}

async function waitUntil(cond: () => boolean, what: string, timeoutMs = 20_000, describe: () => string = () => ''): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!cond()) {
    if (Date.now() > deadline) assert.fail(`timed out after ${timeoutMs} ms waiting until ${what}\n${describe()}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

async function createTopic(name: string, partitions: number): Promise<void> {
  const res = await admin.createTopics([{ name, partitions }])
  const r = res.get(name)
  if (r?.error) throw r.error
}

function group(groupId: string): GroupSnapshot | undefined {
  return b.broker.context.groups.coordinator.group(groupId)
}

/** client id → partitions of `topic` the coordinator assigned it in the current generation. */
function storedAssignment(groupId: string, topic: string): Map<string, number[]> {
  const out = new Map<string, number[]>()
  for (const m of group(groupId)?.members ?? []) {
    const a = m.assignment.length > 0 ? decodeAssignment(m.assignment) : { assignedPartitions: [] }
    const ps = a.assignedPartitions.filter((tp) => tp.topic === topic).flatMap((tp) => tp.partitions)
    out.set(
      m.clientId,
      [...ps].sort((x, y) => x - y),
    )
  }
  return out
}

function describeGroup(groupId: string, members: GroupMemberLike[]): string {
  const g = group(groupId)
  return [
    `group ${groupId}: ${g?.state} generation ${g?.generationId}, members ${JSON.stringify(g?.members.map((m) => m.clientId))}`,
    ...members.map((m) => m.summary()),
    ...b.logs.filter((l) => l.includes(groupId)).slice(-20),
  ].join('\n')
}

/**
 * Stable with exactly these members, each owning (by its own events) what the coordinator assigned
 * it, together owning every partition once; checked twice 200 ms apart so nothing in flight fakes it.
 */
async function converged(
  groupId: string,
  topic: string,
  partitions: number,
  members: GroupMemberLike[],
  timeoutMs = 30_000,
): Promise<void> {
  const holds = (): boolean => {
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

/** From the members' own timestamps: no partition was ever owned by two members at once. */
function assertNeverOwnedTwice(members: GroupMemberLike[]): void {
  const steps: { t: number; delta: number; p: number; who: string }[] = []
  for (const m of members) {
    for (const e of m.ownershipEvents)
      for (const p of e.partitions) steps.push({ t: e.t, delta: e.ev === 'assigned' ? 1 : -1, p, who: m.name })
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

interface CohortMemberOptions {
  topic: string
  group: string
  strategy?: string[]
  instanceId?: string
  sessionTimeoutMs?: number
  /** Each record's value is reported here (value → count), to find losses and duplicates. */
  seen?: Map<string, number>
}

/**
 * A Cohort consumer running the production pattern: manual commits (auto-commit off), a
 * synchronous commit of the processed positions in onRevoked, an occasional commitAsync.
 */
class CohortMember implements GroupMemberLike {
  static readonly all = new Set<CohortMember>()
  readonly consumer: Consumer
  readonly ownershipEvents: OwnershipEvent[] = []
  readonly logs: string[] = []
  readonly commitFailures: string[] = []
  records = 0
  #owned = new Set<number>()
  #loop: Promise<void>

  constructor(
    readonly name: string,
    opts: CohortMemberOptions,
    extra: Partial<ConsumerOptions> = {},
  ) {
    const options: ConsumerOptions = {
      bootstrapServers: b.bootstrap,
      clientId: name,
      groupId: opts.group,
      groupInstanceId: opts.instanceId ?? null,
      sessionTimeoutMs: opts.sessionTimeoutMs ?? 4000,
      heartbeatIntervalMs: 300,
      autoOffsetReset: 'earliest',
      enableAutoCommit: false,
      fetchMaxWaitMs: 100,
      metadataMaxAgeMs: 2000,
      retryBackoffMs: 50,
      logger: (level, message) => {
        this.logs.push(`${new Date().toISOString()} ${level} ${message}`)
        if (process.env.CONSUMER_TEST_LOG) process.stderr.write(`${name} ${level} ${message}\n`)
      },
      ...extra,
    }
    if (opts.strategy) options.partitionAssignmentStrategy = opts.strategy
    const c = new Consumer(options)
    this.consumer = c
    CohortMember.all.add(this)
    const emit = (ev: OwnershipEvent['ev'], partitions: number[]): void => {
      this.ownershipEvents.push({ ev, name, t: Date.now() / 1000, partitions })
    }
    c.subscribe([opts.topic], {
      onAssigned: (tps) => {
        for (const tp of tps) this.#owned.add(tp.partition)
        emit(
          'assigned',
          tps.map((tp) => tp.partition),
        )
      },
      onRevoked: async (tps) => {
        try {
          await c.commit()
        } catch (err) {
          this.commitFailures.push(`onRevoked: ${(err as Error).message}`)
        }
        for (const tp of tps) this.#owned.delete(tp.partition)
        emit(
          'revoked',
          tps.map((tp) => tp.partition),
        )
      },
      onLost: (tps) => {
        for (const tp of tps) this.#owned.delete(tp.partition)
        emit(
          'lost',
          tps.map((tp) => tp.partition),
        )
      },
    })
    this.#loop = (async () => {
      for await (const m of c) {
        const v = m.value?.toString() ?? ''
        if (opts.seen) opts.seen.set(v, (opts.seen.get(v) ?? 0) + 1)
        if (++this.records % 50 === 0) {
          c.commitAsync(undefined, (err) => {
            if (err) this.commitFailures.push(`async: ${err.message}`)
          })
        }
      }
    })()
  }

  get owned(): number[] {
    return [...this.#owned].sort((x, y) => x - y)
  }

  get assignedOnce(): boolean {
    return this.ownershipEvents.some((e) => e.ev === 'assigned')
  }

  summary(): string {
    return `${this.name}: owned ${JSON.stringify(this.owned)}; ${this.records} records; events ${JSON.stringify(
      this.ownershipEvents.map((e) => `${e.ev}${JSON.stringify(e.partitions)}`),
    )}\n  ${this.logs.slice(-8).join('\n  ')}`
  }

  async stop(options: { leaveGroup?: boolean } = {}): Promise<void> {
    await this.consumer.close(options)
    await this.#loop
    CohortMember.all.delete(this)
  }
}

interface PyEvent {
  ev: string
  name: string
  t: number
  partitions?: number[]
  owned?: number[]
  error?: string
}

/** One group_member.py (confluent-kafka, librdkafka) process. */
class PyMember implements GroupMemberLike {
  static readonly all = new Set<PyMember>()
  readonly events: PyEvent[] = []
  readonly child: ChildProcessWithoutNullStreams
  stderr = ''
  readonly exited: Promise<number | null>
  #buf = ''

  constructor(
    readonly name: string,
    opts: { topic: string; group: string; strategy: 'range' | 'cooperative-sticky' },
  ) {
    const args = [PEER, '--bootstrap', b.bootstrap, '--topic', opts.topic, '--group', opts.group, '--name', name]
    args.push('--strategy', opts.strategy, '--session-timeout-ms', '6000', '--heartbeat-interval-ms', '300')
    this.child = spawn(PYTHON, args, { stdio: ['pipe', 'pipe', 'pipe'] })
    PyMember.all.add(this)
    this.child.stdout.on('data', (d: Buffer) => {
      this.#buf += d.toString()
      for (let nl = this.#buf.indexOf('\n'); nl >= 0; nl = this.#buf.indexOf('\n')) {
        const line = this.#buf.slice(0, nl)
        this.#buf = this.#buf.slice(nl + 1)
        if (line.trim() !== '') this.events.push(JSON.parse(line) as PyEvent)
      }
    })
    this.child.stderr.on('data', (d: Buffer) => {
      this.stderr = (this.stderr + d.toString()).slice(-10_000)
    })
    this.child.stdin.on('error', () => {})
    this.exited = new Promise((res) => this.child.once('exit', (code) => res(code)))
  }

  get owned(): number[] {
    for (let i = this.events.length - 1; i >= 0; i--) {
      const e = this.events[i] as PyEvent
      if (e.owned !== undefined) return e.owned
    }
    return []
  }

  get assignedOnce(): boolean {
    return this.events.some((e) => e.ev === 'assigned')
  }

  get ownershipEvents(): OwnershipEvent[] {
    return this.events
      .filter((e) => e.ev === 'assigned' || e.ev === 'revoked' || e.ev === 'lost')
      .map((e) => ({ ev: e.ev as OwnershipEvent['ev'], name: e.name, t: e.t, partitions: e.partitions ?? [] }))
  }

  get failures(): PyEvent[] {
    return this.events.filter((e) => e.ev === 'commit-failed' || e.ev === 'error')
  }

  summary(): string {
    return `${this.name} (librdkafka): owned ${JSON.stringify(this.owned)}; events ${JSON.stringify(
      this.ownershipEvents.map((e) => `${e.ev}${JSON.stringify(e.partitions)}`),
    )}; failures ${JSON.stringify(this.failures)}`
  }

  async stop(): Promise<void> {
    this.child.stdin.write('stop\n')
    let timer: NodeJS.Timeout | undefined
    const code = await Promise.race([this.exited, new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), 20_000)))])
    clearTimeout(timer)
    assert.equal(code, 0, `${this.name} did not exit cleanly (${code}): ${this.stderr.slice(-3000)}`)
    PyMember.all.delete(this)
  }

  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL')
    PyMember.all.delete(this)
  }
}

/** Produces records with sequence-number values 0, 1, 2, … until stopped. */
class SequenceProducer {
  next = 0
  #running = true
  readonly #loop: Promise<void>

  constructor(topic: string, perBatch: number, intervalMs: number) {
    this.#loop = (async () => {
      while (this.#running) {
        const sends: Promise<unknown>[] = []
        for (let i = 0; i < perBatch; i++, this.next++)
          sends.push(producer.send({ topic, key: `key-${this.next % 37}`, value: String(this.next) }))
        await Promise.all(sends)
        await new Promise((r) => setTimeout(r, intervalMs))
      }
    })()
  }

  async stop(): Promise<number> {
    this.#running = false
    await this.#loop
    return this.next
  }
}

// ---- tests --------------------------------------------------------------------------------------

test('two, then three Cohort consumers split a topic and converge; closing one hands its partitions over', async () => {
  const topic = 'split'
  await createTopic(topic, 6)
  const a = new CohortMember('split-a', { topic, group: topic })
  const bb = new CohortMember('split-b', { topic, group: topic })
  await converged(topic, topic, 6, [a, bb])
  assert.equal(a.owned.length, 3)
  const c = new CohortMember('split-c', { topic, group: topic })
  await converged(topic, topic, 6, [a, bb, c])
  for (const m of [a, bb, c]) assert.equal(m.owned.length, 2, `${m.name} owns two`)
  assert.equal(group(topic)?.protocolName, 'range', 'the default strategies (range, cooperative-sticky) agree on range')
  await c.stop()
  await converged(topic, topic, 6, [a, bb])
  assertNeverOwnedTwice([a, bb, c])
  assert.ok(
    a.logs.some((l) => /rejoining group split: why=/.test(l)),
    'rejoins are logged with a why',
  )
  await Promise.all([a.stop(), bb.stop()])
  assert.equal(group(topic)?.state, 'Empty', 'dynamic members leave on close')
})

test('scaling up and down while producing: with a commit in onRevoked nothing is lost and nothing is processed twice', async () => {
  const topic = 'scale'
  await createTopic(topic, 6)
  const seen = new Map<string, number>()
  const opts = { topic, group: topic, seen }
  const prod = new SequenceProducer(topic, 20, 40)
  const a = new CohortMember('scale-a', opts)
  await converged(topic, topic, 6, [a])
  await new Promise((r) => setTimeout(r, 500))
  const bb = new CohortMember('scale-b', opts)
  await converged(topic, topic, 6, [a, bb])
  await new Promise((r) => setTimeout(r, 500))
  const c = new CohortMember('scale-c', opts)
  await converged(topic, topic, 6, [a, bb, c])
  await new Promise((r) => setTimeout(r, 500))
  await bb.stop()
  await converged(topic, topic, 6, [a, c])
  await new Promise((r) => setTimeout(r, 500))
  await a.stop()
  await converged(topic, topic, 6, [c])
  const total = await prod.stop()
  await waitUntil(
    () => seen.size === total,
    `all ${total} records consumed`,
    20_000,
    () => `${seen.size} of ${total}`,
  )
  const twice = [...seen].filter(([, n]) => n > 1)
  assert.deepEqual(twice.slice(0, 10), [], `${twice.length} records processed more than once`)
  for (let i = 0; i < total; i++) assert.ok(seen.has(String(i)), `record ${i} was never processed`)
  for (const m of [a, bb, c]) assert.deepEqual(m.commitFailures, [], `${m.name} commit failures`)
  assertNeverOwnedTwice([a, bb, c])
  assert.ok(total > 500, `${total} records produced during the scaling`)
  await c.stop()
})

test('cooperative-sticky keeps the partitions that do not move assigned across a rebalance', async () => {
  const topic = 'coop'
  await createTopic(topic, 6)
  const strategy = ['cooperative-sticky']
  const a = new CohortMember('coop-a', { topic, group: topic, strategy })
  await converged(topic, topic, 6, [a])
  const bb = new CohortMember('coop-b', { topic, group: topic, strategy })
  await converged(topic, topic, 6, [a, bb])
  assert.equal(group(topic)?.protocolName, 'cooperative-sticky')
  const revoked = a.ownershipEvents.filter((e) => e.ev === 'revoked').flatMap((e) => e.partitions)
  assert.equal(revoked.length, 3, `a gave up exactly the 3 partitions that moved: ${a.summary()}`)
  assert.deepEqual([...revoked].sort(), [...bb.owned].sort(), 'what a revoked is what b got')
  assert.deepEqual(
    a.owned.filter((p) => revoked.includes(p)),
    [],
  )
  assert.equal(a.ownershipEvents.filter((e) => e.ev === 'lost').length, 0)
  assert.equal(bb.ownershipEvents.filter((e) => e.ev === 'revoked').length, 0, 'b never had to give anything up')
  assert.ok(
    a.logs.some((l) => /why=follow-up rebalance after revoking 3 partition/.test(l)),
    'KIP-429 follow-up rebalance',
  )
  assertNeverOwnedTwice([a, bb])
  await Promise.all([a.stop(), bb.stop()])
})

test('a static member restarting within the session timeout gets its partitions back; the others do not rebalance', async () => {
  const topic = 'static'
  await createTopic(topic, 4)
  const opts = (id: string) => ({ topic, group: topic, instanceId: id, sessionTimeoutMs: 10_000 })
  const a = new CohortMember('static-a', opts('instance-a'))
  const bb = new CohortMember('static-b', opts('instance-b'))
  await converged(topic, topic, 4, [a, bb])
  const generation = group(topic)?.generationId
  const bOwned = bb.owned
  const aEvents = a.ownershipEvents.length
  await bb.stop()
  assert.equal(group(topic)?.members.length, 2, 'no LeaveGroup: the coordinator keeps the static member')
  assert.equal(group(topic)?.state, 'Stable')
  const b2 = new CohortMember('static-b', opts('instance-b'))
  await waitUntil(
    () => b2.assignedOnce,
    'the restarted member has its assignment',
    10_000,
    () => describeGroup(topic, [a, b2]),
  )
  assert.deepEqual(b2.owned, bOwned, 'same partitions back')
  assert.equal(group(topic)?.generationId, generation, 'no new generation')
  assert.equal(a.ownershipEvents.length, aEvents, 'the other member saw no rebalance')
  await b2.stop({ leaveGroup: true })
  await converged(topic, topic, 4, [a])
  await a.stop({ leaveGroup: true })
})

const havePython = existsSync(PYTHON) && existsSync(PEER)

for (const strategy of ['range', 'cooperative-sticky'] as const) {
  test(`a group mixing Cohort and confluent-kafka (librdkafka) members converges with no partition owned twice (${strategy})`, {
    skip: havePython ? false : 'python3-confluent-kafka peer not available',
  }, async () => {
    const topic = `mixed-${strategy}`
    await createTopic(topic, 6)
    const seen = new Map<string, number>()
    for (let i = 0; i < 60; i++) await producer.send({ topic, key: `k${i}`, value: String(i) })
    const members: GroupMemberLike[] = []
    const cohorts: CohortMember[] = []
    const pys: PyMember[] = []
    const addCohort = (n: string): void => {
      const m = new CohortMember(n, { topic, group: topic, strategy: [strategy], seen })
      cohorts.push(m)
      members.push(m)
    }
    const addPy = (n: string): void => {
      const m = new PyMember(n, { topic, group: topic, strategy })
      pys.push(m)
      members.push(m)
    }
    // Range: Cohort leads; cooperative-sticky: librdkafka leads. Members arrive one at a time.
    if (strategy === 'range') addCohort(`${topic}-cohort-1`)
    else addPy(`${topic}-rdkafka-1`)
    await converged(topic, topic, 6, members)
    if (strategy === 'range') addPy(`${topic}-rdkafka-1`)
    else addCohort(`${topic}-cohort-1`)
    await converged(topic, topic, 6, members)
    addCohort(`${topic}-cohort-2`)
    await converged(topic, topic, 6, members)
    addPy(`${topic}-rdkafka-2`)
    await converged(topic, topic, 6, members)
    assert.equal(group(topic)?.protocolName, strategy)
    assertNeverOwnedTwice(members)
    // Scale down: a Cohort member leaves, the rest take over.
    const leaving = cohorts[0] as CohortMember
    await leaving.stop()
    const rest = members.filter((m) => m !== leaving)
    await converged(topic, topic, 6, rest)
    assertNeverOwnedTwice(members)
    for (const p of pys) assert.deepEqual(p.failures, [], `${p.name} failures`)
    for (const c of cohorts) assert.deepEqual(c.commitFailures, [], `${c.name} commit failures`)
    await Promise.all([...pys.map((p) => p.stop()), ...cohorts.filter((c) => c !== leaving).map((c) => c.stop())])
  })
}
