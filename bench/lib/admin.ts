/** Topic set-up for the benchmark, over the wire with the project's codec. */
import { CreateTopics, DeleteTopics, ListOffsets } from '../../src/protocol/apis/index.ts'
import { WireConn } from './wire.ts'

export async function createTopic(host: string, port: number, name: string, partitions: number): Promise<void> {
  const c = await WireConn.open(host, port)
  try {
    const res = await c.request(CreateTopics, 7, {
      topics: [{ name, numPartitions: partitions, replicationFactor: 1, assignments: [], configs: [] }],
      timeoutMs: 30_000,
      validateOnly: false,
    })
    const t = res.topics[0]
    if (t?.errorCode !== 0) throw new Error(`CreateTopics ${name}: error ${t?.errorCode} ${t?.errorMessage ?? ''}`)
  } finally {
    c.close()
  }
}

/** Deletes a topic, so the next scenario does not pay for the previous one's dirty pages being written back. */
export async function deleteTopic(host: string, port: number, name: string): Promise<void> {
  const c = await WireConn.open(host, port)
  try {
    const res = await c.request(DeleteTopics, 5, { topicNames: [name], timeoutMs: 30_000 })
    const t = res.responses[0]
    if (t?.errorCode !== 0) throw new Error(`DeleteTopics ${name}: error ${t?.errorCode} ${t?.errorMessage ?? ''}`)
  } finally {
    c.close()
  }
}

/** Log end offsets of partitions 0..n-1 (ListOffsets with timestamp -1). */
export async function endOffsets(host: string, port: number, name: string, partitions: number): Promise<number[]> {
  const c = await WireConn.open(host, port)
  try {
    const res = await c.request(ListOffsets, 7, {
      replicaId: -1,
      isolationLevel: 0,
      topics: [{ name, partitions: Array.from({ length: partitions }, (_, i) => ({ partitionIndex: i, timestamp: -1n })) }],
    })
    const out = new Array<number>(partitions).fill(0)
    for (const p of res.topics[0]?.partitions ?? []) {
      if (p.errorCode !== 0) throw new Error(`ListOffsets ${name}-${p.partitionIndex}: error ${p.errorCode}`)
      out[p.partitionIndex] = Number(p.offset)
    }
    return out
  } finally {
    c.close()
  }
}
