/** OffsetCommit, OffsetFetch, OffsetDelete and offset retention (Kafka OffsetMetadataManagerTest, kfake). */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import type { OffsetCommitRecord } from '../../../src/broker/coordinator/index.ts'
import { ErrorCode } from '../../../src/protocol/errors.ts'
import { CoordinatorContext, GROUP, RANGE, syncRequest } from './context.ts'

const DAY = 24 * 60 * 60 * 1000
const foo0 = { topic: 'foo', partition: 0, offset: 100 }

function errors(r: { response: { topics: { partitions: { errorCode: number }[] }[] } }): number[] {
  return r.response.topics.flatMap((t) => t.partitions.map((p) => p.errorCode))
}

describe('OffsetCommit validation', () => {
  test('testGenerationMinusOneCommitToMissingGroupCreatesASimpleGroup', () => {
    const ctx = new CoordinatorContext()
    const r = ctx.commit({ offsets: [foo0] })
    assert.deepEqual(errors(r), [ErrorCode.NONE])
    const g = ctx.coordinator.group(GROUP)
    assert.equal(g?.state, 'Empty')
    assert.equal(g?.protocolType, null)
    assert.equal(ctx.committed(GROUP, 'foo', 0), 100n)
  })

  test('testCommitWithGenerationToMissingGroupIsIllegalGenerationBeforeV9', () => {
    const ctx = new CoordinatorContext()
    assert.deepEqual(errors(ctx.commit({ generationIdOrMemberEpoch: 1, memberId: 'm', offsets: [foo0] }, 8)), [
      ErrorCode.ILLEGAL_GENERATION,
    ])
    assert.deepEqual(errors(ctx.commit({ generationIdOrMemberEpoch: 1, memberId: 'm', offsets: [foo0] }, 9)), [
      ErrorCode.GROUP_ID_NOT_FOUND,
    ])
    assert.equal(ctx.coordinator.group(GROUP), undefined)
  })

  test('testAdminCommitToEmptyConsumerGroupIsAccepted', async () => {
    const ctx = new CoordinatorContext()
    const { leader } = await ctx.stableGroup(1)
    ctx.leaveMembers([{ memberId: leader.memberId }])
    assert.equal(ctx.state(), 'Empty')
    // kafka-consumer-groups --reset-offsets --execute
    assert.deepEqual(errors(ctx.commit({ offsets: [{ ...foo0, offset: 5 }] })), [ErrorCode.NONE])
    assert.equal(ctx.committed(GROUP, 'foo', 0), 5n)
  })

  test('testAdminCommitToActiveGroupIsRefused', async () => {
    const ctx = new CoordinatorContext()
    await ctx.stableGroup(1)
    assert.deepEqual(errors(ctx.commit({ offsets: [foo0] })), [ErrorCode.UNKNOWN_MEMBER_ID])
    assert.deepEqual(errors(ctx.commit({ offsets: [foo0] }, 0)), [ErrorCode.UNKNOWN_MEMBER_ID])
  })

  test('testCommitInStableFromTheCurrentGeneration', async () => {
    const ctx = new CoordinatorContext()
    const { leader } = await ctx.stableGroup(1)
    const ok = ctx.commit({
      generationIdOrMemberEpoch: 1,
      memberId: leader.memberId,
      offsets: [foo0, { topic: 'foo', partition: 1, offset: 7 }],
    })
    assert.deepEqual(errors(ok), [ErrorCode.NONE, ErrorCode.NONE])
    assert.deepEqual(errors(ctx.commit({ generationIdOrMemberEpoch: 0, memberId: leader.memberId, offsets: [foo0] })), [
      ErrorCode.ILLEGAL_GENERATION,
    ])
    assert.deepEqual(errors(ctx.commit({ generationIdOrMemberEpoch: 1, memberId: 'ghost', offsets: [foo0] })), [
      ErrorCode.UNKNOWN_MEMBER_ID,
    ])
  })

  test('testCommitFromFencedStaticMember', async () => {
    const ctx = new CoordinatorContext()
    const { leader } = await ctx.stableGroup(1, { instanceIds: ['i'] })
    const r = ctx.commit({ generationIdOrMemberEpoch: 1, memberId: 'i-uuid-999', groupInstanceId: 'i', offsets: [foo0] })
    assert.deepEqual(errors(r), [ErrorCode.FENCED_INSTANCE_ID])
    assert.deepEqual(
      errors(ctx.commit({ generationIdOrMemberEpoch: 1, memberId: leader.memberId, groupInstanceId: 'i', offsets: [foo0] })),
      [ErrorCode.NONE],
    )
  })

  test('testCommitFromTheCurrentGenerationIsAcceptedInPreparingRebalance', async () => {
    const ctx = new CoordinatorContext()
    const { leader, followers } = await ctx.stableGroup(2)
    ctx.join({ memberId: leader.memberId })
    assert.equal(ctx.state(), 'PreparingRebalance')
    // commit-on-revoke: the follower commits before rejoining
    const r = ctx.commit({ generationIdOrMemberEpoch: 1, memberId: followers[0]!.memberId, offsets: [foo0] })
    assert.deepEqual(errors(r), [ErrorCode.NONE])
  })

  test('testCommitInCompletingRebalanceIsRejectedWithRebalanceInProgress', async () => {
    const ctx = new CoordinatorContext()
    const j = await ctx.joinNew()
    ctx.advance(3000)
    const r = await ctx.answered(j)
    assert.equal(ctx.state(), 'CompletingRebalance')
    assert.deepEqual(errors(ctx.commit({ generationIdOrMemberEpoch: 1, memberId: r.memberId, offsets: [foo0] })), [
      ErrorCode.REBALANCE_IN_PROGRESS,
    ])
    // Kafka checks the member and generation first (ClassicGroup.validateOffsetCommit).
    assert.deepEqual(errors(ctx.commit({ generationIdOrMemberEpoch: 1, memberId: 'ghost', offsets: [foo0] })), [
      ErrorCode.UNKNOWN_MEMBER_ID,
    ])
    assert.deepEqual(errors(ctx.commit({ generationIdOrMemberEpoch: 0, memberId: r.memberId, offsets: [foo0] })), [
      ErrorCode.ILLEGAL_GENERATION,
    ])
  })

  test('testCommitToDeadGroupIsCoordinatorNotAvailable', () => {
    const ctx = new CoordinatorContext()
    ctx.commit({ offsets: [foo0] })
    ctx.coordinator.deleteGroups({ groupsNames: [GROUP] }, ctx.ctx(2))
    assert.deepEqual(errors(ctx.commit({ offsets: [foo0] })), [ErrorCode.COORDINATOR_NOT_AVAILABLE])
  })

  test('testOffsetMetadataTooLargeIsPerPartition', () => {
    const ctx = new CoordinatorContext({ config: { offsetMetadataMaxBytes: 10 } })
    const r = ctx.commit({
      offsets: [
        { topic: 'foo', partition: 0, offset: 1, metadata: 'x'.repeat(10) },
        { topic: 'foo', partition: 1, offset: 1, metadata: 'x'.repeat(11) },
      ],
    })
    assert.deepEqual(errors(r), [ErrorCode.NONE, ErrorCode.OFFSET_METADATA_TOO_LARGE])
    assert.equal(r.records.length, 1)
    assert.equal(ctx.committed(GROUP, 'foo', 1), -1n)
  })

  test('testUnknownTopicOrPartitionIsPerPartition', () => {
    const ctx = new CoordinatorContext({ topicExists: (t, p) => t === 'foo' && p < 2 })
    const r = ctx.commit({ offsets: [foo0, { topic: 'foo', partition: 5, offset: 1 }, { topic: 'nope', partition: 0, offset: 1 }] })
    assert.deepEqual(errors(r), [ErrorCode.NONE, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION])
    // Nothing known to commit: the group is not even looked at (and not created).
    const other = ctx.commit({
      groupId: 'other',
      generationIdOrMemberEpoch: 3,
      memberId: 'x',
      offsets: [{ topic: 'nope', partition: 0, offset: 1 }],
    })
    assert.deepEqual(errors(other), [ErrorCode.UNKNOWN_TOPIC_OR_PARTITION])
    assert.equal(ctx.coordinator.group('other'), undefined)
  })

  test('testGroupLevelErrorIsCopiedToEveryKnownPartition', async () => {
    const ctx = new CoordinatorContext({ topicExists: (t) => t === 'foo' })
    await ctx.stableGroup(1)
    const r = ctx.commit({ offsets: [foo0, { topic: 'bar', partition: 0, offset: 1 }, { topic: 'foo', partition: 1, offset: 1 }] })
    assert.deepEqual(errors(r), [ErrorCode.UNKNOWN_MEMBER_ID, ErrorCode.UNKNOWN_MEMBER_ID, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION])
  })
})

