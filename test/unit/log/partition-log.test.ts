import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import { test } from 'node:test'
import { PartitionLog } from '../../../src/broker/log/partition-log.ts'
import { ErrorCode, KafkaError } from '../../../src/protocol/errors.ts'
import { checkBatch, decodeBatch } from '../../../src/protocol/records/batch.ts'
import { batchHeader, Off } from '../../../src/protocol/records/batch-header.ts'
import { crc32c } from '../../../src/protocol/records/crc32c.ts'
import { ManualClock } from '../../../src/util/clock.ts'
import { batch, config, logFiles, records, tempDir } from './helpers.ts'

const MB = 1 << 20

async function openLog(over = {}, clock = new ManualClock()) {
  const dir = tempDir()
  const log = await PartitionLog.open(dir, config(over), { clock, flushMode: 'os' })
  return { dir, log, clock }
}

test('append assigns consecutive offsets in the headers and leaves the CRC-covered bytes alone', async () => {
  const { log, clock } = await openLog()
  const a = batch(3, clock.now(), 'a')
  const b1 = batch(2, clock.now(), 'b')
  const b2 = batch(4, clock.now(), 'c')
  const covered = [a, b1, b2].map((b) => Buffer.from(b.subarray(Off.attributes)))
  const r1 = log.append(a)
  assert.deepEqual(r1, { baseOffset: 0n, lastOffset: 2n, maxTimestamp: BigInt(clock.now()), appendTime: -1n })
  const r2 = log.append(Buffer.concat([b1, b2]))
  assert.equal(r2.baseOffset, 3n)
  assert.equal(r2.lastOffset, 8n)
  assert.equal(log.logEndOffset, 9n)

  const read = log.read(0n, MB)
  const all = Buffer.concat(read.records)
  assert.equal(read.bytes, all.length)
  let at = 0
  const bases: bigint[] = []
  for (const [i, orig] of covered.entries()) {
    const size = batchHeader.totalSize(all, at)
    assert.deepEqual(checkBatch(all, at, size), { ok: true }, `batch ${i} CRC still valid`)
    assert.ok(all.subarray(at + Off.attributes, at + size).equals(orig), `batch ${i} CRC-covered bytes untouched`)
    assert.equal(all.readInt32BE(at + Off.partitionLeaderEpoch), 0)
    bases.push(batchHeader.baseOffset(all, at))
    at += size
  }
  assert.deepEqual(bases, [0n, 3n, 5n])
  assert.deepEqual(
    records(read.records).map((r) => [r[0], r[2]]),
    [
      [0, 'a-0'],
      [1, 'a-1'],
      [2, 'a-2'],
      [3, 'b-0'],
      [4, 'b-1'],
      [5, 'c-0'],
      [6, 'c-1'],
      [7, 'c-2'],
      [8, 'c-3'],
    ],
  )
  await log.close()
})

test('a read from the middle of a batch returns the whole containing batch', async () => {
  const { log, clock } = await openLog()
  log.append(batch(5, clock.now()))
  log.append(batch(5, clock.now()))
  const r = log.read(7n, MB)
  const recs = records(r.records)
  assert.equal(recs[0]?.[0], 5)
  assert.equal(recs.length, 5)
  assert.deepEqual(log.read(10n, MB), { records: [], bytes: 0 })
  await log.close()
})

test('maxBytes returns whole batches only; minOneBatch returns the first even when too big (KIP-74)', async () => {
  const { log, clock } = await openLog()
  const big = batch(50, clock.now(), 'x'.repeat(100))
  const small = batch(1, clock.now())
  log.append(big)
  log.append(small)
  log.append(small)
  assert.deepEqual(log.read(0n, 100), { records: [], bytes: 0 })
  const one = log.read(0n, 100, { minOneBatch: true })
  assert.equal(one.bytes, big.length)
  const two = log.read(0n, big.length + small.length + 10)
  assert.equal(two.bytes, big.length + small.length)
  const upTo = log.read(0n, MB, { upTo: 51n })
  assert.equal(upTo.bytes, big.length + small.length)
  assert.deepEqual(log.read(50n, MB, { upTo: 50n }), { records: [], bytes: 0 })
  await log.close()
})

