/**
 * The notification service: a consumer group reading `task-created` and `task-completed` with the
 * production pattern of docs/guide/production-consumer.md (the chapter's ProductionConsumer) —
 * commits after processing, a commit awaited in onRevoked, cooperative-sticky, static membership
 * from HOSTNAME, session and poll timeouts, a warning for processing slower than 100 ms, end-of-
 * partition handling, and a clean shutdown on SIGINT/SIGTERM that says how many messages it processed.
 *
 *   node --import tsx examples/notification-service/consumer.ts
 *
 * KAFKA_BOOTSTRAP_SERVERS (default 127.0.0.1:9092; BOOTSTRAP_SERVERS also works) says where the
 * broker is: Cohort's or any Kafka cluster. HOSTNAME names the instance (Kubernetes sets it to the
 * pod name). Run two or three of them with different HOSTNAMEs and watch the partitions move.
 */
import { pathToFileURL } from 'node:url'
import { Consumer, type ConsumerOptions, type Message, type RebalanceListener, type TopicPartition } from '../../src/client/index.ts'
import { parseTaskEvent, TASK_CREATED, type TaskEvent, TOPICS } from './events.ts'

export const GROUP_ID = 'notification-service'

export interface NotificationServiceOptions {
  bootstrapServers: string
  /** This instance's stable name: the pod name in Kubernetes (a StatefulSet's are stable across restarts). */
  instanceId: string
  /** Settings to change (the tests and the demo shorten the timeouts). */
  overrides?: Partial<ConsumerOptions>
  log?: (line: string) => void
}

const describe = (partitions: readonly TopicPartition[]): string =>
  partitions.map((p) => `${p.topic}[${p.partition}]`).join(', ') || 'nothing'

/** Where each partition stands (the next offset to process): after a commit, what was committed. */
const positions = (consumer: Consumer, partitions: readonly TopicPartition[]): string =>
  partitions.map((p) => `${p.topic}[${p.partition}]@${consumer.position(p) ?? '-'}`).join(', ') || 'nothing'

// #region options
export function consumerOptions({ bootstrapServers, instanceId, overrides }: NotificationServiceOptions): ConsumerOptions {
  return {
    bootstrapServers,
    clientId: `${GROUP_ID}-${instanceId}`,
    groupId: GROUP_ID,
    // Static membership (group.instance.id): a restart within sessionTimeoutMs gets the same
    // partitions back without a rebalance, and close() sends no LeaveGroup.
    groupInstanceId: `${GROUP_ID}-${instanceId}`,
    // Cooperative rebalancing: only the partitions that move are revoked; the rest keep flowing.
    partitionAssignmentStrategy: ['cooperative-sticky'],
    // Offsets are committed by the code below, after processing, never on a timer.
    enableAutoCommit: false,
    autoOffsetReset: 'earliest', // a brand-new group starts from the oldest task, not the newest
    // Kafka's defaults, spelled out because they are decisions:
    sessionTimeoutMs: 45_000, // no heartbeat for this long: the member is dead, its partitions move
    heartbeatIntervalMs: 3_000, // well under a third of the session timeout
    maxPollIntervalMs: 300_000, // one notification taking longer than this: the member leaves
    ...overrides,
  }
}
// #endregion

// #region listener
export function rebalanceListener(consumer: Consumer, log: (line: string) => void = console.log): RebalanceListener {
  return {
    onAssigned(partitions) {
      // Cooperative rebalancing calls this after every rebalance, often with nothing new.
      if (partitions.length > 0) log(`assigned ${describe(partitions)}; owns ${describe(consumer.assignment())}`)
    },
    // Awaited before the partitions are given up, and never while a notification is being sent:
    // the positions committed here are exactly what was processed, so the next owner starts there.
    async onRevoked(partitions) {
      try {
        await consumer.commit()
        log(`revoking ${describe(partitions)}: committed ${positions(consumer, partitions)} first`)
      } catch (err) {
        log(`revoking ${describe(partitions)}: commit failed, the next owner repeats from the last commit: ${err}`)
      }
    },
    // The partitions were taken away without a revoke (a session timeout, a processing stall over
    // maxPollIntervalMs): another member may own them already, so there is nothing to commit.
    onLost(partitions) {
      log(`lost ${describe(partitions)}: what was processed since the last commit will be processed again`)
    },
  }
}

