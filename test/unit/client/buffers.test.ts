/**
 * The client's buffer reuse and the record codec's fast paths: pooled producer batch
 * buffers and fetch frames (lease, retain, release; never handed out twice while held),
 * records decoded from copied segments (same records as a plain decode, no memory shared
 * with the frame, same errors on corrupt input), and number-timestamp batch encoding
 * (byte for byte what the BigInt path writes).
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { FramePool } from '../../../src/client/network/frame-pool.ts'
import { BatchBufferPool } from '../../../src/client/producer/buffer-pool.ts'
import { CorruptBatchError, decodeBatch, encodeBatch, type RecordInput } from '../../../src/protocol/records/batch.ts'
import { Off } from '../../../src/protocol/records/batch-header.ts'
import { decodeRecords, decodeRecordsWith, type KafkaRecord } from '../../../src/protocol/records/record.ts'

const asRecord = (offset: bigint, timestamp: bigint, key: Buffer | null, value: Buffer | null, headers: KafkaRecord['headers']) => ({
  offset,
  timestamp,
  key,
  value,
  headers,
})

function records(n: number, size: (i: number) => number): RecordInput[] {
  return Array.from({ length: n }, (_, i) => ({
    key: i % 3 === 0 ? null : `key-${i}`,
    value: Buffer.alloc(size(i), i % 251),
    timestamp: 1_700_000_000_000 + (i % 7),
    headers: i % 5 === 0 ? [{ key: 'h', value: Buffer.from(`hv-${i}`) }] : undefined,
  }))
}

/** Whether two views share any byte of memory. */
function overlaps(a: Buffer, b: Buffer): boolean {
  if (a.buffer !== b.buffer || a.length === 0 || b.length === 0) return false
  return a.byteOffset < b.byteOffset + b.length && b.byteOffset < a.byteOffset + a.length
}

/** The records region of an uncompressed batch and its context, as the fetcher decodes it. */
function region(batch: Buffer) {
  const h = decodeBatch(batch)
  return {
    count: h.records.length,
    start: Off.records,
    end: batch.length,
    ctx: { baseOffset: h.baseOffset, baseTimestamp: h.baseTimestamp, logAppendTime: null },
  }
}

test('BatchBufferPool: buffers come back for later batches; oversized batches get their own', () => {
  const pool = new BatchBufferPool(1024, 4096)
  const a = pool.take(700)
  assert.equal(a.buf.length, 700)
  assert.ok(a.pooled && a.pooled.length === 1024)
  assert.equal(a.buf.buffer, a.pooled.buffer)
  const big = pool.take(5000)
  assert.equal(big.pooled, null)
  assert.equal(big.buf.length, 5000)
  pool.give(a.pooled as Buffer)
  const b = pool.take(1024)
  assert.equal(b.pooled, a.pooled, 'the returned buffer is reused')
  // At most maxBytes / capacity idle buffers are kept.
  const held = [pool.take(10), pool.take(10), pool.take(10), pool.take(10), pool.take(10)]
  for (const h of held) pool.give(h.pooled as Buffer)
  assert.equal(pool.free, 4)
})

test('FramePool: a frame is reused only after every holder released it', () => {
  const pool = new FramePool(2, 8 * 1024 * 1024)
  const a = pool.lease(100_000)
  assert.equal(a.buf.length, 100_000)
  a.retain()
  a.release()
  assert.equal(pool.idle, 0, 'still held once')
  const b = pool.lease(100_000)
  assert.notEqual(b.buf.buffer, a.buf.buffer, 'a held frame is not handed out again')
  a.release()
  a.release() // extra releases are ignored
  assert.equal(pool.idle, 1)
  const c = pool.lease(50_000)
  assert.equal(c.buf.buffer, a.buf.buffer, 'a released frame is reused, for smaller frames too')
  assert.equal(pool.idle, 0)
  const huge = pool.lease(9 * 1024 * 1024)
  huge.release()
  assert.equal(pool.idle, 0, 'frames above the pooled maximum are not kept')
  b.release()
  c.release()
  assert.equal(pool.idle, 2)
})

