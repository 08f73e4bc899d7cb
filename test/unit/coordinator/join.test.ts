/** JoinGroup and the join phase (ported from Kafka's GroupMetadataManagerTest and franz-go kfake). */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { ErrorCode } from '../../../src/protocol/errors.ts'
import { CoordinatorContext, GROUP, RANGE, ROUNDROBIN, subscription } from './context.ts'

describe('initial rebalance delay (KIP-134)', () => {
  test('testDelayInitialRebalanceByGroupInitialRebalanceDelayOnEmptyGroup', async () => {
    const ctx = new CoordinatorContext()
    const join = ctx.join({}, 3)
    await ctx.assertParked(join)
    assert.equal(ctx.state(), 'PreparingRebalance')
    ctx.advance(1500)
    await ctx.assertParked(join)
    ctx.advance(1499)
    await ctx.assertParked(join)
    ctx.advance(1)
    const r = await ctx.answered(join)
    assert.equal(r.errorCode, ErrorCode.NONE)
    assert.equal(r.generationId, 1)
    assert.equal(r.leader, r.memberId)
    assert.equal(r.members.length, 1)
    assert.equal(ctx.state(), 'CompletingRebalance')
  })

  test('testResetRebalanceDelayWhenNewMemberJoinsGroupDuringInitialRebalance', async () => {
    const ctx = new CoordinatorContext()
    const first = ctx.join({ rebalanceTimeoutMs: 9000 }, 3)
    ctx.advance(2999)
    const second = ctx.join({ rebalanceTimeoutMs: 9000 }, 3)
    ctx.advance(2) // the delay expires with a new member: it is re-armed for another 3000 ms
    ctx.advance(1500 + 1)
    await ctx.assertParked(first)
    await ctx.assertParked(second)
    ctx.advance(1500)
    assert.equal((await ctx.answered(first)).errorCode, ErrorCode.NONE)
    assert.equal((await ctx.answered(second)).errorCode, ErrorCode.NONE)
  })

  test('testDelayRebalanceUptoRebalanceTimeout', async () => {
    const ctx = new CoordinatorContext()
    const first = ctx.join({ rebalanceTimeoutMs: 6000 }, 3)
    const second = ctx.join({ rebalanceTimeoutMs: 6000 }, 3)
    ctx.advance(3001)
    const third = ctx.join({ rebalanceTimeoutMs: 6000 }, 3)
    // Members keep arriving, but the delay never extends past the rebalance timeout (6000 ms).
    ctx.advance(2998)
    for (const j of [first, second, third]) await ctx.assertParked(j)
    ctx.advance(1)
    for (const j of [first, second, third]) assert.equal((await ctx.answered(j)).errorCode, ErrorCode.NONE)
    assert.equal(ctx.coordinator.group(GROUP)?.members.length, 3)
  })

  test('testInitialDelayOfZeroCompletesOnTheNextTimerTick', async () => {
    const ctx = new CoordinatorContext({ config: { initialRebalanceDelayMs: 0 } })
    const join = await ctx.joinNew()
    await ctx.assertParked(join)
    ctx.advance(0)
    assert.equal((await ctx.answered(join)).generationId, 1)
  })
})

