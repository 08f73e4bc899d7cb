/**
 * The rebalance history: who was in each generation, which partitions changed owner (decoded from the
 * consumer-protocol assignments), how long the rebalance took and how long each member waited — all on
 * the ManualClock, so every time is exact — and its DescribeRebalanceHistory answer.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import type { RebalanceMemberEntry } from '../../../src/broker/coordinator/history.ts'
import {
  decodeRecord,
  encodeAssignment,
  GroupCoordinator,
  HISTORY_LIMIT,
  type JoinGroupRequest,
  type RebalanceHistoryEntry,
} from '../../../src/broker/coordinator/index.ts'
import { DescribeRebalanceHistory } from '../../../src/protocol/apis/index.ts'
import { ErrorCode } from '../../../src/protocol/errors.ts'
import { decodeResponse, encodeResponse } from '../../../src/protocol/frame.ts'
import { CLIENT_HOST, CLIENT_ID, CoordinatorContext, GROUP, type JoinedMember, RANGE, V } from './context.ts'

/** A consumer-protocol assignment of partitions of topic `foo`. */
function foo(...partitions: number[]): Buffer {
  return encodeAssignment({ assignedPartitions: [{ topic: 'foo', partitions }], userData: null }, 0)
}

function last(ctx: CoordinatorContext): RebalanceHistoryEntry {
  const e = ctx.coordinator.history(GROUP).at(-1)
  assert.ok(e, 'a history entry')
  return e
}

function member(e: RebalanceHistoryEntry, memberId: string): RebalanceMemberEntry {
  const m = e.members.find((x) => x.memberId === memberId)
  assert.ok(m, `member ${memberId} in the entry`)
  return m
}

const FOO = (...partitions: number[]) => [{ topic: 'foo', partitions }]

/** A Stable two-member group: the first member gets foo 0–2, the second foo 3–5. */
async function twoMembers(ctx: CoordinatorContext, join: Partial<JoinGroupRequest> = {}): Promise<{ a: JoinedMember; b: JoinedMember }> {
  const parts = [foo(0, 1, 2), foo(3, 4, 5)]
  let i = 0
  const g = await ctx.stableGroup(2, { join, assignment: () => parts[i++] as Buffer })
  return { a: g.leader, b: g.followers[0] as JoinedMember }
}

/** `memberId` rejoins as the only member and, as leader, assigns itself foo 0–5. */
async function takesAll(ctx: CoordinatorContext, memberId: string): Promise<void> {
  const r = await ctx.answered(ctx.join({ memberId }))
  await ctx.answered(ctx.sync({ memberId, generationId: r.generationId, assignments: [{ memberId, assignment: foo(0, 1, 2, 3, 4, 5) }] }))
}

