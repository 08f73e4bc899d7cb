import { defineApi, t } from '../schema/dsl.ts'

// v1 adds throttle time; v3 (flexible) adds the client's software name and version and the feature tags.
export const ApiVersions = defineApi({
  key: 18,
  name: 'ApiVersions',
  versions: '0-3',
  flexible: '3+',
  request: {
    clientSoftwareName: t.string.v('3+'),
    clientSoftwareVersion: t.string.v('3+'),
  },
  response: {
    errorCode: t.int16,
    apiKeys: t.array({
      apiKey: t.int16,
      minVersion: t.int16,
      maxVersion: t.int16,
    }),
    throttleTimeMs: t.int32.v('1+'),
    supportedFeatures: t.array({ name: t.string, minVersion: t.int16, maxVersion: t.int16 }).tagged(0, '3+'),
    finalizedFeaturesEpoch: t.int64.tagged(1, '3+').default(-1n),
    finalizedFeatures: t.array({ name: t.string, maxVersionLevel: t.int16, minVersionLevel: t.int16 }).tagged(2, '3+'),
    zkMigrationReady: t.bool.tagged(3, '3+'),
  },
})
