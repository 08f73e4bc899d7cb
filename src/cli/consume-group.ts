/**
 * `cohort consume --group`: the chapter's production pattern on Cohort's
 * consumer. Each record is printed, then its offset committed; partitions
 * being revoked get a synchronous commit first; SIGINT/SIGTERM finish the
 * current record, commit, and leave the group — unless the member is static
 * (--instance-id), which keeps its partitions through a restart.
 */
import { Consumer } from '../client/index.ts'
import type { FormattableRecord } from './format.ts'

export interface GroupConsumeOptions {
  bootstrapServers: string
  topic: string
  groupId: string
  assignor: string
  instanceId: string | undefined
  fromBeginning: boolean
  maxMessages: number | undefined
  format: (r: FormattableRecord) => string
  write: (s: string) => Promise<void>
  log: (s: string) => void
}

export const ASSIGNORS = ['range', 'roundrobin', 'sticky', 'cooperative-sticky'] as const

export async function consumeWithGroup(o: GroupConsumeOptions): Promise<number> {
  if (!(ASSIGNORS as readonly string[]).includes(o.assignor))
    throw new Error(`--assignor must be one of ${ASSIGNORS.join(', ')}, got '${o.assignor}'`)
  const consumer = new Consumer({
    bootstrapServers: o.bootstrapServers,
    clientId: 'cohort-cli',
    groupId: o.groupId,
    groupInstanceId: o.instanceId ?? null,
    partitionAssignmentStrategy: [o.assignor],
    enableAutoCommit: false,
    autoOffsetReset: o.fromBeginning ? 'earliest' : 'latest',
  })
  const describe = (tps: { topic: string; partition: number }[]) =>
    tps.length === 0 ? 'none' : tps.map((t) => `${t.topic}-${t.partition}`).join(', ')
  consumer.subscribe([o.topic], {
    onAssigned: (tps) => o.log(`assigned: ${describe(tps)}`),
    onRevoked: async (tps) => {
      // Processed offsets are committed before the partitions go to another member: this is what prevents duplicates.
      await consumer.commit()
      o.log(`revoked: ${describe(tps)} (offsets committed)`)
    },
    onLost: (tps) => o.log(`lost: ${describe(tps)} (no clean revoke; another member may re-read uncommitted records)`),
  })
  // close() waits for the record being handled, runs onRevoked (which commits) and leaves unless static; the loop then ends.
  let closing: Promise<void> | undefined
  const stop = (signal: string) => {
    if (closing) return
    o.log(`${signal}: finishing the current record, committing, ${o.instanceId ? 'keeping the static membership' : 'leaving the group'}`)
    closing = consumer.close()
  }
  const onInt = () => stop('SIGINT')
  const onTerm = () => stop('SIGTERM')
  process.once('SIGINT', onInt)
  process.once('SIGTERM', onTerm)
  let count = 0
  try {
    for await (const m of consumer) {
      await o.write(o.format(m))
      // A synchronous commit per record: simple and exact for a CLI (commitAsync ordering against a later sync commit is an open client issue).
      await consumer.commit([{ topic: m.topic, partition: m.partition, offset: m.offset + 1n }])
      count++
      if (o.maxMessages !== undefined && count >= o.maxMessages) break
    }
  } finally {
    process.off('SIGINT', onInt)
    process.off('SIGTERM', onTerm)
    if (!closing) {
      await consumer.commit().catch((err: unknown) => o.log(`final commit failed: ${err instanceof Error ? err.message : String(err)}`))
      closing = consumer.close()
    }
    await closing
  }
  o.log(`processed ${count} record(s)`)
  return 0
}
