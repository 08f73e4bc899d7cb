/**
 * The cluster layer with one and two fake brokers: bootstrap failover,
 * routing by leader, retries, the controller, missing topics.
 */
import assert from 'node:assert/strict'
import { createServer } from 'node:net'
import { test } from 'node:test'
import { Cluster } from '../../../src/client/cluster/cluster.ts'
import { SimpleConsumer } from '../../../src/client/consumer/simple-consumer.ts'
import { KafkaError, TimeoutError, UnknownTopicError } from '../../../src/client/errors.ts'
import { Producer } from '../../../src/client/producer/producer.ts'
import { ApiVersions, CreatePartitions, Metadata } from '../../../src/protocol/apis/index.ts'
import { FakeBroker } from './fake-broker.ts'

async function deadPort(): Promise<number> {
  const s = createServer()
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r))
  const port = (s.address() as { port: number }).port
  await new Promise<void>((r) => s.close(() => r()))
  return port
}

/** Makes every broker in `brokers` describe the same cluster: partition i of `t` led by leaders[i]. */
function shareMetadata(brokers: FakeBroker[], leaders: () => number[], controller = () => brokers[0]?.nodeId ?? -1): void {
  for (const b of brokers) {
    b.intercept(3, () => ({
      throttleTimeMs: 0,
      brokers: brokers.map((x) => ({ nodeId: x.nodeId, host: '127.0.0.1', port: x.port, rack: null })),
      clusterId: 'two',
      controllerId: controller(),
      topics: [
        {
          errorCode: 0,
          name: 't',
          topicId: b.topicIds.get('t'),
          isInternal: false,
          partitions: leaders().map((leaderId, partitionIndex) => ({
            errorCode: 0,
            partitionIndex,
            leaderId,
            leaderEpoch: 0,
            replicaNodes: [leaderId],
            isrNodes: [leaderId],
            offlineReplicas: [],
          })),
        },
      ],
    }))
  }
}

test('a dead first bootstrap server is skipped', async () => {
  const b = await FakeBroker.start({ topics: { t: 1 } })
  const c = new Cluster({ bootstrapServers: `127.0.0.1:${await deadPort()},${b.bootstrap}`, retryBackoffMs: 5 })
  try {
    const meta = await c.refreshMetadata()
    assert.equal(meta.brokers.get(1)?.port, b.port)
    assert.equal(meta.topic('t')?.partitions.length, 1)
    assert.equal(meta.clusterId, 'fake-cluster')
  } finally {
    await c.close()
    await b.close()
  }
})

test('records go to each partition leader on a two-broker cluster, and follow a leader that moves', async () => {
  const a = await FakeBroker.start({ nodeId: 1, topics: { t: 2 } })
  const b = await FakeBroker.start({ nodeId: 2, topics: { t: 2 } })
  let leaders = [1, 2]
  shareMetadata([a, b], () => leaders)
  const p = new Producer({ bootstrapServers: a.bootstrap, retryBackoffMs: 5, lingerMs: 0 })
  try {
    await Promise.all([p.send({ topic: 't', value: 'a0', partition: 0 }), p.send({ topic: 't', value: 'b1', partition: 1 })])
    assert.equal(a.logs.get('t-0')?.length, 1)
    assert.equal(b.logs.get('t-1')?.length, 1)
    assert.equal(a.logs.get('t-1')?.length, 0)
    assert.equal(b.logs.get('t-0')?.length, 0)

    // Partition 0 moves to broker 2; broker 1 now refuses it.
    leaders = [2, 2]
    a.intercept(0, (_v, body) => ({
      responses: body.topicData.map((t: { name: string; partitionData: { index: number }[] }) => ({
        name: t.name,
        partitionResponses: t.partitionData.map((x) => ({ index: x.index, errorCode: 6, baseOffset: -1n })),
      })),
      throttleTimeMs: 0,
    }))
    const m = await p.send({ topic: 't', value: 'moved', partition: 0 })
    assert.equal(m.offset, 0n, 'first record of partition 0 on broker 2')
    assert.equal(b.logs.get('t-0')?.length, 1)
  } finally {
    await p.close()
    await a.close()
    await b.close()
  }
})

