import { defineApi, t } from '../schema/dsl.ts'

// v1 adds sessionLifetimeMs; v2 is the first flexible version.
export const SaslAuthenticate = defineApi({
  key: 36,
  name: 'SaslAuthenticate',
  versions: '0-2',
  flexible: '2+',
  request: {
    authBytes: t.bytes,
  },
  response: {
    errorCode: t.int16,
    errorMessage: t.string.nullable('0+'),
    authBytes: t.bytes,
    sessionLifetimeMs: t.int64.v('1+'),
  },
})