describe('OffsetCommit record contents', () => {
  test('testCommittedMetadataAndLeaderEpochRoundTrip', () => {
    const ctx = new CoordinatorContext()
    const metadata = 'état 🚀 {"k":1}'
    ctx.commit({ offsets: [{ topic: 'foo', partition: 0, offset: 42, metadata, leaderEpoch: 7 }] })
    const g = ctx.fetchOffsets(GROUP, [{ name: 'foo', partitionIndexes: [0] }])
    assert.deepEqual(g.topics[0]?.partitions[0], {
      partitionIndex: 0,
      committedOffset: 42n,
      committedLeaderEpoch: 7,
      metadata,
      errorCode: ErrorCode.NONE,
    })
    // A null metadata is stored as "".
    ctx.commit({ offsets: [{ topic: 'foo', partition: 1, offset: 1, metadata: null }] })
    assert.equal(ctx.fetchOffsets(GROUP, [{ name: 'foo', partitionIndexes: [1] }]).topics[0]?.partitions[0]?.metadata, '')
  })

  test('testLeaderEpochIsIgnoredBeforeV6AndCommitTimestampIsNow', () => {
    const ctx = new CoordinatorContext()
    const r = ctx.commit({ offsets: [{ ...foo0, leaderEpoch: 9 }] }, 5)
    const rec = r.records[0] as OffsetCommitRecord
    assert.equal(rec.value?.leaderEpoch, -1)
    assert.equal(rec.value?.commitTimestamp, ctx.clock.now())
    assert.equal(rec.value?.expireTimestamp, -1)
  })

  test('testV1CommitTimestampAndV2RetentionSetTheExpireTimestamp', () => {
    const ctx = new CoordinatorContext()
    const v1 = ctx.coordinator.offsetCommit(
      {
        groupId: GROUP,
        generationIdOrMemberEpoch: -1,
        memberId: '',
        groupInstanceId: null,
        retentionTimeMs: -1n,
        topics: [
          {
            name: 'foo',
            partitions: [
              { partitionIndex: 0, committedOffset: 1n, committedLeaderEpoch: -1, commitTimestamp: 12345n, committedMetadata: '' },
            ],
          },
        ],
      },
      ctx.ctx(1),
    )
    assert.equal((v1.records[0] as OffsetCommitRecord).value?.commitTimestamp, 12345)
    const v2 = ctx.commit({ retentionTimeMs: 1000n, offsets: [foo0] }, 2)
    const rec = v2.records[0] as OffsetCommitRecord
    assert.equal(rec.value?.expireTimestamp, ctx.clock.now() + 1000)
  })
})