describe('rebalance history: members, partitions moved, duration and waits', () => {
  test('testInitialRebalanceRecordsAssignedPartitionsDurationAndEachMembersWait', async () => {
    const ctx = new CoordinatorContext()
    const t0 = ctx.clock.now()
    const a = await ctx.joinNew()
    ctx.advance(1000)
    const b = ctx.join({ memberId: await ctx.requestMemberId() }, V.join, 'client-b')
    ctx.advance(2000) // the initial delay ends at t0 + 3000, and b extends it once
    await ctx.assertParked(a)
    ctx.advance(3000) // the join phase completes at t0 + 6000
    const ra = await ctx.answered(a)
    const rb = await ctx.answered(b)
    assert.equal(ra.leader, ra.memberId)
    ctx.advance(10)
    const fs = ctx.sync({ memberId: rb.memberId, generationId: 1 })
    ctx.advance(20)
    const ls = ctx.sync({
      memberId: ra.memberId,
      generationId: 1,
      assignments: [
        { memberId: ra.memberId, assignment: foo(0, 1, 2) },
        { memberId: rb.memberId, assignment: foo(3, 4, 5) },
      ],
    })
    assert.equal((await ctx.answered(ls)).errorCode, ErrorCode.NONE)
    assert.equal((await ctx.answered(fs)).errorCode, ErrorCode.NONE)

    const e = last(ctx)
    assert.equal(e.generation, 1)
    assert.equal(e.trigger, 'join')
    assert.equal(e.protocolType, 'consumer')
    assert.equal(e.protocolName, 'range')
    assert.equal(e.startedAt, t0)
    assert.equal(e.endedAt, t0 + 6000)
    assert.equal(e.stableAt, t0 + 6030)
    assert.equal(e.durationMs, 6030)
    assert.equal(e.partitionsMoved, 6)
    assert.deepEqual(e.membersBefore, [])
    assert.deepEqual(
      e.members.map((m) => [m.memberId, m.clientId, m.clientHost, m.groupInstanceId, m.inPreviousGeneration, m.inNewGeneration]),
      [
        [ra.memberId, CLIENT_ID, CLIENT_HOST, null, false, true],
        [rb.memberId, 'client-b', CLIENT_HOST, null, false, true],
      ],
    )
    const ma = member(e, ra.memberId)
    const mb = member(e, rb.memberId)
    // a was in the group when the rebalance started; b's wait starts with its JoinGroup.
    assert.deepEqual([ma.joinedAt, ma.waitStartedAt, ma.syncedAt, ma.waitMs], [t0, t0, t0 + 6030, 6030])
    assert.deepEqual([mb.joinedAt, mb.waitStartedAt, mb.syncedAt, mb.waitMs], [t0 + 1000, t0 + 1000, t0 + 6030, 5030])
    assert.equal(e.maxWaitMs, 6030)
    assert.deepEqual(ma.assigned, FOO(0, 1, 2))
    assert.deepEqual(mb.assigned, FOO(3, 4, 5))
    assert.deepEqual(ma.revoked, [])
  })

  test('testNewMemberMovesPartitionsAndEveryMembersWaitStartsWithTheRebalance', async () => {
    const ctx = new CoordinatorContext()
    const { a, b } = await twoMembers(ctx)
    const t1 = ctx.clock.now()
    const c = ctx.join({ memberId: await ctx.requestMemberId() }, V.join, 'client-c')
    assert.equal(ctx.state(), 'PreparingRebalance')
    ctx.advance(100)
    const ja = ctx.join({ memberId: a.memberId })
    ctx.advance(200)
    const jb = ctx.join({ memberId: b.memberId })
    const rc = await ctx.answered(c)
    await ctx.answered(ja)
    await ctx.answered(jb)
    assert.equal(rc.generationId, 2)
    ctx.advance(100)
    const ls = ctx.sync({
      memberId: a.memberId,
      generationId: 2,
      assignments: [
        { memberId: a.memberId, assignment: foo(0, 1) },
        { memberId: b.memberId, assignment: foo(3, 4) },
        { memberId: rc.memberId, assignment: foo(2, 5) },
      ],
    })
    await ctx.answered(ls)
    ctx.advance(50)
    await ctx.answered(ctx.sync({ memberId: b.memberId, generationId: 2 })) // after Stable: answered at once
    ctx.advance(50)
    await ctx.answered(ctx.sync({ memberId: rc.memberId, generationId: 2 }))

    const e = last(ctx)
    assert.equal(e.generation, 2)
    assert.equal(e.trigger, 'join')
    assert.match(e.reason, /adding new member/)
    assert.deepEqual(e.membersBefore, [a.memberId, b.memberId])
    assert.deepEqual(new Set(e.membersAfter), new Set([a.memberId, b.memberId, rc.memberId]))
    assert.equal(e.startedAt, t1)
    assert.equal(e.endedAt, t1 + 300)
    assert.equal(e.stableAt, t1 + 400)
    assert.equal(e.durationMs, 400)
    const [ma, mb, mc] = [member(e, a.memberId), member(e, b.memberId), member(e, rc.memberId)]
    assert.deepEqual([ma.inPreviousGeneration, ma.inNewGeneration, mc.inPreviousGeneration, mc.inNewGeneration], [true, true, false, true])
    assert.deepEqual([ma.joinedAt, mb.joinedAt, mc.joinedAt], [t1 + 100, t1 + 300, t1])
    assert.deepEqual([ma.waitStartedAt, mb.waitStartedAt, mc.waitStartedAt], [t1, t1, t1])
    assert.deepEqual([ma.waitMs, mb.waitMs, mc.waitMs], [400, 450, 500])
    assert.equal(e.maxWaitMs, 500)
    assert.deepEqual([ma.revoked, ma.assigned], [FOO(2), []])
    assert.deepEqual([mb.revoked, mb.assigned], [FOO(5), []])
    assert.deepEqual([mc.revoked, mc.assigned], [[], FOO(2, 5)])
    assert.equal(e.partitionsMoved, 2)
  })

  test('testLeavingMemberIsListedWithItsRevokedPartitionsAndNoWait', async () => {
    const ctx = new CoordinatorContext()
    const { a, b } = await twoMembers(ctx)
    const t1 = ctx.clock.now()
    ctx.leaveMembers([{ memberId: b.memberId }])
    ctx.advance(30)
    await takesAll(ctx, a.memberId)
    const e = last(ctx)
    assert.equal(e.trigger, 'leave')
    assert.deepEqual(e.membersAfter, [a.memberId])
    const mb = member(e, b.memberId)
    assert.deepEqual(
      [mb.inPreviousGeneration, mb.inNewGeneration, mb.joinedAt, mb.waitStartedAt, mb.syncedAt, mb.waitMs],
      [true, false, null, null, null, null],
    )
    assert.deepEqual(mb.revoked, FOO(3, 4, 5))
    assert.deepEqual(member(e, a.memberId).assigned, FOO(3, 4, 5))
    assert.equal(member(e, a.memberId).waitMs, 30)
    assert.equal(e.partitionsMoved, 3)
    assert.equal(e.startedAt, t1)
  })

  test('testSessionTimeoutIsTheTriggerAndTheExpiredMembersPartitionsMove', async () => {
    const ctx = new CoordinatorContext()
    const { a, b } = await twoMembers(ctx)
    ctx.advance(5000)
    ctx.heartbeat({ memberId: a.memberId, generationId: 1 })
    ctx.advance(5000) // b's session (10 s from its SyncGroup) expires
    assert.equal(ctx.state(), 'PreparingRebalance')
    await takesAll(ctx, a.memberId)
    const e = last(ctx)
    assert.equal(e.trigger, 'session-timeout')
    assert.deepEqual(member(e, b.memberId).revoked, FOO(3, 4, 5))
    assert.equal(e.partitionsMoved, 3)
  })

  test('testGroupEmptyingRevokesEverythingAndNeverBecomesStable', async () => {
    const ctx = new CoordinatorContext()
    const { a, b } = await twoMembers(ctx)
    ctx.leaveMembers([{ memberId: a.memberId }, { memberId: b.memberId }])
    assert.equal(ctx.state(), 'Empty')
    const e = last(ctx)
    assert.equal(e.generation, 2)
    assert.equal(e.protocolName, null)
    assert.deepEqual(e.membersAfter, [])
    assert.equal(e.stableAt, null)
    assert.equal(e.durationMs, null)
    assert.equal(e.maxWaitMs, null)
    assert.equal(e.partitionsMoved, 6)
    assert.deepEqual(member(e, a.memberId).revoked, FOO(0, 1, 2))
    assert.deepEqual(member(e, b.memberId).revoked, FOO(3, 4, 5))
  })

  test('testOtherProtocolTypesAndUndecodableAssignmentsLeaveMovesUnknown', async () => {
    const connect = new CoordinatorContext()
    await connect.stableGroup(2, { join: { protocolType: 'connect', protocols: [{ name: 'sessioned', metadata: Buffer.from('x') }] } })
    const ce = last(connect)
    assert.equal(ce.protocolType, 'connect')
    assert.equal(ce.partitionsMoved, null)
    assert.ok(ce.members.every((m) => m.revoked === null && m.assigned === null))
    assert.ok(ce.durationMs !== null && ce.maxWaitMs !== null, 'times are known whatever the protocol')

    const garbage = new CoordinatorContext()
    await garbage.stableGroup(2) // assignments are not consumer-protocol bytes
    assert.equal(last(garbage).partitionsMoved, null)
  })

  test('testStaticMemberRestartKeepsItsOwnershipAcrossTheNewMemberId', async () => {
    const ctx = new CoordinatorContext()
    const parts = [foo(0, 1, 2), foo(3, 4, 5)]
    let i = 0
    const g = await ctx.stableGroup(2, { instanceIds: ['i-a', 'i-b'], assignment: () => parts[i++] as Buffer })
    const leader = g.leader
    const old = g.followers[0] as JoinedMember
    // The follower restarts: same instance id, new member id, no rebalance.
    const replaced = await ctx.answered(ctx.join({ groupInstanceId: 'i-b', memberId: '' }))
    assert.equal(ctx.coordinator.history(GROUP).length, 1)
    // Then the leader rejoins (a metadata change): the restarted follower keeps foo 3–5.
    const lj = ctx.join({ memberId: leader.memberId, groupInstanceId: 'i-a' })
    const fj = ctx.join({ memberId: replaced.memberId, groupInstanceId: 'i-b' })
    const r = await ctx.answered(lj)
    await ctx.answered(fj)
    await ctx.answered(
      ctx.sync({
        memberId: leader.memberId,
        groupInstanceId: 'i-a',
        generationId: r.generationId,
        assignments: [
          { memberId: leader.memberId, assignment: foo(0, 1, 2) },
          { memberId: replaced.memberId, assignment: foo(3, 4, 5) },
        ],
      }),
    )
    const e = last(ctx)
    assert.equal(e.trigger, 'metadata-change')
    assert.equal(e.partitionsMoved, 0)
    assert.deepEqual(e.membersBefore, [leader.memberId, old.memberId])
    const mOld = member(e, old.memberId)
    const mNew = member(e, replaced.memberId)
    assert.deepEqual([mOld.groupInstanceId, mOld.inPreviousGeneration, mOld.inNewGeneration, mOld.revoked], ['i-b', true, false, []])
    assert.deepEqual(
      [mNew.groupInstanceId, mNew.inPreviousGeneration, mNew.inNewGeneration, mNew.revoked, mNew.assigned],
      ['i-b', false, true, [], []],
    )
  })

  test('testGenerationThatNeverBecameStableHasUnknownMovesAndTheNextDiffsAgainstTheLastStableOne', async () => {
    const ctx = new CoordinatorContext()
    const long = { sessionTimeoutMs: 120_000 } // sessions outlast the rebalance timeout (60 s)
    const { a, b } = await twoMembers(ctx, long)
    // Both rejoin; b syncs, the leader never does: after the rebalance timeout a is removed.
    const ja = ctx.join({ memberId: a.memberId, ...long })
    const jb = ctx.join({ memberId: b.memberId, ...long })
    const r = await ctx.answered(ja)
    await ctx.answered(jb)
    const bs = ctx.sync({ memberId: b.memberId, generationId: r.generationId })
    ctx.advance(60_000)
    assert.equal((await ctx.answered(bs)).errorCode, ErrorCode.REBALANCE_IN_PROGRESS)
    const stuck = ctx.coordinator.history(GROUP).at(-1) as RebalanceHistoryEntry
    assert.equal(stuck.generation, 2)
    const rb = await ctx.answered(ctx.join({ memberId: b.memberId, ...long }))
    assert.equal(rb.generationId, 3)
    await ctx.answered(
      ctx.sync({ memberId: b.memberId, generationId: 3, assignments: [{ memberId: b.memberId, assignment: foo(0, 1, 2, 3, 4, 5) }] }),
    )
    assert.deepEqual(
      [stuck.stableAt, stuck.durationMs, stuck.partitionsMoved, member(stuck, b.memberId).syncedAt],
      [null, null, null, null],
    )
    const e = last(ctx)
    assert.equal(e.trigger, 'sync-timeout')
    assert.deepEqual(e.membersBefore, [a.memberId, b.memberId])
    assert.deepEqual(member(e, a.memberId).revoked, FOO(0, 1, 2))
    assert.deepEqual(member(e, b.memberId).assigned, FOO(0, 1, 2))
    assert.equal(e.partitionsMoved, 3)
  })

  test('testAfterARestartTheHistoryIsKeptAndTheFirstRebalanceDiffsAgainstTheLoadedAssignment', async () => {
    const first = new CoordinatorContext()
    const { a, b } = await twoMembers(first)
    const ctx = first.rebuild()
    assert.deepEqual(ctx.coordinator.history(GROUP), first.coordinator.history(GROUP))
    assert.equal(ctx.coordinator.history(GROUP).length, 1)
    ctx.leaveMembers([{ memberId: b.memberId }])
    await takesAll(ctx, a.memberId)
    const e = last(ctx)
    assert.equal(ctx.coordinator.history(GROUP).length, 2)
    assert.equal(e.generation, 2)
    assert.deepEqual(e.membersBefore, [a.memberId, b.memberId])
    assert.equal(member(e, b.memberId).clientId, CLIENT_ID)
    assert.deepEqual(member(e, b.memberId).revoked, FOO(3, 4, 5))
    assert.equal(e.partitionsMoved, 3)
  })

  test('testHistoryAndCountsAreRebuiltFromTheLogAsTheyWereIncludingLaterSyncsAndStableTimes', async () => {
    const ctx = new CoordinatorContext()
    const { a, b } = await twoMembers(ctx)
    ctx.clock.advance(40)
    ctx.leaveMembers([{ memberId: b.memberId }])
    await takesAll(ctx, a.memberId)
    ctx.clock.advance(25)
    await ctx.answered(ctx.join({ memberId: a.memberId })) // generation 3: joined, never synced
    // A second group in the same log.
    await ctx.stableGroup(1, { groupId: 'other' })
    const rebuilt = ctx.rebuild()
    for (const g of [GROUP, 'other']) {
      assert.deepEqual(rebuilt.coordinator.history(g), ctx.coordinator.history(g), `history of ${g}`)
      assert.deepEqual(Object.fromEntries(rebuilt.coordinator.rebalanceCounts(g)), Object.fromEntries(ctx.coordinator.rebalanceCounts(g)))
    }
    assert.equal(rebuilt.coordinator.history(GROUP).length, 3)
    assert.deepEqual(Object.fromEntries(rebuilt.coordinator.rebalanceCounts(GROUP)), { join: 1, leave: 1, 'metadata-change': 1 })
    // Generation 3 was never assigned, so the group comes back at generation 2; its next rebalance takes the
    // number 3 again, and that entry replaces the lost one, in memory and (same key) in the log.
    assert.equal(rebuilt.coordinator.group(GROUP)?.generationId, 2)
    const lost = last(rebuilt)
    rebuilt.clock.advance(10)
    await takesAll(rebuilt, a.memberId)
    const h = rebuilt.coordinator.history(GROUP)
    assert.deepEqual(
      h.map((e) => e.generation),
      [1, 2, 3],
    )
    assert.notEqual(h[2], lost)
    assert.equal(h[2]?.partitionsMoved, 0)
    assert.notEqual(h[2]?.stableAt, null)
    assert.deepEqual(rebuilt.rebuild().coordinator.history(GROUP), h)
  })

  test('testAnEntryIsWrittenWhenItOpensBecomesStableAndIsCompleteNotOncePerMember', async () => {
    const ctx = new CoordinatorContext()
    const { leader, followers } = await ctx.stableGroup(6)
    const writes = () => ctx.records.filter((r) => r.type === 'rebalance-history' && r.generation === 1).length
    assert.ok(writes() <= 3, `${writes()} writes of one rebalance of six members`)
    const settled = writes()
    // Generation 2: the leader and one follower sync, the rest never do before generation 3 opens.
    const rejoined = [leader, ...followers].map((m) => ctx.join({ memberId: m.memberId }))
    await ctx.advanceUntilAnswered(rejoined)
    const g2 = (await ctx.answered(rejoined[0] as (typeof rejoined)[number])).generationId
    assert.equal(writes(), settled, 'a complete entry is not written again when the next rebalance starts')
    ctx.sync({ memberId: leader.memberId, generationId: g2, assignments: [] })
    ctx.sync({ memberId: followers[0]!.memberId, generationId: g2 })
    const partial = ctx.coordinator.history(GROUP).at(-1) as RebalanceHistoryEntry
    assert.equal(partial.members.filter((m) => m.syncedAt !== null).length, 2)
    ctx.leaveMembers([{ memberId: followers[1]!.memberId }])
    // The incomplete entry was written as the next rebalance started: a rebuild has both syncs.
    const rebuilt = ctx.rebuild()
    const loaded = rebuilt.coordinator.history(GROUP).find((e) => e.generation === g2)
    assert.deepEqual(loaded, partial)
  })

  test('testAJoinPhaseCompletedByATimerIsWrittenWithoutWaitingForAnotherRequest', async () => {
    const ctx = new CoordinatorContext()
    const parked = await ctx.joinNew()
    const before = ctx.records.length
    ctx.advance(3000) // the initial delay ends: the join phase completes on the timer, with no records of its own
    await ctx.answered(parked)
    assert.deepEqual(
      ctx.records.slice(before).map((r) => (r.type === 'rebalance-history' ? `history-${r.generation}` : r.type)),
      ['history-1'],
    )
  })

  test('testHistoryOfAGroupThatDidNotSurviveIsDeletedAtLoadAndNotInheritedByANewGroupOfTheSameId', async () => {
    const ctx = new CoordinatorContext()
    const { leader } = await ctx.stableGroup(1)
    await ctx.rejoinAlone(leader.memberId, 3)
    // A log where the group's metadata is gone but its history records are not (its generation 1 was never
    // assigned before a crash, or its tombstones were never written): keep only the history records.
    const orphaned = ctx.log.filter((e) => e.key.readInt16BE(0) === 0x7c00)
    const rebuilt = ctx.rebuild(orphaned)
    assert.equal(rebuilt.coordinator.group(GROUP), undefined)
    assert.deepEqual(rebuilt.coordinator.history(GROUP), [])
    assert.equal(rebuilt.coordinator.rebalanceCounts(GROUP).size, 0)
    const tombstones = rebuilt.records.slice(orphaned.length)
    assert.deepEqual(tombstones.map((r) => (r.type === 'rebalance-history' && r.value === null ? r.generation : -1)).sort(), [1, 2, 3, 4])
    // A new group of the same id starts from nothing, now and after another restart.
    await rebuilt.stableGroup(1)
    assert.deepEqual(Object.fromEntries(rebuilt.coordinator.rebalanceCounts(GROUP)), { join: 1 })
    const again = rebuilt.rebuild()
    assert.deepEqual(
      again.coordinator.history(GROUP).map((e) => e.generation),
      [1],
    )
    assert.deepEqual(Object.fromEntries(again.coordinator.rebalanceCounts(GROUP)), { join: 1 })
  })

  test('testEntriesBeyondTheBoundFoundAtLoadGetTombstones', async () => {
    const ctx = new CoordinatorContext()
    const { leader } = await ctx.stableGroup(1)
    await ctx.rejoinAlone(leader.memberId, HISTORY_LIMIT + 2)
    // The same log without the tombstones of the entries that left the bound.
    const untrimmed = ctx.log.filter((e) => !(e.key.readInt16BE(0) === 0x7c00 && e.value === null))
    const rebuilt = ctx.rebuild(untrimmed)
    assert.equal(rebuilt.coordinator.history(GROUP).length, HISTORY_LIMIT)
    const written = rebuilt.records.slice(untrimmed.length)
    assert.deepEqual(
      written.map((r) => (r.type === 'rebalance-history' && r.value === null ? r.generation : -1)).sort((a, b) => a - b),
      [1, 2, 3],
    )
  })

  test('testEntriesLeavingTheBoundedHistoryAndDeletedGroupsLeaveTombstones', async () => {
    const ctx = new CoordinatorContext()
    const { leader } = await ctx.stableGroup(1)
    await ctx.rejoinAlone(leader.memberId, HISTORY_LIMIT + 3)
    // What compaction keeps of the history: the last record of each key, tombstones removing theirs.
    const kept = new Map<number, boolean>()
    for (const r of ctx.records) if (r.type === 'rebalance-history') kept.set(r.generation, r.value !== null)
    assert.equal([...kept.values()].filter((live) => live).length, HISTORY_LIMIT)
    assert.equal([...kept.entries()].filter(([, live]) => !live).length, 4)
    const rebuilt = ctx.rebuild()
    assert.equal(rebuilt.coordinator.history(GROUP).length, HISTORY_LIMIT)
    assert.equal(rebuilt.coordinator.history(GROUP)[0]?.generation, 5)
    assert.equal(rebuilt.coordinator.rebalanceCounts(GROUP).get('metadata-change'), HISTORY_LIMIT + 3)

    const before = rebuilt.records.length
    rebuilt.leaveMembers([{ memberId: leader.memberId }])
    rebuilt.advance(60_000)
    rebuilt.append(rebuilt.coordinator.deleteGroups({ groupsNames: [GROUP] }, rebuilt.ctx(2)).records)
    const tombstones = rebuilt.records.slice(before).filter((r) => r.type === 'rebalance-history' && r.value === null)
    assert.equal(tombstones.length, HISTORY_LIMIT + 1, 'every entry of the deleted group, the last one (its emptying) included')
    const again = rebuilt.rebuild()
    assert.deepEqual(again.coordinator.history(GROUP), [])
    assert.equal(again.coordinator.rebalanceCounts(GROUP).size, 0)
  })

  test('testAHistoryRecordThatDoesNotDecodeIsSkippedWithOneLogLine', async () => {
    const ctx = new CoordinatorContext()
    await ctx.stableGroup(1)
    const isHistory = (e: { key: Buffer; value: Buffer | null }) => e.key.readInt16BE(0) === 0x7c00 && e.value !== null
    const n = ctx.log.filter(isHistory).length
    assert.ok(n >= 1)
    const bad = [
      Buffer.from([0, 0, 0x7b, 0x22, 0x65]), // truncated JSON
      Buffer.from([0, 9, 0x7b, 0x7d]), // an unknown value version
      Buffer.concat([Buffer.from([0, 0]), Buffer.from(JSON.stringify({ entry: { generation: 1, trigger: 'join' } }))]), // fields missing
    ]
    const expected = [/not JSON/, /value version 9/, /reason is not a string/]
    for (const [k, value] of bad.entries()) {
      const lines: string[] = []
      const fresh = new GroupCoordinator({ clock: ctx.clock, timer: ctx.timer, log: (m) => lines.push(m) })
      for (const e of ctx.log) fresh.replayEncoded(e.key, isHistory(e) ? value : e.value)
      fresh.onLoaded()
      assert.equal(fresh.group(GROUP)?.state, 'Stable', 'the group itself is loaded')
      assert.deepEqual(fresh.history(GROUP), [])
      assert.equal(lines.length, n, 'one line per record skipped')
      assert.match(lines[0] ?? '', /^skipping a rebalance-history record that does not decode: /)
      assert.match(lines[0] ?? '', expected[k] as RegExp)
      // Nothing of that entry loaded: its key is deleted, so no later version can load it into a group of this id.
      assert.deepEqual(
        fresh.takeHistoryRecords().map((r) => (r.type === 'rebalance-history' ? [r.generation, r.value] : r.type)),
        [[1, null]],
      )
    }
  })

  test('testAnUndecodableLaterVersionOfAnEntryIsReplacedByTheVersionThatLoaded', async () => {
    const ctx = new CoordinatorContext()
    await ctx.stableGroup(1)
    const versions = ctx.log.filter((e) => e.key.readInt16BE(0) === 0x7c00 && e.value !== null)
    assert.ok(versions.length >= 2, 'the entry was written when it opened and again when the group became Stable')
    const last = versions.at(-1) as { key: Buffer; value: Buffer }
    const log = ctx.log.map((e) => (e === last ? { key: e.key, value: Buffer.from([0, 0, 0x7b]) } : e))
    const rebuilt = ctx.rebuild(log)
    const loaded = rebuilt.coordinator.history(GROUP)
    assert.equal(loaded.length, 1)
    assert.equal(loaded[0]?.stableAt, null, 'the earlier version, written before the group became Stable')
    // It was written again once loaded: the log's last word on that key is a version that decodes.
    const rewritten = rebuilt.log.slice(log.length).map((e) => decodeRecord(e.key, e.value))
    assert.deepEqual(
      rewritten.map((r) => (r.type === 'rebalance-history' && r.value !== null ? r.generation : -1)),
      [1],
    )
    assert.deepEqual(rebuilt.rebuild().coordinator.history(GROUP), loaded)
  })

  test('testRebalanceCountsPerTriggerAreNotBoundedByTheHistory', async () => {
    const ctx = new CoordinatorContext()
    const { leader } = await ctx.stableGroup(1)
    await ctx.rejoinAlone(leader.memberId, HISTORY_LIMIT + 5)
    assert.equal(ctx.coordinator.history(GROUP).length, HISTORY_LIMIT)
    assert.deepEqual(Object.fromEntries(ctx.coordinator.rebalanceCounts(GROUP)), { join: 1, 'metadata-change': HISTORY_LIMIT + 5 })
    assert.equal(ctx.coordinator.rebalanceCounts('missing').size, 0)
  })
})

