import { defineApi, t } from '../schema/dsl.ts'

// Only v0 exists; never flexible.
export const OffsetDelete = defineApi({
  key: 47,
  name: 'OffsetDelete',
  versions: '0',
  flexible: 'none',
  request: {
    groupId: t.string,
    topics: t.array({
      name: t.string,
      partitions: t.array({
        partitionIndex: t.int32,
      }),
    }),
  },
  response: {
    errorCode: t.int16,
    throttleTimeMs: t.int32,
    topics: t.array({
      name: t.string,
      partitions: t.array({
        partitionIndex: t.int32,
        errorCode: t.int16,
      }),
    }),
  },
})
