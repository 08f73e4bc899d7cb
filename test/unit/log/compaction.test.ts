import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import { test } from 'node:test'
import { PartitionLog } from '../../../src/broker/log/partition-log.ts'
import { batchSpans, checkBatch, decodeBatch } from '../../../src/protocol/records/batch.ts'
import { Attr, batchHeader } from '../../../src/protocol/records/batch-header.ts'
import { ManualClock } from '../../../src/util/clock.ts'
import { config, keyed, lines, logFiles, readAll, records, tempDir } from './helpers.ts'

const MB = 1 << 20
const DAY = 86_400_000

async function compactedLog(over = {}) {
  const dir = tempDir()
  const clock = new ManualClock()
  const cfg = config({ 'cleanup.policy': 'compact', 'segment.ms': 1000, ...over })
  const log = await PartitionLog.open(dir, cfg, { clock })
  /** Appends one batch of [key, value] pairs in a segment of its own (rolls after it). */
  const seg = async (pairs: [string | null, string | null][], opts = {}) => {
    const r = log.append(keyed(pairs, clock.now(), opts))
    clock.advance(1001)
    log.maybeRoll(clock.now())
    await log.flush()
    await log.checkpoint()
    return r
  }
  return { dir, clock, cfg, log, seg }
}

function allBatches(log: PartitionLog) {
  const buf = Buffer.concat(log.read(log.logStartOffset, 64 * MB).records) // the first segment
  return [...batchSpans(buf)].map((s) => {
    assert.deepEqual(checkBatch(buf, s.at, s.size, { compacted: true }), { ok: true })
    return decodeBatch(buf, s.at)
  })
}

test('compaction keeps the latest record per key with its original offset and timestamp; the active segment is untouched', async () => {
  const { log, seg, clock } = await compactedLog()
  const t0 = clock.now()
  await seg([
    ['a', 'a1'],
    ['b', 'b1'],
    ['c', 'c1'],
  ]) // offsets 0-2
  await seg([
    ['a', 'a2'],
    ['d', 'd1'],
  ]) // 3-4
  await seg([
    ['b', 'b2'],
    ['a', 'a3'],
  ]) // 5-6
  log.append(keyed([['c', 'c2']], clock.now())) // 7, active segment
  const before = log.sizeBytes
  await log.compact(clock.now())
  const got = readAll(log)
  assert.deepEqual(
    got.map(([o, k, v]) => [o, k, v]),
    [
      [2, 'c', 'c1'], // superseded only by the active segment: kept, as in Kafka
      [4, 'd', 'd1'],
      [5, 'b', 'b2'],
      [6, 'a', 'a3'],
      [7, 'c', 'c2'],
    ],
  )
  assert.equal(got[0]?.[3], t0, 'timestamps preserved')
  assert.ok(log.sizeBytes < before)
  assert.equal(log.logEndOffset, 8n)
  // Reading at an offset removed by compaction returns the next batch that has data.
  assert.equal(records(log.read(0n, MB).records)[0]?.[0], 2)
  assert.equal(records(log.read(3n, MB).records)[0]?.[0], 4)
  // The rewritten batches keep their base offset and have offset gaps.
  const first = allBatches(log)[0]
  assert.equal(first?.baseOffset, 0n)
  assert.equal(first?.lastOffsetDelta, 2)
  assert.equal(first?.records.length, 1)
  await log.close()
})

test('tombstones remove older values, then expire after delete.retention.ms', async () => {
  const { log, seg, clock } = await compactedLog()
  await seg([
    ['a', 'a1'],
    ['b', 'b1'],
  ])
  await seg([['a', null]])
  await seg([['z', 'z1']])
  const t1 = clock.now()
  await log.compact(t1)
  let got = readAll(log).map(([o, k, v]) => [o, k, v])
  assert.deepEqual(got, [
    [1, 'b', 'b1'],
    [2, 'a', null],
    [3, 'z', 'z1'],
  ])
  const tomb = allBatches(log).find((b) => b.records.some((r) => r.value === null))
  assert.ok(tomb && (tomb.attributes & Attr.deleteHorizon) !== 0, 'delete horizon set on the tombstone batch')
  assert.equal(tomb?.baseTimestamp, BigInt(t1 + DAY))
  await log.compact(t1 + DAY - 1)
  got = readAll(log).map(([o, k, v]) => [o, k, v])
  assert.equal(got.length, 3, 'kept until the horizon')
  await log.compact(t1 + DAY)
  got = readAll(log).map(([o, k, v]) => [o, k, v])
  assert.deepEqual(got, [
    [1, 'b', 'b1'],
    [3, 'z', 'z1'],
  ])
  await log.close()
})

