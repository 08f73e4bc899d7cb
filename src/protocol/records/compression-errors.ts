/**
 * Errors from the codec layer. Two kinds, because the broker answers them
 * differently: an unknown codec id is UNSUPPORTED_COMPRESSION_TYPE (76), bytes a
 * known codec cannot decode are CORRUPT_MESSAGE (2).
 */
export const CODEC_NAMES: Record<number, string> = { 0: 'none', 1: 'gzip', 2: 'snappy', 3: 'lz4', 4: 'zstd' }

export class CompressionError extends Error {
  override readonly name: string = 'CompressionError'
  constructor(
    readonly codec: number,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options)
  }
}

/** The codec id is not one of 0..4. */
export class UnsupportedCodecError extends CompressionError {
  override readonly name = 'UnsupportedCodecError'
  constructor(codec: number) {
    super(codec, `unsupported compression codec id ${codec}`)
  }
}

/** The input is not valid for its codec, is truncated, or would decompress beyond the output limit. */
export class CorruptCompressedError extends CompressionError {
  override readonly name = 'CorruptCompressedError'
  constructor(codec: number, reason: string, cause?: unknown) {
    super(codec, `corrupt ${CODEC_NAMES[codec] ?? `codec ${codec}`} data: ${reason}`, cause === undefined ? undefined : { cause })
  }
}
