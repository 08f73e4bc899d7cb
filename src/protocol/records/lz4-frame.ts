/**
 * Structural check of LZ4 frames before handing them to lz4-napi.
 *
 * lz4_flex's frame decoder returns success for an empty input and for a frame
 * whose end mark is cut off, where Kafka's Java reader fails with "Stream ended
 * prematurely". Walking the block lengths is cheap (no decompression) and makes
 * truncation an error here too. Exactly one frame is allowed: lz4_flex would
 * silently drop a second one, and Kafka peers write one. The header checksum and
 * block contents are left to lz4_flex.
 */
import { CorruptCompressedError } from './compression-errors.ts'

const MAGIC = 0x184d2204
const CODEC = 3

function fail(reason: string): never {
  throw new CorruptCompressedError(CODEC, reason)
}

export function checkLz4Frames(data: Uint8Array): void {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength)
  const n = data.length
  if (n === 0) fail('empty lz4 input')
  if (n < 7) fail('truncated lz4 frame header')
  if (view.getUint32(0, true) !== MAGIC) fail('not an lz4 frame (bad magic)')
  const flg = view.getUint8(4)
  const bd = view.getUint8(5)
  if (flg >> 6 !== 1) fail(`unsupported lz4 frame version ${flg >> 6}`)
  const blockChecksum = (flg & 0x10) !== 0
  const contentSize = (flg & 0x08) !== 0
  const contentChecksum = (flg & 0x04) !== 0
  const dictId = (flg & 0x01) !== 0
  const sizeId = (bd >> 4) & 7
  if (sizeId < 4) fail(`invalid lz4 block size id ${sizeId}`)
  const maxBlock = 1 << (2 * sizeId + 8)
  let at = 6 + (contentSize ? 8 : 0) + (dictId ? 4 : 0) + 1
  if (at > n) fail('truncated lz4 frame header')
  for (;;) {
    if (at + 4 > n) fail('lz4 frame ends before its end mark')
    const word = view.getUint32(at, true)
    at += 4
    if (word === 0) break
    const size = word & 0x7fffffff
    if (size > maxBlock) fail(`lz4 block of ${size} bytes exceeds the frame's ${maxBlock}-byte maximum`)
    at += size + (blockChecksum ? 4 : 0)
    if (at > n) fail('truncated lz4 block')
  }
  if (contentChecksum) at += 4
  if (at > n) fail('truncated lz4 content checksum')
  if (at < n) fail(`${n - at} trailing bytes after the lz4 frame`)
}
