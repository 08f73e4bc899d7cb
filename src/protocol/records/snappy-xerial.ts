/**
 * Snappy as Kafka peers write it.
 *
 * The Java client wraps records in snappy-java's `SnappyOutputStream` ("xerial"
 * framing): an 8-byte magic `\x82SNAPPY\0`, int32 version (1), int32 minimum
 * compatible version (1), then any number of `int32 length + raw snappy block`
 * chunks (32 KiB of input each by default). librdkafka writes one raw snappy
 * block with no framing. Both readers accept both forms: Java's
 * `SnappyInputStream` falls back to raw when the magic is absent, and librdkafka
 * checks for the magic. So we encode xerial (what the reference client writes)
 * and decode either.
 */

import { CorruptCompressedError } from './compression-errors.ts'
import { snappy } from './native.ts'

const MAGIC = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00])
/** First 4 magic bytes read as an int32: a chunk length equal to this starts a concatenated stream. */
const MAGIC_HEAD = MAGIC.readInt32BE(0)
const HEADER_SIZE = 16
/** snappy-java's default block size, which Kafka's producer uses. */
export const XERIAL_BLOCK = 32 * 1024

const CODEC = 2

export function isXerial(data: Uint8Array): boolean {
  return data.length >= HEADER_SIZE && MAGIC.equals(data.subarray(0, 8))
}

function header(): Buffer {
  const h = Buffer.alloc(HEADER_SIZE)
  MAGIC.copy(h, 0)
  h.writeInt32BE(1, 8)
  h.writeInt32BE(1, 12)
  return h
}

/** Splits input into xerial-sized blocks. Empty input still yields one (empty) block: librdkafka only
 * recognises framing when there are more than 20 bytes, so a header-only stream would be misread as raw. */
function blocks(data: Buffer): Buffer[] {
  if (data.length === 0) return [data]
  const out: Buffer[] = []
  for (let at = 0; at < data.length; at += XERIAL_BLOCK) out.push(data.subarray(at, at + XERIAL_BLOCK))
  return out
}

function frame(compressed: Buffer[]): Buffer {
  let total = HEADER_SIZE
  for (const c of compressed) total += 4 + c.length
  const out = Buffer.allocUnsafe(total)
  header().copy(out, 0)
  let at = HEADER_SIZE
  for (const c of compressed) {
    out.writeInt32BE(c.length, at)
    c.copy(out, at + 4)
    at += 4 + c.length
  }
  return out
}

export function xerialCompressSync(data: Buffer): Buffer {
  return frame(blocks(data).map((b) => snappy().compressSync(b)))
}

/** Blocks are compressed in parallel on libuv's pool. */
export async function xerialCompress(data: Buffer): Promise<Buffer> {
  return frame(await Promise.all(blocks(data).map((b) => snappy().compress(b))))
}

/** Reads raw snappy's preamble (uncompressed length, unsigned varint) so output can be capped before allocating. */
function rawLength(block: Uint8Array): number {
  let result = 0
  for (let i = 0, shift = 0; i < 5 && i < block.length; i++, shift += 7) {
    const b = block[i] as number
    result += (b & 0x7f) * 2 ** shift
    if ((b & 0x80) === 0) return result
  }
  throw new CorruptCompressedError(CODEC, 'snappy block has a bad length preamble')
}

/** Splits a xerial stream into its raw blocks, validating the framing. */
function chunks(data: Buffer, maxOutput: number): Buffer[] {
  const out: Buffer[] = []
  let total = 0
  let at = 0
  while (at < data.length) {
    if (at === 0 || (at + 4 <= data.length && data.readInt32BE(at) === MAGIC_HEAD)) {
      // A stream header (snappy-java also accepts concatenated streams, each with its own header).
      if (at + HEADER_SIZE > data.length || !MAGIC.equals(data.subarray(at, at + 8))) {
        throw new CorruptCompressedError(CODEC, 'truncated xerial snappy header')
      }
      if (data.readInt32BE(at + 12) > 1) throw new CorruptCompressedError(CODEC, 'unsupported xerial snappy version')
      at += HEADER_SIZE
      continue
    }
    if (at + 4 > data.length) throw new CorruptCompressedError(CODEC, 'truncated xerial snappy chunk length')
    const len = data.readInt32BE(at)
    at += 4
    if (len < 0 || at + len > data.length) throw new CorruptCompressedError(CODEC, `xerial snappy chunk of ${len} bytes overruns the input`)
    const block = data.subarray(at, at + len)
    total += rawLength(block)
    if (total > maxOutput) throw new CorruptCompressedError(CODEC, `snappy output exceeds the ${maxOutput}-byte limit`)
    out.push(block)
    at += len
  }
  return out
}

function uncompressBlockSync(block: Buffer): Buffer {
  try {
    return snappy().uncompressSync(block, { asBuffer: true }) as Buffer
  } catch (err) {
    throw new CorruptCompressedError(CODEC, errMessage(err), err)
  }
}

async function uncompressBlock(block: Buffer): Promise<Buffer> {
  try {
    return (await snappy().uncompress(block, { asBuffer: true })) as Buffer
  } catch (err) {
    throw new CorruptCompressedError(CODEC, errMessage(err), err)
  }
}

function errMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}

function checkRaw(data: Buffer, maxOutput: number): void {
  if (data.length === 0) throw new CorruptCompressedError(CODEC, 'empty snappy input')
  const n = rawLength(data)
  if (n > maxOutput) throw new CorruptCompressedError(CODEC, `snappy output of ${n} bytes exceeds the ${maxOutput}-byte limit`)
}

/** Decodes xerial-framed or raw snappy. */
export function snappyDecompressSync(data: Buffer, maxOutput: number): Buffer {
  if (!isXerial(data)) {
    checkRaw(data, maxOutput)
    return uncompressBlockSync(data)
  }
  const parts = chunks(data, maxOutput).map(uncompressBlockSync)
  return parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts)
}

export async function snappyDecompress(data: Buffer, maxOutput: number): Promise<Buffer> {
  if (!isXerial(data)) {
    checkRaw(data, maxOutput)
    return uncompressBlock(data)
  }
  const parts = await Promise.all(chunks(data, maxOutput).map(uncompressBlock))
  return parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts)
}
