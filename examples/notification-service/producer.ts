/**
 * Publishes `task-created` events (and, with `--complete`, a `task-completed` event for each task
 * right after) with an idempotent producer.
 *
 *   npx cohort topics create task-created --partitions 6
 *   npx cohort topics create task-completed --partitions 1
 *   node --import tsx examples/notification-service/producer.ts "Buy groceries" "Call dentist"
 *   node --import tsx examples/notification-service/producer.ts --complete "Review PR"
 *
 * KAFKA_BOOTSTRAP_SERVERS (default 127.0.0.1:9092; BOOTSTRAP_SERVERS also works) says where the broker is.
 * docs/guide/production-consumer.md walks through this example.
 */
import { randomUUID } from 'node:crypto'
import { pathToFileURL } from 'node:url'
import { Producer, type RecordMetadata } from '../../src/client/index.ts'
import { TASK_COMPLETED, TASK_CREATED, type TaskCompleted, type TaskCreated } from './events.ts'

// #region producer
export function createTaskProducer(bootstrapServers: string): Producer {
  return new Producer({
    bootstrapServers,
    // enable.idempotence (Cohort's default, spelled out): each batch carries a producer id and a
    // sequence number, so a retry after a lost acknowledgement cannot write the event twice.
    idempotent: true,
    acks: 'all', // idempotence needs acks=all
    lingerMs: 5, // linger.ms: wait up to 5 ms to batch events together
    deliveryTimeoutMs: 120_000, // delivery.timeout.ms: give up (reject send()) after 2 minutes of retries
  })
}

export function publishTaskCreated(producer: Producer, task: TaskCreated): Promise<RecordMetadata> {
  return producer.send({
    topic: TASK_CREATED,
    key: task.userId, // one user's tasks go to one partition, so they are notified in order
    value: JSON.stringify(task),
    headers: { 'content-type': 'application/json' },
  })
}

export function publishTaskCompleted(producer: Producer, task: TaskCompleted): Promise<RecordMetadata> {
  return producer.send({
    topic: TASK_COMPLETED,
    key: task.userId,
    value: JSON.stringify(task),
    headers: { 'content-type': 'application/json' },
  })
}
// #endregion

export async function main(args: readonly string[]): Promise<void> {
  const complete = args.includes('--complete')
  const titles = args.filter((a) => a !== '--complete')
  const producer = createTaskProducer(process.env.KAFKA_BOOTSTRAP_SERVERS ?? process.env.BOOTSTRAP_SERVERS ?? '127.0.0.1:9092')
  try {
    for (const title of titles) {
      const task: TaskCreated = { id: randomUUID(), userId: 'user-1', title, createdAt: new Date().toISOString() }
      const meta = await publishTaskCreated(producer, task)
      console.log(`published ${task.id} to ${meta.topic}[${meta.partition}] at offset ${meta.offset}`)
      if (complete) {
        const done = await publishTaskCompleted(producer, { ...task, completedAt: new Date().toISOString() })
        console.log(`published its completion to ${done.topic}[${done.partition}] at offset ${done.offset}`)
      }
    }
  } finally {
    await producer.close() // flushes what is still batched
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main(process.argv.slice(2))
