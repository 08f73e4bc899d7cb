/**
 * Big-endian writer for Kafka's wire format.
 *
 * Small values go into a growing scratch buffer; byte fields at or above
 * `BORROW_THRESHOLD` are kept as references to the caller's buffers so that a
 * Fetch response can carry record batches read from disk without copying them
 * a second time. `chunks()` returns the pieces in order, ready for writev.
 */
const BORROW_THRESHOLD = 4096

export class Writer {
  #buf: Buffer
  #off = 0
  #done: Buffer[] = []
  #doneBytes = 0

  constructor(initial = 256) {
    this.#buf = Buffer.allocUnsafe(initial)
  }

  get length(): number {
    return this.#doneBytes + this.#off
  }

  #ensure(n: number): void {
    if (this.#off + n <= this.#buf.length) return
    const next = Buffer.allocUnsafe(Math.max(this.#buf.length * 2, this.#off + n, 256))
    this.#buf.copy(next, 0, 0, this.#off)
    this.#buf = next
  }

  int8(v: number): this {
    this.#ensure(1)
    this.#buf.writeInt8(v, this.#off)
    this.#off += 1
    return this
  }

  uint8(v: number): this {
    this.#ensure(1)
    this.#buf[this.#off++] = v & 0xff
    return this
  }

  bool(v: boolean): this {
    return this.uint8(v ? 1 : 0)
  }

  int16(v: number): this {
    this.#ensure(2)
    this.#buf.writeInt16BE(v, this.#off)
    this.#off += 2
    return this
  }

  uint16(v: number): this {
    this.#ensure(2)
    this.#buf.writeUInt16BE(v, this.#off)
    this.#off += 2
    return this
  }

  int32(v: number): this {
    this.#ensure(4)
    this.#buf.writeInt32BE(v, this.#off)
    this.#off += 4
    return this
  }

  uint32(v: number): this {
    this.#ensure(4)
    this.#buf.writeUInt32BE(v >>> 0, this.#off)
    this.#off += 4
    return this
  }

  int64(v: bigint): this {
    this.#ensure(8)
    this.#buf.writeBigInt64BE(v, this.#off)
    this.#off += 8
    return this
  }

  float64(v: number): this {
    this.#ensure(8)
    this.#buf.writeDoubleBE(v, this.#off)
    this.#off += 8
    return this
  }

  /** Unsigned LEB128 varint (protocol lengths, tag numbers); never zigzag. */
  uvarint(v: number): this {
    this.#ensure(5)
    let x = v >>> 0
    while (x >= 0x80) {
      this.#buf[this.#off++] = (x & 0x7f) | 0x80
      x >>>= 7
    }
    this.#buf[this.#off++] = x
    return this
  }

  /** Zigzag varint (record fields). */
  varint(v: number): this {
    return this.uvarint((v << 1) ^ (v >> 31))
  }

  /** Zigzag varlong (record timestamp deltas). */
  varlong(v: bigint): this {
    this.#ensure(10)
    let x = BigInt.asUintN(64, (v << 1n) ^ (v >> 63n))
    while (x >= 0x80n) {
      this.#buf[this.#off++] = Number(x & 0x7fn) | 0x80
      x >>= 7n
    }
    this.#buf[this.#off++] = Number(x)
    return this
  }

  uuid(v: Buffer): this {
    if (v.length !== 16) throw new RangeError(`uuid must be 16 bytes, got ${v.length}`)
    return this.raw(v)
  }

  /** Appends bytes verbatim; large buffers are referenced, not copied. */
  raw(v: Uint8Array): this {
    if (v.length >= BORROW_THRESHOLD) {
      this.#flushScratch()
      const b = Buffer.isBuffer(v) ? v : Buffer.from(v.buffer, v.byteOffset, v.length)
      this.#done.push(b)
      this.#doneBytes += b.length
      return this
    }
    this.#ensure(v.length)
    this.#buf.set(v, this.#off)
    this.#off += v.length
    return this
  }

  #flushScratch(): void {
    if (this.#off === 0) return
    const piece = this.#buf.subarray(0, this.#off)
    this.#done.push(piece)
    this.#doneBytes += piece.length
    this.#buf = Buffer.allocUnsafe(Math.max(256, this.#buf.length - this.#off))
    this.#off = 0
  }

  utf8(s: string): this {
    const n = Buffer.byteLength(s)
    this.#ensure(n)
    this.#buf.write(s, this.#off, n, 'utf8')
    this.#off += n
    return this
  }

  /** The written bytes as a list of chunks, in order. */
  chunks(): Buffer[] {
    if (this.#off === 0) return this.#done.slice()
    return [...this.#done, this.#buf.subarray(0, this.#off)]
  }

  /** The written bytes as one buffer (copies when borrowed chunks exist). */
  toBuffer(): Buffer {
    const c = this.chunks()
    if (c.length === 1) return c[0] as Buffer
    return Buffer.concat(c, this.length)
  }
}
