/**
 * Buffer reuse end to end, against Cohort's broker in process: the producer encodes
 * batches into pooled buffers and the consumer receives large Fetch responses into
 * pooled frames, so records must own their bytes. Many batches and many large fetches
 * go through; every record is kept until the end and must still hold what was sent.
 */
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { Admin, throwIfErrors } from '../../src/admin/index.ts'
import { Consumer, type ConsumerRecord, type Message, Producer, SimpleConsumer, silentLogger } from '../../src/client/index.ts'
import { startBroker, type TestBroker } from '../helpers/broker.ts'

let b: TestBroker
let admin: Admin

before(async () => {
  b = await startBroker({ 'log.flush.mode': 'os' })
  admin = new Admin({ bootstrapServers: b.bootstrap })
})

after(async () => {
  await admin?.close()
  await b?.stop()
})

/** A value that says which record it is, of a size that varies with it. */
function recordValue(i: number): Buffer {
  const v = Buffer.alloc(40 + ((i * 37) % 700), i % 251)
  v.writeUInt32BE(i, 0)
  return v
}

function check(values: Iterable<Buffer | null>, count: number): void {
  const seen = new Set<number>()
  for (const v of values) {
    assert.ok(v)
    const i = v.readUInt32BE(0)
    assert.deepEqual(v, recordValue(i), `record ${i} changed after it was delivered`)
    seen.add(i)
  }
  assert.equal(seen.size, count)
}

async function produce(topic: string, count: number, compression: 'none' | 'lz4', partition?: number): Promise<void> {
  // Small batches and a small buffer pool: batch buffers go round many times.
  const producer = new Producer({ bootstrapServers: b.bootstrap, acks: 1, compression, batchSize: 4096, lingerMs: 1 })
  for (let i = 0; i < count; i += 2000) {
    const sends = []
    for (let j = i; j < Math.min(count, i + 2000); j++)
      sends.push(producer.send({ topic, value: recordValue(j), key: `k${j % 97}`, partition }))
    await Promise.all(sends)
  }
  await producer.close()
}

test('records produced through pooled batch buffers and fetched into pooled frames keep their bytes', async () => {
  const topic = 'buffers-simple'
  throwIfErrors(await admin.createTopics([{ name: topic, partitions: 4, replicationFactor: 1 }]))
  const COUNT = 40_000
  await produce(topic, COUNT, 'none')
  // Small per-partition fetches: many responses, every one above the pooled-frame size.
  const c = new SimpleConsumer({ bootstrapServers: b.bootstrap, maxPartitionFetchBytes: 256 * 1024, fetchMaxWaitMs: 50 })
  c.assign([0, 1, 2, 3].map((partition) => ({ topic, partition, offset: 'earliest' as const })))
  const kept: ConsumerRecord[] = []
  for await (const r of c.records({ exitAtEnd: true })) kept.push(r)
  await c.close()
  assert.equal(kept.length, COUNT)
  check(
    kept.map((r) => r.value),
    COUNT,
  )
})

test('the group consumer keeps plain and compressed records intact across reused frames', async () => {
  const topic = 'buffers-group'
  throwIfErrors(await admin.createTopics([{ name: topic, partitions: 2, replicationFactor: 1 }]))
  await produce(topic, 15_000, 'none', 0)
  await produce(topic, 15_000, 'lz4', 1)
  const consumer = new Consumer({
    bootstrapServers: b.bootstrap,
    groupId: 'buffers-group',
    autoOffsetReset: 'earliest',
    maxPartitionFetchBytes: 128 * 1024,
    logger: silentLogger,
  })
  consumer.subscribe([topic])
  const kept: Message[] = []
  await consumer.run({
    eachBatch: async (batch) => {
      kept.push(...batch.messages)
      if (kept.length >= 30_000) await consumer.close()
    },
  })
  assert.equal(kept.length, 30_000)
  const byPartition = [0, 1].map((p) => kept.filter((m) => m.partition === p))
  for (const list of byPartition) {
    assert.equal(list.length, 15_000)
    for (const [i, m] of list.entries()) assert.equal(m.offset, BigInt(i))
  }
  // Values 0..14999 went to partition 0 and (again) to partition 1: each partition holds each once.
  for (const list of byPartition)
    check(
      list.map((m) => m.value),
      15_000,
    )
})
