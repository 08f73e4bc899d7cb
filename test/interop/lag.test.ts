/**
 * `cohort lag` end to end, through the built bin, against groups made by three different clients:
 * confluent-kafka for Python (librdkafka; peers/group_member.py), kafkajs and Cohort's own consumer. Each
 * group is driven to known committed offsets; the view must report them, the log-end offsets, the lag and
 * the owning member exactly as the coordinator has them, in JSON and in text, and the metrics endpoint must
 * serve the same numbers under the exporters' names.
 */
import assert from 'node:assert/strict'
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process'
import { resolve } from 'node:path'
import { after, before, test } from 'node:test'
import { Kafka, type Consumer as KafkaJsConsumer, logLevel } from 'kafkajs'
import { Consumer } from '../../src/client/index.ts'
import { startBroker, type TestBroker } from '../helpers/broker.ts'
import { PYTHON, run, runOk } from '../helpers/run.ts'

const BIN = resolve(import.meta.dirname, '../../bin/cohort.js')
const MEMBER = resolve(import.meta.dirname, 'peers', 'group_member.py')
const TOPIC = 'lag-orders'

let b: TestBroker
let kafka: Kafka
const cleanups: (() => Promise<unknown>)[] = []

before(async () => {
  b = await startBroker({ 'log.flush.mode': 'os', 'group.min.session.timeout.ms': 1000 })
  kafka = new Kafka({ clientId: 'lag-test', brokers: [b.bootstrap], logLevel: logLevel.NOTHING })
  const admin = kafka.admin()
  await admin.connect()
  await admin.createTopics({ topics: [{ topic: TOPIC, numPartitions: 3 }], waitForLeaders: true })
  await admin.disconnect()
  await produce({ 0: 30, 1: 20, 2: 10 })
})

after(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => {})
  await b.stop()
})

async function produce(counts: Record<number, number>): Promise<void> {
  const producer = kafka.producer()
  await producer.connect()
  const messages = Object.entries(counts).flatMap(([p, n]) =>
    Array.from({ length: n }, (_, i) => ({ partition: Number(p), value: `${p}-${i}` })),
  )
  await producer.send({ topic: TOPIC, acks: -1, messages })
  await producer.disconnect()
}

