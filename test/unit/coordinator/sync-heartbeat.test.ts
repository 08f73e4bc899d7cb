/** SyncGroup, Heartbeat and sessions. */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { EMPTY_CONSUMER_ASSIGNMENT, type GroupMetadataRecord, type JoinGroupRequest } from '../../../src/broker/coordinator/index.ts'
import { ErrorCode } from '../../../src/protocol/errors.ts'
import { CoordinatorContext, GROUP, RANGE, syncRequest } from './context.ts'

/** Two members through the join phase, before any SyncGroup. */
async function completingGroup(
  ctx: CoordinatorContext,
  opts: { protocolType?: string; n?: number; join?: Partial<JoinGroupRequest> } = {},
) {
  const parked = []
  for (let i = 0; i < (opts.n ?? 2); i++) parked.push(await ctx.joinNew({ protocolType: opts.protocolType ?? 'consumer', ...opts.join }))
  await ctx.advanceUntilAnswered(parked)
  const rs = await Promise.all(parked.map((p) => ctx.answered(p)))
  const leader = rs.find((r) => r.leader === r.memberId)!
  const followers = rs.filter((r) => r !== leader)
  assert.equal(ctx.state(), 'CompletingRebalance')
  return { leader, followers, generationId: leader.generationId }
}

describe('SyncGroup', () => {
  test('testSyncGroupUnknownGroupOrEmptyGroup', async () => {
    const ctx = new CoordinatorContext()
    assert.equal((await ctx.answered(ctx.sync({ memberId: 'm', generationId: 1 }))).errorCode, ErrorCode.UNKNOWN_MEMBER_ID)
    ctx.commit({ offsets: [{ topic: 'foo', partition: 0, offset: 1 }] }) // creates an Empty group
    assert.equal(ctx.state(), 'Empty')
    assert.equal((await ctx.answered(ctx.sync({ memberId: 'm', generationId: 1 }))).errorCode, ErrorCode.UNKNOWN_MEMBER_ID)
  })

  test('testSyncGroupUnknownMemberAndIllegalGeneration', async () => {
    const ctx = new CoordinatorContext()
    const { leader } = await completingGroup(ctx)
    assert.equal((await ctx.answered(ctx.sync({ memberId: 'ghost', generationId: 1 }))).errorCode, ErrorCode.UNKNOWN_MEMBER_ID)
    assert.equal((await ctx.answered(ctx.sync({ memberId: leader.memberId, generationId: 2 }))).errorCode, ErrorCode.ILLEGAL_GENERATION)
  })

  test('testSyncGroupInPreparingRebalanceReturnsRebalanceInProgress', async () => {
    const ctx = new CoordinatorContext()
    const { leader, followers } = await ctx.stableGroup(2)
    ctx.join({ memberId: leader.memberId })
    const r = await ctx.answered(ctx.sync({ memberId: followers[0]!.memberId, generationId: 1 }))
    assert.equal(r.errorCode, ErrorCode.REBALANCE_IN_PROGRESS)
  })

  test('testSyncGroupV5ProtocolTypeAndNameMustMatch', async () => {
    const ctx = new CoordinatorContext()
    const { leader } = await completingGroup(ctx)
    const base = { memberId: leader.memberId, generationId: 1 }
    assert.equal((await ctx.answered(ctx.sync({ ...base, protocolType: 'connect' }))).errorCode, ErrorCode.INCONSISTENT_GROUP_PROTOCOL)
    assert.equal((await ctx.answered(ctx.sync({ ...base, protocolName: 'roundrobin' }))).errorCode, ErrorCode.INCONSISTENT_GROUP_PROTOCOL)
    // Below v5 the fields do not exist and are not checked.
    assert.equal((await ctx.answered(ctx.sync({ ...base, protocolName: 'roundrobin' }, 4))).errorCode, ErrorCode.NONE)
  })

  test('testLeaderSyncStoresAssignmentsAndAnswersParkedFollowers', async () => {
    const ctx = new CoordinatorContext()
    const { leader, followers } = await completingGroup(ctx)
    const follower = followers[0]!
    const followerSync = ctx.sync({ memberId: follower.memberId, generationId: 1, protocolType: 'consumer', protocolName: 'range' })
    await ctx.assertParked(followerSync)
    const leaderSync = ctx.sync({
      memberId: leader.memberId,
      generationId: 1,
      assignments: [
        { memberId: leader.memberId, assignment: Buffer.from('L') },
        { memberId: follower.memberId, assignment: Buffer.from('F') },
      ],
    })
    // The leader's SyncGroup writes the group's snapshot with the assignments; replaying it makes the group Stable.
    assert.equal(leaderSync.records.length, 1)
    const rec = leaderSync.records[0] as GroupMetadataRecord
    assert.equal(rec.value?.generation, 1)
    assert.deepEqual(
      rec.value?.members.map((m) => [m.memberId, m.assignment.toString()]),
      [
        [leader.memberId, 'L'],
        [follower.memberId, 'F'],
      ],
    )
    const lr = await ctx.answered(leaderSync)
    const fr = await ctx.answered(followerSync)
    assert.deepEqual([lr.errorCode, lr.assignment.toString(), lr.protocolType, lr.protocolName], [ErrorCode.NONE, 'L', 'consumer', 'range'])
    assert.deepEqual([fr.errorCode, fr.assignment.toString()], [ErrorCode.NONE, 'F'])
    assert.equal(ctx.state(), 'Stable')
    assert.equal(ctx.coordinator.history(GROUP).at(-1)?.stableAt, ctx.clock.now())
  })

  test('testGroupIsNotStableUntilTheLeadersAssignmentIsReplayed', async () => {
    const ctx = new CoordinatorContext()
    const { leader, followers } = await completingGroup(ctx)
    const follower = ctx.coordinator.syncGroup(syncRequest({ memberId: followers[0]!.memberId, generationId: 1 }), ctx.ctx(5))
    const lead = ctx.coordinator.syncGroup(syncRequest({ memberId: leader.memberId, generationId: 1 }), ctx.ctx(5))
    let answered = false
    lead.response.then(() => {
      answered = true
    })
    await new Promise((r) => setImmediate(r))
    assert.equal(answered, false, 'no answer before the record is durable and replayed')
    assert.equal(ctx.state(), 'CompletingRebalance')
    ctx.append(lead.records)
    assert.equal(ctx.state(), 'Stable')
    assert.equal((await follower.response).errorCode, ErrorCode.NONE)
  })

  test('testMembersWithoutAssignmentGetAnEncodedEmptyConsumerAssignment', async () => {
    const ctx = new CoordinatorContext()
    const { leader, followers } = await completingGroup(ctx, { n: 3 })
    const [f1, f2] = followers
    const s1 = ctx.sync({ memberId: f1!.memberId, generationId: 1 })
    const s2 = ctx.sync({ memberId: f2!.memberId, generationId: 1 })
    // f1 is missing from the assignments, f2 gets zero bytes.
    ctx.sync({ memberId: leader.memberId, generationId: 1, assignments: [{ memberId: f2!.memberId, assignment: Buffer.alloc(0) }] })
    assert.deepEqual((await ctx.answered(s1)).assignment, EMPTY_CONSUMER_ASSIGNMENT)
    assert.deepEqual((await ctx.answered(s2)).assignment, EMPTY_CONSUMER_ASSIGNMENT)
    assert.equal(EMPTY_CONSUMER_ASSIGNMENT.length, 10)
  })

  test('testOtherProtocolTypesKeepZeroLengthAssignments', async () => {
    const ctx = new CoordinatorContext()
    const { leader, followers } = await completingGroup(ctx, { protocolType: 'connect' })
    const s = ctx.sync({ memberId: followers[0]!.memberId, generationId: 1 })
    ctx.sync({ memberId: leader.memberId, generationId: 1, assignments: [] })
    assert.equal((await ctx.answered(s)).assignment.length, 0)
  })

  test('testSyncGroupInStableReturnsTheCurrentAssignment', async () => {
    const ctx = new CoordinatorContext()
    const { followers } = await ctx.stableGroup(2)
    const f = followers[0]!
    const r = await ctx.answered(ctx.sync({ memberId: f.memberId, generationId: 1 }))
    assert.equal(r.assignment.toString(), `assignment-${f.memberId}`)
  })

  test('testRebalanceTimesOutWhenSyncRequestIsNotReceivedFromFollowers', async () => {
    const ctx = new CoordinatorContext()
    const { leader, followers } = await completingGroup(ctx, { n: 3 })
    const leaderSync = ctx.sync({ memberId: leader.memberId, generationId: 1 })
    assert.equal((await ctx.answered(leaderSync)).errorCode, ErrorCode.NONE)
    assert.equal(ctx.state(), 'Stable')
    // Keep every session alive; only the pending-sync timer (rebalance timeout 60 s) may fire.
    for (let t = 0; t < 6; t++) {
      ctx.advance(9_999)
      for (const m of [leader, ...followers]) ctx.heartbeat({ memberId: m.memberId, generationId: 1 })
    }
    ctx.advance(60_000 - 6 * 9_999)
    assert.equal(ctx.state(), 'PreparingRebalance')
    const g = ctx.coordinator.group(GROUP)!
    assert.deepEqual(
      g.members.map((m) => m.memberId),
      [leader.memberId],
    )
    assert.equal(ctx.heartbeat({ memberId: leader.memberId, generationId: 1 }).errorCode, ErrorCode.REBALANCE_IN_PROGRESS)
    assert.equal(ctx.heartbeat({ memberId: followers[0]!.memberId, generationId: 1 }).errorCode, ErrorCode.UNKNOWN_MEMBER_ID)
    assert.equal(ctx.coordinator.history(GROUP).length, 1)
    assert.equal(g.pendingSyncMembers.length, 0)
  })

  test('testRebalanceTimesOutWhenSyncRequestIsNotReceivedFromLeaders', async () => {
    const ctx = new CoordinatorContext()
    // Sessions longer than the rebalance timeout, so only the pending-sync timer removes the leader.
    const { leader, followers } = await completingGroup(ctx, { n: 3, join: { sessionTimeoutMs: 30_000, rebalanceTimeoutMs: 20_000 } })
    const syncs = followers.map((f) => ctx.sync({ memberId: f.memberId, generationId: 1 }))
    for (const s of syncs) await ctx.assertParked(s)
    ctx.advance(19_999)
    for (const s of syncs) await ctx.assertParked(s)
    ctx.advance(1)
    for (const s of syncs) assert.equal((await ctx.answered(s)).errorCode, ErrorCode.REBALANCE_IN_PROGRESS)
    assert.equal(ctx.state(), 'PreparingRebalance')
    const g = ctx.coordinator.group(GROUP)!
    assert.equal(
      g.members.find((m) => m.memberId === leader.memberId),
      undefined,
    )
    assert.equal(g.members.length, 2)
    // The remaining members rejoin and one of them leads generation 2.
    const rejoins = followers.map((f) => ctx.join({ memberId: f.memberId }))
    const r = await ctx.answered(rejoins[0]!)
    assert.equal(r.generationId, 2)
    assert.ok(followers.some((f) => f.memberId === r.leader))
    assert.equal(ctx.coordinator.history(GROUP).at(-1)?.trigger, 'sync-timeout')
  })
})

