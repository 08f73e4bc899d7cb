/**
 * What a demo member (demo/member.ts) tells the demo (demo/run.ts): one JSON object per line on its
 * stdout, written synchronously, so a line written before a kill -9 is never lost. Times are
 * milliseconds since the epoch (every process shares the machine's clock). Partitions are written
 * `topic[partition]`.
 */

/** The three consumer configurations the demo compares. */
export type Strategy = 'auto-commit' | 'production' | 'production+idempotent'

export const STRATEGIES: readonly Strategy[] = ['auto-commit', 'production', 'production+idempotent']

export type MemberEvent =
  /** Modules loaded and the store opened: waiting for its `start` line on stdin. */
  | { ev: 'ready'; t: number; pid: number }
  /** Joining the group now. */
  | { ev: 'started'; t: number; instanceId: string | null }
  /** Newly assigned partitions, and everything owned after the assignment. */
  | { ev: 'assigned'; t: number; partitions: string[]; owns: string[] }
  /** Given up cleanly, with the commit made while they were still owned (null: none was needed or made). */
  | { ev: 'revoked'; t: number; partitions: string[]; commit: Commit | null }
  /** Taken away without a revoke (session timeout, fencing): nothing could be committed. */
  | { ev: 'lost'; t: number; partitions: string[] }
  /** A commit that succeeded: partition → the next offset to process. */
  | ({ ev: 'commit'; t: number } & Commit)
  | { ev: 'commit-failed'; t: number; where: CommitWhere; error: string }
  /** The handler started on a message. */
  | { ev: 'deliver'; t: number; tp: string; offset: number; id: string }
  /** The notification for the message was sent (recorded in the notifications table). */
  | { ev: 'notified'; t: number; tp: string; offset: number; id: string }
  /** The idempotent store already had this notification: not sent again. */
  | { ev: 'skipped'; t: number; tp: string; offset: number; id: string }
  /** The handler returned. */
  | { ev: 'done'; t: number; tp: string; offset: number; ms: number }
  /** A line the service itself logged (the example's own log lines in the production rows). */
  | { ev: 'log'; t: number; line: string }
  | { ev: 'error'; t: number; error: string }
  /** Closed after a SIGTERM: how many messages it processed. */
  | { ev: 'closed'; t: number; processed: number }

export type CommitWhere = 'after processing' | 'onRevoked' | 'auto-commit' | 'auto-commit before revocation'

export interface Commit {
  where: CommitWhere
  offsets: Record<string, number>
}

/** The notification sent for a task event: one per event, in an ideal world. */
export function notificationId(topic: string, taskId: string): string {
  return `${topic}/${taskId}`
}

export function tpName(topic: string, partition: number): string {
  return `${topic}[${partition}]`
}

/** The notifications table every member writes to (the outbox a mail relay would read). */
export const NOTIFICATIONS_TABLE_SQL =
  'CREATE TABLE IF NOT EXISTS notifications (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL, member TEXT NOT NULL, ' +
  'tp TEXT NOT NULL, "offset" INTEGER NOT NULL, at INTEGER NOT NULL, text TEXT NOT NULL)'

export interface NotificationRow {
  seq: number
  id: string
  member: string
  tp: string
  offset: number
  at: number
  text: string
}
