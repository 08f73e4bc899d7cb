/** The monitor over successive synthetic snapshots: rates, time lag, Burrow statuses from a poller's view, KEDA, patterns. */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { LagMonitor, rateOf } from '../../../src/lag/monitor.ts'
import { group, owner, row, snap, T0 } from './snapshots.ts'

const A = owner('a')
const B = owner('b')

describe('per partition', () => {
  test('offsets, unclamped lag, rates and lag in seconds from successive snapshots', () => {
    const m = new LagMonitor()
    // Producing 20/s on p0, consuming 10/s; p1 idle and caught up.
    const at = (s: number) => m.observe(snap(s, group('g', 'Stable', [row('t', 0, 100 + 10 * s, 200 + 20 * s, A), row('t', 1, 50, 50, A)])))
    const first = at(0)
    const p0 = first.groups[0]?.partitions[0]
    assert.equal(p0?.committed, 100n)
    assert.equal(p0?.logEnd, 200n)
    assert.equal(p0?.lag, 100n)
    assert.equal(p0?.consumeRate, null, 'one sample: no rate yet')
    assert.equal(p0?.lagSeconds, null, 'one log-end point: too few')
    assert.equal(p0?.status, null, 'one snapshot is no window')
    assert.equal(first.groups[0]?.partitions[1]?.lagSeconds, 0, 'at the log end')
    at(5)
    const r = at(10)
    const q0 = r.groups[0]?.partitions[0]
    assert.equal(q0?.consumeRate, 10)
    assert.equal(q0?.produceRate, 20)
    // Committed 200 at 10 s; the log end was 200 at 0 s: 10 s behind.
    assert.equal(q0?.lagSeconds, 10)
    assert.equal(r.groups[0]?.consumeRate, 10)
    assert.equal(r.groups[0]?.produceRate, 20)
    assert.equal(r.groups[0]?.maxLagSeconds, 10)
    assert.equal(q0?.status, 'WARN', 'lag never decreases')
    assert.equal(r.groups[0]?.status, 'WARN')
  })

  test('lag is reported as Kafka reports it: negative when the commit is past the log end read', () => {
    const m = new LagMonitor()
    const r = m.observe(snap(0, group('g', 'Stable', [row('t', 0, 105, 100, A)])))
    assert.equal(r.groups[0]?.partitions[0]?.lag, -5n)
    assert.equal(r.groups[0]?.totalLag, 0n, 'the group total clamps at 0, as Burrow')
  })

  test('a partition without a commit has no lag, status or seconds; one with an unknown log end has no lag', () => {
    const m = new LagMonitor()
    m.observe(snap(0, group('g', 'Stable', [row('t', 0, null, 100, A), row('t', 1, 10, -1, A)])))
    const r = m.observe(snap(5, group('g', 'Stable', [row('t', 0, null, 100, A), row('t', 1, 10, -1, A)])))
    const [p0, p1] = r.groups[0]?.partitions ?? []
    assert.deepEqual([p0?.lag, p0?.status, p0?.lagSeconds, p0?.consumeRate], [null, null, null, null])
    assert.equal(p1?.lag, null)
    assert.equal(p1?.logEnd, null)
    assert.equal(p1?.produceRate, null)
  })

  test('rates restart after a decrease (an offset reset or a recreated topic)', () => {
    const s = (t: number, v: number) => ({ time: t * 1000, value: BigInt(v) })
    assert.equal(rateOf([s(0, 100), s(10, 200), s(20, 50), s(30, 150)]), 10)
    assert.equal(rateOf([s(0, 100)]), null)
    assert.equal(rateOf([]), null)
  })
})

describe('Burrow statuses from polling', () => {
  test('an owned partition stuck on one offset while the log grows is STALL', () => {
    const m = new LagMonitor()
    let last = m.observe(snap(0, group('g', 'Stable', [row('t', 0, 100, 150, A)])))
    for (let s = 5; s <= 30; s += 5) last = m.observe(snap(s, group('g', 'Stable', [row('t', 0, 100, 150 + s, A)])))
    assert.equal(last.groups[0]?.partitions[0]?.status, 'STALL')
    assert.equal(last.groups[0]?.status, 'ERR')
  })

  test('a group without members whose partitions have lag is STOP once the window ages', () => {
    const m = new LagMonitor()
    m.observe(snap(0, group('g', 'Empty', [row('t', 0, 100, 150)])))
    const r = m.observe(snap(5, group('g', 'Empty', [row('t', 0, 100, 160)])))
    assert.equal(r.groups[0]?.partitions[0]?.status, 'STOP')
  })

  test('...unless it was caught up in the recent log-end samples (PR #338)', () => {
    const m = new LagMonitor()
    m.observe(snap(0, group('g', 'Empty', [row('t', 0, 100, 100)])))
    const r = m.observe(snap(5, group('g', 'Empty', [row('t', 0, 100, 130)])))
    assert.equal(r.groups[0]?.partitions[0]?.status, 'OK')
    // Ten more log-end samples push the caught-up one out of the ring.
    let last = r
    for (let s = 10; s <= 55; s += 5) last = m.observe(snap(s, group('g', 'Empty', [row('t', 0, 100, 130 + s)])))
    assert.equal(last.groups[0]?.partitions[0]?.status, 'STOP')
  })

  test('a committed offset reset backwards and not recovered is REWIND', () => {
    const m = new LagMonitor()
    m.observe(snap(0, group('g', 'Stable', [row('t', 0, 900, 1000, A)])))
    m.observe(snap(5, group('g', 'Stable', [row('t', 0, 950, 1000, A)])))
    const r = m.observe(snap(10, group('g', 'Stable', [row('t', 0, 10, 1000, A)])))
    assert.equal(r.groups[0]?.partitions[0]?.status, 'REWIND')
  })

  test('a group with no commit at all is NOTFOUND (Burrow knows groups by their commits)', () => {
    const m = new LagMonitor()
    const r = m.observe(snap(0, group('g', 'Stable', [row('t', 0, null, 10, A)])))
    assert.equal(r.groups[0]?.status, 'NOTFOUND')
  })

  test('the ring fills one entry per poll for owned partitions', () => {
    const m = new LagMonitor({ burrow: { intervals: 4 } })
    let last = m.observe(snap(0, group('g', 'Stable', [row('t', 0, 10, 10, A)])))
    for (let s = 1; s < 6; s++) last = m.observe(snap(s, group('g', 'Stable', [row('t', 0, 10 + s, 10 + s, A)])))
    assert.equal(last.groups[0]?.partitions[0]?.complete, 1)
    assert.equal(last.groups[0]?.complete, 1)
  })
})

