import { CreateTopics } from '../../protocol/apis/index.ts'
import { ErrorCode } from '../../protocol/errors.ts'
import { ZERO_UUID } from '../../protocol/schema/codec.ts'
import { describeTopicConfigs } from '../describe-configs.ts'
import { createTopic, TopicError } from '../topics.ts'
import { defineHandler } from './handler.ts'

export const createTopicsHandler = defineHandler(CreateTopics, { min: 0, max: 7 }, async (ctx, req) => {
  const { broker } = ctx
  const seen = new Map<string, number>()
  for (const t of req.topics) seen.set(t.name, (seen.get(t.name) ?? 0) + 1)
  const topics = []
  for (const t of req.topics) {
    const base = { name: t.name, topicId: ZERO_UUID, numPartitions: -1, replicationFactor: -1, configs: null }
    if ((seen.get(t.name) ?? 0) > 1) {
      topics.push({
        ...base,
        errorCode: ErrorCode.INVALID_REQUEST,
        errorMessage: `Create topics request from client contains topic ${t.name} more than once.`,
      })
      continue
    }
    try {
      let partitions = t.numPartitions
      let rf = t.replicationFactor
      if (t.assignments.length > 0) {
        // Manual assignment: allowed only when it places every partition on this node alone.
        if (partitions !== -1 || rf !== -1)
          throw new TopicError(ErrorCode.INVALID_REQUEST, 'Both numPartitions or replicationFactor and replicasAssignments were set.')
        const ok = t.assignments.every((a, i) => a.partitionIndex === i && a.brokerIds.length === 1 && a.brokerIds[0] === broker.nodeId)
        if (!ok)
          throw new TopicError(
            ErrorCode.INVALID_REPLICA_ASSIGNMENT,
            `Replica assignment must place partitions 0..n-1 on broker ${broker.nodeId} only.`,
          )
        partitions = t.assignments.length
        rf = 1
      }
      const configs: Record<string, string> = {}
      for (const c of t.configs) {
        if (c.value === null) throw new TopicError(ErrorCode.INVALID_CONFIG, `Null value not supported for topic config ${c.name}`)
        configs[c.name] = c.value
      }
      const created = await createTopic(broker, t.name, partitions, rf, configs, req.validateOnly)
      topics.push({
        name: t.name,
        topicId: created.id === '' ? ZERO_UUID : created.id,
        errorCode: ErrorCode.NONE,
        errorMessage: null,
        numPartitions: created.partitions,
        replicationFactor: 1,
        configs: describeTopicConfigs(broker, created.configs).map((c) => ({
          name: c.name,
          value: c.value,
          readOnly: c.readOnly,
          configSource: c.configSource,
          isSensitive: false,
        })),
      })
    } catch (err) {
      if (!(err instanceof TopicError)) throw err
      topics.push({ ...base, errorCode: err.errorCode, errorMessage: err.message })
    }
  }
  return { throttleTimeMs: 0, topics }
})
