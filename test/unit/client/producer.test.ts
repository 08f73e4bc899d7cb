/**
 * The producer against the in-process fake broker: batching and routing,
 * idempotence stamps, and each class of per-partition error.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ClosedError, ConfigError, KafkaError, RecordTooLargeError, TimeoutError } from '../../../src/client/errors.ts'
import { keyPartition } from '../../../src/client/producer/murmur2.ts'
import { Producer, type ProducerOptions } from '../../../src/client/producer/producer.ts'
import { decodeBatch } from '../../../src/protocol/records/batch.ts'
import { batchHeader } from '../../../src/protocol/records/batch-header.ts'
import { FakeBroker } from './fake-broker.ts'

async function withBroker(topics: Record<string, number>, fn: (b: FakeBroker) => Promise<void>): Promise<void> {
  const b = await FakeBroker.start({ topics })
  try {
    await fn(b)
  } finally {
    await b.close()
  }
}

function producer(b: FakeBroker, o: Partial<ProducerOptions> = {}): Producer {
  return new Producer({ bootstrapServers: b.bootstrap, retryBackoffMs: 10, ...o })
}

/** Every record value in a partition's log, in offset order. */
function values(b: FakeBroker, topic: string, partition: number): string[] {
  const out: string[] = []
  for (const s of b.logs.get(`${topic}-${partition}`) ?? [])
    for (const r of decodeBatch(s.bytes).records) out.push(r.value?.toString() ?? '')
  return out
}

const produces = (b: FakeBroker) => b.requests.filter((r) => r.apiKey === 0)

/** The first Produce to t-0 is answered with a non-retriable `errorCode` (and 'too big'), later ones normally. */
function refuseFirstProduce(b: FakeBroker, errorCode: number): void {
  let n = 0
  b.intercept(0, async (v, body, ctx) => {
    if (n++ === 0)
      return {
        responses: [{ name: 't', partitionResponses: [{ index: 0, errorCode, baseOffset: -1n, errorMessage: 'too big' }] }],
        throttleTimeMs: 0,
      }
    return ctx.broker.defaultHandler(0, v, body)
  })
}

test('keyed records land on murmur2 partitions with contiguous offsets; one request per leader carries several partitions', async () => {
  await withBroker({ t: 4 }, async (b) => {
    // A linger well above scheduling jitter, so all 400 records are queued before the first request leaves, even on a loaded machine.
    const p = producer(b, { lingerMs: 50 })
    const ms = await Promise.all(Array.from({ length: 400 }, (_, i) => p.send({ topic: 't', key: `key-${i}`, value: `v${i}` })))
    const next = [0n, 0n, 0n, 0n]
    ms.forEach((m, i) => {
      assert.equal(m.partition, keyPartition(Buffer.from(`key-${i}`), 4))
      assert.equal(m.offset, next[m.partition])
      next[m.partition] = (next[m.partition] as bigint) + 1n
    })
    for (let part = 0; part < 4; part++) {
      const want = ms.map((m, i) => (m.partition === part ? `v${i}` : null)).filter((v) => v !== null)
      assert.deepEqual(values(b, 't', part), want, 'in send order')
    }
    // Which request leaves first depends on scheduling; what matters is that partitions on one leader share requests.
    const sent = produces(b)
    assert.ok(
      sent.some((r) => r.body.topicData[0].partitionData.length > 1),
      'several partitions in one Produce',
    )
    const first = sent[0]
    assert.equal(first?.version, 11)
    assert.equal(first?.body.acks, -1)
    await p.close()
  })
})

test('idempotent batches carry the producer id and consecutive per-partition sequences', async () => {
  await withBroker({ t: 1 }, async (b) => {
    const p = producer(b, { batchSize: 200 })
    await Promise.all(Array.from({ length: 30 }, (_, i) => p.send({ topic: 't', value: `value-${i}` })))
    const log = b.logs.get('t-0') ?? []
    assert.ok(log.length > 3, 'several batches')
    let seq = 0
    for (const s of log) {
      assert.equal(batchHeader.producerId(s.bytes), 1000n)
      assert.equal(batchHeader.producerEpoch(s.bytes), 0)
      assert.equal(batchHeader.baseSequence(s.bytes), seq)
      seq += batchHeader.recordCount(s.bytes)
    }
    assert.equal(seq, 30)
    assert.equal(b.requests.filter((r) => r.apiKey === 22).length, 1)
    await p.close()
  })
})

