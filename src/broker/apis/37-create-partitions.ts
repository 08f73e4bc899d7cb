import { CreatePartitions } from '../../protocol/apis/index.ts'
import { ErrorCode } from '../../protocol/errors.ts'
import { defineHandler } from './handler.ts'

export const createPartitionsHandler = defineHandler(CreatePartitions, { min: 0, max: 3 }, async (ctx, req) => {
  const { broker } = ctx
  const results = []
  for (const t of req.topics) {
    const meta = broker.logs.topic(t.name)
    const fail = (errorCode: number, errorMessage: string) => results.push({ name: t.name, errorCode, errorMessage })
    if (!meta) {
      fail(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `The topic '${t.name}' does not exist.`)
      continue
    }
    if (t.count < meta.partitions) {
      fail(
        ErrorCode.INVALID_PARTITIONS,
        `Topic currently has ${meta.partitions} partitions, which is higher than the requested ${t.count}.`,
      )
      continue
    }
    if (t.count === meta.partitions) {
      fail(ErrorCode.INVALID_PARTITIONS, `Topic already has ${meta.partitions} partitions.`)
      continue
    }
    if (t.assignments !== null) {
      const ok =
        t.assignments.length === t.count - meta.partitions &&
        t.assignments.every((a) => a.brokerIds.length === 1 && a.brokerIds[0] === broker.nodeId)
      if (!ok) {
        fail(ErrorCode.INVALID_REPLICA_ASSIGNMENT, `Assignments must place each new partition on broker ${broker.nodeId} only.`)
        continue
      }
    }
    if (!req.validateOnly) {
      await broker.logs.addPartitions(t.name, t.count)
      broker.log(`topic ${t.name} now has ${t.count} partitions`)
    }
    results.push({ name: t.name, errorCode: ErrorCode.NONE, errorMessage: null })
  }
  return { throttleTimeMs: 0, results }
})