describe('OffsetFetch', () => {
  test('testFetchOfMissingGroupOrPartitionReturnsMinusOneWithoutError', () => {
    const ctx = new CoordinatorContext()
    const g = ctx.fetchOffsets('nobody', [{ name: 'foo', partitionIndexes: [0, 1] }])
    assert.equal(g.errorCode, ErrorCode.NONE)
    assert.deepEqual(g.topics[0]?.partitions, [
      { partitionIndex: 0, committedOffset: -1n, committedLeaderEpoch: -1, metadata: '', errorCode: ErrorCode.NONE },
      { partitionIndex: 1, committedOffset: -1n, committedLeaderEpoch: -1, metadata: '', errorCode: ErrorCode.NONE },
    ])
    assert.deepEqual(ctx.fetchOffsets('nobody', null).topics, [])
  })

  test('testFetchAllOffsetsWithNullTopics', () => {
    const ctx = new CoordinatorContext()
    ctx.commit({ offsets: [foo0, { topic: 'foo', partition: 3, offset: 3 }, { topic: 'bar', partition: 0, offset: 9 }] })
    const g = ctx.fetchOffsets(GROUP, null)
    assert.deepEqual(
      g.topics.map((t) => [t.name, t.partitions.map((p) => [p.partitionIndex, p.committedOffset])]),
      [
        [
          'foo',
          [
            [0, 100n],
            [3, 3n],
          ],
        ],
        ['bar', [[0, 9n]]],
      ],
    )
  })

  test('testFetchV8BatchesGroups', () => {
    const ctx = new CoordinatorContext()
    ctx.commit({ groupId: 'a', offsets: [foo0] })
    ctx.commit({ groupId: 'b', offsets: [{ ...foo0, offset: 7 }] })
    const r = ctx.coordinator.offsetFetch(
      {
        groupId: '',
        topics: [],
        groups: [
          { groupId: 'a', memberId: null, memberEpoch: -1, topics: null },
          { groupId: 'b', memberId: null, memberEpoch: -1, topics: [{ name: 'foo', partitionIndexes: [0] }] },
        ],
        requireStable: true,
      },
      ctx.ctx(8),
    )
    assert.deepEqual(
      r.response.groups.map((g) => [g.groupId, g.errorCode, g.topics[0]?.partitions[0]?.committedOffset]),
      [
        ['a', ErrorCode.NONE, 100n],
        ['b', ErrorCode.NONE, 7n],
      ],
    )
  })

  test('testFetchV1AndV7AnswerAtTheTopLevel', () => {
    const ctx = new CoordinatorContext()
    ctx.commit({ offsets: [foo0] })
    for (const version of [1, 7]) {
      const r = ctx.coordinator.offsetFetch(
        { groupId: GROUP, topics: [{ name: 'foo', partitionIndexes: [0] }], groups: [], requireStable: false },
        ctx.ctx(version),
      )
      assert.equal(r.response.topics[0]?.partitions[0]?.committedOffset, 100n)
      assert.equal(r.response.errorCode, ErrorCode.NONE)
      assert.deepEqual(r.response.groups, [])
    }
  })
})

