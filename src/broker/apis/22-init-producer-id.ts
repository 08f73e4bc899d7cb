import { InitProducerId } from '../../protocol/apis/index.ts'
import { ErrorCode } from '../../protocol/errors.ts'
import { defineHandler } from './handler.ts'

export const initProducerIdHandler = defineHandler(InitProducerId, { min: 0, max: 4 }, (ctx, req) => {
  const { broker } = ctx
  if (req.transactionalId !== null) {
    // Transactions are not implemented (and their APIs not advertised); say so instead of pretending.
    return { throttleTimeMs: 0, errorCode: ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED, producerId: -1n, producerEpoch: -1 }
  }
  // Without a transactional id Kafka ignores any producer id and epoch sent and hands out a fresh id at epoch 0;
  // idempotent producers bump their epoch themselves (KIP-360).
  const producerId = broker.nextProducerId()
  broker.producers.noteEpoch(producerId, 0)
  return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, producerId, producerEpoch: 0 }
})
