/**
 * The chapter's diagnoses ("Consumer Deep Dive: Groups and Rebalancing"):
 * lag grows because processing is too slow, because there are too few
 * consumers, because one partition is hot, or because the group rebalances too
 * often; and a consumer beyond the partition count sits idle. Each detector is
 * a pure function over what the monitor saw, with the thresholds in
 * `PatternThresholds` (documented in README.md and docs/lag.md).
 */

export interface PatternThresholds {
  /** Lag growth is judged over at most this many of the newest samples. */
  growthWindow: number
  /** …and needs at least this many. */
  growthMinSamples: number
  /** The group's lag must rise by at least this many records over the window… */
  growthMinRecords: bigint
  /** …and by at least this fraction of the lag at the window's start (1 000 000 → 1 000 010 is noise). */
  growthMinRatio: number
  /** A hot partition holds at least this much lag… */
  hotMinLag: bigint
  /** …at least this share of the group's lag… */
  hotShare: number
  /** …and at least this many times the mean lag of the group's other partitions… */
  hotFactor: number
  /**
   * …and, when produce rates are known, it receives at least this many times the others' mean
   * traffic and its lag is not falling: a partition whose backlog is draining, or one as busy as the
   * others, is not hot (spreading the keys would not help).
   */
  hotTrafficFactor: number
  /** Rebalances are counted over this many ms… */
  rebalanceWindowMs: number
  /** …and this many or more are frequent. */
  rebalanceCount: number
}

export const DEFAULT_THRESHOLDS: PatternThresholds = {
  growthWindow: 10,
  growthMinSamples: 3,
  growthMinRecords: 10n,
  growthMinRatio: 0.1,
  hotMinLag: 100n,
  hotShare: 0.5,
  hotFactor: 3,
  hotTrafficFactor: 2,
  rebalanceWindowMs: 10 * 60_000,
  rebalanceCount: 3,
}

/** What the monitor keeps of each observation of a group. */
export interface GroupSample {
  time: number
  state: string
  /** Member identities (group.instance.id, else member id), sorted: a static member that restarts keeps its identity. */
  members: readonly string[]
  /** The assignment in one string, to see partitions move between unchanged members. */
  assignment: string
  /** Σ max(0, lag) over partitions with a commit; null when the group has none. */
  totalLag: bigint | null
}

export interface PartitionFacts {
  topic: string
  partition: number
  /** Null without a commit or log end. */
  lag: bigint | null
  /** Records per second, null when unknown. */
  produceRate: number | null
  consumeRate: number | null
}

export interface MemberFacts {
  memberId: string
  clientId: string
  groupInstanceId: string | null
  partitions: number
}

export type PatternKind = 'lag-growing' | 'hot-partition' | 'idle-members' | 'frequent-rebalances'
export type LagCause = 'no-consumers' | 'hot-partition' | 'too-few-consumers' | 'slow-processing'

export interface Diagnosis {
  kind: PatternKind
  /** For lag-growing: the chapter's likeliest cause given the other facts. */
  cause?: LagCause
  /** One line for the terminal. */
  message: string
}

export const REBALANCING_STATES: ReadonlySet<string> = new Set(['PreparingRebalance', 'CompletingRebalance', 'Assigning', 'Reconciling'])

export interface LagGrowth {
  from: bigint
  to: bigint
  spanMs: number
  /** Records per second. */
  perSecond: number
}

/**
 * Lag is growing when, over the newest `growthWindow` samples with a known
 * lag (at least `growthMinSamples`), it rose by ≥ growthMinRecords and by
 * ≥ growthMinRatio of where it started, with more rising steps than falling ones.
 */
export function detectLagGrowth(history: readonly GroupSample[], t: PatternThresholds = DEFAULT_THRESHOLDS): LagGrowth | null {
  const known = history.filter((s) => s.totalLag !== null).slice(-t.growthWindow) as (GroupSample & { totalLag: bigint })[]
  if (known.length < t.growthMinSamples) return null
  const first = known[0] as GroupSample & { totalLag: bigint }
  const last = known[known.length - 1] as GroupSample & { totalLag: bigint }
  const rise = last.totalLag - first.totalLag
  if (rise < t.growthMinRecords || Number(rise) < Number(first.totalLag) * t.growthMinRatio) return null
  let ups = 0
  let downs = 0
  for (let i = 1; i < known.length; i++) {
    const d = (known[i] as { totalLag: bigint }).totalLag - (known[i - 1] as { totalLag: bigint }).totalLag
    if (d > 0n) ups++
    else if (d < 0n) downs++
  }
  if (ups <= downs) return null
  const spanMs = last.time - first.time
  return { from: first.totalLag, to: last.totalLag, spanMs, perSecond: spanMs > 0 ? (Number(rise) * 1000) / spanMs : 0 }
}

