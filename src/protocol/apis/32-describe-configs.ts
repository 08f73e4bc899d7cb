import { defineApi, t } from '../schema/dsl.ts'

// v1 adds includeSynonyms, configSource and synonyms (replacing isDefault).
// v3 adds includeDocumentation, configType and documentation; v4 is the first flexible version.
export const DescribeConfigs = defineApi({
  key: 32,
  name: 'DescribeConfigs',
  versions: '0-4',
  flexible: '4+',
  request: {
    resources: t.array({
      resourceType: t.int8,
      resourceName: t.string,
      configurationKeys: t.array(t.string).nullable('0+'),
    }),
    includeSynonyms: t.bool.v('1+'),
    includeDocumentation: t.bool.v('3+'),
  },
  response: {
    throttleTimeMs: t.int32,
    results: t.array({
      errorCode: t.int16,
      errorMessage: t.string.nullable('0+'),
      resourceType: t.int8,
      resourceName: t.string,
      configs: t.array({
        name: t.string,
        value: t.string.nullable('0+'),
        readOnly: t.bool,
        isDefault: t.bool.v('0'),
        configSource: t.int8.v('1+').default(-1),
        isSensitive: t.bool,
        synonyms: t
          .array({
            name: t.string,
            value: t.string.nullable('0+'),
            source: t.int8,
          })
          .v('1+'),
        configType: t.int8.v('3+'),
        documentation: t.string.v('3+').nullable('0+'),
      }),
    }),
  },
})
