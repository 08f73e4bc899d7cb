/**
 * Assignors against known Java outputs: cases ported from Kafka's own tests (RangeAssignorTest,
 * RoundRobinAssignorTest, AbstractStickyAssignorTest, StickyAssignorTest, CooperativeStickyAssignorTest in
 * apache/kafka clients/src/test/java/org/apache/kafka/clients/consumer), the userData bytes Java writes, and
 * the Java HashMap orders the sticky assignors' tie-breaks depend on (printed by a JDK 17 `HashMap`).
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import {
  type Assignor,
  assignorByName,
  COOPERATIVE_STICKY_ASSIGNOR_NAME,
  cooperativeMemberData,
  cooperativeStickyAssignor,
  DEFAULT_ASSIGNORS,
  decodeCooperativeUserData,
  decodeStickyUserData,
  diffAssignment,
  encodeCooperativeUserData,
  encodeStickyUserData,
  type MemberSubscription,
  rangeAssignor,
  roundRobinAssignor,
  stickyAssignor,
  stickyMemberData,
  type TopicPartition,
} from '../../../src/client/assignors/index.ts'
import { javaHashMapOrder, javaStringHash } from '../../../src/client/assignors/java-hash.ts'

const tp = (topic: string, partition: number): TopicPartition => ({ topic, partition })
/** "topic-0,topic-1" → TopicPartitions. */
const tps = (s: string): TopicPartition[] =>
  s === '' ? [] : s.split(',').map((x) => tp(x.slice(0, x.lastIndexOf('-')), Number(x.slice(x.lastIndexOf('-') + 1))))
const show = (list: readonly TopicPartition[]): string =>
  [...list]
    .sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition))
    .map((x) => `${x.topic}-${x.partition}`)
    .join(',')

interface MemberOptions {
  instance?: string
  /** The member's previous assignment and generation: in userData for sticky, owned partitions for the rest. */
  owned?: string
  generation?: number
  /** Subscription v2+ generation when it should differ from `generation` (-1 = v0/v1 subscription). */
  subscriptionGeneration?: number
}

function member(assignor: Assignor, memberId: string, topics: string[], o: MemberOptions = {}): MemberSubscription {
  const owned = tps(o.owned ?? '')
  const generation = o.generation ?? -1
  const sticky = assignor === stickyAssignor
  return {
    memberId,
    groupInstanceId: o.instance ?? null,
    topics,
    userData: o.owned === undefined && o.generation === undefined ? null : assignor.subscriptionUserData(topics, owned, generation),
    ownedPartitions: sticky ? [] : owned,
    generationId: o.subscriptionGeneration ?? generation,
    rackId: null,
  }
}

function run(assignor: Assignor, topics: Record<string, number>, members: MemberSubscription[]): Record<string, string> {
  const result = assignor.assign(members, new Map(Object.entries(topics)))
  assert.deepEqual(
    [...result.assignments.keys()],
    members.map((m) => m.memberId),
  )
  return Object.fromEntries([...result.assignments].map(([id, a]) => [id, show(a.partitions)]))
}

/** The cooperative protocol's follow-up rebalances: rejoin with what each member kept, until nothing is revoked. */
function settle(assignor: Assignor, topics: Record<string, number>, members: MemberSubscription[], generation = 1): Record<string, string> {
  let current = members
  for (let round = 0; round < 4; round++) {
    const out = assignor.assign(current, new Map(Object.entries(topics)))
    const revoked = current.some((m) => {
      const got = new Set(out.assignments.get(m.memberId)!.partitions.map((x) => `${x.topic}-${x.partition}`))
      return m.ownedPartitions.some((x) => !got.has(`${x.topic}-${x.partition}`))
    })
    const unassigned =
      Object.values(topics).reduce((a, b) => a + b, 0) - [...out.assignments.values()].reduce((n, a) => n + a.partitions.length, 0)
    if (!revoked && unassigned === 0) return Object.fromEntries([...out.assignments].map(([id, a]) => [id, show(a.partitions)]))
    current = current.map((m) => ({
      ...m,
      ownedPartitions: out.assignments.get(m.memberId)!.partitions,
      generationId: generation + round + 1,
    }))
  }
  throw new Error('no stable assignment after 4 rebalances')
}

