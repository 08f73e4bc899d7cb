/**
 * Committed offsets by group → topic → partition (Kafka `OffsetMetadataManager.Offsets`). Durable state:
 * only `GroupCoordinator.replay` writes here.
 */
import type { OffsetCommitValue } from './records.ts'

export type CommittedOffset = Readonly<OffsetCommitValue>

export class OffsetStore {
  readonly #byGroup = new Map<string, Map<string, Map<number, CommittedOffset>>>()
  #count = 0

  get size(): number {
    return this.#count
  }

  get(group: string, topic: string, partition: number): CommittedOffset | undefined {
    return this.#byGroup.get(group)?.get(topic)?.get(partition)
  }

  put(group: string, topic: string, partition: number, value: CommittedOffset): void {
    let topics = this.#byGroup.get(group)
    if (topics === undefined) this.#byGroup.set(group, (topics = new Map()))
    let partitions = topics.get(topic)
    if (partitions === undefined) topics.set(topic, (partitions = new Map()))
    if (!partitions.has(partition)) this.#count++
    partitions.set(partition, value)
  }

  delete(group: string, topic: string, partition: number): boolean {
    const topics = this.#byGroup.get(group)
    const partitions = topics?.get(topic)
    if (topics === undefined || partitions === undefined || !partitions.delete(partition)) return false
    this.#count--
    if (partitions.size === 0) topics.delete(topic)
    if (topics.size === 0) this.#byGroup.delete(group)
    return true
  }

  /** topic → partition → offset of a group (live view; do not mutate). */
  group(group: string): ReadonlyMap<string, ReadonlyMap<number, CommittedOffset>> | undefined {
    return this.#byGroup.get(group)
  }

  hasOffsets(group: string): boolean {
    return this.#byGroup.has(group)
  }

  groups(): IterableIterator<string> {
    return this.#byGroup.keys()
  }
}