test('lingerMs holds a partial batch so records sent close together share one request', async () => {
  await withBroker({ t: 1 }, async (b) => {
    const p = producer(b, { lingerMs: 80 })
    const t0 = Date.now()
    const a = p.send({ topic: 't', value: 'a' })
    await new Promise((r) => setTimeout(r, 20))
    const c = p.send({ topic: 't', value: 'b' })
    await Promise.all([a, c])
    assert.ok(Date.now() - t0 >= 70, 'waited for linger')
    assert.equal(produces(b).length, 1)
    assert.equal(b.logs.get('t-0')?.length, 1)
    await p.close()
  })
})

test('unkeyed records stick to one partition while its batch has room', async () => {
  await withBroker({ t: 6 }, async (b) => {
    const p = producer(b, { lingerMs: 20 })
    const ms = await Promise.all(Array.from({ length: 50 }, () => p.send({ topic: 't', value: 'x' })))
    assert.equal(new Set(ms.map((m) => m.partition)).size, 1)
    await p.close()
  })
})

test('an explicit partition is used as given, and one out of range is refused', async () => {
  await withBroker({ t: 3 }, async (b) => {
    const p = producer(b)
    assert.equal((await p.send({ topic: 't', key: 'k', value: 'v', partition: 2 })).partition, 2)
    await assert.rejects(p.send({ topic: 't', value: 'v', partition: 3 }), (e: unknown) => e instanceof KafkaError && e.code === 3)
    await assert.rejects(p.send({ topic: 't', value: 'v', partition: -1 }), ConfigError)
    await p.close()
  })
})

test('NOT_LEADER_OR_FOLLOWER: metadata is refreshed and the batch retried without duplicates', async () => {
  await withBroker({ t: 2 }, async (b) => {
    let failed = 0
    b.intercept(0, async (v, body, ctx) => {
      if (failed++ === 0) {
        return {
          responses: body.topicData.map((t: { name: string; partitionData: { index: number }[] }) => ({
            name: t.name,
            partitionResponses: t.partitionData.map((x) => ({ index: x.index, errorCode: 6, baseOffset: -1n })),
          })),
          throttleTimeMs: 0,
        }
      }
      return ctx.broker.defaultHandler(0, v, body)
    })
    const p = producer(b)
    const metadataBefore = () => b.requests.filter((r) => r.apiKey === 3).length
    const ms = await Promise.all(Array.from({ length: 20 }, (_, i) => p.send({ topic: 't', key: `k${i}`, value: `v${i}` })))
    assert.ok(metadataBefore() >= 2, 'metadata refreshed after the error')
    assert.equal(values(b, 't', 0).length + values(b, 't', 1).length, 20)
    assert.deepEqual(
      ms.map((m) => m.offset >= 0n),
      ms.map(() => true),
    )
    await p.close()
  })
})

test('a connection lost after the broker appended: the retry is a duplicate the broker recognises', async () => {
  await withBroker({ t: 1 }, async (b) => {
    let dropped = false
    b.intercept(0, async (v, body, ctx) => {
      const res = await ctx.broker.defaultHandler(0, v, body)
      if (!dropped) {
        dropped = true
        ctx.socket.destroy()
        return null
      }
      return res
    })
    const p = producer(b)
    const ms = await Promise.all(['a', 'b', 'c'].map((value) => p.send({ topic: 't', value })))
    assert.deepEqual(values(b, 't', 0), ['a', 'b', 'c'], 'written once')
    assert.deepEqual(
      ms.map((m) => m.offset),
      [0n, 1n, 2n],
    )
    await p.close()
  })
})

