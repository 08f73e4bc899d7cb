import { defineApi, t } from '../schema/dsl.ts'

// v1 is the same as v0; v2 is the first flexible version; v3 only adds an error code.
export const CreatePartitions = defineApi({
  key: 37,
  name: 'CreatePartitions',
  versions: '0-3',
  flexible: '2+',
  request: {
    topics: t.array({
      name: t.string,
      count: t.int32,
      assignments: t
        .array({
          brokerIds: t.array(t.int32),
        })
        .nullable('0+'),
    }),
    timeoutMs: t.int32,
    validateOnly: t.bool,
  },
  response: {
    throttleTimeMs: t.int32,
    results: t.array({
      name: t.string,
      errorCode: t.int16,
      errorMessage: t.string.nullable('0+').default(null),
    }),
  },
})