describe('range (Java RangeAssignorTest)', () => {
  const a = rangeAssignor
  test('two consumers, two topics of three partitions', () => {
    assert.deepEqual(
      run(a, { topic1: 3, topic2: 3 }, [member(a, 'consumer1', ['topic1', 'topic2']), member(a, 'consumer2', ['topic1', 'topic2'])]),
      {
        consumer1: 'topic1-0,topic1-1,topic2-0,topic2-1',
        consumer2: 'topic1-2,topic2-2',
      },
    )
  })
  test('mixed subscriptions', () => {
    const members = [member(a, 'consumer1', ['topic1']), member(a, 'consumer2', ['topic1', 'topic2']), member(a, 'consumer3', ['topic1'])]
    assert.deepEqual(run(a, { topic1: 3, topic2: 2 }, members), {
      consumer1: 'topic1-0',
      consumer2: 'topic1-1,topic2-0,topic2-1',
      consumer3: 'topic1-2',
    })
  })
  test('static members are ordered by group.instance.id, before dynamic members', () => {
    const both = ['topic1', 'topic2']
    assert.deepEqual(
      run(a, { topic1: 3, topic2: 3 }, [
        member(a, 'consumer-b', both, { instance: 'instance1' }),
        member(a, 'consumer-a', both, { instance: 'instance2' }),
      ]),
      { 'consumer-b': 'topic1-0,topic1-1,topic2-0,topic2-1', 'consumer-a': 'topic1-2,topic2-2' },
    )
    assert.deepEqual(
      run(a, { topic1: 3, topic2: 3 }, [member(a, 'consumer-b', both, { instance: 'instance1' }), member(a, 'consumer-a', both)]),
      {
        'consumer-b': 'topic1-0,topic1-1,topic2-0,topic2-1',
        'consumer-a': 'topic1-2,topic2-2',
      },
    )
  })
  test('static members keep their ranges when a dynamic member is replaced or member ids change', () => {
    const both = ['topic1', 'topic2']
    const statics = [1, 2, 3].map((i) => member(a, `consumer${i}`, both, { instance: `instance${i}` }))
    const expected = { consumer1: 'topic1-0,topic1-1,topic2-0', consumer2: 'topic1-2,topic2-1', consumer3: 'topic1-3,topic2-2' }
    assert.deepEqual(run(a, { topic1: 5, topic2: 4 }, [...statics, member(a, 'consumer4', both)]), {
      ...expected,
      consumer4: 'topic1-4,topic2-3',
    })
    assert.deepEqual(run(a, { topic1: 5, topic2: 4 }, [...statics, member(a, 'consumer5', both)]), {
      ...expected,
      consumer5: 'topic1-4,topic2-3',
    })
    const renamed = statics.map((m, i) => ({ ...m, memberId: `new-${9 - i}` }))
    assert.deepEqual(Object.values(run(a, { topic1: 5, topic2: 5 }, renamed)), [
      'topic1-0,topic1-1,topic2-0,topic2-1',
      'topic1-2,topic1-3,topic2-2,topic2-3',
      'topic1-4,topic2-4',
    ])
  })
  test('only subscribed topics with partitions are assigned; unknown topics are ignored', () => {
    assert.deepEqual(run(a, { topic: 3, other: 3, empty: 0 }, [member(a, 'c', ['topic', 'empty', 'missing'])]), {
      c: 'topic-0,topic-1,topic-2',
    })
    assert.deepEqual(run(a, {}, [member(a, 'c', [])]), { c: '' })
  })
})

