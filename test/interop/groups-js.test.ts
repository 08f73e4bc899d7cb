/**
 * Consumer groups (classic protocol) with kafkajs 2.2.4 and @platformatic/kafka against the broker:
 * members of one group split a topic (disjoint, non-empty shares covering every partition, as the
 * coordinator stored them), and a new member resumes exactly after the offsets the previous one committed.
 */
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { Consumer as PltConsumer, type Message as PltMessage, stringDeserializers } from '@platformatic/kafka'
import { Kafka, type Consumer as KafkaJsConsumer, logLevel } from 'kafkajs'
import { decodeAssignment, type GroupSnapshot } from '../../src/broker/coordinator/index.ts'
import { startBroker, type TestBroker } from '../helpers/broker.ts'

let b: TestBroker
let kafka: Kafka

before(async () => {
  b = await startBroker({ 'log.flush.mode': 'os', 'group.min.session.timeout.ms': 1000 })
  kafka = new Kafka({ clientId: 'groups-js', brokers: [b.bootstrap], logLevel: logLevel.NOTHING })
})
after(async () => {
  await b.stop()
})

async function waitUntil(cond: () => boolean, what: string, timeoutMs = 30_000, describe: () => string = () => ''): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!cond()) {
    if (Date.now() > deadline) assert.fail(`timed out after ${timeoutMs} ms waiting until ${what}\n${describe()}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

function group(groupId: string): GroupSnapshot | undefined {
  return b.broker.context.groups.coordinator.group(groupId)
}

/** member id → partitions of `topic` the coordinator stored for it. */
function storedAssignment(groupId: string, topic: string): Map<string, number[]> {
  const out = new Map<string, number[]>()
  for (const m of group(groupId)?.members ?? []) {
    const ps = decodeAssignment(m.assignment)
      .assignedPartitions.filter((tp) => tp.topic === topic)
      .flatMap((tp) => tp.partitions)
    out.set(
      m.memberId,
      ps.sort((x, y) => x - y),
    )
  }
  return out
}

/** What one client member last reported: its member id and its partitions of the topic. */
interface Reported {
  memberId: string
  partitions: number[]
}

/**
 * The group is Stable with one coordinator member per client member, each client's own view of its
 * assignment equals what the coordinator stored, the shares are non-empty and disjoint, and their union is
 * every partition.
 */
function split(groupId: string, topic: string, partitions: number, reported: (Reported | undefined)[]): boolean {
  const g = group(groupId)
  if (g?.state !== 'Stable' || g.members.length !== reported.length) return false
  const stored = storedAssignment(groupId, topic)
  const all: number[] = []
  for (const r of reported) {
    if (r === undefined) return false
    const mine = stored.get(r.memberId)
    if (mine === undefined || JSON.stringify(mine) !== JSON.stringify(r.partitions) || mine.length === 0) return false
    all.push(...mine)
  }
  all.sort((x, y) => x - y)
  return JSON.stringify(all) === JSON.stringify(Array.from({ length: partitions }, (_, i) => i))
}

async function splitAndSettle(groupId: string, topic: string, partitions: number, reported: () => (Reported | undefined)[]) {
  const describe = () => `${JSON.stringify(group(groupId)?.state)} stored ${JSON.stringify([...storedAssignment(groupId, topic)])}
reported ${JSON.stringify(reported())}\n${b.logs.filter((l) => l.includes(groupId)).join('\n')}`
  for (;;) {
    await waitUntil(() => split(groupId, topic, partitions, reported()), `${reported().length} members split ${topic}`, 30_000, describe)
    await new Promise((r) => setTimeout(r, 200))
    if (split(groupId, topic, partitions, reported())) return
  }
}

async function createTopic(topic: string, numPartitions: number, perPartition: number): Promise<void> {
  const admin = kafka.admin()
  await admin.connect()
  await admin.createTopics({ topics: [{ topic, numPartitions }], waitForLeaders: true })
  await admin.disconnect()
  const producer = kafka.producer()
  await producer.connect()
  const messages = []
  for (let p = 0; p < numPartitions; p++) for (let i = 0; i < perPartition; i++) messages.push({ partition: p, value: `${p}-${i}` })
  await producer.send({ topic, acks: -1, messages })
  await producer.disconnect()
}

function committed(groupId: string, topic: string, partition: number): bigint | undefined {
  return b.broker.context.groups.coordinator.committedOffset(groupId, topic, partition)?.offset
}

// --- kafkajs -------------------------------------------------------------------------------------

interface KafkaJsMember {
  consumer: KafkaJsConsumer
  reported?: Reported
  records: { partition: number; offset: number }[]
}

async function kafkajsMember(
  groupId: string,
  topic: string,
  onMessage?: (m: KafkaJsMember, partition: number, offset: number) => Promise<void>,
) {
  const consumer = kafka.consumer({ groupId, sessionTimeout: 6000, heartbeatInterval: 500, rebalanceTimeout: 10_000, maxWaitTimeInMs: 100 })
  const member: KafkaJsMember = { consumer, records: [] }
  consumer.on(consumer.events.GROUP_JOIN, (e) => {
    member.reported = { memberId: e.payload.memberId, partitions: [...(e.payload.memberAssignment[topic] ?? [])].sort((x, y) => x - y) }
  })
  await consumer.connect()
  await consumer.subscribe({ topic, fromBeginning: true })
  await consumer.run({
    autoCommit: false,
    eachMessage: async ({ partition, message }) => {
      const offset = Number(message.offset)
      member.records.push({ partition, offset })
      await onMessage?.(member, partition, offset)
    },
  })
  return member
}

test('kafkajs: 3 members split a 6-partition topic into disjoint, non-empty shares covering every partition', async () => {
  const topic = 'js-split-kafkajs'
  await createTopic(topic, 6, 10)
  const members: KafkaJsMember[] = []
  for (let i = 0; i < 3; i++) {
    members.push(await kafkajsMember(topic, topic))
    await splitAndSettle(topic, topic, 6, () => members.map((m) => m.reported))
  }
  for (const m of members) assert.equal(m.reported?.partitions.length, 2)
  // The last member's records came only from its own partitions.
  const last = members[2] as KafkaJsMember
  await waitUntil(() => last.records.length > 0, 'the newest member reads records')
  for (const r of last.records) assert.ok(last.reported?.partitions.includes(r.partition), `record from partition ${r.partition}`)
  for (const m of members) await m.consumer.disconnect()
})

test('kafkajs: a new member resumes exactly after the offsets the previous member committed', async () => {
  const topic = 'js-resume-kafkajs'
  await createTopic(topic, 2, 30)
  // The first member processes offsets 0-11 of each partition, commits 12 (the next offset to read), and leaves.
  const first = await kafkajsMember(topic, topic, async (m, partition, offset) => {
    if (offset === 11) await m.consumer.commitOffsets([{ topic, partition, offset: '12' }])
  })
  await waitUntil(() => committed(topic, topic, 0) === 12n && committed(topic, topic, 1) === 12n, 'both partitions are committed at 12')
  await first.consumer.disconnect()
  await waitUntil(() => group(topic)?.state === 'Empty', 'the group is empty')

  const second = await kafkajsMember(topic, topic)
  await waitUntil(() => second.records.filter((r) => r.offset === 29).length === 2, 'the second member reads to the end')
  for (const p of [0, 1]) {
    const offsets = second.records.filter((r) => r.partition === p).map((r) => r.offset)
    assert.deepEqual(
      offsets,
      Array.from({ length: 18 }, (_, i) => 12 + i),
      `partition ${p} resumed at the committed offset`,
    )
  }
  await second.consumer.disconnect()
})

// --- @platformatic/kafka -------------------------------------------------------------------------

interface PltMember {
  consumer: PltConsumer<string, string, string, string>
  reported?: Reported
  records: { partition: number; offset: number }[]
  done: Promise<void>
  close(): Promise<void>
}

async function platformaticMember(
  groupId: string,
  topic: string,
  onMessage?: (m: PltMessage<string, string, string, string>) => Promise<void>,
): Promise<PltMember> {
  const consumer = new PltConsumer({
    clientId: 'groups-js',
    groupId,
    bootstrapBrokers: [b.bootstrap],
    deserializers: stringDeserializers,
    sessionTimeout: 6000,
    heartbeatInterval: 500,
    rebalanceTimeout: 10_000,
  })
  const member = { consumer, records: [] } as unknown as PltMember
  consumer.on('consumer:group:join', (e: { memberId: string; assignments: { topic: string; partitions: number[] }[] }) => {
    const partitions = e.assignments.filter((a) => a.topic === topic).flatMap((a) => a.partitions)
    member.reported = { memberId: e.memberId, partitions: partitions.sort((x, y) => x - y) }
  })
  const stream = await consumer.consume({ topics: [topic], mode: 'committed', fallbackMode: 'earliest', autocommit: false })
  member.done = (async () => {
    for await (const m of stream) {
      member.records.push({ partition: m.partition, offset: Number(m.offset) })
      await onMessage?.(m)
    }
  })()
  member.close = async () => {
    await stream.close()
    await member.done
    await consumer.close()
  }
  return member
}

test('@platformatic/kafka: 3 members split a 6-partition topic into disjoint, non-empty shares covering every partition', async () => {
  const topic = 'js-split-platformatic'
  await createTopic(topic, 6, 10)
  const members: PltMember[] = []
  for (let i = 0; i < 3; i++) {
    members.push(await platformaticMember(topic, topic))
    await splitAndSettle(topic, topic, 6, () => members.map((m) => m.reported))
  }
  for (const m of members) assert.equal(m.reported?.partitions.length, 2)
  for (const m of members) await m.close()
})

test('@platformatic/kafka: a new member resumes exactly after the offsets the previous member committed', async () => {
  const topic = 'js-resume-platformatic'
  await createTopic(topic, 2, 30)
  const first = await platformaticMember(topic, topic, async (m) => {
    if (m.offset <= 11n) await m.commit() // commits offset + 1
  })
  await waitUntil(() => committed(topic, topic, 0) === 12n && committed(topic, topic, 1) === 12n, 'both partitions are committed at 12')
  await first.close()
  await waitUntil(() => group(topic)?.state === 'Empty', 'the group is empty')

  const second = await platformaticMember(topic, topic)
  await waitUntil(() => second.records.filter((r) => r.offset === 29).length === 2, 'the second member reads to the end')
  for (const p of [0, 1]) {
    const offsets = second.records.filter((r) => r.partition === p).map((r) => r.offset)
    assert.deepEqual(
      offsets,
      Array.from({ length: 18 }, (_, i) => 12 + i),
      `partition ${p} resumed at the committed offset`,
    )
  }
  await second.close()
})
