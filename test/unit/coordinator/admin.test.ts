/** DescribeGroups, ListGroups, DeleteGroups. */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { encodeAssignment } from '../../../src/broker/coordinator/index.ts'
import { ErrorCode } from '../../../src/protocol/errors.ts'
import { CLIENT_HOST, CLIENT_ID, CoordinatorContext, GROUP, RANGE, subscription } from './context.ts'

describe('DescribeGroups', () => {
  test('testDescribeStableGroupReturnsMetadataAndAssignmentsAsSent', async () => {
    const ctx = new CoordinatorContext()
    const assignment = (id: string) => encodeAssignment({ assignedPartitions: [{ topic: 'foo', partitions: [id.endsWith('1') ? 0 : 1] }] })
    const { members, leader } = await ctx.stableGroup(2, { assignment })
    const r = ctx.coordinator.describeGroups({ groups: [GROUP], includeAuthorizedOperations: false }, ctx.ctx(5)).response
    const g = r.groups[0]!
    assert.equal(g.errorCode, ErrorCode.NONE)
    assert.equal(g.groupState, 'Stable')
    assert.equal(g.protocolType, 'consumer')
    assert.equal(g.protocolData, 'range')
    assert.equal(g.authorizedOperations, -2147483648)
    assert.deepEqual(
      g.members.map((m) => m.memberId),
      members.map((m) => m.memberId),
    )
    for (const m of g.members) {
      assert.equal(m.clientId, CLIENT_ID)
      assert.equal(m.clientHost, CLIENT_HOST)
      assert.deepEqual(m.memberMetadata, subscription(['foo']))
      assert.deepEqual(m.memberAssignment, assignment(m.memberId))
    }
    assert.equal(g.members[0]?.memberId, leader.memberId)
  })

  test('testDescribeRebalancingGroupHasNoProtocolDataOrMetadata', async () => {
    const ctx = new CoordinatorContext()
    const { leader } = await ctx.stableGroup(1)
    ctx.join({ memberId: leader.memberId, protocols: [RANGE(['foo', 'bar'])] })
    const g = ctx.coordinator.describeGroups({ groups: [GROUP], includeAuthorizedOperations: true }, ctx.ctx(5)).response.groups[0]!
    assert.equal(g.groupState, 'CompletingRebalance')
    assert.equal(g.protocolData, '')
    assert.equal(g.members[0]?.memberMetadata.length, 0)
    assert.equal(g.authorizedOperations, (1 << 3) | (1 << 6) | (1 << 8))
  })

  test('testDescribeUnknownGroupIsDeadWithoutError', () => {
    const ctx = new CoordinatorContext()
    const g = ctx.coordinator.describeGroups({ groups: ['nope'], includeAuthorizedOperations: false }, ctx.ctx(0)).response.groups[0]!
    assert.deepEqual(
      { ...g, authorizedOperations: undefined },
      {
        errorCode: ErrorCode.NONE,
        groupId: 'nope',
        groupState: 'Dead',
        protocolType: '',
        protocolData: '',
        members: [],
        authorizedOperations: undefined,
      },
    )
  })
})

describe('ListGroups', () => {
  test('testListGroupsWithAndWithoutStatesFilter', async () => {
    const ctx = new CoordinatorContext()
    await ctx.stableGroup(1, { groupId: 'stable' })
    ctx.commit({ groupId: 'simple', offsets: [{ topic: 'foo', partition: 0, offset: 1 }] })
    await ctx.joinNew({ groupId: 'preparing' })
    const list = (statesFilter: string[], version = 4) =>
      ctx.coordinator
        .listGroups({ statesFilter, typesFilter: [] }, ctx.ctx(version))
        .response.groups.map((g) => [g.groupId, g.groupState, g.protocolType])
        .sort()
    assert.deepEqual(list([]), [
      ['preparing', 'PreparingRebalance', 'consumer'],
      ['simple', 'Empty', ''],
      ['stable', 'Stable', 'consumer'],
    ])
    assert.deepEqual(list(['stable', ' EMPTY ']), [
      ['simple', 'Empty', ''],
      ['stable', 'Stable', 'consumer'],
    ])
    // Before v4 there is no filter.
    assert.equal(list(['stable'], 3).length, 3)
  })

  test('testListGroupsTypesFilter', async () => {
    const ctx = new CoordinatorContext()
    await ctx.stableGroup(1)
    const list = (typesFilter: string[]) => ctx.coordinator.listGroups({ statesFilter: [], typesFilter }, ctx.ctx(5)).response.groups
    assert.equal(list(['Classic']).length, 1)
    assert.equal(list(['consumer']).length, 0)
    assert.equal(list([])[0]?.groupType, 'classic')
  })
})

describe('DeleteGroups', () => {
  test('testDeleteGroupsErrors', async () => {
    const ctx = new CoordinatorContext()
    await ctx.stableGroup(1)
    const r = ctx.coordinator.deleteGroups({ groupsNames: [GROUP, 'nope'] }, ctx.ctx(2))
    assert.deepEqual(r.response.results, [
      { groupId: GROUP, errorCode: ErrorCode.NON_EMPTY_GROUP },
      { groupId: 'nope', errorCode: ErrorCode.GROUP_ID_NOT_FOUND },
    ])
    assert.deepEqual(r.records, [])
  })

  test('testDeleteEmptyGroupWritesOffsetAndGroupTombstones', async () => {
    const ctx = new CoordinatorContext()
    const { leader } = await ctx.stableGroup(1)
    ctx.commit({
      generationIdOrMemberEpoch: 1,
      memberId: leader.memberId,
      offsets: [
        { topic: 'foo', partition: 0, offset: 1 },
        { topic: 'bar', partition: 2, offset: 1 },
      ],
    })
    ctx.leaveMembers([{ memberId: leader.memberId }])
    const r = ctx.coordinator.deleteGroups({ groupsNames: [GROUP, GROUP] }, ctx.ctx(2))
    assert.deepEqual(
      r.response.results.map((x) => x.errorCode),
      [ErrorCode.NONE, ErrorCode.GROUP_ID_NOT_FOUND],
    )
    assert.deepEqual(
      r.records.map((x) =>
        x.type === 'offset-commit'
          ? `${x.topic}-${x.partition}:${x.value}`
          : x.type === 'rebalance-history'
            ? `history-${x.generation}:${x.value}`
            : `${x.type}:${x.type === 'unknown' ? '' : x.value}`,
      ),
      // The group's two rebalances (joined, then emptied) lose their history records in the same batch.
      ['foo-0:null', 'bar-2:null', 'group-metadata:null', 'history-1:null', 'history-2:null'],
    )
    ctx.append(r.records)
    assert.equal(ctx.coordinator.group(GROUP), undefined)
    assert.deepEqual(ctx.fetchOffsets(GROUP, null).topics, [])
    // The id can be reused right away.
    const j = await ctx.joinNew()
    ctx.advance(3000)
    assert.equal((await ctx.answered(j)).generationId, 1)
  })
})