test('OUT_OF_ORDER_SEQUENCE_NUMBER on the next batch fails it; the producer id is renewed and later sends work', async () => {
  await withBroker({ t: 1 }, async (b) => {
    let n = 0
    b.intercept(0, async (v, body, ctx) => {
      if (n++ === 1) {
        return { responses: [{ name: 't', partitionResponses: [{ index: 0, errorCode: 45, baseOffset: -1n }] }], throttleTimeMs: 0 }
      }
      return ctx.broker.defaultHandler(0, v, body)
    })
    const p = producer(b)
    await p.send({ topic: 't', value: 'first' })
    await assert.rejects(p.send({ topic: 't', value: 'second' }), (e: unknown) => e instanceof KafkaError && e.code === 45)
    const m = await p.send({ topic: 't', value: 'third' })
    assert.equal(m.offset, 1n)
    const pids = (b.logs.get('t-0') ?? []).map((s) => batchHeader.producerId(s.bytes))
    assert.deepEqual(pids, [1000n, 1001n], 'a new producer id after the gap')
    await p.close()
  })
})

test('UNKNOWN_PRODUCER_ID renews the producer id and retries (the broker wrote nothing)', async () => {
  await withBroker({ t: 1 }, async (b) => {
    let n = 0
    b.intercept(0, async (v, body, ctx) => {
      if (n++ === 0)
        return { responses: [{ name: 't', partitionResponses: [{ index: 0, errorCode: 59, baseOffset: -1n }] }], throttleTimeMs: 0 }
      return ctx.broker.defaultHandler(0, v, body)
    })
    const p = producer(b)
    const m = await p.send({ topic: 't', value: 'x' })
    assert.equal(m.offset, 0n)
    assert.equal(b.requests.filter((r) => r.apiKey === 22).length, 2)
    assert.equal(batchHeader.producerId((b.logs.get('t-0') ?? [])[0]?.bytes as Buffer), 1001n)
    await p.close()
  })
})

test('a non-retriable error rejects that batch with a KafkaError; other sends carry on', async () => {
  await withBroker({ t: 1 }, async (b) => {
    refuseFirstProduce(b, 10)
    const p = producer(b)
    await assert.rejects(
      p.send({ topic: 't', value: 'x' }),
      (e: unknown) => e instanceof KafkaError && e.code === 10 && !e.retriable && /too big/.test(e.message),
    )
    assert.equal((await p.send({ topic: 't', value: 'y' })).offset, 0n)
    await p.close()
  })
})

test('a partition that keeps failing retriably fails with TimeoutError after deliveryTimeoutMs', async () => {
  await withBroker({ t: 1 }, async (b) => {
    b.intercept(0, async () => ({
      responses: [{ name: 't', partitionResponses: [{ index: 0, errorCode: 19, baseOffset: -1n }] }],
      throttleTimeMs: 0,
    }))
    const p = producer(b, { requestTimeoutMs: 200, deliveryTimeoutMs: 400, lingerMs: 0 })
    const t0 = Date.now()
    await assert.rejects(
      p.send({ topic: 't', value: 'x' }),
      (e: unknown) => e instanceof TimeoutError || (e instanceof KafkaError && e.code === 19),
    )
    assert.ok(Date.now() - t0 >= 350)
    assert.ok(produces(b).length > 2, 'it was retried')
    await p.close()
  })
})

test('acks=0 resolves with offset -1 and expects no response', async () => {
  await withBroker({ t: 1 }, async (b) => {
    const p = producer(b, { acks: 0 })
    assert.equal(p.idempotent, false)
    const m = await p.send({ topic: 't', value: 'x' })
    assert.equal(m.offset, -1n)
    await p.close()
    assert.equal(b.requests.filter((r) => r.apiKey === 22).length, 0, 'no producer id without idempotence')
    // Nothing tells the client when the broker has appended; wait for it here.
    for (let i = 0; i < 100 && values(b, 't', 0).length === 0; i++) await new Promise((r) => setTimeout(r, 10))
    assert.equal(values(b, 't', 0).length, 1)
  })
})

