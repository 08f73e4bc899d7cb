/**
 * Rebuilds a partition's idempotent-producer state after a restart by
 * walking the batch headers of its newest segment (no records are decoded).
 * Kafka keeps snapshots for this; the tail of the log carries the same
 * facts for every producer that wrote recently, and a producer not found
 * there is treated as new (KIP-360), exactly as Kafka does once its state
 * has expired.
 */

import { batchSpans } from '../../protocol/records/batch.ts'
import { batchHeader } from '../../protocol/records/batch-header.ts'
import type { PartitionLog } from '../log/index.ts'
import { lastSequence, type ProducerStates } from './producer-state.ts'

const READ_CHUNK = 1 << 20

export function loadProducerState(states: ProducerStates, tp: string, log: PartitionLog): void {
  if (!states.markLoaded(tp)) return
  const bases = log.segmentBases()
  let offset = bases.length > 0 ? (bases[bases.length - 1] as bigint) : log.logStartOffset
  if (offset < log.logStartOffset) offset = log.logStartOffset
  while (offset < log.logEndOffset) {
    const read = log.read(offset, READ_CHUNK, { upTo: log.logEndOffset, minOneBatch: true })
    const buf = read.records.length === 1 ? (read.records[0] as Buffer) : Buffer.concat(read.records)
    let advanced = false
    for (const s of batchSpans(buf)) {
      const base = batchHeader.baseOffset(buf, s.at)
      const delta = batchHeader.lastOffsetDelta(buf, s.at)
      const pid = batchHeader.producerId(buf, s.at)
      if (pid >= 0n && !batchHeader.isControl(buf, s.at)) {
        const firstSeq = batchHeader.baseSequence(buf, s.at)
        states.record(tp, pid, batchHeader.producerEpoch(buf, s.at), {
          firstSeq,
          lastSeq: lastSequence(firstSeq, delta),
          baseOffset: base,
          lastOffset: base + BigInt(delta),
        })
      }
      offset = base + BigInt(delta) + 1n
      advanced = true
    }
    if (!advanced) break
  }
}