describe('roundrobin (Java RoundRobinAssignorTest)', () => {
  const a = roundRobinAssignor
  const both = ['topic1', 'topic2']
  test('mixed subscriptions', () => {
    const members = [member(a, 'consumer1', ['topic1']), member(a, 'consumer2', both), member(a, 'consumer3', ['topic1'])]
    assert.deepEqual(run(a, { topic1: 3, topic2: 2 }, members), {
      consumer1: 'topic1-0',
      consumer2: 'topic1-1,topic2-0,topic2-1',
      consumer3: 'topic1-2',
    })
  })
  test('two dynamic consumers, two topics of three partitions', () => {
    assert.deepEqual(run(a, { topic1: 3, topic2: 3 }, [member(a, 'consumer1', both), member(a, 'consumer2', both)]), {
      consumer1: 'topic1-0,topic1-2,topic2-1',
      consumer2: 'topic1-1,topic2-0,topic2-2',
    })
  })
  test('static members are ordered by group.instance.id, before dynamic members', () => {
    const expected = { 'consumer-b': 'topic1-0,topic1-2,topic2-1', 'consumer-a': 'topic1-1,topic2-0,topic2-2' }
    assert.deepEqual(
      run(a, { topic1: 3, topic2: 3 }, [
        member(a, 'consumer-b', both, { instance: 'instance1' }),
        member(a, 'consumer-a', both, { instance: 'instance2' }),
      ]),
      expected,
    )
    assert.deepEqual(
      run(a, { topic1: 3, topic2: 3 }, [member(a, 'consumer-b', both, { instance: 'instance1' }), member(a, 'consumer-a', both)]),
      expected,
    )
  })
  test('static assignment is persistent', () => {
    const statics = [1, 2, 3].map((i) => member(a, `consumer${i}`, both, { instance: `instance${i}` }))
    const expected = { consumer1: 'topic1-0,topic2-1', consumer2: 'topic1-1,topic2-2', consumer3: 'topic1-2' }
    assert.deepEqual(run(a, { topic1: 3, topic2: 3 }, [...statics, member(a, 'consumer4', both)]), { ...expected, consumer4: 'topic2-0' })
    assert.deepEqual(run(a, { topic1: 3, topic2: 3 }, [...statics, member(a, 'consumer5', both)]), { ...expected, consumer5: 'topic2-0' })
    const renamed = statics.map((m, i) => ({ ...m, memberId: `z${i}` }))
    assert.deepEqual(run(a, { topic1: 5, topic2: 5 }, renamed), {
      z0: 'topic1-0,topic1-3,topic2-1,topic2-4',
      z1: 'topic1-1,topic1-4,topic2-2',
      z2: 'topic1-2,topic2-0,topic2-3',
    })
  })
})

