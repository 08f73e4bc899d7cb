/** kafka-lag-exporter's lookup table: sampling rules and the time-lag estimate on synthetic log-end series. */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { LookupTable, predict, timeLagSeconds } from '../../../src/lag/time-lag.ts'

const T0 = 1_800_000_000_000

/** A table filled with (offset, seconds after T0) points. */
function tableOf(points: [number, number][], limit = 60): LookupTable {
  const t = new LookupTable(limit)
  for (const [offset, s] of points) t.addPoint({ offset: BigInt(offset), time: T0 + s * 1000 })
  return t
}

describe('sampling', () => {
  test('points that go back in time, or repeat a time, are dropped', () => {
    const t = tableOf([[100, 10]])
    assert.equal(t.addPoint({ offset: 200n, time: T0 + 5000 }), 'OutOfOrder')
    assert.equal(t.addPoint({ offset: 200n, time: T0 + 10_000 }), 'OutOfOrder')
    assert.equal(t.length, 1)
  })

  test('a decreasing offset is dropped', () => {
    const t = tableOf([[100, 10]])
    assert.equal(t.addPoint({ offset: 99n, time: T0 + 20_000 }), 'NonMonotonic')
    assert.equal(t.length, 1)
  })

  test('a run of equal offsets collapses to its first and last points', () => {
    const t = tableOf([
      [100, 0],
      [200, 10],
      [200, 20],
    ])
    assert.equal(t.addPoint({ offset: 200n, time: T0 + 30_000 }), 'Updated')
    assert.equal(t.addPoint({ offset: 200n, time: T0 + 40_000 }), 'Updated')
    assert.deepEqual(
      t.points.map((p) => [Number(p.offset), (p.time - T0) / 1000]),
      [
        [100, 0],
        [200, 10],
        [200, 40],
      ],
    )
    assert.equal(t.addPoint({ offset: 300n, time: T0 + 50_000 }), 'Inserted')
    assert.equal(t.length, 4)
  })

  test('the table slides: the oldest point goes when it is full', () => {
    const t = tableOf(
      Array.from({ length: 8 }, (_, i) => [i * 10, i] as [number, number]),
      5,
    )
    assert.deepEqual(
      t.points.map((p) => Number(p.offset)),
      [30, 40, 50, 60, 70],
    )
  })
})

