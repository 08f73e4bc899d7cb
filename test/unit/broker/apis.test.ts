/** Broker API semantics that clients rely on, checked on the wire with exact requests. */
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import {
  ApiVersions,
  CreateTopics,
  DeleteRecords,
  DescribeCluster,
  DescribeConfigs,
  Fetch,
  IncrementalAlterConfigs,
  InitProducerId,
  ListOffsets,
  Metadata,
  Produce,
} from '../../../src/protocol/apis/index.ts'
import { ErrorCode } from '../../../src/protocol/errors.ts'
import { decodeBatches, encodeBatch } from '../../../src/protocol/records/batch.ts'
import { startBroker, type TestBroker } from '../../helpers/broker.ts'
import { RawClient } from '../../helpers/raw-client.ts'

let b: TestBroker
let c: RawClient

before(async () => {
  b = await startBroker({ 'log.flush.mode': 'os' })
  c = await RawClient.connect(b.bootstrap)
  const res = await c.request(CreateTopics, 5, {
    topics: [
      { name: 'apis', numPartitions: 2, replicationFactor: 1 },
      { name: 'configs', numPartitions: 1, replicationFactor: 1, configs: [{ name: 'retention.ms', value: '1000' }] },
    ],
  })
  assert.deepEqual(
    res.topics.map((t) => t.errorCode),
    [0, 0],
  )
})
after(async () => {
  c.close()
  await b.stop()
})

async function produce(topic: string, partition: number, records: Buffer, version = 9) {
  const res = await c.request(Produce, version, {
    acks: 1,
    timeoutMs: 1000,
    topicData: [{ name: topic, partitionData: [{ index: partition, records }] }],
  })
  return res.responses[0]?.partitionResponses[0]
}

test('ApiVersions v3 lists every served API once, and the response uses header v0', async () => {
  const res = await c.request(ApiVersions, 3, { clientSoftwareName: 't', clientSoftwareVersion: '1' })
  const keys = res.apiKeys.map((k) => k.apiKey)
  assert.equal(new Set(keys).size, keys.length)
  for (const key of [0, 1, 2, 3, 8, 9, 10, 11, 12, 13, 14, 15, 16, 18, 19, 20, 21, 22, 32, 33, 37, 42, 44, 47, 60])
    assert.ok(keys.includes(key), `API ${key} advertised`)
  assert.ok(!keys.includes(24), 'transactions are not advertised')
})

test('Metadata: one node id everywhere, v0 empty list means all topics, controller is the broker', async () => {
  const v0 = await c.request(Metadata, 0, { topics: [] })
  assert.ok(v0.topics.some((t) => t.name === 'apis'))
  const v12 = await c.request(Metadata, 12, { topics: [{ name: 'apis' }], allowAutoTopicCreation: false })
  const node = v12.brokers[0]?.nodeId
  assert.equal(v12.controllerId, node)
  assert.equal(v12.topics[0]?.partitions.length, 2)
  for (const p of v12.topics[0]?.partitions ?? []) {
    assert.equal(p.leaderId, node)
    assert.deepEqual(p.replicaNodes, [node])
  }
  assert.notEqual(v12.topics[0]?.topicId, 'AAAAAAAAAAAAAAAAAAAAAA')
  const none = await c.request(Metadata, 12, { topics: [{ name: 'missing-topic' }], allowAutoTopicCreation: false })
  assert.equal(none.topics[0]?.errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION)
  const cluster = await c.request(DescribeCluster, 0, {})
  assert.equal(cluster.controllerId, node)
  assert.equal(cluster.brokers[0]?.brokerId, node)
})

test('Fetch by topic id (v13+), unknown topic id, and an offset inside a batch returns the whole batch', async () => {
  const r = await produce('apis', 0, encodeBatch({ records: [{ value: 'a' }, { value: 'b' }, { value: 'c' }] }))
  assert.equal(r?.errorCode, ErrorCode.NONE)
  const md = await c.request(Metadata, 12, { topics: [{ name: 'apis' }], allowAutoTopicCreation: false })
  const topicId = md.topics[0]?.topicId as string
  const f = await c.request(Fetch, 13, {
    maxWaitMs: 0,
    minBytes: 0,
    maxBytes: 1 << 20,
    topics: [{ topicId, partitions: [{ partition: 0, fetchOffset: (r?.baseOffset ?? 0n) + 1n, partitionMaxBytes: 1 << 20 }] }],
  })
  const p = f.responses[0]?.partitions[0]
  assert.equal(p?.errorCode, ErrorCode.NONE)
  const batches = decodeBatches(p?.records as Buffer)
  assert.equal(batches[0]?.baseOffset, r?.baseOffset, 'the containing batch, from its start')
  const unknown = await c.request(Fetch, 13, {
    maxWaitMs: 0,
    minBytes: 0,
    maxBytes: 1 << 20,
    topics: [{ topicId: 'AAAAAAAAAAAAAAAAAAAAAQ', partitions: [{ partition: 0, fetchOffset: 0n, partitionMaxBytes: 1 << 20 }] }],
  })
  assert.equal(unknown.responses[0]?.partitions[0]?.errorCode, ErrorCode.UNKNOWN_TOPIC_ID)
})

