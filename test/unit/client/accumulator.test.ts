import assert from 'node:assert/strict'
import { test } from 'node:test'
import { estimateRecordSize, type PendingRecord, RecordAccumulator } from '../../../src/client/producer/accumulator.ts'

function rec(bytes: number, out?: { offsets: bigint[]; errors: Error[] }): PendingRecord {
  const value = Buffer.alloc(bytes)
  return {
    key: null,
    value,
    headers: [],
    timestamp: 1,
    size: estimateRecordSize(null, value, []),
    resolve: (o) => out?.offsets.push(o),
    reject: (e) => out?.errors.push(e),
  }
}

const limits = { lingerMs: 5, flushing: false }

test('records join the open batch until batchSize, then a new batch starts and the full one is ready', () => {
  const acc = new RecordAccumulator(1200) // 61-byte header + 9 records of 121 bytes fit, a 10th does not
  for (let i = 0; i < 9; i++) acc.append('t', 0, rec(100), 0)
  const q = acc.queue('t', 0)
  assert.equal(q.batches.length, 1)
  assert.deepEqual(q.readiness(1, limits), { ready: false, atMs: 5 }, 'an open batch waits for lingerMs')
  acc.append('t', 0, rec(100), 0)
  assert.equal(q.batches.length, 2)
  assert.equal(q.readiness(1, limits).ready, true, 'a batch followed by another is ready at once')
  assert.equal(q.batches[0]?.count, 9)
})

test('linger makes a partial batch ready; a flush makes it ready at once', () => {
  const acc = new RecordAccumulator(16384)
  acc.append('t', 0, rec(10), 100)
  const q = acc.queue('t', 0)
  assert.equal(q.readiness(104, limits).ready, false)
  assert.equal(q.readiness(105, limits).ready, true)
  assert.equal(q.readiness(101, { lingerMs: 5, flushing: true }).ready, true)
})

test('an oversized record still gets a batch of its own', () => {
  const acc = new RecordAccumulator(100)
  acc.append('t', 0, rec(10), 0)
  acc.append('t', 0, rec(500), 0)
  acc.append('t', 0, rec(10), 0)
  assert.deepEqual(
    acc.queue('t', 0).batches.map((b) => b.count),
    [1, 1, 1],
  )
})

test('abortOnNewBatch reports instead of opening a batch (the sticky partitioner moves first)', () => {
  const acc = new RecordAccumulator(200)
  assert.equal(acc.append('t', 0, rec(150), 0, true), 'new-batch-needed', 'no batch yet')
  acc.append('t', 0, rec(150), 0)
  assert.equal(acc.append('t', 0, rec(150), 0, true), 'new-batch-needed', 'the open batch is full')
  assert.equal(acc.queue('t', 0).batches.length, 1)
  assert.equal(acc.queue('t', 0).batches[0]?.closed, true)
})

test('retried batches go back in sequence order, ahead of new batches, and wait for their backoff', () => {
  const acc = new RecordAccumulator(100)
  for (let i = 0; i < 4; i++) acc.append('t', 0, rec(90), 0)
  const q = acc.queue('t', 0)
  const [a, b, c] = q.batches.splice(0, 3)
  if (!a || !b || !c) throw new Error('expected batches')
  a.baseSequence = 0
  b.baseSequence = 1
  c.baseSequence = 2
  for (const x of [c, a, b]) {
    x.attempts = 1
    x.retryAtMs = 50
    acc.reenqueue(x)
  }
  assert.deepEqual(
    q.batches.map((x) => x.baseSequence),
    [0, 1, 2, -1],
  )
  assert.deepEqual(q.readiness(10, limits), { ready: false, atMs: 50 })
  assert.equal(q.readiness(50, limits).ready, true)
})

test('expire removes queued batches past the delivery timeout and bufferedBytes tracks release', () => {
  const acc = new RecordAccumulator(16384)
  const out = { offsets: [] as bigint[], errors: [] as Error[] }
  acc.append('t', 0, rec(10, out), 0)
  acc.append('t', 1, rec(10, out), 50)
  const before = acc.bufferedBytes
  assert.ok(before > 0)
  const expired = acc.expire(100, 100)
  assert.equal(expired.length, 1)
  const [b] = expired
  if (!b) throw new Error('expected a batch')
  acc.release(b)
  b.fail(new Error('expired'))
  assert.equal(out.errors.length, 1)
  assert.equal(acc.bufferedBytes, before / 2)
})

test('complete hands each record base offset + index', async () => {
  const acc = new RecordAccumulator(16384)
  const out = { offsets: [] as bigint[], errors: [] as Error[] }
  for (let i = 0; i < 3; i++) acc.append('t', 0, rec(10, out), 0)
  const b = acc.queue('t', 0).batches[0]
  b?.complete(40n, null)
  await b?.settled
  assert.deepEqual(out.offsets, [40n, 41n, 42n])
})
