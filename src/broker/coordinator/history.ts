/**
 * The rebalance history the coordinator keeps per group (no Kafka tool shows this): for each completed join
 * phase, why it started, who was in the generation before and after, which partitions changed owner (decoded
 * from the consumer-protocol assignments), how long it took to become Stable and how long each member waited
 * for its new assignment. Pure data and pure functions: every time comes from the coordinator's clock.
 */
import { CONSUMER_PROTOCOL_TYPE, decodeAssignment } from '../../protocol/consumer-protocol.ts'
import type { RebalanceTrigger } from './classic-group.ts'

/** A member's identity as the coordinator saw it. */
export interface RebalanceMember {
  readonly memberId: string
  readonly groupInstanceId: string | null
  readonly clientId: string
  readonly clientHost: string
}

/** Partitions grouped by topic, topics and partitions sorted. */
export interface TopicPartitionList {
  readonly topic: string
  readonly partitions: readonly number[]
}

export interface RebalanceMemberEntry extends RebalanceMember {
  /** A member of the previous generation. */
  readonly inPreviousGeneration: boolean
  /** A member of the generation this rebalance produced. */
  readonly inNewGeneration: boolean
  /** When its JoinGroup for this rebalance arrived; null if it sent none (it left or timed out, or is a static member that did not rejoin). */
  readonly joinedAt: number | null
  /**
   * When it had to start rejoining: the rebalance's start for members present then, its JoinGroup's arrival
   * for members that joined later; null for members not in the new generation.
   */
  readonly waitStartedAt: number | null
  /** When its SyncGroup was answered with its assignment of the new generation; null if not (yet). */
  syncedAt: number | null
  /** syncedAt − waitStartedAt; null if not synced. */
  waitMs: number | null
  /** Partitions it owned in the last Stable generation and does not own now; null when unknown. */
  revoked: readonly TopicPartitionList[] | null
  /** Partitions it owns now and did not own in the last Stable generation; null when unknown. */
  assigned: readonly TopicPartitionList[] | null
}

export interface RebalanceHistoryEntry {
  /** The generation the rebalance produced. */
  readonly generation: number
  readonly trigger: RebalanceTrigger
  readonly reason: string
  readonly protocolType: string | null
  /** The selected protocol of the new generation; null when it is empty. */
  readonly protocolName: string | null
  /** Member ids of the previous generation. */
  readonly membersBefore: readonly string[]
  /** Member ids of the new generation. */
  readonly membersAfter: readonly string[]
  /**
   * Every member involved: the previous generation's (in its order), then the ones new in this generation,
   * then (rarely) earlier owners of partitions that were in neither, after a generation that never became Stable.
   */
  readonly members: readonly RebalanceMemberEntry[]
  /** When the group entered PreparingRebalance. */
  readonly startedAt: number
  /** When the join phase completed (the new generation was handed out). */
  readonly endedAt: number
  /** When the leader's assignment was stored and the group became Stable; null if it never did. */
  stableAt: number | null
  /** stableAt − startedAt; null if never Stable. */
  durationMs: number | null
  /** The longest `waitMs` of the members synced so far; null if none. */
  maxWaitMs: number | null
  /**
   * Topic-partitions whose owner changed between the last Stable generation and this one (gained, lost, or
   * moved between members); null when unknown: not the consumer protocol, an undecodable assignment, or the
   * generation never became Stable.
   */
  partitionsMoved: number | null
}

/** topic → partitions a member owns; null when its assignment is not a decodable consumer-protocol assignment. */
export type OwnedPartitions = ReadonlyMap<string, ReadonlySet<number>> | null

/** What a member owned in the last Stable generation, with its identity (it may have left since). */
export interface Ownership {
  readonly member: RebalanceMember
  /** The assignment bytes the partitions were decoded from (an unchanged assignment is not decoded again). */
  readonly bytes: Buffer
  readonly partitions: OwnedPartitions
}

/** The partitions in an assignment, or null when unknown (another protocol type, or bytes that do not decode). */
export function ownedPartitions(protocolType: string | null, assignment: Buffer): OwnedPartitions {
  if (protocolType !== CONSUMER_PROTOCOL_TYPE) return null
  const out = new Map<string, Set<number>>()
  if (assignment.length === 0) return out
  try {
    for (const tp of decodeAssignment(assignment).assignedPartitions) {
      let set = out.get(tp.topic)
      if (set === undefined) out.set(tp.topic, (set = new Set()))
      for (const p of tp.partitions) set.add(p)
    }
  } catch {
    return null
  }
  return out
}

