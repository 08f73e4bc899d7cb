/**
 * One instance of the notification service in the demo, in its own process (so that the demo can
 * kill -9 it). The demo starts it ahead of time; it loads everything, prints `ready`, and joins the
 * group when the line `{"bootstrap": "host:port"}` arrives on stdin. SIGTERM closes it gracefully.
 *
 *   DEMO_STRATEGY      auto-commit | production | production+idempotent
 *   DEMO_MEMBER        its name in the narration: consumer-2#1 is the first process of consumer-2
 *   HOSTNAME           the instance's name: the static member id of the production rows
 *   DEMO_DB            the SQLite file with the notifications table (and the idempotent store's marks)
 *   DEMO_NOTIFY_MS     how long sending one notification takes (a slow provider)
 *   DEMO_SESSION_MS, DEMO_HEARTBEAT_MS   the demo's short timeouts
 *
 * - auto-commit: the chapter's first consumer: enable.auto.commit every 5 s (Kafka's default), the
 *   default (eager) assignors, no rebalance listener, no static membership; it closes on SIGTERM.
 * - production: the example's consumerOptions, rebalanceListener and processNotifications
 *   (examples/notification-service/consumer.ts), run as the example's main runs them.
 * - production+idempotent: the same, and each notification goes through the idempotent helper
 *   (processOnceInTransaction), written in the same SQLite transaction as its mark.
 *
 * Every strategy sends its notifications the same way: a row in the `notifications` table, about a
 * third of the way into a handler that takes DEMO_NOTIFY_MS. What it does is printed as MemberEvents
 * (demo/protocol.ts); the demo's tracing wraps the listener and `commit` and changes nothing they do.
 */
import { writeSync } from 'node:fs'
import { createInterface } from 'node:readline'
import { setTimeout as sleep } from 'node:timers/promises'
import { consumerOptions, GROUP_ID, processNotifications, rebalanceListener } from '../examples/notification-service/consumer.ts'
import { parseTaskEvent, TASK_CREATED, type TaskEvent, TOPICS } from '../examples/notification-service/events.ts'
import { processOnceInTransaction, SqliteProcessedStore } from '../src/client/idempotent/index.ts'
import {
  Consumer,
  type Logger,
  type Message,
  type OffsetToCommit,
  type RebalanceListener,
  type TopicPartition,
} from '../src/client/index.ts'
import {
  type Commit,
  type CommitWhere,
  type MemberEvent,
  NOTIFICATIONS_TABLE_SQL,
  notificationId,
  type Strategy,
  tpName,
} from './protocol.ts'

const strategy = (process.env.DEMO_STRATEGY ?? 'production') as Strategy
const name = process.env.DEMO_MEMBER ?? 'member'
const instance = process.env.HOSTNAME ?? 'local'
const notifyMs = Number(process.env.DEMO_NOTIFY_MS ?? 1000)
const sessionTimeoutMs = Number(process.env.DEMO_SESSION_MS ?? 6000)
const heartbeatIntervalMs = Number(process.env.DEMO_HEARTBEAT_MS ?? 1000)
const dbPath = process.env.DEMO_DB
if (!dbPath) throw new Error('DEMO_DB is required')

type Fields<E> = E extends { t: number } ? Omit<E, 't'> : never
function emit(e: Fields<MemberEvent>): void {
  writeSync(1, `${JSON.stringify({ ...e, t: Date.now() })}\n`)
}

const store = await SqliteProcessedStore.open(dbPath, { synchronous: 'NORMAL', busyTimeoutMs: 10_000 })
store.db.exec(NOTIFICATIONS_TABLE_SQL)
const insert = store.db.prepare('INSERT INTO notifications (id, member, tp, "offset", at, text) VALUES (?, ?, ?, ?, ?, ?)')

const tps = (list: readonly TopicPartition[]): string[] => list.map((tp) => tpName(tp.topic, tp.partition))
const offsetsOf = (list: readonly OffsetToCommit[]): Record<string, number> =>
  Object.fromEntries(list.map((o) => [tpName(o.topic, o.partition), Number(o.offset)]))

/** Sends one notification: the slow provider accepts it after 30% of the time and confirms it after the rest. */
async function send({ type, task }: TaskEvent, message: Message): Promise<void> {
  const id = notificationId(type, task.id)
  const tp = tpName(message.topic, message.partition)
  const offset = Number(message.offset)
  const started = Date.now()
  emit({ ev: 'deliver', tp, offset, id })
  await sleep(notifyMs * 0.3)
  const text = type === TASK_CREATED ? `${task.userId}: new task "${task.title}"` : `${task.userId}: task "${task.title}" is done`
  const write = (): void => void insert.run(id, name, tp, offset, Date.now(), text)
  if (strategy === 'production+idempotent') {
    const result = processOnceInTransaction(store, id, write, { owner: name })
    if (result.outcome === 'duplicate') {
      emit({ ev: 'skipped', tp, offset, id })
      emit({ ev: 'done', tp, offset, ms: Date.now() - started })
      return
    }
  } else {
    write()
  }
  emit({ ev: 'notified', tp, offset, id })
  await sleep(notifyMs * 0.7)
  emit({ ev: 'done', tp, offset, ms: Date.now() - started })
}

// ---- tracing: what the consumer did, without changing it ----------------------------------------

/** Set while onRevoked runs: a commit made then is the revocation's commit. */
let revoking = false
let revocationCommit: Commit | null = null

