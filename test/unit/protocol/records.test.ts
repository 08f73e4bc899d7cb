import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { describe, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import zlib from 'node:zlib'
import snappy from 'snappy'
import { Produce } from '../../../src/protocol/apis/index.ts'
import { decodeRequestBody, readRequestHeader } from '../../../src/protocol/frame.ts'
import { Reader } from '../../../src/protocol/primitives/reader.ts'
import {
  batchSpans,
  CorruptBatchError,
  checkBatch,
  controlRecord,
  controlType,
  type DecodedBatch,
  decodeBatch,
  decodeBatchAsync,
  decodeBatches,
  encodeBatch,
  encodeBatchAsync,
  type RecordInput,
  stampLogAppendTime,
} from '../../../src/protocol/records/batch.ts'
import { Off } from '../../../src/protocol/records/batch-header.ts'
import {
  type Codec,
  CorruptCompressedError,
  compress,
  compressSync,
  decompress,
  decompressSync,
  UnsupportedCodecError,
} from '../../../src/protocol/records/compression.ts'
import { crc32c, crc32cImpl } from '../../../src/protocol/records/crc32c.ts'
import { crc32cJs } from '../../../src/protocol/records/crc32c-js.ts'

const CODECS: [Codec, string][] = [
  [0, 'none'],
  [1, 'gzip'],
  [2, 'snappy'],
  [3, 'lz4'],
  [4, 'zstd'],
]

/** Re-signs a batch after a test edits a CRC-covered field. */
function resign(buf: Buffer, at = 0): Buffer {
  buf.writeUInt32BE(crc32c(buf.subarray(at + Off.attributes, at + buf.readInt32BE(at + Off.batchLength) + 12)), at + Off.crc)
  return buf
}

const asBuf = (v: Buffer | string | null | undefined): Buffer | null =>
  v === null || v === undefined ? null : typeof v === 'string' ? Buffer.from(v) : v

function assertRecords(batch: DecodedBatch, input: RecordInput[], baseOffset: bigint): void {
  assert.equal(batch.records.length, input.length)
  input.forEach((want, i) => {
    const got = batch.records[i]!
    assert.equal(got.offset, baseOffset + BigInt(i))
    assert.deepEqual(got.key, asBuf(want.key))
    assert.deepEqual(got.value, asBuf(want.value))
    if (want.timestamp !== undefined) assert.equal(got.timestamp, BigInt(want.timestamp))
    assert.deepEqual(
      got.headers,
      (want.headers ?? []).map((h) => ({ key: h.key, value: asBuf(h.value) })),
    )
  })
}

const MIXED: RecordInput[] = [
  { key: 'k1', value: 'v1', timestamp: 1_700_000_000_000n },
  { key: null, value: 'no key', timestamp: 1_700_000_000_005 },
  { key: Buffer.from([0, 1, 2]), value: null, timestamp: 1_699_999_999_000n }, // earlier than the base: negative delta
  {
    value: Buffer.alloc(0),
    headers: [
      { key: 'h', value: 'x' },
      { key: 'null-h', value: null },
      { key: 'ü-ключ', value: Buffer.from([255]) },
    ],
  },
  { key: '', value: 'é'.repeat(300), headers: [{ key: '', value: '' }] },
]

describe('crc32c', () => {
  test('Kafka / iSCSI check value: "123456789" → 0xE3069283, native and JS', () => {
    assert.equal(crc32c(Buffer.from('123456789')), 0xe3069283)
    assert.equal(crc32cJs(Buffer.from('123456789')), 0xe3069283)
    assert.equal(crc32cImpl, 'native')
  })

  test('unsigned results, empty input, chaining, and JS agrees with native on every length 0..300', () => {
    assert.equal(crc32c(Buffer.alloc(0)), 0)
    assert.equal(crc32c(Buffer.alloc(32, 0xff)), 0x62a8ab43) // RFC 3720 B.4: 32 bytes of 0xFF
    assert.equal(crc32c(Buffer.alloc(32)), 0x8a9136aa) // RFC 3720 B.4: 32 zero bytes
    const data = randomBytes(300)
    for (let n = 0; n <= 300; n++) {
      const b = data.subarray(0, n)
      const c = crc32c(b)
      assert.ok(c >= 0 && c <= 0xffffffff)
      assert.equal(crc32cJs(b), c, `length ${n}`)
      const cut = n >> 1
      assert.equal(crc32c(b.subarray(cut), crc32c(b.subarray(0, cut))), c)
      assert.equal(crc32cJs(b.subarray(cut), crc32cJs(b.subarray(0, cut))), c)
    }
  })
})

describe('compression', () => {
  const text = Buffer.from('{"user":42,"event":"click","path":"/a/b/c"}\n'.repeat(5000))
  const inputs = [Buffer.alloc(0), Buffer.from('x'), randomBytes(100_000), text]

  for (const [codec, name] of CODECS) {
    test(`${name}: sync and async round trip, and the two forms read each other`, async () => {
      for (const data of inputs) {
        const a = compressSync(codec, data)
        const b = await compress(codec, data)
        assert.deepEqual(decompressSync(codec, a), data)
        assert.deepEqual(decompressSync(codec, b), data)
        assert.deepEqual(await decompress(codec, a), data)
        assert.deepEqual(await decompress(codec, b), data)
      }
      if (codec !== 0) assert.ok(compressSync(codec, text).length < text.length / 5)
    })

    if (codec === 0) continue
    test(`${name}: truncated, garbage and empty input throw CorruptCompressedError`, async () => {
      const z = compressSync(codec, text)
      const bad = [
        z.subarray(0, z.length - 1),
        z.subarray(0, z.length >> 1),
        Buffer.from('definitely not compressed data'),
        Buffer.alloc(0),
      ]
      for (const b of bad) {
        assert.throws(() => decompressSync(codec, b), CorruptCompressedError)
        await assert.rejects(decompress(codec, b), CorruptCompressedError)
      }
    })

    test(`${name}: output is capped`, async () => {
      const z = compressSync(codec, text)
      assert.throws(
        () => decompressSync(codec, z, 1000),
        (e: unknown) => e instanceof CorruptCompressedError && /limit/.test(e.message),
      )
      await assert.rejects(decompress(codec, z, 1000), CorruptCompressedError)
    })
  }

  test('async forms let the event loop run while a large payload is (de)compressed', async () => {
    const big = Buffer.from(randomBytes(3 << 20).toString('base64'))
    for (const [codec, name] of CODECS.slice(1)) {
      const z = compressSync(codec, big)
      for (const work of [() => compress(codec, big), () => decompress(codec, z)]) {
        let ticks = 0
        let done = false
        const tick = () => {
          ticks++
          if (!done) setImmediate(tick)
        }
        setImmediate(tick)
        await work()
        done = true
        assert.ok(ticks > 0, `${name}: the loop turned while it worked`)
      }
    }
  })

  test('unknown codec ids throw UnsupportedCodecError', async () => {
    assert.throws(() => decompressSync(5, Buffer.from('x')), UnsupportedCodecError)
    await assert.rejects(decompress(7, Buffer.from('x')), UnsupportedCodecError)
    assert.throws(
      () => compressSync(6 as Codec, Buffer.from('x')),
      (e: unknown) => e instanceof UnsupportedCodecError && e.codec === 6,
    )
  })

  test('snappy: we write xerial framing, 32 KiB blocks, header \\x82SNAPPY\\0 + version 1 + compatible 1', () => {
    const data = Buffer.from(randomBytes(40_000).toString('hex')) // 80,000 bytes: three blocks
    const z = compressSync(2, data)
    assert.equal(z.subarray(0, 16).toString('hex'), '82534e415050590000000001' + '00000001')
    let at = 16
    const lengths: number[] = []
    while (at < z.length) {
      const n = z.readInt32BE(at)
      lengths.push(snappy.uncompressSync(z.subarray(at + 4, at + 4 + n), { asBuffer: true }).length)
      at += 4 + n
    }
    assert.equal(at, z.length)
    assert.deepEqual(lengths, [32768, 32768, 80000 - 65536])
  })

  test('snappy: decodes raw snappy (librdkafka) and hand-built xerial framing, including concatenated streams', async () => {
    const data = Buffer.from('hello snappy '.repeat(10_000))
    const raw = snappy.compressSync(data)
    assert.notEqual(raw[0], 0x82)
    assert.deepEqual(decompressSync(2, raw), data)
    assert.deepEqual(await decompress(2, raw), data)

    // snappy-java's SnappyOutputStream layout, built by hand with an odd block size.
    const header = Buffer.from('82534e41505059000000000100000001', 'hex')
    const chunk = (b: Buffer) => {
      const c = snappy.compressSync(b)
      const len = Buffer.alloc(4)
      len.writeInt32BE(c.length)
      return Buffer.concat([len, c])
    }
    const half = data.length >> 1
    const framed = Buffer.concat([
      header,
      chunk(data.subarray(0, 1000)),
      chunk(data.subarray(1000, half)),
      header,
      chunk(data.subarray(half)),
    ])
    assert.deepEqual(decompressSync(2, framed), data)
    assert.deepEqual(await decompress(2, framed), data)
    // A header with no chunks (snappy-java's output for no input) is empty.
    assert.equal(decompressSync(2, header).length, 0)
    // A chunk length pointing past the end is corrupt.
    const lying = Buffer.from(framed)
    lying.writeInt32BE(1 << 30, 16)
    assert.throws(() => decompressSync(2, lying), CorruptCompressedError)
  })

  test('lz4: a standard frame with independent blocks, no checksums, and a correct header checksum', () => {
    const z = compressSync(3, Buffer.from('abc'.repeat(100)))
    assert.equal(z.readUInt32LE(0), 0x184d2204)
    const flg = z[4]!
    assert.equal(flg >> 6, 1, 'version 01')
    assert.equal(flg & 0x20, 0x20, 'independent blocks (Java requires them)')
    assert.equal(flg & 0x1c, 0, 'no block checksum, content size or content checksum')
    assert.ok([4, 5, 6, 7].includes((z[5]! >> 4) & 7), 'block size id Java accepts')
    // A frame with a flipped header-checksum byte (the magic-v0 quirk) is rejected for v2 data.
    const broken = Buffer.from(z)
    broken[6]! ^= 0xff
    assert.throws(() => decompressSync(3, broken), CorruptCompressedError)
  })

  test('gzip: reads multi-member streams (zlib / java.util.zip output)', () => {
    const a = Buffer.from('first '.repeat(100))
    const b = Buffer.from('second '.repeat(100))
    assert.deepEqual(decompressSync(1, Buffer.concat([zlib.gzipSync(a), zlib.gzipSync(b)])), Buffer.concat([a, b]))
  })
})

describe('record batch', () => {
  for (const [codec, name] of CODECS) {
    test(`${name}: round trip with null keys/values, headers and timestamps (sync and async encode/decode)`, async () => {
      const input = {
        records: MIXED,
        compression: codec,
        baseOffset: 1000n,
        partitionLeaderEpoch: 3,
        producerId: 77n,
        producerEpoch: 2,
        baseSequence: 10,
      }
      const sync = encodeBatch(input)
      const async = await encodeBatchAsync(input)
      for (const buf of [sync, async]) {
        assert.deepEqual(checkBatch(buf), { ok: true })
        for (const batch of [decodeBatch(buf), await decodeBatchAsync(buf)]) {
          assert.equal(batch.baseOffset, 1000n)
          assert.equal(batch.batchLength, buf.length - 12)
          assert.equal(batch.partitionLeaderEpoch, 3)
          assert.equal(batch.magic, 2)
          assert.equal(batch.compression, codec)
          assert.equal(batch.attributes, codec)
          assert.equal(batch.lastOffsetDelta, MIXED.length - 1)
          assert.equal(batch.producerId, 77n)
          assert.equal(batch.producerEpoch, 2)
          assert.equal(batch.baseSequence, 10)
          assert.equal(batch.baseTimestamp, 1_700_000_000_000n, 'baseTimestamp is the first record’s')
          assert.ok(batch.maxTimestamp >= 1_700_000_000_005n, 'maxTimestamp is the largest')
          assert.equal(batch.logAppendTime || batch.isTransactional || batch.isControl, false)
          assertRecords(batch, MIXED, 1000n)
        }
      }
    })

    test(`${name}: 1 record and 10,000 records`, async () => {
      const one = decodeBatch(encodeBatch({ records: [{ key: 'k', value: 'v', timestamp: 5 }], compression: codec }))
      assert.equal(one.records.length, 1)
      assert.equal(one.records[0]!.timestamp, 5n)
      assert.equal(one.lastOffsetDelta, 0)

      const many: RecordInput[] = Array.from({ length: 10_000 }, (_, i) => ({
        key: `key-${i}`,
        value: i % 97 === 0 ? null : `value ${i} `.repeat(i % 7),
        timestamp: 1_000_000n + BigInt(i),
        headers: i % 10 === 0 ? [{ key: 'i', value: String(i) }] : [],
      }))
      const buf = await encodeBatchAsync({ records: many, compression: codec })
      assert.deepEqual(checkBatch(buf), { ok: true })
      const batch = decodeBatch(buf)
      assert.equal(batch.lastOffsetDelta, 9999)
      assert.equal(batch.maxTimestamp, 1_000_000n + 9999n)
      assertRecords(batch, many, 0n)
    })
  }

  test('defaults: offsets 0.., producer fields -1, leader epoch -1, timestamps now', () => {
    const before = BigInt(Date.now())
    const b = decodeBatch(encodeBatch({ records: [{ value: 'a' }, { value: 'b' }] }))
    const after = BigInt(Date.now())
    assert.equal(b.baseOffset, 0n)
    assert.equal(b.producerId, -1n)
    assert.equal(b.producerEpoch, -1)
    assert.equal(b.baseSequence, -1)
    assert.equal(b.partitionLeaderEpoch, -1)
    assert.ok(b.baseTimestamp >= before && b.baseTimestamp <= after)
    assert.equal(b.records[1]!.timestamp, b.baseTimestamp)
    assert.equal(b.records[1]!.offset, 1n)
    const withBase = decodeBatch(encodeBatch({ records: [{ value: 'a' }, { value: 'b', timestamp: 50 }], timestamp: 40 }))
    assert.equal(withBase.baseTimestamp, 40n)
    assert.deepEqual(
      withBase.records.map((r) => r.timestamp),
      [40n, 50n],
    )
  })

  test('record timestamps: negative deltas and values beyond 2^53 survive', () => {
    const big = 2n ** 60n
    const b = decodeBatch(
      encodeBatch({
        records: [
          { value: 'a', timestamp: big },
          { value: 'b', timestamp: big - 10_000_000n },
        ],
      }),
    )
    assert.deepEqual(
      b.records.map((r) => r.timestamp),
      [big, big - 10_000_000n],
    )
  })

  test('flags: transactional, control and LogAppendTime set attribute bits', () => {
    const b = decodeBatch(encodeBatch({ records: [{ value: 'a', timestamp: 1 }], transactional: true, logAppendTime: true, timestamp: 99 }))
    assert.equal(b.isTransactional, true)
    assert.equal(b.logAppendTime, true)
    assert.equal(b.attributes, 0x18)
    assert.equal(b.maxTimestamp, 99n)
    assert.equal(b.records[0]!.timestamp, 99n, 'LogAppendTime: records report the batch maxTimestamp')
  })

  test('stampLogAppendTime rewrites attributes and maxTimestamp and keeps the CRC valid', () => {
    const buf = encodeBatch({ records: [{ value: 'a', timestamp: 5 }], compression: 2 })
    stampLogAppendTime(buf, 0, 123n)
    assert.deepEqual(checkBatch(buf), { ok: true })
    const b = decodeBatch(buf)
    assert.equal(b.logAppendTime, true)
    assert.equal(b.compression, 2)
    assert.equal(b.records[0]!.timestamp, 123n)
  })

  test('control batches: commit and abort markers', () => {
    for (const type of ['commit', 'abort'] as const) {
      const buf = encodeBatch({ records: [controlRecord(type, 5)], control: true, transactional: true, producerId: 9n, producerEpoch: 1 })
      const b = decodeBatch(buf)
      assert.equal(b.isControl, true)
      assert.equal(b.isTransactional, true)
      const r = b.records[0]!
      assert.equal(controlType(r), type)
      assert.equal(r.key!.toString('hex'), type === 'commit' ? '00000001' : '00000000')
      assert.equal(r.value!.readInt32BE(2), 5, 'coordinator epoch')
    }
    assert.equal(controlType({ key: null }), null)
    assert.equal(controlType({ key: Buffer.from([0, 0]) }), null)
    assert.equal(controlType({ key: Buffer.from([0, 0, 0, 2]) }), null)
  })

  test('records alias the input buffer (no copies) for uncompressed batches', () => {
    const buf = encodeBatch({ records: [{ key: 'k', value: 'value' }] })
    const v = decodeBatch(buf).records[0]!.value!
    assert.equal(v.buffer, buf.buffer)
  })

  test('decodeBatch at an offset inside a larger buffer', () => {
    const a = encodeBatch({ records: [{ value: 'a' }], baseOffset: 0n })
    const b = encodeBatch({ records: [{ value: 'b' }, { value: 'c' }], baseOffset: 1n, compression: 4 })
    const set = Buffer.concat([a, b, a.subarray(0, 30)])
    const d = decodeBatch(set, a.length)
    assert.deepEqual(
      d.records.map((r) => [r.offset, r.value?.toString()]),
      [
        [1n, 'b'],
        [2n, 'c'],
      ],
    )
  })
})

describe('batchSpans and decodeBatches', () => {
  const a = encodeBatch({ records: [{ value: 'a' }], baseOffset: 0n })
  const b = encodeBatch({ records: [{ value: 'b' }, { value: 'c' }], baseOffset: 1n, compression: 1 })
  const c = encodeBatch({ records: [{ value: 'd' }], baseOffset: 3n, compression: 3 })
  const set = Buffer.concat([a, b, c])

  test('walks concatenated batches by header', () => {
    assert.deepEqual(
      [...batchSpans(set)],
      [
        { at: 0, size: a.length },
        { at: a.length, size: b.length },
        { at: a.length + b.length, size: c.length },
      ],
    )
    assert.deepEqual(
      decodeBatches(set).flatMap((d) => d.records.map((r) => r.value?.toString())),
      ['a', 'b', 'c', 'd'],
    )
  })

  test('stops at a torn tail of any length, and decodeBatches ignores it', () => {
    for (let cut = 1; cut < c.length; cut += 7) {
      const torn = set.subarray(0, set.length - cut)
      assert.deepEqual(
        [...batchSpans(torn)].map((s) => s.at),
        [0, a.length],
      )
      assert.equal(decodeBatches(torn).length, 2)
    }
    assert.deepEqual([...batchSpans(Buffer.alloc(0))], [])
    assert.deepEqual([...batchSpans(Buffer.alloc(11))], [])
  })

  test('stops at a length too small to be a batch (garbage, zero padding)', () => {
    const padded = Buffer.concat([a, Buffer.alloc(64)])
    assert.deepEqual([...batchSpans(padded)], [{ at: 0, size: a.length }])
    const negative = Buffer.concat([a, Buffer.from('00000000000000ffffffff00', 'hex'), Buffer.alloc(60)])
    assert.deepEqual([...batchSpans(negative)], [{ at: 0, size: a.length }])
  })
})

describe('checkBatch', () => {
  const good = encodeBatch({ records: [{ key: 'k', value: 'v' }, { value: 'w' }], compression: 2 })
  const CORRUPT_MESSAGE = 2
  const UNSUPPORTED_COMPRESSION_TYPE = 76
  const INVALID_RECORD = 87
  const code = (r: ReturnType<typeof checkBatch>) => (r.ok ? 0 : r.errorCode)

  test('accepts a good batch, alone or as a span of a record set', () => {
    assert.deepEqual(checkBatch(good), { ok: true })
    const set = Buffer.concat([good, good])
    assert.deepEqual(checkBatch(set, good.length, good.length), { ok: true })
    assert.deepEqual(checkBatch(set, 0, good.length), { ok: true })
  })

  test('any flipped bit in the CRC-covered bytes → CORRUPT_MESSAGE', () => {
    for (let byte = Off.attributes; byte < good.length; byte++) {
      const bad = Buffer.from(good)
      bad[byte]! ^= 1 << (byte % 8)
      assert.equal(code(checkBatch(bad)), CORRUPT_MESSAGE, `byte ${byte}`)
    }
    const badCrc = Buffer.from(good)
    badCrc[Off.crc]! ^= 0x80
    const r = checkBatch(badCrc)
    assert.equal(code(r), CORRUPT_MESSAGE)
    assert.ok(!r.ok && /CRC/.test(r.reason))
  })

  test('fields outside the CRC (baseOffset, leader epoch) may change freely', () => {
    const b = Buffer.from(good)
    b.writeBigInt64BE(12345n, Off.baseOffset)
    b.writeInt32BE(7, Off.partitionLeaderEpoch)
    assert.deepEqual(checkBatch(b), { ok: true })
  })

  test('wrong magic → INVALID_RECORD', () => {
    for (const magic of [0, 1, 3]) {
      const b = Buffer.from(good)
      b.writeInt8(magic, Off.magic)
      assert.equal(code(checkBatch(b)), INVALID_RECORD, `magic ${magic}`)
    }
  })

  test('truncated batch, short buffer and lying lengths → CORRUPT_MESSAGE', () => {
    assert.equal(code(checkBatch(good.subarray(0, good.length - 1))), CORRUPT_MESSAGE)
    assert.equal(code(checkBatch(good.subarray(0, 60))), CORRUPT_MESSAGE)
    assert.equal(code(checkBatch(Buffer.alloc(0))), CORRUPT_MESSAGE)
    const longer = Buffer.from(good)
    longer.writeInt32BE(good.length, Off.batchLength) // claims 12 more bytes than there are
    assert.equal(code(checkBatch(longer)), CORRUPT_MESSAGE)
    const shorter = Buffer.from(good)
    shorter.writeInt32BE(good.length - 20, Off.batchLength)
    assert.equal(code(checkBatch(shorter, 0, good.length)), CORRUPT_MESSAGE, 'length disagrees with the span')
    assert.equal(code(checkBatch(shorter)), CORRUPT_MESSAGE, 'the CRC then covers the wrong bytes')
    const tiny = Buffer.from(good)
    tiny.writeInt32BE(10, Off.batchLength)
    assert.equal(code(checkBatch(tiny)), CORRUPT_MESSAGE)
    assert.equal(code(checkBatch(good, 0, good.length + 5)), CORRUPT_MESSAGE, 'span beyond the buffer')
  })

  test('codec ids 5..7 → UNSUPPORTED_COMPRESSION_TYPE', () => {
    for (const id of [5, 6, 7]) {
      const b = Buffer.from(good)
      b.writeInt16BE((b.readInt16BE(Off.attributes) & ~7) | id, Off.attributes)
      assert.equal(code(checkBatch(resign(b))), UNSUPPORTED_COMPRESSION_TYPE)
    }
  })

  test('record count and lastOffsetDelta must agree → INVALID_RECORD', () => {
    const edit = (count: number, lastOffsetDelta: number) => {
      const b = Buffer.from(good)
      b.writeInt32BE(count, Off.recordCount)
      b.writeInt32BE(lastOffsetDelta, Off.lastOffsetDelta)
      return resign(b)
    }
    assert.deepEqual(checkBatch(edit(2, 1)), { ok: true })
    assert.equal(code(checkBatch(edit(2, 2))), INVALID_RECORD)
    assert.equal(code(checkBatch(edit(3, 1))), INVALID_RECORD)
    assert.equal(code(checkBatch(edit(-1, -2))), INVALID_RECORD)
    assert.equal(code(checkBatch(edit(0, -1))), INVALID_RECORD, 'Kafka rejects empty batches from producers')
    // Compacted log data: gaps allowed, empty batches allowed.
    assert.deepEqual(checkBatch(edit(2, 5), 0, undefined, { compacted: true }), { ok: true })
    assert.deepEqual(checkBatch(edit(0, 3), 0, undefined, { compacted: true }), { ok: true })
    assert.equal(code(checkBatch(edit(3, 1), 0, undefined, { compacted: true })), INVALID_RECORD)
  })

  test('an uncompressed record count the bytes cannot hold → INVALID_RECORD, without decoding', () => {
    const b = encodeBatch({ records: [{ value: 'v' }] })
    b.writeInt32BE(1_000_000, Off.recordCount)
    b.writeInt32BE(999_999, Off.lastOffsetDelta)
    assert.equal(code(checkBatch(resign(b))), INVALID_RECORD)
  })
})

describe('decodeBatch rejects corrupt input with CorruptBatchError', () => {
  const isCorrupt = (pattern: RegExp) => (e: unknown) => e instanceof CorruptBatchError && pattern.test(e.reason)

  test('a record count larger than the bytes can hold throws before allocating', () => {
    for (const codec of [0, 4] as const) {
      const b = encodeBatch({ records: [{ value: 'v' }], compression: codec })
      b.writeInt32BE(0x7fffffff, Off.recordCount)
      b.writeInt32BE(0x7ffffffe, Off.lastOffsetDelta)
      assert.throws(() => decodeBatch(resign(b)), isCorrupt(/record count 2147483647/))
    }
  })

  test('a count one too large runs out of bytes; one too small leaves bytes over', () => {
    const b = encodeBatch({ records: Array.from({ length: 20 }, (_, i) => ({ value: `value ${i}` })) })
    const more = Buffer.from(b)
    more.writeInt32BE(21, Off.recordCount)
    assert.throws(() => decodeBatch(resign(more)), CorruptBatchError)
    const fewer = Buffer.from(b)
    fewer.writeInt32BE(19, Off.recordCount)
    assert.throws(() => decodeBatch(resign(fewer)), isCorrupt(/left over/))
  })

  test('bad CRC, magic, truncation and lengths', () => {
    const good = encodeBatch({ records: [{ key: 'k', value: 'v' }] })
    const flipped = Buffer.from(good)
    flipped[good.length - 1]! ^= 1
    assert.throws(() => decodeBatch(flipped), isCorrupt(/CRC/))
    const magic = Buffer.from(good)
    magic[Off.magic] = 1
    assert.throws(() => decodeBatch(magic), isCorrupt(/magic/))
    assert.throws(() => decodeBatch(good.subarray(0, good.length - 1)), isCorrupt(/truncated/))
    assert.throws(() => decodeBatch(good.subarray(0, 40)), CorruptBatchError)
    assert.throws(() => decodeBatch(good, good.length), CorruptBatchError)
  })

  test('a record whose length or key length lies', () => {
    const good = encodeBatch({ records: [{ key: 'k', value: 'v' }] })
    // Record layout: [61] length, [62] attributes, [63] tsDelta, [64] offsetDelta, [65] keyLength.
    const badLen = Buffer.from(good)
    badLen[Off.records] = 0x7e // zigzag 63: beyond the batch
    assert.throws(() => decodeBatch(resign(badLen)), isCorrupt(/length/))
    const badKey = Buffer.from(good)
    badKey[Off.records + 4] = 0x7e
    assert.throws(() => decodeBatch(resign(badKey)), CorruptBatchError)
    const negKey = Buffer.from(good)
    negKey[Off.records + 4] = 0x03 // zigzag -2
    assert.throws(() => decodeBatch(resign(negKey)), isCorrupt(/negative key length/))
  })

  test('corrupt compressed payload, and an unknown codec, become CorruptBatchError with the cause', () => {
    // Drop the lz4 frame's end mark (its last 4 bytes) and re-sign, so only the codec can notice.
    const whole = encodeBatch({ records: [{ value: 'x'.repeat(1000) }], compression: 3 })
    const b = Buffer.from(whole.subarray(0, whole.length - 4))
    b.writeInt32BE(b.length - 12, Off.batchLength)
    assert.throws(
      () => decodeBatch(resign(b)),
      (e: unknown) => e instanceof CorruptBatchError && e.cause instanceof CorruptCompressedError,
    )
    const u = encodeBatch({ records: [{ value: 'x' }] })
    u.writeInt16BE(6, Off.attributes)
    assert.throws(
      () => decodeBatch(resign(u)),
      (e: unknown) => e instanceof CorruptBatchError && e.cause instanceof UnsupportedCodecError,
    )
  })

  test('random corruption never throws anything but CorruptBatchError', () => {
    const base = encodeBatch({ records: MIXED, compression: 0 })
    for (let i = 0; i < 2000; i++) {
      const b = Buffer.from(base)
      const at = Off.records + ((i * 7919) % (b.length - Off.records))
      b[at] = (i * 31) & 0xff
      try {
        decodeBatch(resign(b))
      } catch (e) {
        assert.ok(e instanceof CorruptBatchError, `byte ${at}: ${String(e)}`)
      }
    }
  })
})

/**
 * Batches produced by real peers, captured by a throwaway fake broker on 2026-11-25:
 * kcat 1.7.1 / librdkafka 2.0.2 (`-z <codec>`) and kafka-python 2.0.2 (`compression_type`).
 * Each holds three records: key 'k', value 'interop-value-' x 10 + a digit.
 * librdkafka writes raw (unframed) snappy; kafka-python's lz4 frames carry a content size.
 * The same probe showed kcat consuming our gzip/snappy(xerial)/lz4/zstd batches and
 * kafka-python our gzip/lz4 batches over Fetch.
 */
const PEER_BATCHES: Record<string, string> = {
  'librdkafka-gzip':
    '00000000000000000000007100000000024921fd3e000100000002000001a21479c665000001a21479c665ffffffffffffffffffffffffffff000000031f8b08000000000000035bc5c4c0c0c0943d8b2933af24b528bf40b72c31a73455776079860cab80ce621a6cce32023b8b65b039cb980100e2e16d0cc5010000',
  'librdkafka-snappy':
    '00000000000000000000007300000000028503b960000200000002000001a21479c6e4000001a21479c6e4ffffffffffffffffffffffffffff00000003c50358aa02000000026b9a02696e7465726f702d76616c75652dfe0e00f60e0004310001970002fe9700fe97003e9700003205970004fe9700fe97003e9700043300',
  'librdkafka-lz4':
    '0000000000000000000000750000000002c3100943000300000002000001a21479c758000001a21479c758ffffffffffffffffffffffffffff0000000304224d1860408235000000ff08aa02000000026b9a02696e7465726f702d76616c75652d0e006b20310097001f0297007d113297001f0497007a5075652d330000000000',
  'librdkafka-zstd':
    '00000000000000000000006c0000000002fa9655b2000400000002000001a21479c7d9000001a21479c7d9ffffffffffffffffffffffffffff0000000328b52ffd00589501002402aa02000000026b9a02696e7465726f702d76616c75652d3100aa020000023204330004000d4002ed6d680c65ee486713',
  'kafka-python-gzip':
    '0000000000000000000000710000000002ea9e6776000100000002000001a21479c98b000001a21479c98bffffffffffffffffffffffffffff000000031f8b08002f4a076b02ff5bc5c4c0c0c0943d8b2933af24b528bf40b72c31a73455776079060cab80ce621a6cce32043b8b65b039cb8801008f4bac39c5010000',
  'kafka-python-lz4':
    '00000000000000000000007e0000000002fcaa4227000300000002000001a21479cb13000001a21479cb14ffffffffffffffffffffffffffff0000000304224d186840c501000000000000a136000000ff08aa02000000026b9a02696e7465726f702d76616c75652d0e006b20300097001f0297007d103197002f020497007a5075652d320000000000',
}

describe('batches from real peers', () => {
  for (const [name, hex] of Object.entries(PEER_BATCHES)) {
    test(`${name}: passes checkBatch and decodes`, () => {
      const buf = Buffer.from(hex, 'hex')
      assert.deepEqual(checkBatch(buf), { ok: true })
      const b = decodeBatch(buf)
      const codecs: Record<string, number> = { gzip: 1, snappy: 2, lz4: 3, zstd: 4 }
      assert.equal(b.compression, codecs[name.split('-').pop()!])
      assert.equal(b.records.length, 3)
      const first = name.startsWith('librdkafka') ? 1 : 0
      b.records.forEach((r, i) => {
        assert.equal(r.key?.toString(), 'k')
        assert.equal(r.value?.toString(), `${'interop-value-'.repeat(10)}${first + i}`)
        assert.equal(r.offset, BigInt(i))
      })
    })
  }

  test('librdkafka writes raw snappy, not xerial', () => {
    const buf = Buffer.from(PEER_BATCHES['librdkafka-snappy']!, 'hex')
    assert.notEqual(buf[Off.records], 0x82)
  })
})

/** Produce requests captured from kcat, kafka-python, kafkajs and platformatic (test/fixtures/golden). */
describe('golden Produce fixtures', () => {
  const dir = join(dirname(fileURLToPath(import.meta.url)), '../../fixtures/golden')
  for (const file of readdirSync(dir).filter((f) => f.includes('-produce-'))) {
    test(`${file}: its batch passes checkBatch and decodes to golden-key → golden-value`, () => {
      const frame = Buffer.from(readFileSync(join(dir, file), 'utf8').trim(), 'hex')
      const r = new Reader(frame)
      const header = readRequestHeader(r, Produce.requestHeaderVersion(frame.readInt16BE(2)))
      const body = decodeRequestBody(Produce, header.apiVersion, r)
      const records = body.topicData[0]!.partitionData[0]!.records!
      assert.deepEqual(checkBatch(records), { ok: true })
      const [batch, ...rest] = decodeBatches(records)
      assert.equal(rest.length, 0)
      assert.equal(batch!.records.length, 1)
      assert.equal(batch!.records[0]!.key?.toString(), 'golden-key')
      assert.equal(batch!.records[0]!.value?.toString(), 'golden-value')
    })
  }
})