describe('sticky and cooperative-sticky (Java AbstractStickyAssignorTest)', () => {
  for (const a of [stickyAssignor, cooperativeStickyAssignor]) {
    const coop = a === cooperativeStickyAssignor
    describe(a.name, () => {
      test('mixed topic subscriptions (general builder)', () => {
        const members = [
          member(a, 'consumer1', ['topic1']),
          member(a, 'consumer2', ['topic1', 'topic2']),
          member(a, 'consumer3', ['topic1']),
        ]
        assert.deepEqual(run(a, { topic1: 3, topic2: 2 }, members), {
          consumer1: 'topic1-0,topic1-2',
          consumer2: 'topic2-0,topic2-1',
          consumer3: 'topic1-1',
        })
      })
      test('two consumers, two topics of three partitions', () => {
        const both = ['topic1', 'topic2']
        assert.deepEqual(run(a, { topic1: 3, topic2: 3 }, [member(a, 'consumer1', both), member(a, 'consumer2', both)]), {
          consumer1: 'topic1-0,topic1-2,topic2-1',
          consumer2: 'topic1-1,topic2-0,topic2-2',
        })
      })
      test('a consumer owning minQuota gets the extra partition', () => {
        const both = ['topic1', 'topic2']
        const members = [
          member(a, 'consumer1', both, { owned: 'topic1-0,topic2-1', generation: 1 }),
          member(a, 'consumer2', both, { owned: 'topic1-1,topic2-2', generation: 1 }),
        ]
        assert.deepEqual(run(a, { topic1: 2, topic2: 3 }, members), {
          consumer1: 'topic1-0,topic2-0,topic2-1',
          consumer2: 'topic1-1,topic2-2',
        })
      })
      test('more consumers own maxQuota than may keep it (Java HashMap order decides who keeps it)', () => {
        const both = ['topic1', 'topic2']
        const members = [
          member(a, 'consumer1', both, { owned: 'topic1-0,topic2-0', generation: 1 }),
          member(a, 'consumer2', both, { owned: 'topic1-1,topic2-1', generation: 1 }),
          member(a, 'consumer3', both, { owned: '', generation: 1 }),
        ]
        const expected = { consumer1: 'topic1-0', consumer2: 'topic1-1,topic2-1', consumer3: 'topic2-0' }
        if (coop) {
          // topic2-0 moves from consumer1 to consumer3: revoked in this rebalance, assigned in the next.
          assert.deepEqual(run(a, { topic1: 2, topic2: 2 }, members), { ...expected, consumer3: '' })
          assert.deepEqual(settle(a, { topic1: 2, topic2: 2 }, members), expected)
        } else {
          assert.deepEqual(run(a, { topic1: 2, topic2: 2 }, members), expected)
        }
      })
      test('all consumers under minQuota', () => {
        const both = ['topic1', 'topic2']
        const members = [
          member(a, 'consumer1', both, { owned: 'topic1-0', generation: 1 }),
          member(a, 'consumer2', both, { owned: 'topic1-1', generation: 1 }),
          member(a, 'consumer3', both, { owned: '', generation: 1 }),
        ]
        assert.deepEqual(run(a, { topic1: 2, topic2: 3 }, members), {
          consumer1: 'topic1-0,topic2-1',
          consumer2: 'topic1-1,topic2-2',
          consumer3: 'topic2-0',
        })
      })
      test('add then remove a consumer on one topic', () => {
        const t = { topic: 3 }
        assert.deepEqual(run(a, t, [member(a, 'consumer1', ['topic'])]), { consumer1: 'topic-0,topic-1,topic-2' })
        const two = [
          member(a, 'consumer1', ['topic'], { owned: 'topic-0,topic-1,topic-2', generation: 1 }),
          member(a, 'consumer2', ['topic'], { owned: '', generation: 1 }),
        ]
        assert.deepEqual(
          run(a, t, two),
          coop ? { consumer1: 'topic-0,topic-1', consumer2: '' } : { consumer1: 'topic-0,topic-1', consumer2: 'topic-2' },
        )
        assert.deepEqual(settle(a, t, two), { consumer1: 'topic-0,topic-1', consumer2: 'topic-2' })
        assert.deepEqual(run(a, t, [member(a, 'consumer2', ['topic'], { owned: 'topic-2', generation: 1 })]), {
          consumer2: 'topic-0,topic-1,topic-2',
        })
      })
      test('a partition claimed by two members of one generation is taken from both', () => {
        const members = [
          member(a, 'consumer1', ['topic'], { owned: 'topic-0,topic-1', generation: 1 }),
          member(a, 'consumer2', ['topic'], { owned: 'topic-0,topic-2', generation: 1 }),
          member(a, 'consumer3', ['topic'], { owned: '', generation: 1 }),
        ]
        const expected = { consumer1: 'topic-1', consumer2: 'topic-2', consumer3: 'topic-0' }
        // Cooperative: topic-0 is "owned" until both have revoked it, so it is assigned a rebalance later.
        assert.deepEqual(run(a, { topic: 3 }, members), coop ? { ...expected, consumer3: '' } : expected)
        const four = [...members]
        assert.deepEqual(
          run(a, { topic: 4 }, four),
          coop
            ? { consumer1: 'topic-1,topic-3', consumer2: 'topic-2', consumer3: '' }
            : { consumer1: 'topic-1,topic-3', consumer2: 'topic-2', consumer3: 'topic-0' },
        )
      })
      test('all consumers reach the expected quota', () => {
        const members = [
          member(a, 'consumer1', ['topic'], { owned: 'topic-0,topic-1', generation: 1 }),
          member(a, 'consumer2', ['topic'], { owned: 'topic-2', generation: 1 }),
          member(a, 'consumer3', ['topic'], { owned: '', generation: 1 }),
        ]
        assert.deepEqual(run(a, { topic: 4 }, members), { consumer1: 'topic-0,topic-1', consumer2: 'topic-2', consumer3: 'topic-3' })
      })
      test('claims of a stale or missing generation lose to the current one', () => {
        const both = ['topic', 'topic2']
        for (const staleGeneration of [9, -1]) {
          const members = [
            member(a, 'consumer1', both, { owned: 'topic-0,topic-2,topic2-1', generation: 10 }),
            member(a, 'consumer2', both, { owned: 'topic-0,topic-2,topic2-1', generation: staleGeneration }),
          ]
          assert.deepEqual(run(a, { topic: 3, topic2: 3 }, members), {
            consumer1: 'topic-0,topic-2,topic2-1',
            consumer2: 'topic-1,topic2-0,topic2-2',
          })
        }
      })
      test('partitions go to the member with the highest generation', () => {
        const all = ['topic', 'topic2', 'topic3']
        const members = [
          member(a, 'consumer1', all, { owned: 'topic-0,topic2-0,topic3-0', generation: 10 }),
          member(a, 'consumer2', all, { owned: 'topic-1,topic2-1,topic3-1', generation: 9 }),
          member(a, 'consumer3', all, { owned: 'topic2-1,topic3-0,topic3-2', generation: 8 }),
        ]
        assert.deepEqual(run(a, { topic: 3, topic2: 3, topic3: 3 }, members), {
          consumer1: 'topic-0,topic2-0,topic3-0',
          consumer2: 'topic-1,topic2-1,topic3-1',
          consumer3: 'topic-2,topic2-2,topic3-2',
        })
      })
      test('no reassignment of current members', () => {
        const all = ['topic', 'topic2', 'topic3', 'topic1']
        const members = [
          member(a, 'consumer1', all, { owned: '', generation: -1 }),
          member(a, 'consumer2', all, { owned: 'topic-0,topic2-0,topic1-0', generation: 9 }),
          member(a, 'consumer3', all, { owned: 'topic3-2,topic2-2,topic1-1', generation: 8 }),
          member(a, 'consumer4', all, { owned: 'topic3-1,topic-1,topic-2', generation: 7 }),
        ]
        const out = run(a, { topic: 3, topic1: 3, topic2: 3, topic3: 3 }, members)
        assert.equal(out.consumer1, 'topic1-2,topic2-1,topic3-0')
      })
      test('owned partitions are invalidated for a member of an older generation', () => {
        const both = ['topic', 'topic2']
        const members = [
          member(a, 'consumer1', both, { owned: 'topic-0,topic2-1,topic-1', generation: 10 }),
          member(a, 'consumer2', both, { owned: 'topic-0,topic2-1,topic2-2', generation: 8 }),
        ]
        assert.deepEqual(run(a, { topic: 3, topic2: 3 }, members), {
          consumer1: 'topic-0,topic-1,topic2-1',
          consumer2: 'topic-2,topic2-0,topic2-2',
        })
      })
      test('a deleted topic drops out; an only subscribed topic deleted leaves an empty assignment', () => {
        assert.deepEqual(
          run(a, { topic1: 1, topic3: 100 }, [member(a, 'consumer', ['topic1', 'topic2', 'topic3'])]).consumer.split(',').length,
          101,
        )
        assert.deepEqual(run(a, {}, [member(a, 'consumer', ['topic'], { owned: 'topic-0,topic-1,topic-2', generation: 1 })]), {
          consumer: '',
        })
      })
    })
  }

  test('sticky: mixed claims from Subscription v0, v1 and v2 (Java testAssignorWithOldVersionSubscriptions)', () => {
    const a = stickyAssignor
    const members = [
      member(a, 'consumer1', ['topic1'], { owned: 'topic1-0', generation: 1, subscriptionGeneration: -1 }),
      {
        ...member(a, 'consumer2', ['topic1'], { owned: 'topic1-1', generation: 1, subscriptionGeneration: -1 }),
        ownedPartitions: tps('topic1-1'),
      },
      member(a, 'consumer3', ['topic1'], { owned: '', generation: 1 }),
    ]
    assert.deepEqual(run(a, { topic1: 3 }, members), { consumer1: 'topic1-0', consumer2: 'topic1-1', consumer3: 'topic1-2' })
  })

  test('cooperative-sticky: Subscription v1 (generation only in userData)', () => {
    const a = cooperativeStickyAssignor
    const members = [
      member(a, 'consumer1', ['topic1'], { owned: 'topic1-0', generation: 1, subscriptionGeneration: -1 }),
      member(a, 'consumer2', ['topic1'], { owned: 'topic1-1', generation: 1, subscriptionGeneration: -1 }),
      member(a, 'consumer3', ['topic1'], { owned: '', generation: 1 }),
    ]
    assert.deepEqual(run(a, { topic1: 3 }, members), { consumer1: 'topic1-0', consumer2: 'topic1-1', consumer3: 'topic1-2' })
  })

  test('sticky: the old (V0, generation-less) userData schema is still honoured (Java testSchemaBackwardCompatibility)', () => {
    const a = stickyAssignor
    const c2 = { ...member(a, 'consumer2', ['topic']), userData: encodeStickyUserData(tps('topic-1'), null) }
    const out = run(a, { topic: 3 }, [
      member(a, 'consumer1', ['topic'], { owned: 'topic-0,topic-2', generation: 1 }),
      c2,
      member(a, 'consumer3', ['topic']),
    ])
    assert.ok(['topic-0', 'topic-2'].includes(out.consumer1))
    assert.equal(out.consumer2, 'topic-1')
    assert.equal(out.consumer3.split(',').length, 1)
  })

  test('Java loops forever on this input; the port ends with a valid, balanced assignment', () => {
    // Found by differential testing: Java's CooperativeStickyAssignor (and StickyAssignor) pass t2-2 back and
    // forth between m6132-12 and m7332-2 forever. See abstract-sticky.ts.
    const a = cooperativeStickyAssignor
    const rows: [string, number, string, string][] = [
      ['m5593-0', 2, 't0-0,t0-1,t0-2,t0-3,t0-4,t0-5,t0-9,t0-13,t2-16', 't0,t2'],
      ['m7332-2', 2, 't2-1,t2-3,t2-5,t2-7,t2-11,t2-12,t2-13,t2-15', 't2'],
      ['m1425-3', 2, 't1-7,t1-13,t3-13,t3-19,t3-25,t3-31,t3-37,t3-43,t4-33,t4-43', 't0,t1,t3,t4'],
      ['m5378-4', 2, 't0-7,t0-11,t0-15,t1-3,t1-9,t1-15,t4-13,t4-19,t4-28,t4-38', 't0,t1,t4'],
      ['m2548-5', 2, 't3-0,t3-1,t3-2,t3-4,t3-8,t3-14,t3-20,t3-26,t3-32,t3-38,t3-44', 't3'],
      ['m9859-6', 2, 't1-4,t1-10,t1-16,t4-3,t4-6,t4-9,t4-15,t4-21,t4-31,t4-41', 't1,t4'],
      ['m566-7', 2, 't3-3,t3-7,t3-11,t3-17,t3-23,t3-29,t3-35,t3-41,t3-47,t4-30,t4-40', 't3,t4'],
      ['m5030-8', 2, 't3-6,t3-10,t3-16,t3-22,t3-28,t3-34,t3-40,t3-46,t4-37,t4-47', 't0,t3,t4'],
      ['m5475-9', 2, 't0-8,t0-12,t0-16,t4-14,t4-20,t4-23,t4-26,t4-27,t4-29,t4-39', 't0,t4'],
      ['m1960-10', 2, 't1-2,t1-8,t1-14,t4-4,t4-7,t4-11,t4-17,t4-24,t4-34,t4-44', 't1,t4'],
      ['m3158-11', 2, 't4-0,t4-1,t4-2,t4-5,t4-8,t4-12,t4-18,t4-25,t4-35,t4-45', 't1,t3'],
      ['m6132-12', 2, 't2-0,t2-2,t2-4,t2-6,t2-8,t2-9,t2-10,t2-14', 't2'],
      ['m447-13', 2, 't3-5,t3-9,t3-15,t3-21,t3-27,t3-33,t3-39,t3-45,t4-36,t4-46', 't0,t3,t4'],
      ['m1095-14', 2, 't0-6,t0-10,t0-14,t1-6,t1-12,t4-10,t4-16,t4-22,t4-32,t4-42', 't0,t1,t4'],
      ['new1412', -1, '', 't1,t2,t3'],
    ]
    const members = rows.map(([id, generation, owned, topics]) => ({
      ...member(a, id, topics.split(','), { owned, generation }),
      userData: null,
    }))
    const topics = { t0: 17, t1: 17, t2: 17, t3: 49, t4: 48 }
    const out = a.assign(members, new Map(Object.entries(topics)))
    const seen = new Set<string>()
    for (const m of members) {
      for (const p of out.assignments.get(m.memberId)!.partitions) {
        assert.ok(m.topics.includes(p.topic))
        assert.ok(!seen.has(`${p.topic}-${p.partition}`))
        seen.add(`${p.topic}-${p.partition}`)
      }
    }
    assert.ok(settle(a, topics, members, 2))
  })
})