test('reads outside [log start, log end] are OFFSET_OUT_OF_RANGE', async () => {
  const { log, clock } = await openLog()
  log.append(batch(2, clock.now()))
  assert.throws(
    () => log.read(3n, MB),
    (e: unknown) => e instanceof KafkaError && e.code === ErrorCode.OFFSET_OUT_OF_RANGE,
  )
  assert.deepEqual(log.read(2n, MB), { records: [], bytes: 0 })
  await log.close()
})

test('rolls by segment.bytes and by segment.ms, with files named by base offset', async () => {
  const one = batch(10, 0, 'p')
  const { dir, log, clock } = await openLog({ 'segment.bytes': one.length * 3, 'segment.ms': 60_000 })
  for (let i = 0; i < 7; i++) log.append(batch(10, clock.now(), 'p'))
  assert.deepEqual(log.segmentBases(), [0n, 30n, 60n])
  assert.deepEqual(logFiles(dir), ['00000000000000000000.log', '00000000000000000030.log', '00000000000000000060.log'])
  clock.advance(60_001)
  log.maybeRoll(clock.now())
  assert.deepEqual(log.segmentBases(), [0n, 30n, 60n, 70n])
  log.maybeRoll(clock.now()) // empty active segment: nothing to roll
  assert.equal(log.segmentCount, 4)
  log.append(batch(1, clock.now()))
  clock.advance(60_001)
  log.append(batch(1, clock.now())) // record time moved past segment.ms since the segment's first batch
  assert.deepEqual(log.segmentBases(), [0n, 30n, 60n, 70n, 71n])
  await log.close()
})

test('index lookups find every offset across many segments, before and after a reopen', async () => {
  const clock = new ManualClock()
  const dir = tempDir()
  const cfg = config({ 'segment.bytes': 4000, 'index.interval.bytes': 512 })
  let log = await PartitionLog.open(dir, cfg, { clock, flushMode: 'os' })
  const sizes = [1, 3, 7, 2, 11, 5]
  let n = 0
  for (let i = 0; i < 300; i++) {
    const c = sizes[i % sizes.length] as number
    log.append(batch(c, clock.now() + i, `r${i}`))
    n += c
  }
  assert.ok(log.segmentCount > 5, `${log.segmentCount} segments`)
  const check = (l: PartitionLog) => {
    for (let o = 0; o < n; o++) {
      assert.equal(l.read(BigInt(o), 1).bytes, 0)
      const first = records(l.read(BigInt(o), 1, { minOneBatch: true }).records)
      assert.ok(
        first.some((r) => r[0] === o),
        `offset ${o} is in the returned batch`,
      )
      assert.ok((first[0]?.[0] as number) <= o)
    }
  }
  check(log)
  await log.close()
  log = await PartitionLog.open(dir, cfg, { clock, flushMode: 'os' })
  assert.equal(log.logEndOffset, BigInt(n))
  check(log)
  await log.close()
})