describe('DescribeRebalanceHistory', () => {
  test('testDescribeRebalanceHistoryAnswersEntriesAndGroupErrors', async () => {
    const ctx = new CoordinatorContext()
    const { a, b } = await twoMembers(ctx)
    ctx.leaveMembers([{ memberId: b.memberId }])
    await ctx.answered(ctx.join({ memberId: a.memberId })) // generation 2 never gets its assignment
    ctx.commit({ groupId: 'offsets-only', offsets: [{ topic: 'foo', partition: 0, offset: 1 }] })
    const res = ctx.coordinator.describeRebalanceHistory({ groups: [GROUP, 'offsets-only', 'missing', ''] }, ctx.ctx(0)).response
    assert.deepEqual(
      res.groups.map((g) => [g.groupId, g.errorCode, g.rebalances.length]),
      [
        [GROUP, ErrorCode.NONE, 2],
        ['offsets-only', ErrorCode.NONE, 0],
        ['missing', ErrorCode.GROUP_ID_NOT_FOUND, 0],
        ['', ErrorCode.INVALID_GROUP_ID, 0],
      ],
    )
    const [gen1, gen2] = res.groups[0]?.rebalances ?? []
    const h = ctx.coordinator.history(GROUP)
    assert.deepEqual(gen1, {
      generationId: 1,
      trigger: 'join',
      reason: h[0]?.reason,
      protocolType: 'consumer',
      protocolName: 'range',
      startedAtMs: BigInt(h[0]?.startedAt as number),
      joinCompletedAtMs: BigInt(h[0]?.endedAt as number),
      stableAtMs: BigInt(h[0]?.stableAt as number),
      durationMs: BigInt(h[0]?.durationMs as number),
      maxWaitMs: BigInt(h[0]?.maxWaitMs as number),
      partitionsMoved: 6,
      members: [a, b].map((m, i) => ({
        memberId: m.memberId,
        groupInstanceId: null,
        clientId: CLIENT_ID,
        clientHost: CLIENT_HOST,
        inPreviousGeneration: false,
        inNewGeneration: true,
        joinedAtMs: BigInt(h[0]?.members[i]?.joinedAt as number),
        waitStartedAtMs: BigInt(h[0]?.members[i]?.waitStartedAt as number),
        syncedAtMs: BigInt(h[0]?.members[i]?.syncedAt as number),
        waitMs: BigInt(h[0]?.members[i]?.waitMs as number),
        revokedPartitions: [],
        assignedPartitions: i === 0 ? FOO(0, 1, 2) : FOO(3, 4, 5),
      })),
    })
    // Not Stable (yet): -1 for what did not happen, null for unknown partitions.
    assert.equal(gen2?.trigger, 'leave')
    assert.deepEqual([gen2?.stableAtMs, gen2?.durationMs, gen2?.maxWaitMs, gen2?.partitionsMoved], [-1n, -1n, -1n, -1])
    const leaver = gen2?.members.find((m) => m.memberId === b.memberId)
    assert.deepEqual([leaver?.joinedAtMs, leaver?.waitStartedAtMs, leaver?.syncedAtMs, leaver?.waitMs], [-1n, -1n, -1n, -1n])
    assert.equal(leaver?.revokedPartitions, null)

    // The answer encodes and decodes with the protocol definition.
    const frame = Buffer.concat(encodeResponse(DescribeRebalanceHistory, 0, 7, res))
    const decoded = decodeResponse(DescribeRebalanceHistory, 0, frame.subarray(4))
    assert.equal(decoded.correlationId, 7)
    assert.deepEqual(decoded.body, res)
  })

  test('testSubscriptionChangeIsRecordedAsItsTrigger', async () => {
    const ctx = new CoordinatorContext()
    const { a, b } = await twoMembers(ctx)
    const jb = ctx.join({ memberId: b.memberId, protocols: [RANGE(['foo', 'bar'])] })
    const r = await ctx.answered(ctx.join({ memberId: a.memberId }))
    await ctx.answered(jb)
    await ctx.answered(
      ctx.sync({
        memberId: a.memberId,
        generationId: r.generationId,
        assignments: [
          { memberId: a.memberId, assignment: foo(0, 1, 2) },
          {
            memberId: b.memberId,
            assignment: encodeAssignment(
              {
                assignedPartitions: [
                  { topic: 'foo', partitions: [3, 4, 5] },
                  { topic: 'bar', partitions: [0] },
                ],
                userData: null,
              },
              0,
            ),
          },
        ],
      }),
    )
    const e = last(ctx)
    assert.equal(e.trigger, 'subscription-change')
    assert.deepEqual(member(e, b.memberId).assigned, [{ topic: 'bar', partitions: [0] }])
    assert.equal(e.partitionsMoved, 1)
  })
})
