/**
 * Bad input gets a Kafka error code, or a closed connection with one log
 * line — never a crash, never a corrupted log. After each case the broker
 * still serves a fresh connection and the log holds exactly what was valid.
 */
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { ApiVersions, CreatePartitions, CreateTopics, Fetch, Metadata, Produce } from '../../../src/protocol/apis/index.ts'
import { ErrorCode } from '../../../src/protocol/errors.ts'
import { encodeBatch } from '../../../src/protocol/records/batch.ts'
import { startBroker, type TestBroker } from '../../helpers/broker.ts'
import { RawClient } from '../../helpers/raw-client.ts'

let b: TestBroker

before(async () => {
  b = await startBroker({ 'socket.request.max.bytes': 1024 * 1024, 'auto.create.topics.enable': false })
  const c = await RawClient.connect(b.bootstrap)
  const res = await c.request(CreateTopics, 5, {
    topics: [{ name: 'bad-input', numPartitions: 1, replicationFactor: 1, configs: [{ name: 'max.message.bytes', value: '2000' }] }],
  })
  assert.equal(res.topics[0]?.errorCode, ErrorCode.NONE)
  c.close()
})
after(async () => {
  await b.stop()
})

async function stillServes(): Promise<void> {
  const c = await RawClient.connect(b.bootstrap)
  const res = await c.request(ApiVersions, 3, { clientSoftwareName: 'test', clientSoftwareVersion: '1' })
  assert.equal(res.errorCode, ErrorCode.NONE)
  c.close()
}

function frame(payload: Buffer): Buffer {
  const size = Buffer.alloc(4)
  size.writeInt32BE(payload.length)
  return Buffer.concat([size, payload])
}

async function expectClosed(c: RawClient, logLike: RegExp): Promise<void> {
  assert.equal(await c.nextFrame(), null, 'the broker answered instead of closing')
  assert.ok(
    b.logs.some((l) => logLike.test(l)),
    `no log line matching ${logLike}: ${b.logs.slice(-3).join(' | ')}`,
  )
}

async function produce(records: Buffer, version = 9) {
  const c = await RawClient.connect(b.bootstrap)
  const res = await c.request(Produce, version, {
    acks: -1,
    timeoutMs: 5000,
    topicData: [{ name: 'bad-input', partitionData: [{ index: 0, records }] }],
  })
  c.close()
  return res.responses[0]?.partitionResponses[0]
}

async function logEnd(): Promise<bigint> {
  return b.broker.context.logs.partition('bad-input', 0)?.logEndOffset ?? -1n
}

test('a frame larger than socket.request.max.bytes closes the connection before it is buffered', async () => {
  const c = await RawClient.connect(b.bootstrap)
  const size = Buffer.alloc(4)
  size.writeInt32BE(50 * 1024 * 1024)
  c.writeRaw(size)
  await expectClosed(c, /exceeds socket.request.max.bytes/)
  await stillServes()
})

test('a negative frame size closes the connection', async () => {
  const c = await RawClient.connect(b.bootstrap)
  c.writeRaw(Buffer.from([0xff, 0xff, 0xff, 0xfe]))
  await expectClosed(c, /exceeds socket.request.max.bytes/)
  await stillServes()
})

test('a frame too short for a header closes the connection', async () => {
  const c = await RawClient.connect(b.bootstrap)
  c.writeRaw(frame(Buffer.from([0, 3, 0])))
  await expectClosed(c, /malformed request header/)
  await stillServes()
})

test('an unknown API key closes the connection with one log line', async () => {
  const c = await RawClient.connect(b.bootstrap)
  const p = Buffer.alloc(10)
  p.writeInt16BE(999, 0)
  p.writeInt16BE(0, 2)
  p.writeInt32BE(7, 4)
  p.writeInt16BE(-1, 8)
  c.writeRaw(frame(p))
  await expectClosed(c, /unknown API key 999/)
  await stillServes()
})

test('an unsupported version of a known API closes the connection, as Kafka does', async () => {
  const c = await RawClient.connect(b.bootstrap)
  const p = Buffer.alloc(10)
  p.writeInt16BE(3, 0) // Metadata
  p.writeInt16BE(99, 2)
  p.writeInt32BE(7, 4)
  p.writeInt16BE(-1, 8)
  c.writeRaw(frame(p))
  await expectClosed(c, /unsupported version 99 of Metadata/)
  await stillServes()
})

test('ApiVersions in an unknown version gets UNSUPPORTED_VERSION with the ApiVersions range, in a v0 body', async () => {
  const c = await RawClient.connect(b.bootstrap)
  const p = Buffer.alloc(10)
  p.writeInt16BE(18, 0)
  p.writeInt16BE(77, 2)
  p.writeInt32BE(42, 4)
  p.writeInt16BE(-1, 8)
  const pending = c.nextFrame()
  c.writeRaw(frame(p))
  const f = (await pending) as Buffer
  assert.equal(f.readInt32BE(0), 42)
  assert.equal(f.readInt16BE(4), ErrorCode.UNSUPPORTED_VERSION)
  assert.equal(f.readInt32BE(6), 1, 'one entry')
  assert.deepEqual([f.readInt16BE(10), f.readInt16BE(12), f.readInt16BE(14)], [18, 0, 3])
  c.close()
})

