import { defineApi, t } from '../schema/dsl.ts'

// v1 adds throttleTimeMs; v3 turns the request into a batch of members (with groupInstanceId).
// v4 is the first flexible version; v5 adds a per-member reason.
export const LeaveGroup = defineApi({
  key: 13,
  name: 'LeaveGroup',
  versions: '0-5',
  flexible: '4+',
  request: {
    groupId: t.string,
    memberId: t.string.v('0-2'),
    members: t
      .array({
        memberId: t.string,
        groupInstanceId: t.string.nullable('3+').default(null),
        reason: t.string.v('5+').nullable('5+').default(null),
      })
      .v('3+'),
  },
  response: {
    throttleTimeMs: t.int32.v('1+'),
    errorCode: t.int16,
    members: t
      .array({
        memberId: t.string,
        groupInstanceId: t.string.nullable('3+'),
        errorCode: t.int16,
      })
      .v('3+'),
  },
})
