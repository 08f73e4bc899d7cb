/**
 * Record-batch compression codecs, by Kafka's codec id (attributes bits 0–2).
 *
 * Formats, as Kafka peers read and write them:
 * - 1 gzip: RFC 1952 gzip (java.util.zip / zlib).
 * - 2 snappy: xerial-framed on encode, xerial or raw on decode (snappy-xerial.ts).
 * - 3 lz4: one standard LZ4 frame (lz4-napi: independent blocks of 64 KiB to
 *   4 MiB, no content size, no checksums, a correct header checksum). Java's
 *   reader accepts block sizes 64 KiB..4 MiB and requires independent blocks.
 *   Kafka's broken header checksum applies only to magic 0 message sets, never v2.
 * - 4 zstd: a standard zstd frame (zstd.ts).
 *
 * The async forms keep large batches off the event loop: gzip, snappy and lz4
 * run on libuv's thread pool; zstd yields between steps (zstd-napi has no async API).
 *
 * Decompression is capped (`maxOutput`), because the bytes come from the network
 * and a small batch can expand enormously.
 */
import { promisify } from 'node:util'
import zlib from 'node:zlib'
import { CorruptCompressedError, UnsupportedCodecError } from './compression-errors.ts'
import { checkLz4Frames } from './lz4-frame.ts'
import { lz4 } from './native.ts'
import { snappyDecompress, snappyDecompressSync, xerialCompress, xerialCompressSync } from './snappy-xerial.ts'
import { zstdCompress, zstdCompressSync, zstdDecompress, zstdDecompressSync } from './zstd.ts'

export { CODEC_NAMES, CompressionError, CorruptCompressedError, UnsupportedCodecError } from './compression-errors.ts'

/** 0 none, 1 gzip, 2 snappy, 3 lz4, 4 zstd. */
export type Codec = 0 | 1 | 2 | 3 | 4

/** Default ceiling on one batch's decompressed size. Kafka has none; we'd rather fail than allocate without bound. */
export const DEFAULT_MAX_DECOMPRESSED = 256 * 1024 * 1024

export function isCodec(id: number): id is Codec {
  return id === 0 || id === 1 || id === 2 || id === 3 || id === 4
}

const gzipAsync = promisify(zlib.gzip)
const gunzipAsync = promisify(zlib.gunzip)

function fail(codec: number, err: unknown): CorruptCompressedError {
  if (err instanceof CorruptCompressedError) return err
  const code = (err as { code?: string }).code
  const reason = code === 'ERR_BUFFER_TOO_LARGE' ? 'output exceeds the size limit' : err instanceof Error ? err.message : String(err)
  return new CorruptCompressedError(codec, reason, err)
}

/** lz4-napi cannot cap its output; LZ4's worst-case ratio (~255:1) bounds what it allocates, and we check after. */
function lz4Capped(out: Buffer, maxOutput: number): Buffer {
  if (out.length > maxOutput) throw new CorruptCompressedError(3, `output of ${out.length} bytes exceeds the ${maxOutput}-byte limit`)
  return out
}

export function compressSync(codec: Codec, data: Buffer): Buffer {
  switch (codec) {
    case 0:
      return data
    case 1:
      return zlib.gzipSync(data)
    case 2:
      return xerialCompressSync(data)
    case 3:
      return lz4().compressFrameSync(data)
    case 4:
      return zstdCompressSync(data)
    default:
      throw new UnsupportedCodecError(codec)
  }
}

export async function compress(codec: Codec, data: Buffer): Promise<Buffer> {
  switch (codec) {
    case 0:
      return data
    case 1:
      return gzipAsync(data)
    case 2:
      return xerialCompress(data)
    case 3:
      return lz4().compressFrame(data)
    case 4:
      return zstdCompress(data)
    default:
      throw new UnsupportedCodecError(codec)
  }
}

/** `codec` is a raw id from the wire: anything but 0..4 throws UnsupportedCodecError. */
export function decompressSync(codec: number, data: Buffer, maxOutput = DEFAULT_MAX_DECOMPRESSED): Buffer {
  try {
    switch (codec) {
      case 0:
        return data
      case 1:
        return zlib.gunzipSync(data, { maxOutputLength: maxOutput })
      case 2:
        return snappyDecompressSync(data, maxOutput)
      case 3:
        checkLz4Frames(data)
        return lz4Capped(lz4().decompressFrameSync(data), maxOutput)
      case 4:
        return zstdDecompressSync(data, maxOutput)
    }
  } catch (err) {
    throw fail(codec, err)
  }
  throw new UnsupportedCodecError(codec)
}

export async function decompress(codec: number, data: Buffer, maxOutput = DEFAULT_MAX_DECOMPRESSED): Promise<Buffer> {
  try {
    switch (codec) {
      case 0:
        return data
      case 1:
        return await gunzipAsync(data, { maxOutputLength: maxOutput })
      case 2:
        return await snappyDecompress(data, maxOutput)
      case 3:
        checkLz4Frames(data)
        return lz4Capped(await lz4().decompressFrame(data), maxOutput)
      case 4:
        return await zstdDecompress(data, maxOutput)
    }
  } catch (err) {
    throw fail(codec, err)
  }
  throw new UnsupportedCodecError(codec)
}
