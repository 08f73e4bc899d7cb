/**
 * What the chaos harness writes and the checker reads. Every file is JSON lines; times are
 * milliseconds since the epoch (all processes share the machine's clock).
 *
 * A run directory holds:
 *   produced.jsonl           one ProducedRecord per acknowledged send (plus `{failed: true}` lines for sends that failed)
 *   chaos.jsonl              one ChaosEvent per action of the harness
 *   members/<slot>.<n>.jsonl the stdout of each member process (incarnation n of a slot): MemberEvents
 *   members/<slot>.<n>.err   its stderr
 *   store.db                 the idempotent store and the notifications table (with --idempotent)
 *   run.json                 the options of the run
 *   report.json              the checker's report
 */

export interface ProducedRecord {
  id: string
  p: number
  o: number
  t: number
  /** The send failed for good: the record may or may not be in the log (not counted as produced). */
  failed?: boolean
}

/** Lines a member (chaos/cohort-member.ts, chaos/peers/chaos_member.py) prints, flushed one by one. */
export type MemberEvent =
  | { ev: 'started'; name: string; t: number; kind: 'cohort' | 'python'; pid: number; instanceId: string | null }
  | { ev: 'assigned' | 'revoked' | 'lost'; name: string; t: number; partitions: number[] }
  /** Delivered to the application, printed before anything is done with it (so a kill -9 loses nothing of the record). */
  | { ev: 'rec'; name: string; t: number; p: number; o: number; id: string }
  /** The idempotent helper's outcome for the record: `new` (notified) or `dup` (already notified). */
  | { ev: 'fx'; name: string; t: number; p: number; o: number; id: string; r: 'new' | 'dup' }
  /** A commit that succeeded: partition → next offset. */
  | { ev: 'commit'; name: string; t: number; where: string; offsets: Record<string, number> }
  | { ev: 'commit-failed'; name: string; t: number; where: string; error: string }
  | { ev: 'error'; name: string; t: number; error: string }
  | { ev: 'closed'; name: string; t: number; processed: number }

export type ChaosAction =
  /** A member process started (`detail.kind`, `detail.static`). */
  | 'start'
  /** A graceful stop was asked (`detail.reason`: scale-down, rolling-restart, final; `detail.leave`). */
  | 'stop'
  /** A member process exited (`detail.code`, `detail.signal`). */
  | 'exit'
  /** kill -9 of a member process. */
  | 'kill'
  /** A graceful stop that did not finish in time was ended with kill -9 (counted as a kill). */
  | 'forced-kill'
  | 'add-partitions'
  | 'broker-stop'
  | 'broker-start'
  | 'phase'

export interface ChaosEvent {
  t: number
  action: ChaosAction
  /** The member incarnation (`slot#n`) the action is about, if any. */
  target?: string
  detail?: Record<string, unknown>
}

/** The member's name for incarnation `n` of `slot`. */
export function incarnationName(slot: string, n: number): string {
  return `${slot}#${n}`
}

export function parseJsonLines<T>(text: string): T[] {
  const out: T[] = []
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue
    try {
      out.push(JSON.parse(line) as T)
    } catch {
      // A line cut by kill -9 in the middle of a write: nothing complete was lost with it.
    }
  }
  return out
}
