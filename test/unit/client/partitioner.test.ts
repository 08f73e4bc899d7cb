import assert from 'node:assert/strict'
import { test } from 'node:test'
import { keyPartition } from '../../../src/client/producer/murmur2.ts'
import { DefaultPartitioner } from '../../../src/client/producer/partitioner.ts'

const choice = (key: Buffer | null, n = 6, available = [0, 1, 2, 3, 4, 5]) => ({ topic: 't', key, numPartitions: n, available })

test('keyed records go to murmur2(key) mod partitions', () => {
  const p = new DefaultPartitioner()
  for (const k of ['a', 'b', 'order-17', '']) assert.equal(p.partition(choice(Buffer.from(k))), keyPartition(Buffer.from(k), 6))
})

test('unkeyed records stick to one partition until its batch is complete (KIP-480)', () => {
  let i = 0
  const seq = [0.1, 0.1, 0.9, 0.5]
  const p = new DefaultPartitioner(() => seq[i++ % seq.length] as number)
  const first = p.partition(choice(null))
  for (let k = 0; k < 10; k++) assert.equal(p.partition(choice(null)), first)
  const next = p.onNewBatch(choice(null), first)
  assert.notEqual(next, first, 'a new batch moves to another partition')
  assert.equal(p.partition(choice(null)), next)
  // A stale onNewBatch (for the old partition) does not move it again.
  assert.equal(p.onNewBatch(choice(null), first), next)
})

test('the sticky choice prefers partitions with a leader', () => {
  const p = new DefaultPartitioner()
  for (let k = 0; k < 20; k++) {
    const q = new DefaultPartitioner()
    assert.equal(q.partition(choice(null, 6, [4])), 4)
  }
  assert.equal(p.onNewBatch(choice(null, 6, [2]), 2), 2, 'with one available partition it stays there')
})
