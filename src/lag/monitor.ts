/**
 * The lag monitor: feeds successive snapshots (each stamped with its own
 * time; nothing here reads a clock or sets a timer) into Burrow's rings,
 * kafka-lag-exporter's lookup tables and the rate windows, and reports per
 * group and partition what `cohort lag` shows and exports.
 */

import {
  type BurrowConfig,
  DEFAULT_BURROW,
  evaluateGroup,
  evaluatePartition,
  type GroupStatus,
  OffsetRing,
  type PartitionStatus,
  pushBounded,
} from './burrow.ts'
import { DEFAULT_KEDA, type KedaOptions, type KedaResult, kedaRecommendation, type PreviousOffsets, validateKedaOptions } from './keda.ts'
import { countRebalances, DEFAULT_THRESHOLDS, type Diagnosis, diagnose, type GroupSample, type PatternThresholds } from './patterns.ts'
import { DEFAULT_TABLE_SIZE, LookupTable, timeLagSeconds } from './time-lag.ts'
import { compareTp, type GroupInput, type LagSnapshot, type OwnerInput, type TopicPartitionRef, tpKey } from './types.ts'

export interface MonitorOptions {
  burrow: Partial<BurrowConfig>
  /** Points per partition in the time-lag table (kafka-lag-exporter's `lookup-table.memory.size`, 60). */
  lookupTableSize: number
  keda: Partial<KedaOptions>
  patterns: Partial<PatternThresholds>
  /** Consume and produce rates are measured over about this many ms (at least the last two samples). */
  rateWindowMs: number
  /** Group samples kept for the patterns. */
  historyLimit: number
}

export const DEFAULT_MONITOR: MonitorOptions = {
  burrow: {},
  lookupTableSize: DEFAULT_TABLE_SIZE,
  keda: {},
  patterns: {},
  rateWindowMs: 60_000,
  historyLimit: 500,
}

export interface PartitionReport extends TopicPartitionRef {
  committed: bigint | null
  /** Null when it could not be read. */
  logStart: bigint | null
  logEnd: bigint | null
  /** logEnd − committed, not clamped (as kafka-consumer-groups.sh); null without either. */
  lag: bigint | null
  /** Seconds since the log end was at the committed offset (kafka-lag-exporter's estimate); null when it cannot be estimated. */
  lagSeconds: number | null
  /** d(committed)/dt and d(logEnd)/dt in records per second over the rate window; null before two samples. */
  consumeRate: number | null
  produceRate: number | null
  owner: OwnerInput | null
  /** Burrow's partition status; null without a commit (Burrow knows a partition only by its commits) and on its first snapshot. */
  status: PartitionStatus | null
  /** Filled fraction of the partition's commit ring. */
  complete: number
}

export interface MemberReport extends OwnerInput {
  partitions: TopicPartitionRef[]
}

export interface GroupReport {
  groupId: string
  state: string
  protocol: string
  protocolType: string | null
  /** A group that only commits offsets, without the group protocol (kafka-lag-exporter's is_simple_consumer). */
  simple: boolean
  members: MemberReport[]
  partitions: PartitionReport[]
  /** Burrow's group status; NOTFOUND when the group has no commit at all; null until a partition was seen twice. */
  status: GroupStatus | null
  complete: number
  /** Σ max(0, lag) over the committed partitions (Burrow's totallag). */
  totalLag: bigint
  /** The partition with the most lag (clamped at 0), null without commits. */
  maxLag: (TopicPartitionRef & { lag: bigint }) | null
  maxLagSeconds: number | null
  /** Sums over the partitions whose rate is known; null when none is. */
  consumeRate: number | null
  produceRate: number | null
  keda: KedaResult
  /** Rebalances seen within the patterns' rebalance window. */
  rebalances: number
  patterns: Diagnosis[]
}

export interface LagReport {
  time: number
  groups: GroupReport[]
}

interface Sample {
  time: number
  value: bigint
}

/** Per topic-partition: shared by every group that reads it, as a broker's log end is. */
interface PartitionTrack {
  table: LookupTable
  /** Burrow's log-end ring. */
  leo: bigint[]
  ends: Sample[]
}

interface GroupPartitionTrack {
  ring: OffsetRing
  commits: Sample[]
  /** Snapshots in a row that had a commit for the partition. */
  observations: number
}

interface GroupTrack {
  history: GroupSample[]
  previous: PreviousOffsets
  partitions: Map<string, GroupPartitionTrack>
}

/** Snapshots of a partition before its Burrow status is reported. */
export const MIN_OBSERVATIONS = 2

