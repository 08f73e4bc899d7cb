import { defineApi, t } from '../schema/dsl.ts'

// v2 is the first flexible version; v3 adds the current producerId/producerEpoch so a producer can resume.
// v4 and v5 only add error codes.
export const InitProducerId = defineApi({
  key: 22,
  name: 'InitProducerId',
  versions: '0-5',
  flexible: '2+',
  request: {
    transactionalId: t.string.nullable('0+'),
    transactionTimeoutMs: t.int32,
    producerId: t.int64.v('3+').default(-1n),
    producerEpoch: t.int16.v('3+').default(-1),
  },
  response: {
    throttleTimeMs: t.int32,
    errorCode: t.int16,
    producerId: t.int64.default(-1n),
    producerEpoch: t.int16,
  },
})
