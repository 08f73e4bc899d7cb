/**
 * The Java client's default partitioning: an explicit partition wins, a keyed
 * record goes to `toPositive(murmur2(key)) % numPartitions`, and records
 * without a key stick to one partition until its batch is complete (KIP-480),
 * so small unkeyed records still form large batches.
 */
import { keyPartition } from './murmur2.ts'

export interface PartitionChoice {
  topic: string
  key: Buffer | null
  numPartitions: number
  /** Partitions that currently have a leader; sticky choices prefer them. */
  available: readonly number[]
}

export class DefaultPartitioner {
  readonly #sticky = new Map<string, number>()
  readonly #random: () => number

  constructor(random: () => number = Math.random) {
    this.#random = random
  }

  /** The topic's sticky partition for unkeyed records, if one is chosen and still exists. */
  stickyFor(topic: string, numPartitions: number): number | undefined {
    const current = this.#sticky.get(topic)
    return current !== undefined && current < numPartitions ? current : undefined
  }

  partition(c: PartitionChoice): number {
    if (c.key !== null) return keyPartition(c.key, c.numPartitions)
    const current = this.#sticky.get(c.topic)
    if (current !== undefined && current < c.numPartitions) return current
    return this.#choose(c, -1)
  }

  /** The sticky partition's batch is complete: move unkeyed records of the topic to another partition. */
  onNewBatch(c: PartitionChoice, previous: number): number {
    const current = this.#sticky.get(c.topic)
    // Another caller may already have moved on; only switch away from the partition that filled up.
    if (current !== undefined && current !== previous && current < c.numPartitions) return current
    return this.#choose(c, previous)
  }

  #choose(c: PartitionChoice, avoid: number): number {
    const pool = c.available.length > 0 ? c.available : range(c.numPartitions)
    let p: number
    if (pool.length === 1) p = pool[0] as number
    else {
      do p = pool[Math.floor(this.#random() * pool.length)] as number
      while (p === avoid)
    }
    this.#sticky.set(c.topic, p)
    return p
  }
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i)
}
