/**
 * One chaos-group member on Cohort's client, running the production pattern: manual commits after
 * processing (every `--commit-every` records), a synchronous commit of the processed positions in
 * onRevoked, static membership when `--instance-id` is given, a graceful close on "stop"/"leave"
 * (stdin) or SIGTERM.
 *
 *   node --import tsx chaos/cohort-member.ts --bootstrap 127.0.0.1:9092 --topic chaos --group chaos --name c1#1
 *
 * It prints MemberEvents (chaos/events.ts) on stdout, one JSON line each, written synchronously:
 * a record's line is out before the record is processed or committed, so kill -9 loses nothing of
 * what the member did. With `--store FILE` each record's side effect (one row in
 * `chaos_notifications`) goes through the idempotent helper, in the same SQLite transaction as its mark.
 */
import { writeSync } from 'node:fs'
import { createInterface } from 'node:readline'
import { parseArgs } from 'node:util'
import { processOnceInTransaction, SqliteProcessedStore } from '../src/client/idempotent/index.ts'
import { Consumer, type OffsetToCommit, type TopicPartition } from '../src/client/index.ts'
import type { MemberEvent } from './events.ts'

const { values: a } = parseArgs({
  options: {
    bootstrap: { type: 'string' },
    topic: { type: 'string', default: 'chaos' },
    group: { type: 'string', default: 'chaos' },
    name: { type: 'string', default: 'cohort' },
    'instance-id': { type: 'string', default: '' },
    strategy: { type: 'string', default: 'cooperative-sticky' },
    'session-timeout-ms': { type: 'string', default: '6000' },
    'heartbeat-interval-ms': { type: 'string', default: '500' },
    'max-poll-interval-ms': { type: 'string', default: '20000' },
    'metadata-max-age-ms': { type: 'string', default: '1000' },
    'commit-every': { type: 'string', default: '1' },
    'process-ms': { type: 'string', default: '0' },
    store: { type: 'string', default: '' },
    synchronous: { type: 'string', default: 'FULL' },
  },
})
if (!a.bootstrap) throw new Error('--bootstrap is required')
const name = a.name as string
const commitEvery = Math.max(1, Number(a['commit-every']))
const processMs = Number(a['process-ms'])

type Fields<E> = E extends { ev: infer K } ? Omit<E, 'name' | 't' | 'ev'> & { ev: K } : never

function emit(e: Fields<MemberEvent>): void {
  const line = `${JSON.stringify({ ...e, name, t: Date.now() })}\n`
  writeSync(1, line)
}

const store = a.store ? await SqliteProcessedStore.open(a.store, { synchronous: a.synchronous === 'NORMAL' ? 'NORMAL' : 'FULL' }) : null
store?.db.exec(
  'CREATE TABLE IF NOT EXISTS chaos_notifications (identity TEXT NOT NULL, member TEXT NOT NULL, partition INTEGER NOT NULL, ' +
    'offset INTEGER NOT NULL, at INTEGER NOT NULL)',
)
const notify = store?.db.prepare('INSERT INTO chaos_notifications (identity, member, partition, offset, at) VALUES (?, ?, ?, ?, ?)')

const consumer = new Consumer({
  bootstrapServers: a.bootstrap,
  clientId: name,
  groupId: a.group,
  groupInstanceId: a['instance-id'] || null,
  partitionAssignmentStrategy: [a.strategy as string],
  enableAutoCommit: false,
  autoOffsetReset: 'earliest',
  sessionTimeoutMs: Number(a['session-timeout-ms']),
  heartbeatIntervalMs: Number(a['heartbeat-interval-ms']),
  maxPollIntervalMs: Number(a['max-poll-interval-ms']),
  metadataMaxAgeMs: Number(a['metadata-max-age-ms']),
  fetchMaxWaitMs: 100,
  retryBackoffMs: 50,
  retryBackoffMaxMs: 500,
  requestTimeoutMs: 10_000,
  defaultApiTimeoutMs: 30_000,
  logger: (level, message) => {
    if (level !== 'debug') process.stderr.write(`${new Date().toISOString()} ${level} ${message}\n`)
  },
})