export function createNotificationConsumer(options: NotificationServiceOptions): Consumer {
  const consumer = new Consumer(consumerOptions(options))
  consumer.subscribe(TOPICS, rebalanceListener(consumer, options.log))
  return consumer
}
// #endregion

// #region loop
const COMMIT_EVERY_MESSAGES = 100
const COMMIT_EVERY_MS = 1_000
const SLOW_PROCESSING_MS = 100
const CAUGHT_UP_LOG_AFTER = 1_000n

/** Runs until `consumer.close()`; rejects when `notify` throws (that message is then redelivered, not skipped). */
export async function processNotifications(
  consumer: Consumer,
  notify: (event: TaskEvent, message: Message) => Promise<void>,
  log: (line: string) => void = console.log,
): Promise<void> {
  let uncommitted = 0
  let lastCommit = Date.now()
  /** How far each partition fell behind since it was last caught up. */
  const peakLag = new Map<string, bigint>()
  await consumer.run({
    eachMessage: async (message) => {
      const where = `${message.topic}[${message.partition}]`
      const started = performance.now()
      const event = parseTaskEvent(message)
      if (event) await notify(event, message)
      else log(`skipping ${where} offset ${message.offset}: not a task event`)
      // Slow processing is the first suspect when lag grows (the chapter's threshold: 100 ms a message).
      const ms = performance.now() - started
      if (ms > SLOW_PROCESSING_MS) {
        log(`slow processing: ${(ms / 1000).toFixed(2)} s for ${where} offset ${message.offset} (key ${message.key})`)
      }

      // The end of the partition (librdkafka's _PARTITION_EOF): nothing followed this message when it
      // was fetched. Said the first time, and again after the partition fell more than 1000 behind.
      const fellBehind = peakLag.get(where) // undefined until the partition is first caught up
      if (message.lag === 0n) {
        if (fellBehind === undefined || fellBehind > CAUGHT_UP_LOG_AFTER) log(`${where}: caught up at offset ${message.offset + 1n}`)
        peakLag.set(where, 0n)
      } else if (fellBehind !== undefined && message.lag > fellBehind) {
        peakLag.set(where, message.lag)
      }

      // Commit after processing: every 100 messages or every second, whichever comes first.
      // commit() with no argument commits the position of every partition this member owns.
      if (++uncommitted >= COMMIT_EVERY_MESSAGES || Date.now() - lastCommit >= COMMIT_EVERY_MS) {
        try {
          await consumer.commit()
          uncommitted = 0
          lastCommit = Date.now()
        } catch (err) {
          log(`commit failed (the next commit, or the one in onRevoked, covers it): ${err}`)
        }
      }
      if (message.lag > 10_000n) log(`${where} is ${message.lag} records behind`)
    },
  })
}
// #endregion

/** Stands in for the email or push provider. It should be idempotent by task id: see the guide. */
async function sendNotification({ type, task }: TaskEvent): Promise<void> {
  const what = type === TASK_CREATED ? `new task "${task.title}"` : `task "${task.title}" is done`
  console.log(`notify ${task.userId}: ${what} (${task.id})`)
}

// #region main
export async function main(): Promise<void> {
  const consumer = createNotificationConsumer({
    bootstrapServers: process.env.KAFKA_BOOTSTRAP_SERVERS ?? process.env.BOOTSTRAP_SERVERS ?? '127.0.0.1:9092',
    instanceId: process.env.HOSTNAME ?? 'local',
  })
  // SIGTERM (Kubernetes, systemd, docker stop) or Ctrl-C: finish the notification being sent, run
  // onRevoked (which commits), then disconnect. A static member sends no LeaveGroup: a restart gets
  // its partitions back; an instance that does not come back is replaced after sessionTimeoutMs.
  const stop = (): void => void consumer.close()
  process.once('SIGTERM', stop)
  process.once('SIGINT', stop)
  let processed = 0
  try {
    await processNotifications(consumer, async (event) => {
      await sendNotification(event)
      processed++
    })
  } finally {
    await consumer.close()
    console.log(`Shutdown. Processed ${processed} messages.`)
  }
}
// #endregion

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main()
