/** Builders for synthetic group snapshots: explicit timestamps, no clock, no broker. */
import type { GroupInput, LagSnapshot, MemberInput, OwnerInput, PartitionInput } from '../../../src/lag/types.ts'

export const T0 = 1_800_000_000_000

export function owner(id: string, instance: string | null = null): OwnerInput {
  return { memberId: `${id}-1b2c`, groupInstanceId: instance, clientId: id, clientHost: '/127.0.0.1' }
}

/** A partition row: [committed | null, logEnd], owned by `who` (or nobody). */
export function row(
  topic: string,
  partition: number,
  committed: number | null,
  logEnd: number,
  who: OwnerInput | null = null,
): PartitionInput {
  return { topic, partition, committed: committed === null ? null : BigInt(committed), logStart: 0n, logEnd: BigInt(logEnd), owner: who }
}

/** A group whose members are derived from the partitions' owners (plus `idle` members that own nothing). */
export function group(groupId: string, state: string, partitions: PartitionInput[], idle: OwnerInput[] = []): GroupInput {
  const members = new Map<string, MemberInput>()
  for (const p of partitions) {
    if (!p.owner) continue
    const m = members.get(p.owner.memberId) ?? { ...p.owner, partitions: [] }
    members.set(p.owner.memberId, { ...m, partitions: [...m.partitions, { topic: p.topic, partition: p.partition }] })
  }
  for (const o of idle) members.set(o.memberId, { ...o, partitions: [] })
  return { groupId, state, protocol: members.size > 0 ? 'range' : '', protocolType: 'consumer', members: [...members.values()], partitions }
}

export function snap(seconds: number, ...groups: GroupInput[]): LagSnapshot {
  return { time: T0 + seconds * 1000, groups }
}