describe('member id handshake (KIP-394)', () => {
  test('testJoinGroupV4RequiresKnownMemberIdForDynamicMembers', async () => {
    const ctx = new CoordinatorContext()
    const first = ctx.join({}, 4, 'my-client')
    const r = await ctx.answered(first)
    assert.equal(r.errorCode, ErrorCode.MEMBER_ID_REQUIRED)
    assert.equal(r.memberId, 'my-client-uuid-1')
    const g = ctx.coordinator.group(GROUP)
    assert.deepEqual(g?.pendingMembers, ['my-client-uuid-1'])
    assert.equal(g?.members.length, 0)
    assert.equal(g?.state, 'Empty')
    // The new group is committed with an empty GroupMetadata record, as Kafka does.
    assert.equal(first.records.length, 1)
    assert.equal(first.records[0]?.type, 'group-metadata')

    const second = ctx.join({ memberId: r.memberId }, 4, 'my-client')
    await ctx.assertParked(second)
    assert.deepEqual(ctx.coordinator.group(GROUP)?.pendingMembers, [])
    assert.equal(ctx.state(), 'PreparingRebalance')
    ctx.advance(3000)
    assert.equal((await ctx.answered(second)).memberId, 'my-client-uuid-1')
  })

  test('testJoinGroupBelowV4AddsDynamicMemberImmediately', async () => {
    const ctx = new CoordinatorContext()
    const join = ctx.join({}, 3)
    await ctx.assertParked(join)
    assert.equal(ctx.coordinator.group(GROUP)?.members.length, 1)
    assert.deepEqual(ctx.coordinator.group(GROUP)?.pendingMembers, [])
  })

  test('testPendingMemberIsRemovedAfterItsSessionTimeout', async () => {
    const ctx = new CoordinatorContext()
    const { leader } = await ctx.stableGroup(1)
    const pendingId = await ctx.requestMemberId({ sessionTimeoutMs: 8000 })
    // The leader rejoins: the join phase waits for the pending member too.
    const rejoin = ctx.join({ memberId: leader.memberId })
    await ctx.assertParked(rejoin)
    ctx.advance(7999)
    await ctx.assertParked(rejoin)
    ctx.advance(1)
    const r = await ctx.answered(rejoin)
    assert.equal(r.generationId, 2)
    assert.deepEqual(
      r.members.map((m) => m.memberId),
      [leader.memberId],
    )
    assert.deepEqual(ctx.coordinator.group(GROUP)?.pendingMembers, [])
    // The pending id is now unknown.
    const late = await ctx.answered(ctx.join({ memberId: pendingId }))
    assert.equal(late.errorCode, ErrorCode.UNKNOWN_MEMBER_ID)
  })

  test('testNewMemberJoinTimeoutRemovesParkedNewMember', async () => {
    const ctx = new CoordinatorContext()
    // A slow leader (long session and rebalance timeouts) that will not rejoin.
    const { leader } = await ctx.stableGroup(1, { join: { sessionTimeoutMs: 400_000, rebalanceTimeoutMs: 600_000 } })
    const newcomer = await ctx.joinNew()
    assert.equal(ctx.state(), 'PreparingRebalance')
    ctx.advance(299_999)
    await ctx.assertParked(newcomer)
    ctx.advance(1)
    const r = await ctx.answered(newcomer)
    assert.equal(r.errorCode, ErrorCode.UNKNOWN_MEMBER_ID)
    assert.equal(r.memberId, '')
    assert.equal(ctx.state(), 'PreparingRebalance')
    // Then the leader's session expires and the group completes the join with nobody: Empty.
    ctx.advance(100_000)
    assert.equal(ctx.state(), 'Empty')
    assert.equal(ctx.coordinator.group(GROUP)?.generationId, 2)
    assert.equal(
      ctx.coordinator.group(GROUP)?.members.find((m) => m.memberId === leader.memberId),
      undefined,
    )
  })
})

