/**
 * Groups and committed offsets survive kill -9 of the broker (a child process, log.flush.mode=fsync):
 *  - confluent-kafka members (peers/group_member.py) process part of a topic and commit; after kill -9 and a
 *    restart on the same data directory, admin clients (confluent-kafka ListGroups/DescribeGroups, kafka-python
 *    DescribeGroups and OffsetFetch, peers/group_admin.py) see the same groups and offsets, and members of the
 *    same groups resume exactly after their last commits;
 *  - a member running through the crash (broker restarted on the same port) keeps its assignment: the group is
 *    reloaded from __consumer_offsets and nothing rebalances;
 *  - a crash in the middle of a rebalance: after the restart the group converges and no record is lost or
 *    processed twice.
 */
import assert from 'node:assert/strict'
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process'
import { rmSync } from 'node:fs'
import { resolve } from 'node:path'
import { test } from 'node:test'
import { Kafka, logLevel } from 'kafkajs'
import { decodeAssignment } from '../../src/broker/coordinator/index.ts'
import { DescribeGroups } from '../../src/protocol/apis/index.ts'
import { type ChildBroker, spawnBroker, tempDir } from '../helpers/broker.ts'
import { RawClient } from '../helpers/raw-client.ts'
import { PYTHON, runOk } from '../helpers/run.ts'

const PEERS = resolve(import.meta.dirname, 'peers')
const TOPIC = 'durable-groups'
const PER_PARTITION = 40

interface MemberEvent {
  ev: string
  p?: number
  o?: number
  v?: string
  owned?: number[]
  error?: string
}

/** Runs group_member.py until it has processed `maxRecords` records and closed (committing in on_revoke). */
async function runMember(bootstrap: string, group: string, maxRecords: number, instanceId?: string): Promise<MemberEvent[]> {
  const args = [resolve(PEERS, 'group_member.py'), '--bootstrap', bootstrap, '--topic', TOPIC, '--group', group]
  args.push('--name', `${group}-${instanceId ?? 'dynamic'}`, '--max-records', String(maxRecords), '--session-timeout-ms', '6000')
  if (instanceId) args.push('--instance-id', instanceId)
  const out = await runOk(PYTHON, args, { input: '', timeoutMs: 60_000 })
  const events = out
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as MemberEvent)
  assert.deepEqual(
    events.filter((e) => e.ev === 'commit-failed' || e.ev === 'error'),
    [],
    'the member reported no failures',
  )
  assert.equal(events.at(-1)?.ev, 'closed')
  return events
}

interface AdminView {
  groups: {
    id: string
    state: string
    protocol_type: string
    protocol: string
    members: { id: string; client_id: string; partitions: number[] }[]
  }[]
  described: { group: string; state: string; protocol_type: string; protocol: string; members: { id: string; client_id: string }[] }[]
  offsets: Record<string, number>
}

async function adminView(bootstrap: string, group: string, topic = TOPIC): Promise<AdminView> {
  const out = await runOk(PYTHON, [resolve(PEERS, 'group_admin.py'), bootstrap, group, topic], { timeoutMs: 60_000 })
  return JSON.parse(out.trim().split('\n').pop() as string) as AdminView
}

/** partition → offsets processed, in order. */
function processed(events: MemberEvent[]): Map<number, number[]> {
  const out = new Map<number, number[]>()
  for (const e of events) if (e.ev === 'record') out.set(e.p as number, [...(out.get(e.p as number) ?? []), e.o as number])
  return out
}