export interface HotPartition {
  topic: string
  partition: number
  lag: bigint
  /** Of the group's lag. */
  share: number
  /** Times the mean lag of the other partitions (Infinity when they have none). */
  factor: number
  /** Its produce rate over the others' mean, when the rates are known. */
  trafficFactor: number | null
}

/** One partition holds ≥ hotMinLag, ≥ hotShare of the group's lag and ≥ hotFactor × the others' mean (needs 2 partitions with a lag). */
export function detectHotPartition(partitions: readonly PartitionFacts[], t: PatternThresholds = DEFAULT_THRESHOLDS): HotPartition | null {
  const withLag = partitions.filter((p) => p.lag !== null).map((p) => ({ ...p, lag: (p.lag as bigint) > 0n ? (p.lag as bigint) : 0n }))
  if (withLag.length < 2) return null
  let top = withLag[0] as PartitionFacts & { lag: bigint }
  let total = 0n
  for (const p of withLag) {
    total += p.lag
    if (p.lag > top.lag) top = p
  }
  if (top.lag < t.hotMinLag || total === 0n) return null
  const share = Number(top.lag) / Number(total)
  const othersMean = Number(total - top.lag) / (withLag.length - 1)
  const factor = othersMean === 0 ? Number.POSITIVE_INFINITY : Number(top.lag) / othersMean
  if (share < t.hotShare || factor < t.hotFactor) return null
  let trafficFactor: number | null = null
  const others = partitions.filter((p) => !(p.topic === top.topic && p.partition === top.partition))
  if (top.produceRate !== null && others.length > 0 && others.every((p) => p.produceRate !== null)) {
    const mean = others.reduce((s, p) => s + (p.produceRate as number), 0) / others.length
    trafficFactor = mean > 0 ? top.produceRate / mean : null
  }
  if (trafficFactor !== null && trafficFactor < t.hotTrafficFactor) return null
  if (top.produceRate !== null && top.consumeRate !== null && top.consumeRate > top.produceRate) return null
  return { topic: top.topic, partition: top.partition, lag: top.lag, share, factor, trafficFactor }
}

export interface IdleMembers {
  members: number
  partitions: number
  idle: readonly MemberFacts[]
}

/** In a Stable group, members that own no partition (more members than partitions leaves the extra ones idle). */
export function detectIdleMembers(state: string, members: readonly MemberFacts[], partitionCount: number): IdleMembers | null {
  if (state !== 'Stable') return null
  const idle = members.filter((m) => m.partitions === 0)
  if (idle.length === 0) return null
  return { members: members.length, partitions: partitionCount, idle }
}

/**
 * Rebalances seen in the samples within `windowMs` of the newest: a run of
 * consecutive samples in which the group is rebalancing, or its members or
 * their assignment changed from the sample before, counts once.
 */
export function countRebalances(history: readonly GroupSample[], windowMs: number): number {
  const newest = history[history.length - 1]
  if (newest === undefined) return 0
  const recent = history.filter((s) => s.time >= newest.time - windowMs)
  let count = 0
  let inEpisode = false
  recent.forEach((s, i) => {
    const before = recent[i - 1]
    const changed =
      REBALANCING_STATES.has(s.state) ||
      (before !== undefined && (before.members.join('\u0000') !== s.members.join('\u0000') || before.assignment !== s.assignment))
    if (changed && !inEpisode) count++
    inEpisode = changed
  })
  return count
}

export interface PatternInput {
  state: string
  history: readonly GroupSample[]
  partitions: readonly PartitionFacts[]
  members: readonly MemberFacts[]
  /** KEDA's recommended consumer count. */
  recommended: number
}

