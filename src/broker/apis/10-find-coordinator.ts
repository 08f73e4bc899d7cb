import { FindCoordinator } from '../../protocol/apis/index.ts'
import { ErrorCode } from '../../protocol/errors.ts'
import { defineHandler } from './handler.ts'

const GROUP = 0

export const findCoordinatorHandler = defineHandler(FindCoordinator, { min: 0, max: 4 }, (ctx, req) => {
  const { broker, version } = ctx
  const answer = (key: string) => {
    if (req.keyType !== GROUP) {
      // Transaction coordinators do not exist here; Kafka gives this answer while its own is unavailable.
      return {
        key,
        nodeId: -1,
        host: '',
        port: -1,
        errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE,
        errorMessage: 'transactions are not supported',
      }
    }
    if (key === '') return { key, nodeId: -1, host: '', port: -1, errorCode: ErrorCode.INVALID_GROUP_ID, errorMessage: 'group id is empty' }
    return {
      key,
      nodeId: broker.nodeId,
      host: broker.advertised.host,
      port: broker.advertised.port,
      errorCode: ErrorCode.NONE,
      errorMessage: null,
    }
  }
  if (version >= 4) return { throttleTimeMs: 0, coordinators: req.coordinatorKeys.map(answer) }
  const one = answer(req.key)
  return { throttleTimeMs: 0, errorCode: one.errorCode, errorMessage: one.errorMessage, nodeId: one.nodeId, host: one.host, port: one.port }
})
