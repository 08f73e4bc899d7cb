/** A record batch that cannot be decoded: bad framing, CRC, codec data or record fields. */
export class CorruptBatchError extends Error {
  override readonly name = 'CorruptBatchError'
  constructor(
    /** Short description of what is wrong, without the "corrupt record batch" prefix. */
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`corrupt record batch: ${reason}`, options)
  }
}
