import { Produce } from '../../protocol/apis/index.ts'
import { ErrorCode } from '../../protocol/errors.ts'
import { batchSpans, checkBatch, decodeBatch } from '../../protocol/records/batch.ts'
import { batchHeader, Compression } from '../../protocol/records/batch-header.ts'
import type { BrokerContext } from '../context.ts'
import { AppendNotifier } from '../produce/append-notifier.ts'
import { lastSequence } from '../produce/producer-state.ts'
import { loadProducerState } from '../produce/producer-state-loader.ts'
import { defineHandler } from './handler.ts'

interface PartitionResult {
  index: number
  errorCode: number
  baseOffset: bigint
  logAppendTimeMs: bigint
  logStartOffset: bigint
  recordErrors: { batchIndex: number; batchIndexErrorMessage: string | null }[]
  errorMessage: string | null
}

function failed(index: number, errorCode: number, errorMessage: string | null = null): PartitionResult {
  return { index, errorCode, baseOffset: -1n, logAppendTimeMs: -1n, logStartOffset: -1n, recordErrors: [], errorMessage }
}

interface Span {
  at: number
  size: number
}

/**
 * Checks a partition's record set without decoding records: every batch's
 * header and CRC, its size against max.message.bytes, and its codec against
 * the request version. Returns the spans or a failure.
 */
function validate(records: Buffer, version: number, maxMessageBytes: number): { spans: Span[] } | { errorCode: number; message: string } {
  const spans: Span[] = []
  let covered = 0
  for (const s of batchSpans(records)) {
    spans.push(s)
    covered = s.at + s.size
  }
  if (spans.length === 0 || covered !== records.length) {
    return { errorCode: ErrorCode.CORRUPT_MESSAGE, message: 'record set is truncated or not made of v2 record batches' }
  }
  for (const s of spans) {
    if (s.size > maxMessageBytes) {
      return {
        errorCode: ErrorCode.MESSAGE_TOO_LARGE,
        message: `batch of ${s.size} bytes is larger than max.message.bytes=${maxMessageBytes}`,
      }
    }
    const check = checkBatch(records, s.at, s.size)
    if (!check.ok) return { errorCode: check.errorCode, message: check.reason }
    if (batchHeader.compression(records, s.at) === Compression.zstd && version < 7) {
      return { errorCode: ErrorCode.UNSUPPORTED_COMPRESSION_TYPE, message: 'zstd needs Produce v7 or later' }
    }
    if (batchHeader.isControl(records, s.at)) {
      return { errorCode: ErrorCode.INVALID_RECORD, message: 'clients may not produce control batches' }
    }
  }
  return { spans }
}

/** Compacted topics need a key on every record; Kafka decodes to check it, and so do we, for those topics only. */
function missingKey(records: Buffer, spans: Span[]): boolean {
  for (const s of spans) {
    const batch = decodeBatch(records, s.at)
    if (batch.records.some((r) => r.key === null)) return true
  }
  return false
}

async function appendPartition(
  broker: BrokerContext,
  topic: string,
  index: number,
  records: Buffer | null,
  version: number,
  durable: boolean,
): Promise<PartitionResult> {
  const meta = broker.logs.topic(topic)
  const log = meta ? broker.logs.partition(topic, index) : undefined
  if (!meta || !log) return failed(index, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION)
  if (!records || records.length === 0) return failed(index, ErrorCode.CORRUPT_MESSAGE, 'empty record set')
  const config = broker.logs.effectiveConfig(topic)
  const checked = validate(records, version, config.maxMessageBytes)
  if ('errorCode' in checked) {
    broker.log(`produce to ${topic}-${index} refused: ${checked.message}`)
    return failed(index, checked.errorCode, checked.message)
  }
  if (config.compact && missingKey(records, checked.spans)) {
    return failed(index, ErrorCode.INVALID_RECORD, 'Compacted topic cannot accept message without key')
  }

  // Idempotent producers: every batch of one request comes from the same producer in practice; check each.
  const tp = AppendNotifier.key(topic, index)
  const first = checked.spans[0] as Span
  const pid = batchHeader.producerId(records, first.at)
  let seqs: { epoch: number; firstSeq: number; lastSeq: number } | null = null
  if (pid >= 0n) {
    if (checked.spans.length !== 1) {
      return failed(index, ErrorCode.INVALID_RECORD, 'idempotent produce must carry exactly one batch per partition')
    }
    const epoch = batchHeader.producerEpoch(records, first.at)
    const firstSeq = batchHeader.baseSequence(records, first.at)
    const lastSeq = lastSequence(firstSeq, batchHeader.lastOffsetDelta(records, first.at))
    loadProducerState(broker.producers, tp, log)
    const verdict = broker.producers.check(tp, pid, epoch, firstSeq, lastSeq)
    if (verdict.kind === 'error') return failed(index, verdict.errorCode, verdict.message)
    if (verdict.kind === 'duplicate') {
      return {
        index,
        errorCode: ErrorCode.NONE,
        baseOffset: verdict.baseOffset,
        logAppendTimeMs: -1n,
        logStartOffset: log.logStartOffset,
        recordErrors: [],
        errorMessage: null,
      }
    }
    seqs = { epoch, firstSeq, lastSeq }
  }

  const appendTime = config.logAppendTime ? BigInt(broker.clock.now()) : undefined
  const appended = log.append(records, appendTime === undefined ? undefined : { logAppendTime: appendTime })
  if (seqs) {
    broker.producers.record(tp, pid, seqs.epoch, {
      firstSeq: seqs.firstSeq,
      lastSeq: seqs.lastSeq,
      baseOffset: appended.baseOffset,
      lastOffset: appended.lastOffset,
    })
  }
  if (durable) await log.flush()
  broker.appends.notify(topic, index)
  return {
    index,
    errorCode: ErrorCode.NONE,
    baseOffset: appended.baseOffset,
    logAppendTimeMs: appendTime ?? -1n,
    logStartOffset: log.logStartOffset,
    recordErrors: [],
    errorMessage: null,
  }
}

export const produceHandler = defineHandler(Produce, { min: 3, max: 11 }, async (ctx, req) => {
  const { broker, version } = ctx
  const acks = req.acks
  const validAcks = acks === 0 || acks === 1 || acks === -1
  const durable = acks === -1 && broker.config['log.flush.mode'] === 'fsync'
  const topicResults = await Promise.all(
    req.topicData.map(async (t) => ({
      name: t.name,
      partitionResponses: await Promise.all(
        t.partitionData.map((p) => {
          if (!validAcks) return failed(p.index, ErrorCode.INVALID_REQUIRED_ACKS)
          if (req.transactionalId !== null)
            return failed(p.index, ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED, 'transactions are not supported')
          return appendPartition(broker, t.name, p.index, p.records, version, durable).catch((err: unknown) => {
            broker.log(`produce to ${t.name}-${p.index} failed: ${err instanceof Error ? err.message : String(err)}`)
            return failed(p.index, ErrorCode.KAFKA_STORAGE_ERROR, 'append failed')
          })
        }),
      ),
    })),
  )
  if (acks === 0) return null
  return { responses: topicResults, throttleTimeMs: 0 }
})
