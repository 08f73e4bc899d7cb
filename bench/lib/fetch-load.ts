/**
 * Fetch load: a topic filled beforehand is read through from offset 0 by
 * `connections` consumers, the partitions split between them, one Fetch in
 * flight per connection (as a consumer has per broker). A partition that
 * reaches its end starts over at 0, so a scenario can last as long as asked.
 * Records are counted from the batch headers (recordCount at byte 57): no decoding.
 */
import { Fetch } from '../../src/protocol/apis/index.ts'
import { LOG_OVERHEAD, Off } from '../../src/protocol/records/batch-header.ts'
import type { BrokerProcess } from './broker-proc.ts'
import { type LoadResult, latencySummary, sleep } from './produce-load.ts'
import { sample, share } from './sampler.ts'
import { WireConn } from './wire.ts'

export const FETCH_VERSION = 12

export interface FetchOptions {
  host: string
  port: number
  topic: string
  /** Log end offset of each partition (the fill's result). */
  endOffsets: number[]
  connections: number
  partitionMaxBytes: number
  maxBytes: number
  warmupMs: number
  durationMs: number
  broker?: BrokerProcess
  /** Called when the load starts (warm-up included), e.g. to start an external profiler. */
  onStart?: () => void
}

export interface FetchResult extends LoadResult {
  /** Full passes over a partition (offset 0 to its end). */
  passes: number
}

const TWO32 = 4294967296

/** Walks concatenated batches: records, bytes, and the offset after the last whole batch. */
export function countBatches(buf: Buffer): { records: number; bytes: number; nextOffset: number } {
  let at = 0
  let records = 0
  let nextOffset = -1
  while (at + 61 <= buf.length) {
    const size = buf.readInt32BE(at + Off.batchLength) + LOG_OVERHEAD
    if (at + size > buf.length) break
    records += buf.readInt32BE(at + Off.recordCount)
    const base = buf.readUInt32BE(at) * TWO32 + buf.readUInt32BE(at + 4)
    nextOffset = base + buf.readInt32BE(at + Off.lastOffsetDelta) + 1
    at += size
  }
  return { records, bytes: at, nextOffset }
}

export async function runFetch(o: FetchOptions): Promise<FetchResult> {
  const n = o.endOffsets.length
  const conns = await Promise.all(Array.from({ length: Math.min(o.connections, n) }, () => WireConn.open(o.host, o.port)))
  let counting = false
  let stop = false
  let records = 0
  let bytes = 0
  let requests = 0
  let passes = 0
  let failure: Error | null = null
  const latencies: number[] = []

  const consumer = async (c: WireConn, mine: number[]) => {
    const offsets = new Map(mine.map((p) => [p, 0]))
    while (!stop && failure === null) {
      const sent = performance.now()
      let got: { records: number; bytes: number }
      try {
        got = await c.requestWith(
          Fetch,
          FETCH_VERSION,
          {
            replicaId: -1,
            maxWaitMs: 500,
            minBytes: 1,
            maxBytes: o.maxBytes,
            isolationLevel: 0,
            sessionId: 0,
            sessionEpoch: -1,
            topics: [
              {
                topic: o.topic,
                partitions: mine.map((p) => ({
                  partition: p,
                  currentLeaderEpoch: -1,
                  fetchOffset: BigInt(offsets.get(p) as number),
                  lastFetchedEpoch: -1,
                  logStartOffset: -1n,
                  partitionMaxBytes: o.partitionMaxBytes,
                })),
              },
            ],
            forgottenTopicsData: [],
            rackId: '',
          },
          (res) => {
            if (res.errorCode !== 0) throw new Error(`fetch: top-level error ${res.errorCode}`)
            let records = 0
            let bytes = 0
            for (const t of res.responses) {
              for (const p of t.partitions) {
                if (p.errorCode !== 0) throw new Error(`fetch ${o.topic}-${p.partitionIndex}: error ${p.errorCode}`)
                if (!p.records || p.records.length === 0) continue
                const got = countBatches(p.records)
                records += got.records
                bytes += got.bytes
                if (got.nextOffset < 0) continue
                if (got.nextOffset >= (o.endOffsets[p.partitionIndex] as number)) {
                  offsets.set(p.partitionIndex, 0)
                  if (counting) passes++
                } else offsets.set(p.partitionIndex, got.nextOffset)
              }
            }
            return { records, bytes }
          },
        )
      } catch (err) {
        failure ??= err as Error
        return
      }
      if (counting) {
        records += got.records
        bytes += got.bytes
        requests++
        latencies.push(performance.now() - sent)
      }
    }
  }

  o.onStart?.()
  const running = conns.map((c, i) =>
    consumer(
      c,
      Array.from({ length: n }, (_, p) => p).filter((p) => p % conns.length === i),
    ),
  )
  await sleep(o.warmupMs)
  const before = await sample(o.broker ?? null)
  const start = performance.now()
  counting = true
  await sleep(o.durationMs)
  counting = false
  const end = performance.now()
  const after = await sample(o.broker ?? null)
  stop = true
  await Promise.all(running)
  for (const c of conns) c.close()
  if (failure) throw failure
  return {
    seconds: (end - start) / 1000,
    records,
    bytes,
    payloadBytes: Number.NaN,
    requests,
    passes,
    latencyMs: latencySummary(latencies),
    cpu: share(before, after),
    brokerWindow: before.broker && after.broker ? [before.broker.wall, after.broker.wall] : null,
  }
}