function traceCommit(where: CommitWhere, offsets: Record<string, number>): void {
  if (Object.keys(offsets).length === 0) return
  emit({ ev: 'commit', where, offsets })
  if (revoking || where === 'auto-commit before revocation') revocationCommit = { where, offsets }
}

/** Reads the client's auto-commit lines (debug) and passes every other line on to stderr. */
const logger: Logger = (level, message) => {
  const m = /^(auto-commit|before revocation): committed (.+)$/.exec(message)
  if (m) {
    const offsets: Record<string, number> = {}
    for (const item of (m[2] as string).split(', ')) {
      const p = /^(.+)-(\d+)@(\d+)$/.exec(item)
      if (p) offsets[tpName(p[1] as string, Number(p[2]))] = Number(p[3])
    }
    traceCommit(m[1] === 'auto-commit' ? 'auto-commit' : 'auto-commit before revocation', offsets)
    return
  }
  if (level !== 'debug') process.stderr.write(`${new Date().toISOString()} ${name} ${level} ${message}\n`)
}

function traced(consumer: Consumer, inner: RebalanceListener): RebalanceListener {
  return {
    async onAssigned(partitions) {
      emit({ ev: 'assigned', partitions: tps(partitions), owns: tps(consumer.assignment()) })
      await inner.onAssigned?.(partitions)
    },
    async onRevoked(partitions) {
      revoking = true
      try {
        await inner.onRevoked?.(partitions)
      } finally {
        revoking = false
        emit({ ev: 'revoked', partitions: tps(partitions), commit: revocationCommit })
        revocationCommit = null
      }
    },
    async onLost(partitions) {
      emit({ ev: 'lost', partitions: tps(partitions) })
      await inner.onLost?.(partitions)
    },
  }
}

/** Records each successful `commit()` with what it committed (taken as commit() takes it: the positions now). */
function traceCommits(consumer: Consumer): void {
  const commit = consumer.commit.bind(consumer)
  consumer.commit = async (offsets?: readonly OffsetToCommit[]): Promise<void> => {
    const list =
      offsets ??
      consumer.assignment().flatMap((tp) => {
        const offset = consumer.position(tp)
        return typeof offset === 'bigint' ? [{ ...tp, offset }] : []
      })
    const where: CommitWhere = revoking ? 'onRevoked' : 'after processing'
    try {
      await commit(offsets)
    } catch (err) {
      emit({ ev: 'commit-failed', where, error: String(err) })
      throw err
    }
    traceCommit(where, offsetsOf(list))
  }
}

// ---- the two services ---------------------------------------------------------------------------

const log = (line: string): void => emit({ ev: 'log', line })

/** The chapter's first consumer: auto-commit every 5 s, eager assignors, no listener of its own. */
async function runAutoCommit(bootstrapServers: string): Promise<number> {
  const consumer = new Consumer({
    bootstrapServers,
    clientId: `${GROUP_ID}-${instance}`,
    groupId: GROUP_ID,
    enableAutoCommit: true, // Kafka's default
    autoCommitIntervalMs: 5000, // Kafka's default
    autoOffsetReset: 'earliest',
    sessionTimeoutMs,
    heartbeatIntervalMs,
    logger,
  })
  consumer.subscribe(TOPICS, traced(consumer, {}))
  process.once('SIGTERM', () => void consumer.close())
  let processed = 0
  try {
    for await (const message of consumer) {
      const event = parseTaskEvent(message)
      if (event) await send(event, message)
      processed++
    }
  } finally {
    await consumer.close()
  }
  return processed
}

/** The example's production consumer, run as examples/notification-service/consumer.ts's main runs it. */
async function runProduction(bootstrapServers: string): Promise<number> {
  const overrides = { sessionTimeoutMs, heartbeatIntervalMs, logger }
  const consumer = new Consumer(consumerOptions({ bootstrapServers, instanceId: instance, overrides }))
  traceCommits(consumer)
  consumer.subscribe(TOPICS, traced(consumer, rebalanceListener(consumer, log)))
  const stop = (): void => void consumer.close()
  process.once('SIGTERM', stop)
  process.once('SIGINT', stop)
  let processed = 0
  try {
    await processNotifications(
      consumer,
      async (event, message) => {
        await send(event, message)
        processed++
      },
      log,
    )
  } finally {
    await consumer.close()
    log(`Shutdown. Processed ${processed} messages.`)
  }
  return processed
}

process.on('uncaughtException', (err) => {
  emit({ ev: 'error', error: String(err?.stack ?? err) })
  process.exit(1)
})

emit({ ev: 'ready', pid: process.pid })
const lines = createInterface({ input: process.stdin })
const first = await new Promise<string | undefined>((resolve) => {
  lines.once('line', resolve)
  lines.once('close', () => resolve(undefined))
})
if (first === undefined) process.exit(0) // the demo ended before this member was needed
const { bootstrap } = JSON.parse(first) as { bootstrap: string }
// The demo is gone (its end of stdin closed): stop as on SIGTERM rather than run on alone.
lines.once('close', () => process.kill(process.pid, 'SIGTERM'))
emit({ ev: 'started', instanceId: strategy === 'auto-commit' ? null : `${GROUP_ID}-${instance}` })
try {
  const processed = strategy === 'auto-commit' ? await runAutoCommit(bootstrap) : await runProduction(bootstrap)
  emit({ ev: 'closed', processed })
  await store.close()
  process.exit(0)
} catch (err) {
  emit({ ev: 'error', error: String((err as Error)?.stack ?? err) })
  process.exit(1)
}
