import { DeleteRecords } from '../../protocol/apis/index.ts'
import { ErrorCode } from '../../protocol/errors.ts'
import { defineHandler } from './handler.ts'

export const deleteRecordsHandler = defineHandler(DeleteRecords, { min: 0, max: 2 }, (ctx, req) => {
  const { broker } = ctx
  return {
    throttleTimeMs: 0,
    topics: req.topics.map((t) => ({
      name: t.name,
      partitions: t.partitions.map((p) => {
        const log = broker.logs.partition(t.name, p.partitionIndex)
        if (!log) return { partitionIndex: p.partitionIndex, lowWatermark: -1n, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION }
        // -1 means "up to the high watermark".
        const target = p.offset === -1n ? log.logEndOffset : p.offset
        if (target < 0n || target > log.logEndOffset) {
          return { partitionIndex: p.partitionIndex, lowWatermark: -1n, errorCode: ErrorCode.OFFSET_OUT_OF_RANGE }
        }
        const low = log.deleteRecordsBefore(target)
        return { partitionIndex: p.partitionIndex, lowWatermark: low, errorCode: ErrorCode.NONE }
      }),
    })),
  }
})
