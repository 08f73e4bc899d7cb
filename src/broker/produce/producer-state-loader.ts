/**
 * Rebuilds a partition's idempotent-producer state after a restart by
 * walking the batch headers of its newest segment (no records are decoded).
 * Kafka keeps snapshots for this; the tail of the log carries the same
 * facts for every producer that wrote recently, and a producer not found
 * there is treated as new (KIP-360), exactly as Kafka does once its state
 * has expired.
 */

import { batchHeader } from '../../protocol/records/batch-header.ts'
import { batchesFrom, type PartitionLog } from '../log/index.ts'
import { lastSequence, type ProducerStates } from './producer-state.ts'

export function loadProducerState(states: ProducerStates, tp: string, log: PartitionLog): void {
  if (!states.markLoaded(tp)) return
  const bases = log.segmentBases()
  const from = bases.length > 0 ? (bases[bases.length - 1] as bigint) : log.logStartOffset
  for (const { buf, at } of batchesFrom(log, from)) {
    const pid = batchHeader.producerId(buf, at)
    if (pid < 0n || batchHeader.isControl(buf, at)) continue
    const base = batchHeader.baseOffset(buf, at)
    const delta = batchHeader.lastOffsetDelta(buf, at)
    const firstSeq = batchHeader.baseSequence(buf, at)
    states.record(tp, pid, batchHeader.producerEpoch(buf, at), {
      firstSeq,
      lastSeq: lastSequence(firstSeq, delta),
      baseOffset: base,
      lastOffset: base + BigInt(delta),
    })
  }
}
