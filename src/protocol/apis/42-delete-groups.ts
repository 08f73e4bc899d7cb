import { defineApi, t } from '../schema/dsl.ts'

// v1 is the same as v0; v2 is the first flexible version.
export const DeleteGroups = defineApi({
  key: 42,
  name: 'DeleteGroups',
  versions: '0-2',
  flexible: '2+',
  request: {
    groupsNames: t.array(t.string),
  },
  response: {
    throttleTimeMs: t.int32,
    results: t.array({
      groupId: t.string,
      errorCode: t.int16,
    }),
  },
})
