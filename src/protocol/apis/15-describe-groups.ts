import { defineApi, t } from '../schema/dsl.ts'

// v1 adds throttleTimeMs; v3 adds authorized operations; v4 adds member groupInstanceId.
// v5 is the first flexible version.
export const DescribeGroups = defineApi({
  key: 15,
  name: 'DescribeGroups',
  versions: '0-5',
  flexible: '5+',
  request: {
    groups: t.array(t.string),
    includeAuthorizedOperations: t.bool.v('3+'),
  },
  response: {
    throttleTimeMs: t.int32.v('1+'),
    groups: t.array({
      errorCode: t.int16,
      groupId: t.string,
      groupState: t.string,
      protocolType: t.string,
      protocolData: t.string,
      members: t.array({
        memberId: t.string,
        groupInstanceId: t.string.v('4+').nullable('4+').default(null),
        clientId: t.string,
        clientHost: t.string,
        memberMetadata: t.bytes,
        memberAssignment: t.bytes,
      }),
      authorizedOperations: t.int32.v('3+').default(-2147483648),
    }),
  },
})
