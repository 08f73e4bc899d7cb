/**
 * The notification service: a consumer group reading `task-created` with the production pattern of
 * docs/guide/production-consumer.md — manual commits after processing, a commit awaited in
 * onRevoked, cooperative-sticky, static membership, Kafka's timeouts, a graceful SIGTERM.
 *
 *   node --import tsx examples/notification-service/consumer.ts
 *
 * BOOTSTRAP_SERVERS (default 127.0.0.1:9092) says where the broker is; HOSTNAME names the instance
 * (Kubernetes sets it to the pod name). Run two or three of them with different HOSTNAMEs and watch
 * the partitions move.
 */
import { pathToFileURL } from 'node:url'
import { Consumer, type ConsumerOptions, type RebalanceListener, type TopicPartition } from '../../src/client/index.ts'
import { parseTaskCreated, type TaskCreated, TOPIC } from './task-created.ts'

export const GROUP_ID = 'notification-service'

export interface NotificationServiceOptions {
  bootstrapServers: string
  /** This instance's stable name: the pod name in Kubernetes (a StatefulSet's are stable across restarts). */
  instanceId: string
  /** Settings to change (the tests shorten the timeouts). */
  overrides?: Partial<ConsumerOptions>
  log?: (line: string) => void
}

const describe = (partitions: readonly TopicPartition[]): string =>
  partitions.map((p) => `${p.topic}[${p.partition}]`).join(', ') || 'nothing'

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
export function createNotificationConsumer(options: NotificationServiceOptions): Consumer {
  const log = options.log ?? console.log
  const consumer = new Consumer(consumerOptions(options))
  const listener: RebalanceListener = {
    onAssigned(partitions) {
      log(`assigned ${describe(partitions)}`)
    },
    // Awaited before the partitions are given up, and never while a notification is being sent:
    // the positions committed here are exactly what was processed, so the next owner starts there.
    async onRevoked(partitions) {
      try {
        await consumer.commit()
        log(`revoking ${describe(partitions)}: committed first`)
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
  consumer.subscribe([TOPIC], listener)
  return consumer
}
// #endregion

// #region loop
const COMMIT_EVERY_MESSAGES = 100
const COMMIT_EVERY_MS = 1_000

/** Runs until `consumer.close()`; rejects when `notify` throws (that task is then redelivered, not skipped). */
export async function processNotifications(
  consumer: Consumer,
  notify: (task: TaskCreated) => Promise<void>,
  log: (line: string) => void = console.log,
): Promise<void> {
  let uncommitted = 0
  let lastCommit = Date.now()
  await consumer.run({
    eachMessage: async (message) => {
      const task = parseTaskCreated(message)
      if (task) await notify(task)
      else log(`skipping ${message.topic}[${message.partition}] offset ${message.offset}: not a task-created event`)

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
      if (message.lag > 10_000n) log(`${message.topic}[${message.partition}] is ${message.lag} records behind`)
    },
  })
}
// #endregion

/** Stands in for the email or push provider. It should be idempotent by task id: see the guide. */
async function sendNotification(task: TaskCreated): Promise<void> {
  console.log(`notify ${task.userId}: new task "${task.title}" (${task.id})`)
}

// #region main
export async function main(): Promise<void> {
  const consumer = createNotificationConsumer({
    bootstrapServers: process.env.BOOTSTRAP_SERVERS ?? '127.0.0.1:9092',
    instanceId: process.env.HOSTNAME ?? 'local',
  })
  // SIGTERM (Kubernetes, systemd, docker stop): finish the notification being sent, run onRevoked
  // (which commits), then disconnect. A static member sends no LeaveGroup: a restart gets its
  // partitions back; an instance that does not come back is replaced after sessionTimeoutMs.
  const stop = (): void => void consumer.close()
  process.once('SIGTERM', stop)
  process.once('SIGINT', stop)
  try {
    await processNotifications(consumer, sendNotification)
  } finally {
    await consumer.close()
  }
}
// #endregion

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main()