test('every codec produces batches the broker side decodes', async () => {
  for (const compression of ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const) {
    await withBroker({ t: 1 }, async (b) => {
      const p = producer(b, { compression })
      await Promise.all(
        Array.from({ length: 100 }, (_, i) =>
          p.send({ topic: 't', key: `k${i}`, value: `value ${i} `.repeat(10), headers: { h: `${i}` } }),
        ),
      )
      const log = b.logs.get('t-0') ?? []
      const codec = { none: 0, gzip: 1, snappy: 2, lz4: 3, zstd: 4 }[compression]
      for (const s of log) assert.equal(batchHeader.compression(s.bytes), codec)
      const recs = log.flatMap((s) => decodeBatch(s.bytes).records)
      assert.equal(recs.length, 100)
      assert.equal(recs[42]?.headers[0]?.value?.toString(), '42')
      if (compression === 'zstd') assert.ok((produces(b)[0]?.version as number) >= 7)
      await p.close()
    })
  }
})

test('flush sends without waiting for linger; close refuses new records; oversized records fail at once', async () => {
  await withBroker({ t: 1 }, async (b) => {
    const p = producer(b, { lingerMs: 60_000, maxRequestSize: 1000 })
    const sent = p.send({ topic: 't', value: 'x' })
    await p.flush()
    assert.equal((await sent).offset, 0n)
    await assert.rejects(p.send({ topic: 't', value: Buffer.alloc(2000) }), RecordTooLargeError)
    await p.close()
    await assert.rejects(p.send({ topic: 't', value: 'late' }), ClosedError)
  })
})

test('options that contradict idempotence are refused when it was asked for', async () => {
  assert.throws(() => new Producer({ bootstrapServers: '127.0.0.1:1', idempotent: true, acks: 1 }), ConfigError)
  assert.throws(() => new Producer({ bootstrapServers: '127.0.0.1:1', deliveryTimeoutMs: 10 }), ConfigError)
  const p = new Producer({ bootstrapServers: '127.0.0.1:1', acks: 1 })
  assert.equal(p.idempotent, false)
  await p.close()
})

test('an unknown topic without auto-creation fails the send', async () => {
  await withBroker({}, async (b) => {
    const p = producer(b, { allowAutoCreateTopics: false })
    await assert.rejects(p.send({ topic: 'missing', value: 'x' }), (e: unknown) => e instanceof KafkaError && e.code === 3)
    await p.close()
  })
})

test('with 5 requests in flight, a failed batch is resent ahead of its successors: order kept, nothing duplicated', async () => {
  await withBroker({ t: 1 }, async (b) => {
    let n = 0
    const outOfOrder: number[] = []
    b.intercept(0, async (v, body, ctx) => {
      // Hold each request a little so that several are in flight at once.
      await new Promise((r) => setTimeout(r, 5))
      if (n++ === 1)
        return { responses: [{ name: 't', partitionResponses: [{ index: 0, errorCode: 6, baseOffset: -1n }] }], throttleTimeMs: 0 }
      const res = await ctx.broker.defaultHandler(0, v, body)
      const code = res.responses[0].partitionResponses[0].errorCode
      if (code !== 0) outOfOrder.push(code)
      return res
    })
    const p = producer(b, { batchSize: 150, lingerMs: 0 })
    const want = Array.from({ length: 60 }, (_, i) => `m${i}`)
    const ms = await Promise.all(want.map((value) => p.send({ topic: 't', value })))
    assert.deepEqual(values(b, 't', 0), want)
    assert.deepEqual(
      ms.map((m) => m.offset),
      want.map((_, i) => BigInt(i)),
    )
    assert.ok(outOfOrder.length > 0 && outOfOrder.every((c) => c === 45), 'the batches behind the failed one were refused and resent')
    await p.close()
  })
})

