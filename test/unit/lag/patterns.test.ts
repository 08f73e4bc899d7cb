/** The chapter's diagnoses: lag growing (and why), one hot partition, idle members, frequent rebalances. */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import {
  countRebalances,
  DEFAULT_THRESHOLDS,
  detectHotPartition,
  detectIdleMembers,
  detectLagGrowth,
  diagnose,
  type GroupSample,
  type MemberFacts,
  type PartitionFacts,
} from '../../../src/lag/patterns.ts'

/** Stable samples 5 s apart with these total lags. */
function lagSeries(...lags: (number | null)[]): GroupSample[] {
  return lags.map((l, i) => ({
    time: i * 5000,
    state: 'Stable',
    members: ['a'],
    assignment: 'a=t:0',
    totalLag: l === null ? null : BigInt(l),
  }))
}

function partition(p: number, lag: number | null, produceRate: number | null = null, consumeRate: number | null = null): PartitionFacts {
  return { topic: 't', partition: p, lag: lag === null ? null : BigInt(lag), produceRate, consumeRate }
}

function member(id: string, partitions: number, instance: string | null = null): MemberFacts {
  return { memberId: `${id}-uuid`, clientId: id, groupInstanceId: instance, partitions }
}

describe('lag growth', () => {
  test('a rising lag is growing, with its rate', () => {
    const g = detectLagGrowth(lagSeries(100, 150, 140, 220, 300))
    assert.ok(g)
    assert.equal(g.from, 100n)
    assert.equal(g.to, 300n)
    assert.equal(g.spanMs, 20_000)
    assert.equal(g.perSecond, 10)
  })

  test('needs growthMinSamples samples with a known lag', () => {
    assert.equal(detectLagGrowth(lagSeries(100, 300)), null)
    assert.equal(detectLagGrowth(lagSeries(null, 100, null, 300)), null)
    assert.ok(detectLagGrowth(lagSeries(null, 100, 200, 300)))
  })

  test('a rise below growthMinRecords, or below growthMinRatio of the start, is noise', () => {
    assert.equal(detectLagGrowth(lagSeries(0, 3, 6, 9)), null, '+9 < 10 records')
    assert.equal(detectLagGrowth(lagSeries(1_000_000, 1_000_050, 1_000_100)), null, '+100 is 0.01 % of the lag')
  })

  test('more falling steps than rising ones is not growth (a burst being worked off)', () => {
    assert.equal(detectLagGrowth(lagSeries(100, 900, 800, 700, 600, 500)), null)
  })

  test('only the newest growthWindow samples count', () => {
    const old = lagSeries(0, 100, 200, 300, 400, 500, 500, 500, 500, 500, 500, 500, 500, 500, 500)
    assert.equal(detectLagGrowth(old), null)
    assert.ok(detectLagGrowth(old, { ...DEFAULT_THRESHOLDS, growthWindow: 15 }))
  })
})

describe('hot partition', () => {
  test('one partition holds most of the lag, several times the others', () => {
    const hot = detectHotPartition([partition(0, 100, 10), partition(1, 120, 10), partition(2, 5000, 45)])
    assert.ok(hot)
    assert.equal(hot.partition, 2)
    assert.equal(hot.lag, 5000n)
    assert.ok(Math.abs(hot.share - 5000 / 5220) < 1e-9)
    assert.equal(hot.factor, 5000 / 110)
    assert.equal(hot.trafficFactor, 4.5)
  })

  test('lag spread over the partitions is not a hot partition', () => {
    assert.equal(detectHotPartition([partition(0, 900), partition(1, 1000), partition(2, 1100)]), null)
  })

  test('below hotMinLag, with a single partition, or without lags: nothing to say', () => {
    assert.equal(detectHotPartition([partition(0, 0), partition(1, 99)]), null)
    assert.equal(detectHotPartition([partition(0, 5000)]), null)
    assert.equal(detectHotPartition([partition(0, null), partition(1, 5000)]), null)
  })

  test('a partition with as much traffic as the others, or whose backlog is draining, is not hot', () => {
    // A backlog left by a scale-up: most of the lag, but no more traffic than the others.
    assert.equal(detectHotPartition([partition(0, 10, 20, 20), partition(1, 12, 20, 20), partition(2, 318, 21, 63)]), null)
    // More traffic, but consumed faster than produced: it is catching up.
    assert.equal(detectHotPartition([partition(0, 10, 10, 10), partition(1, 12, 10, 10), partition(2, 900, 45, 60)]), null)
  })

  test('negative lags count as 0 and the others having none is an infinite factor', () => {
    const hot = detectHotPartition([partition(0, -3), partition(1, 0), partition(2, 500)])
    assert.ok(hot)
    assert.equal(hot.factor, Number.POSITIVE_INFINITY)
    assert.equal(hot.trafficFactor, null)
  })
})

describe('idle members', () => {
  test('in a Stable group, members owning nothing are idle', () => {
    const idle = detectIdleMembers('Stable', [member('a', 1), member('b', 1), member('c', 1), member('d', 0)], 3)
    assert.ok(idle)
    assert.equal(idle.members, 4)
    assert.equal(idle.partitions, 3)
    assert.deepEqual(
      idle.idle.map((m) => m.clientId),
      ['d'],
    )
  })

  test('not while rebalancing (assignments are empty then), and not when everyone has work', () => {
    assert.equal(detectIdleMembers('PreparingRebalance', [member('a', 0), member('b', 0)], 3), null)
    assert.equal(detectIdleMembers('Stable', [member('a', 2), member('b', 1)], 3), null)
  })
})

