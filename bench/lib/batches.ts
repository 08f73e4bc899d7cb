/**
 * Record batches built once, before any timing, with the project's encoder:
 * `recordSize`-byte values (no key, no headers), uncompressed, as many as fit
 * in `batchBytes`.
 */
import { randomBytes } from 'node:crypto'
import { encodeBatch } from '../../src/protocol/records/batch.ts'

export interface BuiltBatch {
  buf: Buffer
  records: number
  recordSize: number
  /** Sum of the values' sizes (the payload a user would count). */
  payloadBytes: number
}

/** The largest batch of `recordSize`-byte records that is at most `batchBytes` long. */
export function buildBatch(recordSize: number, batchBytes: number): BuiltBatch {
  // Printable random bytes, so a kcat/console consumer can show them; content does not matter uncompressed.
  const pool = Buffer.from(
    randomBytes(recordSize + 4096)
      .toString('base64')
      .slice(0, recordSize + 4096),
  )
  const ts = Date.now()
  const build = (count: number) =>
    encodeBatch({
      records: Array.from({ length: count }, (_, i) => ({ value: pool.subarray(i % 4096, (i % 4096) + recordSize), timestamp: ts })),
      timestamp: ts,
    })
  // ~10 bytes of framing per record (varint lengths and deltas, null key, no headers); correct from the real size.
  let count = Math.max(1, Math.floor((batchBytes - 61) / (recordSize + 10)))
  let buf = build(count)
  while (buf.length > batchBytes && count > 1) {
    count = Math.max(1, Math.floor(count * (batchBytes / buf.length)) - 1)
    buf = build(count)
  }
  return { buf, records: count, recordSize, payloadBytes: count * recordSize }
}