test('a truncated request body closes the connection', async () => {
  const c = await RawClient.connect(b.bootstrap)
  const p = Buffer.alloc(14)
  p.writeInt16BE(3, 0)
  p.writeInt16BE(1, 2)
  p.writeInt32BE(7, 4)
  p.writeInt16BE(-1, 8)
  p.writeInt32BE(5, 10) // says five topics follow, none do
  c.writeRaw(frame(p))
  await expectClosed(c, /malformed Metadata v1 request/)
  await stillServes()
})

test('invalid topic names get INVALID_TOPIC_EXCEPTION', async () => {
  const c = await RawClient.connect(b.bootstrap)
  const names = ['', '.', '..', 'has space', 'a/b', 'x'.repeat(250)]
  const res = await c.request(CreateTopics, 5, { topics: names.map((name) => ({ name, numPartitions: 1, replicationFactor: 1 })) })
  assert.deepEqual(
    res.topics.map((t) => t.errorCode),
    names.map(() => ErrorCode.INVALID_TOPIC_EXCEPTION),
  )
  const md = await c.request(Metadata, 9, { topics: [{ name: 'bad name' }], allowAutoTopicCreation: true })
  assert.equal(md.topics[0]?.errorCode, ErrorCode.INVALID_TOPIC_EXCEPTION)
  c.close()
})

test('zero or negative partition counts get INVALID_PARTITIONS; shrinking a topic too', async () => {
  const c = await RawClient.connect(b.bootstrap)
  const res = await c.request(CreateTopics, 5, {
    topics: [
      { name: 'zero', numPartitions: 0, replicationFactor: 1 },
      { name: 'negative', numPartitions: -5, replicationFactor: 1 },
    ],
  })
  assert.deepEqual(
    res.topics.map((t) => t.errorCode),
    [ErrorCode.INVALID_PARTITIONS, ErrorCode.INVALID_PARTITIONS],
  )
  const shrink = await c.request(CreatePartitions, 1, { topics: [{ name: 'bad-input', count: 0, assignments: null }], timeoutMs: 1000 })
  assert.equal(shrink.results[0]?.errorCode, ErrorCode.INVALID_PARTITIONS)
  c.close()
})

test('a batch over max.message.bytes gets MESSAGE_TOO_LARGE and nothing is appended', async () => {
  const before = await logEnd()
  const big = encodeBatch({ records: [{ key: 'k', value: Buffer.alloc(5000, 1) }] })
  const r = await produce(big)
  assert.equal(r?.errorCode, ErrorCode.MESSAGE_TOO_LARGE)
  assert.equal(await logEnd(), before)
})

test('a batch with a flipped bit gets CORRUPT_MESSAGE and nothing is appended', async () => {
  const before = await logEnd()
  const batch = encodeBatch({ records: [{ key: 'k', value: 'hello' }] })
  batch[batch.length - 2] ^= 0x01
  const r = await produce(batch)
  assert.equal(r?.errorCode, ErrorCode.CORRUPT_MESSAGE)
  assert.equal(await logEnd(), before)
})

test('a truncated record set gets CORRUPT_MESSAGE and nothing is appended', async () => {
  const before = await logEnd()
  const batch = encodeBatch({ records: [{ key: 'k', value: 'hello' }] })
  const r = await produce(batch.subarray(0, batch.length - 3))
  assert.equal(r?.errorCode, ErrorCode.CORRUPT_MESSAGE)
  assert.equal(await logEnd(), before)
})

test('zstd on Produce below v7 gets UNSUPPORTED_COMPRESSION_TYPE', async () => {
  const batch = encodeBatch({ records: [{ key: 'k', value: 'hello' }], compression: 4 })
  const r = await produce(batch, 6)
  assert.equal(r?.errorCode, ErrorCode.UNSUPPORTED_COMPRESSION_TYPE)
})

test('invalid acks get INVALID_REQUIRED_ACKS', async () => {
  const c = await RawClient.connect(b.bootstrap)
  const res = await c.request(Produce, 9, {
    acks: 2,
    timeoutMs: 1000,
    topicData: [{ name: 'bad-input', partitionData: [{ index: 0, records: encodeBatch({ records: [{ value: 'x' }] }) }] }],
  })
  assert.equal(res.responses[0]?.partitionResponses[0]?.errorCode, ErrorCode.INVALID_REQUIRED_ACKS)
  c.close()
})

test('valid data around the bad input is intact and readable', async () => {
  const before = await logEnd()
  const r = await produce(encodeBatch({ records: [{ key: 'k', value: 'good' }] }))
  assert.equal(r?.errorCode, ErrorCode.NONE)
  assert.equal(await logEnd(), before + 1n)
  const c = await RawClient.connect(b.bootstrap)
  const f = await c.request(Fetch, 11, {
    maxWaitMs: 0,
    minBytes: 0,
    maxBytes: 1 << 20,
    topics: [{ topic: 'bad-input', partitions: [{ partition: 0, fetchOffset: before, partitionMaxBytes: 1 << 20 }] }],
  })
  const p = f.responses[0]?.partitions[0]
  assert.equal(p?.errorCode, ErrorCode.NONE)
  assert.ok((p?.records?.length ?? 0) > 0)
  c.close()
  await stillServes()
})
