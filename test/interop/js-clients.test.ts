/**
 * kafkajs 2.2.4 and @platformatic/kafka 1.x against the broker: each
 * creates a topic, produces 100k keyed records and reads them back through a
 * consumer group, complete and in order per partition.
 */
import { after, before, test } from 'node:test'
import {
  Admin as PltAdmin,
  Consumer as PltConsumer,
  Producer as PltProducer,
  stringDeserializers,
  stringSerializers,
} from '@platformatic/kafka'
import { CompressionTypes, Kafka, logLevel } from 'kafkajs'
import { startBroker, type TestBroker } from '../helpers/broker.ts'
import { assertCompleteInOrder } from '../helpers/verify.ts'

const COUNT = 100_000
const CHUNK = 1000
let b: TestBroker

before(async () => {
  b = await startBroker({ 'log.flush.mode': 'os' })
})
after(async () => {
  await b.stop()
})

for (const [label, compression] of [
  ['gzip', CompressionTypes.GZIP],
  ['uncompressed', CompressionTypes.None],
] as const) {
  test(`kafkajs produces 100k keyed records (${label}) and a consumer group reads them back`, async () => {
    const topic = `kafkajs-${label}`
    const kafka = new Kafka({ clientId: 'interop', brokers: [b.bootstrap], logLevel: logLevel.NOTHING })
    const admin = kafka.admin()
    await admin.connect()
    await admin.createTopics({ topics: [{ topic, numPartitions: 3 }] })
    await admin.disconnect()

    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 })
    await producer.connect()
    for (let i = 0; i < COUNT; i += CHUNK) {
      const messages = []
      for (let j = i; j < i + CHUNK; j++) messages.push({ key: `key-${j % 1000}`, value: String(j) })
      await producer.send({ topic, compression, acks: -1, messages })
    }
    await producer.disconnect()

    const consumed: Record<string, number[]> = {}
    let total = 0
    const consumer = kafka.consumer({ groupId: `g-${topic}`, sessionTimeout: 10000, heartbeatInterval: 1000 })
    await consumer.connect()
    await consumer.subscribe({ topic, fromBeginning: true })
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`only ${total} records after 120 s`)), 120_000)
      consumer
        .run({
          eachBatch: async ({ batch }) => {
            for (const m of batch.messages) {
              ;(consumed[batch.partition] ??= []).push(Number(m.value?.toString()))
              total++
            }
            if (total >= COUNT) {
              clearTimeout(timer)
              resolve()
            }
          },
        })
        .catch(reject)
    })
    await consumer.disconnect()
    assertCompleteInOrder(consumed, COUNT)
  })
}

for (const compression of ['lz4', 'snappy'] as const) {
  test(`@platformatic/kafka produces 100k keyed records (${compression}) and a consumer group reads them back`, async () => {
    const topic = `platformatic-${compression}`
    const admin = new PltAdmin({ clientId: 'interop', bootstrapBrokers: [b.bootstrap] })
    await admin.createTopics({ topics: [topic], partitions: 3, replicas: 1 })
    await admin.close()

    const producer = new PltProducer({
      clientId: 'interop',
      bootstrapBrokers: [b.bootstrap],
      serializers: stringSerializers,
      compression,
      idempotent: true,
    })
    for (let i = 0; i < COUNT; i += CHUNK) {
      const messages = []
      for (let j = i; j < i + CHUNK; j++) messages.push({ topic, key: `key-${j % 1000}`, value: String(j) })
      await producer.send({ messages })
    }
    await producer.close()

    const consumer = new PltConsumer({
      clientId: 'interop',
      groupId: `g-${topic}`,
      bootstrapBrokers: [b.bootstrap],
      deserializers: stringDeserializers,
      sessionTimeout: 10000,
      heartbeatInterval: 1000,
    })
    const stream = await consumer.consume({ topics: [topic], mode: 'earliest', autocommit: true })
    const consumed: Record<string, number[]> = {}
    let total = 0
    const deadline = setTimeout(() => void stream.close(), 120_000)
    for await (const m of stream) {
      ;(consumed[m.partition] ??= []).push(Number(m.value))
      if (++total >= COUNT) break
    }
    clearTimeout(deadline)
    await stream.close()
    await consumer.close()
    assertCompleteInOrder(consumed, COUNT)
  })
}
