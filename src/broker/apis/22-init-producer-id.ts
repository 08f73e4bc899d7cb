import { InitProducerId } from '../../protocol/apis/index.ts'
import { ErrorCode } from '../../protocol/errors.ts'
import { defineHandler } from './handler.ts'

const MAX_EPOCH = 32767

export const initProducerIdHandler = defineHandler(InitProducerId, { min: 0, max: 4 }, (ctx, req) => {
  const { broker } = ctx
  if (req.transactionalId !== null) {
    // Transactions are not implemented (and their APIs not advertised); say so instead of pretending.
    return { throttleTimeMs: 0, errorCode: ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED, producerId: -1n, producerEpoch: -1 }
  }
  // KIP-360: a producer that already has an id may ask for an epoch bump to reset its sequences.
  if (req.producerId >= 0n) {
    const known = broker.producers.epochOf(req.producerId)
    if (known !== undefined && req.producerEpoch !== known) {
      return { throttleTimeMs: 0, errorCode: ErrorCode.INVALID_PRODUCER_EPOCH, producerId: -1n, producerEpoch: -1 }
    }
    const next = (known ?? req.producerEpoch) + 1
    if (next <= MAX_EPOCH) {
      broker.producers.noteEpoch(req.producerId, next)
      return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, producerId: req.producerId, producerEpoch: next }
    }
  }
  const producerId = broker.nextProducerId()
  broker.producers.noteEpoch(producerId, 0)
  return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, producerId, producerEpoch: 0 }
})