describe('Heartbeat', () => {
  test('testHeartbeatUnknownGroup', () => {
    const ctx = new CoordinatorContext()
    assert.equal(ctx.heartbeat({ memberId: 'm', generationId: 1 }).errorCode, ErrorCode.UNKNOWN_MEMBER_ID)
  })

  test('testHeartbeatEmptyGroup', () => {
    const ctx = new CoordinatorContext()
    ctx.commit({ offsets: [{ topic: 'foo', partition: 0, offset: 1 }] })
    assert.equal(ctx.heartbeat({ memberId: 'm', generationId: 0 }).errorCode, ErrorCode.UNKNOWN_MEMBER_ID)
  })

  test('testHeartbeatDeadGroup', async () => {
    const ctx = new CoordinatorContext()
    ctx.commit({ offsets: [{ topic: 'foo', partition: 0, offset: 1 }] })
    // DeleteGroups marks the group Dead until its tombstone is replayed.
    const del = ctx.coordinator.deleteGroups({ groupsNames: [GROUP] }, ctx.ctx(2))
    assert.equal(del.response.results[0]?.errorCode, ErrorCode.NONE)
    assert.equal(ctx.state(), 'Dead')
    assert.equal(ctx.heartbeat({ memberId: 'm', generationId: 0 }).errorCode, ErrorCode.COORDINATOR_NOT_AVAILABLE)
    assert.equal((await ctx.answered(ctx.join({ memberId: 'm' }))).errorCode, ErrorCode.COORDINATOR_NOT_AVAILABLE)
    assert.equal((await ctx.answered(ctx.join({}))).errorCode, ErrorCode.COORDINATOR_NOT_AVAILABLE)
    assert.equal((await ctx.answered(ctx.sync({ memberId: 'm', generationId: 0 }))).errorCode, ErrorCode.COORDINATOR_NOT_AVAILABLE)
    ctx.append(del.records)
    assert.equal(ctx.state(), undefined)
  })

  test('testHeartbeatUnknownMemberAndIllegalGeneration', async () => {
    const ctx = new CoordinatorContext()
    const { leader } = await ctx.stableGroup(1)
    assert.equal(ctx.heartbeat({ memberId: 'ghost', generationId: 1 }).errorCode, ErrorCode.UNKNOWN_MEMBER_ID)
    assert.equal(ctx.heartbeat({ memberId: leader.memberId, generationId: 2 }).errorCode, ErrorCode.ILLEGAL_GENERATION)
    assert.equal(ctx.heartbeat({ memberId: leader.memberId, generationId: 1 }).errorCode, ErrorCode.NONE)
  })

  test('testHeartbeatDuringRebalanceCausesRebalanceInProgress', async () => {
    const ctx = new CoordinatorContext()
    const { leader, followers } = await ctx.stableGroup(2)
    ctx.join({ memberId: leader.memberId })
    assert.equal(ctx.heartbeat({ memberId: followers[0]!.memberId, generationId: 1 }).errorCode, ErrorCode.REBALANCE_IN_PROGRESS)
  })

  test('testHeartbeatInCompletingRebalanceIsANormalHeartbeat', async () => {
    const ctx = new CoordinatorContext()
    const { leader, followers } = await completingGroup(ctx)
    assert.equal(ctx.heartbeat({ memberId: followers[0]!.memberId, generationId: 1 }).errorCode, ErrorCode.NONE)
    assert.equal(ctx.heartbeat({ memberId: leader.memberId, generationId: 0 }).errorCode, ErrorCode.ILLEGAL_GENERATION)
  })

  test('testSessionTimeoutRemovesTheMemberAndRebalances', async () => {
    const ctx = new CoordinatorContext()
    const { leader, followers } = await ctx.stableGroup(2)
    const follower = followers[0]!
    ctx.advance(5000)
    ctx.heartbeat({ memberId: leader.memberId, generationId: 1 })
    ctx.advance(4999)
    assert.equal(ctx.state(), 'Stable')
    ctx.advance(1) // the follower's last heartbeat was its SyncGroup, 10 s ago
    assert.equal(ctx.state(), 'PreparingRebalance')
    assert.equal(ctx.heartbeat({ memberId: follower.memberId, generationId: 1 }).errorCode, ErrorCode.UNKNOWN_MEMBER_ID)
    assert.equal(ctx.heartbeat({ memberId: leader.memberId, generationId: 1 }).errorCode, ErrorCode.REBALANCE_IN_PROGRESS)
    const r = await ctx.answered(ctx.join({ memberId: leader.memberId }))
    assert.equal(r.generationId, 2)
    const h = ctx.coordinator.history(GROUP).at(-1)!
    assert.equal(h.trigger, 'session-timeout')
    assert.deepEqual(new Set(h.membersBefore), new Set([leader.memberId, follower.memberId]))
    assert.deepEqual(h.membersAfter, [leader.memberId])
  })

  test('testSessionTimeoutOfTheLastMemberEmptiesTheGroup', async () => {
    const ctx = new CoordinatorContext()
    await ctx.stableGroup(1)
    const records = ctx.advance(10_000)
    assert.equal(ctx.state(), 'Empty')
    const rec = records.find((r) => r.type === 'group-metadata') as GroupMetadataRecord
    assert.equal(rec.value?.generation, 2)
    assert.equal(rec.value?.members.length, 0)
    assert.equal(rec.value?.protocolType, 'consumer')
  })

  test('testMembersAwaitingJoinOrSyncAreNotExpired', async () => {
    const ctx = new CoordinatorContext()
    const { leader, followers } = await ctx.stableGroup(2, { join: { rebalanceTimeoutMs: 100_000 } })
    // The follower rejoins and waits (its session does not run while it is parked).
    const f = ctx.join({ memberId: followers[0]!.memberId, rebalanceTimeoutMs: 100_000, protocols: [RANGE(['foo', 'bar'])] })
    for (let i = 0; i < 5; i++) {
      ctx.advance(9000)
      ctx.heartbeat({ memberId: leader.memberId, generationId: 1 })
    }
    await ctx.assertParked(f)
    assert.equal(ctx.coordinator.group(GROUP)?.members.length, 2)
  })
})
