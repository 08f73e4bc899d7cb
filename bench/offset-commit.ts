/**
 * Offset commits per second through a real broker, with durable writes:
 * each OffsetCommit's records are appended to __consumer_offsets and, in
 * fsync mode, fdatasync'ed (group commit) before the answer goes out.
 *
 * C connections each commit P partitions at a time for their own group
 * (generation -1, the admin/standalone form, so no membership is needed),
 * one request in flight per connection, for a few seconds per setting.
 *
 *   node --import tsx bench/offset-commit.ts [--seconds 4]
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CreateTopics, OffsetCommit } from '../src/protocol/apis/index.ts'
import { RawClient } from '../test/helpers/raw-client.ts'
import { startBroker } from './lib/broker-proc.ts'
import { machineInfo } from './lib/machine.ts'

const seconds = Number(process.argv[process.argv.indexOf('--seconds') + 1] || 4) || 4

async function run(flushMode: 'os' | 'fsync', connections: number, partitions: number) {
  const dataDir = mkdtempSync(join(tmpdir(), 'cohort-commit-bench-'))
  const broker = await startBroker({ dataDir, flushMode })
  const bootstrap = `${broker.host}:${broker.port}`
  try {
    const admin = await RawClient.connect(bootstrap)
    await admin.request(CreateTopics, 5, { topics: [{ name: 'committed', numPartitions: partitions, replicationFactor: 1 }] })
    admin.close()
    const clients = await Promise.all(Array.from({ length: connections }, () => RawClient.connect(bootstrap)))
    // Warm up: the first group request creates __consumer_offsets.
    await commitOnce(clients[0] as RawClient, 'warmup', partitions, 0n)
    let requests = 0
    const deadline = Date.now() + seconds * 1000
    const started = process.hrtime.bigint()
    await Promise.all(
      clients.map(async (c, i) => {
        let offset = 1n
        while (Date.now() < deadline) {
          await commitOnce(c, `bench-group-${i}`, partitions, offset++)
          requests++
        }
      }),
    )
    const elapsed = Number(process.hrtime.bigint() - started) / 1e9
    for (const c of clients) c.close()
    return { requests: requests / elapsed, partitions: (requests * partitions) / elapsed }
  } finally {
    await broker.stop()
    rmSync(dataDir, { recursive: true, force: true })
  }
}

async function commitOnce(c: RawClient, groupId: string, partitions: number, offset: bigint): Promise<void> {
  const res = await c.request(OffsetCommit, 8, {
    groupId,
    generationIdOrMemberEpoch: -1,
    memberId: '',
    groupInstanceId: null,
    topics: [
      {
        name: 'committed',
        partitions: Array.from({ length: partitions }, (_, p) => ({
          partitionIndex: p,
          committedOffset: offset,
          committedLeaderEpoch: -1,
          committedMetadata: '',
        })),
      },
    ],
  })
  const bad = res.topics[0]?.partitions.find((p) => p.errorCode !== 0)
  if (bad) throw new Error(`commit failed with error ${bad.errorCode}`)
}

console.log(`# offset-commit throughput, ${new Date().toISOString()}`)
console.log(
  Object.entries(machineInfo(tmpdir()))
    .map(([k, v]) => `${k}: ${v}`)
    .join('; '),
)
console.log('| flush mode | connections | partitions per commit | commits/s | committed partitions/s |')
console.log('|---|---:|---:|---:|---:|')
for (const mode of ['fsync', 'os'] as const) {
  for (const [conns, parts] of [
    [1, 1],
    [16, 1],
    [64, 1],
    [16, 10],
  ] as const) {
    const r = await run(mode, conns, parts)
    console.log(
      `| ${mode} | ${conns} | ${parts} | ${Math.round(r.requests).toLocaleString('en')} | ${Math.round(r.partitions).toLocaleString('en')} |`,
    )
  }
}