async function waitUntil(cond: () => boolean | Promise<boolean>, what: string, timeoutMs = 30_000, describe = () => ''): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await cond())) {
    if (Date.now() > deadline) assert.fail(`timed out after ${timeoutMs} ms waiting until ${what}\n${describe()}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

// --- the view ------------------------------------------------------------------------------------

interface JsonOwner {
  memberId: string
  groupInstanceId: string | null
  clientId: string
  clientHost: string
}
interface JsonPartition {
  topic: string
  partition: number
  committed: number | null
  logStart: number | null
  logEnd: number | null
  lag: number | null
  lagSeconds: number | null
  status: string | null
  owner: JsonOwner | null
}
interface JsonGroup {
  groupId: string
  state: string
  protocol: string
  status: string | null
  totalLag: number
  recommendedConsumers: number
  members: (JsonOwner & { partitions: { topic: string; partition: number }[] })[]
  partitions: JsonPartition[]
  patterns: { kind: string; message: string }[]
}

const cohort = (args: string[]) => runOk(process.execPath, [BIN, ...args, '--bootstrap-server', b.bootstrap], { timeoutMs: 60_000 })

async function lagJson(groupId: string, extra: string[] = []): Promise<JsonGroup> {
  const out = JSON.parse(await cohort(['lag', '--once', '--output', 'json', '--group', groupId, ...extra])) as { groups: JsonGroup[] }
  assert.equal(out.groups.length, 1)
  return out.groups[0] as JsonGroup
}

/** The rows of a group's table in the text view, as header → cell maps. */
function textRows(text: string, groupId: string): Record<string, string>[] {
  const block = text.split('\n\n').findIndex((b) => b.startsWith(`GROUP ${groupId} `))
  assert.ok(block >= 0, `no block for ${groupId} in\n${text}`)
  const table = (text.split('\n\n')[block + 1] ?? '').split('\n').filter((l) => l !== '' && !l.startsWith('  '))
  const header = (table[0] ?? '').split(/ {2,}/)
  return table.slice(1).map((l) => Object.fromEntries(l.split(/ {2,}/).map((c, i) => [header[i], c])))
}

/** Offsets, log ends and lags of a group, by partition, as [committed, logEnd, lag]. */
function offsets(g: JsonGroup): [number | null, number | null, number | null][] {
  return g.partitions.map((p) => [p.committed, p.logEnd, p.lag])
}

// --- the three clients ---------------------------------------------------------------------------

class PythonMember {
  readonly child: ChildProcessWithoutNullStreams
  readonly records: number[] = []
  stderr = ''
  #buf = ''
  readonly exited: Promise<number | null>

  constructor(name: string, group: string) {
    this.child = spawn(PYTHON, [MEMBER, '--bootstrap', b.bootstrap, '--topic', TOPIC, '--group', group, '--name', name], { stdio: 'pipe' })
    this.child.stdout.on('data', (d: Buffer) => {
      this.#buf += d.toString()
      for (let nl = this.#buf.indexOf('\n'); nl >= 0; nl = this.#buf.indexOf('\n')) {
        const line = this.#buf.slice(0, nl)
        this.#buf = this.#buf.slice(nl + 1)
        const ev = JSON.parse(line) as { ev: string; p?: number }
        if (ev.ev === 'record') this.records.push(ev.p as number)
      }
    })
    this.child.stderr.on('data', (d: Buffer) => {
      this.stderr = (this.stderr + d.toString()).slice(-10_000)
    })
    this.child.stdin.on('error', () => {})
    this.exited = new Promise((res) => this.child.once('exit', res))
    cleanups.push(async () => {
      this.child.kill('SIGKILL')
      await this.exited
    })
  }

  async stop(): Promise<void> {
    this.child.stdin.write('stop\n')
    assert.equal(await this.exited, 0, this.stderr)
  }
}

async function kafkajsMember(groupId: string, clientId: string): Promise<KafkaJsConsumer> {
  const k = new Kafka({ clientId, brokers: [b.bootstrap], logLevel: logLevel.NOTHING })
  const consumer = k.consumer({ groupId, sessionTimeout: 6000, heartbeatInterval: 500, maxWaitTimeInMs: 100 })
  let joined = false
  consumer.on(consumer.events.GROUP_JOIN, () => {
    joined = true
  })
  await consumer.connect()
  cleanups.push(() => consumer.disconnect())
  await consumer.subscribe({ topic: TOPIC, fromBeginning: true })
  // Reads everything, commits nothing by itself.
  await consumer.run({ autoCommit: false, eachMessage: async () => {} })
  await waitUntil(() => joined, 'the kafkajs member joined')
  return consumer
}

// --- tests ---------------------------------------------------------------------------------------

test('confluent-kafka (Python): a member that committed everything, then the group after it left', async () => {
  const group = 'lag-python'
  const member = new PythonMember('py-member', group)
  await waitUntil(
    () => member.records.length >= 60,
    'the Python member processed the 60 records',
    60_000,
    () => member.stderr,
  )
  let g = await lagJson(group)
  await waitUntil(
    async () => {
      g = await lagJson(group)
      return g.state === 'Stable' && g.partitions.every((p) => p.lag === 0)
    },
    'its per-record commits reached the log end',
    30_000,
    () => JSON.stringify(g),
  )
  assert.deepEqual(offsets(g), [
    [30, 30, 0],
    [20, 20, 0],
    [10, 10, 0],
  ])
  assert.equal(g.members.length, 1)
  const m = g.members[0] as JsonOwner
  assert.equal(m.clientId, 'py-member')
  assert.match(m.clientHost, /127\.0\.0\.1/)
  for (const p of g.partitions)
    assert.deepEqual(p.owner, { memberId: m.memberId, groupInstanceId: null, clientId: 'py-member', clientHost: m.clientHost })
  assert.equal(g.protocol, 'range')
  assert.equal(g.totalLag, 0)
  assert.equal(g.recommendedConsumers, 0, 'no lag: KEDA scales to zero')

  const rows = textRows(await cohort(['lag', '--once', '--group', group]), group)
  assert.deepEqual(
    rows.map((r) => [r.TOPIC, r.PARTITION, r.COMMITTED, r['LOG-END'], r.LAG, r['LAG-SECONDS'], r['CONSUMER-ID'], r['CLIENT-ID']]),
    [
      [TOPIC, '0', '30', '30', '0', '0.0', m.memberId, 'py-member'],
      [TOPIC, '1', '20', '20', '0', '0.0', m.memberId, 'py-member'],
      [TOPIC, '2', '10', '10', '0', '0.0', m.memberId, 'py-member'],
    ],
  )

  // It leaves; five more records arrive on partition 1.
  await member.stop()
  await produce({ 1: 5 })
  g = await lagJson(group, ['--samples', '3', '--interval', '0.3'])
  assert.equal(g.state, 'Empty')
  assert.equal(g.members.length, 0)
  assert.deepEqual(offsets(g), [
    [30, 30, 0],
    [20, 25, 5],
    [10, 10, 0],
  ])
  for (const p of g.partitions) assert.equal(p.owner, null)
  // Nobody commits while partition 1 has lag: Burrow's STOP.
  assert.deepEqual(
    g.partitions.map((p) => p.status),
    ['OK', 'STOP', 'OK'],
  )
  assert.equal(g.status, 'ERR')
  const after = textRows(await cohort(['lag', '--once', '--group', group]), group)
  assert.deepEqual(
    after.map((r) => [r.PARTITION, r.COMMITTED, r['LOG-END'], r.LAG, r['CONSUMER-ID'], r.HOST, r['CLIENT-ID']]),
    [
      ['0', '30', '30', '0', '-', '-', '-'],
      ['1', '20', '25', '5', '-', '-', '-'],
      ['2', '10', '10', '0', '-', '-', '-'],
    ],
  )
})

test('kafkajs: a live member whose commits stay behind', async () => {
  const group = 'lag-kafkajs'
  const consumer = await kafkajsMember(group, 'js-member')
  await consumer.commitOffsets([
    { topic: TOPIC, partition: 0, offset: '10' },
    { topic: TOPIC, partition: 1, offset: '5' },
    { topic: TOPIC, partition: 2, offset: '0' },
  ])
  const g = await lagJson(group, ['--samples', '3', '--interval', '0.3'])
  assert.equal(g.state, 'Stable')
  assert.deepEqual(offsets(g), [
    [10, 30, 20],
    [5, 25, 20],
    [0, 10, 10],
  ])
  const m = g.members[0] as JsonOwner
  assert.equal(g.members.length, 1)
  assert.equal(m.clientId, 'js-member')
  for (const p of g.partitions) assert.equal(p.owner?.memberId, m.memberId)
  // Alive, owning its partitions, not moving while behind: Burrow's STALL.
  assert.deepEqual(
    g.partitions.map((p) => p.status),
    ['STALL', 'STALL', 'STALL'],
  )
  assert.equal(g.totalLag, 50)
  assert.equal(g.recommendedConsumers, 3, 'KEDA: ceil(50 / 10), capped at 3 partitions')
})

test("Cohort's consumer: a member that committed part of each partition", async () => {
  const group = 'lag-cohort'
  const consumer = new Consumer({
    bootstrapServers: b.bootstrap,
    clientId: 'cohort-member',
    groupId: group,
    autoOffsetReset: 'earliest',
    enableAutoCommit: false,
    sessionTimeoutMs: 6000,
    heartbeatIntervalMs: 500,
    fetchMaxWaitMs: 100,
  })
  cleanups.push(() => consumer.close({ timeoutMs: 2000 }))
  let assigned = false
  consumer.subscribe([TOPIC], {
    onAssigned: () => {
      assigned = true
    },
  })
  const loop = (async () => {
    for await (const _ of consumer) {
      // Reads everything; commits only what the test says.
    }
  })()
  await waitUntil(() => assigned, "Cohort's member was assigned its partitions")
  await consumer.commit([0, 1, 2].map((partition) => ({ topic: TOPIC, partition, offset: 3n })))
  const g = await lagJson(group)
  assert.deepEqual(offsets(g), [
    [3, 30, 27],
    [3, 25, 22],
    [3, 10, 7],
  ])
  assert.equal(g.members[0]?.clientId, 'cohort-member')
  for (const p of g.partitions) assert.equal(p.owner?.clientId, 'cohort-member')
  assert.deepEqual(
    g.members[0]?.partitions,
    [0, 1, 2].map((partition) => ({ topic: TOPIC, partition })),
  )
  const rows = textRows(await cohort(['lag', '--once']), group)
  assert.deepEqual(
    rows.map((r) => [r.PARTITION, r.COMMITTED, r['LOG-END'], r.LAG, r['CLIENT-ID']]),
    [
      ['0', '3', '30', '27', 'cohort-member'],
      ['1', '3', '25', '22', 'cohort-member'],
      ['2', '3', '10', '7', 'cohort-member'],
    ],
  )
  await consumer.close()
  await loop
})

test('--all-groups lists every group; a missing --group says it does not exist', async () => {
  const all = JSON.parse(await cohort(['lag', '--once', '--output', 'json'])) as { groups: JsonGroup[] }
  const ids = all.groups.map((g) => g.groupId)
  for (const id of ['lag-python', 'lag-kafkajs', 'lag-cohort']) assert.ok(ids.includes(id), `${id} in ${ids}`)
  assert.deepEqual(ids, [...ids].sort())
  const text = await cohort(['lag', '--once', '--group', 'no-such-group'])
  assert.equal(text, "GROUP no-such-group  status NOTFOUND\nConsumer group 'no-such-group' does not exist.\n")
  const both = await run(process.execPath, [BIN, 'lag', '--once', '--group', 'x', '--all-groups', '--bootstrap-server', b.bootstrap])
  assert.equal(both.code, 1)
  assert.match(both.stderr, /--group and --all-groups do not go together/)
})

test('the live view prints successive snapshots when stdout is not a terminal and exits cleanly on SIGINT', async () => {
  const child = spawn(process.execPath, [BIN, 'lag', '--group', 'lag-kafkajs', '--interval', '0.3', '--bootstrap-server', b.bootstrap])
  let out = ''
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString()
  })
  const exited = new Promise<number | null>((res) => child.once('exit', res))
  await waitUntil(
    () => (out.match(/^--- /gm) ?? []).length >= 3,
    'three refreshes',
    30_000,
    () => out,
  )
  assert.ok(!out.includes('\u001b['), 'no escape codes when not a terminal')
  child.kill('SIGINT')
  assert.equal(await exited, 0)
  const frames = out.split(/^--- \S+\n/m).filter((f) => f !== '')
  assert.ok(frames.length >= 3)
  for (const f of frames) assert.match(f, /^GROUP lag-kafkajs {2}state Stable/)
})

test('--metrics-port serves kafka_exporter and kafka-lag-exporter series for the groups', async () => {
  const child = spawn(process.execPath, [
    BIN,
    'lag',
    '--all-groups',
    '--interval',
    '0.3',
    '--metrics-port',
    '0',
    '--quiet',
    '--cluster-name',
    'test',
    '--bootstrap-server',
    b.bootstrap,
  ])
  let err = ''
  let out = ''
  child.stderr.on('data', (d: Buffer) => {
    err += d.toString()
  })
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString()
  })
  const exited = new Promise<number | null>((res) => child.once('exit', res))
  cleanups.push(async () => {
    child.kill('SIGKILL')
  })
  await waitUntil(
    () => /serving metrics at (\S+)/.test(err),
    'the metrics endpoint is up',
    30_000,
    () => err,
  )
  const url = (/serving metrics at (\S+)/.exec(err) as RegExpExecArray)[1] as string
  let body = ''
  // The lag in seconds needs two log-end samples; the Python group's partition 1 has lag and a moving-free log end,
  // so wait for the kafkajs group's series with a value.
  await waitUntil(
    async () => {
      const res = await fetch(url)
      body = await res.text()
      return (
        res.status === 200 && /kafka_consumergroup_poll_time_ms\{cluster_name="test"\}/.test(body) && /kafka_consumergroup_lag\{/.test(body)
      )
    },
    'a scrape with the groups',
    30_000,
    () => body,
  )
  const series = new Map<string, string>()
  for (const line of body.split('\n')) {
    if (line === '' || line.startsWith('#')) continue
    const i = line.lastIndexOf(' ')
    series.set(line.slice(0, i), line.slice(i + 1))
  }
  const ke = (name: string, group: string, partition: number) =>
    series.get(`${name}{consumergroup="${group}",topic="${TOPIC}",partition="${partition}"}`)
  assert.equal(ke('kafka_consumergroup_lag', 'lag-kafkajs', 0), '20')
  assert.equal(ke('kafka_consumergroup_lag', 'lag-kafkajs', 2), '10')
  assert.equal(ke('kafka_consumergroup_current_offset', 'lag-kafkajs', 1), '5')
  assert.equal(ke('kafka_consumergroup_lag', 'lag-python', 1), '5')
  assert.equal(series.get(`kafka_consumergroup_lag_sum{consumergroup="lag-kafkajs",topic="${TOPIC}"}`), '50')
  assert.equal(series.get('kafka_consumergroup_members{consumergroup="lag-kafkajs"}'), '1')
  assert.equal(series.get('kafka_consumergroup_members{consumergroup="lag-python"}'), '0')
  assert.equal(series.get(`kafka_topic_partition_current_offset{topic="${TOPIC}",partition="1"}`), '25')
  const kle = [...series.keys()].find(
    (k) => k.startsWith('kafka_consumergroup_group_lag{') && k.includes('group="lag-kafkajs"') && k.includes('partition="0"'),
  )
  assert.ok(kle, body)
  assert.match(
    kle,
    /cluster_name="test",group="lag-kafkajs",topic="lag-orders",partition="0",member_host="[^"]*127\.0\.0\.1",consumer_id="js-member-[^"]+",client_id="js-member"/,
  )
  assert.equal(series.get(kle), '20')
  assert.ok(series.has(kle.replace('kafka_consumergroup_group_lag{', 'kafka_consumergroup_group_lag_seconds{')))
  assert.equal(series.get('kafka_consumergroup_group_max_lag{cluster_name="test",group="lag-kafkajs",is_simple_consumer="false"}'), '20')
  assert.equal(series.get('kafka_consumergroup_group_sum_lag{cluster_name="test",group="lag-kafkajs"}'), '50')
  assert.equal(series.get(`kafka_partition_latest_offset{cluster_name="test",topic="${TOPIC}",partition="0"}`), '30')
  assert.equal(series.get('cohort_lag_group_recommended_consumers{cluster_name="test",group="lag-kafkajs"}'), '3')
  assert.equal(out, '', '--quiet prints no view')
  child.kill('SIGINT')
  assert.equal(await exited, 0)
  await assert.rejects(fetch(url), 'the endpoint is closed after SIGINT')
})
