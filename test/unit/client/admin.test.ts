/**
 * Admin paths the real broker cannot show: the AlterConfigs fallback for
 * brokers without IncrementalAlterConfigs, and per-item retries.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Admin, AdminError, throwIfErrors } from '../../../src/admin/index.ts'
import { AlterConfigs, CreateTopics, DescribeConfigs, IncrementalAlterConfigs } from '../../../src/protocol/apis/index.ts'
import { FakeBroker } from './fake-broker.ts'

test('without IncrementalAlterConfigs, alterConfigs sends the topic overrides merged with the changes', async () => {
  const b = await FakeBroker.start({ topics: { t: 1 } })
  b.versions.delete(IncrementalAlterConfigs.key)
  const config = (name: string, value: string, source: number) => ({
    name,
    value,
    readOnly: false,
    configSource: source,
    isSensitive: false,
    synonyms: [],
    configType: 2,
    documentation: null,
  })
  b.intercept(DescribeConfigs.key, () => ({
    throttleTimeMs: 0,
    results: [
      {
        errorCode: 0,
        errorMessage: null,
        resourceType: 2,
        resourceName: 't',
        configs: [config('retention.ms', '1000', 1), config('cleanup.policy', 'compact', 1), config('segment.bytes', '1073741824', 5)],
      },
    ],
  }))
  let sent: { name: string; value: string | null }[] = []
  b.intercept(AlterConfigs.key, (_v, body) => {
    sent = body.resources[0].configs
    return { throttleTimeMs: 0, responses: [{ errorCode: 0, errorMessage: null, resourceType: 2, resourceName: 't' }] }
  })
  const admin = new Admin({ bootstrapServers: b.bootstrap })
  try {
    await admin.alterConfigs('t', { set: { 'max.message.bytes': '5000' }, delete: ['cleanup.policy'] })
    assert.deepEqual(sent.map((c) => [c.name, c.value]).sort(), [
      ['max.message.bytes', '5000'],
      ['retention.ms', '1000'],
    ])
    const described = await admin.describeConfigs('t')
    assert.equal(described.get('segment.bytes')?.source, 'default')
    assert.equal(described.get('segment.bytes')?.isDefault, true)
    assert.equal(described.get('retention.ms')?.source, 'topic')
  } finally {
    await admin.close()
    await b.close()
  }
})

test('createTopics retries items refused with NOT_CONTROLLER and reports the others as they are', async () => {
  const b = await FakeBroker.start()
  let round = 0
  b.intercept(CreateTopics.key, (v, body) => {
    round++
    return {
      throttleTimeMs: 0,
      topics: body.topics.map((t: { name: string; numPartitions: number }) => ({
        name: t.name,
        topicId: 'AAAAAAAAAAAAAAAAAAAAAA',
        errorCode: t.name === 'dup' ? 36 : round === 1 ? 41 : 0,
        errorMessage: null,
        numPartitions: v >= 5 ? t.numPartitions : -1,
        replicationFactor: 1,
        configs: [],
      })),
    }
  })
  const admin = new Admin({ bootstrapServers: b.bootstrap, retryBackoffMs: 5 })
  try {
    const res = await admin.createTopics([{ name: 'a', partitions: 3 }, { name: 'dup' }])
    assert.equal(res.get('a')?.error, null)
    assert.equal(res.get('a')?.partitions, 3)
    assert.equal(res.get('dup')?.error?.code, 36)
    assert.equal(round, 2)
    const creates = b.requests.filter((r) => r.apiKey === CreateTopics.key)
    assert.deepEqual(
      creates[1]?.body.topics.map((t: { name: string }) => t.name),
      ['a'],
      'only the retriable item is sent again',
    )
    assert.equal(creates[0]?.body.topics[1].numPartitions, -1, 'broker default partitions')
    assert.throws(
      () => throwIfErrors(res),
      (e: unknown) => e instanceof AdminError && e.failures.size === 1 && e.failures.has('dup'),
    )
  } finally {
    await admin.close()
    await b.close()
  }
})
