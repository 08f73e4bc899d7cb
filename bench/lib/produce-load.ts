/**
 * Produce load: `connections` sockets, each keeping up to `inflight` Produce
 * requests outstanding (as librdkafka's max.in.flight does), every request one
 * pre-built batch for one partition, partitions taken round-robin. Counts
 * what the broker acknowledged inside the measurement window.
 */
import { Produce } from '../../src/protocol/apis/index.ts'
import { decodeResponse } from '../../src/protocol/frame.ts'
import type { BuiltBatch } from './batches.ts'
import type { BrokerProcess } from './broker-proc.ts'
import { type CpuShare, sample, share } from './sampler.ts'
import { type Prebuilt, prebuild, WireConn } from './wire.ts'

export const PRODUCE_VERSION = 9

export interface ProduceOptions {
  host: string
  port: number
  topic: string
  partitions: number
  connections: number
  inflight: number
  batch: BuiltBatch
  acks: -1 | 0 | 1
  warmupMs: number
  durationMs: number
  /** Fill mode: no window, stop once this many batch bytes are acknowledged. */
  stopAfterBytes?: number
  broker?: BrokerProcess
  /** Called when the load starts (warm-up included), e.g. to start an external profiler. */
  onStart?: () => void
}

export interface LoadResult {
  seconds: number
  records: number
  /** Record-batch bytes (what the log stores and the wire carries, minus request framing). */
  bytes: number
  /** Sum of record values only. */
  payloadBytes: number
  requests: number
  latencyMs: { p50: number; p99: number; max: number } | null
  cpu: CpuShare | null
  /** The window on the broker's monotonic clock (µs), to cut a CPU profile to it. */
  brokerWindow: [number, number] | null
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] as number
}

export function latencySummary(lat: number[]): LoadResult['latencyMs'] {
  if (lat.length === 0) return null
  const s = Float64Array.from(lat).sort()
  return { p50: percentile(s, 0.5), p99: percentile(s, 0.99), max: s[s.length - 1] as number }
}

export async function runProduce(o: ProduceOptions): Promise<LoadResult> {
  const conns = await Promise.all(Array.from({ length: o.connections }, () => WireConn.open(o.host, o.port)))
  const requests: Prebuilt[] = []
  for (let p = 0; p < o.partitions; p++) {
    requests.push(
      prebuild(Produce, PRODUCE_VERSION, {
        transactionalId: null,
        acks: o.acks,
        timeoutMs: 30_000,
        topicData: [{ name: o.topic, partitionData: [{ index: p, records: o.batch.buf }] }],
      }),
    )
  }
  const fill = o.stopAfterBytes !== undefined
  let counting = fill
  let stop = false
  let records = 0
  let requestsDone = 0
  let failure: Error | null = null
  const latencies: number[] = []
  let next = 0

  const lane = async (c: WireConn) => {
    while (!stop && failure === null) {
      const partition = next++ % o.partitions
      const sent = performance.now()
      try {
        await c.sendPrebuilt(requests[partition] as Prebuilt, (frame) => {
          const pr = decodeResponse(Produce, PRODUCE_VERSION, frame).body.responses[0]?.partitionResponses[0]
          if (pr?.errorCode !== 0) throw new Error(`produce to ${o.topic}-${partition}: error ${pr?.errorCode} ${pr?.errorMessage ?? ''}`)
        })
      } catch (err) {
        failure ??= err as Error
        return
      }
      if (counting) {
        records += o.batch.records
        requestsDone++
        latencies.push(performance.now() - sent)
        if (fill && requestsDone * o.batch.buf.length >= (o.stopAfterBytes as number)) stop = true
      }
    }
  }

  const t0 = performance.now()
  o.onStart?.()
  const lanes: Promise<void>[] = []
  for (const c of conns) for (let i = 0; i < o.inflight; i++) lanes.push(lane(c))
  let before = null
  let after = null
  let start = t0
  let end = t0
  if (fill) {
    await Promise.all(lanes)
    end = performance.now()
  } else {
    await sleep(o.warmupMs)
    before = await sample(o.broker ?? null)
    start = performance.now()
    counting = true
    await sleep(o.durationMs)
    counting = false
    end = performance.now()
    after = await sample(o.broker ?? null)
    stop = true
    await Promise.all(lanes)
  }
  for (const c of conns) c.close()
  if (failure) throw failure
  const seconds = (end - start) / 1000
  return {
    seconds,
    records,
    bytes: requestsDone * o.batch.buf.length,
    payloadBytes: requestsDone * o.batch.payloadBytes,
    requests: requestsDone,
    latencyMs: latencySummary(latencies),
    cpu: before && after ? share(before, after) : null,
    brokerWindow: before?.broker && after?.broker ? [before.broker.wall, after.broker.wall] : null,
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms))
}