describe('lookup', () => {
  test('an offset equal to the newest log end is zero lag, even with one point', () => {
    assert.deepEqual(tableOf([[100, 0]]).lookup(100n), { kind: 'LagIsZero' })
    assert.equal(timeLagSeconds(tableOf([[100, 0]]), 100n, T0 + 99_000), 0)
  })

  test('fewer than two points: too few to estimate (null seconds, NaN in the exporter)', () => {
    assert.deepEqual(new LookupTable().lookup(5n), { kind: 'TooFewPoints' })
    assert.deepEqual(tableOf([[100, 0]]).lookup(50n), { kind: 'TooFewPoints' })
    assert.equal(timeLagSeconds(tableOf([[100, 0]]), 50n, T0), null)
  })

  test('no commit: no estimate', () => {
    assert.equal(timeLagSeconds(tableOf([[100, 0]]), null, T0), null)
  })

  test('interpolates between the neighbouring points', () => {
    const t = tableOf([
      [0, 0],
      [100, 10],
      [300, 20],
      [400, 30],
    ])
    // 200 is halfway between (100, 10 s) and (300, 20 s): 15 s.
    assert.deepEqual(t.lookup(200n), { kind: 'Prediction', time: T0 + 15_000 })
    assert.equal(timeLagSeconds(t, 200n, T0 + 30_000), 15)
    assert.equal(timeLagSeconds(t, 50n, T0 + 30_000), 25)
  })

  test('an exact point gives its own time', () => {
    const t = tableOf([
      [0, 0],
      [100, 10],
      [300, 20],
    ])
    assert.deepEqual(t.lookup(100n), { kind: 'Prediction', time: T0 + 10_000 })
  })

  test('an offset where the log end stood still gives the last time it stood there', () => {
    const t = tableOf([
      [0, 0],
      [100, 10],
      [100, 20],
      [100, 30],
      [200, 40],
    ])
    assert.equal(t.length, 4, 'the run of 100s collapsed')
    assert.deepEqual(t.lookup(100n), { kind: 'Prediction', time: T0 + 30_000 })
  })

  test('outside the table: extrapolates along the line from the oldest to the newest point', () => {
    // 10 records/s from offset 1000 at 0 s to 1600 at 60 s (with a burst inside that the end-to-end line ignores).
    const t = tableOf([
      [1000, 0],
      [1050, 30],
      [1600, 60],
    ])
    // Offset 900 is 100 records before the oldest point: 10 s before it at 10 records/s.
    assert.deepEqual(t.lookup(900n), { kind: 'Prediction', time: T0 - 10_000 })
    assert.equal(timeLagSeconds(t, 900n, T0 + 60_000), 70)
  })

  test('a commit beyond the newest log end extrapolates into the future: clamped to 0 s', () => {
    const t = tableOf([
      [0, 0],
      [100, 10],
    ])
    assert.deepEqual(t.lookup(150n), { kind: 'Prediction', time: T0 + 15_000 })
    assert.equal(timeLagSeconds(t, 150n, T0 + 10_000), 0)
  })

  test('a log end flat over the whole table cannot place an older offset: null (the exporter divides by zero)', () => {
    const t = tableOf([
      [500, 0],
      [500, 10],
      [500, 20],
    ])
    assert.deepEqual(t.lookup(400n), { kind: 'Prediction', time: null })
    assert.equal(timeLagSeconds(t, 400n, T0 + 20_000), null)
    assert.equal(predict(400n, { offset: 5n, time: 0 }, { offset: 5n, time: 10 }), null)
  })
})

describe('synthetic series', () => {
  test('steady production, a consumer 30 s behind: 30 s of lag at every poll', () => {
    // 50 records/s, sampled every 5 s for 5 minutes; the consumer commits what was produced 30 s earlier.
    const t = new LookupTable()
    for (let s = 0; s <= 300; s += 5) {
      const now = T0 + s * 1000
      t.addPoint({ offset: BigInt(50 * s), time: now })
      if (s >= 30) assert.equal(timeLagSeconds(t, BigInt(50 * (s - 30)), now), 30, `at ${s} s`)
    }
    assert.equal(t.length, 60, 'capped at 60 points')
  })

  test('bursty production: the estimate follows the log end through bursts and pauses', () => {
    // 0–10 s: 1000 records; 10–40 s: nothing; 40–50 s: 1000 more.
    const t = tableOf([
      [0, 0],
      [1000, 10],
      [1000, 20],
      [1000, 30],
      [1000, 40],
      [2000, 50],
    ])
    // Offset 500 was the log end at 5 s: 45 s ago at 50 s.
    assert.equal(timeLagSeconds(t, 500n, T0 + 50_000), 45)
    // Offset 1000 was the log end until 40 s (the end of the pause): 10 s ago.
    assert.equal(timeLagSeconds(t, 1000n, T0 + 50_000), 10)
    // Offset 1500 was reached halfway through the second burst.
    assert.equal(timeLagSeconds(t, 1500n, T0 + 50_000), 5)
  })

  test('a lag growing by 10 s a minute shows in the estimate', () => {
    // Production 100/s; consumption 100/s × 5/6 (it falls behind by 1/6 of the elapsed time), sampled every 12 s.
    const t = new LookupTable()
    let last = 0
    for (let s = 0; s <= 120; s += 12) {
      t.addPoint({ offset: BigInt(100 * s), time: T0 + s * 1000 })
      const consumed = BigInt((100 * s * 5) / 6)
      const lag = timeLagSeconds(t, consumed, T0 + s * 1000)
      if (s > 0) {
        assert.ok(lag !== null && Math.abs(lag - s / 6) < 1e-9, `at ${s} s: ${lag}`)
        assert.ok(lag >= last)
        last = lag
      }
    }
  })
})
