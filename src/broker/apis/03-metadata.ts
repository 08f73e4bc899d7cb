import { Metadata } from '../../protocol/apis/index.ts'
import { ErrorCode } from '../../protocol/errors.ts'
import { ZERO_UUID } from '../../protocol/schema/codec.ts'
import type { BrokerContext } from '../context.ts'
import { INTERNAL_TOPICS, topicNameError } from '../topic-names.ts'
import { autoCreateTopic, type TopicView } from '../topics.ts'
import { defineHandler } from './handler.ts'

// Authorized-operations fields say "not requested" with Int32.MIN_VALUE.
const NOT_REQUESTED = -2147483648

function describeTopic(broker: BrokerContext, t: TopicView) {
  const partitions = []
  for (let p = 0; p < t.partitions; p++) {
    partitions.push({
      errorCode: ErrorCode.NONE,
      partitionIndex: p,
      leaderId: broker.nodeId,
      leaderEpoch: 0,
      replicaNodes: [broker.nodeId],
      isrNodes: [broker.nodeId],
      offlineReplicas: [],
    })
  }
  return {
    errorCode: ErrorCode.NONE,
    name: t.name,
    topicId: t.id,
    isInternal: INTERNAL_TOPICS.has(t.name),
    partitions,
    topicAuthorizedOperations: NOT_REQUESTED,
  }
}

export const metadataHandler = defineHandler(Metadata, { min: 0, max: 12 }, async (ctx, req) => {
  const { broker, version } = ctx
  // v0: an empty list means every topic; v1+: null means every topic and an empty list none.
  const all = req.topics === null || (version === 0 && req.topics.length === 0)
  // Before v4 there is no flag and auto-creation follows the broker setting alone.
  const allowAuto = version < 4 ? true : req.allowAutoTopicCreation
  const topics = []
  if (all) {
    for (const t of broker.logs.topics()) topics.push(describeTopic(broker, t))
  } else {
    for (const wanted of req.topics ?? []) {
      let name = wanted.name
      if (name === null || name === undefined) {
        const byId = wanted.topicId && wanted.topicId !== ZERO_UUID ? broker.logs.topicById(wanted.topicId) : undefined
        if (!byId) {
          topics.push({
            errorCode: ErrorCode.UNKNOWN_TOPIC_ID,
            name: null,
            topicId: wanted.topicId ?? ZERO_UUID,
            isInternal: false,
            partitions: [],
          })
          continue
        }
        name = byId.name
      }
      let t: TopicView | undefined = broker.logs.topic(name)
      if (!t) {
        const invalid = topicNameError(name)
        if (invalid) {
          topics.push({ errorCode: ErrorCode.INVALID_TOPIC_EXCEPTION, name, topicId: ZERO_UUID, isInternal: false, partitions: [] })
          continue
        }
        if (allowAuto && broker.config['auto.create.topics.enable']) t = await autoCreateTopic(broker, name)
      }
      if (!t) {
        topics.push({ errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, name, topicId: ZERO_UUID, isInternal: false, partitions: [] })
        continue
      }
      topics.push(describeTopic(broker, t))
    }
  }
  return {
    throttleTimeMs: 0,
    brokers: [{ nodeId: broker.nodeId, host: broker.advertised.host, port: broker.advertised.port, rack: null }],
    clusterId: broker.clusterId,
    controllerId: broker.nodeId,
    topics,
    clusterAuthorizedOperations: NOT_REQUESTED,
  }
})
