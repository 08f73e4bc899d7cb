/**
 * Cohort's client as a user would drive it for throughput: `Producer.send()` per
 * message, a window of sends awaited with Promise.all; the group `Consumer` with
 * `run({ eachBatch })`.
 */
import { Consumer, Producer, type RecordMetadata, silentLogger } from '../../../src/client/index.ts'
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
  const w = new Window(index)
  let acked = 0
  let failed = 0
  let firstError: string | null = null
  const loop = async (): Promise<void> => {
    w.start()
    for (let sent = 0; sent < job.count; ) {
      const n = Math.min(job.window, job.count - sent)
      const sends = new Array<Promise<RecordMetadata>>(n)
      for (let i = 0; i < n; i++) sends[i] = producer.send({ topic: job.topic, value })
      sent += n
      try {
        await Promise.all(sends)
        acked += n
      } catch {
        // Only after a failure: which records made it.
        for (const r of await Promise.allSettled(sends)) {
          if (r.status === 'fulfilled') acked++
          else {
            failed++
            firstError ??= (r.reason as Error).message
          }
        }
      }
    }
    w.end()
  }
  await within(loop(), timeoutMs, () => undefined)
  const seconds = w.seconds
  const cpuMicros = w.cpuMicros
  const sysMicros = w.sysMicros
  await producer.close({ timeoutMs: 5000 })
  return { kind: 'produce', acked, failed, firstError, seconds, cpuMicros, sysMicros }
}

export async function consume(bootstrap: string, job: ConsumeJob, index: number, timeoutMs: number): Promise<ConsumeResult> {
  const check = new DeliveryCheck(job.partitions, job.count, job.size)
  const w = new Window(index)
  const t0 = performance.now()
  let first = 0
  const consumer = new Consumer({
    bootstrapServers: bootstrap,
    clientId: 'bench-cohort',
    groupId: job.groupId,
    autoOffsetReset: 'earliest',
    logger: silentLogger,
  })
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
  const consumer = new Consumer({
    bootstrapServers: bootstrap,
    clientId: 'bench-cohort',
    groupId: job.groupId,
    autoOffsetReset: 'earliest',
    logger: silentLogger,
  })
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
