/** LeaveGroup v0–2 (one member) and v3+ (batch by member id or group instance id). */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import type { GroupMetadataRecord } from '../../../src/broker/coordinator/index.ts'
import { ErrorCode } from '../../../src/protocol/errors.ts'
import { CoordinatorContext, GROUP } from './context.ts'

describe('LeaveGroup', () => {
  test('testLeaveGroupV0UnknownGroupAndUnknownMember', async () => {
    const ctx = new CoordinatorContext()
    assert.equal(ctx.leave({ memberId: 'm' }, 0).errorCode, ErrorCode.UNKNOWN_MEMBER_ID)
    await ctx.stableGroup(1)
    assert.equal(ctx.leave({ memberId: 'ghost' }, 2).errorCode, ErrorCode.UNKNOWN_MEMBER_ID)
    assert.equal(ctx.state(), 'Stable')
  })

  test('testLeaveGroupV3UnknownGroupAnswersEveryMemberUnknown', () => {
    const ctx = new CoordinatorContext()
    const r = ctx.leaveMembers([{ memberId: 'a' }, { memberId: '', groupInstanceId: 'i' }])
    assert.equal(r.errorCode, ErrorCode.NONE)
    assert.deepEqual(
      r.members.map((m) => m.errorCode),
      [ErrorCode.UNKNOWN_MEMBER_ID, ErrorCode.UNKNOWN_MEMBER_ID],
    )
  })

  test('testLeaveGroupTriggersRebalance', async () => {
    const ctx = new CoordinatorContext()
    const { leader, followers } = await ctx.stableGroup(2)
    assert.equal(ctx.leave({ memberId: followers[0]!.memberId }, 1).errorCode, ErrorCode.NONE)
    assert.equal(ctx.state(), 'PreparingRebalance')
    const r = await ctx.answered(ctx.join({ memberId: leader.memberId }))
    assert.equal(r.generationId, 2)
    assert.equal(r.members.length, 1)
    assert.equal(ctx.coordinator.history(GROUP).at(-1)?.trigger, 'leave')
  })

  test('testLeaderLeavingHandsLeadershipToTheNextMember', async () => {
    const ctx = new CoordinatorContext()
    const { leader, followers } = await ctx.stableGroup(3)
    ctx.leaveMembers([{ memberId: leader.memberId }])
    assert.equal(ctx.coordinator.group(GROUP)?.leaderId, followers[0]!.memberId)
  })

  test('testLastMemberLeavingEmptiesTheGroupAndPersistsIt', async () => {
    const ctx = new CoordinatorContext()
    const { leader } = await ctx.stableGroup(1)
    const before = ctx.records.length
    ctx.leaveMembers([{ memberId: leader.memberId }])
    assert.equal(ctx.state(), 'Empty')
    const rec = ctx.records.slice(before).find((r) => r.type === 'group-metadata') as GroupMetadataRecord
    assert.equal(rec.value?.generation, 2)
    assert.deepEqual(rec.value?.members, [])
    assert.equal(ctx.coordinator.history(GROUP).at(-1)?.membersAfter.length, 0)
  })

  test('testLeaveDuringRebalanceCompletesTheJoinPhase', async () => {
    const ctx = new CoordinatorContext()
    const { leader, followers } = await ctx.stableGroup(2)
    const lj = ctx.join({ memberId: leader.memberId })
    await ctx.assertParked(lj)
    ctx.leaveMembers([{ memberId: followers[0]!.memberId }])
    assert.equal((await ctx.answered(lj)).generationId, 2)
  })

  test('testParkedJoinOfALeavingMemberIsAnsweredUnknownMember', async () => {
    const ctx = new CoordinatorContext()
    const { leader, followers } = await ctx.stableGroup(2)
    const lj = ctx.join({ memberId: leader.memberId })
    // The leader leaves (v3 batch) while its JoinGroup is parked.
    ctx.leaveMembers([{ memberId: leader.memberId }])
    const r = await ctx.answered(lj)
    assert.equal(r.errorCode, ErrorCode.UNKNOWN_MEMBER_ID)
    assert.equal(ctx.coordinator.group(GROUP)?.leaderId, followers[0]!.memberId)
  })

  test('testStaticMembersValidBatchLeaveGroup', async () => {
    const ctx = new CoordinatorContext()
    const { members } = await ctx.stableGroup(2, { instanceIds: ['leader-instance-id', 'follower-instance-id'] })
    const r = ctx.leaveMembers(members.map((m) => ({ memberId: m.memberId, groupInstanceId: m.memberId.replace(/-uuid-\d+$/, '') })))
    assert.deepEqual(
      r.members.map((m) => m.errorCode),
      [ErrorCode.NONE, ErrorCode.NONE],
    )
    assert.equal(ctx.state(), 'Empty')
  })

  test('testStaticMembersFencedInstanceBatchLeaveGroup', async () => {
    const ctx = new CoordinatorContext()
    const { members } = await ctx.stableGroup(2, { instanceIds: ['leader-instance-id', 'follower-instance-id'] })
    const [a, b] = members
    const r = ctx.leaveMembers([
      { memberId: a!.memberId, groupInstanceId: 'leader-instance-id' },
      { memberId: 'some-other-member-id', groupInstanceId: 'follower-instance-id' },
    ])
    assert.equal(r.errorCode, ErrorCode.NONE)
    assert.deepEqual(
      r.members.map((m) => [m.memberId, m.groupInstanceId, m.errorCode]),
      [
        [a!.memberId, 'leader-instance-id', ErrorCode.NONE],
        ['some-other-member-id', 'follower-instance-id', ErrorCode.FENCED_INSTANCE_ID],
      ],
    )
    assert.equal(ctx.state(), 'PreparingRebalance')
    assert.deepEqual(
      ctx.coordinator.group(GROUP)?.members.map((m) => m.memberId),
      [b!.memberId],
    )
  })

  test('testLeaveGroupWithFencedInstanceIdV2', async () => {
    const ctx = new CoordinatorContext()
    await ctx.stableGroup(1, { instanceIds: ['instance'] })
    // v0–2 have no instance id: a wrong member id is simply unknown.
    assert.equal(ctx.leave({ memberId: 'instance-uuid-999' }, 2).errorCode, ErrorCode.UNKNOWN_MEMBER_ID)
  })

  test('testAdminRemovesStaticMemberByInstanceIdWithEmptyMemberId', async () => {
    const ctx = new CoordinatorContext()
    await ctx.stableGroup(2, { instanceIds: ['i1', 'i2'] })
    const r = ctx.leaveMembers([
      { memberId: '', groupInstanceId: 'i2' },
      { memberId: '', groupInstanceId: 'unknown-instance' },
    ])
    assert.deepEqual(
      r.members.map((m) => m.errorCode),
      [ErrorCode.NONE, ErrorCode.UNKNOWN_MEMBER_ID],
    )
    assert.equal(ctx.coordinator.group(GROUP)?.members.length, 1)
    assert.equal(ctx.state(), 'PreparingRebalance')
  })

  test('testPendingMembersLeaveGroup', async () => {
    const ctx = new CoordinatorContext()
    await ctx.stableGroup(1)
    const pending = await ctx.requestMemberId()
    const r = ctx.leaveMembers([{ memberId: pending }])
    assert.equal(r.members[0]?.errorCode, ErrorCode.NONE)
    assert.deepEqual(ctx.coordinator.group(GROUP)?.pendingMembers, [])
  })

  test('testLeaveGroupOnDeadGroup', () => {
    const ctx = new CoordinatorContext()
    ctx.commit({ offsets: [{ topic: 'foo', partition: 0, offset: 1 }] })
    ctx.coordinator.deleteGroups({ groupsNames: [GROUP] }, ctx.ctx(2)) // not yet replayed: Dead
    const r = ctx.leaveMembers([{ memberId: 'm' }])
    assert.equal(r.errorCode, ErrorCode.COORDINATOR_NOT_AVAILABLE)
    assert.deepEqual(r.members, [])
  })
})