describe('OffsetDelete', () => {
  test('testOffsetDeleteOnMissingGroup', () => {
    const ctx = new CoordinatorContext()
    const r = ctx.coordinator.offsetDelete({ groupId: 'nope', topics: [{ name: 'foo', partitions: [{ partitionIndex: 0 }] }] }, ctx.ctx(0))
    assert.equal(r.response.errorCode, ErrorCode.GROUP_ID_NOT_FOUND)
  })

  test('testOffsetDeleteOfASubscribedTopicIsRefused', async () => {
    const ctx = new CoordinatorContext()
    const { leader } = await ctx.stableGroup(1, { join: { protocols: [RANGE(['foo'])] } })
    ctx.commit({ generationIdOrMemberEpoch: 1, memberId: leader.memberId, offsets: [foo0, { topic: 'bar', partition: 0, offset: 1 }] })
    const r = ctx.coordinator.offsetDelete(
      {
        groupId: GROUP,
        topics: [
          { name: 'foo', partitions: [{ partitionIndex: 0 }] },
          { name: 'bar', partitions: [{ partitionIndex: 0 }, { partitionIndex: 1 }] },
        ],
      },
      ctx.ctx(0),
    )
    assert.equal(r.response.errorCode, ErrorCode.NONE)
    assert.deepEqual(
      r.response.topics.map((t) => [t.name, t.partitions.map((p) => p.errorCode)]),
      [
        ['foo', [ErrorCode.GROUP_SUBSCRIBED_TO_TOPIC]],
        ['bar', [ErrorCode.NONE, ErrorCode.NONE]],
      ],
    )
    // A tombstone only for the offset that exists.
    assert.equal(r.records.length, 1)
    ctx.append(r.records)
    assert.equal(ctx.committed(GROUP, 'bar', 0), -1n)
    assert.equal(ctx.committed(GROUP, 'foo', 0), 100n)
  })

  test('testOffsetDeleteOnActiveNonConsumerGroupIsNonEmptyGroup', async () => {
    const ctx = new CoordinatorContext()
    await ctx.stableGroup(1, { join: { protocolType: 'connect' } })
    const r = ctx.coordinator.offsetDelete({ groupId: GROUP, topics: [] }, ctx.ctx(0))
    assert.equal(r.response.errorCode, ErrorCode.NON_EMPTY_GROUP)
  })

  test('testOffsetDeleteOnEmptyGroupDeletesAnyTopic', async () => {
    const ctx = new CoordinatorContext()
    const { leader } = await ctx.stableGroup(1)
    ctx.commit({ generationIdOrMemberEpoch: 1, memberId: leader.memberId, offsets: [foo0] })
    ctx.leaveMembers([{ memberId: leader.memberId }])
    const r = ctx.coordinator.offsetDelete({ groupId: GROUP, topics: [{ name: 'foo', partitions: [{ partitionIndex: 0 }] }] }, ctx.ctx(0))
    assert.deepEqual(r.response.topics[0]?.partitions[0]?.errorCode, ErrorCode.NONE)
    ctx.append(r.records)
    assert.equal(ctx.committed(GROUP, 'foo', 0), -1n)
  })
})

