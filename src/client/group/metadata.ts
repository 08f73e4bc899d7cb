/** The member's view of topic metadata, through the shared cluster's cache and refreshes. */
import { ErrorCode } from '../../protocol/errors.ts'
import type { Cluster } from '../cluster/cluster.ts'
import type { MetadataSource } from './types.ts'

export class ClusterMetadataSource implements MetadataSource {
  readonly #cluster: Cluster

  constructor(cluster: Cluster) {
    this.#cluster = cluster
  }

  async partitionCounts(topics: readonly string[]): Promise<Map<string, number>> {
    const out = new Map<string, number>()
    if (topics.length === 0) return out
    // Fresh metadata each time: a partition count that grew is exactly what the caller looks for.
    const md = await this.#cluster.refreshMetadata(topics, this.#cluster.options.allowAutoCreateTopics)
    for (const name of topics) {
      const t = md.topic(name)
      if (t && t.errorCode === ErrorCode.NONE && t.partitions.length > 0) out.set(name, t.partitions.length)
    }
    return out
  }

  async matchingTopics(pattern: RegExp): Promise<string[]> {
    // A global or sticky pattern keeps state between test() calls; match with a stateless copy.
    const re = pattern.global || pattern.sticky ? new RegExp(pattern.source, pattern.flags.replace(/[gy]/g, '')) : pattern
    const md = await this.#cluster.refreshMetadata()
    return [...md.topics.values()].filter((t) => !t.isInternal && t.errorCode === ErrorCode.NONE && re.test(t.name)).map((t) => t.name)
  }
}
