import { defineApi, t } from '../schema/dsl.ts'

// v1 is the same as v0; v2 is the first flexible version.
export const DeleteRecords = defineApi({
  key: 21,
  name: 'DeleteRecords',
  versions: '0-2',
  flexible: '2+',
  request: {
    topics: t.array({
      name: t.string,
      partitions: t.array({
        partitionIndex: t.int32,
        offset: t.int64,
      }),
    }),
    timeoutMs: t.int32,
  },
  response: {
    throttleTimeMs: t.int32,
    topics: t.array({
      name: t.string,
      partitions: t.array({
        partitionIndex: t.int32,
        lowWatermark: t.int64,
        errorCode: t.int16,
      }),
    }),
  },
})
