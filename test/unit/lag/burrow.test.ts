/** Burrow's evaluation rules (HEAD ced55ba9), one test per status and per ordering subtlety. Times are in ms. */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import {
  type ConsumerOffset,
  calculatePartitionStatus,
  evaluateGroup,
  evaluatePartition,
  lagNotDecreasing,
  OffsetRing,
  offsetsRewind,
  offsetsStopped,
  pushBounded,
  recentLagZero,
  rewindRecovered,
} from '../../../src/lag/burrow.ts'

/** Commits as [offset, timestamp in s, lag]: one every 60 s unless given. */
function commits(...rows: [number, number, number | null][]): ConsumerOffset[] {
  return rows.map(([offset, t, lag]) => ({ offset: BigInt(offset), timestamp: t * 1000, lag: lag === null ? null : BigInt(lag) }))
}
const leos = (...xs: number[]) => xs.map(BigInt)

describe('partition status', () => {
  test('OK: current lag at or below allowed-lag wins over everything, even a stopped window', () => {
    const offsets = commits([100, 0, 10], [200, 60, 10], [300, 120, 10])
    assert.equal(calculatePartitionStatus(offsets, leos(300), 0n, 10_000_000, 0n), 'OK')
    assert.equal(calculatePartitionStatus(offsets, leos(305), 5n, 10_000_000, 5n), 'OK', 'allowed-lag 5')
  })

  test('STOP: no commit for longer than the window spans (strictly longer)', () => {
    const offsets = commits([100, 0, 50], [200, 60, 50], [300, 120, 50])
    // Window spans 120 s; last commit at 120 s.
    assert.equal(calculatePartitionStatus(offsets, leos(400), 100n, 240_000), 'WARN', 'exactly the span: not stopped')
    assert.equal(calculatePartitionStatus(offsets, leos(400), 100n, 240_001), 'STOP')
  })

  test('STOP even when the lag was zero earlier in the window (Burrow #290)', () => {
    const offsets = commits([100, 0, 0], [200, 60, 0], [300, 120, 0])
    assert.equal(calculatePartitionStatus(offsets, leos(350, 400), 100n, 300_000), 'STOP')
  })

  test('PR #338: no STOP while a recent log end was at or below the last commit', () => {
    const offsets = commits([100, 0, 5], [200, 60, 5], [300, 120, 5])
    // The log end was 300 (= last commit) in the recent samples, so the consumer was caught up moments ago.
    assert.equal(calculatePartitionStatus(offsets, leos(300, 300, 350), 50n, 600_000), 'WARN')
    assert.ok(recentLagZero(offsets, leos(290, 300)))
    assert.ok(!recentLagZero(offsets, leos(301, 350)))
    assert.equal(calculatePartitionStatus(offsets, leos(301, 350), 50n, 600_000), 'STOP')
  })

  test('REWIND: the committed offset went back and never recovered', () => {
    const offsets = commits([500, 0, 10], [600, 60, 10], [100, 120, 600], [150, 180, 560])
    assert.equal(offsetsRewind(offsets), 2)
    assert.ok(!rewindRecovered(offsets, 2))
    assert.equal(calculatePartitionStatus(offsets, leos(720), 570n, 200_000), 'REWIND')
  })

  test('REWIND is checked before the zero-lag rule (PR #716)', () => {
    // Lag was zero at the start of the window, which would make the rest of the rules OK.
    const offsets = commits([500, 0, 0], [600, 60, 0], [100, 120, 500], [150, 180, 460])
    assert.equal(calculatePartitionStatus(offsets, leos(610), 460n, 200_000), 'REWIND')
  })

  test('a rewind the consumer recovered from is forgiven (a rebalance re-committing an older offset)', () => {
    const offsets = commits([500, 0, 50], [450, 60, 110], [600, 120, 20], [700, 180, 5])
    assert.ok(rewindRecovered(offsets, 1))
    assert.equal(calculatePartitionStatus(offsets, leos(705), 5n, 200_000), 'OK')
  })

  test('only the first rewind counts, as in Burrow HEAD', () => {
    // First rewind (600 → 550) recovered; a second one (800 → 100) is not looked at.
    const offsets = commits([600, 0, 10], [550, 60, 70], [800, 120, 5], [100, 180, 710])
    assert.equal(offsetsRewind(offsets), 1)
    assert.equal(calculatePartitionStatus(offsets, leos(810), 710n, 200_000), 'OK', 'the second rewind is not looked at')
  })

  test('STALL: every commit in the window is the same offset and the lag never reached zero', () => {
    const offsets = commits([100, 0, 50], [100, 60, 80], [100, 120, 120])
    assert.equal(calculatePartitionStatus(offsets, leos(220), 120n, 150_000), 'STALL')
  })

  test('no STALL when the lag was zero somewhere in the window (the zero-lag rule comes first)', () => {
    const offsets = commits([100, 0, 0], [100, 60, 30], [100, 120, 60])
    assert.equal(calculatePartitionStatus(offsets, leos(160), 60n, 150_000), 'OK')
  })

  test('WARN: offsets move but the lag never decreases', () => {
    const offsets = commits([100, 0, 10], [150, 60, 20], [200, 120, 20], [250, 180, 35])
    assert.equal(calculatePartitionStatus(offsets, leos(285), 35n, 200_000), 'WARN')
  })

  test('OK: offsets move and the lag decreased somewhere', () => {
    const offsets = commits([100, 0, 10], [150, 60, 20], [200, 120, 15], [250, 180, 35])
    assert.equal(calculatePartitionStatus(offsets, leos(285), 35n, 200_000), 'OK')
  })

  test('commits without a stored lag are skipped by the lag-trend rule', () => {
    assert.ok(lagNotDecreasing(commits([1, 0, 10], [2, 1, null], [3, 2, 12])))
    assert.ok(!lagNotDecreasing(commits([1, 0, 10], [2, 1, null], [3, 2, 9])))
  })

  test('stopped compares now − last against last − first', () => {
    const offsets = commits([1, 100, 1], [2, 160, 1])
    assert.ok(!offsetsStopped(offsets, 220_000))
    assert.ok(offsetsStopped(offsets, 220_001))
  })
})