describe('userData', () => {
  test('sticky: the bytes Java StickyAssignor.subscriptionUserData writes', () => {
    // onAssignment([topic1-0, topic2-1, topic1-2], generation 3): V1, topics in Java HashMap order.
    const bytes = stickyAssignor.subscriptionUserData(['topic1', 'topic2'], tps('topic1-0,topic2-1,topic1-2'), 3)!
    assert.equal(bytes.toString('hex'), '000000020006746f706963310000000200000000000000020006746f70696332000000010000000100000003')
    // Before the first assignment Java sends null.
    assert.equal(stickyAssignor.subscriptionUserData(['topic1'], [], -1), null)
    // After an empty assignment it sends an empty list and the generation.
    assert.equal(stickyAssignor.subscriptionUserData(['topic1'], [], 5)!.toString('hex'), '0000000000000005')
  })
  test('sticky: topics come out in the order of the HashMap Java groups them in (computeIfAbsent)', () => {
    const owned = tps('x-0,b-1,x-2,Aa-0,c-0,BB-3,d-0,e-0,f-0,g-0,h-0,i-0,j-0,k-0,l-0,m-0,m-1,m-2')
    const decoded = decodeStickyUserData(encodeStickyUserData(owned, 1))
    assert.deepEqual(
      [...new Set(decoded.partitions.map((p) => p.topic))],
      ['BB', 'Aa', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm', 'x'],
    )
    assert.deepEqual(
      decoded.partitions.filter((p) => p.topic === 'x').map((p) => p.partition),
      [0, 2],
    )
  })
  test('sticky: encode → decode round-trips, V1 and V0', () => {
    const owned = tps('orders-3,orders-1,payments-0,ü-topic-7')
    const v1 = decodeStickyUserData(encodeStickyUserData(owned, 42))
    assert.equal(v1.generation, 42)
    assert.deepEqual(show(v1.partitions), show(owned))
    const v0 = decodeStickyUserData(encodeStickyUserData(owned, null))
    assert.equal(v0.generation, null)
    assert.deepEqual(show(v0.partitions), show(owned))
  })
  test('sticky: absent, empty and unparseable userData', () => {
    assert.deepEqual(decodeStickyUserData(null), { partitions: [], generation: null })
    assert.deepEqual(decodeStickyUserData(Buffer.alloc(0)), { partitions: [], generation: null })
    assert.deepEqual(decodeStickyUserData(Buffer.from('00000001ffff', 'hex')), { partitions: [], generation: -1 })
    assert.deepEqual(decodeStickyUserData(Buffer.from('00000007', 'hex')), { partitions: [], generation: -1 })
  })
  test('cooperative-sticky: a 4-byte generation', () => {
    assert.equal(cooperativeStickyAssignor.subscriptionUserData(['t'], [], 7)!.toString('hex'), '00000007')
    assert.equal(encodeCooperativeUserData(-1).toString('hex'), 'ffffffff')
    assert.equal(decodeCooperativeUserData(encodeCooperativeUserData(123456)), 123456)
    assert.equal(decodeCooperativeUserData(null), null)
    assert.equal(decodeCooperativeUserData(Buffer.alloc(2)), -1)
  })
  test('range and roundrobin send none', () => {
    assert.equal(rangeAssignor.subscriptionUserData(['t'], tps('t-0'), 3), null)
    assert.equal(roundRobinAssignor.subscriptionUserData(['t'], tps('t-0'), 3), null)
  })
})

describe('member data (Java StickyAssignorTest / CooperativeStickyAssignorTest)', () => {
  const base: MemberSubscription = {
    memberId: 'm',
    groupInstanceId: null,
    topics: ['topic'],
    userData: null,
    ownedPartitions: [],
    generationId: -1,
    rackId: null,
  }
  test('sticky always honours userData over the subscription', () => {
    const userData = encodeStickyUserData(tps('topic1-0,topic2-1'), 0)
    const md = stickyMemberData({ ...base, userData, ownedPartitions: tps('topic-0'), generationId: 1 })
    assert.deepEqual(show(md.partitions), 'topic1-0,topic2-1')
    assert.equal(md.generation, 0)
  })
  test('cooperative-sticky: owned partitions from the subscription, generation from v2+ or else userData', () => {
    const userData = encodeCooperativeUserData(1)
    assert.deepEqual(cooperativeMemberData({ ...base, userData, ownedPartitions: tps('topic-0') }), {
      partitions: tps('topic-0'),
      generation: 1,
    })
    assert.deepEqual(cooperativeMemberData({ ...base, userData: encodeCooperativeUserData(0), generationId: 1 }), {
      partitions: [],
      generation: 1,
    })
    assert.deepEqual(cooperativeMemberData(base), { partitions: [], generation: null })
    assert.deepEqual(cooperativeMemberData({ ...base, userData: Buffer.alloc(0) }), { partitions: [], generation: -1 })
  })
})

describe('Java HashMap order', () => {
  test('String.hashCode', () => {
    assert.equal(javaStringHash('hello'), 99162322)
    assert.equal(javaStringHash(''), 0)
    assert.equal(javaStringHash('Aa'), javaStringHash('BB'))
  })
  test('key orders printed by a JDK 17 HashMap', () => {
    assert.deepEqual(javaHashMapOrder(['consumer1', 'consumer2', 'consumer3']), ['consumer3', 'consumer2', 'consumer1'])
    assert.deepEqual(javaHashMapOrder(Array.from({ length: 14 }, (_, i) => `c${i}`)), [
      'c11',
      'c10',
      'c13',
      'c12',
      'c0',
      'c1',
      'c2',
      'c3',
      'c4',
      'c5',
      'c6',
      'c7',
      'c8',
      'c9',
    ])
    assert.deepEqual(
      javaHashMapOrder([
        'Aa',
        'BB',
        'AaAa',
        'BBBB',
        'AaBB',
        'BBAa',
        'AaAaAa',
        'BBBBBB',
        'AaAaBB',
        'AaBBAa',
        'BBAaAa',
        'AaBBBB',
        'zz',
        'member-1',
      ]),
      ['Aa', 'BB', 'AaAaAa', 'BBBBBB', 'AaAaBB', 'AaBBAa', 'BBAaAa', 'AaBBBB', 'zz', 'member-1', 'AaAa', 'BBBB', 'AaBB', 'BBAa'],
    )
  })
})

describe('diffAssignment', () => {
  test('added and revoked, in input order, duplicates once', () => {
    assert.deepEqual(diffAssignment(tps('a-0,a-1,b-0'), tps('b-0,a-2,a-1,c-5,c-5')), { added: tps('a-2,c-5'), revoked: tps('a-0') })
    assert.deepEqual(diffAssignment([], tps('a-0')), { added: tps('a-0'), revoked: [] })
    assert.deepEqual(diffAssignment(tps('a-0'), []), { added: [], revoked: tps('a-0') })
    assert.deepEqual(diffAssignment(tps('a-1,a-0'), tps('a-0,a-1')), { added: [], revoked: [] })
  })
})

describe('registry', () => {
  test('wire names, protocols and the Java 3.x default list', () => {
    assert.deepEqual(
      ['range', 'roundrobin', 'sticky', 'cooperative-sticky'].map((n) => [assignorByName(n)?.name, assignorByName(n)?.supportedProtocols]),
      [
        ['range', ['EAGER']],
        ['roundrobin', ['EAGER']],
        ['sticky', ['EAGER']],
        ['cooperative-sticky', ['COOPERATIVE', 'EAGER']],
      ],
    )
    assert.equal(assignorByName('uniform'), undefined)
    assert.deepEqual(
      DEFAULT_ASSIGNORS.map((a) => a.name),
      ['range', COOPERATIVE_STICKY_ASSIGNOR_NAME],
    )
    for (const a of DEFAULT_ASSIGNORS) assert.equal(a.version, 0)
  })
  test('duplicate member ids are rejected', () => {
    const m = member(rangeAssignor, 'same', ['t'])
    for (const a of DEFAULT_ASSIGNORS) assert.throws(() => a.assign([m, m], new Map([['t', 1]])), /duplicate member id/)
  })
})
