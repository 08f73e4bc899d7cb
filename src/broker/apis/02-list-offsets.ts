import { ListOffsets } from '../../protocol/apis/index.ts'
import { ErrorCode } from '../../protocol/errors.ts'
import { defineHandler } from './handler.ts'

/** Special timestamps a ListOffsets request may carry instead of a time. */
export const OffsetSpec = { latest: -1n, earliest: -2n, maxTimestamp: -3n, earliestLocal: -4n, latestTiered: -5n } as const

export const listOffsetsHandler = defineHandler(ListOffsets, { min: 1, max: 9 }, (ctx, req) => {
  const { broker } = ctx
  return {
    throttleTimeMs: 0,
    topics: req.topics.map((t) => ({
      name: t.name,
      partitions: t.partitions.map((p) => {
        const none = { partitionIndex: p.partitionIndex, timestamp: -1n, offset: -1n, leaderEpoch: -1 }
        const log = broker.logs.partition(t.name, p.partitionIndex)
        if (!log) return { ...none, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION }
        if (p.currentLeaderEpoch > 0) return { ...none, errorCode: ErrorCode.UNKNOWN_LEADER_EPOCH }
        const found = (offset: bigint, timestamp = -1n) => ({ ...none, errorCode: ErrorCode.NONE, offset, timestamp, leaderEpoch: 0 })
        switch (p.timestamp) {
          case OffsetSpec.latest:
            // No transactions are ever open here, so the last stable offset is the high watermark.
            return found(log.logEndOffset)
          case OffsetSpec.earliest:
          case OffsetSpec.earliestLocal:
            return found(log.logStartOffset)
          case OffsetSpec.maxTimestamp: {
            const max = log.maxTimestampOffset()
            return max ? found(max.offset, max.timestamp) : { ...none, errorCode: ErrorCode.NONE }
          }
          case OffsetSpec.latestTiered:
            // Nothing is tiered: Kafka answers with no offset.
            return { ...none, errorCode: ErrorCode.NONE }
          default: {
            if (p.timestamp < 0n) return { ...none, errorCode: ErrorCode.INVALID_REQUEST }
            const hit = log.offsetForTimestamp(p.timestamp)
            return hit ? found(hit.offset, hit.timestamp) : { ...none, errorCode: ErrorCode.NONE }
          }
        }
      }),
    })),
  }
})