/** Polls `cond` every 100 ms until it holds; fails with `describe()` after `timeoutMs`. */
async function waitUntil(
  cond: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 30_000,
  describe: () => string = () => '',
): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await cond())) {
    if (Date.now() > deadline) assert.fail(`timed out after ${timeoutMs} ms waiting until ${what}\n${describe()}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i)

test('committed offsets and groups survive kill -9; members resume exactly after their last commit', async (t) => {
  const dir = tempDir()
  let broker: ChildBroker = await spawnBroker(dir, ['--set', 'group.min.session.timeout.ms=1000'])
  t.after(async () => {
    await broker.kill('SIGKILL')
    rmSync(dir, { recursive: true, force: true })
  })

  await createAndFill(broker.bootstrap, TOPIC, 2, 0, PER_PARTITION, true)

  // Each partition holds 40 records, so a member that processes more than 40 commits on both partitions.
  // A static member processes 50 records and closes without leaving (librdkafka sends no LeaveGroup for a static
  // member), so its group is still Stable with that member when the broker dies. A dynamic member of another
  // group processes 70 and leaves: that group is Empty, with only its offsets left.
  const staticRun = await runMember(broker.bootstrap, 'durable-static', 50, 'durable-a')
  const dynamicRun = await runMember(broker.bootstrap, 'durable-dynamic', 70)
  const before = {
    static: await adminView(broker.bootstrap, 'durable-static'),
    dynamic: await adminView(broker.bootstrap, 'durable-dynamic'),
  }

  assert.equal(await broker.kill('SIGKILL'), null)
  broker = await spawnBroker(dir, ['--set', 'group.min.session.timeout.ms=1000'])
  const after = {
    static: await adminView(broker.bootstrap, 'durable-static'),
    dynamic: await adminView(broker.bootstrap, 'durable-dynamic'),
  }

  for (const [name, run] of [
    ['durable-static', staticRun],
    ['durable-dynamic', dynamicRun],
  ] as const) {
    const kind = name === 'durable-static' ? 'static' : 'dynamic'
    // OffsetFetch: the committed offset of each partition is the one after the last processed record.
    const expected: Record<string, number> = {}
    for (const [p, offsets] of processed(run)) expected[String(p)] = (offsets.at(-1) as number) + 1
    assert.deepEqual(Object.keys(expected).sort(), ['0', '1'], `${name}: both partitions were committed`)
    assert.deepEqual(before[kind].offsets, expected, `${name}: offsets committed before the crash`)
    assert.deepEqual(after[kind].offsets, expected, `${name}: offsets after the crash`)
    // ListGroups + DescribeGroups show the same group as before the crash.
    const listed = (v: AdminView) => v.groups.find((g) => g.id === name)
    assert.ok(
      listed(after[kind]),
      `${name} is listed after the restart: ${JSON.stringify(after[kind])} before: ${JSON.stringify(before[kind])}`,
    )
    assert.deepEqual(listed(after[kind]), listed(before[kind]), `${name}: listed and described as before the crash`)
    assert.deepEqual(after[kind].described, before[kind].described)
  }
  const staticGroup = after.static.groups.find((g) => g.id === 'durable-static')
  assert.equal(staticGroup?.state, 'Stable')
  assert.equal(staticGroup?.protocol_type, 'consumer')
  assert.equal(staticGroup?.protocol, 'range')
  assert.deepEqual(
    staticGroup?.members.map((m) => [m.client_id, m.partitions]),
    [['durable-static-durable-a', [0, 1]]],
  )
  const dynamicGroup = after.dynamic.groups.find((g) => g.id === 'durable-dynamic')
  assert.equal(dynamicGroup?.state, 'Empty')
  assert.equal(dynamicGroup?.protocol_type, 'consumer')
  assert.deepEqual(dynamicGroup?.members, [])

  // Members of the same groups read the rest: each partition resumes exactly at its committed offset.
  const staticRest = await runMember(broker.bootstrap, 'durable-static', 2 * PER_PARTITION - 50, 'durable-a')
  const dynamicRest = await runMember(broker.bootstrap, 'durable-dynamic', 2 * PER_PARTITION - 70)
  for (const [first, rest] of [
    [staticRun, staticRest],
    [dynamicRun, dynamicRest],
  ]) {
    const a = processed(first)
    const b = processed(rest)
    for (const p of [0, 1]) {
      const done = a.get(p) ?? []
      assert.deepEqual(done, range(0, done.length), `partition ${p}: the first member read from the start`)
      assert.deepEqual(b.get(p) ?? [], range(done.length, PER_PARTITION), `partition ${p}: resumed right after the last commit`)
    }
  }
  await broker.kill('SIGTERM')
})

/** A long-running group_member.py: events as they come; "stop" on stdin closes it gracefully. */
class LiveMember {
  readonly events: MemberEvent[] = []
  readonly exited: Promise<number | null>
  #child: ChildProcessWithoutNullStreams
  #buf = ''
  #stderr = ''

  constructor(
    readonly name: string,
    bootstrap: string,
    topic: string,
    group: string,
  ) {
    const args = [resolve(PEERS, 'group_member.py'), '--bootstrap', bootstrap, '--topic', topic, '--group', group]
    args.push('--name', name, '--session-timeout-ms', '6000')
    this.#child = spawn(PYTHON, args, { stdio: ['pipe', 'pipe', 'pipe'] })
    this.#child.stdout.on('data', (d: Buffer) => {
      this.#buf += d.toString()
      for (let nl = this.#buf.indexOf('\n'); nl >= 0; nl = this.#buf.indexOf('\n')) {
        this.events.push(JSON.parse(this.#buf.slice(0, nl)) as MemberEvent)
        this.#buf = this.#buf.slice(nl + 1)
      }
    })
    this.#child.stderr.on('data', (d: Buffer) => {
      this.#stderr = (this.#stderr + d.toString()).slice(-5000)
    })
    this.#child.stdin.on('error', () => {})
    this.exited = new Promise((res) => this.#child.once('exit', res))
  }

  get records(): MemberEvent[] {
    return this.events.filter((e) => e.ev === 'record')
  }

  get owned(): number[] {
    return this.events.findLast((e) => e.owned !== undefined)?.owned ?? []
  }

  get ownership(): MemberEvent[] {
    return this.events.filter((e) => e.ev === 'assigned' || e.ev === 'revoked' || e.ev === 'lost')
  }

  get failures(): MemberEvent[] {
    return this.events.filter((e) => e.ev === 'commit-failed' || e.ev === 'error')
  }

  describe(): string {
    return `${this.name}: ${JSON.stringify(this.events.filter((e) => e.ev !== 'record'))}\n${this.#stderr}`
  }

  async stop(): Promise<void> {
    this.#child.stdin.end('stop\n')
    assert.equal(await this.exited, 0, this.describe())
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    if (this.#child.exitCode === null && this.#child.signalCode === null) this.#child.kill(signal)
  }
}

async function createAndFill(bootstrap: string, topic: string, partitions: number, from: number, to: number, create: boolean) {
  const kafka = new Kafka({ clientId: 'durability', brokers: [bootstrap], logLevel: logLevel.NOTHING })
  if (create) {
    const admin = kafka.admin()
    await admin.connect()
    await admin.createTopics({ topics: [{ topic, numPartitions: partitions }], waitForLeaders: true })
    await admin.disconnect()
  }
  const producer = kafka.producer()
  await producer.connect()
  const messages = []
  for (let partition = 0; partition < partitions; partition++)
    for (let i = from; i < to; i++) messages.push({ partition, value: `${partition}-${i}` })
  await producer.send({ topic, acks: -1, messages })
  await producer.disconnect()
}

/** The group as DescribeGroups shows it: state and member client id → partitions of the topic. */
async function describeGroup(bootstrap: string, group: string, topic: string): Promise<{ state: string; members: Map<string, number[]> }> {
  const c = await RawClient.connect(bootstrap)
  try {
    const res = await c.request(DescribeGroups, 5, { groups: [group], includeAuthorizedOperations: false })
    const g = res.groups[0]
    const members = new Map<string, number[]>()
    for (const m of g?.members ?? []) {
      const parts = m.memberAssignment.length === 0 ? [] : decodeAssignment(m.memberAssignment).assignedPartitions
      members.set(
        m.clientId,
        parts
          .filter((tp) => tp.topic === topic)
          .flatMap((tp) => tp.partitions)
          .sort((x, y) => x - y),
      )
    }
    return { state: g?.groupState ?? 'Dead', members }
  } finally {
    c.close()
  }
}

/** Stable, one coordinator member per live member, each owning (by its own events) what the coordinator assigned, all partitions covered. */
async function converged(bootstrap: string, group: string, topic: string, partitions: number, members: LiveMember[]): Promise<boolean> {
  const d = await describeGroup(bootstrap, group, topic)
  if (d.state !== 'Stable' || d.members.size !== members.length) return false
  const all: number[] = []
  for (const m of members) {
    const stored = d.members.get(m.name)
    if (stored === undefined || JSON.stringify(stored) !== JSON.stringify(m.owned) || m.ownership.length === 0) return false
    all.push(...stored)
  }
  return JSON.stringify(all.sort((x, y) => x - y)) === JSON.stringify(range(0, partitions))
}

test('a running member keeps its assignment across kill -9 of the broker: the group is reloaded, no rebalance, nothing re-read', async (t) => {
  const dir = tempDir()
  let broker: ChildBroker = await spawnBroker(dir, ['--set', 'group.min.session.timeout.ms=1000'])
  t.after(async () => {
    await broker.kill('SIGKILL')
    rmSync(dir, { recursive: true, force: true })
  })
  const port = Number(broker.bootstrap.split(':')[1])
  const topic = 'durable-live'
  await createAndFill(broker.bootstrap, topic, 2, 0, 20, true)

  const member = new LiveMember('live', broker.bootstrap, topic, topic)
  t.after(() => member.kill())
  const describe = () => `${member.describe()}\n${broker.stderr().slice(-3000)}`

  await waitUntil(() => member.records.length === 40, 'the member has read the first 40 records', 30_000, describe)
  // Wait for its commits to be acknowledged: OffsetFetch shows 20 on both partitions.
  let offsets: Record<string, number> = {}
  await waitUntil(
    async () => {
      offsets = (await adminView(broker.bootstrap, topic, topic)).offsets
      return offsets['0'] === 20 && offsets['1'] === 20
    },
    'both commits are durable',
    30_000,
    () => `${JSON.stringify(offsets)} ${describe()}`,
  )

  assert.equal(await broker.kill('SIGKILL'), null)
  broker = await spawnBroker(dir, ['--set', 'group.min.session.timeout.ms=1000'], port)
  await createAndFill(broker.bootstrap, topic, 2, 20, 40, false)
  await waitUntil(() => member.records.length >= 80, 'the member reads the records produced after the restart', 30_000, describe)

  await member.stop()
  assert.deepEqual(
    member.ownership.map((e) => [e.ev, e.owned]),
    [
      ['assigned', [0, 1]],
      ['revoked', []], // the final close
    ],
    'one assignment for the whole run: the crash caused no rebalance',
  )
  assert.deepEqual(member.failures, [])
  for (const p of [0, 1]) {
    assert.deepEqual(
      member.records.filter((e) => e.p === p).map((e) => e.o),
      range(0, 40),
      `partition ${p}: every record once, in order`,
    )
  }
  assert.deepEqual((await adminView(broker.bootstrap, topic, topic)).offsets, { '0': 40, '1': 40 })
  await broker.kill('SIGTERM')
})

test('kill -9 of the broker in the middle of a rebalance: after the restart the group converges and nothing is lost or read twice', async (t) => {
  const dir = tempDir()
  let broker: ChildBroker = await spawnBroker(dir, ['--set', 'group.min.session.timeout.ms=1000'])
  t.after(async () => {
    await broker.kill('SIGKILL')
    rmSync(dir, { recursive: true, force: true })
  })
  const port = Number(broker.bootstrap.split(':')[1])
  const topic = 'durable-rebalance'
  const group = topic
  await createAndFill(broker.bootstrap, topic, 4, 0, 25, true)
  const members: LiveMember[] = []
  t.after(() => {
    for (const m of members) m.kill()
  })
  const describe = () => `${members.map((m) => m.describe()).join('\n')}\n${broker.stderr().slice(-3000)}`
  for (const name of ['m1', 'm2']) members.push(new LiveMember(name, broker.bootstrap, topic, group))
  await waitUntil(() => converged(broker.bootstrap, group, topic, 4, members), 'm1 and m2 share the topic', 30_000, describe)
  await waitUntil(() => members.reduce((n, m) => n + m.records.length, 0) === 100, 'the first 100 records are read', 30_000, describe)
  let offsets: Record<string, number> = {}
  await waitUntil(
    async () => {
      offsets = (await adminView(broker.bootstrap, group, topic)).offsets
      return Object.keys(offsets).length === 4 && Object.values(offsets).every((o) => o === 25)
    },
    'every processed record is committed',
    30_000,
    () => JSON.stringify(offsets),
  )

  // Freeze m2, then let m3 join: the group rebalances and waits for m2 (until its 6 s session would expire).
  // The broker dies right then, in PreparingRebalance; m2 thaws while it restarts.
  const m2 = members[1] as LiveMember
  m2.kill('SIGSTOP')
  members.push(new LiveMember('m3', broker.bootstrap, topic, group))
  await waitUntil(
    async () => (await describeGroup(broker.bootstrap, group, topic)).state === 'PreparingRebalance',
    'the group rebalances',
    5000,
    describe,
  )
  assert.equal(await broker.kill('SIGKILL'), null)
  m2.kill('SIGCONT')
  broker = await spawnBroker(dir, ['--set', 'group.min.session.timeout.ms=1000'], port)
  await createAndFill(broker.bootstrap, topic, 4, 25, 50, false)
  await waitUntil(() => converged(broker.bootstrap, group, topic, 4, members), 'm1, m2 and m3 share the topic', 30_000, describe)
  await waitUntil(
    () => new Set(members.flatMap((m) => m.records.map((r) => r.v))).size === 200,
    'all 200 records are read',
    30_000,
    describe,
  )
  for (const m of members) await m.stop()

  const seen = new Map<string, string[]>()
  for (const m of members) for (const r of m.records) seen.set(r.v as string, [...(seen.get(r.v as string) ?? []), m.name])
  assert.equal(seen.size, 200)
  const twice = [...seen].filter(([, who]) => who.length > 1)
  assert.deepEqual(twice.slice(0, 5), [], `${twice.length} records read twice`)
  for (const m of members) assert.deepEqual(m.failures, [], m.describe())
  await broker.kill('SIGTERM')
})
