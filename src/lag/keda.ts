/**
 * How many consumers KEDA's Kafka scaler would run for a group
 * (kedacore/keda pkg/scalers/kafka_scaler.go, `getLagForPartition` and
 * `getTotalLag`), followed by the HPA step: the scaler reports the group's
 * total lag as the metric with target `AverageValue = lagThreshold`, so the
 * HPA wants `ceil(metric / lagThreshold)` replicas within
 * [minReplicaCount, maxReplicaCount].
 */

import { type TopicPartitionRef, tpKey } from './types.ts'

export interface KedaOptions {
  /** Target lag per consumer: `lagThreshold`, default 10, must be > 0. */
  lagThreshold: bigint
  /** The scaler is active (scales from 0) when the total lag exceeds this: `activationLagThreshold`, default 0. */
  activationLagThreshold: bigint
  /** Where a consumer without a commit starts, which decides the lag counted for it: `offsetResetPolicy`, default latest. */
  offsetResetPolicy: 'latest' | 'earliest'
  /** Allow more consumers than partitions: `allowIdleConsumers`, default false. */
  allowIdleConsumers: boolean
  /** Cap at the number of partitions with lag instead of all partitions: `limitToPartitionsWithLag` (needs `topic`). */
  limitToPartitionsWithLag: boolean
  /** A partition whose commit did not move since the previous evaluation adds no lag: `excludePersistentLag`. */
  excludePersistentLag: boolean
  /** A partition without a commit adds no lag: `scaleToZeroOnInvalidOffset`. */
  scaleToZeroOnInvalidOffset: boolean
  /** Round up to a divisor of the partition count: `ensureEvenDistributionOfPartitions` (needs `topic`). */
  ensureEvenDistributionOfPartitions: boolean
  /** Only these partitions of `topic`: `partitionLimitation` (ignored without `topic`). */
  partitionLimitation: readonly number[] | null
  /** Only this topic; null: every topic given (KEDA: every topic the group committed). */
  topic: string | null
  /** ScaledObject bounds; KEDA's defaults are 0 and 100. */
  minReplicaCount: number
  maxReplicaCount: number
}

export const DEFAULT_KEDA: KedaOptions = {
  lagThreshold: 10n,
  activationLagThreshold: 0n,
  offsetResetPolicy: 'latest',
  allowIdleConsumers: false,
  limitToPartitionsWithLag: false,
  excludePersistentLag: false,
  scaleToZeroOnInvalidOffset: false,
  ensureEvenDistributionOfPartitions: false,
  partitionLimitation: null,
  topic: null,
  minReplicaCount: 0,
  maxReplicaCount: 100,
}

/** KEDA's metadata validation, with its messages. */
export function validateKedaOptions(o: KedaOptions): void {
  if (o.lagThreshold <= 0n) throw new Error('"lagThreshold" must be positive number')
  if (o.activationLagThreshold < 0n) throw new Error('"activationLagThreshold" must be a non-negative number')
  if (o.allowIdleConsumers && o.limitToPartitionsWithLag)
    throw new Error('allowIdleConsumers and limitToPartitionsWithLag cannot be set simultaneously')
  if (o.topic === null && o.limitToPartitionsWithLag) throw new Error('topic must be specified when using limitToPartitionsWithLag')
  if (o.limitToPartitionsWithLag && o.ensureEvenDistributionOfPartitions)
    throw new Error('limitToPartitionsWithLag and ensureEvenDistributionOfPartitions cannot be set simultaneously')
  if (o.topic === null && o.ensureEvenDistributionOfPartitions)
    throw new Error('topic must be specified when using ensureEvenDistributionOfPartitions')
  if (o.minReplicaCount < 0 || o.maxReplicaCount < o.minReplicaCount)
    throw new Error(`replica bounds must satisfy 0 ≤ minReplicaCount ≤ maxReplicaCount, got ${o.minReplicaCount}..${o.maxReplicaCount}`)
}

export interface KedaPartition extends TopicPartitionRef {
  /** Null without a commit (KEDA's invalid offset, -1). */
  committed: bigint | null
  /** Negative when it could not be read: the partition is then left out, as KEDA iterates over the log ends it got. */
  logEnd: bigint
}

/** Committed offsets seen at the previous evaluation, for `excludePersistentLag` (KEDA's `previousOffsets`); updated in place. */
export type PreviousOffsets = Map<string, bigint>

