/**
 * The group-less consumer against the fake broker: positions, mid-batch
 * starts, truncated and control batches, resets, topic ids, back-pressure.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { type ConsumerRecord, SimpleConsumer, type SimpleConsumerOptions } from '../../../src/client/consumer/simple-consumer.ts'
import { KafkaError } from '../../../src/client/errors.ts'
import { controlRecord, encodeBatch } from '../../../src/protocol/records/batch.ts'
import { FakeBroker } from './fake-broker.ts'

async function withBroker(
  topics: Record<string, number>,
  fn: (b: FakeBroker) => Promise<void>,
  versions?: FakeBroker['versions'],
): Promise<void> {
  const b = await FakeBroker.start({ topics, versions })
  try {
    await fn(b)
  } finally {
    await b.close()
  }
}

function consumer(b: FakeBroker, o: Partial<SimpleConsumerOptions> = {}): SimpleConsumer {
  return new SimpleConsumer({ bootstrapServers: b.bootstrap, retryBackoffMs: 10, fetchMaxWaitMs: 50, ...o })
}

/** Appends one batch of `values` (offsets follow the log end). */
function put(
  b: FakeBroker,
  topic: string,
  partition: number,
  values: string[],
  extra: { control?: boolean; compression?: 0 | 1 | 2 | 3 | 4 } = {},
): void {
  const records = extra.control ? [controlRecord('commit', 0)] : values.map((v) => ({ key: `k-${v}`, value: v, timestamp: 1000 }))
  const batch = encodeBatch({ records, control: extra.control, transactional: extra.control, compression: extra.compression })
  b.append(topic, partition, batch)
}

async function take(c: SimpleConsumer, n: number, timeoutMs = 3000): Promise<ConsumerRecord[]> {
  const out: ConsumerRecord[] = []
  const it = c.records()
  const deadline = Date.now() + timeoutMs
  while (out.length < n) {
    const left = deadline - Date.now()
    if (left <= 0) throw new Error(`only ${out.length} of ${n} records arrived`)
    let timer: NodeJS.Timeout | undefined
    const r = await Promise.race([it.next(), new Promise<'timeout'>((res) => (timer = setTimeout(() => res('timeout'), left)))])
    clearTimeout(timer)
    if (r === 'timeout') throw new Error(`only ${out.length} of ${n} records arrived`)
    if (r.done) break
    out.push(r.value)
  }
  return out
}

test('reads every partition from earliest, in offset order per partition, with its high watermark', async () => {
  await withBroker({ t: 2 }, async (b) => {
    put(b, 't', 0, ['a', 'b', 'c'])
    put(b, 't', 0, ['d'], { compression: 4 })
    put(b, 't', 1, ['x', 'y'], { compression: 1 })
    const c = consumer(b)
    c.assign([
      { topic: 't', partition: 0, offset: 'earliest' },
      { topic: 't', partition: 1, offset: 'earliest' },
    ])
    const got = await take(c, 6)
    const p0 = got.filter((r) => r.partition === 0)
    assert.deepEqual(
      p0.map((r) => [r.offset, r.value?.toString(), r.key?.toString()]),
      [
        [0n, 'a', 'k-a'],
        [1n, 'b', 'k-b'],
        [2n, 'c', 'k-c'],
        [3n, 'd', 'k-d'],
      ],
    )
    assert.deepEqual(
      got.filter((r) => r.partition === 1).map((r) => r.value?.toString()),
      ['x', 'y'],
    )
    assert.equal(p0[0]?.highWatermark, 4n)
    assert.equal(p0[0]?.timestamp, 1000n)
    assert.equal(c.position('t', 0), 4n)
    await c.close()
  })
})

test('a start offset inside a batch skips the batch records before it', async () => {
  await withBroker({ t: 1 }, async (b) => {
    put(b, 't', 0, ['a', 'b', 'c', 'd', 'e'])
    const c = consumer(b)
    c.assign([{ topic: 't', partition: 0, offset: 3n }])
    const got = await take(c, 2)
    assert.deepEqual(
      got.map((r) => r.offset),
      [3n, 4n],
    )
    await c.close()
  })
})

