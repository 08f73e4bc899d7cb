/** KEDA's Kafka scaler formula (getLagForPartition, getTotalLag) and the replica count it leads to. */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import {
  DEFAULT_KEDA,
  type KedaPartition,
  kedaRecommendation,
  nextBalancingFactor,
  partitionLag,
  validateKedaOptions,
} from '../../../src/lag/keda.ts'

/** Partitions of topic `t` as [committed | null, logEnd]. */
function parts(...rows: [number | null, number][]): KedaPartition[] {
  return rows.map(([c, e], partition) => ({ topic: 't', partition, committed: c === null ? null : BigInt(c), logEnd: BigInt(e) }))
}

describe('per-partition lag', () => {
  test('log end − committed, not clamped', () => {
    assert.deepEqual(partitionLag(parts([40, 100])[0] as KedaPartition, DEFAULT_KEDA, new Map()), [60n, 60n])
    assert.deepEqual(partitionLag(parts([120, 100])[0] as KedaPartition, DEFAULT_KEDA, new Map()), [-20n, -20n])
  })

  test('no commit under latest: 1, or 0 with scaleToZeroOnInvalidOffset', () => {
    const p = parts([null, 500])[0] as KedaPartition
    assert.deepEqual(partitionLag(p, DEFAULT_KEDA, new Map()), [1n, 1n])
    assert.deepEqual(partitionLag(p, { ...DEFAULT_KEDA, scaleToZeroOnInvalidOffset: true }, new Map()), [0n, 0n])
  })

  test('no commit under earliest: the whole log end, or 0 with scaleToZeroOnInvalidOffset', () => {
    const p = parts([null, 500])[0] as KedaPartition
    const earliest = { ...DEFAULT_KEDA, offsetResetPolicy: 'earliest' as const }
    assert.deepEqual(partitionLag(p, earliest, new Map()), [500n, 500n])
    assert.deepEqual(partitionLag(p, { ...earliest, scaleToZeroOnInvalidOffset: true }, new Map()), [0n, 0n])
  })

  test('an unknown log end counts 0, but a missing commit under latest still counts 1 (checked first)', () => {
    assert.deepEqual(partitionLag(parts([10, -1])[0] as KedaPartition, DEFAULT_KEDA, new Map()), [0n, 0n])
    assert.deepEqual(partitionLag(parts([null, -1])[0] as KedaPartition, DEFAULT_KEDA, new Map()), [1n, 1n])
  })

  test('excludePersistentLag: a commit that did not move since the last evaluation adds nothing', () => {
    const o = { ...DEFAULT_KEDA, excludePersistentLag: true }
    const previous = new Map<string, bigint>()
    const p = parts([40, 100])[0] as KedaPartition
    assert.deepEqual(partitionLag(p, o, previous), [60n, 60n], 'first sight counts')
    assert.deepEqual(partitionLag(p, o, previous), [0n, 60n], 'unchanged: persistent')
    assert.deepEqual(partitionLag({ ...p, committed: 50n }, o, previous), [50n, 50n], 'moved: counts again')
  })
})

