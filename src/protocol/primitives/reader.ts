/**
 * Big-endian reader over one frame. Any read past the end throws
 * `TruncatedError`: a request that lies about its lengths is rejected whole,
 * never half-applied.
 */
export class TruncatedError extends Error {
  override readonly name = 'TruncatedError'
  constructor(
    readonly offset: number,
    readonly wanted: number,
    readonly available: number,
  ) {
    super(`truncated input: wanted ${wanted} bytes at offset ${offset}, ${available} available`)
  }
}

export class MalformedError extends Error {
  override readonly name = 'MalformedError'
}

export class Reader {
  readonly buf: Buffer
  offset: number
  readonly end: number

  constructor(buf: Buffer, offset = 0, end = buf.length) {
    this.buf = buf
    this.offset = offset
    this.end = end
  }

  get remaining(): number {
    return this.end - this.offset
  }

  #need(n: number): number {
    const at = this.offset
    if (n < 0 || at + n > this.end) throw new TruncatedError(at, n, this.end - at)
    this.offset = at + n
    return at
  }

  int8(): number {
    return this.buf.readInt8(this.#need(1))
  }

  uint8(): number {
    return this.buf[this.#need(1)] as number
  }

  bool(): boolean {
    return this.uint8() !== 0
  }

  int16(): number {
    return this.buf.readInt16BE(this.#need(2))
  }

  uint16(): number {
    return this.buf.readUInt16BE(this.#need(2))
  }

  int32(): number {
    return this.buf.readInt32BE(this.#need(4))
  }

  uint32(): number {
    return this.buf.readUInt32BE(this.#need(4))
  }

  int64(): bigint {
    return this.buf.readBigInt64BE(this.#need(8))
  }

  float64(): number {
    return this.buf.readDoubleBE(this.#need(8))
  }

  uvarint(): number {
    let result = 0
    let shift = 0
    for (;;) {
      const b = this.uint8()
      if (shift === 28 && b > 0x0f) throw new MalformedError('unsigned varint longer than 32 bits')
      result |= (b & 0x7f) << shift
      if ((b & 0x80) === 0) return result >>> 0
      shift += 7
    }
  }

  varint(): number {
    const u = this.uvarint()
    return (u >>> 1) ^ -(u & 1)
  }

  varlong(): bigint {
    let result = 0n
    let shift = 0n
    for (;;) {
      const b = this.uint8()
      result |= BigInt(b & 0x7f) << shift
      if ((b & 0x80) === 0) break
      shift += 7n
      if (shift > 63n) throw new MalformedError('varlong longer than 64 bits')
    }
    return (result >> 1n) ^ -(result & 1n)
  }

  uuid(): Buffer {
    return this.bytes(16)
  }

  /** A view of the next n bytes (no copy). */
  bytes(n: number): Buffer {
    const at = this.#need(n)
    return this.buf.subarray(at, at + n)
  }

  utf8(n: number): string {
    const at = this.#need(n)
    return this.buf.toString('utf8', at, at + n)
  }

  skip(n: number): void {
    this.#need(n)
  }
}
