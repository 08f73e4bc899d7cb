/**
 * Field positions of a v2 RecordBatch header (61 bytes, big-endian), and
 * accessors that read or patch them in place. The broker moves batches as
 * bytes: these are all it needs to assign offsets and index a batch without
 * decoding its records.
 */
export const BATCH_HEADER_SIZE = 61
/** Bytes before batchLength's payload: baseOffset (8) + batchLength (4). */
export const LOG_OVERHEAD = 12

export const Off = {
  baseOffset: 0,
  batchLength: 8,
  partitionLeaderEpoch: 12,
  magic: 16,
  crc: 17,
  attributes: 21,
  lastOffsetDelta: 23,
  baseTimestamp: 27,
  maxTimestamp: 35,
  producerId: 43,
  producerEpoch: 51,
  baseSequence: 53,
  recordCount: 57,
  records: 61,
} as const

/** Start of the CRC-covered region (attributes through the end of the batch). */
export const CRC_START = Off.attributes

export const Attr = {
  compressionMask: 0x07,
  timestampType: 0x08,
  transactional: 0x10,
  control: 0x20,
  deleteHorizon: 0x40,
} as const

export const Compression = { none: 0, gzip: 1, snappy: 2, lz4: 3, zstd: 4 } as const
export type CompressionCodec = (typeof Compression)[keyof typeof Compression]

/** A read-only view of one batch's header fields. `at` is the batch's first byte within `buf`. */
export const batchHeader = {
  baseOffset: (buf: Buffer, at = 0): bigint => buf.readBigInt64BE(at + Off.baseOffset),
  batchLength: (buf: Buffer, at = 0): number => buf.readInt32BE(at + Off.batchLength),
  /** Total bytes of the batch including the 12-byte offset/length prefix. */
  totalSize: (buf: Buffer, at = 0): number => buf.readInt32BE(at + Off.batchLength) + LOG_OVERHEAD,
  magic: (buf: Buffer, at = 0): number => buf.readInt8(at + Off.magic),
  crc: (buf: Buffer, at = 0): number => buf.readUInt32BE(at + Off.crc),
  attributes: (buf: Buffer, at = 0): number => buf.readInt16BE(at + Off.attributes),
  compression: (buf: Buffer, at = 0): number => buf.readInt16BE(at + Off.attributes) & Attr.compressionMask,
  isControl: (buf: Buffer, at = 0): boolean => (buf.readInt16BE(at + Off.attributes) & Attr.control) !== 0,
  isTransactional: (buf: Buffer, at = 0): boolean => (buf.readInt16BE(at + Off.attributes) & Attr.transactional) !== 0,
  isLogAppendTime: (buf: Buffer, at = 0): boolean => (buf.readInt16BE(at + Off.attributes) & Attr.timestampType) !== 0,
  lastOffsetDelta: (buf: Buffer, at = 0): number => buf.readInt32BE(at + Off.lastOffsetDelta),
  baseTimestamp: (buf: Buffer, at = 0): bigint => buf.readBigInt64BE(at + Off.baseTimestamp),
  maxTimestamp: (buf: Buffer, at = 0): bigint => buf.readBigInt64BE(at + Off.maxTimestamp),
  producerId: (buf: Buffer, at = 0): bigint => buf.readBigInt64BE(at + Off.producerId),
  producerEpoch: (buf: Buffer, at = 0): number => buf.readInt16BE(at + Off.producerEpoch),
  baseSequence: (buf: Buffer, at = 0): number => buf.readInt32BE(at + Off.baseSequence),
  recordCount: (buf: Buffer, at = 0): number => buf.readInt32BE(at + Off.recordCount),
}

/** In-place patches of the fields outside the CRC: the broker assigns these. */
export const patchBatch = {
  baseOffset: (buf: Buffer, v: bigint, at = 0): void => {
    buf.writeBigInt64BE(v, at + Off.baseOffset)
  },
  partitionLeaderEpoch: (buf: Buffer, v: number, at = 0): void => {
    buf.writeInt32BE(v, at + Off.partitionLeaderEpoch)
  },
}
