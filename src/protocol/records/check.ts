/**
 * The broker's produce-time check of one batch, from the header and CRC alone:
 * no record is decoded and nothing is decompressed, so checking costs one CRC pass.
 * Error codes and their order follow Kafka (DefaultRecordBatch.ensureValid,
 * ProduceRequest.validateRecords, LogValidator.validateBatch).
 */
import { ErrorCode } from '../errors.ts'
import { BATCH_HEADER_SIZE, batchHeader, CRC_START, LOG_OVERHEAD, Off } from './batch-header.ts'
import { crc32c } from './crc32c.ts'
import { MIN_RECORD_SIZE } from './record.ts'

/** The Kafka error codes `checkBatch` returns. */
export const BatchErrorCode = {
  CORRUPT_MESSAGE: ErrorCode.CORRUPT_MESSAGE, // 2
  UNSUPPORTED_COMPRESSION_TYPE: ErrorCode.UNSUPPORTED_COMPRESSION_TYPE, // 76
  INVALID_RECORD: ErrorCode.INVALID_RECORD, // 87
} as const

export type BatchCheck = { ok: true } | { ok: false; errorCode: number; reason: string }

export interface CheckOptions {
  /**
   * Data from a compacted log: records may be missing from the middle or the
   * whole batch may be empty, so only `lastOffsetDelta >= recordCount - 1` is
   * required. Default false: produce rules, `lastOffsetDelta == recordCount - 1`
   * and at least one record.
   */
  compacted?: boolean
}

const OK: BatchCheck = { ok: true }

function corrupt(reason: string): BatchCheck {
  return { ok: false, errorCode: BatchErrorCode.CORRUPT_MESSAGE, reason }
}

function invalid(reason: string): BatchCheck {
  return { ok: false, errorCode: BatchErrorCode.INVALID_RECORD, reason }
}

/**
 * Checks the batch at `buf[at]`. With `size`, the batch must be exactly `size`
 * bytes (the span from `batchSpans`); without it, the batch must fit in the rest of `buf`.
 *
 * Deviation from a "recordCount >= 0" rule: like Kafka's LogValidator, an empty
 * batch is INVALID_RECORD from a producer ("Invalid reported count"); pass
 * `{ compacted: true }` for log data, where empty batches are legitimate.
 */
export function checkBatch(buf: Buffer, at = 0, size?: number, opts: CheckOptions = {}): BatchCheck {
  const available = size ?? buf.length - at
  if (at < 0 || available < 0 || at + available > buf.length) return corrupt(`batch span [${at}, ${at + available}) is outside the buffer`)
  if (available < BATCH_HEADER_SIZE) return corrupt(`batch of ${available} bytes is smaller than the ${BATCH_HEADER_SIZE}-byte header`)
  const total = batchHeader.totalSize(buf, at)
  if (total < BATCH_HEADER_SIZE) return corrupt(`batchLength ${total - LOG_OVERHEAD} is smaller than the header`)
  if (size !== undefined ? total !== size : total > available) {
    return corrupt(
      `batchLength ${total - LOG_OVERHEAD} says ${total} bytes, but ${available} are ${size !== undefined ? 'given' : 'available'}`,
    )
  }
  // Kafka: ProduceRequest.validateRecords requires magic 2 from Produce v3 on (InvalidRecordException).
  const magic = batchHeader.magic(buf, at)
  if (magic !== 2) return invalid(`magic ${magic}, only 2 is supported`)
  const stored = batchHeader.crc(buf, at)
  const computed = crc32c(buf.subarray(at + CRC_START, at + total))
  if (stored !== computed) return corrupt(`CRC mismatch: stored 0x${stored.toString(16)}, computed 0x${computed.toString(16)}`)
  const codec = batchHeader.compression(buf, at)
  if (codec > 4)
    return { ok: false, errorCode: BatchErrorCode.UNSUPPORTED_COMPRESSION_TYPE, reason: `unknown compression codec id ${codec}` }
  const count = batchHeader.recordCount(buf, at)
  const lastOffsetDelta = batchHeader.lastOffsetDelta(buf, at)
  if (count < 0) return invalid(`negative record count ${count}`)
  if (opts.compacted) {
    if (lastOffsetDelta < count - 1) return invalid(`lastOffsetDelta ${lastOffsetDelta} is below recordCount - 1 = ${count - 1}`)
  } else {
    if (count === 0) return invalid('batch has no records')
    if (lastOffsetDelta !== count - 1) return invalid(`lastOffsetDelta ${lastOffsetDelta} does not match recordCount ${count}`)
  }
  // Uncompressed, the count is also bounded by the bytes: Kafka finds this while iterating ("premature EOF").
  if (codec === 0 && count > (total - Off.records) / MIN_RECORD_SIZE) {
    return invalid(`record count ${count} is more than ${total - Off.records} bytes of records can hold`)
  }
  return OK
}
