import { defineApi, t } from '../schema/dsl.ts'

// Flexible from v0; v1 adds endpointType (KIP-919).
export const DescribeCluster = defineApi({
  key: 60,
  name: 'DescribeCluster',
  versions: '0-1',
  flexible: '0+',
  request: {
    includeClusterAuthorizedOperations: t.bool,
    endpointType: t.int8.v('1+').default(1),
  },
  response: {
    throttleTimeMs: t.int32,
    errorCode: t.int16,
    errorMessage: t.string.nullable('0+').default(null),
    endpointType: t.int8.v('1+').default(1),
    clusterId: t.string,
    controllerId: t.int32.default(-1),
    brokers: t.array({
      brokerId: t.int32,
      host: t.string,
      port: t.int32,
      rack: t.string.nullable('0+').default(null),
    }),
    clusterAuthorizedOperations: t.int32.default(-2147483648),
  },
})
