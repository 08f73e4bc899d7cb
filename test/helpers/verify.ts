/** Checks that a round trip lost nothing, duplicated nothing and kept each partition's order. */
import assert from 'node:assert/strict'

/** `consumed` maps partition → sequence numbers in the order they were read. */
export function assertCompleteInOrder(consumed: Record<string, number[]>, count: number): void {
  const all = new Set<number>()
  let total = 0
  for (const [p, seqs] of Object.entries(consumed)) {
    for (let i = 1; i < seqs.length; i++) {
      assert.ok((seqs[i] as number) > (seqs[i - 1] as number), `partition ${p}: ${seqs[i]} read after ${seqs[i - 1]}`)
    }
    for (const s of seqs) all.add(s)
    total += seqs.length
  }
  assert.equal(total, count, `read ${total} records, produced ${count}`)
  assert.equal(all.size, count, `${count - all.size} records duplicated or missing`)
  for (let i = 0; i < count; i++) if (!all.has(i)) assert.fail(`record ${i} is missing`)
}

/** Every key must live in exactly one partition (the partitioner is deterministic). */
export function assertKeysSticky(keyPartitions: Record<string, number>, partitions: number): void {
  const used = new Set(Object.values(keyPartitions))
  assert.ok(used.size > 1 || partitions === 1, 'all keys landed on one partition: the partitioner is not hashing')
}
