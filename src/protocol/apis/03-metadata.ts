import { defineApi, t } from '../schema/dsl.ts'

// v1 adds broker rack, controllerId and isInternal, and a null topic list means all topics.
// v2 adds clusterId; v3 adds throttleTimeMs; v4 adds allowAutoTopicCreation; v5 adds offlineReplicas.
// v7 adds leaderEpoch; v8 adds authorized-operation bitfields; v9 is the first flexible version.
// v10 adds topic ids; v11 drops the cluster authorized operations; v12 allows lookup by id with a null name.
export const Metadata = defineApi({
  key: 3,
  name: 'Metadata',
  versions: '0-12',
  flexible: '9+',
  request: {
    topics: t
      .array({
        topicId: t.uuid.v('10+'),
        name: t.string.nullable('10+'),
      })
      .nullable('1+'),
    allowAutoTopicCreation: t.bool.v('4+').default(true),
    includeClusterAuthorizedOperations: t.bool.v('8-10'),
    includeTopicAuthorizedOperations: t.bool.v('8+'),
  },
  response: {
    throttleTimeMs: t.int32.v('3+'),
    brokers: t.array({
      nodeId: t.int32,
      host: t.string,
      port: t.int32,
      rack: t.string.v('1+').nullable('1+').default(null),
    }),
    clusterId: t.string.v('2+').nullable('2+').default(null),
    controllerId: t.int32.v('1+').default(-1),
    topics: t.array({
      errorCode: t.int16,
      name: t.string.nullable('12+'),
      topicId: t.uuid.v('10+'),
      isInternal: t.bool.v('1+'),
      partitions: t.array({
        errorCode: t.int16,
        partitionIndex: t.int32,
        leaderId: t.int32,
        leaderEpoch: t.int32.v('7+').default(-1),
        replicaNodes: t.array(t.int32),
        isrNodes: t.array(t.int32),
        offlineReplicas: t.array(t.int32).v('5+'),
      }),
      topicAuthorizedOperations: t.int32.v('8+').default(-2147483648),
    }),
    clusterAuthorizedOperations: t.int32.v('8-10').default(-2147483648),
  },
})
