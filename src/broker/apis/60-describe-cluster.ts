import { DescribeCluster } from '../../protocol/apis/index.ts'
import { ErrorCode } from '../../protocol/errors.ts'
import { defineHandler } from './handler.ts'

const BROKERS_ENDPOINT = 1

export const describeClusterHandler = defineHandler(DescribeCluster, { min: 0, max: 1 }, (ctx, req) => {
  const { broker } = ctx
  if (req.endpointType !== BROKERS_ENDPOINT) {
    return {
      throttleTimeMs: 0,
      errorCode: ErrorCode.UNSUPPORTED_ENDPOINT_TYPE,
      errorMessage: 'only broker endpoints are served',
      endpointType: req.endpointType,
      clusterId: broker.clusterId,
      brokers: [],
    }
  }
  return {
    throttleTimeMs: 0,
    errorCode: ErrorCode.NONE,
    errorMessage: null,
    endpointType: BROKERS_ENDPOINT,
    clusterId: broker.clusterId,
    controllerId: broker.nodeId,
    brokers: [{ brokerId: broker.nodeId, host: broker.advertised.host, port: broker.advertised.port, rack: null }],
  }
})
