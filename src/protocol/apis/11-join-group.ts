import { defineApi, t } from '../schema/dsl.ts'

// v1 adds rebalanceTimeoutMs; v2 adds throttleTimeMs; v4 makes new members rejoin with the id they were given.
// v5 adds groupInstanceId (static membership); v6 is the first flexible version.
// v7 returns protocolType and a nullable protocolName; v8 adds a reason; v9 adds skipAssignment.
export const JoinGroup = defineApi({
  key: 11,
  name: 'JoinGroup',
  versions: '0-9',
  flexible: '6+',
  request: {
    groupId: t.string,
    sessionTimeoutMs: t.int32,
    rebalanceTimeoutMs: t.int32.v('1+').default(-1),
    memberId: t.string,
    groupInstanceId: t.string.v('5+').nullable('5+').default(null),
    protocolType: t.string,
    protocols: t.array({
      name: t.string,
      metadata: t.bytes,
    }),
    reason: t.string.v('8+').nullable('8+').default(null),
  },
  response: {
    throttleTimeMs: t.int32.v('2+'),
    errorCode: t.int16,
    generationId: t.int32.default(-1),
    protocolType: t.string.v('7+').nullable('7+').default(null),
    protocolName: t.string.nullable('7+'),
    leader: t.string,
    skipAssignment: t.bool.v('9+'),
    memberId: t.string,
    members: t.array({
      memberId: t.string,
      groupInstanceId: t.string.v('5+').nullable('5+').default(null),
      metadata: t.bytes,
    }),
  },
})
