import { defineApi, t } from '../schema/dsl.ts'

// v1 is the first flexible version.
export const IncrementalAlterConfigs = defineApi({
  key: 44,
  name: 'IncrementalAlterConfigs',
  versions: '0-1',
  flexible: '1+',
  request: {
    resources: t.array({
      resourceType: t.int8,
      resourceName: t.string,
      configs: t.array({
        name: t.string,
        configOperation: t.int8,
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
