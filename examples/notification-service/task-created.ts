/**
 * The `task-created` event, shared by the producer and the notification service.
 * docs/guide/production-consumer.md walks through this example.
 */
import type { Message } from '../../src/client/index.ts'

// #region event
export const TOPIC = 'task-created'

export interface TaskCreated {
  id: string
  userId: string
  title: string
  createdAt: string
}

/** The event in a record, or null when the record is not one (a poison message is skipped, not retried forever). */
export function parseTaskCreated(message: Message): TaskCreated | null {
  try {
    const task = JSON.parse(message.value?.toString('utf8') ?? 'null') as Partial<TaskCreated> | null
    return typeof task?.id === 'string' && typeof task.userId === 'string' ? (task as TaskCreated) : null
  } catch {
    return null
  }
}
// #endregion