test('Fetch long poll: parks until data arrives, and answers after max.wait.ms when none does', async () => {
  const c2 = await RawClient.connect(b.bootstrap)
  const end = (
    await c.request(ListOffsets, 5, { replicaId: -1, topics: [{ name: 'apis', partitions: [{ partitionIndex: 1, timestamp: -1n }] }] })
  ).topics[0]?.partitions[0]?.offset as bigint
  const t0 = Date.now()
  const parked = c2.request(Fetch, 11, {
    maxWaitMs: 10_000,
    minBytes: 1,
    maxBytes: 1 << 20,
    topics: [{ topic: 'apis', partitions: [{ partition: 1, fetchOffset: end, partitionMaxBytes: 1 << 20 }] }],
  })
  await new Promise((r) => setTimeout(r, 100))
  await produce('apis', 1, encodeBatch({ records: [{ value: 'wake' }] }))
  const woke = await parked
  assert.ok(Date.now() - t0 < 5000, 'answered when data arrived, not at max.wait.ms')
  assert.ok((woke.responses[0]?.partitions[0]?.records?.length ?? 0) > 0)

  const t1 = Date.now()
  const empty = await c2.request(Fetch, 11, {
    maxWaitMs: 300,
    minBytes: 1,
    maxBytes: 1 << 20,
    topics: [{ topic: 'apis', partitions: [{ partition: 1, fetchOffset: end + 1n, partitionMaxBytes: 1 << 20 }] }],
  })
  assert.ok(Date.now() - t1 >= 250, 'waited for max.wait.ms')
  assert.equal(empty.responses[0]?.partitions[0]?.records?.length, 0, 'empty, non-null records')
  c2.close()
})

test('Fetch: an offset past the end or before the start is OFFSET_OUT_OF_RANGE', async () => {
  const f = await c.request(Fetch, 11, {
    maxWaitMs: 0,
    minBytes: 0,
    maxBytes: 1 << 20,
    topics: [{ topic: 'apis', partitions: [{ partition: 0, fetchOffset: 1_000_000n, partitionMaxBytes: 1 << 20 }] }],
  })
  assert.equal(f.responses[0]?.partitions[0]?.errorCode, ErrorCode.OFFSET_OUT_OF_RANGE)
})

test('ListOffsets: earliest, latest, by timestamp, max timestamp', async () => {
  const base = 1_700_000_000_000n
  const r = await produce(
    'configs',
    0,
    encodeBatch({ records: [0, 1, 2].map((i) => ({ value: `t${i}`, timestamp: base + BigInt(i) * 1000n })), timestamp: base }),
  )
  const ask = async (timestamp: bigint, version = 7) =>
    (
      await c.request(ListOffsets, version, {
        replicaId: -1,
        topics: [{ name: 'configs', partitions: [{ partitionIndex: 0, timestamp }] }],
      })
    ).topics[0]?.partitions[0]
  const start = r?.baseOffset as bigint
  assert.equal((await ask(-2n))?.offset, 0n)
  assert.equal((await ask(-1n))?.offset, start + 3n)
  const byTime = await ask(base + 1500n)
  assert.equal(byTime?.offset, start + 2n)
  assert.equal(byTime?.timestamp, base + 2000n)
  const future = await ask(base + 1_000_000n)
  assert.equal(future?.offset, -1n)
  const max = await ask(-3n)
  assert.equal(max?.offset, start + 2n)
  assert.equal(max?.timestamp, base + 2000n)
})

