/**
 * `cohort groups --output json`: one JSON document per command on stdout,
 * with the data of the text views (see docs/groups.md for the schema).
 * Offsets are JSON numbers (exact up to 2^53); a missing value is null.
 */
import type { GroupDescription } from '../../admin/groups.ts'
import type { GroupResetResult, ResetNotice } from '../../admin/offset-reset.ts'
import { javaException } from '../../admin/offset-reset.ts'
import { canonicalState, type DeleteOffsetsRow, type DeleteResult, type GroupOffsets, type ListedGroup, sortedGroups } from './format.ts'

const num = (v: bigint | null): number | null => (v === null ? null : Number(v))

function errorJson(err: Error | null): string | null {
  return err === null ? null : javaException(err).message
}

export function listJson(groups: readonly ListedGroup[]): unknown {
  return {
    action: 'list',
    groups: groups.map((g) => ({
      group: g.groupId,
      type: g.type === null ? null : g.type.toLowerCase(),
      state: g.state === null ? null : canonicalState(g.state),
    })),
  }
}

export function offsetsJson(groups: readonly GroupOffsets[]): unknown {
  return {
    action: 'describe',
    view: 'offsets',
    groups: sortedGroups(groups).map((g) => ({
      group: g.groupId,
      state: canonicalState(g.state),
      partitions: g.rows.map((r) => ({
        topic: r.topic,
        partition: r.partition,
        leaderEpoch: r.leaderEpoch,
        currentOffset: num(r.offset),
        logEndOffset: num(r.logEndOffset),
        lag: num(r.lag),
        consumerId: r.consumerId,
        host: r.host,
        clientId: r.clientId,
      })),
    })),
  }
}

export function membersJson(groups: readonly GroupDescription[]): unknown {
  return {
    action: 'describe',
    view: 'members',
    groups: sortedGroups(groups).map((g) => ({
      group: g.groupId,
      state: canonicalState(g.state),
      members: g.members.map((m) => ({
        consumerId: m.memberId,
        groupInstanceId: m.groupInstanceId,
        host: m.clientHost,
        clientId: m.clientId,
        partitions: m.assignment.length,
        assignment: m.assignment.map((tp) => ({ topic: tp.topic, partition: tp.partition })),
      })),
    })),
  }
}

export function stateJson(groups: readonly GroupDescription[]): unknown {
  return {
    action: 'describe',
    view: 'state',
    groups: sortedGroups(groups).map((g) => ({
      group: g.groupId,
      state: canonicalState(g.state),
      coordinator: g.coordinator === null ? null : { id: g.coordinator.nodeId, host: g.coordinator.host, port: g.coordinator.port },
      assignmentStrategy: g.protocol === '' ? null : g.protocol,
      members: g.members.length,
    })),
  }
}

function noticeJson(n: ResetNotice): unknown {
  switch (n.kind) {
    case 'clamped-to-end':
    case 'clamped-to-start':
      return { kind: n.kind, topic: n.topic, partition: n.partition, requested: num(n.requested), offset: num(n.offset) }
    case 'no-offset-for-timestamp':
      return { kind: n.kind, topic: n.topic, partition: n.partition }
    case 'no-plan-for-group':
      return { kind: n.kind }
  }
}

export function resetJson(results: readonly Omit<GroupResetResult, 'executed'>[], execute: boolean, error: string | null = null): unknown {
  return {
    action: 'reset-offsets',
    execute,
    groups: sortedGroups(results).map((r) => ({
      group: r.groupId,
      state: canonicalState(r.state),
      refused: r.refused,
      offsets: r.offsets.map((o) => ({ topic: o.topic, partition: o.partition, offset: num(o.offset) })),
      notices: r.notices.map(noticeJson),
    })),
    ...(error === null ? {} : { error }),
  }
}

export function deleteJson(results: readonly DeleteResult[]): unknown {
  return {
    action: 'delete',
    groups: sortedGroups(results).map((r) => ({ group: r.groupId, deleted: r.error === null, error: errorJson(r.error) })),
  }
}

export function deleteOffsetsJson(groupId: string, topLevel: Error | null, rows: readonly DeleteOffsetsRow[]): unknown {
  return {
    action: 'delete-offsets',
    group: groupId,
    error: errorJson(topLevel),
    partitions: [...rows]
      .sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition))
      .map((r) => ({
        topic: r.topic,
        partition: r.partition >= 0 ? r.partition : null,
        deleted: r.error === null,
        error: errorJson(r.error),
      })),
  }
}

/** The document printed when the command fails. */
export function failureJson(action: string, message: string): unknown {
  return { action, error: message }
}

export function render(doc: unknown): string {
  return `${JSON.stringify(doc, null, 2)}\n`
}