/** KEDA's `getLagForPartition`: [lag, lag with persistent]. */
export function partitionLag(p: KedaPartition, o: KedaOptions, previous: PreviousOffsets): [bigint, bigint] {
  if (p.committed === null) {
    if (o.offsetResetPolicy === 'latest') {
      const v = o.scaleToZeroOnInvalidOffset ? 0n : 1n
      return [v, v]
    }
    if (o.scaleToZeroOnInvalidOffset) return [0n, 0n]
  }
  if (p.logEnd < 0n) return [0n, 0n]
  if (p.committed === null) return [p.logEnd, p.logEnd]
  const lag = p.logEnd - p.committed
  if (o.excludePersistentLag) {
    const key = tpKey(p.topic, p.partition)
    const before = previous.get(key)
    if (before === p.committed) return [0n, lag]
    previous.set(key, p.committed)
  }
  return [lag, lag]
}

/** The smallest divisor f of `partitions` with f × lagThreshold ≥ totalLag, else the partition count (KEDA's `getNextFactorThatBalancesConsumersToTopicPartitions`). */
export function nextBalancingFactor(totalLag: bigint, partitions: number, lagThreshold: bigint): number {
  for (let f = 1; f <= partitions; f++) if (partitions % f === 0 && BigInt(f) * lagThreshold >= totalLag) return f
  return partitions
}

export interface KedaResult {
  /** Partitions considered (those whose log end was read). */
  partitions: number
  partitionsWithLag: number
  /** Σ lag, without persistent lag when `excludePersistentLag`, before the cap. */
  totalLag: bigint
  totalLagWithPersistent: bigint
  /** What the scaler reports to the HPA: totalLag after the even-distribution rounding and the partition cap. */
  metric: bigint
  /** totalLagWithPersistent > activationLagThreshold. */
  isActive: boolean
  /** What KEDA and the HPA would run: 0 when inactive with minReplicaCount 0, else ceil(metric / lagThreshold) within [max(min, 1), max]. */
  replicas: number
  /**
   * `replicas`, never above the partition count: a consumer beyond it would be
   * idle. KEDA caps the metric, not the replicas, and its integer division lets
   * the replicas exceed the partitions by one; `allowIdleConsumers` lifts its cap.
   */
  recommended: number
}

function ceilDiv(a: bigint, b: bigint): bigint {
  return a > 0n ? (a + b - 1n) / b : a / b
}

/** KEDA's `getTotalLag` over a group's partitions, then the replica count. */
export function kedaRecommendation(
  all: readonly KedaPartition[],
  options: Partial<KedaOptions> = {},
  previous: PreviousOffsets = new Map(),
): KedaResult {
  const o = { ...DEFAULT_KEDA, ...options }
  validateKedaOptions(o)
  const considered = all.filter(
    (p) => p.logEnd >= 0n && (o.topic === null || (p.topic === o.topic && (o.partitionLimitation?.includes(p.partition) ?? true))),
  )
  let totalLag = 0n
  let totalLagWithPersistent = 0n
  let partitionsWithLag = 0
  for (const p of considered) {
    const [lag, withPersistent] = partitionLag(p, o, previous)
    totalLag += lag
    totalLagWithPersistent += withPersistent
    if (lag > 0n) partitionsWithLag++
  }
  const count = considered.length
  let metric = totalLag
  if (!o.allowIdleConsumers || o.limitToPartitionsWithLag || o.ensureEvenDistributionOfPartitions) {
    let upper = BigInt(count)
    if (o.ensureEvenDistributionOfPartitions) metric = BigInt(nextBalancingFactor(metric, count, o.lagThreshold)) * o.lagThreshold
    if (o.limitToPartitionsWithLag) upper = BigInt(partitionsWithLag)
    // Go's integer division: 35 / 10 = 3 is not > 3, so a lag of 35 over 3 partitions stays 35 (4 replicas).
    if (metric / o.lagThreshold > upper) metric = upper * o.lagThreshold
  }
  const isActive = totalLagWithPersistent > o.activationLagThreshold
  let replicas: number
  if (!isActive && o.minReplicaCount === 0) replicas = 0
  else {
    const wanted = ceilDiv(metric, o.lagThreshold)
    const lo = BigInt(Math.max(o.minReplicaCount, 1))
    const hi = BigInt(o.maxReplicaCount)
    const atLeast = wanted < lo ? lo : wanted
    replicas = Number(atLeast > hi ? hi : atLeast)
  }
  const recommended = count > 0 ? Math.min(replicas, count) : replicas
  return { partitions: count, partitionsWithLag, totalLag, totalLagWithPersistent, metric, isActive, replicas, recommended }
}