describe('recommendation', () => {
  test('ceil(total lag / lagThreshold) consumers', () => {
    const r = kedaRecommendation(parts([0, 12], [0, 9], [0, 4], [0, 0]))
    assert.equal(r.totalLag, 25n)
    assert.equal(r.metric, 25n)
    assert.equal(r.replicas, 3)
    assert.equal(r.recommended, 3)
    assert.equal(r.partitionsWithLag, 3)
  })

  test('never above the partition count: the metric is capped at partitions × lagThreshold', () => {
    const r = kedaRecommendation(parts([0, 1000], [0, 1000], [0, 1000]))
    assert.equal(r.metric, 30n)
    assert.equal(r.replicas, 3)
    assert.equal(r.recommended, 3)
  })

  test("KEDA's integer division lets 35 over 3 partitions through (4 replicas); the recommendation stays at 3", () => {
    const r = kedaRecommendation(parts([0, 15], [0, 10], [0, 10]))
    assert.equal(r.metric, 35n, '35 / 10 = 3 is not > 3')
    assert.equal(r.replicas, 4)
    assert.equal(r.recommended, 3)
  })

  test('allowIdleConsumers lifts the cap for KEDA but not for the recommendation', () => {
    const r = kedaRecommendation(parts([0, 1000], [0, 1000]), { allowIdleConsumers: true })
    assert.equal(r.metric, 2000n)
    assert.equal(r.replicas, 100, 'maxReplicaCount')
    assert.equal(r.recommended, 2)
  })

  test('limitToPartitionsWithLag caps at the partitions that have lag', () => {
    const r = kedaRecommendation(parts([0, 1000], [0, 1000], [5, 5], [7, 7]), { topic: 't', limitToPartitionsWithLag: true })
    assert.equal(r.metric, 20n)
    assert.equal(r.recommended, 2)
  })

  test('ensureEvenDistributionOfPartitions rounds up to a divisor of the partition count', () => {
    assert.equal(nextBalancingFactor(25n, 6, 10n), 3)
    assert.equal(nextBalancingFactor(35n, 6, 10n), 6)
    assert.equal(nextBalancingFactor(5n, 6, 10n), 1)
    const six = parts([0, 5], [0, 5], [0, 5], [0, 5], [0, 5], [0, 0])
    const r = kedaRecommendation(six, { topic: 't', ensureEvenDistributionOfPartitions: true })
    assert.equal(r.totalLag, 25n)
    assert.equal(r.metric, 30n)
    assert.equal(r.recommended, 3)
  })

  test('no commits yet under latest: one record each, so one consumer is started', () => {
    const r = kedaRecommendation(parts([null, 500], [null, 0], [null, 80]))
    assert.equal(r.totalLag, 3n)
    assert.ok(r.isActive)
    assert.equal(r.recommended, 1)
  })

  test('no commits yet under earliest: all the records count', () => {
    const r = kedaRecommendation(parts([null, 500], [null, 0], [null, 80]), { offsetResetPolicy: 'earliest' })
    assert.equal(r.totalLag, 580n)
    assert.equal(r.recommended, 3)
  })

  test('inactive (no lag above activationLagThreshold) scales to minReplicaCount, 0 by default', () => {
    assert.equal(kedaRecommendation(parts([10, 10], [20, 20])).recommended, 0)
    const quiet = parts([0, 4], [0, 3])
    assert.equal(kedaRecommendation(quiet).recommended, 1, 'lag 7 > 0: active')
    assert.equal(kedaRecommendation(quiet, { activationLagThreshold: 7n }).recommended, 0, 'lag 7 is not > 7')
    assert.equal(kedaRecommendation(parts([10, 10], [20, 20]), { minReplicaCount: 1 }).recommended, 1)
  })

  test('excludePersistentLag across evaluations: stuck partitions stop asking for consumers but keep the scaler active', () => {
    const previous = new Map<string, bigint>()
    const stuck = parts([0, 500], [0, 500])
    const first = kedaRecommendation(stuck, { excludePersistentLag: true }, previous)
    assert.equal(first.recommended, 2)
    const second = kedaRecommendation(stuck, { excludePersistentLag: true }, previous)
    assert.equal(second.totalLag, 0n)
    assert.equal(second.totalLagWithPersistent, 1000n)
    assert.ok(second.isActive)
    assert.equal(second.recommended, 1, 'active with no lag: max(minReplicaCount, 1)')
  })

  test('bounds: maxReplicaCount caps, minReplicaCount floors', () => {
    const big = parts(...Array.from({ length: 20 }, () => [0, 1000] as [number, number]))
    assert.equal(kedaRecommendation(big, { maxReplicaCount: 5 }).recommended, 5)
    assert.equal(kedaRecommendation(parts([0, 1], [0, 0], [0, 0]), { minReplicaCount: 2 }).recommended, 2)
  })

  test('topic and partitionLimitation choose the partitions', () => {
    const mixed: KedaPartition[] = [...parts([0, 100], [0, 100], [0, 100]), { topic: 'u', partition: 0, committed: 0n, logEnd: 1000n }]
    assert.equal(kedaRecommendation(mixed, { topic: 't' }).partitions, 3)
    assert.equal(kedaRecommendation(mixed, { topic: 't', partitionLimitation: [0, 2] }).totalLag, 200n)
    assert.equal(kedaRecommendation(mixed).partitions, 4)
  })

  test('partitions whose log end is unknown are left out, as KEDA iterates over the log ends it got', () => {
    const r = kedaRecommendation(parts([0, 100], [0, -1]))
    assert.equal(r.partitions, 1)
  })

  test('commits beyond the log end (unclamped negative lag) do not make it active', () => {
    const r = kedaRecommendation(parts([120, 100]))
    assert.equal(r.totalLag, -20n)
    assert.ok(!r.isActive)
    assert.equal(r.recommended, 0)
  })
})

describe('validation', () => {
  test("KEDA's configuration errors", () => {
    const v = (o: Partial<typeof DEFAULT_KEDA>) => () => validateKedaOptions({ ...DEFAULT_KEDA, ...o })
    assert.throws(v({ lagThreshold: 0n }), /"lagThreshold" must be positive number/)
    assert.throws(v({ activationLagThreshold: -1n }), /must be a non-negative number/)
    assert.throws(v({ allowIdleConsumers: true, limitToPartitionsWithLag: true, topic: 't' }), /cannot be set simultaneously/)
    assert.throws(v({ limitToPartitionsWithLag: true }), /topic must be specified when using limitToPartitionsWithLag/)
    assert.throws(
      v({ topic: 't', limitToPartitionsWithLag: true, ensureEvenDistributionOfPartitions: true }),
      /cannot be set simultaneously/,
    )
    assert.throws(v({ ensureEvenDistributionOfPartitions: true }), /topic must be specified/)
    assert.throws(v({ minReplicaCount: 3, maxReplicaCount: 2 }), /replica bounds/)
    assert.doesNotThrow(v({}))
  })
})
