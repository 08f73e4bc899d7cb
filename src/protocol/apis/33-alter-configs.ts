import { defineApi, t } from '../schema/dsl.ts'

// v1 is the same as v0; v2 is the first flexible version.
export const AlterConfigs = defineApi({
  key: 33,
  name: 'AlterConfigs',
  versions: '0-2',
  flexible: '2+',
  request: {
    resources: t.array({
      resourceType: t.int8,
      resourceName: t.string,
      configs: t.array({
        name: t.string,
        value: t.string.nullable('0+'),
      }),
    }),
    validateOnly: t.bool,
  },
  response: {
    throttleTimeMs: t.int32,
    responses: t.array({
      errorCode: t.int16,
      errorMessage: t.string.nullable('0+'),
      resourceType: t.int8,
      resourceName: t.string,
    }),
  },
})
