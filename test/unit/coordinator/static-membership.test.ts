/** Static membership (KIP-345, KIP-814). */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import type { GroupMetadataRecord, JoinGroupRequest } from '../../../src/broker/coordinator/index.ts'
import { ErrorCode } from '../../../src/protocol/errors.ts'
import { CoordinatorContext, GROUP, RANGE, ROUNDROBIN } from './context.ts'

const LEADER = 'leader-instance-id'
const FOLLOWER = 'follower-instance-id'

async function staticGroup(ctx: CoordinatorContext, join: Partial<JoinGroupRequest> = {}) {
  const g = await ctx.stableGroup(2, { instanceIds: [LEADER, FOLLOWER], join })
  const leader = g.members.find((m) => m.memberId.startsWith(LEADER))!
  const follower = g.members.find((m) => m.memberId.startsWith(FOLLOWER))!
  assert.equal(g.leader.memberId, leader.memberId)
  return { leader, follower, generationId: g.generationId }
}

describe('static member replacement', () => {
  test('testStaticMemberIdIsInstanceIdPlusUuid', async () => {
    const ctx = new CoordinatorContext()
    const { leader, follower } = await staticGroup(ctx)
    assert.match(leader.memberId, /^leader-instance-id-uuid-\d+$/)
    assert.match(follower.memberId, /^follower-instance-id-uuid-\d+$/)
  })

  test('testReplaceStaticFollowerInStableStateNoRebalance', async () => {
    const ctx = new CoordinatorContext()
    const { leader, follower, generationId } = await staticGroup(ctx)
    const join = ctx.join({ groupInstanceId: FOLLOWER, memberId: '' })
    const r = await ctx.answered(join)
    assert.equal(r.errorCode, ErrorCode.NONE)
    assert.notEqual(r.memberId, follower.memberId)
    assert.equal(r.generationId, generationId)
    assert.equal(r.leader, leader.memberId)
    assert.equal(r.skipAssignment, false)
    assert.deepEqual(r.members, [])
    assert.equal(ctx.state(), 'Stable')
    assert.equal(ctx.coordinator.history(GROUP).length, 1, 'no rebalance')
    // The replacement is persisted.
    const rec = join.records[0] as GroupMetadataRecord
    assert.ok(rec.value?.members.some((m) => m.memberId === r.memberId && m.groupInstanceId === FOLLOWER))
    // The old member id is fenced; the new one takes the old assignment.
    assert.equal(
      ctx.heartbeat({ memberId: follower.memberId, groupInstanceId: FOLLOWER, generationId }).errorCode,
      ErrorCode.FENCED_INSTANCE_ID,
    )
    const s = await ctx.answered(ctx.sync({ memberId: r.memberId, groupInstanceId: FOLLOWER, generationId }))
    assert.equal(s.assignment.toString(), `assignment-${follower.memberId}`)
  })

  test('testReplaceStaticMemberInStableStateNoErrorEvenWithChangedSubscription', async () => {
    const ctx = new CoordinatorContext()
    const { generationId } = await staticGroup(ctx)
    const r = await ctx.answered(ctx.join({ groupInstanceId: FOLLOWER, protocols: [RANGE(['other-topic'])] }))
    assert.equal(r.errorCode, ErrorCode.NONE)
    assert.equal(r.generationId, generationId)
    assert.equal(ctx.state(), 'Stable')
  })

  test('testStaticLeaderReplacedInStableV9GetsSkipAssignmentAndTheMemberList', async () => {
    const ctx = new CoordinatorContext()
    const { leader, follower, generationId } = await staticGroup(ctx)
    const r = await ctx.answered(ctx.join({ groupInstanceId: LEADER }, 9))
    assert.equal(r.errorCode, ErrorCode.NONE)
    assert.equal(r.leader, r.memberId, 'the new member id leads')
    assert.notEqual(r.memberId, leader.memberId)
    assert.equal(r.skipAssignment, true)
    assert.deepEqual(new Set(r.members.map((m) => m.memberId)), new Set([r.memberId, follower.memberId]))
    assert.equal(r.generationId, generationId)
    assert.equal(ctx.state(), 'Stable')
  })

  test('testStaticLeaderReplacedInStableBelowV9IsAnsweredAsAFollowerWithTheOldLeaderId', async () => {
    const ctx = new CoordinatorContext()
    const { leader } = await staticGroup(ctx)
    const r = await ctx.answered(ctx.join({ groupInstanceId: LEADER }, 8))
    assert.equal(r.errorCode, ErrorCode.NONE)
    assert.equal(r.leader, leader.memberId)
    assert.notEqual(r.memberId, leader.memberId)
    assert.deepEqual(r.members, [])
    assert.equal(ctx.coordinator.group(GROUP)?.leaderId, r.memberId, 'internally the new member id leads')
    assert.equal(ctx.state(), 'Stable')
  })

  test('testReplaceStaticMemberInStableStateWithUpdatedProtocolTriggersRebalance', async () => {
    const ctx = new CoordinatorContext()
    await staticGroup(ctx, { protocols: [RANGE(), ROUNDROBIN()] })
    assert.equal(ctx.coordinator.group(GROUP)?.protocolName, 'range')
    // Only roundrobin is now common to both members: the selected protocol would change.
    const join = ctx.join({ groupInstanceId: FOLLOWER, protocols: [ROUNDROBIN()] })
    await ctx.assertParked(join)
    assert.equal(ctx.state(), 'PreparingRebalance')
    assert.equal(ctx.coordinator.history(GROUP).length, 1)
  })

  test('testReplaceStaticMemberInCompletingRebalanceStateTriggersRebalance', async () => {
    const ctx = new CoordinatorContext()
    const a = ctx.join({ groupInstanceId: LEADER })
    const b = ctx.join({ groupInstanceId: FOLLOWER })
    await ctx.advanceUntilAnswered([a, b])
    const old = await ctx.answered(b)
    const oldSync = ctx.sync({ memberId: old.memberId, groupInstanceId: FOLLOWER, generationId: 1 })
    await ctx.assertParked(oldSync)
    assert.equal(ctx.state(), 'CompletingRebalance')
    const replacement = ctx.join({ groupInstanceId: FOLLOWER })
    // testStaticMemberFenceDuplicateSyncingFollowerAfterMemberIdChanged: the old parked SyncGroup is fenced.
    assert.equal((await ctx.answered(oldSync)).errorCode, ErrorCode.FENCED_INSTANCE_ID)
    assert.equal(ctx.state(), 'PreparingRebalance')
    await ctx.assertParked(replacement)
    assert.equal(ctx.coordinator.history(GROUP).length, 1)
    const leaderRejoin = ctx.join({ groupInstanceId: LEADER, memberId: (await ctx.answered(a)).memberId })
    const r = await ctx.answered(replacement)
    assert.equal(r.generationId, 2)
    assert.equal((await ctx.answered(leaderRejoin)).members.length, 2)
  })

  test('testReplaceStaticMemberInPreparingRebalanceUpdatesTheMemberAndParks', async () => {
    const ctx = new CoordinatorContext()
    const { leader, follower } = await staticGroup(ctx)
    const oldJoin = ctx.join({ groupInstanceId: FOLLOWER, memberId: follower.memberId, protocols: [RANGE(['foo', 'bar'])] })
    await ctx.assertParked(oldJoin)
    assert.equal(ctx.state(), 'PreparingRebalance')
    // testStaticMemberFenceDuplicateRejoinedFollower
    const newJoin = ctx.join({ groupInstanceId: FOLLOWER, sessionTimeoutMs: 20_000 })
    const fenced = await ctx.answered(oldJoin)
    assert.equal(fenced.errorCode, ErrorCode.FENCED_INSTANCE_ID)
    assert.equal(fenced.memberId, follower.memberId)
    await ctx.assertParked(newJoin)
    const snapshot = ctx.coordinator.group(GROUP)!
    const replaced = snapshot.members.find((m) => m.groupInstanceId === FOLLOWER)!
    assert.equal(replaced.sessionTimeoutMs, 20_000, "the new request's timeouts apply")
    ctx.join({ groupInstanceId: LEADER, memberId: leader.memberId })
    const r = await ctx.answered(newJoin)
    assert.equal(r.generationId, 2)
    assert.equal(r.memberId, replaced.memberId)
  })

  test('testStaticMemberRejoinWithUnknownInstanceIdOrMismatchedMemberId', async () => {
    const ctx = new CoordinatorContext()
    const { leader, follower } = await staticGroup(ctx)
    // testStaticMemberRejoinAsFollowerWithMismatchedInstanceId
    const fenced = await ctx.answered(ctx.join({ groupInstanceId: FOLLOWER, memberId: leader.memberId }))
    assert.equal(fenced.errorCode, ErrorCode.FENCED_INSTANCE_ID)
    const unknown = await ctx.answered(ctx.join({ groupInstanceId: 'unknown-instance', memberId: follower.memberId }))
    assert.equal(unknown.errorCode, ErrorCode.UNKNOWN_MEMBER_ID)
    assert.equal(
      (await ctx.answered(ctx.sync({ memberId: leader.memberId, groupInstanceId: FOLLOWER, generationId: 1 }))).errorCode,
      ErrorCode.FENCED_INSTANCE_ID,
    )
  })

  test('testNewStaticMemberNeverGetsMemberIdRequired', async () => {
    const ctx = new CoordinatorContext()
    await ctx.stableGroup(1)
    const r = ctx.join({ groupInstanceId: 'new-instance' }, 9)
    await ctx.assertParked(r)
    assert.equal(ctx.state(), 'PreparingRebalance')
  })
})