const partitionsOf = (tps: readonly TopicPartition[]): number[] => tps.map((tp) => tp.partition).sort((x, y) => x - y)
/** Processed but not committed yet: partition → next offset. */
const dirty = new Map<number, bigint>()

async function commit(where: string, list: OffsetToCommit[]): Promise<boolean> {
  if (list.length === 0) return true
  try {
    await consumer.commit(list)
    const offsets: Record<string, number> = {}
    for (const o of list) offsets[String(o.partition)] = Number(o.offset)
    emit({ ev: 'commit', where, offsets })
    return true
  } catch (err) {
    emit({ ev: 'commit-failed', where, error: (err as Error).message })
    return false
  }
}

/** The consumed positions of `tps` (the next offset to deliver, i.e. everything processed). */
function positions(tps: readonly TopicPartition[]): OffsetToCommit[] {
  const out: OffsetToCommit[] = []
  for (const tp of tps) {
    const p = consumer.position(tp)
    if (typeof p === 'bigint') out.push({ topic: tp.topic, partition: tp.partition, offset: p })
  }
  return out
}

consumer.subscribe([a.topic as string], {
  onAssigned: (tps) => emit({ ev: 'assigned', partitions: partitionsOf(tps) }),
  onRevoked: async (tps) => {
    // Still owned while this runs, and no record is being processed: the positions are exact.
    await commit('revoke', positions(tps))
    for (const tp of tps) dirty.delete(tp.partition)
    emit({ ev: 'revoked', partitions: partitionsOf(tps) })
  },
  onLost: (tps) => {
    for (const tp of tps) dirty.delete(tp.partition)
    emit({ ev: 'lost', partitions: partitionsOf(tps) })
  },
})

let stopping = false
const stop = (leaveGroup: boolean): void => {
  if (stopping) return
  stopping = true
  consumer.close({ leaveGroup }).catch((err: unknown) => emit({ ev: 'error', error: `close: ${(err as Error).message}` }))
}
createInterface({ input: process.stdin }).on('line', (line) => {
  const cmd = line.trim()
  if (cmd === 'stop') stop(false)
  else if (cmd === 'leave') stop(true)
})
process.once('SIGTERM', () => stop(false))

emit({ ev: 'started', kind: 'cohort', pid: process.pid, instanceId: a['instance-id'] || null })
let processed = 0
let sinceCommit = 0
try {
  for await (const m of consumer) {
    const id = m.value?.toString() ?? ''
    emit({ ev: 'rec', p: m.partition, o: Number(m.offset), id })
    if (store && notify) {
      const r = processOnceInTransaction(store, id, () => notify.run(id, name, m.partition, Number(m.offset), Date.now()), { owner: name })
      emit({ ev: 'fx', p: m.partition, o: Number(m.offset), id, r: r.outcome === 'processed' ? 'new' : 'dup' })
    }
    if (processMs > 0) await new Promise((r) => setTimeout(r, processMs))
    processed++
    dirty.set(m.partition, m.offset + 1n)
    if (++sinceCommit >= commitEvery) {
      const owned = new Set(consumer.assignment().map((tp) => tp.partition))
      const list = [...dirty].filter(([p]) => owned.has(p)).map(([partition, offset]) => ({ topic: m.topic, partition, offset }))
      if (await commit('record', list)) {
        for (const o of list) if (dirty.get(o.partition) === o.offset) dirty.delete(o.partition)
      }
      sinceCommit = 0
    }
  }
} catch (err) {
  emit({ ev: 'error', error: (err as Error).message })
  process.exitCode = 1
}
// The iterator ends once close() has started; close() itself revokes (onRevoked commits) and leaves or not.
stop(false)
await consumer.close()
await store?.close()
emit({ ev: 'closed', processed })
process.exit()
