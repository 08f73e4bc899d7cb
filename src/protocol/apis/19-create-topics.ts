import { defineApi, t } from '../schema/dsl.ts'

// v1 adds validateOnly and an error message; v2 adds throttleTimeMs.
// v4 lets numPartitions/replicationFactor be -1 (broker defaults); v5 is the first flexible version and returns the topic's configs.
// v7 returns the new topic's id.
export const CreateTopics = defineApi({
  key: 19,
  name: 'CreateTopics',
  versions: '0-7',
  flexible: '5+',
  request: {
    topics: t.array({
      name: t.string,
      numPartitions: t.int32,
      replicationFactor: t.int16,
      assignments: t.array({
        partitionIndex: t.int32,
        brokerIds: t.array(t.int32),
      }),
      configs: t.array({
        name: t.string,
        value: t.string.nullable('0+'),
      }),
    }),
    timeoutMs: t.int32.default(60000),
    validateOnly: t.bool.v('1+'),
  },
  response: {
    throttleTimeMs: t.int32.v('2+'),
    topics: t.array({
      name: t.string,
      topicId: t.uuid.v('7+'),
      errorCode: t.int16,
      errorMessage: t.string.v('1+').nullable('0+'),
      topicConfigErrorCode: t.int16.tagged(0, '5+'),
      numPartitions: t.int32.v('5+').default(-1),
      replicationFactor: t.int16.v('5+').default(-1),
      configs: t
        .array({
          name: t.string,
          value: t.string.nullable('5+'),
          readOnly: t.bool,
          configSource: t.int8.default(-1),
          isSensitive: t.bool,
        })
        .v('5+')
        .nullable('5+'),
    }),
  },
})
