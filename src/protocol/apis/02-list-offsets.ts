import { defineApi, t } from '../schema/dsl.ts'

// v0 returns a list of old-style offsets (maxNumOffsets); v1 returns one timestamp and offset.
// v2 adds isolationLevel and throttleTimeMs; v4 adds leader epochs; v6 is the first flexible version.
// v7–v9 only add special timestamps (-3 max timestamp, -4 earliest local, -5 latest tiered).
// v10 (a timeout for remote lookups) is not defined here.
export const ListOffsets = defineApi({
  key: 2,
  name: 'ListOffsets',
  versions: '0-9',
  flexible: '6+',
  request: {
    replicaId: t.int32,
    isolationLevel: t.int8.v('2+'),
    topics: t.array({
      name: t.string,
      partitions: t.array({
        partitionIndex: t.int32,
        currentLeaderEpoch: t.int32.v('4+').default(-1),
        timestamp: t.int64,
        maxNumOffsets: t.int32.v('0').default(1),
      }),
    }),
  },
  response: {
    throttleTimeMs: t.int32.v('2+'),
    topics: t.array({
      name: t.string,
      partitions: t.array({
        partitionIndex: t.int32,
        errorCode: t.int16,
        oldStyleOffsets: t.array(t.int64).v('0'),
        timestamp: t.int64.v('1+').default(-1n),
        offset: t.int64.v('1+').default(-1n),
        leaderEpoch: t.int32.v('4+').default(-1),
      }),
    }),
  },
})
