/**
 * Walks a partition's batches from an offset to the log end, a chunk of
 * whole batches at a time, yielding each batch's place in its chunk. Used
 * where the broker rebuilds state from a log (group records, producer
 * sequences); the Fetch path reads chunks itself and never walks batches.
 */

import { batchSpans } from '../../protocol/records/batch.ts'
import { batchHeader } from '../../protocol/records/batch-header.ts'
import type { PartitionLog } from './partition-log.ts'

const CHUNK_BYTES = 4 << 20

export function* batchesFrom(log: PartitionLog, from: bigint): Generator<{ buf: Buffer; at: number; size: number }> {
  let offset = from < log.logStartOffset ? log.logStartOffset : from
  while (offset < log.logEndOffset) {
    const read = log.read(offset, CHUNK_BYTES, { upTo: log.logEndOffset, minOneBatch: true })
    const buf = read.records.length === 1 ? (read.records[0] as Buffer) : Buffer.concat(read.records)
    let advanced = false
    for (const s of batchSpans(buf)) {
      yield { buf, at: s.at, size: s.size }
      offset = batchHeader.baseOffset(buf, s.at) + BigInt(batchHeader.lastOffsetDelta(buf, s.at)) + 1n
      advanced = true
    }
    if (!advanced) return
  }
}
