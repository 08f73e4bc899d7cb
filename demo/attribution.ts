/**
 * Why a message was processed again. A repeat always follows a change of hands: the partition left
 * the member that processed the message first (a kill, a lost session, a revocation) before a commit
 * covered the message, and the next owner started from the last commit. This module reads the first
 * member's own events (demo/protocol.ts) to find how its ownership ended, and names the step of the
 * demo's script that was playing then.
 */
import type { MemberEvent } from './protocol.ts'

export interface Step {
  n: number
  /** What the step does, e.g. "kill -9 of consumer-2". */
  label: string
  /** When it started (ms since the epoch). */
  t: number
}

/** One member process as the demo saw it. */
export interface MemberLog {
  /** consumer-2#1: slot consumer-2, first process. */
  name: string
  slot: string
  events: MemberEvent[]
  /** When the demo killed it with kill -9. */
  killedAt: number | null
  /** When its process ended. */
  exitedAt: number | null
}

/** A processing of a message by a member: where it is in that member's events. */
export interface Occurrence {
  member: string
  tp: string
  offset: number
  t: number
}

export type CauseKind =
  /** The member was killed (kill -9) before a commit covered the message. */
  | 'kill'
  /** The member lost the partition (session timeout, fencing): it could not commit. */
  | 'lost'
  /** The member gave the partition up in a rebalance before a commit covered the message. */
  | 'revoked'
  /** The member closed without a commit covering the message. */
  | 'closed'
  /** The process ended on its own. */
  | 'exit'
  /** Nothing above: a commit covered the message and it came back anyway. */
  | 'unexplained'

export interface Cause {
  kind: CauseKind
  /** The member that had processed the message first. */
  member: string
  slot: string
  /** When its ownership ended. */
  at: number
  /** The script's step playing then. */
  step: Step | null
  /** It had not finished the message: it was still in its handler. */
  inHand: boolean
}

const hasTp = (e: MemberEvent, tp: string): boolean => (e.ev === 'revoked' || e.ev === 'lost') && e.partitions.includes(tp)

export function stepAt(steps: readonly Step[], t: number): Step | null {
  let found: Step | null = null
  for (const s of steps) if (s.t <= t) found = s
  return found
}

/** How the first processing `first` came to be repeated. */
export function explain(first: Occurrence, members: ReadonlyMap<string, MemberLog>, steps: readonly Step[]): Cause {
  const log = members.get(first.member)
  const base = { member: first.member, slot: log?.slot ?? first.member, inHand: true }
  if (!log) return { ...base, kind: 'unexplained', at: first.t, step: stepAt(steps, first.t) }
  const events = log.events
  let i = events.findIndex(
    (e) => (e.ev === 'deliver' || e.ev === 'notified') && e.tp === first.tp && e.offset === first.offset && e.t >= first.t - 1,
  )
  if (i < 0) i = events.findIndex((e) => e.t >= first.t)
  if (i < 0) i = events.length
  let covered = false
  let inHand = true
  for (let k = i + 1; k < events.length; k++) {
    const e = events[k] as MemberEvent
    if (e.ev === 'done' && e.tp === first.tp && e.offset === first.offset) inHand = false
    if (e.ev === 'commit' && (e.offsets[first.tp] ?? -1) > first.offset) covered = true
    if (e.ev === 'revoked' && hasTp(e, first.tp)) {
      if (e.commit && (e.commit.offsets[first.tp] ?? -1) > first.offset) covered = true
      return { ...base, inHand, kind: covered ? 'unexplained' : 'revoked', at: e.t, step: stepAt(steps, e.t) }
    }
    if (e.ev === 'lost' && hasTp(e, first.tp)) {
      return { ...base, inHand, kind: covered ? 'unexplained' : 'lost', at: e.t, step: stepAt(steps, e.t) }
    }
    if (e.ev === 'closed') return { ...base, inHand, kind: covered ? 'unexplained' : 'closed', at: e.t, step: stepAt(steps, e.t) }
  }
  if (log.killedAt !== null && !covered) return { ...base, inHand, kind: 'kill', at: log.killedAt, step: stepAt(steps, log.killedAt) }
  if (log.exitedAt !== null && !covered) return { ...base, inHand, kind: 'exit', at: log.exitedAt, step: stepAt(steps, log.exitedAt) }
  return { ...base, inHand, kind: 'unexplained', at: first.t, step: stepAt(steps, first.t) }
}

/** The cause in a few words: "kill -9 of consumer-2 (step 4)". */
export function causeLabel(c: Cause): string {
  const step = c.step ? ` (step ${c.step.n}: ${c.step.label})` : ''
  switch (c.kind) {
    case 'kill':
      return `kill -9 of ${c.slot}${c.step ? ` (step ${c.step.n})` : ''}`
    case 'lost':
      return `${c.slot} losing its partitions${step}`
    case 'revoked':
      return `a rebalance that took the partition from ${c.slot} before a commit covered it${step}`
    case 'closed':
      return `${c.slot} closing without committing${step}`
    case 'exit':
      return `${c.slot} exiting on its own${step}`
    default:
      return `an unexplained repeat after ${c.slot}${step}`
  }
}

export interface CauseGroup {
  label: string
  count: number
  inHand: number
  finished: number
}

/** Duplicates grouped by cause, largest first. */
export function groupCauses(causes: readonly Cause[]): CauseGroup[] {
  const groups = new Map<string, CauseGroup>()
  for (const c of causes) {
    const label = causeLabel(c)
    let g = groups.get(label)
    if (!g) groups.set(label, (g = { label, count: 0, inHand: 0, finished: 0 }))
    g.count++
    if (c.inHand) g.inHand++
    else g.finished++
  }
  return [...groups.values()].sort((a, b) => b.count - a.count)
}

/**
 * "4 duplicates: 4 after kill -9 of consumer-2 (step 4): 3 processed after its last commit, 1 still in
 * its handler". `noun` is singular; `nouns` plural.
 */
export function summarize(causes: readonly Cause[], noun: string, nouns: string): string {
  if (causes.length === 0) return `0 ${nouns}`
  const parts = groupCauses(causes).map((g) => {
    const split: string[] = []
    if (g.finished > 0) split.push(`${g.finished} processed after its last commit`)
    if (g.inHand > 0) split.push(`${g.inHand} still in its handler`)
    return `${g.count} after ${g.label}: ${split.join(', ')}`
  })
  return `${causes.length} ${causes.length === 1 ? noun : nouns}: ${parts.join('; ')}`
}