/** Drops samples older than the window, keeping the newest before its start (so the rate spans the whole window) and at least two. */
function trim(samples: Sample[], now: number, windowMs: number): void {
  while (samples.length > 2 && (samples[1] as Sample).time <= now - windowMs) samples.shift()
}

/** Records per second between the oldest and newest sample after the last decrease (a reset or a rewind restarts the measurement). */
export function rateOf(samples: readonly Sample[]): number | null {
  let start = 0
  for (let i = 1; i < samples.length; i++) if ((samples[i] as Sample).value < (samples[i - 1] as Sample).value) start = i
  const first = samples[start]
  const last = samples[samples.length - 1]
  if (first === undefined || last === undefined || last.time <= first.time) return null
  return (Number(last.value - first.value) * 1000) / (last.time - first.time)
}

function sumKnown(values: readonly (number | null)[]): number | null {
  const known = values.filter((v): v is number => v !== null)
  return known.length === 0 ? null : known.reduce((a, b) => a + b, 0)
}

export class LagMonitor {
  readonly options: MonitorOptions
  readonly #burrow: BurrowConfig
  readonly #partitions = new Map<string, PartitionTrack>()
  readonly #groups = new Map<string, GroupTrack>()
  #lastTime = Number.NEGATIVE_INFINITY

  constructor(options: Partial<MonitorOptions> = {}) {
    this.options = { ...DEFAULT_MONITOR, ...options }
    this.#burrow = { ...DEFAULT_BURROW, ...this.options.burrow }
    validateKedaOptions({ ...DEFAULT_KEDA, ...this.options.keda })
  }

