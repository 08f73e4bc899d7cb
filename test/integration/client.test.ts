/**
 * The client against Cohort's broker, in process: topics through Admin,
 * 10k keyed records per codec through the Producer, read back with the
 * SimpleConsumer, keys checked against kafka-python's partitioner, config
 * round trips and DeleteRecords.
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { Admin, throwIfErrors } from '../../src/admin/index.ts'
import { Broker } from '../../src/broker/broker.ts'
import {
  Cluster,
  type CompressionName,
  type ConsumerRecord,
  KafkaError,
  keyPartition,
  Producer,
  SimpleConsumer,
} from '../../src/client/index.ts'
import { Fetch, Produce } from '../../src/protocol/apis/index.ts'

let broker: Broker
let dir: string
let admin: Admin

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cohort-client-'))
  broker = await Broker.start({ config: { port: 0, 'log.dirs': dir, 'log.flush.mode': 'os' }, log: () => {} })
  admin = new Admin({ bootstrapServers: broker.bootstrap })
})

after(async () => {
  await admin?.close()
  await broker?.close()
  rmSync(dir, { recursive: true, force: true })
})

const N = 10_000
const PARTITIONS = 6
const keys = Array.from({ length: N }, (_, i) => `key-${i}`)

/** kafka-python's DefaultPartitioner for each key, or null when kafka-python is not installed. */
function kafkaPythonPartitions(): number[] | null {
  const script = [
    'import sys, json',
    'from kafka.partitioner.default import murmur2',
    'n = int(sys.argv[1])',
    'print(json.dumps([(murmur2(k.encode()) & 0x7fffffff) % n for k in json.load(sys.stdin)]))',
  ].join('\n')
  const r = spawnSync('/usr/bin/python3', ['-c', script, String(PARTITIONS)], {
    input: JSON.stringify(keys),
    encoding: 'utf8',
    maxBuffer: 1 << 24,
  })
  return r.status === 0 ? (JSON.parse(r.stdout) as number[]) : null
}

async function consumeAll(topic: string, partitions: number, total: number): Promise<ConsumerRecord[]> {
  const c = new SimpleConsumer({ bootstrapServers: broker.bootstrap })
  c.assign(Array.from({ length: partitions }, (_, partition) => ({ topic, partition, offset: 'earliest' as const })))
  const out: ConsumerRecord[] = []
  const timer = setTimeout(() => void c.close(), 30_000)
  try {
    for await (const r of c) {
      out.push(r)
      if (out.length === total) break
    }
  } finally {
    clearTimeout(timer)
    await c.close()
  }
  return out
}

const python = kafkaPythonPartitions()
if (!python) process.stderr.write('kafka-python is not installed: key partitions are checked against our murmur2 only\n')

for (const compression of ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as CompressionName[]) {
  test(`${N} keyed records with ${compression}: all read back, in order per partition, on kafka-python's partitions`, async () => {
    const topic = `codec-${compression}`
    const created = await admin.createTopics([{ name: topic, partitions: PARTITIONS, replicationFactor: 1 }])
    throwIfErrors(created)
    assert.equal(created.get(topic)?.partitions, PARTITIONS)

    const p = new Producer({ bootstrapServers: broker.bootstrap, compression, clientId: `it-${compression}` })
    const metas = await Promise.all(keys.map((key, i) => p.send({ topic, key, value: `${compression}-${i}`, headers: { i: String(i) } })))
    await p.close()

    const sent = new Map<number, string[]>()
    metas.forEach((m, i) => {
      assert.equal(m.topic, topic)
      assert.equal(m.partition, keyPartition(Buffer.from(keys[i] as string), PARTITIONS))
      if (python) assert.equal(m.partition, python[i], `key ${keys[i]}`)
      const list = sent.get(m.partition) ?? []
      assert.equal(m.offset, BigInt(list.length), 'offsets are dense and follow send order')
      list.push(`${compression}-${i}`)
      sent.set(m.partition, list)
    })

    const got = await consumeAll(topic, PARTITIONS, N)
    assert.equal(got.length, N)
    for (let part = 0; part < PARTITIONS; part++) {
      const recs = got.filter((r) => r.partition === part)
      assert.deepEqual(
        recs.map((r) => r.value?.toString()),
        sent.get(part) ?? [],
        `partition ${part}`,
      )
      recs.forEach((r, i) => {
        assert.equal(r.offset, BigInt(i))
        const n = Number(r.headers[0]?.value?.toString())
        assert.equal(r.key?.toString(), keys[n])
        assert.equal(r.highWatermark >= BigInt(i + 1), true)
      })
    }
  })
}

test('the client negotiates the newest versions the broker advertises', async () => {
  const cluster = new Cluster({ bootstrapServers: broker.bootstrap })
  try {
    const meta = await cluster.refreshMetadata([])
    const [id] = [...meta.brokers.keys()]
    const nc = await cluster.connection(id as number)
    assert.equal(nc.versions.apiVersionsVersion, 3)
    assert.equal(nc.versions.pick(Produce), Math.min(Produce.versions.max, nc.versions.brokerRange(Produce.key)?.max ?? -1))
    assert.equal(nc.versions.pick(Fetch), Math.min(Fetch.versions.max, nc.versions.brokerRange(Fetch.key)?.max ?? -1))
  } finally {
    await cluster.close()
  }
})

