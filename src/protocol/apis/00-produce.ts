import { defineApi, t } from '../schema/dsl.ts'

// v1 adds throttleTimeMs to the response; v2 adds logAppendTimeMs.
// v3 adds transactionalId and moves to record batch v2 (magic 2).
// v5 adds logStartOffset per partition; v7 permits zstd batches.
// v8 adds per-record errors and an error message; v9 is the first flexible version.
// v10 adds the currentLeader / nodeEndpoints tagged fields (KIP-951); v11 only adds an error code.
export const Produce = defineApi({
  key: 0,
  name: 'Produce',
  versions: '0-11',
  flexible: '9+',
  request: {
    transactionalId: t.string.v('3+').nullable('3+').default(null),
    acks: t.int16,
    timeoutMs: t.int32,
    topicData: t.array({
      name: t.string,
      partitionData: t.array({
        index: t.int32,
        records: t.records.nullable('0+'),
      }),
    }),
  },
  response: {
    responses: t.array({
      name: t.string,
      partitionResponses: t.array({
        index: t.int32,
        errorCode: t.int16,
        baseOffset: t.int64,
        logAppendTimeMs: t.int64.v('2+').default(-1n),
        logStartOffset: t.int64.v('5+').default(-1n),
        recordErrors: t
          .array({
            batchIndex: t.int32,
            batchIndexErrorMessage: t.string.nullable('8+').default(null),
          })
          .v('8+'),
        errorMessage: t.string.v('8+').nullable('8+').default(null),
        currentLeader: t
          .struct({
            leaderId: t.int32.default(-1),
            leaderEpoch: t.int32.default(-1),
          })
          .tagged(0, '10+'),
      }),
    }),
    throttleTimeMs: t.int32.v('1+'),
    nodeEndpoints: t
      .array({
        nodeId: t.int32,
        host: t.string,
        port: t.int32,
        rack: t.string.nullable('10+').default(null),
      })
      .tagged(0, '10+'),
  },
})
