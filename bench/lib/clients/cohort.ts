/**
 * Cohort's client as a user would drive it for throughput: `Producer.sendBatch()`
 * with the same batches as the other clients' send() calls (produceInBatches); the group `Consumer` with
 * `run({ eachBatch })`.
 */
import { Consumer, Producer, type ProducerRecord, silentLogger } from '../../../src/client/index.ts'
import {
  type ClientTuning,
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

export async function produce(
  bootstrap: string,
  job: ProduceJob,
  index: number,
  tuning: ClientTuning,
  timeoutMs: number,
): Promise<ProduceResult> {
  const producer = new Producer({
    bootstrapServers: bootstrap,
    clientId: 'bench-cohort',
    acks: job.acks,
    compression: 'none',
    batchSize: tuning.cohort.batchSize,
    lingerMs: tuning.cohort.lingerMs,
  })
  await producer.cluster.topic(job.topic, { autoCreate: false })
  const value = payload(job.size)
  const result = await produceInBatches(job, index, timeoutMs, (k) => {
    const records = new Array<ProducerRecord>(k)
    for (let j = 0; j < k; j++) records[j] = { topic: job.topic, value }
    return producer.sendBatch(records)
  })
  await producer.close({ timeoutMs: 5000 })
  return result
}

/** The group consumer both jobs use: Cohort's defaults, from the earliest offset, no log output. */
function groupConsumer(bootstrap: string, groupId: string): Consumer {
  return new Consumer({ bootstrapServers: bootstrap, clientId: 'bench-cohort', groupId, autoOffsetReset: 'earliest', logger: silentLogger })
}

export async function consume(bootstrap: string, job: ConsumeJob, index: number, timeoutMs: number): Promise<ConsumeResult> {
  const check = new DeliveryCheck(job.partitions, job.count, job.size)
  const w = new Window(index)
  const t0 = performance.now()
  let first = 0
  const consumer = groupConsumer(bootstrap, job.groupId)
  consumer.subscribe([job.topic])
  let closing: Promise<void> | null = null
  const running = consumer.run({
    eachBatch: (batch) => {
      if (first === 0) {
        first = performance.now()
        w.start()
      }
      const p = batch.partition
      for (const m of batch.messages) check.add(p, Number(m.offset), m.value?.length ?? -1)
      if (check.done) {
        w.end()
        closing ??= consumer.close()
      }
    },
  })
  const timedOut = await within(
    running.then(() => false),
    timeoutMs,
    () => true,
  )
  await (closing ?? consumer.close({ timeoutMs: 1000 }))
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
  const producer = new Producer({
    bootstrapServers: bootstrap,
    clientId: 'bench-cohort',
    acks: job.acks,
    compression: 'none',
    lingerMs: job.lingerMs,
  })
  const consumer = groupConsumer(bootstrap, job.groupId)
  let running: Promise<void> = Promise.resolve()
  return runLatency(
    job,
    {
      startConsumer: async (onValue) => {
        consumer.subscribe([job.topic])
        running = consumer.run({
          eachBatch: (batch) => {
            for (const m of batch.messages) if (m.value) onValue(m.value)
          },
        })
      },
      send: (value) => {
        producer.send({ topic: job.topic, value }).catch(() => {})
      },
      stop: async () => {
        await consumer.close()
        await running
        await producer.close({ timeoutMs: 5000 })
      },
    },
    timeoutMs,
  )
}