describe('rebalances', () => {
  const s = (t: number, state: string, members: string[], assignment = members.join(',')): GroupSample => ({
    time: t * 1000,
    state,
    members,
    assignment,
    totalLag: 0n,
  })

  test('a run of samples that rebalance or change members counts once', () => {
    const h = [
      s(0, 'Stable', ['a']),
      s(5, 'PreparingRebalance', ['a']),
      s(10, 'Stable', ['a', 'b']),
      s(15, 'Stable', ['a', 'b']),
      s(20, 'Stable', ['a']),
      s(25, 'Stable', ['a']),
      s(30, 'CompletingRebalance', ['a', 'c']),
    ]
    assert.equal(countRebalances(h, 600_000), 3)
  })

  test('partitions moving between the same members is a rebalance too', () => {
    assert.equal(countRebalances([s(0, 'Stable', ['a', 'b'], 'a=0;b=1'), s(5, 'Stable', ['a', 'b'], 'a=0,1;b=')], 600_000), 1)
  })

  test('only the window counts', () => {
    const h = [s(0, 'PreparingRebalance', ['a']), s(5, 'Stable', ['a']), s(700, 'PreparingRebalance', ['a']), s(705, 'Stable', ['a'])]
    assert.equal(countRebalances(h, 600_000), 1)
    assert.equal(countRebalances(h, 800_000), 2)
  })
})

describe('diagnose', () => {
  const growing = lagSeries(100, 300, 500, 700)

  test('lag growing with no members: no consumer is running', () => {
    const d = diagnose({ state: 'Empty', history: growing, partitions: [partition(0, 700)], members: [], recommended: 1 })
    assert.equal(d.length, 1)
    assert.equal(d[0]?.kind, 'lag-growing')
    assert.equal(d[0]?.cause, 'no-consumers')
    assert.match(d[0]?.message ?? '', /no consumer is running/)
  })

  test('lag growing with fewer consumers than partitions: too few consumers, with KEDA’s count', () => {
    const d = diagnose({
      state: 'Stable',
      history: growing,
      partitions: [partition(0, 250, 20, 10), partition(1, 230, 20, 10), partition(2, 220, 20, 0)],
      members: [member('a', 3)],
      recommended: 3,
    })
    const g = d.find((x) => x.kind === 'lag-growing')
    assert.equal(g?.cause, 'too-few-consumers')
    assert.match(g?.message ?? '', /1 for 3 partitions; KEDA's formula recommends 3/)
    assert.match(g?.message ?? '', /producing 60\.0\/s, consuming 20\.0\/s/)
  })

  test('lag growing with fewer consumers than partitions, but KEDA asks for no more than are running: processing too slow', () => {
    const d = diagnose({
      state: 'Stable',
      history: growing,
      partitions: [partition(0, 250), partition(1, 230), partition(2, 220), partition(3, 10)],
      members: [member('a', 2), member('b', 2)],
      recommended: 2,
    })
    assert.equal(d.find((x) => x.kind === 'lag-growing')?.cause, 'slow-processing')
  })

  test('lag growing with a consumer per partition: processing too slow', () => {
    const d = diagnose({
      state: 'Stable',
      history: growing,
      partitions: [partition(0, 250), partition(1, 230), partition(2, 220)],
      members: [member('a', 1), member('b', 1), member('c', 1)],
      recommended: 3,
    })
    assert.deepEqual(
      d.map((x) => [x.kind, x.cause]),
      [['lag-growing', 'slow-processing']],
    )
  })

  test('lag growing on one partition: the hot partition is named as the cause and on its own line', () => {
    const d = diagnose({
      state: 'Stable',
      history: growing,
      partitions: [partition(0, 10), partition(1, 20), partition(2, 670)],
      members: [member('a', 1), member('b', 1), member('c', 1)],
      recommended: 3,
    })
    assert.deepEqual(
      d.map((x) => [x.kind, x.cause]),
      [
        ['lag-growing', 'hot-partition'],
        ['hot-partition', undefined],
      ],
    )
    assert.match(d[1]?.message ?? '', /hot partition t-2: 670 records of lag, 96% of the group's, 44\.7× the other partitions' mean/)
  })

  test('idle members and frequent rebalances are named, with static membership advised when members are not static', () => {
    const churn: GroupSample[] = [0, 1, 2, 3, 4, 5].map((i) => ({
      time: i * 5000,
      state: i % 2 === 1 ? 'PreparingRebalance' : 'Stable',
      members: ['a', 'b'],
      assignment: 'x',
      totalLag: 0n,
    }))
    const d = diagnose({
      state: 'Stable',
      history: churn,
      partitions: [partition(0, 0)],
      members: [member('a', 1), member('b', 0)],
      recommended: 0,
    })
    assert.deepEqual(
      d.map((x) => x.kind),
      ['idle-members', 'frequent-rebalances'],
    )
    assert.match(d[0]?.message ?? '', /2 members for 1 partitions; 1 own nothing \(b\)/)
    assert.match(d[1]?.message ?? '', /3 in the last 10 min.*static membership \(group\.instance\.id\)/)
    const statics = diagnose({
      state: 'Stable',
      history: churn,
      partitions: [partition(0, 0), partition(1, 0)],
      members: [member('a', 1, 'a-0'), member('b', 1, 'b-0')],
      recommended: 0,
    })
    assert.doesNotMatch(statics[0]?.message ?? '', /static membership/)
  })

  test('a healthy group has nothing to report', () => {
    const d = diagnose({
      state: 'Stable',
      history: lagSeries(5, 3, 6, 2, 4),
      partitions: [partition(0, 2), partition(1, 2)],
      members: [member('a', 1), member('b', 1)],
      recommended: 1,
    })
    assert.deepEqual(d, [])
  })
})
