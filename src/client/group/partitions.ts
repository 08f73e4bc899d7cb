/** Small helpers for sets of topic-partitions, kept in a stable (topic, partition) order. */
import type { TopicPartitions } from '../../protocol/consumer-protocol.ts'
import type { TopicPartition } from '../assignors/types.ts'
import { tpKey } from '../cluster/offsets.ts'

export { tpKey }

export function keyOf(tp: TopicPartition): string {
  return tpKey(tp.topic, tp.partition)
}

export function compareTp(a: TopicPartition, b: TopicPartition): number {
  return a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition
}

/** A set of topic-partitions keyed by `tpKey`. */
export class TpSet implements Iterable<TopicPartition> {
  readonly #m = new Map<string, TopicPartition>()

  constructor(tps: Iterable<TopicPartition> = []) {
    for (const tp of tps) this.add(tp)
  }

  get size(): number {
    return this.#m.size
  }

  has(tp: TopicPartition): boolean {
    return this.#m.has(keyOf(tp))
  }

  add(tp: TopicPartition): void {
    this.#m.set(keyOf(tp), { topic: tp.topic, partition: tp.partition })
  }

  delete(tp: TopicPartition): void {
    this.#m.delete(keyOf(tp))
  }

  clear(): void {
    this.#m.clear()
  }

  /** Sorted copy. */
  list(): TopicPartition[] {
    return [...this.#m.values()].sort(compareTp)
  }

  [Symbol.iterator](): Iterator<TopicPartition> {
    return this.#m.values()
  }
}

/** `after` compared with `before`: what was added and what was taken away, each sorted. */
export function diffPartitions(
  before: Iterable<TopicPartition>,
  after: Iterable<TopicPartition>,
): { added: TopicPartition[]; revoked: TopicPartition[] } {
  const b = new TpSet(before)
  const a = new TpSet(after)
  return { added: a.list().filter((tp) => !b.has(tp)), revoked: b.list().filter((tp) => !a.has(tp)) }
}

/** The consumer protocol's nested form: topics in order, partitions sorted. */
export function groupByTopic(tps: Iterable<TopicPartition>): TopicPartitions[] {
  const by = new Map<string, number[]>()
  for (const tp of tps) {
    let l = by.get(tp.topic)
    if (!l) by.set(tp.topic, (l = []))
    l.push(tp.partition)
  }
  return [...by.keys()].sort().map((topic) => ({ topic, partitions: (by.get(topic) as number[]).sort((x, y) => x - y) }))
}

export function flatten(tps: readonly TopicPartitions[]): TopicPartition[] {
  return tps.flatMap((t) => t.partitions.map((partition) => ({ topic: t.topic, partition }))).sort(compareTp)
}

/** `t-0, t-1, u-3` for log lines; long lists are cut. */
export function describeTps(tps: readonly TopicPartition[], max = 20): string {
  if (tps.length === 0) return '(none)'
  const shown = tps.slice(0, max).map((tp) => `${tp.topic}-${tp.partition}`)
  return tps.length > max ? `${shown.join(', ')} … (${tps.length} in all)` : shown.join(', ')
}
