/**
 * Found by the chaos harness (docs/chaos.md): a member assigned a partition added after its metadata
 * was cached (the leader saw the addition first) fails for good when it resets the partition's offset:
 * Cluster.leaderFor throws a non-retriable UnknownTopicError ("topic chaos has no partition 10 (it has
 * 10)") without refreshing metadata, listOffsets passes it on, and the fetcher hands it to the
 * application, whose consumer loop ends. With Kafka's default metadata.max.age.ms (5 minutes) the
 * window after a partition addition is wide.
 *
 *   (a regression test; it was chaos/repro/new-partition-stale-metadata.test.ts)
 */
import assert from 'node:assert/strict'
import { after, test } from 'node:test'
import { Admin } from '../../src/admin/index.ts'
import { Cluster } from '../../src/client/cluster/cluster.ts'
import { listOffsets, OffsetSpec } from '../../src/client/cluster/offsets.ts'
import { startBroker, type TestBroker } from '../helpers/broker.ts'

let b: TestBroker | undefined
after(async () => b?.stop())

test('a partition added after the metadata was cached: leaderFor and listOffsets refresh instead of failing for good', async () => {
  b = await startBroker({ 'log.flush.mode': 'os' })
  const admin = new Admin({ bootstrapServers: b.bootstrap })
  const cluster = new Cluster({ bootstrapServers: b.bootstrap, metadataMaxAgeMs: 300_000 })
  try {
    await admin.createTopics([{ name: 'grow', partitions: 2 }])
    assert.equal((await cluster.topic('grow')).partitions.length, 2)
    await admin.createPartitions('grow', 4)
    const answers = await listOffsets(cluster, [{ topic: 'grow', partition: 3, timestamp: OffsetSpec.earliest }], { timeoutMs: 5000 })
    const answer = [...answers.values()][0]
    assert.equal(answer?.error ?? null, null, `listOffsets(grow-3) failed: ${answer?.error?.message}`)
    assert.equal(answer?.offset, 0n)
  } finally {
    await cluster.close()
    await admin.close()
  }
})
