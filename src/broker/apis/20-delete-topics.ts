import { DeleteTopics } from '../../protocol/apis/index.ts'
import { ErrorCode } from '../../protocol/errors.ts'
import { ZERO_UUID } from '../../protocol/schema/codec.ts'
import { AppendNotifier } from '../produce/append-notifier.ts'
import { INTERNAL_TOPICS } from '../topic-names.ts'
import { defineHandler } from './handler.ts'

export const deleteTopicsHandler = defineHandler(DeleteTopics, { min: 0, max: 6 }, async (ctx, req) => {
  const { broker, version } = ctx
  const wanted = version >= 6 ? req.topics : req.topicNames.map((name) => ({ name, topicId: ZERO_UUID }))
  const responses = []
  for (const w of wanted) {
    const meta = w.name !== null ? broker.logs.topic(w.name) : broker.logs.topicById(w.topicId)
    if (!meta) {
      const byId = w.name === null
      responses.push({
        name: w.name,
        topicId: w.topicId,
        errorCode: byId ? ErrorCode.UNKNOWN_TOPIC_ID : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
        errorMessage: byId ? `Topic id ${w.topicId} does not exist` : 'This server does not host this topic-partition.',
      })
      continue
    }
    if (INTERNAL_TOPICS.has(meta.name)) {
      responses.push({
        name: meta.name,
        topicId: meta.id,
        errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED,
        errorMessage: 'Internal topics cannot be deleted',
      })
      continue
    }
    await broker.logs.deleteTopic(meta.name)
    for (let p = 0; p < meta.partitions; p++) broker.producers.dropPartition(AppendNotifier.key(meta.name, p))
    broker.log(`deleted topic ${meta.name}`)
    responses.push({ name: meta.name, topicId: meta.id, errorCode: ErrorCode.NONE, errorMessage: null })
  }
  return { throttleTimeMs: 0, responses }
})