test('decoding from copied segments gives the same records, none of them sharing memory with the input', () => {
  for (const [n, size] of [
    [1, () => 10],
    [500, (i: number) => 50 + (i % 200)],
    [40, (i: number) => (i % 10 === 0 ? 70_000 : 900)], // records larger than a segment
    [3000, () => 0],
  ] as const) {
    const batch = encodeBatch({ records: records(n, size), baseOffset: 42n })
    const { count, start, end, ctx } = region(batch)
    const plain = decodeRecords(batch, start, end, count, ctx)
    for (const seg of [1, 1000, 32 * 1024, 1 << 20]) {
      const copied = decodeRecordsWith(batch, start, end, count, ctx, asRecord, seg)
      assert.deepEqual(copied, plain, `${n} records, ${seg}-byte segments`)
      for (const r of copied) {
        if (r.value) assert.ok(!overlaps(r.value, batch), 'a value is a view into the input')
        if (r.key) assert.ok(!overlaps(r.key, batch), 'a key is a view into the input')
      }
    }
    // Overwriting the input afterwards leaves the copies alone.
    const copied = decodeRecordsWith(batch, start, end, count, ctx, asRecord, 32 * 1024)
    batch.fill(0xee, start)
    assert.deepEqual(
      copied.map((r) => r.value?.length),
      plain.map((r) => r.value?.length),
    )
    assert.ok(copied.every((r, i) => r.value === null || r.value.every((x) => x === i % 251)))
  }
})

test('decoding from copied segments fails on corrupt records exactly like a plain decode', () => {
  const batch = encodeBatch({ records: records(200, (i) => 30 + (i % 50)) })
  const { count, start, end, ctx } = region(batch)
  fc.assert(
    fc.property(
      fc.integer({ min: start, max: end - 1 }),
      fc.integer({ min: 0, max: 255 }),
      fc.integer({ min: -2, max: 2 }),
      (at, byte, dc) => {
        const bad = Buffer.from(batch)
        bad[at] = byte
        const outcome = (seg: number) => {
          try {
            decodeRecordsWith(bad, start, end, count + dc, ctx, asRecord, seg)
            return 'ok'
          } catch (err) {
            assert.ok(err instanceof CorruptBatchError, `not a CorruptBatchError: ${err}`)
            return 'corrupt'
          }
        }
        const plain = outcome(0)
        assert.equal(outcome(64), plain)
        assert.equal(outcome(32 * 1024), plain)
      },
    ),
    { numRuns: 300 },
  )
})

test('number timestamps encode byte for byte as BigInt ones (including deltas beyond 32 bits and negative ones)', () => {
  fc.assert(
    fc.property(
      fc.array(
        fc.record({
          ts: fc.integer({ min: 0, max: 2 ** 45 }),
          key: fc.option(fc.string(), { nil: null }),
          value: fc.option(fc.uint8Array({ maxLength: 300 }), { nil: null }),
          headers: fc.array(fc.record({ key: fc.string(), value: fc.option(fc.string(), { nil: null }) }), { maxLength: 2 }),
        }),
        { minLength: 1, maxLength: 40 },
      ),
      fc.option(fc.integer({ min: 0, max: 2 ** 45 }), { nil: undefined }),
      (list, batchTs) => {
        const asNumbers: RecordInput[] = list.map((r) => ({
          key: r.key,
          value: r.value === null ? null : Buffer.from(r.value),
          timestamp: r.ts,
          headers: r.headers,
        }))
        const asBigInts: RecordInput[] = asNumbers.map((r) => ({ ...r, timestamp: BigInt(r.timestamp as number) }))
        const a = encodeBatch({ records: asNumbers, timestamp: batchTs })
        const b = encodeBatch({ records: asBigInts, timestamp: batchTs === undefined ? undefined : BigInt(batchTs) })
        assert.deepEqual(a, b)
      },
    ),
    { numRuns: 300 },
  )
})

test('encodeBatch writes into the buffer its allocator gives', () => {
  const slab = Buffer.alloc(4096)
  let asked = -1
  const out = encodeBatch({ records: records(5, () => 20) }, (size) => {
    asked = size
    return slab.subarray(0, size)
  })
  assert.equal(out.length, asked)
  assert.equal(out.buffer, slab.buffer)
  assert.equal(decodeBatch(out).records.length, 5)
  assert.throws(() => encodeBatch({ records: records(1, () => 1) }, () => Buffer.alloc(3)), RangeError)
})
