import assert from 'node:assert/strict'
import { test } from 'node:test'
import { FlushScheduler, type FlushTarget } from '../../../src/broker/log/group-commit.ts'
import { PartitionLog } from '../../../src/broker/log/partition-log.ts'
import { ManualClock } from '../../../src/util/clock.ts'
import { batch, config, countingFsync, tempDir } from './helpers.ts'

/** An fsync that completes only when told to, so a test controls when a round ends. */
function gatedFsync() {
  const pending: (() => void)[] = []
  let calls = 0
  return {
    fsync: (_fd: number) => {
      calls++
      return new Promise<void>((resolve) => pending.push(resolve))
    },
    release: () => {
      for (const r of pending.splice(0)) r()
    },
    calls: () => calls,
    waiting: () => pending.length,
  }
}

const tick = () => new Promise<void>((r) => setImmediate(r))

test('concurrent flush() calls on one partition share fdatasyncs (group commit)', async () => {
  const dir = tempDir()
  const counter = countingFsync()
  const scheduler = new FlushScheduler({ fsync: counter.fsync })
  const log = await PartitionLog.open(dir, config(), { clock: new ManualClock(), scheduler })
  const N = 50
  const flushes: Promise<void>[] = []
  for (let i = 0; i < N; i++) {
    log.append(batch(2, 0))
    flushes.push(log.flush())
  }
  await Promise.all(flushes)
  assert.ok(counter.calls() < N, `${counter.calls()} fdatasyncs for ${N} flushes`)
  assert.equal(scheduler.stats.rounds, 1)
  await log.close()
})

test('callers arriving while a round is in flight are covered by exactly one next round', async () => {
  const gate = gatedFsync()
  const scheduler = new FlushScheduler({ fsync: gate.fsync })
  const logs = await Promise.all([0, 1, 2].map(() => PartitionLog.open(tempDir(), config(), { clock: new ManualClock(), scheduler })))
  const [a, b, c] = logs as [PartitionLog, PartitionLog, PartitionLog]
  a.append(batch(1, 0))
  let firstDone = false
  const first = a.flush().then(() => {
    firstDone = true
  })
  await tick()
  assert.equal(gate.waiting(), 1, 'round 1: one fd')
  // While round 1 is in flight: ten producers on three partitions.
  const later: Promise<void>[] = []
  for (let i = 0; i < 10; i++) {
    const log = logs[i % 3] as PartitionLog
    log.append(batch(1, 0))
    later.push(log.flush())
  }
  await tick()
  assert.equal(gate.waiting(), 1, 'nobody starts a second round while one is in flight')
  gate.release()
  await first
  assert.ok(firstDone)
  await tick()
  assert.equal(gate.waiting(), 3, 'round 2 syncs the three dirty partitions once each')
  gate.release()
  await Promise.all(later)
  assert.equal(gate.calls(), 4)
  assert.equal(scheduler.stats.rounds, 2)
  // A flush with nothing new to write resolves without a round.
  await b.flush()
  assert.equal(scheduler.stats.rounds, 2)
  // close() fdatasyncs too (index files): keep opening the gate until it is done.
  let closed = false
  void Promise.all([a.close(), b.close(), c.close()]).then(() => {
    closed = true
  })
  while (!closed) {
    gate.release()
    await tick()
  }
})

test('a flush waits for the in-flight round that holds its partition, not for later ones', async () => {
  const gate = gatedFsync()
  const scheduler = new FlushScheduler({ fsync: gate.fsync })
  const t: FlushTarget = { beginSync: () => ({ fds: [7], done: () => {} }) }
  scheduler.markDirty(t)
  const p1 = scheduler.sync(t)
  await tick()
  let p2Done = false
  const p2 = scheduler.sync(t).then(() => {
    p2Done = true
  })
  await tick()
  assert.equal(p2Done, false, 'clean but in the running round: waits for it')
  gate.release()
  await p1
  await p2
  assert.equal(gate.calls(), 1)
})

test("'os' mode: flush() resolves at once, without fdatasync; close() still syncs", async () => {
  const counter = countingFsync()
  const scheduler = new FlushScheduler({ mode: 'os', fsync: counter.fsync })
  const log = await PartitionLog.open(tempDir(), config(), { clock: new ManualClock(), scheduler })
  for (let i = 0; i < 10; i++) {
    log.append(batch(1, 0))
    await log.flush()
  }
  assert.equal(counter.calls(), 0)
  assert.equal(scheduler.stats.rounds, 0)
  await log.close()
  assert.ok(counter.calls() >= 1)
})

test('an fdatasync failure fails the waiting flushes and every later one', async () => {
  const logLines: string[] = []
  const scheduler = new FlushScheduler({ fsync: () => Promise.reject(new Error('EIO: i/o error')), log: (m) => logLines.push(m) })
  const log = await PartitionLog.open(tempDir(), config(), { clock: new ManualClock(), scheduler })
  log.append(batch(1, 0))
  await assert.rejects(log.flush(), /EIO/)
  log.append(batch(1, 0))
  await assert.rejects(log.flush(), /EIO/)
  assert.equal(logLines.length, 1)
  assert.ok(scheduler.failure)
  log.drop()
})

test('partitions sharing a scheduler: N concurrent producers on N partitions need far fewer than N fdatasyncs', async () => {
  const counter = countingFsync()
  const scheduler = new FlushScheduler({ fsync: counter.fsync })
  const logs = await Promise.all(
    Array.from({ length: 8 }, () => PartitionLog.open(tempDir(), config(), { clock: new ManualClock(), scheduler })),
  )
  const rounds: Promise<void>[] = []
  for (let r = 0; r < 20; r++) {
    for (const log of logs) {
      log.append(batch(3, 0))
      rounds.push(log.flush())
    }
  }
  await Promise.all(rounds)
  assert.equal(scheduler.stats.rounds, 1)
  assert.equal(counter.calls(), 8, 'one fdatasync per dirty partition for 160 flushes')
  await Promise.all(logs.map((l) => l.close()))
})

test("'os' mode: sync() of one partition does not fdatasync the others", async () => {
  const synced: number[] = []
  const scheduler = new FlushScheduler({
    mode: 'os',
    fsync: async (fd) => {
      synced.push(fd)
    },
  })
  const target = (fd: number): FlushTarget => ({ beginSync: () => ({ fds: [fd], done: () => {} }) })
  const a = target(1)
  const b = target(2)
  scheduler.markDirty(a)
  scheduler.markDirty(b)
  await scheduler.sync(a)
  assert.deepEqual(synced, [1])
  assert.ok(scheduler.isDirty(b))
  await scheduler.sync()
  assert.deepEqual(synced, [1, 2])
})