const NONE: ReadonlyMap<string, ReadonlySet<number>> = new Map()
/** Shared by every member whose partitions did not change (most of them, in most rebalances). */
const NO_PARTITIONS: readonly TopicPartitionList[] = Object.freeze([])

/** Partitions in `a` and not in `b`, sorted. */
function minus(a: ReadonlyMap<string, ReadonlySet<number>>, b: ReadonlyMap<string, ReadonlySet<number>>): readonly TopicPartitionList[] {
  if (a === b || a.size === 0) return NO_PARTITIONS
  const out: TopicPartitionList[] = []
  for (const topic of [...a.keys()].sort()) {
    const other = b.get(topic)
    const partitions = [...(a.get(topic) as ReadonlySet<number>)].filter((p) => other === undefined || !other.has(p)).sort((x, y) => x - y)
    if (partitions.length > 0) out.push({ topic, partitions })
  }
  return out.length === 0 ? NO_PARTITIONS : out
}

/**
 * Fills each entry member's revoked/assigned partitions and the entry's partitionsMoved by comparing what each
 * member owned in the last Stable generation (`before`) with what it owns now (`after`). Members missing from
 * `before` owned nothing; members missing from `after` own nothing now. Owners in `before` that are not yet
 * entry members are appended (flags false). Any unknown assignment makes partitionsMoved unknown.
 */
export function applyAssignmentDiff(
  entry: RebalanceHistoryEntry,
  before: ReadonlyMap<string, Ownership>,
  after: ReadonlyMap<string, OwnedPartitions>,
): void {
  const members = entry.members as RebalanceMemberEntry[]
  let listed: Set<string> | undefined
  for (const [id, o] of before) {
    if (after.has(id)) continue
    listed ??= new Set(members.map((m) => m.memberId))
    if (listed.has(id)) continue
    members.push(memberEntry(o.member, false, false, null, null))
    listed.add(id)
  }
  const moved = new Set<string>()
  let known = true
  for (const m of members) {
    const was = before.has(m.memberId) ? (before.get(m.memberId) as Ownership).partitions : NONE
    const now = after.has(m.memberId) ? (after.get(m.memberId) as OwnedPartitions) : NONE
    if (was === null || now === null) {
      known = false
      continue
    }
    m.revoked = minus(was, now)
    m.assigned = minus(now, was)
    if (m.revoked === NO_PARTITIONS && m.assigned === NO_PARTITIONS) continue
    for (const list of [m.revoked, m.assigned]) for (const tp of list) for (const p of tp.partitions) moved.add(`${tp.topic}\u0000${p}`)
  }
  entry.partitionsMoved = known ? moved.size : null
}

export function memberEntry(
  m: RebalanceMember,
  before: boolean,
  after: boolean,
  joinedAt: number | null,
  waitStartedAt: number | null,
): RebalanceMemberEntry {
  return {
    memberId: m.memberId,
    groupInstanceId: m.groupInstanceId,
    clientId: m.clientId,
    clientHost: m.clientHost,
    inPreviousGeneration: before,
    inNewGeneration: after,
    joinedAt,
    waitStartedAt,
    syncedAt: null,
    waitMs: null,
    revoked: null,
    assigned: null,
  }
}

/** Records that a member got its assignment of the entry's generation (the first answer counts). */
export function markSynced(entry: RebalanceHistoryEntry, m: RebalanceMemberEntry, now: number): void {
  if (m.syncedAt !== null || m.waitStartedAt === null) return
  m.syncedAt = now
  m.waitMs = now - m.waitStartedAt
  if (entry.maxWaitMs === null || m.waitMs > entry.maxWaitMs) entry.maxWaitMs = m.waitMs
}

/** The trigger names, for metrics labels and documentation. */
export const REBALANCE_TRIGGERS: readonly RebalanceTrigger[] = [
  'join',
  'leave',
  'session-timeout',
  'subscription-change',
  'metadata-change',
  'static-replacement',
  'sync-timeout',
]