describe('evaluatePartition', () => {
  test('an empty ring is OK and 0 % complete', () => {
    const ev = evaluatePartition([], leos(10), 1000)
    assert.deepEqual(ev, { status: 'OK', complete: 0, currentLag: 0n, start: null, end: null })
  })

  test('current lag is the newest log end minus the newest commit, clamped at 0', () => {
    const offsets = commits([100, 0, 0], [120, 60, 0])
    assert.equal(evaluatePartition(offsets, leos(90, 150), 61_000).currentLag, 30n)
    assert.equal(evaluatePartition(offsets, leos(110), 61_000).currentLag, 0n, 'a log end sampled before the commit')
  })

  test('complete is the filled fraction of the ring; below minimum-complete the partition is OK', () => {
    const stalled = commits([100, 0, 50], [100, 60, 60], [100, 120, 70])
    const ev = evaluatePartition(stalled, leos(170), 130_000, { intervals: 10 })
    assert.equal(ev.complete, 0.3)
    assert.equal(ev.status, 'STALL')
    assert.equal(evaluatePartition(stalled, leos(170), 130_000, { intervals: 10, minimumComplete: 0.5 }).status, 'OK')
    assert.equal(evaluatePartition(stalled, leos(170), 130_000, { intervals: 3 }).complete, 1)
  })
})

describe('rings', () => {
  test('the offset ring keeps the newest `intervals` commits', () => {
    const ring = new OffsetRing(3)
    for (let i = 0; i < 5; i++) ring.add({ offset: BigInt(i), timestamp: i * 1000, lag: 0n })
    assert.deepEqual(
      ring.entries.map((e) => e.offset),
      [2n, 3n, 4n],
    )
  })

  test('a commit within min-distance replaces the previous one and keeps its timestamp', () => {
    const ring = new OffsetRing(10, 5000)
    ring.add({ offset: 1n, timestamp: 0, lag: 9n })
    ring.add({ offset: 2n, timestamp: 3000, lag: 8n })
    ring.add({ offset: 3n, timestamp: 4999, lag: 7n })
    assert.deepEqual(ring.entries, [{ offset: 3n, timestamp: 0, lag: 7n }])
    ring.add({ offset: 4n, timestamp: 5000, lag: 6n })
    assert.equal(ring.entries.length, 2)
  })

  test('a commit older than the newest stored is dropped', () => {
    const ring = new OffsetRing(10)
    ring.add({ offset: 5n, timestamp: 2000, lag: 0n })
    ring.add({ offset: 4n, timestamp: 1000, lag: 0n })
    assert.equal(ring.entries.length, 1)
  })

  test('the log-end ring is bounded', () => {
    const l: bigint[] = []
    for (let i = 0; i < 12; i++) pushBounded(l, BigInt(i), 10)
    assert.deepEqual(l, leos(2, 3, 4, 5, 6, 7, 8, 9, 10, 11))
  })
})

describe('group status', () => {
  const p = (status: 'OK' | 'WARN' | 'STOP' | 'STALL' | 'REWIND', currentLag: number, complete = 1) => ({
    status,
    complete,
    currentLag: BigInt(currentLag),
  })

  test('the worst partition decides; STOP, STALL and REWIND are ERR', () => {
    assert.equal(evaluateGroup([p('OK', 0), p('OK', 3)]).status, 'OK')
    assert.equal(evaluateGroup([p('OK', 0), p('WARN', 3)]).status, 'WARN')
    for (const s of ['STOP', 'STALL', 'REWIND'] as const) assert.equal(evaluateGroup([p('WARN', 1), p(s, 3)]).status, 'ERR')
  })

  test('total lag, the partition with most lag, and completeness', () => {
    const g = evaluateGroup([p('OK', 5, 1), p('WARN', 40, 0.5), p('OK', 7, 1), p('OK', 0, 1)])
    assert.equal(g.totalLag, 52n)
    assert.equal(g.maxLagIndex, 1)
    assert.equal(g.complete, 0.75)
  })

  test('no partitions: OK with complete 0, as Burrow reports it', () => {
    assert.deepEqual(evaluateGroup([]), { status: 'OK', complete: 0, totalLag: 0n, maxLagIndex: -1 })
  })
})