test('a truncated trailing batch is ignored and fetched again whole', async () => {
  await withBroker({ t: 1 }, async (b) => {
    put(b, 't', 0, ['a', 'b'])
    put(b, 't', 0, ['c', 'd'])
    let first = true
    b.intercept(1, async (v, body, ctx) => {
      const res = await ctx.broker.defaultHandler(1, v, body)
      const p = res.responses[0].partitions[0]
      if (first && p.records.length > 0) {
        first = false
        p.records = p.records.subarray(0, p.records.length - 7)
      }
      return res
    })
    const c = consumer(b)
    c.assign([{ topic: 't', partition: 0, offset: 0n }])
    const got = await take(c, 4)
    assert.deepEqual(
      got.map((r) => r.value?.toString()),
      ['a', 'b', 'c', 'd'],
    )
    await c.close()
  })
})

test('control batches are skipped and the position moves past them', async () => {
  await withBroker({ t: 1 }, async (b) => {
    put(b, 't', 0, ['a'])
    put(b, 't', 0, [], { control: true })
    const c = consumer(b)
    c.assign([{ topic: 't', partition: 0, offset: 0n }])
    const [r] = await take(c, 1)
    assert.equal(r?.value?.toString(), 'a')
    await new Promise((res) => setTimeout(res, 100))
    assert.equal(c.position('t', 0), 2n, 'past the control batch')
    put(b, 't', 0, ['z'])
    const [z] = await take(c, 1)
    assert.equal(z?.offset, 2n)
    await c.close()
  })
})

test("OFFSET_OUT_OF_RANGE resets per autoOffsetReset; with 'none' the iterator throws", async () => {
  await withBroker({ t: 1 }, async (b) => {
    put(b, 't', 0, ['a', 'b'])
    const c = consumer(b, { autoOffsetReset: 'earliest' })
    c.assign([{ topic: 't', partition: 0, offset: 50n }])
    const got = await take(c, 2)
    assert.deepEqual(
      got.map((r) => r.offset),
      [0n, 1n],
    )
    await c.close()

    const strict = consumer(b, { autoOffsetReset: 'none' })
    strict.assign([{ topic: 't', partition: 0, offset: 50n }])
    await assert.rejects(strict.records().next(), (e: unknown) => e instanceof KafkaError && e.code === 1)
    strict.seek('t', 0, 1n)
    const [r] = await take(strict, 1)
    assert.equal(r?.value?.toString(), 'b')
    await strict.close()
  })
})

test("'latest' starts at the log end and sees only new records", async () => {
  await withBroker({ t: 1 }, async (b) => {
    put(b, 't', 0, ['old'])
    const c = consumer(b)
    c.assign([{ topic: 't', partition: 0, offset: 'latest' }])
    while (c.position('t', 0) === null) await new Promise((r) => setTimeout(r, 5))
    put(b, 't', 0, ['new'])
    const [r] = await take(c, 1)
    assert.equal(r?.value?.toString(), 'new')
    await c.close()
  })
})

test('Fetch v13+ names topics by id; a broker capped at v12 gets names', async () => {
  await withBroker({ t: 1 }, async (b) => {
    put(b, 't', 0, ['a'])
    const c = consumer(b)
    c.assign([{ topic: 't', partition: 0, offset: 0n }])
    await take(c, 1)
    const f = b.requests.find((r) => r.apiKey === 1)
    assert.equal(f?.version, 17)
    assert.equal(f?.body.topics[0].topicId, b.topicIds.get('t'))
    await c.close()
  })
  const capped = new FakeBroker().versions
  capped.set(1, { min: 4, max: 12 })
  await withBroker(
    { t: 1 },
    async (b) => {
      put(b, 't', 0, ['a'])
      const c = consumer(b)
      c.assign([{ topic: 't', partition: 0, offset: 0n }])
      await take(c, 1)
      const f = b.requests.find((r) => r.apiKey === 1)
      assert.equal(f?.version, 12)
      assert.equal(f?.body.topics[0].topic, 't')
      await c.close()
    },
    capped,
  )
})

test('back-pressure: a partition with undelivered records is not fetched again', async () => {
  await withBroker({ t: 1 }, async (b) => {
    for (let i = 0; i < 20; i++) put(b, 't', 0, [`v${i}`])
    const c = consumer(b, { maxPartitionFetchBytes: 1 })
    c.assign([{ topic: 't', partition: 0, offset: 0n }])
    await take(c, 1)
    await new Promise((r) => setTimeout(r, 100))
    const fetches = b.requests.filter((r) => r.apiKey === 1).length
    assert.ok(fetches <= 2, `${fetches} fetches while the reader was idle`)
    const rest = await take(c, 19)
    assert.equal(rest[18]?.value?.toString(), 'v19')
    await c.close()
  })
})

