/**
 * Data acknowledged with acks=-1 survives kill -9 of the broker: the test
 * produces through a separate broker process, kills it without warning,
 * restarts it on the same data directory and reads everything back.
 */
import assert from 'node:assert/strict'
import { appendFileSync, readdirSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { CreateTopics, Fetch, InitProducerId, Produce } from '../../src/protocol/apis/index.ts'
import { ErrorCode } from '../../src/protocol/errors.ts'
import { decodeBatches, encodeBatch } from '../../src/protocol/records/batch.ts'
import { spawnBroker, tempDir } from '../helpers/broker.ts'
import { RawClient } from '../helpers/raw-client.ts'

async function readAll(bootstrap: string, topic: string, partitions: number): Promise<string[]> {
  const c = await RawClient.connect(bootstrap)
  const values: string[] = []
  for (let p = 0; p < partitions; p++) {
    let offset = 0n
    for (;;) {
      const res = await c.request(Fetch, 11, {
        maxWaitMs: 0,
        minBytes: 0,
        maxBytes: 8 << 20,
        topics: [{ topic, partitions: [{ partition: p, fetchOffset: offset, partitionMaxBytes: 8 << 20 }] }],
      })
      const part = res.responses[0]?.partitions[0]
      assert.equal(part?.errorCode, ErrorCode.NONE)
      const batches = decodeBatches(part?.records ?? Buffer.alloc(0))
      let advanced = false
      for (const b of batches) {
        for (const r of b.records) {
          if (r.offset < offset) continue
          values.push(r.value?.toString() ?? '')
          offset = r.offset + 1n
          advanced = true
        }
      }
      if (!advanced) break
    }
  }
  c.close()
  return values
}

test('records acknowledged with acks=-1 survive kill -9 and a torn tail, and the log keeps accepting writes', async (t) => {
  const dir = tempDir()
  let broker = await spawnBroker(dir)
  t.after(async () => {
    await broker.kill('SIGKILL')
    rmSync(dir, { recursive: true, force: true })
  })
  const c = await RawClient.connect(broker.bootstrap)
  const created = await c.request(CreateTopics, 5, { topics: [{ name: 'durable', numPartitions: 2, replicationFactor: 1 }] })
  assert.equal(created.topics[0]?.errorCode, ErrorCode.NONE)

  const acked: string[] = []
  // Several requests in flight at once, so group commit is exercised too.
  for (let round = 0; round < 20; round++) {
    await Promise.all(
      [0, 1].map(async (p) => {
        const values = Array.from({ length: 50 }, (_, i) => `r${round}-p${p}-${i}`)
        const res = await c.request(Produce, 7, {
          acks: -1,
          timeoutMs: 10000,
          topicData: [
            {
              name: 'durable',
              partitionData: [{ index: p, records: encodeBatch({ records: values.map((value) => ({ key: `k${p}`, value })) }) }],
            },
          ],
        })
        assert.equal(res.responses[0]?.partitionResponses[0]?.errorCode, ErrorCode.NONE)
        acked.push(...values)
      }),
    )
  }
  c.close()
  assert.equal(await broker.kill('SIGKILL'), null)

  // A torn write: half a batch header and garbage after the last good batch.
  const segDir = join(dir, 'durable-0')
  const seg = readdirSync(segDir).find((f) => f.endsWith('.log')) as string
  appendFileSync(join(segDir, seg), Buffer.from([0, 0, 0, 0, 0, 0, 0, 9, 0, 0, 0x10, 0, 0xde, 0xad]))

  broker = await spawnBroker(dir)
  const after = await readAll(broker.bootstrap, 'durable', 2)
  assert.equal(after.length, acked.length, 'every acknowledged record is back, nothing extra')
  assert.deepEqual(new Set(after), new Set(acked))
  assert.match(broker.stderr(), /truncat/i, 'recovery says what it cut')

  const c2 = await RawClient.connect(broker.bootstrap)
  const more = await c2.request(Produce, 7, {
    acks: -1,
    timeoutMs: 10000,
    topicData: [{ name: 'durable', partitionData: [{ index: 0, records: encodeBatch({ records: [{ value: 'after-restart' }] }) }] }],
  })
  assert.equal(more.responses[0]?.partitionResponses[0]?.errorCode, ErrorCode.NONE)
  assert.equal(more.responses[0]?.partitionResponses[0]?.baseOffset, 1000n, 'offsets continue where the recovered log ends')
  c2.close()
  await broker.kill('SIGTERM')
})

test('a producer retrying its last batch after a broker kill -9 gets the original offset, not a duplicate', async (t) => {
  const dir = tempDir()
  let broker = await spawnBroker(dir)
  t.after(async () => {
    await broker.kill('SIGKILL')
    rmSync(dir, { recursive: true, force: true })
  })
  const c = await RawClient.connect(broker.bootstrap)
  await c.request(CreateTopics, 5, { topics: [{ name: 'idem', numPartitions: 1, replicationFactor: 1 }] })
  const init = await c.request(InitProducerId, 4, { transactionalId: null, transactionTimeoutMs: 60000 })
  const batch = (seq: number) =>
    encodeBatch({
      records: [{ value: `seq-${seq}` }, { value: `seq-${seq}b` }],
      producerId: init.producerId,
      producerEpoch: init.producerEpoch,
      baseSequence: seq,
    })
  const send = async (client: RawClient, seq: number) =>
    (
      await client.request(Produce, 7, {
        acks: -1,
        timeoutMs: 10000,
        topicData: [{ name: 'idem', partitionData: [{ index: 0, records: batch(seq) }] }],
      })
    ).responses[0]?.partitionResponses[0]
  await send(c, 0)
  const last = await send(c, 2)
  c.close()
  await broker.kill('SIGKILL')

  broker = await spawnBroker(dir)
  const c2 = await RawClient.connect(broker.bootstrap)
  const retried = await send(c2, 2)
  assert.equal(retried?.errorCode, ErrorCode.NONE)
  assert.equal(retried?.baseOffset, last?.baseOffset, 'answered with the offset it was written at before the crash')
  const gap = await send(c2, 9)
  assert.equal(gap?.errorCode, ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER)
  const next = await send(c2, 4)
  assert.equal(next?.baseOffset, 4n, 'nothing was appended twice')
  c2.close()
})