test('sendBatch: one promise for many records, metadata in input order, records interleaved with send() keep their order', async () => {
  await withBroker({ t: 3 }, async (b) => {
    const p = producer(b, { lingerMs: 0 })
    const before = p.send({ topic: 't', partition: 1, value: 'first' })
    const batch = p.sendBatch([
      { topic: 't', partition: 1, value: 'a' },
      { topic: 't', key: 'k', value: 'b' },
      { topic: 't', partition: 1, value: 'c', headers: { h: 'v' } },
      { topic: 't', partition: 0, value: 'd' },
    ])
    const after = p.send({ topic: 't', partition: 1, value: 'last' })
    const ms = await batch
    assert.equal(ms.length, 4)
    assert.deepEqual(
      ms.map((m) => m.partition),
      [1, keyPartition(Buffer.from('k'), 3), 1, 0],
    )
    assert.equal((await before).offset, 0n)
    assert.equal(ms[0]?.offset, 1n)
    assert.equal(ms[2]?.offset, 2n)
    assert.equal((await after).offset, 3n)
    assert.deepEqual(
      values(b, 't', 1).filter((v) => v !== 'b'),
      ['first', 'a', 'c', 'last'],
    )
    assert.deepEqual(await p.sendBatch([]), [])
    await p.close()
    await assert.rejects(p.sendBatch([{ topic: 't', value: 'x' }]), ClosedError)
  })
})

test('sendBatch: a record that cannot be sent refuses the whole call before any is sent; a broker error rejects it once', async () => {
  await withBroker({ t: 1 }, async (b) => {
    const p = producer(b, { lingerMs: 0, maxRequestSize: 1000 })
    await assert.rejects(
      p.sendBatch([
        { topic: 't', value: 'ok' },
        { topic: 't', value: Buffer.alloc(2000) },
      ]),
      RecordTooLargeError,
    )
    await assert.rejects(
      p.sendBatch([
        { topic: 't', value: 'ok' },
        { topic: '', value: 'x' },
      ]),
      ConfigError,
    )
    await p.flush()
    assert.deepEqual(values(b, 't', 0), [], 'nothing of the refused calls was sent')
    refuseFirstProduce(b, 87)
    await assert.rejects(
      p.sendBatch([
        { topic: 't', value: 'x' },
        { topic: 't', value: 'y' },
      ]),
      (e: unknown) => e instanceof KafkaError && e.code === 87,
    )
    const ok = await p.sendBatch([{ topic: 't', value: 'z' }])
    assert.equal(ok[0]?.offset, 0n)
    await p.close()
  })
})

test('MESSAGE_TOO_LARGE for a batch of several records: the batch is split and resent in halves, in order, sequences kept', async () => {
  await withBroker({ t: 1 }, async (b) => {
    let refused = 0
    b.intercept(0, async (v, body, ctx) => {
      const records = body.topicData[0].partitionData[0].records as Buffer
      if (batchHeader.recordCount(records) > 2) {
        refused++
        return {
          responses: [{ name: 't', partitionResponses: [{ index: 0, errorCode: 10, baseOffset: -1n, errorMessage: 'too big' }] }],
          throttleTimeMs: 0,
        }
      }
      return ctx.broker.defaultHandler(0, v, body)
    })
    const p = producer(b, { lingerMs: 60_000 })
    const sent = p.sendBatch(Array.from({ length: 7 }, (_, i) => ({ topic: 't', value: `v${i}` })))
    await p.flush()
    const ms = await sent
    assert.deepEqual(
      ms.map((m) => m.offset),
      [0n, 1n, 2n, 3n, 4n, 5n, 6n],
    )
    assert.deepEqual(values(b, 't', 0), ['v0', 'v1', 'v2', 'v3', 'v4', 'v5', 'v6'])
    assert.ok(refused >= 2, 'the batch of 7 and a half of 4 were refused')
    let seq = 0
    for (const s of b.logs.get('t-0') ?? []) {
      assert.ok(batchHeader.recordCount(s.bytes) <= 2)
      assert.equal(batchHeader.baseSequence(s.bytes), seq, 'sequences stay contiguous: no producer id reset needed')
      seq += batchHeader.recordCount(s.bytes)
    }
    assert.equal(b.requests.filter((r) => r.apiKey === 22).length, 1, 'one InitProducerId')
    // A single record that is still too large fails with the broker's error.
    b.intercept(0, async () => ({
      responses: [{ name: 't', partitionResponses: [{ index: 0, errorCode: 10, baseOffset: -1n, errorMessage: 'too big' }] }],
      throttleTimeMs: 0,
    }))
    const huge = p.send({ topic: 't', value: 'huge' })
    await p.flush()
    await assert.rejects(huge, (e: unknown) => e instanceof KafkaError && e.code === 10)
    await p.close()
  })
})