describe('group level', () => {
  test('the KEDA recommendation follows the lag and stops at the partition count', () => {
    const m = new LagMonitor({ keda: { lagThreshold: 100n } })
    const r = m.observe(snap(0, group('g', 'Stable', [row('t', 0, 0, 150, A), row('t', 1, 0, 90, A), row('t', 2, 0, 0, A)])))
    assert.equal(r.groups[0]?.keda.totalLag, 240n)
    assert.equal(r.groups[0]?.keda.recommended, 3)
    const r2 = m.observe(snap(5, group('g', 'Stable', [row('t', 0, 0, 5000, A), row('t', 1, 0, 5000, A), row('t', 2, 0, 0, A)])))
    assert.equal(r2.groups[0]?.keda.recommended, 3)
  })

  test('lag growing with one consumer on three partitions: too few consumers', () => {
    const m = new LagMonitor()
    let last = m.observe(snap(0, group('g', 'Stable', [row('t', 0, 0, 0, A), row('t', 1, 0, 0, A), row('t', 2, 0, 0, A)])))
    for (let s = 5; s <= 20; s += 5) {
      last = m.observe(
        snap(s, group('g', 'Stable', [row('t', 0, 5 * s, 10 * s, A), row('t', 1, 5 * s, 10 * s, A), row('t', 2, 5 * s, 10 * s, A)])),
      )
    }
    const kinds = last.groups[0]?.patterns.map((p) => [p.kind, p.cause])
    assert.deepEqual(kinds, [['lag-growing', 'too-few-consumers']])
  })

  test('idle members and rebalances from member-set changes', () => {
    const m = new LagMonitor()
    const C = owner('c')
    m.observe(snap(0, group('g', 'Stable', [row('t', 0, 0, 0, A)])))
    m.observe(snap(5, group('g', 'Stable', [row('t', 0, 0, 0, A)], [B]))) // b joined: 1
    m.observe(snap(10, group('g', 'Stable', [row('t', 0, 0, 0, A)], [B])))
    m.observe(snap(15, group('g', 'PreparingRebalance', [row('t', 0, 0, 0)]))) // 2…
    m.observe(snap(20, group('g', 'Stable', [row('t', 0, 0, 0, B)], [A]))) // …the same rebalance
    m.observe(snap(25, group('g', 'Stable', [row('t', 0, 0, 0, B)], [A])))
    const r = m.observe(snap(30, group('g', 'Stable', [row('t', 0, 0, 0, B)], [A, C]))) // c joined: 3
    const g = r.groups[0]
    assert.equal(g?.rebalances, 3)
    assert.deepEqual(
      g?.patterns.map((p) => p.kind),
      ['idle-members', 'frequent-rebalances'],
    )
    assert.match(g?.patterns[0]?.message ?? '', /3 members for 1 partitions; 2 own nothing \(a, c\)/)
  })

  test('a static member restarting (new member id, same instance id) is not a rebalance', () => {
    const m = new LagMonitor()
    const s1 = { ...owner('a', 'svc-0'), memberId: 'a-first' }
    const s2 = { ...owner('a', 'svc-0'), memberId: 'a-second' }
    m.observe(snap(0, group('g', 'Stable', [row('t', 0, 0, 0, s1)])))
    const r = m.observe(snap(5, group('g', 'Stable', [row('t', 0, 0, 0, s2)])))
    assert.equal(r.groups[0]?.rebalances, 0)
  })

  test('groups missing from a snapshot are forgotten, unless they could not be read', () => {
    const m = new LagMonitor()
    const g = (s: number) => group('g', 'Stable', [row('t', 0, 10 * s, 10 * s + 5, A)])
    m.observe(snap(0, g(0)))
    m.observe({ time: T0 + 5000, groups: [], unreadable: ['g'] })
    const kept = m.observe(snap(10, g(10)))
    assert.equal(kept.groups[0]?.partitions[0]?.consumeRate, 10, 'the first sample was kept')
    m.observe(snap(15))
    const fresh = m.observe(snap(20, g(20)))
    assert.equal(fresh.groups[0]?.partitions[0]?.consumeRate, null, 'forgotten, starts over')
  })

  test('snapshots must move forward in time', () => {
    const m = new LagMonitor()
    m.observe(snap(5))
    assert.throws(() => m.observe(snap(5)), /move forward/)
  })

  test('groups are reported sorted by id', () => {
    const m = new LagMonitor()
    const r = m.observe(snap(0, group('b', 'Empty', []), group('a', 'Empty', [])))
    assert.deepEqual(
      r.groups.map((g) => g.groupId),
      ['a', 'b'],
    )
  })
})
