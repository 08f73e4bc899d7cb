/**
 * The events the notification service reads, shared by the producer and the consumer: a task was
 * created (`task-created`), a task was completed (`task-completed`).
 * docs/guide/production-consumer.md walks through this example.
 */
import type { Message } from '../../src/client/index.ts'

// #region event
export const TASK_CREATED = 'task-created'
export const TASK_COMPLETED = 'task-completed'
/** The topics the notification service subscribes to. */
export const TOPICS = [TASK_CREATED, TASK_COMPLETED]

export interface Task {
  id: string
  userId: string
  title: string
}

export interface TaskCreated extends Task {
  createdAt: string
}

export interface TaskCompleted extends Task {
  completedAt: string
}

export type TaskEvent = { type: typeof TASK_CREATED; task: TaskCreated } | { type: typeof TASK_COMPLETED; task: TaskCompleted }

/** The event in a record, or null when the record is not one (a poison message is skipped, not retried forever). */
export function parseTaskEvent(message: Message): TaskEvent | null {
  let task: Partial<TaskCreated & TaskCompleted> | null
  try {
    task = JSON.parse(message.value?.toString('utf8') ?? 'null')
  } catch {
    return null
  }
  if (typeof task?.id !== 'string' || typeof task.userId !== 'string' || typeof task.title !== 'string') return null
  if (message.topic === TASK_CREATED && typeof task.createdAt === 'string') return { type: TASK_CREATED, task: task as TaskCreated }
  if (message.topic === TASK_COMPLETED && typeof task.completedAt === 'string') return { type: TASK_COMPLETED, task: task as TaskCompleted }
  return null
}
// #endregion