  /** Takes one snapshot into the windows and reports on every group in it; groups and partitions it lacks are forgotten. */
  observe(snapshot: LagSnapshot): LagReport {
    const now = snapshot.time
    if (now <= this.#lastTime) throw new RangeError(`snapshots must move forward in time: ${now} after ${this.#lastTime}`)
    this.#lastTime = now
    this.#observeLogEnds(snapshot)
    const groups = [...snapshot.groups].sort((a, b) => (a.groupId < b.groupId ? -1 : a.groupId > b.groupId ? 1 : 0))
    const seen = new Set([...groups.map((g) => g.groupId), ...(snapshot.unreadable ?? [])])
    for (const id of this.#groups.keys()) if (!seen.has(id)) this.#groups.delete(id)
    return { time: now, groups: groups.map((g) => this.#observeGroup(g, now)) }
  }

  /** One log-end point per topic-partition per snapshot: the highest any group read. */
  #observeLogEnds(snapshot: LagSnapshot): void {
    const ends = new Map<string, bigint>()
    for (const g of snapshot.groups) {
      for (const p of g.partitions) {
        const k = tpKey(p.topic, p.partition)
        if (p.logEnd < 0n) {
          if (!ends.has(k)) ends.set(k, -1n)
          continue
        }
        const before = ends.get(k)
        if (before === undefined || p.logEnd > before) ends.set(k, p.logEnd)
      }
    }
    // A partition no group reads any more is forgotten, unless a group could not be read this time.
    if ((snapshot.unreadable ?? []).length === 0) for (const k of this.#partitions.keys()) if (!ends.has(k)) this.#partitions.delete(k)
    for (const [k, end] of ends) {
      let track = this.#partitions.get(k)
      if (!track) this.#partitions.set(k, (track = { table: new LookupTable(this.options.lookupTableSize), leo: [], ends: [] }))
      if (end < 0n) continue
      track.table.addPoint({ offset: end, time: snapshot.time })
      pushBounded(track.leo, end, this.#burrow.intervals)
      track.ends.push({ time: snapshot.time, value: end })
      trim(track.ends, snapshot.time, this.options.rateWindowMs)
    }
  }

  #observeGroup(g: GroupInput, now: number): GroupReport {
    let track = this.#groups.get(g.groupId)
    if (!track) this.#groups.set(g.groupId, (track = { history: [], previous: new Map(), partitions: new Map() }))
    const seen = new Set<string>()
    const partitions: PartitionReport[] = []
    const evaluations: { status: PartitionStatus; complete: number; currentLag: bigint }[] = []
    for (const p of [...g.partitions].sort(compareTp)) {
      const k = tpKey(p.topic, p.partition)
      seen.add(k)
      const shared = this.#partitions.get(k) as PartitionTrack
      let mine = track.partitions.get(k)
      if (!mine)
        track.partitions.set(
          k,
          (mine = { ring: new OffsetRing(this.#burrow.intervals, this.#burrow.minDistanceMs), commits: [], observations: 0 }),
        )
      const logEnd = p.logEnd >= 0n ? p.logEnd : null
      let status: PartitionStatus | null = null
      let complete = 0
      if (p.committed === null) {
        // The commit is gone (never made, deleted, expired): so is its history.
        mine.ring.clear()
        mine.commits.length = 0
        mine.observations = 0
      } else {
        // A poller sees committed offsets, not commits. An owned partition has a live member committing
        // (or failing to): every poll counts as a commit, so a member stuck on one offset shows as STALL.
        // Without an owner nobody commits: only a changed offset (an admin reset, a last commit) is stored,
        // so the ring ages and STOP applies.
        const newestLeo = shared.leo[shared.leo.length - 1]
        const lag = newestLeo === undefined ? null : newestLeo > p.committed ? newestLeo - p.committed : 0n
        if (p.owner !== null || mine.ring.last?.offset !== p.committed) mine.ring.add({ offset: p.committed, timestamp: now, lag })
        mine.observations++
        const ev = evaluatePartition(mine.ring.entries, shared.leo, now, this.#burrow)
        complete = ev.complete
        // Burrow judges a window of commits; one poll is no window (every lagging partition would be STALL).
        if (mine.observations >= MIN_OBSERVATIONS) {
          status = ev.status
          evaluations.push(ev)
        }
        mine.commits.push({ time: now, value: p.committed })
        trim(mine.commits, now, this.options.rateWindowMs)
      }
      partitions.push({
        topic: p.topic,
        partition: p.partition,
        committed: p.committed,
        logStart: p.logStart >= 0n ? p.logStart : null,
        logEnd,
        lag: p.committed !== null && logEnd !== null ? logEnd - p.committed : null,
        lagSeconds: timeLagSeconds(shared.table, p.committed, now),
        consumeRate: p.committed === null ? null : rateOf(mine.commits),
        produceRate: logEnd === null ? null : rateOf(shared.ends),
        owner: p.owner,
        status,
        complete,
      })
    }
    for (const k of track.partitions.keys()) if (!seen.has(k)) track.partitions.delete(k)

    const group = evaluateGroup(evaluations)
    const committed = partitions.filter((p) => p.committed !== null)
    let maxLag: GroupReport['maxLag'] = null
    let totalLag = 0n
    for (const p of committed) {
      const lag = p.lag !== null && p.lag > 0n ? p.lag : 0n
      totalLag += lag
      if (maxLag === null || lag > maxLag.lag) maxLag = { topic: p.topic, partition: p.partition, lag }
    }
    // The group's lag in seconds is unknown while a lagging partition's is.
    const seconds = committed.some((p) => p.lagSeconds === null && p.lag !== null && p.lag > 0n)
      ? []
      : committed.map((p) => p.lagSeconds).filter((s): s is number => s !== null)
    const keda = kedaRecommendation(
      partitions.map((p) => ({ ...p, logEnd: p.logEnd ?? -1n })),
      this.options.keda,
      track.previous,
    )

    const members = g.members.map((m) => ({
      memberId: m.memberId,
      groupInstanceId: m.groupInstanceId,
      clientId: m.clientId,
      clientHost: m.clientHost,
      partitions: [...m.partitions].sort(compareTp),
    }))
    const identity = (m: MemberReport) => m.groupInstanceId ?? m.memberId
    track.history.push({
      time: now,
      state: g.state,
      members: members.map(identity).sort(),
      assignment: members
        .map((m) => `${identity(m)}=${m.partitions.map((tp) => `${tp.topic}:${tp.partition}`).join(',')}`)
        .sort()
        .join(';'),
      totalLag: committed.length > 0 ? totalLag : null,
    })
    while (track.history.length > this.options.historyLimit) track.history.shift()
    const thresholds = this.options.patterns
    const patterns = diagnose(
      {
        state: g.state,
        history: track.history,
        partitions,
        members: members.map((m) => ({
          memberId: m.memberId,
          clientId: m.clientId,
          groupInstanceId: m.groupInstanceId,
          partitions: m.partitions.length,
        })),
        recommended: keda.recommended,
      },
      thresholds,
    )
    return {
      groupId: g.groupId,
      state: g.state,
      protocol: g.protocol,
      protocolType: g.protocolType ?? null,
      simple: g.protocolType === '',
      members,
      partitions,
      status: committed.length === 0 ? 'NOTFOUND' : evaluations.length === 0 ? null : group.status,
      complete: group.complete,
      totalLag,
      maxLag,
      maxLagSeconds: seconds.length > 0 ? Math.max(...seconds) : null,
      consumeRate: sumKnown(partitions.map((p) => p.consumeRate)),
      produceRate: sumKnown(partitions.map((p) => p.produceRate)),
      keda,
      rebalances: countRebalances(track.history, thresholds.rebalanceWindowMs ?? DEFAULT_THRESHOLDS.rebalanceWindowMs),
      patterns,
    }
  }
}
