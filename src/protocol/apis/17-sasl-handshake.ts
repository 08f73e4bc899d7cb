import { defineApi, t } from '../schema/dsl.ts'

// v0 is followed by raw SASL tokens on the socket; v1 by SaslAuthenticate requests. Never flexible.
export const SaslHandshake = defineApi({
  key: 17,
  name: 'SaslHandshake',
  versions: '0-1',
  flexible: 'none',
  request: {
    mechanism: t.string,
  },
  response: {
    errorCode: t.int16,
    mechanisms: t.array(t.string),
  },
})
