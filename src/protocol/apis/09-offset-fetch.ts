import { defineApi, t } from '../schema/dsl.ts'

// v2 allows a null topic list (all topics) and adds a top-level error code; v3 adds throttleTimeMs.
// v5 adds committedLeaderEpoch; v6 is the first flexible version; v7 adds requireStable.
// v8 batches several groups per request; v9 adds memberId/memberEpoch for the KIP-848 protocol.
export const OffsetFetch = defineApi({
  key: 9,
  name: 'OffsetFetch',
  versions: '0-9',
  flexible: '6+',
  request: {
    groupId: t.string.v('0-7'),
    topics: t
      .array({
        name: t.string,
        partitionIndexes: t.array(t.int32),
      })
      .v('0-7')
      .nullable('2-7'),
    groups: t
      .array({
        groupId: t.string,
        memberId: t.string.v('9+').nullable('9+').default(null),
        memberEpoch: t.int32.v('9+').default(-1),
        topics: t
          .array({
            name: t.string,
            partitionIndexes: t.array(t.int32),
          })
          .nullable('8+'),
      })
      .v('8+'),
    requireStable: t.bool.v('7+'),
  },
  response: {
    throttleTimeMs: t.int32.v('3+'),
    topics: t
      .array({
        name: t.string,
        partitions: t.array({
          partitionIndex: t.int32,
          committedOffset: t.int64,
          committedLeaderEpoch: t.int32.v('5-7').default(-1),
          metadata: t.string.nullable('0-7'),
          errorCode: t.int16,
        }),
      })
      .v('0-7'),
    errorCode: t.int16.v('2-7'),
    groups: t
      .array({
        groupId: t.string,
        topics: t.array({
          name: t.string,
          partitions: t.array({
            partitionIndex: t.int32,
            committedOffset: t.int64,
            committedLeaderEpoch: t.int32.default(-1),
            metadata: t.string.nullable('8+'),
            errorCode: t.int16,
          }),
        }),
        errorCode: t.int16,
      })
      .v('8+'),
  },
})