test('records without a key are dropped by compaction', async () => {
  const { log, seg, clock } = await compactedLog()
  await seg([
    [null, 'x'],
    ['a', 'a1'],
    [null, 'y'],
  ])
  await seg([['b', 'b1']])
  await log.compact(clock.now())
  assert.deepEqual(
    readAll(log).map(([o, k, v]) => [o, k, v]),
    [
      [1, 'a', 'a1'],
      [3, 'b', 'b1'],
    ],
  )
  await log.close()
})

test('compressed batches are rewritten with their codec; unchanged batches are copied byte for byte', async () => {
  const { log, seg, clock } = await compactedLog()
  await seg(
    [
      ['a', 'a1'],
      ['b', 'b1'],
      ['c', 'c1'],
    ],
    { compression: 1 },
  )
  await seg(
    [
      ['a', 'a2'],
      ['x', 'x1'],
    ],
    { compression: 3, producerId: 42n, producerEpoch: 3, baseSequence: 7 },
  )
  const untouched = Buffer.concat(log.read(3n, MB).records)
  await log.compact(clock.now())
  const batches = allBatches(log)
  assert.equal(batches[0]?.compression, 1)
  assert.deepEqual(
    batches[0]?.records.map((r) => [Number(r.offset), r.key?.toString()]),
    [
      [1, 'b'],
      [2, 'c'],
    ],
  )
  assert.ok(Buffer.concat(log.read(3n, MB).records).equals(untouched), 'nothing to drop: same bytes')
  assert.equal(batches[1]?.producerId, 42n)
  await log.close()
})

test('small segments are merged while cleaning, and everything survives a reopen', async () => {
  const { dir, cfg, log, seg, clock } = await compactedLog()
  for (let i = 0; i < 8; i++) await seg([[`k${i % 3}`, `v${i}`]])
  assert.equal(log.segmentCount, 9)
  await log.compact(clock.now())
  assert.equal(log.segmentCount, 2, 'one merged segment plus the active one')
  const expected = readAll(log)
  assert.deepEqual(
    expected.map(([o, k, v]) => [o, k, v]),
    [
      [5, 'k2', 'v5'],
      [6, 'k0', 'v6'],
      [7, 'k1', 'v7'],
    ],
  )
  assert.equal(logFiles(dir).length, 2)
  await log.close()
  const again = await PartitionLog.open(dir, cfg, { clock })
  assert.deepEqual(readAll(again), expected)
  assert.equal(again.logEndOffset, 8n)
  assert.equal(again.append(keyed([['k0', 'v8']], clock.now())).baseOffset, 8n)
  await again.close()
})

test('a compaction output left overlapping later segments by a crash mid-swap is resolved on open', async () => {
  const dir = tempDir()
  const clock = new ManualClock()
  const cfg = config({ 'segment.ms': 1000 })
  const log = await PartitionLog.open(dir, cfg, { clock, flushMode: 'os' })
  log.append(keyed([['a', '1']], clock.now()))
  clock.advance(1001)
  log.maybeRoll(clock.now())
  log.append(keyed([['b', '2']], clock.now()))
  clock.advance(1001)
  log.maybeRoll(clock.now())
  log.append(keyed([['c', '3']], clock.now()))
  await log.close()
  const [s0, s1] = logFiles(dir) as [string, string]
  // A merged output replaced segment 0 but segment 1 was not deleted yet.
  fs.appendFileSync(path.join(dir, s0), fs.readFileSync(path.join(dir, s1)))
  fs.rmSync(path.join(dir, s0.replace('.log', '.index')))
  const l = lines()
  const again = await PartitionLog.open(dir, cfg, { clock, log: l.log })
  assert.deepEqual(again.segmentBases(), [0n, 2n])
  assert.deepEqual(
    readAll(again).map(([o, k]) => [o, k]),
    [
      [0, 'a'],
      [1, 'b'],
      [2, 'c'],
    ],
  )
  assert.equal(l.seen.length, 1)
  await again.close()
})

test('compaction only touches sealed segments below the recovery point and is a no-op when nothing changed', async () => {
  const { log, seg, clock } = await compactedLog()
  await seg([['a', 'a1']])
  await seg([['a', 'a2']])
  await log.compact(clock.now())
  const after1 = Buffer.concat(log.read(0n, MB).records)
  await log.compact(clock.now())
  assert.ok(Buffer.concat(log.read(0n, MB).records).equals(after1))
  assert.equal(batchHeader.baseOffset(after1, 0), 1n)
  await log.close()
})