test('idempotent produce: a retried batch gets its original offset; a sequence gap is refused', async () => {
  const init = await c.request(InitProducerId, 4, { transactionalId: null, transactionTimeoutMs: 60000 })
  assert.equal(init.errorCode, ErrorCode.NONE)
  const batch = (seq: number) =>
    encodeBatch({ records: [{ value: `s${seq}` }], producerId: init.producerId, producerEpoch: init.producerEpoch, baseSequence: seq })
  const first = await produce('apis', 0, batch(0))
  const second = await produce('apis', 0, batch(1))
  const retry = await produce('apis', 0, batch(1))
  assert.equal(retry?.errorCode, ErrorCode.NONE)
  assert.equal(retry?.baseOffset, second?.baseOffset, 'the duplicate is answered with the original offset')
  assert.equal(second?.baseOffset, (first?.baseOffset as bigint) + 1n)
  const gap = await produce('apis', 0, batch(5))
  assert.equal(gap?.errorCode, ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER)
  const next = await produce('apis', 0, batch(2))
  assert.equal(next?.baseOffset, (second?.baseOffset as bigint) + 1n, 'nothing was appended for the duplicate or the gap')
})

test('DescribeConfigs shows explicit and default values with their sources; IncrementalAlterConfigs sets, appends and deletes', async () => {
  const describe = async () =>
    (
      await c.request(DescribeConfigs, 4, {
        resources: [{ resourceType: 2, resourceName: 'configs', configurationKeys: null }],
        includeSynonyms: true,
      })
    ).results[0]
  const d = await describe()
  const byName = new Map(d?.configs.map((x) => [x.name, x]))
  assert.equal(byName.get('retention.ms')?.value, '1000')
  assert.equal(byName.get('retention.ms')?.configSource, 1, 'DYNAMIC_TOPIC_CONFIG')
  assert.equal(byName.get('cleanup.policy')?.value, 'delete')
  assert.equal(byName.get('max.message.bytes')?.value, '1048588')
  const alter = await c.request(IncrementalAlterConfigs, 1, {
    resources: [
      {
        resourceType: 2,
        resourceName: 'configs',
        configs: [
          { name: 'cleanup.policy', configOperation: 2, value: 'compact' },
          { name: 'retention.ms', configOperation: 1, value: null },
          { name: 'segment.bytes', configOperation: 0, value: '1048576' },
        ],
      },
    ],
    validateOnly: false,
  })
  assert.equal(alter.responses[0]?.errorCode, ErrorCode.NONE)
  const after = new Map((await describe())?.configs.map((x) => [x.name, x]))
  assert.equal(after.get('cleanup.policy')?.value, 'delete,compact')
  assert.equal(after.get('retention.ms')?.configSource, 4, 'back to the broker default')
  assert.equal(after.get('segment.bytes')?.value, '1048576')
  const bad = await c.request(IncrementalAlterConfigs, 1, {
    resources: [{ resourceType: 2, resourceName: 'configs', configs: [{ name: 'no.such.config', configOperation: 0, value: '1' }] }],
    validateOnly: false,
  })
  assert.equal(bad.responses[0]?.errorCode, ErrorCode.INVALID_CONFIG)
})

test('DeleteRecords moves the log start offset; reads below it are out of range', async () => {
  await produce('apis', 1, encodeBatch({ records: [{ value: 'x' }, { value: 'y' }] }))
  const end = (
    await c.request(ListOffsets, 5, { replicaId: -1, topics: [{ name: 'apis', partitions: [{ partitionIndex: 1, timestamp: -1n }] }] })
  ).topics[0]?.partitions[0]?.offset as bigint
  const res = await c.request(DeleteRecords, 2, {
    topics: [{ name: 'apis', partitions: [{ partitionIndex: 1, offset: end - 1n }] }],
    timeoutMs: 1000,
  })
  assert.equal(res.topics[0]?.partitions[0]?.errorCode, ErrorCode.NONE)
  assert.equal(res.topics[0]?.partitions[0]?.lowWatermark, end - 1n)
  const earliest = (
    await c.request(ListOffsets, 5, { replicaId: -1, topics: [{ name: 'apis', partitions: [{ partitionIndex: 1, timestamp: -2n }] }] })
  ).topics[0]?.partitions[0]?.offset
  assert.equal(earliest, end - 1n)
  const tooFar = await c.request(DeleteRecords, 2, {
    topics: [{ name: 'apis', partitions: [{ partitionIndex: 1, offset: end + 10n }] }],
    timeoutMs: 1000,
  })
  assert.equal(tooFar.topics[0]?.partitions[0]?.errorCode, ErrorCode.OFFSET_OUT_OF_RANGE)
})
