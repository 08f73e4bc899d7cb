/**
 * kafkajs 2.2.4 as its documentation drives it for throughput: `producer.send()`
 * with a list of messages per call, several calls in flight (a window of them
 * awaited with Promise.all); the consumer with `run({ eachBatch })`. Defaults
 * otherwise (no idempotence, maxInFlightRequests unlimited, 1 MB per partition
 * per fetch).
 */
import { Kafka, logLevel, type Message } from 'kafkajs'
import {
  type ConsumeJob,
  type ConsumeResult,
  DeliveryCheck,
  type LatencyJob,
  type LatencyResult,
  type ProduceJob,
  type ProduceResult,
  payload,
  produceInBatches,
  runLatency,
  Window,
  within,
} from './common.ts'

function client(bootstrap: string): Kafka {
  return new Kafka({ clientId: 'bench-kafkajs', brokers: [bootstrap], logLevel: logLevel.NOTHING })
}

export async function produce(bootstrap: string, job: ProduceJob, index: number, timeoutMs: number): Promise<ProduceResult> {
  const producer = client(bootstrap).producer()
  await producer.connect()
  const value = payload(job.size)
  const result = await produceInBatches(job, index, timeoutMs, (k) => {
    const messages = new Array<Message>(k)
    for (let j = 0; j < k; j++) messages[j] = { value }
    return producer.send({ topic: job.topic, acks: job.acks, messages })
  })
  await producer.disconnect()
  return result
}

export async function consume(bootstrap: string, job: ConsumeJob, index: number, timeoutMs: number): Promise<ConsumeResult> {
  const check = new DeliveryCheck(job.partitions, job.count, job.size)
  const w = new Window(index)
  const t0 = performance.now()
  let first = 0
  const consumer = client(bootstrap).consumer({ groupId: job.groupId })
  await consumer.connect()
  await consumer.subscribe({ topic: job.topic, fromBeginning: true })
  let finished: () => void = () => {}
  const done = new Promise<void>((r) => (finished = r))
  await consumer.run({
    eachBatch: async ({ batch }) => {
      if (first === 0) {
        first = performance.now()
        w.start()
      }
      const p = batch.partition
      for (const m of batch.messages) check.add(p, Number(m.offset), m.value?.length ?? -1)
      if (check.done) {
        w.end()
        finished()
      }
    },
  })
  const timedOut = await within(
    done.then(() => false),
    timeoutMs,
    () => true,
  )
  await consumer.disconnect()
  return {
    kind: 'consume',
    delivery: check.result(),
    startSeconds: first === 0 ? Number.NaN : (first - t0) / 1000,
    seconds: w.seconds,
    cpuMicros: w.cpuMicros,
    sysMicros: w.sysMicros,
    timedOut,
  }
}

export async function latency(bootstrap: string, job: LatencyJob, timeoutMs: number): Promise<LatencyResult> {
  const kafka = client(bootstrap)
  const producer = kafka.producer()
  const consumer = kafka.consumer({ groupId: job.groupId })
  await producer.connect()
  return runLatency(
    job,
    {
      startConsumer: async (onValue) => {
        await consumer.connect()
        await consumer.subscribe({ topic: job.topic, fromBeginning: true })
        await consumer.run({
          eachBatch: async ({ batch }) => {
            for (const m of batch.messages) if (m.value) onValue(m.value)
          },
        })
      },
      send: (value) => {
        producer.send({ topic: job.topic, acks: job.acks, messages: [{ value }] }).catch(() => {})
      },
      stop: async () => {
        await consumer.disconnect()
        await producer.disconnect()
      },
    },
    timeoutMs,
  )
}
