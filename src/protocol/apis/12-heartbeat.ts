import { defineApi, t } from '../schema/dsl.ts'

// v1 adds throttleTimeMs; v3 adds groupInstanceId; v4 is the first flexible version.
export const Heartbeat = defineApi({
  key: 12,
  name: 'Heartbeat',
  versions: '0-4',
  flexible: '4+',
  request: {
    groupId: t.string,
    generationId: t.int32,
    memberId: t.string,
    groupInstanceId: t.string.v('3+').nullable('3+').default(null),
  },
  response: {
    throttleTimeMs: t.int32.v('1+'),
    errorCode: t.int16,
  },
})
