import { defineApi, t } from '../schema/dsl.ts'

// The KIP-848 group description; flexible from v0; v1 adds the member's memberType (KIP-1099).
export const ConsumerGroupDescribe = defineApi({
  key: 69,
  name: 'ConsumerGroupDescribe',
  versions: '0-1',
  flexible: '0+',
  request: {
    groupIds: t.array(t.string),
    includeAuthorizedOperations: t.bool,
  },
  response: {
    throttleTimeMs: t.int32,
    groups: t.array({
      errorCode: t.int16,
      errorMessage: t.string.nullable('0+').default(null),
      groupId: t.string,
      groupState: t.string,
      groupEpoch: t.int32,
      assignmentEpoch: t.int32,
      assignorName: t.string,
      members: t.array({
        memberId: t.string,
        instanceId: t.string.nullable('0+').default(null),
        rackId: t.string.nullable('0+').default(null),
        memberEpoch: t.int32,
        clientId: t.string,
        clientHost: t.string,
        subscribedTopicNames: t.array(t.string),
        subscribedTopicRegex: t.string.nullable('0+').default(null),
        assignment: t.struct({
          topicPartitions: t.array({
            topicId: t.uuid,
            topicName: t.string,
            partitions: t.array(t.int32),
          }),
        }),
        targetAssignment: t.struct({
          topicPartitions: t.array({
            topicId: t.uuid,
            topicName: t.string,
            partitions: t.array(t.int32),
          }),
        }),
        memberType: t.int8.v('1+').default(-1),
      }),
      authorizedOperations: t.int32.default(-2147483648),
    }),
  },
})