test('offsetForTimestamp finds the first offset at or after a time; maxTimestampOffset the largest', async () => {
  const { log } = await openLog({ 'segment.bytes': 400, 'index.interval.bytes': 0 })
  const t0 = 1_000_000
  // Timestamps go up by 10 per record, with one out-of-order record in the middle.
  for (let i = 0; i < 40; i++) {
    const ts = i === 20 ? t0 + 5000 : t0 + i * 10
    log.append(batch(1, ts))
  }
  assert.ok(log.segmentCount > 3)
  assert.deepEqual(log.offsetForTimestamp(BigInt(t0)), { offset: 0n, timestamp: BigInt(t0) })
  assert.deepEqual(log.offsetForTimestamp(BigInt(t0 + 15)), { offset: 2n, timestamp: BigInt(t0 + 20) })
  assert.deepEqual(log.offsetForTimestamp(BigInt(t0 + 300)), { offset: 20n, timestamp: BigInt(t0 + 5000) })
  assert.deepEqual(log.offsetForTimestamp(BigInt(t0 + 5000)), { offset: 20n, timestamp: BigInt(t0 + 5000) })
  assert.equal(log.offsetForTimestamp(BigInt(t0 + 5001)), null)
  assert.deepEqual(log.maxTimestampOffset(), { offset: 20n, timestamp: BigInt(t0 + 5000) })
  // Within a multi-record batch the exact record is found.
  log.append(
    Buffer.from(
      (await import('../../../src/protocol/records/batch.ts')).encodeBatch({
        records: [
          { value: 'a', timestamp: t0 + 6000 },
          { value: 'b', timestamp: t0 + 7000 },
          { value: 'c', timestamp: t0 + 6500 },
        ],
      }),
    ),
  )
  assert.deepEqual(log.offsetForTimestamp(BigInt(t0 + 6600)), { offset: 41n, timestamp: BigInt(t0 + 7000) })
  assert.deepEqual(log.maxTimestampOffset(), { offset: 41n, timestamp: BigInt(t0 + 7000) })
  await log.close()
})

test('an empty log has no max timestamp and no offset for a time', async () => {
  const { log } = await openLog()
  assert.equal(log.maxTimestampOffset(), null)
  assert.equal(log.offsetForTimestamp(0n), null)
  await log.close()
})

test('LogAppendTime stamps the attribute and maxTimestamp and recomputes the CRC of that batch only', async () => {
  const { log } = await openLog()
  const b = batch(3, 1234)
  const r = log.append(b, { logAppendTime: 99_999n })
  assert.equal(r.appendTime, 99_999n)
  assert.equal(r.maxTimestamp, 99_999n)
  const read = log.read(0n, MB).records[0] as Buffer
  assert.deepEqual(checkBatch(read), { ok: true })
  const d = decodeBatch(read)
  assert.equal(d.logAppendTime, true)
  assert.equal(d.maxTimestamp, 99_999n)
  assert.deepEqual(
    d.records.map((x) => x.timestamp),
    [99_999n, 99_999n, 99_999n],
  )
  assert.equal(read.readUInt32BE(Off.crc), crc32c(read.subarray(Off.attributes)))
  await log.close()
})

test('retention by time deletes whole old segments, never the active one, and moves the log start', async () => {
  const one = batch(10, 0)
  const { dir, log, clock } = await openLog({ 'segment.bytes': one.length * 2, 'retention.ms': 10_000 })
  const t = clock.now()
  for (let i = 0; i < 6; i++) log.append(batch(10, t + i * 1000))
  assert.deepEqual(log.segmentBases(), [0n, 20n, 40n])
  log.enforceRetention(t + 10_500) // segment 0's newest record is t+1000: 9500 ms old
  assert.deepEqual(log.segmentBases(), [0n, 20n, 40n])
  log.enforceRetention(t + 11_001)
  assert.deepEqual(log.segmentBases(), [20n, 40n])
  assert.equal(log.logStartOffset, 20n)
  log.enforceRetention(t + 1_000_000)
  assert.deepEqual(log.segmentBases(), [40n], 'the active segment stays however old')
  assert.equal(log.logStartOffset, 40n)
  assert.deepEqual(logFiles(dir), ['00000000000000000040.log'])
  assert.throws(() => log.read(39n, MB), KafkaError)
  assert.equal(records(log.read(40n, MB).records).length, 20)
  await log.close()
})

test('retention by size keeps the newest segments within retention.bytes', async () => {
  const one = batch(10, 0)
  const { log, clock } = await openLog({ 'segment.bytes': one.length * 2, 'retention.bytes': one.length * 3 })
  for (let i = 0; i < 7; i++) log.append(batch(10, clock.now()))
  assert.deepEqual(log.segmentBases(), [0n, 20n, 40n, 60n])
  log.enforceRetention(clock.now())
  // 7 batches; dropping two whole segments leaves 3 batches = retention.bytes.
  assert.deepEqual(log.segmentBases(), [40n, 60n])
  assert.equal(log.sizeBytes, one.length * 3)
  await log.close()
})