test('acks=1 and acks=0 producers deliver too; unkeyed records stick to a partition per batch', async () => {
  const topic = 'acks'
  throwIfErrors(await admin.createTopics([{ name: topic, partitions: 3 }]))
  const one = new Producer({ bootstrapServers: broker.bootstrap, acks: 1 })
  const ms = await Promise.all(Array.from({ length: 100 }, (_, i) => one.send({ topic, value: `one-${i}` })))
  assert.ok(
    new Set(ms.map((m) => m.partition)).size <= 2,
    'a small burst of unkeyed records stays on one partition (or two at a batch boundary)',
  )
  await one.close()
  const zero = new Producer({ bootstrapServers: broker.bootstrap, acks: 0 })
  await Promise.all(Array.from({ length: 100 }, (_, i) => zero.send({ topic, value: `zero-${i}`, partition: 2 })))
  await zero.close()
  const got = await consumeAll(topic, 3, 200)
  assert.equal(got.filter((r) => r.value?.toString().startsWith('zero-')).length, 100)
})

test('createTopics reports TOPIC_ALREADY_EXISTS per item; describeTopics and listTopics see the topic', async () => {
  throwIfErrors(await admin.createTopics([{ name: 'meta-a', partitions: 2, configs: { 'cleanup.policy': 'delete' } }]))
  const again = await admin.createTopics([{ name: 'meta-a', partitions: 2 }])
  assert.equal(again.get('meta-a')?.error?.code, 36)
  assert.throws(() => throwIfErrors(again), /TOPIC_ALREADY_EXISTS/)
  const d = await admin.describeTopics(['meta-a', 'meta-missing'])
  assert.equal(d.get('meta-a')?.partitions.length, 2)
  assert.equal(d.get('meta-a')?.error, null)
  assert.ok(d.get('meta-a')?.partitions.every((p) => p.leader >= 0 && p.replicas.includes(p.leader) && p.isr.includes(p.leader)))
  assert.equal(d.get('meta-missing')?.error?.code, 3)
  const list = await admin.listTopics()
  assert.equal(list.get('meta-a')?.partitions, 2)
  assert.equal(list.get('meta-a')?.topicId, d.get('meta-a')?.topicId)
  const validate = await admin.createTopics([{ name: 'meta-validate', partitions: 1 }], { validateOnly: true })
  assert.equal(validate.get('meta-validate')?.error, null)
  assert.equal((await admin.listTopics()).has('meta-validate'), false, 'validateOnly creates nothing')
})

test('describeConfigs / alterConfigs round trip (set, then delete back to the default)', async () => {
  const topic = 'configs'
  throwIfErrors(await admin.createTopics([{ name: topic, partitions: 1 }]))
  const before = await admin.describeConfigs(topic)
  const retention = before.get('retention.ms')
  assert.ok(retention, 'retention.ms is described')
  assert.notEqual(retention?.source, 'topic')

  await admin.alterConfigs(topic, { set: { 'retention.ms': '3600000', 'max.message.bytes': '200000' } })
  const set = await admin.describeConfigs(topic)
  assert.equal(set.get('retention.ms')?.value, '3600000')
  assert.equal(set.get('retention.ms')?.source, 'topic')
  assert.equal(set.get('max.message.bytes')?.value, '200000')

  await admin.alterConfigs(topic, { delete: ['retention.ms'] })
  const reverted = await admin.describeConfigs(topic)
  assert.equal(reverted.get('retention.ms')?.value, retention?.value)
  assert.notEqual(reverted.get('retention.ms')?.source, 'topic')
  assert.equal(reverted.get('max.message.bytes')?.value, '200000', 'other overrides stay')

  await assert.rejects(
    admin.alterConfigs(topic, { set: { 'retention.ms': 'not-a-number' } }),
    (e: unknown) => e instanceof KafkaError && e.code === 40,
  )
  await assert.rejects(admin.describeConfigs('configs-missing'), (e: unknown) => e instanceof KafkaError && e.code === 3)
})

test('deleteRecords moves the earliest offset; listOffsets earliest/latest/timestamp follow', async () => {
  const topic = 'trim'
  throwIfErrors(await admin.createTopics([{ name: topic, partitions: 1 }]))
  const p = new Producer({ bootstrapServers: broker.bootstrap, lingerMs: 0 })
  const t0 = Date.now()
  for (let i = 0; i < 10; i++) await p.send({ topic, value: `v${i}`, timestamp: t0 + i * 1000 })
  await p.close()
  assert.equal((await admin.listOffsets(topic, 0, 'earliest')).get(0)?.offset, 0n)
  assert.equal((await admin.listOffsets(topic, 0, 'latest')).get(0)?.offset, 10n)
  assert.equal((await admin.listOffsets(topic, 0, { timestamp: t0 + 4500 })).get(0)?.offset, 5n)
  assert.equal((await admin.listOffsets(topic, 0, { timestamp: t0 + 60_000 })).get(0)?.offset, -1n)

  const [r] = await admin.deleteRecords({ topic, partition: 0, offset: 4n })
  assert.equal(r?.error, null)
  assert.equal(r?.lowWatermark, 4n)
  assert.equal((await admin.listOffsets(topic, 0, 'earliest')).get(0)?.offset, 4n)

  const got = await consumeAll(topic, 1, 6)
  assert.deepEqual(
    got.map((x) => x.offset),
    [4n, 5n, 6n, 7n, 8n, 9n],
  )
  const [bad] = await admin.deleteRecords({ topic, partition: 0, offset: 99n })
  assert.equal(bad?.error?.code, 1, 'beyond the high watermark: OFFSET_OUT_OF_RANGE')
})