test('a second fetch per leader: a partition drained while another fetch is out is fetched without waiting for it', async () => {
  await withBroker({ t: 2 }, async (b) => {
    for (const v of ['p0-a', 'p0-b']) put(b, 't', 0, [v])
    for (const v of ['p1-a', 'p1-b']) put(b, 't', 1, [v])
    let held = false
    let overlapped = false
    b.intercept(1, async (v, body, ctx) => {
      const parts = (body.topics as { partitions: unknown[] }[]).flatMap((t) => t.partitions)
      // The first fetch for one drained partition is answered only once another fetch has arrived behind it, or after 1 s.
      if (!held && b.requests.filter((r) => r.apiKey === 1).length > 1 && parts.length === 1) {
        held = true
        const fetchesBefore = b.arrivals.filter((k) => k === 1).length
        for (let i = 0; i < 100 && !overlapped; i++) {
          await new Promise((r) => setTimeout(r, 10))
          overlapped = b.arrivals.filter((k) => k === 1).length > fetchesBefore
        }
      }
      return ctx.broker.defaultHandler(1, v, body)
    })
    const c = consumer(b, { maxPartitionFetchBytes: 1 })
    c.assign([
      { topic: 't', partition: 0, offset: 0n },
      { topic: 't', partition: 1, offset: 0n },
    ])
    // One partition drained: its fetch goes out and is held; then the other one drains.
    const got = await take(c, 1)
    await new Promise((r) => setTimeout(r, 50))
    got.push(...(await take(c, 3)))
    assert.deepEqual(got.map((r) => r.value?.toString()).sort(), ['p0-a', 'p0-b', 'p1-a', 'p1-b'])
    assert.ok(held && overlapped, "the other partition's fetch was sent while the first one's was out")
    await c.close()
  })
})

test('an assigned topic that does not exist surfaces UNKNOWN_TOPIC_OR_PARTITION', async () => {
  await withBroker({}, async (b) => {
    const c = consumer(b)
    c.assign([{ topic: 'nope', partition: 0, offset: 0n }])
    await assert.rejects(c.records().next(), (e: unknown) => e instanceof KafkaError && e.code === 3)
    await c.close()
  })
})

test('close ends the iteration', async () => {
  await withBroker({ t: 1 }, async (b) => {
    const c = consumer(b)
    c.assign([{ topic: 't', partition: 0, offset: 0n }])
    const pending = c.records().next()
    await new Promise((r) => setTimeout(r, 30))
    await c.close()
    assert.deepEqual(await pending, { done: true, value: undefined })
  })
})

test('exitAtEnd ends the iteration once every partition is read to its high watermark', async () => {
  await withBroker({ t: 3 }, async (b) => {
    put(b, 't', 0, ['a', 'b'])
    put(b, 't', 2, ['c'])
    const c = consumer(b)
    c.assign([0, 1, 2].map((partition) => ({ topic: 't', partition, offset: 'earliest' as const })))
    const got: string[] = []
    for await (const r of c.records({ exitAtEnd: true })) got.push(r.value?.toString() ?? '')
    assert.deepEqual(got.sort(), ['a', 'b', 'c'])
    await c.close()

    const late = consumer(b)
    late.assign([{ topic: 't', partition: 0 }])
    const none: ConsumerRecord[] = []
    for await (const r of late.records({ exitAtEnd: true })) none.push(r)
    assert.equal(none.length, 0, "autoOffsetReset 'latest': already at the end")
    await late.close()
  })
})

test('a missing topic fails only its own partitions; the others keep flowing', async () => {
  await withBroker({ t: 1 }, async (b) => {
    put(b, 't', 0, ['a'])
    const c = consumer(b)
    c.assign([
      { topic: 'nope', partition: 0, offset: 0n },
      { topic: 't', partition: 0, offset: 0n },
    ])
    const it = c.records()
    const seen: string[] = []
    let error: unknown
    for (let i = 0; i < 2; i++) {
      try {
        const r = await it.next()
        if (!r.done) seen.push(r.value.value?.toString() ?? '')
      } catch (e) {
        error = e
      }
    }
    assert.deepEqual(seen, ['a'])
    assert.ok(error instanceof KafkaError && error.code === 3 && /nope/.test(error.message))
    await c.close()
  })
})
