/**
 * `cohort groups --describe --group G --history`: the group's rebalance
 * history as the broker recorded it (Cohort's DescribeRebalanceHistory API,
 * key 32000; Kafka has no such view). Pure formatting of a plain entry type,
 * in the style of kafka-consumer-groups.sh's tables: `\n` before each line,
 * `%-Ns` columns at least as wide as their header, `-` for unknown values.
 * groups-command.ts maps `Admin.describeRebalanceHistory`'s answer to these
 * entries; the history is the broker's, kept across its restarts.
 */
import type { TopicPartition } from '../../admin/groups.ts'
import { assignmentString, MISSING, type Printed, printed, sortedGroups } from './format.ts'
import { padRight } from './java.ts'

export interface RebalanceHistoryMember {
  memberId: string
  clientId: string
  /** From the rebalance's start (or its own later JoinGroup) to its new assignment; null if it got none. */
  waitMs: number | null
  /** Partitions it gave up; null when unknown. */
  revoked: readonly TopicPartition[] | null
  /** Partitions it gained; null when unknown. */
  assigned: readonly TopicPartition[] | null
}

export interface RebalanceHistoryEntry {
  /** The generation the rebalance produced. */
  generation: number
  /** join, leave, session-timeout, subscription-change, metadata-change, static-replacement, sync-timeout. */
  trigger: string
  reason: string
  /** When the group entered PreparingRebalance (ms since the epoch). */
  startedAt: number
  /** Until the group was Stable again; null if it never was. */
  durationMs: number | null
  /** The longest member wait; null if no member got its assignment. */
  maxWaitMs: number | null
  /** Member ids of the previous generation. */
  membersBefore: readonly string[]
  /** Member ids of the new generation. */
  membersAfter: readonly string[]
  /** Partitions whose owner changed; null when unknown. */
  partitionsMoved: number | null
  /** Per-member detail (shown with --verbose). */
  members: readonly RebalanceHistoryMember[]
}

export interface GroupHistory {
  groupId: string
  /** A group-level failure (e.g. the group does not exist): printed as `\nError: …`. */
  error: string | null
  entries: readonly RebalanceHistoryEntry[]
}

/** ISO-8601 UTC with milliseconds: `2026-11-25T10:15:30.123Z`. */
function time(ms: number): string {
  return new Date(ms).toISOString()
}

const n = (v: number | null) => (v === null ? MISSING : String(v))

/**
 * One table per group, sorted by id, oldest rebalance first:
 * GROUP GENERATION STARTED TRIGGER MEMBERS(before→after) PARTITIONS-MOVED DURATION-MS MAX-WAIT-MS REASON.
 * With `verbose`, each rebalance is followed by its members: MEMBER-ID
 * CLIENT-ID WAIT-MS REVOKED ASSIGNED.
 */
export function formatRebalanceHistory(groups: readonly GroupHistory[], verbose: boolean): Printed {
  let out = ''
  for (const g of sortedGroups(groups)) {
    if (g.error !== null) {
      out += `\nError: ${g.error}\n`
      continue
    }
    if (g.entries.length === 0) {
      out += `\nConsumer group '${g.groupId}' has no recorded rebalances.\n`
      continue
    }
    const G = Math.max(15, g.groupId.length)
    const TR = Math.max(20, ...g.entries.map((e) => e.trigger.length))
    const line = (cells: string[]) =>
      `\n${[
        padRight(cells[0] as string, G),
        padRight(cells[1] as string, 10),
        padRight(cells[2] as string, 24),
        padRight(cells[3] as string, TR),
        padRight(cells[4] as string, 10),
        padRight(cells[5] as string, 16),
        padRight(cells[6] as string, 11),
        padRight(cells[7] as string, 11),
        cells[8],
      ].join(' ')}`
    out += line(['GROUP', 'GENERATION', 'STARTED', 'TRIGGER', 'MEMBERS', 'PARTITIONS-MOVED', 'DURATION-MS', 'MAX-WAIT-MS', 'REASON'])
    for (const e of g.entries) {
      out += line([
        g.groupId,
        String(e.generation),
        time(e.startedAt),
        e.trigger,
        `${e.membersBefore.length}->${e.membersAfter.length}`,
        n(e.partitionsMoved),
        n(e.durationMs),
        n(e.maxWaitMs),
        e.reason === '' ? MISSING : e.reason,
      ])
      if (verbose && e.members.length > 0) {
        const C = Math.max(15, ...e.members.map((m) => m.memberId.length))
        const CL = Math.max(15, ...e.members.map((m) => m.clientId.length))
        const R = Math.max(20, ...e.members.map((m) => (m.revoked === null ? MISSING : assignmentString(m.revoked)).length))
        const member = (c: string, cl: string, w: string, r: string, a: string) =>
          `\n    ${padRight(c, C)} ${padRight(cl, CL)} ${padRight(w, 10)} ${padRight(r, R)} ${a}`
        out += member('MEMBER-ID', 'CLIENT-ID', 'WAIT-MS', 'REVOKED', 'ASSIGNED')
        for (const m of e.members) {
          out += member(
            m.memberId,
            m.clientId,
            n(m.waitMs),
            m.revoked === null ? MISSING : assignmentString(m.revoked),
            m.assigned === null ? MISSING : assignmentString(m.assigned),
          )
        }
      }
    }
    out += '\n'
  }
  return printed(out)
}

/** The JSON form of the history, one object per group. */
export function historyJson(groups: readonly GroupHistory[]): unknown[] {
  return sortedGroups(groups).map((g) => ({
    group: g.groupId,
    error: g.error,
    rebalances: g.entries.map((e) => ({
      generation: e.generation,
      trigger: e.trigger,
      reason: e.reason,
      startedAt: time(e.startedAt),
      durationMs: e.durationMs,
      maxWaitMs: e.maxWaitMs,
      membersBefore: e.membersBefore,
      membersAfter: e.membersAfter,
      partitionsMoved: e.partitionsMoved,
      members: e.members.map((m) => ({
        memberId: m.memberId,
        clientId: m.clientId,
        waitMs: m.waitMs,
        revoked: m.revoked === null ? null : m.revoked.map((tp) => ({ topic: tp.topic, partition: tp.partition })),
        assigned: m.assigned === null ? null : m.assigned.map((tp) => ({ topic: tp.topic, partition: tp.partition })),
      })),
    })),
  }))
}
