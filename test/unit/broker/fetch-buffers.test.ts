/**
 * Fetch responses read records into reused buffers that go back to the pool
 * only once the response is on the socket. A reader that falls behind makes
 * the broker queue responses in memory: if a buffer went back before its
 * response was written, a later fetch would overwrite bytes still queued.
 */
import assert from 'node:assert/strict'
import net from 'node:net'
import { test } from 'node:test'
import { CreateTopics, Fetch, Produce } from '../../../src/protocol/apis/index.ts'
import { ErrorCode } from '../../../src/protocol/errors.ts'
import { decodeResponse, encodeRequest } from '../../../src/protocol/frame.ts'
import { batchSpans, decodeBatch, encodeBatch } from '../../../src/protocol/records/batch.ts'
import { startBroker } from '../../helpers/broker.ts'
import { RawClient } from '../../helpers/raw-client.ts'

const VALUE = 1000
const PER_BATCH = 100
const BATCHES = 6

/** The value of record `offset` of `partition`: its own bytes, so a mix-up shows. */
function value(partition: number, offset: number): Buffer {
  const v = Buffer.alloc(VALUE, (partition * 7 + offset) & 0xff)
  v.writeInt32BE(partition, 0)
  v.writeInt32BE(offset, 4)
  return v
}

test('fetch responses queued behind a slow reader keep their bytes while later fetches reuse buffers', async () => {
  const b = await startBroker({ 'log.flush.mode': 'os' })
  try {
    const c = await RawClient.connect(b.bootstrap)
    const created = await c.request(CreateTopics, 5, { topics: [{ name: 'fb', numPartitions: 2, replicationFactor: 1 }] })
    assert.equal(created.topics[0]?.errorCode, ErrorCode.NONE)
    for (let p = 0; p < 2; p++) {
      for (let k = 0; k < BATCHES; k++) {
        const records = Array.from({ length: PER_BATCH }, (_, i) => ({ value: value(p, k * PER_BATCH + i) }))
        const res = await c.request(Produce, 9, {
          acks: 1,
          timeoutMs: 5000,
          topicData: [{ name: 'fb', partitionData: [{ index: p, records: encodeBatch({ records }) }] }],
        })
        assert.equal(res.responses[0]?.partitionResponses[0]?.errorCode, ErrorCode.NONE)
      }
    }
    c.close()

    // 40 fetches (each reads ≥ 200 KiB per partition, so each lands in pooled buffers) from a client that reads nothing
    // until all are answered; sent one by one, so that each is handled after the responses before it were queued.
    const [host, port] = b.bootstrap.split(':') as [string, string]
    const s = net.connect(Number(port), host)
    await new Promise<void>((r) => s.once('connect', r))
    s.pause()
    const wanted: number[] = []
    for (let i = 0; i < 40; i++) {
      const from = (i * 37) % (BATCHES * PER_BATCH - 2 * PER_BATCH)
      wanted.push(from)
      const body = {
        replicaId: -1,
        maxWaitMs: 0,
        minBytes: 1,
        maxBytes: 52428800,
        isolationLevel: 0,
        sessionId: 0,
        sessionEpoch: -1,
        topics: [
          {
            topic: 'fb',
            partitions: [0, 1].map((partition) => ({
              partition,
              currentLeaderEpoch: -1,
              fetchOffset: BigInt(from),
              lastFetchedEpoch: -1,
              logStartOffset: -1n,
              partitionMaxBytes: 200 * 1024,
            })),
          },
        ],
        forgottenTopicsData: [],
        rackId: '',
      }
      s.write(Buffer.concat(encodeRequest(Fetch, 12, i + 1, 'slow-reader', body)))
      await new Promise((r) => setTimeout(r, 5))
    }
    await new Promise((r) => setTimeout(r, 100))

    const frames: Buffer[] = []
    let buf = Buffer.alloc(0)
    await new Promise<void>((resolve, reject) => {
      s.on('error', reject)
      s.on('data', (d: Buffer) => {
        buf = Buffer.concat([buf, d])
        while (buf.length >= 4 && buf.length >= 4 + buf.readInt32BE(0)) {
          frames.push(buf.subarray(4, 4 + buf.readInt32BE(0)))
          buf = buf.subarray(4 + buf.readInt32BE(0))
        }
        if (frames.length === wanted.length) resolve()
      })
      s.resume()
    })
    s.destroy()

    frames.forEach((f, i) => {
      const { correlationId, body } = decodeResponse(Fetch, 12, f)
      assert.equal(correlationId, i + 1)
      for (const part of body.responses[0]?.partitions ?? []) {
        assert.equal(part.errorCode, ErrorCode.NONE)
        const records = part.records as Buffer
        let expected = Math.floor((wanted[i] as number) / PER_BATCH) * PER_BATCH
        let n = 0
        for (const span of batchSpans(records)) {
          // decodeBatch checks the CRC; then every value must be the one written at its offset.
          for (const r of decodeBatch(records.subarray(span.at, span.at + span.size)).records) {
            assert.equal(r.offset, BigInt(expected))
            assert.ok(
              r.value?.equals(value(part.partitionIndex, expected)),
              `fetch ${i + 1} partition ${part.partitionIndex} offset ${expected}`,
            )
            expected++
            n++
          }
        }
        assert.ok(n >= PER_BATCH, `fetch ${i + 1} returned ${n} records`)
      }
    })
    assert.ok((b.broker.context.readBuffers?.idle ?? 0) > 0, 'the responses read into pooled buffers, now back in the pool')
  } finally {
    await b.stop()
  }
})