function fmtRate(r: number | null): string {
  return r === null ? '?' : r >= 100 ? r.toFixed(0) : r.toFixed(1)
}

function fmtSpan(ms: number): string {
  return ms >= 120_000 ? `${Math.round(ms / 60_000)} min` : `${Math.round(ms / 1000)} s`
}

/** Every pattern the facts show, each with the chapter's advice. */
export function diagnose(input: PatternInput, thresholds: Partial<PatternThresholds> = {}): Diagnosis[] {
  const t = { ...DEFAULT_THRESHOLDS, ...thresholds }
  const out: Diagnosis[] = []
  const partitionCount = input.partitions.length
  const growth = detectLagGrowth(input.history, t)
  const hot = detectHotPartition(input.partitions, t)
  const idle = detectIdleMembers(input.state, input.members, partitionCount)
  const rebalances = countRebalances(input.history, t.rebalanceWindowMs)
  const frequent = rebalances >= t.rebalanceCount
  const active = input.members.filter((m) => m.partitions > 0).length

  if (growth) {
    const produce = input.partitions.reduce<number | null>((s, p) => (s === null || p.produceRate === null ? null : s + p.produceRate), 0)
    const consume = input.partitions.reduce<number | null>((s, p) => (s === null || p.consumeRate === null ? null : s + p.consumeRate), 0)
    const head = `lag growing: ${growth.from} → ${growth.to} records in ${fmtSpan(growth.spanMs)} (+${fmtRate(growth.perSecond)}/s; producing ${fmtRate(produce)}/s, consuming ${fmtRate(consume)}/s)`
    const also = frequent ? '; rebalances keep interrupting processing too' : ''
    if (input.members.length === 0) {
      out.push({ kind: 'lag-growing', cause: 'no-consumers', message: `${head}: no consumer is running (group ${input.state})${also}` })
    } else if (hot) {
      out.push({
        kind: 'lag-growing',
        cause: 'hot-partition',
        message: `${head}: most of it is on one hot partition, ${hot.topic}-${hot.partition}${also}`,
      })
    } else if (active < partitionCount && input.recommended > active) {
      out.push({
        kind: 'lag-growing',
        cause: 'too-few-consumers',
        message: `${head}: too few consumers, ${active} for ${partitionCount} partitions; KEDA's formula recommends ${input.recommended}${also}`,
      })
    } else {
      out.push({
        kind: 'lag-growing',
        cause: 'slow-processing',
        message:
          active < partitionCount
            ? `${head}: processing too slow, ${active} consumers for ${partitionCount} partitions (KEDA's formula asks for ${input.recommended}); make each record cheaper or fetch bigger batches${also}`
            : `${head}: processing too slow, ${active} consumers for ${partitionCount} partitions; make each record cheaper or fetch bigger batches (more consumers than partitions would sit idle)${also}`,
      })
    }
  }
  if (hot) {
    const share = `${Math.round(hot.share * 100)}%`
    const factor = Number.isFinite(hot.factor) ? `${hot.factor.toFixed(1)}× the other partitions' mean` : 'the others have none'
    const traffic = hot.trafficFactor !== null ? `; it receives ${hot.trafficFactor.toFixed(1)}× the others' traffic` : ''
    out.push({
      kind: 'hot-partition',
      message: `hot partition ${hot.topic}-${hot.partition}: ${hot.lag} records of lag, ${share} of the group's, ${factor}${traffic}; only its one owner can work it off, so spread the keys or speed up what that partition carries`,
    })
  }
  if (idle) {
    const who = idle.idle.map((m) => m.clientId || m.memberId).join(', ')
    out.push({
      kind: 'idle-members',
      message: `idle members: ${idle.members} members for ${idle.partitions} partitions; ${idle.idle.length} own nothing (${who}): a consumer beyond the partition count does no work`,
    })
  }
  if (frequent) {
    const statics = input.members.length > 0 && input.members.every((m) => m.groupInstanceId !== null)
    out.push({
      kind: 'frequent-rebalances',
      message: `frequent rebalances: ${rebalances} in the last ${fmtSpan(t.rebalanceWindowMs)}; check heartbeats and session.timeout.ms, keep each batch under max.poll.interval.ms${statics ? '' : ', and give restarting members static membership (group.instance.id)'}`,
    })
  }
  return out
}
