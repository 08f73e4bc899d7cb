import { defineApi, t } from '../schema/dsl.ts'

// v1 adds throttleTimeMs; v3 is the first flexible version.
// v4 adds a state filter and groupState; v5 adds a type filter and groupType.
export const ListGroups = defineApi({
  key: 16,
  name: 'ListGroups',
  versions: '0-5',
  flexible: '3+',
  request: {
    statesFilter: t.array(t.string).v('4+'),
    typesFilter: t.array(t.string).v('5+'),
  },
  response: {
    throttleTimeMs: t.int32.v('1+'),
    errorCode: t.int16,
    groups: t.array({
      groupId: t.string,
      protocolType: t.string,
      groupState: t.string.v('4+'),
      groupType: t.string.v('5+'),
    }),
  },
})