test('createPartitions grows a topic and deleteTopics removes it', async () => {
  throwIfErrors(await admin.createTopics([{ name: 'grow', partitions: 1 }]))
  await admin.createPartitions('grow', 3)
  assert.equal((await admin.describeTopics(['grow'])).get('grow')?.partitions.length, 3)
  await assert.rejects(admin.createPartitions('grow', 2), (e: unknown) => e instanceof KafkaError && e.code === 37)
  throwIfErrors(await admin.deleteTopics(['grow']))
  assert.equal((await admin.listTopics()).has('grow'), false)
  assert.equal((await admin.deleteTopics(['grow'])).get('grow')?.error?.code, 3)
})

test('describeCluster names the broker as controller', async () => {
  const d = await admin.describeCluster()
  assert.ok(d.clusterId)
  assert.equal(d.brokers.length, 1)
  assert.equal(d.controllerId, d.brokers[0]?.nodeId)
  assert.equal(`${d.brokers[0]?.host}:${d.brokers[0]?.port}`, broker.bootstrap)
})

test('records({ exitAtEnd }) stops at the end of every partition, like kcat -e', async () => {
  const topic = 'to-the-end'
  throwIfErrors(await admin.createTopics([{ name: topic, partitions: 2 }]))
  const p = new Producer({ bootstrapServers: broker.bootstrap })
  await Promise.all(Array.from({ length: 50 }, (_, i) => p.send({ topic, key: `k${i}`, value: `v${i}` })))
  await p.close()
  const c = new SimpleConsumer({ bootstrapServers: broker.bootstrap, autoOffsetReset: 'earliest' })
  c.assign([0, 1].map((partition) => ({ topic, partition })))
  let n = 0
  for await (const r of c.records({ exitAtEnd: true })) {
    assert.ok(r.timestamp > 0n)
    n++
  }
  await c.close()
  assert.equal(n, 50)
})

test('producing to an invalid topic name fails at once with INVALID_TOPIC_EXCEPTION', async () => {
  const p = new Producer({ bootstrapServers: broker.bootstrap })
  const t0 = Date.now()
  await assert.rejects(p.send({ topic: 'bad name!', value: 'x' }), (e: unknown) => e instanceof KafkaError && e.code === 17)
  assert.ok(Date.now() - t0 < 5000)
  await p.close()
})

test('a consumer reading a topic that gets deleted reports UNKNOWN_TOPIC_OR_PARTITION', async () => {
  throwIfErrors(await admin.createTopics([{ name: 'doomed', partitions: 1 }]))
  const p = new Producer({ bootstrapServers: broker.bootstrap })
  await p.send({ topic: 'doomed', value: 'a' })
  await p.close()
  const c = new SimpleConsumer({ bootstrapServers: broker.bootstrap, autoOffsetReset: 'earliest' })
  c.assign([{ topic: 'doomed', partition: 0 }])
  const it = c.records()
  assert.equal((await it.next()).value?.offset, 0n)
  throwIfErrors(await admin.deleteTopics(['doomed']))
  await assert.rejects(it.next(), (e: unknown) => e instanceof KafkaError && e.code === 3)
  await c.close()
})

test('batches larger than the topic allows are split until they fit: every record lands once, in order', async () => {
  const topic = 'split-too-large'
  throwIfErrors(await admin.createTopics([{ name: topic, partitions: 1, configs: { 'max.message.bytes': '3000' } }]))
  const p = new Producer({ bootstrapServers: broker.bootstrap, batchSize: 64 * 1024, lingerMs: 20 })
  const value = (i: number) => Buffer.alloc(500, i % 251)
  const ms = await p.sendBatch(Array.from({ length: 40 }, (_, i) => ({ topic, value: value(i) })))
  assert.deepEqual(
    ms.map((m) => m.offset),
    Array.from({ length: 40 }, (_, i) => BigInt(i)),
  )
  const got = await consumeAll(topic, 1, 40)
  assert.deepEqual(
    got.map((r) => r.offset),
    ms.map((m) => m.offset),
  )
  for (const [i, r] of got.entries()) assert.ok(r.value?.equals(value(i)))
  // One record larger than the topic allows still fails, with the broker's error.
  await assert.rejects(p.send({ topic, value: Buffer.alloc(4000) }), (e: unknown) => e instanceof KafkaError && e.code === 10)
  await p.close()
})
