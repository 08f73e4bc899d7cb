/**
 * @platformatic/kafka 1.x as its README drives it: `producer.send({ messages })`
 * with a list per call, several calls in flight (a window of them awaited with
 * Promise.all; the client keeps up to 5 requests in flight per connection); the
 * consumer's `consume()` stream read with `for await`. Defaults otherwise (no
 * idempotence, Buffer serialisers, 10 MB per fetch).
 */
import { Consumer, type MessageToProduce, Producer } from '@platformatic/kafka'
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

export async function produce(bootstrap: string, job: ProduceJob, index: number, timeoutMs: number): Promise<ProduceResult> {
  const producer = new Producer({ clientId: 'bench-platformatic', bootstrapBrokers: [bootstrap], acks: job.acks })
  await producer.metadata({ topics: [job.topic] })
  const value = payload(job.size)
  const result = await produceInBatches(job, index, timeoutMs, (k) => {
    const messages = new Array<MessageToProduce<Buffer, Buffer, Buffer, Buffer>>(k)
    for (let j = 0; j < k; j++) messages[j] = { topic: job.topic, value }
    return producer.send({ messages, acks: job.acks })
  })
  await producer.close()
  return result
}

export async function consume(bootstrap: string, job: ConsumeJob, index: number, timeoutMs: number): Promise<ConsumeResult> {
  const check = new DeliveryCheck(job.partitions, job.count, job.size)
  const w = new Window(index)
  const t0 = performance.now()
  let first = 0
  const consumer = new Consumer({ clientId: 'bench-platformatic', groupId: job.groupId, bootstrapBrokers: [bootstrap] })
  const stream = await consumer.consume({ topics: [job.topic], mode: 'earliest', autocommit: true })
  const read = async (): Promise<void> => {
    for await (const m of stream) {
      if (first === 0) {
        first = performance.now()
        w.start()
      }
      if (check.add(m.partition, Number(m.offset), m.value?.length ?? -1)) break
    }
    w.end()
  }
  const timedOut = await within(
    read().then(() => false),
    timeoutMs,
    () => true,
  )
  await stream.close()
  await consumer.close(true)
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
  const producer = new Producer({ clientId: 'bench-platformatic', bootstrapBrokers: [bootstrap], acks: job.acks })
  const consumer = new Consumer({ clientId: 'bench-platformatic', groupId: job.groupId, bootstrapBrokers: [bootstrap] })
  let stream: Awaited<ReturnType<typeof consumer.consume>> | null = null
  return runLatency(
    job,
    {
      startConsumer: async (onValue) => {
        stream = await consumer.consume({ topics: [job.topic], mode: 'earliest', autocommit: true })
        stream.on('data', (m) => onValue(m.value))
      },
      send: (value) => {
        producer.send({ messages: [{ topic: job.topic, value }], acks: job.acks }).catch(() => {})
      },
      stop: async () => {
        await stream?.close()
        await consumer.close(true)
        await producer.close()
      },
    },
    timeoutMs,
  )
}
