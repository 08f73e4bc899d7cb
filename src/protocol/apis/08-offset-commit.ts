import { defineApi, t } from '../schema/dsl.ts'

// v1 adds generation/member id and a commit timestamp; v2–v4 replace the timestamp with retentionTimeMs.
// v5 drops retentionTimeMs; v6 adds committedLeaderEpoch; v7 adds groupInstanceId.
// v8 is the first flexible version; v9 lets the new (KIP-848) group protocol commit with its member epoch.
export const OffsetCommit = defineApi({
  key: 8,
  name: 'OffsetCommit',
  versions: '0-9',
  flexible: '8+',
  request: {
    groupId: t.string,
    generationIdOrMemberEpoch: t.int32.v('1+').default(-1),
    memberId: t.string.v('1+'),
    groupInstanceId: t.string.v('7+').nullable('7+').default(null),
    retentionTimeMs: t.int64.v('2-4').default(-1n),
    topics: t.array({
      name: t.string,
      partitions: t.array({
        partitionIndex: t.int32,
        committedOffset: t.int64,
        committedLeaderEpoch: t.int32.v('6+').default(-1),
        commitTimestamp: t.int64.v('1').default(-1n),
        committedMetadata: t.string.nullable('0+'),
      }),
    }),
  },
  response: {
    throttleTimeMs: t.int32.v('3+'),
    topics: t.array({
      name: t.string,
      partitions: t.array({
        partitionIndex: t.int32,
        errorCode: t.int16,
      }),
    }),
  },
})