describe('join validation', () => {
  test('testJoinGroupShouldReceiveErrorIfGroupIdIsInvalid', async () => {
    const ctx = new CoordinatorContext()
    assert.equal((await ctx.answered(ctx.join({ groupId: '' }))).errorCode, ErrorCode.INVALID_GROUP_ID)
  })

  test('testJoinGroupSessionTimeoutTooSmallOrTooLarge', async () => {
    const ctx = new CoordinatorContext()
    assert.equal((await ctx.answered(ctx.join({ sessionTimeoutMs: 5999 }))).errorCode, ErrorCode.INVALID_SESSION_TIMEOUT)
    assert.equal((await ctx.answered(ctx.join({ sessionTimeoutMs: 1_800_001 }))).errorCode, ErrorCode.INVALID_SESSION_TIMEOUT)
    assert.equal(ctx.coordinator.group(GROUP), undefined)
  })

  test('testJoinGroupUnknownMemberIdOnMissingGroup', async () => {
    const ctx = new CoordinatorContext()
    const r = await ctx.answered(ctx.join({ memberId: 'ghost' }))
    assert.equal(r.errorCode, ErrorCode.UNKNOWN_MEMBER_ID)
    assert.equal(r.memberId, 'ghost')
    assert.equal(ctx.coordinator.group(GROUP), undefined)
  })

  test('testJoinGroupUnknownMemberIdOnExistingGroup', async () => {
    const ctx = new CoordinatorContext()
    await ctx.stableGroup(1)
    assert.equal((await ctx.answered(ctx.join({ memberId: 'ghost' }))).errorCode, ErrorCode.UNKNOWN_MEMBER_ID)
  })

  test('testJoinGroupInconsistentProtocolType', async () => {
    const ctx = new CoordinatorContext()
    await ctx.stableGroup(1)
    const r = await ctx.answered(ctx.join({ protocolType: 'connect' }))
    assert.equal(r.errorCode, ErrorCode.INCONSISTENT_GROUP_PROTOCOL)
    assert.equal(r.memberId, '')
  })

  test('testJoinGroupWithNoCommonProtocol', async () => {
    const ctx = new CoordinatorContext()
    await ctx.stableGroup(1)
    const r = await ctx.answered(ctx.join({ protocols: [ROUNDROBIN()] }))
    assert.equal(r.errorCode, ErrorCode.INCONSISTENT_GROUP_PROTOCOL)
  })

  test('testJoinGroupWithEmptyProtocolTypeOrNoProtocolsOnEmptyGroup', async () => {
    const ctx = new CoordinatorContext()
    assert.equal((await ctx.answered(ctx.join({ protocolType: '' }))).errorCode, ErrorCode.INCONSISTENT_GROUP_PROTOCOL)
    assert.equal((await ctx.answered(ctx.join({ protocols: [] }))).errorCode, ErrorCode.INCONSISTENT_GROUP_PROTOCOL)
  })

  test('testJoinGroupMaxGroupSizeReached', async () => {
    const ctx = new CoordinatorContext({ config: { maxGroupSize: 2 } })
    const a = ctx.join({}, 3)
    const b = ctx.join({}, 3)
    const c = await ctx.answered(ctx.join({}, 3))
    assert.equal(c.errorCode, ErrorCode.GROUP_MAX_SIZE_REACHED)
    assert.equal(c.memberId, '')
    ctx.advance(6000) // the second member re-armed the initial delay once
    assert.equal((await ctx.answered(a)).members.length + (await ctx.answered(b)).members.length, 2)
    // Stable/Completing: a new member is refused too, existing members are not.
    const d = await ctx.answered(ctx.join({}, 3))
    assert.equal(d.errorCode, ErrorCode.GROUP_MAX_SIZE_REACHED)
    assert.equal(ctx.coordinator.group(GROUP)?.members.length, 2)
  })

  test('testJoinResponsesBelowV7CarryAnEmptyProtocolNameOnError', async () => {
    const ctx = new CoordinatorContext()
    assert.equal((await ctx.answered(ctx.join({ groupId: '' }, 6))).protocolName, '')
    assert.equal((await ctx.answered(ctx.join({ groupId: '' }, 7))).protocolName, null)
  })

  test('testJoinGroupV0UsesTheSessionTimeoutAsRebalanceTimeout', async () => {
    const ctx = new CoordinatorContext()
    const join = ctx.join({ sessionTimeoutMs: 7000, rebalanceTimeoutMs: -1 }, 0)
    await ctx.assertParked(join)
    assert.equal(ctx.coordinator.group(GROUP)?.members[0]?.rebalanceTimeoutMs, 7000)
  })
})

