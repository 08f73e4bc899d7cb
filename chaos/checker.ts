/**
 * Reads a chaos run directory (chaos/events.ts) and reports what the group did with what was produced:
 *
 * - lost: acknowledged by the broker, never processed by any member;
 * - duplicates: a log entry (partition, offset) processed more than once. Each repeat is attributed to
 *   how the earlier processor's ownership of the partition ended, read from that member's own events
 *   and the harness's actions:
 *     kill        the member was killed (kill -9) while owning it
 *     forced-kill a graceful stop that did not finish in time, ended with kill -9
 *     crash       the process ended without closing and without being killed
 *     lost        the member reported the partition lost (session expiry, fencing, ...)
 *     revoke-commit-failed  revoked, but no commit covering the record succeeded first
 *     graceful    revoked after a successful commit past the record: must never happen
 *     unexplained none of the above (e.g. the same member read it again while owning the partition)
 *   The bound of an ungraceful end is the set of records that member processed on the partition, in
 *   its last ownership period, at or after its last successful commit there: a repeat outside that set
 *   breaks the bound;
 * - partitions owned by two members at once (from their assigned/revoked/lost events);
 * - with the idempotent helper, side effects: notifications per message id in the shared store.
 *
 *   node --import tsx chaos/checker.ts RUN_DIR     prints the report, exits 1 when an expectation fails
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import Database from 'better-sqlite3'
import { type ChaosEvent, incarnationName, type MemberEvent, type ProducedRecord, parseJsonLines } from './events.ts'

export type Cause = 'kill' | 'forced-kill' | 'crash' | 'lost' | 'revoke-commit-failed' | 'graceful' | 'unexplained'
/** Causes after which repeats are expected (within the bound) when the run had kills or broker restarts. */
export const UNGRACEFUL_CAUSES: readonly Cause[] = ['kill', 'forced-kill', 'lost', 'revoke-commit-failed']

export interface Incident {
  cause: Cause
  /** The member whose ownership ended (`slot#n`). */
  member: string
  /** Seconds since the run started, when the ownership ended. */
  at: number
  /** The partitions whose ownership ended (for a kill: all it owned). */
  partitions: number[]
  duplicates: number
  /** The partitions the repeats were on. */
  duplicatePartitions: number[]
  /** Records the member had processed and not committed when its ownership ended (all its partitions for a kill). */
  bound: number
  /** Every repeat is one of those records. */
  withinBound: boolean
  /** The nearest earlier chaos action, for context. */
  context: string | null
  /** What the member said just before (its last failed commit), and a known cause when it is one. */
  note: string | null
}

export interface CheckReport {
  dir: string
  run: Record<string, unknown>
  harnessError: string | null
  durationS: number
  actions: Record<string, number>
  members: { incarnations: number; cohort: number; python: number }
  produced: number
  failedSends: number
  processed: number
  lost: number
  lostSample: string[]
  /** Repeats: processings of a log entry beyond its first. */
  duplicates: number
  duplicatesByCause: Partial<Record<Cause, number>>
  incidents: Incident[]
  /** Message ids found at more than one offset (the log holds them twice). */
  logDuplicates: number
  /** Ownership overlaps: [not excused, excused by a later 'lost' of the earlier owner]. */
  overlaps: number
  excusedOverlaps: number
  overlapSample: string[]
  commitFailures: number
  memberErrors: number
  /** Member errors, first few. */
  errorSample: string[]
  /** Member processes that ended without being asked to (crashes, fatal errors). */
  unaskedExits: string[]
  sideEffects: null | {
    notifications: number
    duplicateSideEffects: number
    missingSideEffects: number
    pendingClaims: number
    suppressedRedeliveries: number
  }
  expectations: { name: string; ok: boolean; detail: string }[]
  pass: boolean
}

interface Indexed {
  e: MemberEvent
  i: number
}

interface MemberLog {
  name: string
  kind: 'cohort' | 'python' | 'unknown'
  events: MemberEvent[]
  killedAt: number | null
  forced: boolean
  exitAt: number | null
  /** It exited without being asked to. */
  unasked: boolean
}

