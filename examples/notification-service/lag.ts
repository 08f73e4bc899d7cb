/**
 * Prints the notification service's lag per partition, like `kafka-consumer-groups.sh --describe`.
 *
 *   node --import tsx examples/notification-service/lag.ts
 *
 * KAFKA_BOOTSTRAP_SERVERS (default 127.0.0.1:9092; BOOTSTRAP_SERVERS also works) says where the broker is.
 * docs/guide/production-consumer.md walks through this example.
 */
import { pathToFileURL } from 'node:url'
import { Admin } from '../../src/admin/index.ts'
import { GROUP_ID } from './consumer.ts'

// #region lag
export async function describeLag(admin: Admin, groupId: string = GROUP_ID): Promise<string> {
  const lag = await admin.groupLag(groupId)
  const rows = [['TOPIC', 'PARTITION', 'CURRENT-OFFSET', 'LOG-END-OFFSET', 'LAG', 'OWNER']]
  for (const p of lag.partitions) {
    const owner = p.owner ? (p.owner.groupInstanceId ?? p.owner.clientId) : '-'
    rows.push([p.topic, String(p.partition), String(p.committed ?? '-'), String(p.logEnd), String(p.lag ?? '-'), owner])
  }
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => r[i]?.length ?? 0))) ?? []
  const table = rows.map((r) =>
    r
      .map((cell, i) => cell.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd(),
  )
  return [`group ${lag.groupId}: ${lag.state}, ${lag.members.length} member(s)`, ...table].join('\n')
}
// #endregion

export async function main(): Promise<void> {
  const admin = new Admin({ bootstrapServers: process.env.KAFKA_BOOTSTRAP_SERVERS ?? process.env.BOOTSTRAP_SERVERS ?? '127.0.0.1:9092' })
  try {
    console.log(await describeLag(admin))
  } finally {
    await admin.close()
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main()
