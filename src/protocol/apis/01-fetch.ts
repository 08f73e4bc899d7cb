import { defineApi, t } from '../schema/dsl.ts'

// v1 adds throttleTimeMs; v3 adds a request-wide maxBytes; v4 adds isolationLevel, lastStableOffset and aborted transactions.
// v5 adds logStartOffset; v7 adds fetch sessions (sessionId/epoch, forgotten topics) and a top-level error code.
// v9 adds currentLeaderEpoch; v10 permits zstd; v11 adds rackId and preferredReadReplica.
// v12 is the first flexible version (lastFetchedEpoch, tagged divergingEpoch/currentLeader/snapshotId).
// v13 replaces topic names with topic ids; v15 moves the replica id into the tagged replicaState.
// v16 adds nodeEndpoints to the response; v17 adds the tagged replicaDirectoryId (KIP-853).
export const Fetch = defineApi({
  key: 1,
  name: 'Fetch',
  versions: '0-17',
  flexible: '12+',
  request: {
    clusterId: t.string.nullable('12+').tagged(0, '12+').default(null),
    replicaId: t.int32.v('0-14').default(-1),
    replicaState: t
      .struct({
        replicaId: t.int32.default(-1),
        replicaEpoch: t.int64.default(-1n),
      })
      .tagged(1, '15+'),
    maxWaitMs: t.int32,
    minBytes: t.int32,
    maxBytes: t.int32.v('3+').default(2147483647),
    isolationLevel: t.int8.v('4+'),
    sessionId: t.int32.v('7+'),
    sessionEpoch: t.int32.v('7+').default(-1),
    topics: t.array({
      topic: t.string.v('0-12'),
      topicId: t.uuid.v('13+'),
      partitions: t.array({
        partition: t.int32,
        currentLeaderEpoch: t.int32.v('9+').default(-1),
        fetchOffset: t.int64,
        lastFetchedEpoch: t.int32.v('12+').default(-1),
        logStartOffset: t.int64.v('5+').default(-1n),
        partitionMaxBytes: t.int32,
        replicaDirectoryId: t.uuid.tagged(0, '17+'),
      }),
    }),
    forgottenTopicsData: t
      .array({
        topic: t.string.v('7-12'),
        topicId: t.uuid.v('13+'),
        partitions: t.array(t.int32),
      })
      .v('7+'),
    rackId: t.string.v('11+'),
  },
  response: {
    throttleTimeMs: t.int32.v('1+'),
    errorCode: t.int16.v('7+'),
    sessionId: t.int32.v('7+'),
    responses: t.array({
      topic: t.string.v('0-12'),
      topicId: t.uuid.v('13+'),
      partitions: t.array({
        partitionIndex: t.int32,
        errorCode: t.int16,
        highWatermark: t.int64,
        lastStableOffset: t.int64.v('4+').default(-1n),
        logStartOffset: t.int64.v('5+').default(-1n),
        divergingEpoch: t
          .struct({
            epoch: t.int32.default(-1),
            endOffset: t.int64.default(-1n),
          })
          .tagged(0, '12+'),
        currentLeader: t
          .struct({
            leaderId: t.int32.default(-1),
            leaderEpoch: t.int32.default(-1),
          })
          .tagged(1, '12+'),
        snapshotId: t
          .struct({
            endOffset: t.int64.default(-1n),
            epoch: t.int32.default(-1),
          })
          .tagged(2, '12+'),
        abortedTransactions: t
          .array({
            producerId: t.int64,
            firstOffset: t.int64,
          })
          .v('4+')
          .nullable('4+'),
        preferredReadReplica: t.int32.v('11+').default(-1),
        records: t.records.nullable('0+'),
      }),
    }),
    nodeEndpoints: t
      .array({
        nodeId: t.int32,
        host: t.string,
        port: t.int32,
        rack: t.string.nullable('16+').default(null),
      })
      .tagged(0, '16+'),
  },
})