export function check(dir: string, options: { harnessError?: string | null } = {}): CheckReport {
  const run = existsSync(join(dir, 'run.json')) ? (JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8')) as Record<string, unknown>) : {}
  const chaos = parseJsonLines<ChaosEvent>(readText(join(dir, 'chaos.jsonl')))
  const produced = parseJsonLines<ProducedRecord>(readText(join(dir, 'produced.jsonl')))
  const t0 = chaos[0]?.t ?? 0
  const rel = (t: number): number => Math.round((t - t0) / 100) / 10

  // ---- members ------------------------------------------------------------------------------
  const logs = new Map<string, MemberLog>()
  const memberDir = join(dir, 'members')
  for (const f of existsSync(memberDir) ? readdirSync(memberDir) : []) {
    const m = /^(.+)\.(\d+)\.jsonl$/.exec(f)
    if (!m) continue
    const name = incarnationName(m[1] as string, Number(m[2]))
    const events = parseJsonLines<MemberEvent>(readText(join(memberDir, f)))
    const started = events.find((e) => e.ev === 'started')
    logs.set(name, {
      name,
      kind: started && started.ev === 'started' ? started.kind : 'unknown',
      events,
      killedAt: null,
      forced: false,
      exitAt: null,
      unasked: false,
    })
  }
  const actions: Record<string, number> = {}
  const unaskedExits: string[] = []
  for (const c of chaos) {
    const key = c.action === 'stop' ? `stop (${String(c.detail?.reason)})` : c.action
    if (c.action !== 'phase' && c.action !== 'exit') actions[key] = (actions[key] ?? 0) + 1
    const log = c.target ? logs.get(c.target) : undefined
    if (!log) continue
    if (c.action === 'kill' || c.action === 'forced-kill') {
      log.killedAt = c.t
      log.forced = c.action === 'forced-kill'
    }
    if (c.action === 'exit') {
      log.exitAt = c.t
      if (c.detail?.requested === false) log.unasked = true
      if (c.detail?.requested === false) unaskedExits.push(`${c.target} at +${rel(c.t)}s (${JSON.stringify(c.detail)})`)
    }
  }
  // The broker's first start is not chaos.
  if (actions['broker-start']) actions['broker-start']--
  if (actions['broker-start'] === 0) delete actions['broker-start']

  // ---- lost ---------------------------------------------------------------------------------
  const acked = produced.filter((r) => !r.failed)
  const processedIds = new Map<string, Set<string>>()
  const recs = new Map<string, { name: string; t: number; i: number; id: string }[]>()
  let processed = 0
  let commitFailures = 0
  let memberErrors = 0
  const errorSample: string[] = []
  let suppressed = 0
  for (const log of logs.values()) {
    log.events.forEach((e, i) => {
      if (e.ev === 'rec') {
        processed++
        const key = `${e.p}/${e.o}`
        let list = recs.get(key)
        if (!list) recs.set(key, (list = []))
        list.push({ name: log.name, t: e.t, i, id: e.id })
        let at = processedIds.get(e.id)
        if (!at) processedIds.set(e.id, (at = new Set()))
        at.add(key)
      } else if (e.ev === 'commit-failed') commitFailures++
      else if (e.ev === 'error') {
        memberErrors++
        if (errorSample.length < 10) errorSample.push(`${log.name} at +${rel(e.t)}s: ${e.error}`)
      } else if (e.ev === 'fx' && e.r === 'dup') suppressed++
    })
  }
  const lostIds = acked.filter((r) => !processedIds.has(r.id)).map((r) => r.id)
  const logDuplicates = [...processedIds.values()].filter((s) => s.size > 1).length

  // ---- duplicates and their causes ----------------------------------------------------------
  const contextBefore = (t: number): string | null => {
    let best: ChaosEvent | null = null
    for (const c of chaos) {
      if (c.t > t) break
      if (c.action === 'phase' || c.action === 'exit' || c.action === 'start') continue
      best = c
    }
    if (!best) return null
    const what = best.target ? `${best.action} ${best.target}` : best.action
    const detail = best.detail ? ` ${JSON.stringify(best.detail)}` : ''
    return `${what}${detail} at +${rel(best.t)}s`
  }

  /** The member's last failed commit shortly (2 s) before event index `end`, with a known cause when it is one. */
  const noteBefore = (log: MemberLog, end: number): string | null => {
    const endT = log.events[Math.min(end, log.events.length - 1)]?.t ?? 0
    for (let i = Math.min(end, log.events.length) - 1; i >= 0; i--) {
      const e = log.events[i] as MemberEvent
      if (e.t < endT - 2000) break
      if (e.ev !== 'commit-failed') continue
      if (log.kind === 'python' && /ILLEGAL_GENERATION/.test(e.error)) {
        return (
          'librdkafka dropped its assignment after an OffsetCommit answered ILLEGAL_GENERATION during a cooperative rebalance ' +
          '(librdkafka issue #4059, fixed upstream by PR #4908; Kafka answers the same)'
        )
      }
      return `after its commit failed: ${e.error}`
    }
    return null
  }

  /** `noteBefore`, plus whether the member got the same partitions back at once (it never left the group: a race, not a death). */
  const noteAround = (log: MemberLog, end: number, partitions: readonly number[]): string | null => {
    const before = noteBefore(log, end)
    const endT = log.events[Math.min(end, log.events.length - 1)]?.t ?? 0
    const back = new Set<number>()
    for (let i = end + 1; i < log.events.length; i++) {
      const e = log.events[i] as MemberEvent
      if (e.t > endT + 1000) break
      if (e.ev === 'assigned') for (const p of e.partitions) back.add(p)
    }
    const again = partitions.filter((p) => back.has(p))
    const after = again.length > 0 ? `reassigned p${again.join(',')} to the same member within 1 s: it was still in the group` : null
    return [before, after].filter((x) => x !== null).join('; ') || null
  }

  /** Offsets `log` processed on `p` in its ownership period ending at event index `end`, at or after its last commit there. */
  const uncommitted = (log: MemberLog, p: number, end: number): Set<number> => {
    let start = -1
    for (let i = Math.min(end, log.events.length) - 1; i >= 0; i--) {
      const e = log.events[i] as MemberEvent
      if (e.ev === 'assigned' && e.partitions.includes(p)) {
        start = i
        break
      }
    }
    let committed = -1
    const mine: number[] = []
    for (let i = start + 1; i < Math.min(end, log.events.length); i++) {
      const e = log.events[i] as MemberEvent
      if (e.ev === 'commit') {
        const c = e.offsets[String(p)]
        if (c !== undefined && c > committed) committed = c
      } else if (e.ev === 'rec' && e.p === p) mine.push(e.o)
    }
    return new Set(mine.filter((o) => o >= committed))
  }

  /** Partitions `log` owned just before event index `end` (by its own events). */
  const ownedAt = (log: MemberLog, end: number): number[] => {
    const owned = new Set<number>()
    for (let i = 0; i < Math.min(end, log.events.length); i++) {
      const e = log.events[i] as MemberEvent
      if (e.ev === 'assigned') for (const p of e.partitions) owned.add(p)
      else if (e.ev === 'revoked' || e.ev === 'lost') for (const p of e.partitions) owned.delete(p)
    }
    return [...owned].sort((x, y) => x - y)
  }

  interface Pending {
    incident: Incident
    allowed: Map<number, Set<number>>
  }
  const incidents = new Map<string, Pending>()
  const incidentFor = (key: string, make: () => Pending): Pending => {
    let inc = incidents.get(key)
    if (!inc) incidents.set(key, (inc = make()))
    return inc
  }
  const makeIncident = (cause: Cause, log: MemberLog, endIndex: number, endT: number, partitions: readonly number[]): Pending => {
    const allowed = new Map<number, Set<number>>()
    if (cause !== 'graceful' && cause !== 'unexplained') for (const q of partitions) allowed.set(q, uncommitted(log, q, endIndex))
    let bound = 0
    for (const set of allowed.values()) bound += set.size
    const context = cause === 'kill' || cause === 'forced-kill' ? `${cause} ${log.name} at +${rel(endT)}s` : contextBefore(endT)
    return {
      allowed,
      incident: {
        cause,
        member: log.name,
        at: rel(endT),
        partitions: [...partitions].sort((x, y) => x - y),
        duplicates: 0,
        duplicatePartitions: [],
        bound,
        withinBound: true,
        context,
        note: cause === 'lost' || cause === 'revoke-commit-failed' ? noteAround(log, endIndex, partitions) : null,
      },
    }
  }
  const deathOf = (log: MemberLog): { cause: Cause; t: number } | null => {
    if (log.killedAt !== null) return { cause: log.forced ? 'forced-kill' : 'kill', t: log.killedAt }
    if (log.unasked && !log.events.some((e) => e.ev === 'closed')) return { cause: 'crash', t: log.exitAt ?? log.events.at(-1)?.t ?? 0 }
    return null
  }
  // Every ungraceful end of ownership is an incident, with its bound, whether or not repeats followed.
  for (const log of logs.values()) {
    const death = deathOf(log)
    if (death) {
      const n = log.events.length
      incidents.set(`${death.cause}:${log.name}`, makeIncident(death.cause, log, n, death.t, ownedAt(log, n)))
    }
    log.events.forEach((e, i) => {
      if (e.ev === 'lost' && e.partitions.length > 0)
        incidents.set(`lost:${log.name}:${i}`, makeIncident('lost', log, i, e.t, e.partitions))
    })
  }

  const byCause: Partial<Record<Cause, number>> = {}
  let duplicates = 0
  for (const [key, list] of recs) {
    if (list.length < 2) continue
    const [ps, os] = key.split('/')
    const p = Number(ps)
    const o = Number(os)
    list.sort((x, y) => x.t - y.t || (x.name === y.name ? x.i - y.i : 0))
    for (let k = 1; k < list.length; k++) {
      duplicates++
      const first = list[k - 1] as (typeof list)[number]
      const again = list[k] as (typeof list)[number]
      const log = logs.get(first.name) as MemberLog
      const limit = first.name === again.name ? again.i : log.events.length
      let end: Indexed | null = null
      let covered = false
      for (let i = first.i + 1; i < limit; i++) {
        const e = log.events[i] as MemberEvent
        if (e.ev === 'commit' && (e.offsets[String(p)] ?? -1) > o) covered = true
        if (((e.ev === 'revoked' || e.ev === 'lost') && e.partitions.includes(p)) || e.ev === 'closed') {
          end = { e, i }
          break
        }
      }
      let cause: Cause
      let endIndex: number
      let endT: number
      let partitions: number[]
      const death = deathOf(log)
      if (end === null) {
        endIndex = log.events.length
        if (first.name === again.name || death === null) {
          cause = 'unexplained'
          endT = again.t
          partitions = [p]
        } else {
          cause = death.cause
          endT = death.t
          partitions = ownedAt(log, endIndex)
        }
      } else {
        endIndex = end.i
        endT = end.e.t
        if (end.e.ev === 'lost') {
          cause = 'lost'
          partitions = end.e.partitions
        } else {
          cause = covered ? 'graceful' : 'revoke-commit-failed'
          partitions = end.e.ev === 'revoked' ? end.e.partitions : [p]
        }
      }
      byCause[cause] = (byCause[cause] ?? 0) + 1
      const incKey =
        cause === 'kill' || cause === 'forced-kill' || cause === 'crash'
          ? `${cause}:${log.name}`
          : cause === 'unexplained'
            ? `${cause}:${log.name}:${again.name}`
            : `${cause}:${log.name}:${endIndex}`
      const pending = incidentFor(incKey, () => makeIncident(cause, log, endIndex, endT, partitions))
      const inc = pending.incident
      inc.duplicates++
      if (!inc.duplicatePartitions.includes(p)) inc.duplicatePartitions.push(p)
      if (!pending.allowed.get(p)?.has(o)) inc.withinBound = false
    }
  }
  const incidentList = [...incidents.values()].map((x) => x.incident).sort((x, y) => x.at - y.at)
  for (const inc of incidentList) inc.duplicatePartitions.sort((x, y) => x - y)

  // ---- partitions owned twice at once -------------------------------------------------------
  interface Interval {
    name: string
    p: number
    start: number
    end: number
    endedLost: boolean
  }
  const intervals: Interval[] = []
  for (const log of logs.values()) {
    const open = new Map<number, number>()
    for (const e of log.events) {
      if (e.ev === 'assigned') for (const p of e.partitions) if (!open.has(p)) open.set(p, e.t)
      if (e.ev === 'revoked' || e.ev === 'lost') {
        for (const p of e.partitions) {
          const s = open.get(p)
          if (s === undefined) continue
          intervals.push({ name: log.name, p, start: s, end: e.t, endedLost: e.ev === 'lost' })
          open.delete(p)
        }
      }
    }
    const last = log.killedAt ?? log.exitAt ?? log.events[log.events.length - 1]?.t ?? 0
    for (const [p, s] of open) intervals.push({ name: log.name, p, start: s, end: last, endedLost: false })
  }
  let overlaps = 0
  let excusedOverlaps = 0
  const overlapSample: string[] = []
  const byPartition = new Map<number, Interval[]>()
  for (const iv of intervals) {
    let l = byPartition.get(iv.p)
    if (!l) byPartition.set(iv.p, (l = []))
    l.push(iv)
  }
  for (const [p, l] of byPartition) {
    l.sort((x, y) => x.start - y.start)
    for (let i = 0; i < l.length; i++) {
      const a = l[i] as Interval
      for (let j = i + 1; j < l.length; j++) {
        const b = l[j] as Interval
        if (b.start >= a.end) break
        if (a.name === b.name) continue
        if (a.endedLost) excusedOverlaps++
        else {
          overlaps++
          if (overlapSample.length < 10) {
            overlapSample.push(`p${p}: ${a.name} [+${rel(a.start)}s, +${rel(a.end)}s] and ${b.name} from +${rel(b.start)}s`)
          }
        }
      }
    }
  }

  // ---- side effects -------------------------------------------------------------------------
  let sideEffects: CheckReport['sideEffects'] = null
  const storePath = join(dir, 'store.db')
  if (run.idempotent === true && existsSync(storePath)) {
    const db = new Database(storePath, { readonly: true, fileMustExist: true })
    try {
      const counts = db.prepare('SELECT identity, count(*) AS n FROM chaos_notifications GROUP BY identity').all() as {
        identity: string
        n: number
      }[]
      const notified = new Map(counts.map((r) => [r.identity, r.n]))
      const pending = db.prepare("SELECT count(*) AS n FROM cohort_processed WHERE state = 'pending'").get() as { n: number }
      sideEffects = {
        notifications: counts.reduce((s, r) => s + r.n, 0),
        duplicateSideEffects: counts.reduce((s, r) => s + Math.max(0, r.n - 1), 0),
        missingSideEffects: acked.filter((r) => !notified.has(r.id)).length,
        pendingClaims: pending.n,
        suppressedRedeliveries: suppressed,
      }
    } finally {
      db.close()
    }
  }

  // ---- expectations -------------------------------------------------------------------------
  const scenarios = Array.isArray(run.scenarios) ? (run.scenarios as string[]) : []
  const gracefulOnly = scenarios.length > 0 && !scenarios.includes('kill') && !scenarios.includes('broker')
  const expectations: CheckReport['expectations'] = []
  const expect = (name: string, ok: boolean, detail: string): void => {
    expectations.push({ name, ok, detail })
  }
  const harnessError = options.harnessError ?? null
  expect('the harness ran to the end', harnessError === null, harnessError ?? 'ok')
  expect('something was produced and processed', acked.length > 0 && processed > 0, `${acked.length} produced, ${processed} processed`)
  expect('no message lost', lostIds.length === 0, `${lostIds.length} acknowledged records never processed`)
  expect('the log holds every record once', logDuplicates === 0, `${logDuplicates} ids at more than one offset`)
  const badIncidents = incidentList.filter((i) => i.duplicates > 0 && !UNGRACEFUL_CAUSES.includes(i.cause))
  expect(
    'no duplicate after a graceful handover',
    badIncidents.length === 0,
    badIncidents.length === 0
      ? 'ok'
      : badIncidents.map((i) => `${i.duplicates} after ${i.cause} of ${i.member} (p${i.duplicatePartitions.join(',')})`).join('; '),
  )
  if (gracefulOnly) {
    expect('zero duplicates (graceful churn only)', duplicates === 0, `${duplicates} repeats`)
  } else {
    const outside = incidentList.filter((i) => !i.withinBound)
    expect(
      'duplicates within the bound (what the member had processed but not committed)',
      outside.length === 0,
      outside.length === 0 ? 'ok' : outside.map((i) => `${i.cause} of ${i.member}: ${i.duplicates} > bound ${i.bound}`).join('; '),
    )
  }
  expect('member processes ended only when asked', unaskedExits.length === 0, unaskedExits.join('; ') || 'ok')
  expect('no partition owned by two members at once', overlaps === 0, overlaps === 0 ? 'ok' : overlapSample.join('; '))
  if (sideEffects) {
    expect('zero duplicate side effects', sideEffects.duplicateSideEffects === 0, `${sideEffects.duplicateSideEffects}`)
    expect('every produced message notified', sideEffects.missingSideEffects === 0, `${sideEffects.missingSideEffects} missing`)
  } else if (run.idempotent === true) {
    expect('the idempotent store exists', false, `${storePath} missing`)
  }

  const kinds = [...logs.values()]
  const last = chaos[chaos.length - 1]?.t ?? t0
  return {
    dir,
    run,
    harnessError,
    durationS: rel(last),
    actions,
    members: {
      incarnations: kinds.length,
      cohort: kinds.filter((l) => l.kind === 'cohort').length,
      python: kinds.filter((l) => l.kind === 'python').length,
    },
    produced: acked.length,
    failedSends: produced.length - acked.length,
    processed,
    lost: lostIds.length,
    lostSample: lostIds.slice(0, 20),
    duplicates,
    duplicatesByCause: byCause,
    incidents: incidentList,
    logDuplicates,
    overlaps,
    excusedOverlaps,
    overlapSample,
    commitFailures,
    memberErrors,
    errorSample,
    unaskedExits,
    sideEffects,
    expectations,
    pass: expectations.every((e) => e.ok),
  }
}

function readText(path: string): string {
  return existsSync(path) ? readFileSync(path, 'utf8') : ''
}

const CAUSE_TEXT: Record<Cause, string> = {
  kill: 'kill -9 of',
  'forced-kill': 'forced kill -9 (stop timed out) of',
  crash: 'crash (exit without close) of',
  lost: 'partitions lost by',
  'revoke-commit-failed': 'revoke without a successful commit by',
  graceful: 'graceful revoke (committed past the record!) by',
  unexplained: 'unexplained repeat by',
}

export function formatReport(r: CheckReport): string {
  const run = r.run
  const lines: string[] = []
  lines.push(
    `Cohort chaos run: seed ${run.seed}, ${Number(run.durationMs) / 1000} s of chaos (${r.durationS} s in all), ` +
      `strategy ${run.strategy}, commit every ${run.commitEvery}, idempotent ${run.idempotent ? 'on' : 'off'}`,
  )
  lines.push(`scenarios: ${Array.isArray(run.scenarios) ? (run.scenarios as string[]).join(', ') : '?'}`)
  lines.push(
    `actions: ${
      Object.entries(r.actions)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ') || 'none'
    }`,
  )
  lines.push(`member processes: ${r.members.incarnations} (Cohort ${r.members.cohort}, confluent-kafka ${r.members.python})`)
  lines.push(
    `produced ${r.produced} (acknowledged; ${r.failedSends} failed sends), processed ${r.processed} times, ` +
      `commit failures ${r.commitFailures}, member errors ${r.memberErrors}`,
  )
  for (const e of r.errorSample) lines.push(`  member error: ${e}`)
  for (const e of r.unaskedExits) lines.push(`  ended unasked: ${e}`)
  lines.push(`lost: ${r.lost}${r.lost > 0 ? ` (e.g. ${r.lostSample.slice(0, 5).join(', ')})` : ''}`)
  const causes = Object.entries(r.duplicatesByCause)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ')
  lines.push(`duplicates: ${r.duplicates}${causes ? ` (${causes})` : ''}`)
  for (const i of r.incidents) {
    const bound = UNGRACEFUL_CAUSES.includes(i.cause) ? `; bound ${i.bound} ${i.withinBound ? '✓' : '✗ exceeded'}` : ' ✗'
    const ctx = i.context && i.cause !== 'kill' && i.cause !== 'forced-kill' ? ` (after ${i.context})` : ''
    const on = i.duplicates > 0 ? ` on p${i.duplicatePartitions.join(',')}` : ''
    lines.push(
      `  ${CAUSE_TEXT[i.cause]} ${i.member} (owning p${i.partitions.join(',') || ' none'}) at +${i.at}s: ${i.duplicates} duplicate(s)${on}${bound}${ctx}`,
    )
    if (i.note) lines.push(`    ${i.note}`)
  }
  lines.push(
    `partitions owned twice at once: ${r.overlaps}${r.excusedOverlaps ? ` (+${r.excusedOverlaps} by members that then found them lost)` : ''}`,
  )
  if (r.sideEffects) {
    const s = r.sideEffects
    lines.push(
      `side effects (idempotent store): ${s.notifications} notifications, duplicate side effects ${s.duplicateSideEffects}, ` +
        `missing ${s.missingSideEffects}, pending claims ${s.pendingClaims}, redeliveries suppressed ${s.suppressedRedeliveries}`,
    )
  }
  lines.push('expectations:')
  for (const e of r.expectations) lines.push(`  ${e.ok ? '✓' : '✗'} ${e.name}${e.ok ? '' : `: ${e.detail}`}`)
  lines.push(`${r.pass ? 'PASS' : 'FAIL'} (${r.dir})`)
  return `${lines.join('\n')}\n`
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const dir = process.argv[2]
  if (!dir) {
    process.stderr.write('usage: node --import tsx chaos/checker.ts RUN_DIR\n')
    process.exit(2)
  }
  const report = check(dir)
  process.stdout.write(formatReport(report))
  process.exitCode = report.pass ? 0 : 1
}