test("send('controller') goes to the controller and retries NOT_CONTROLLER after a metadata refresh", async () => {
  const a = await FakeBroker.start({ nodeId: 1, topics: { t: 1 } })
  const b = await FakeBroker.start({ nodeId: 2, topics: { t: 1 } })
  let controller = 1
  shareMetadata(
    [a, b],
    () => [1],
    () => controller,
  )
  const answer = (code: number) => () => ({ throttleTimeMs: 0, results: [{ name: 't', errorCode: code, errorMessage: null }] })
  a.intercept(CreatePartitions.key, () => {
    controller = 2
    return { throttleTimeMs: 0, results: [{ name: 't', errorCode: 41, errorMessage: null }] }
  })
  b.intercept(CreatePartitions.key, answer(0))
  const c = new Cluster({ bootstrapServers: a.bootstrap, retryBackoffMs: 5 })
  try {
    const res = await c.send(
      'controller',
      CreatePartitions,
      { topics: [{ name: 't', count: 2, assignments: null }], timeoutMs: 1000 },
      {
        errorCode: (r) => r.results[0]?.errorCode ?? 0,
      },
    )
    assert.equal(res.results[0]?.errorCode, 0)
    assert.equal(a.requests.filter((r) => r.apiKey === CreatePartitions.key).length, 1)
    assert.equal(b.requests.filter((r) => r.apiKey === CreatePartitions.key).length, 1)
  } finally {
    await c.close()
    await a.close()
    await b.close()
  }
})

test('retriable failures are retried with backoff until the deadline; then a TimeoutError carries the cause', async () => {
  const b = await FakeBroker.start({ topics: { t: 1 } })
  let calls = 0
  b.intercept(3, () => {
    calls++
    b.dropConnections()
    return null
  })
  const c = new Cluster({ bootstrapServers: b.bootstrap, retryBackoffMs: 10, retryBackoffMaxMs: 40 })
  try {
    const t0 = Date.now()
    await assert.rejects(
      c.send('any', Metadata, { topics: null }, { deadlineMs: 300 }),
      (e: unknown) => e instanceof TimeoutError && /Metadata/.test(e.message),
    )
    assert.ok(Date.now() - t0 < 1000)
    assert.ok(calls >= 3, `${calls} attempts`)
  } finally {
    await c.close()
    await b.close()
  }
})

test('the same request is not retried when `retries` is 0', async () => {
  const b = await FakeBroker.start()
  let calls = 0
  b.intercept(3, () => {
    calls++
    b.dropConnections()
    return null
  })
  const c = new Cluster({ bootstrapServers: b.bootstrap, retries: 0 })
  try {
    await assert.rejects(c.send('any', Metadata, { topics: null }), (e: unknown) => e instanceof Error && e.name === 'ConnectionError')
    assert.equal(calls, 1)
  } finally {
    await c.close()
    await b.close()
  }
})

test('a topic that metadata does not know fails with a non-retriable UnknownTopicError; auto-creation waits for it', async () => {
  const b = await FakeBroker.start({ autoCreate: true })
  const c = new Cluster({ bootstrapServers: b.bootstrap, retryBackoffMs: 5 })
  try {
    await assert.rejects(
      c.topic('nope', { autoCreate: false }),
      (e: unknown) => e instanceof UnknownTopicError && e.code === 3 && !e.retriable,
    )
    const t = await c.topic('auto', { autoCreate: true })
    assert.equal(t.partitions.length, 1)
    assert.equal(await c.leaderFor('auto', 0), 1)
    await assert.rejects(c.leaderFor('auto', 5), UnknownTopicError)
  } finally {
    await c.close()
    await b.close()
  }
})

test("a consumer starting at 'earliest' on a missing topic reports it instead of waiting forever", async () => {
  const b = await FakeBroker.start()
  const consumer = new SimpleConsumer({ bootstrapServers: b.bootstrap, retryBackoffMs: 5 })
  try {
    consumer.assign([{ topic: 'nope', partition: 0, offset: 'earliest' }])
    await assert.rejects(consumer.records().next(), (e: unknown) => e instanceof KafkaError && e.code === 3)
  } finally {
    await consumer.close()
    await b.close()
  }
})

test('connections are re-established after the broker drops them', async () => {
  const b = await FakeBroker.start({ topics: { t: 1 } })
  const p = new Producer({ bootstrapServers: b.bootstrap, retryBackoffMs: 5, lingerMs: 0 })
  try {
    await p.send({ topic: 't', value: 'a' })
    b.dropConnections()
    await new Promise((r) => setTimeout(r, 20))
    const m = await p.send({ topic: 't', value: 'b' })
    assert.equal(m.offset, 1n)
    assert.ok(b.requests.filter((r) => r.apiKey === ApiVersions.key).length >= 2, 'negotiated again on the new connection')
  } finally {
    await p.close()
    await b.close()
  }
})

test('idle connections are closed after connectionsMaxIdleMs and reopened on demand', async () => {
  const b = await FakeBroker.start({ topics: { t: 1 } })
  const c = new Cluster({ bootstrapServers: b.bootstrap, connectionsMaxIdleMs: 150 })
  try {
    await c.refreshMetadata(['t'])
    const first = await c.connection(1)
    await new Promise((r) => setTimeout(r, 500))
    assert.equal(first.conn.closed, true)
    assert.equal(c.readyConnection(1), undefined)
    const again = await c.connection(1)
    assert.notEqual(again.conn, first.conn)
    assert.equal(again.conn.closed, false)
  } finally {
    await c.close()
    await b.close()
  }
})
