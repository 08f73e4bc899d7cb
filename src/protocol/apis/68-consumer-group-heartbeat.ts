import { defineApi, t } from '../schema/dsl.ts'

// The KIP-848 consumer protocol heartbeat; flexible from v0; v1 adds subscribedTopicRegex.
export const ConsumerGroupHeartbeat = defineApi({
  key: 68,
  name: 'ConsumerGroupHeartbeat',
  versions: '0-1',
  flexible: '0+',
  request: {
    groupId: t.string,
    memberId: t.string,
    memberEpoch: t.int32,
    instanceId: t.string.nullable('0+').default(null),
    rackId: t.string.nullable('0+').default(null),
    rebalanceTimeoutMs: t.int32.default(-1),
    subscribedTopicNames: t.array(t.string).nullable('0+').default(null),
    subscribedTopicRegex: t.string.v('1+').nullable('1+').default(null),
    serverAssignor: t.string.nullable('0+').default(null),
    topicPartitions: t
      .array({
        topicId: t.uuid,
        partitions: t.array(t.int32),
      })
      .nullable('0+')
      .default(null),
  },
  response: {
    throttleTimeMs: t.int32,
    errorCode: t.int16,
    errorMessage: t.string.nullable('0+').default(null),
    memberId: t.string.nullable('0+').default(null),
    memberEpoch: t.int32,
    heartbeatIntervalMs: t.int32,
    // A nullable struct: Kafka writes an int8 presence marker (-1 null, 1 present) before it, which
    // codec.ts does not do yet (see the todo test in test/unit/protocol/apis.test.ts).
    assignment: t
      .struct({
        topicPartitions: t.array({
          topicId: t.uuid,
          partitions: t.array(t.int32),
        }),
      })
      .nullable('0+')
      .default(null),
  },
})