describe('offset retention (KIP-211)', () => {
  test('testOffsetsOfAnEmptyGroupExpireRetentionAfterTheGroupBecameEmpty', async () => {
    const ctx = new CoordinatorContext()
    const { leader } = await ctx.stableGroup(1)
    ctx.commit({ generationIdOrMemberEpoch: 1, memberId: leader.memberId, offsets: [foo0] })
    // Time passes while the group is active: nothing expires, however old the commit.
    ctx.advance(1000)
    ctx.heartbeat({ memberId: leader.memberId, generationId: 1 })
    ctx.advance(5000)
    ctx.leaveMembers([{ memberId: leader.memberId }])
    const emptiedAt = ctx.clock.now()
    ctx.clock.set(emptiedAt + 7 * DAY - 1)
    assert.deepEqual(ctx.expireOffsets(), [])
    ctx.clock.set(emptiedAt + 7 * DAY)
    const records = ctx.expireOffsets()
    assert.deepEqual(
      records.map((r) => [r.type, r.type === 'unknown' ? null : r.value]),
      [
        ['offset-commit', null],
        ['group-metadata', null],
        ['rebalance-history', null], // its two rebalances: joined, emptied
        ['rebalance-history', null],
      ],
    )
    assert.equal(ctx.coordinator.group(GROUP), undefined)
    assert.equal(ctx.committed(GROUP, 'foo', 0), -1n)
  })

  test('testSimpleGroupOffsetsExpireByCommitTimestamp', () => {
    const ctx = new CoordinatorContext()
    ctx.commit({ offsets: [foo0] })
    ctx.clock.advance(DAY)
    ctx.commit({ offsets: [{ topic: 'foo', partition: 1, offset: 1 }] })
    ctx.clock.advance(6 * DAY)
    const first = ctx.expireOffsets()
    assert.deepEqual(
      first.map((r) => (r.type === 'offset-commit' ? [r.topic, r.partition, r.value] : r.type)),
      [['foo', 0, null]],
    )
    assert.equal(ctx.state(), 'Empty')
    ctx.clock.advance(DAY)
    const second = ctx.expireOffsets()
    assert.equal(second.length, 2)
    assert.equal(ctx.coordinator.group(GROUP), undefined)
  })

  test('testOffsetExpirationActiveGroupOnlyExpiresUnsubscribedTopics', async () => {
    const ctx = new CoordinatorContext()
    const { leader } = await ctx.stableGroup(1, { join: { sessionTimeoutMs: 1_800_000 } })
    ctx.commit({ generationIdOrMemberEpoch: 1, memberId: leader.memberId, offsets: [foo0, { topic: 'bar', partition: 0, offset: 1 }] })
    ctx.clock.advance(7 * DAY)
    const records = ctx.expireOffsets()
    assert.deepEqual(
      records.map((r) => (r.type === 'offset-commit' ? r.topic : r.type)),
      ['bar'],
    )
    assert.equal(ctx.committed(GROUP, 'foo', 0), 100n)
    assert.equal(ctx.state(), 'Stable')
  })

  test('testOffsetsOfARebalancingGroupDoNotExpire', async () => {
    const ctx = new CoordinatorContext()
    const { leader } = await ctx.stableGroup(1, { join: { sessionTimeoutMs: 1_800_000 } })
    ctx.commit({ generationIdOrMemberEpoch: 1, memberId: leader.memberId, offsets: [{ topic: 'bar', partition: 0, offset: 1 }] })
    ctx.join({ memberId: leader.memberId, sessionTimeoutMs: 1_800_000 })
    assert.equal(ctx.state(), 'CompletingRebalance')
    ctx.clock.advance(8 * DAY)
    assert.deepEqual(ctx.expireOffsets(), [])
  })

  test('testExplicitRetentionUsesTheExpireTimestamp', () => {
    const ctx = new CoordinatorContext()
    ctx.commit({ retentionTimeMs: 60_000n, offsets: [foo0] }, 2)
    ctx.clock.advance(59_999)
    assert.deepEqual(ctx.expireOffsets(), [])
    ctx.clock.advance(1)
    assert.equal(ctx.expireOffsets().length, 2)
  })

  test('testEmptyGroupWithoutOffsetsIsDeletedAtTheNextExpiration', async () => {
    const ctx = new CoordinatorContext()
    const { leader } = await ctx.stableGroup(1)
    ctx.leaveMembers([{ memberId: leader.memberId }])
    const records = ctx.expireOffsets()
    assert.deepEqual(
      records.map((r) => r.type),
      ['group-metadata', 'rebalance-history', 'rebalance-history'],
    )
    assert.equal(ctx.coordinator.group(GROUP), undefined)
    assert.deepEqual(ctx.coordinator.history(GROUP), [])
  })

  test('testGroupExpiredButNotYetReplayedIsDead', () => {
    const ctx = new CoordinatorContext()
    ctx.commit({ offsets: [foo0] })
    ctx.clock.advance(7 * DAY)
    const r = ctx.coordinator.expireOffsets()
    assert.equal(ctx.state(), 'Dead')
    assert.equal(ctx.coordinator.syncGroup(syncRequest({ memberId: 'm', generationId: 0 }), ctx.ctx(5)).records.length, 0)
    ctx.append(r.records)
    assert.equal(ctx.state(), undefined)
  })
})