describe('rejoining', () => {
  test('testJoinGroupFromUnchangedFollowerDoesNotRebalance', async () => {
    const ctx = new CoordinatorContext()
    const { followers, leader, generationId } = await ctx.stableGroup(2)
    const follower = followers[0]!
    const r = await ctx.answered(ctx.join({ memberId: follower.memberId }))
    assert.equal(r.errorCode, ErrorCode.NONE)
    assert.equal(r.generationId, generationId)
    assert.equal(r.leader, leader.memberId)
    assert.deepEqual(r.members, [])
    assert.equal(ctx.state(), 'Stable')
  })

  test('testJoinGroupFromUnchangedLeaderShouldRebalance', async () => {
    const ctx = new CoordinatorContext()
    const { leader, followers, generationId } = await ctx.stableGroup(2)
    const leaderJoin = ctx.join({ memberId: leader.memberId })
    await ctx.assertParked(leaderJoin)
    assert.equal(ctx.state(), 'PreparingRebalance')
    const followerJoin = ctx.join({ memberId: followers[0]!.memberId })
    const lr = await ctx.answered(leaderJoin)
    const fr = await ctx.answered(followerJoin)
    assert.equal(lr.generationId, generationId + 1)
    assert.equal(fr.generationId, generationId + 1)
    assert.equal(lr.members.length, 2)
    assert.equal(fr.members.length, 0)
    assert.equal(ctx.coordinator.history(GROUP).at(-1)?.trigger, 'metadata-change')
  })

  test('testJoinGroupFromFollowerWithChangedMetadataRebalances', async () => {
    const ctx = new CoordinatorContext()
    const { leader, followers } = await ctx.stableGroup(2)
    const f = ctx.join({ memberId: followers[0]!.memberId, protocols: [RANGE(['foo', 'bar'])] })
    await ctx.assertParked(f)
    assert.equal(ctx.state(), 'PreparingRebalance')
    ctx.join({ memberId: leader.memberId })
    assert.equal((await ctx.answered(f)).generationId, 2)
    assert.equal(ctx.coordinator.history(GROUP).at(-1)?.trigger, 'subscription-change')
    assert.deepEqual(ctx.coordinator.group(GROUP)?.subscribedTopics, ['bar', 'foo'])
  })

  test('testGenerationIdIncrementsOnRebalance', async () => {
    const ctx = new CoordinatorContext()
    const { leader } = await ctx.stableGroup(1)
    for (const expected of [2, 3, 4]) {
      const r = await ctx.answered(ctx.join({ memberId: leader.memberId }))
      assert.equal(r.generationId, expected)
      await ctx.answered(ctx.sync({ memberId: leader.memberId, generationId: expected }))
    }
  })

  test('testRejoinInCompletingRebalanceWithSameMetadataGetsTheCurrentGeneration', async () => {
    const ctx = new CoordinatorContext()
    const a = await ctx.joinNew()
    const b = await ctx.joinNew()
    ctx.advance(6000)
    const ra = await ctx.answered(a)
    const rb = await ctx.answered(b)
    assert.equal(ctx.state(), 'CompletingRebalance')
    const leaderId = ra.leader
    const again = await ctx.answered(ctx.join({ memberId: leaderId }))
    assert.equal(again.generationId, 1)
    assert.equal(again.members.length, 2, 'the leader gets the member list again')
    const follower = leaderId === ra.memberId ? rb : ra
    const f = await ctx.answered(ctx.join({ memberId: follower.memberId }))
    assert.deepEqual(f.members, [])
    assert.equal(ctx.state(), 'CompletingRebalance')
  })

  test('testDynamicMemberThatDoesNotRejoinIsRemovedAndANewLeaderElected', async () => {
    const ctx = new CoordinatorContext()
    const { leader, followers } = await ctx.stableGroup(2, { join: { rebalanceTimeoutMs: 20_000 } })
    const follower = followers[0]!
    const f = ctx.join({ memberId: follower.memberId, protocols: [RANGE(['foo', 'baz'])], rebalanceTimeoutMs: 20_000 })
    // keep the old leader's session alive so only the rebalance timeout removes it
    ctx.advance(9000)
    ctx.heartbeat({ memberId: leader.memberId, generationId: 1 })
    ctx.advance(9000)
    ctx.heartbeat({ memberId: leader.memberId, generationId: 1 })
    await ctx.assertParked(f)
    ctx.advance(2000)
    const r = await ctx.answered(f)
    assert.equal(r.generationId, 2)
    assert.equal(r.leader, follower.memberId)
    assert.deepEqual(
      r.members.map((m) => m.memberId),
      [follower.memberId],
    )
    assert.equal(ctx.heartbeat({ memberId: leader.memberId, generationId: 1 }).errorCode, ErrorCode.UNKNOWN_MEMBER_ID)
  })
})

describe('protocol selection', () => {
  test('testClassicProtocolVotingMajorityWins', async () => {
    const ctx = new CoordinatorContext()
    const a = ctx.join({ protocols: [RANGE(), ROUNDROBIN()] }, 3)
    ctx.join({ protocols: [ROUNDROBIN(), RANGE()] }, 3)
    ctx.join({ protocols: [ROUNDROBIN(), RANGE(), { name: 'sticky', metadata: subscription(['foo']) }] }, 3)
    ctx.advance(6000)
    assert.equal((await ctx.answered(a)).protocolName, 'roundrobin')
  })

  test('testClassicProtocolVotingTieGoesToTheLeadersPreference', async () => {
    const ctx = new CoordinatorContext()
    const a = ctx.join({ protocols: [RANGE(), ROUNDROBIN()] }, 3)
    ctx.join({ protocols: [ROUNDROBIN(), RANGE()] }, 3)
    ctx.advance(6000)
    const r = await ctx.answered(a)
    assert.equal(r.leader, r.memberId)
    assert.equal(r.protocolName, 'range')
  })

  test('testOnlyProtocolsEveryMemberSupportsAreCandidates', async () => {
    const ctx = new CoordinatorContext()
    const a = ctx.join({ protocols: [RANGE(), ROUNDROBIN()] }, 3)
    ctx.join({ protocols: [ROUNDROBIN()] }, 3)
    ctx.advance(6000)
    const r = await ctx.answered(a)
    assert.equal(r.protocolName, 'roundrobin')
    // The leader receives each member's metadata for the selected protocol.
    for (const m of r.members) assert.deepEqual(m.metadata, subscription(['foo']))
  })
})
