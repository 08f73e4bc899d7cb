import { defineApi, t } from '../schema/dsl.ts'

// v1 adds keyType and an error message; v3 is the first flexible version.
// v4 batches lookups (coordinatorKeys -> coordinators); v5 only adds an error code.
// v6 (share groups) is not defined here.
export const FindCoordinator = defineApi({
  key: 10,
  name: 'FindCoordinator',
  versions: '0-5',
  flexible: '3+',
  request: {
    key: t.string.v('0-3'),
    keyType: t.int8.v('1+'),
    coordinatorKeys: t.array(t.string).v('4+'),
  },
  response: {
    throttleTimeMs: t.int32.v('1+'),
    errorCode: t.int16.v('0-3'),
    errorMessage: t.string.v('1-3').nullable('1-3'),
    nodeId: t.int32.v('0-3'),
    host: t.string.v('0-3'),
    port: t.int32.v('0-3'),
    coordinators: t
      .array({
        key: t.string,
        nodeId: t.int32,
        host: t.string,
        port: t.int32,
        errorCode: t.int16,
        errorMessage: t.string.nullable('4+'),
      })
      .v('4+'),
  },
})
