/**
 * A consumer without a group: the caller assigns partitions (and optionally
 * starting offsets) and reads records through an async iterator.
 *
 * One Fetch is in flight per leader at a time, carrying only the partitions
 * that have nothing buffered, so memory stays bounded by roughly one fetch per
 * partition and a slow reader slows fetching down (back-pressure). Positions
 * move as records are handed out. The fetching itself lives in `fetcher.ts`,
 * shared with the group consumer.
 */
import { Cluster, type ClusterOptions } from '../cluster/cluster.ts'
import { ClosedError, ConfigError } from '../errors.ts'
import { type ConsumerRecord, Fetcher, type FetchOptions, resolveFetchOptions } from './fetcher.ts'

export type { ConsumerRecord, IsolationLevel, OffsetResetStrategy } from './fetcher.ts'

export interface SimpleConsumerOptions extends Partial<ClusterOptions>, FetchOptions {
  /** Share an existing cluster instead of opening one; it is not closed with the consumer. */
  cluster?: Cluster
}

export interface PartitionAssignment {
  topic: string
  partition: number
  /** Where to start: an offset, 'earliest', 'latest' (default: `autoOffsetReset`). */
  offset?: bigint | 'earliest' | 'latest'
}

export class SimpleConsumer implements AsyncIterable<ConsumerRecord> {
  readonly cluster: Cluster
  readonly #owns: boolean
  readonly #fetcher: Fetcher
  #closed = false

  constructor(options: SimpleConsumerOptions) {
    const fetchOptions = resolveFetchOptions(options)
    if (options.cluster) {
      this.cluster = options.cluster
      this.#owns = false
    } else {
      if (options.bootstrapServers === undefined) throw new ConfigError('bootstrapServers (or cluster) is required')
      this.cluster = new Cluster(options as ClusterOptions)
      this.#owns = true
    }
    this.#fetcher = new Fetcher(this.cluster, fetchOptions)
  }

  /** Replaces the assignment. Partitions kept from the old one keep their position unless a new offset is given. */
  assign(assignments: readonly PartitionAssignment[]): void {
    if (this.#closed) throw new ClosedError('consumer')
    this.#fetcher.assign(assignments)
  }

  /** Moves a partition's position; buffered records of it are dropped. */
  seek(topic: string, partition: number, offset: bigint | 'earliest' | 'latest'): void {
    this.#fetcher.seek(topic, partition, offset)
  }

  /** The next offset that will be returned for a partition (null while it is being looked up). */
  position(topic: string, partition: number): bigint | null | undefined {
    return this.#fetcher.position(topic, partition)
  }

  assignment(): { topic: string; partition: number }[] {
    return this.#fetcher.assignment()
  }

  [Symbol.asyncIterator](): AsyncIterator<ConsumerRecord> {
    return this.records()
  }

  /**
   * Records in fetch order (in offset order per partition). A partition error
   * that cannot be retried (OFFSET_OUT_OF_RANGE with autoOffsetReset 'none',
   * authorization, corrupt data) rejects `next()` once; the iterator can be
   * used again afterwards. It ends when the consumer is closed, or with
   * `exitAtEnd` once every assigned partition has been read up to the end
   * its last fetch reported (the high watermark, or the last stable offset
   * for read_committed), like kcat's `-e`.
   */
  records(options: { exitAtEnd?: boolean } = {}): AsyncIterableIterator<ConsumerRecord> {
    const exitAtEnd = options.exitAtEnd === true
    return {
      next: () => this.#next(exitAtEnd),
      return: async () => ({ done: true, value: undefined }),
      [Symbol.asyncIterator]() {
        return this
      },
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    this.#fetcher.close()
    if (this.#owns) await this.cluster.close()
  }

  async #next(exitAtEnd: boolean): Promise<IteratorResult<ConsumerRecord>> {
    for (;;) {
      if (this.#closed) return { done: true, value: undefined }
      const err = this.#fetcher.takeError()
      if (err) throw err
      const rec = this.#fetcher.takeRecord()
      if (rec !== undefined) return { done: false, value: rec }
      if (exitAtEnd && this.#fetcher.atEnd()) return { done: true, value: undefined }
      await this.#fetcher.waitForData()
    }
  }
}