describe('static members and timeouts', () => {
  test('testStaticMemberFollowerFailToRejoinBeforeRebalanceTimeout', async () => {
    const ctx = new CoordinatorContext()
    // Sessions longer than the rebalance timeout: the follower is not evicted when the rebalance times out.
    const { leader, follower, generationId } = await staticGroup(ctx, { rebalanceTimeoutMs: 10_000, sessionTimeoutMs: 15_000 })
    const newcomer = ctx.join({ groupInstanceId: 'new-member-instance-id', rebalanceTimeoutMs: 10_000, sessionTimeoutMs: 15_000 })
    const leaderJoin = ctx.join({
      groupInstanceId: LEADER,
      memberId: leader.memberId,
      rebalanceTimeoutMs: 10_000,
      sessionTimeoutMs: 15_000,
    })
    ctx.advance(10_000)
    const lr = await ctx.answered(leaderJoin)
    assert.equal((await ctx.answered(newcomer)).errorCode, ErrorCode.NONE)
    assert.equal(lr.generationId, generationId + 1)
    // The static follower did not rejoin but stays, with its old metadata, in the leader's member list.
    assert.equal(lr.members.length, 3)
    assert.ok(lr.members.some((m) => m.memberId === follower.memberId && m.groupInstanceId === FOLLOWER))
    assert.equal(ctx.state(), 'CompletingRebalance')
  })

  test('testGroupStuckInRebalanceTimeoutDueToNonjoinedStaticMember', async () => {
    const ctx = new CoordinatorContext()
    const { leader, follower } = await staticGroup(ctx, { rebalanceTimeoutMs: 5000, sessionTimeoutMs: 10_000 })
    const dynamic = await ctx.joinNew({ sessionTimeoutMs: 10_000, rebalanceTimeoutMs: 5000 })
    ctx.advance(5000)
    const r = await ctx.answered(dynamic)
    // Neither static member rejoined: the new dynamic member is elected leader.
    assert.equal(r.leader, r.memberId)
    assert.equal(r.members.length, 3)
    assert.equal(r.generationId, 2)
    assert.deepEqual(
      new Set(ctx.coordinator.group(GROUP)?.members.map((m) => m.memberId)),
      new Set([leader.memberId, follower.memberId, r.memberId]),
    )
  })

  test('testOnlyStaticMembersThatDidNotRejoinPostponeTheJoinPhase', async () => {
    const ctx = new CoordinatorContext()
    const { leader, follower } = await staticGroup(ctx, { rebalanceTimeoutMs: 5000, sessionTimeoutMs: 12_000 })
    // A dynamic member joins (generation 2, which the static members never sync) and then leaves.
    const dyn = await ctx.joinNew({ sessionTimeoutMs: 12_000, rebalanceTimeoutMs: 5000 })
    ctx.advance(5000)
    const dr = await ctx.answered(dyn)
    ctx.leaveMembers([{ memberId: dr.memberId }])
    assert.equal(ctx.state(), 'PreparingRebalance')
    ctx.advance(5000)
    // Nobody rejoined: static members are kept, the join phase is re-armed, not completed.
    assert.equal(ctx.state(), 'PreparingRebalance')
    assert.deepEqual(new Set(ctx.coordinator.group(GROUP)?.members.map((m) => m.memberId)), new Set([leader.memberId, follower.memberId]))
    // Their sessions eventually expire and the group empties.
    ctx.advance(12_000)
    assert.equal(ctx.state(), 'Empty')
  })

  test('testStaticMemberIsRemovedBySessionTimeout', async () => {
    const ctx = new CoordinatorContext()
    const { leader, follower } = await staticGroup(ctx)
    ctx.advance(9000)
    ctx.heartbeat({ memberId: leader.memberId, groupInstanceId: LEADER, generationId: 1 })
    ctx.advance(1000)
    assert.equal(ctx.state(), 'PreparingRebalance')
    assert.equal(
      ctx.coordinator.group(GROUP)?.members.some((m) => m.memberId === follower.memberId),
      false,
    )
    assert.equal(ctx.coordinator.history(GROUP).length, 1)
    ctx.join({ groupInstanceId: LEADER, memberId: leader.memberId })
    assert.equal(ctx.coordinator.history(GROUP).at(-1)?.trigger, 'session-timeout')
  })
})