test('the compact-only policy ignores retention', async () => {
  const one = batch(10, 0)
  const { log, clock } = await openLog({ 'segment.bytes': one.length, 'retention.ms': 1, 'cleanup.policy': 'compact' })
  for (let i = 0; i < 3; i++) log.append(batch(10, clock.now()))
  log.enforceRetention(clock.now() + 1_000_000)
  assert.equal(log.segmentCount, 3)
  await log.close()
})

test('deleteRecordsBefore advances the log start durably and drops whole segments below it', async () => {
  const one = batch(10, 0)
  const clock = new ManualClock()
  const dir = tempDir()
  const cfg = config({ 'segment.bytes': one.length * 2 })
  let log = await PartitionLog.open(dir, cfg, { clock, flushMode: 'os' })
  for (let i = 0; i < 6; i++) log.append(batch(10, clock.now()))
  assert.equal(log.deleteRecordsBefore(5n), 5n)
  assert.deepEqual(log.segmentBases(), [0n, 20n, 40n])
  assert.equal(log.deleteRecordsBefore(3n), 5n, 'never moves back')
  assert.equal(log.deleteRecordsBefore(25n), 25n)
  assert.deepEqual(log.segmentBases(), [20n, 40n])
  // Reading at the new start returns the batch holding it.
  assert.equal(records(log.read(25n, MB).records)[0]?.[0], 20)
  assert.throws(() => log.read(24n, MB), KafkaError)
  assert.throws(() => log.deleteRecordsBefore(61n), KafkaError)
  assert.equal(log.deleteRecordsBefore(60n), 60n)
  assert.deepEqual(log.segmentBases(), [40n], 'the active segment is never deleted')
  await log.close()
  log = await PartitionLog.open(dir, cfg, { clock, flushMode: 'os' })
  assert.equal(log.logStartOffset, 60n)
  assert.equal(log.logEndOffset, 60n)
  log.append(batch(1, clock.now()))
  assert.equal(records(log.read(60n, MB).records)[0]?.[0], 60)
  await log.close()
})

test('reopen after a clean close restores everything without a recovery scan, and appends continue', async () => {
  const clock = new ManualClock()
  const dir = tempDir()
  const cfg = config({ 'segment.bytes': 2000, 'index.interval.bytes': 100 })
  const seen: string[] = []
  let log = await PartitionLog.open(dir, cfg, { clock, flushMode: 'fsync', log: (m) => seen.push(m) })
  for (let i = 0; i < 50; i++) log.append(batch(3, clock.now() + i))
  const before = records(log.read(0n, 10 * MB).records)
  const max = log.maxTimestampOffset()
  await log.close()
  assert.ok(fs.existsSync(path.join(dir, '.cohort-clean-shutdown')))
  log = await PartitionLog.open(dir, cfg, { clock, log: (m) => seen.push(m) })
  assert.ok(!fs.existsSync(path.join(dir, '.cohort-clean-shutdown')), 'marker removed on open')
  assert.equal(log.logEndOffset, 150n)
  assert.deepEqual(records(log.read(0n, 10 * MB).records), before)
  assert.deepEqual(log.maxTimestampOffset(), max)
  const r = log.append(batch(1, clock.now()))
  assert.equal(r.baseOffset, 150n)
  await log.close()
  assert.deepEqual(seen, [])
})

test('append refuses malformed framing without writing anything', async () => {
  const { log, clock } = await openLog()
  const b = batch(2, clock.now())
  assert.throws(() => log.append(b.subarray(0, b.length - 1)), KafkaError)
  assert.throws(() => log.append(Buffer.alloc(0)), KafkaError)
  assert.equal(log.logEndOffset, 0n)
  assert.equal(log.sizeBytes, 0)
  await log.close()
})
