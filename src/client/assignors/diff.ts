import type { TopicPartition } from './types.ts'

const key = (tp: TopicPartition): string => `${tp.partition}:${tp.topic}`

/**
 * What changes between a member's assignment before and after a rebalance: `added` are in `after` only,
 * `revoked` in `before` only. Each keeps its input order; duplicates are reported once.
 */
export function diffAssignment(before: TopicPartition[], after: TopicPartition[]): { added: TopicPartition[]; revoked: TopicPartition[] } {
  const beforeKeys = new Set(before.map(key))
  const afterKeys = new Set(after.map(key))
  const added: TopicPartition[] = []
  const revoked: TopicPartition[] = []
  for (const tp of after) {
    const k = key(tp)
    if (!beforeKeys.has(k)) {
      added.push({ topic: tp.topic, partition: tp.partition })
      beforeKeys.add(k) // report a duplicate once
    }
  }
  for (const tp of before) {
    const k = key(tp)
    if (!afterKeys.has(k)) {
      revoked.push({ topic: tp.topic, partition: tp.partition })
      afterKeys.add(k)
    }
  }
  return { added, revoked }
}
