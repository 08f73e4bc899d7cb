/**
 * `npm run demo`: the chapter's rebalance story, played three times against Cohort's broker, with the
 * chapter's broken configuration, with the production pattern, and with the production pattern plus
 * the idempotent helper; then one table of what each did, measured.
 *
 *   node --import tsx demo/run.ts [--only auto-commit|production|production+idempotent]... [--keep]
 *
 * --keep leaves the working directory (broker data, notifications databases, members' stderr) in place.
 * docs/demo.md explains the output.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { summarize } from './attribution.ts'
import { type Cast, cast, dismiss, type PlayConfig, type PlayResult, play } from './play.ts'
import { STRATEGIES, type Strategy } from './protocol.ts'

const { values: args } = parseArgs({
  options: {
    only: { type: 'string', multiple: true },
    keep: { type: 'boolean', default: false },
  },
})
const chosen = (args.only ?? [...STRATEGIES]) as Strategy[]
for (const s of chosen) if (!STRATEGIES.includes(s)) throw new Error(`unknown strategy ${s}: one of ${STRATEGIES.join(', ')}`)

const DESCRIPTION: Record<Strategy, string> = {
  'auto-commit':
    "the chapter's broken configuration: enable.auto.commit every 5 s, default (eager) assignors, no rebalance listener, no static membership",
  production:
    'the production pattern (examples/notification-service): commits after processing, a commit in onRevoked, cooperative-sticky, static membership',
  'production+idempotent':
    'the production pattern, with each notification written through the idempotent helper (processOnceInTransaction, SQLite)',
}

const NOTIFY_MS = 1000
const SESSION_TIMEOUT_MS = 6000
const out = (line: string): void => void process.stdout.write(`${line}\n`)
const started = Date.now()
const dir = mkdtempSync(join(tmpdir(), 'cohort-demo-'))

out("Cohort demo: the chapter's notification service, against Cohort's broker embedded in this process. The script:")
out('  1 one consumer   2 scale to three   3 consumer-3 stops gracefully (SIGTERM)')
out('  4 kill -9 of the busiest consumer, in the middle of a notification   5 consumer-3 restarts with the same instance id')
out('  6 the producer stops, the rest is processed, SIGTERM to all')
out('Tasks are produced all along. The script is played three times with the same service (sending a notification takes')
out(`${NOTIFY_MS / 1000} s), changing only the consumer's configuration. Every count is measured: a notification is a row a member`)
out('writes to a SQLite table, a task event is produced when the broker acknowledges it; nothing is assumed.')
out(`Timeouts are shortened so that the demo takes about two minutes: session ${SESSION_TIMEOUT_MS / 1000} s, heartbeat 1 s.`)

const config = (strategy: Strategy): PlayConfig => ({
  strategy,
  dir: join(dir, strategy),
  notifyMs: NOTIFY_MS,
  sessionTimeoutMs: SESSION_TIMEOUT_MS,
  heartbeatIntervalMs: 1000,
  runMs: 2500,
  killAfterMs: 2500,
  taskEveryMs: 1000,
  out,
})

const results: PlayResult[] = []
// Each play's member processes are started while the previous play drains, so that none waits for Node.
let next: Cast | null = cast(config(chosen[0] as Strategy))
try {
  for (const [i, strategy] of chosen.entries()) {
    const players = next as Cast
    next = null
    out('')
    out(`━━━ ${i + 1}/${chosen.length}: ${strategy} — ${DESCRIPTION[strategy]}`)
    out('')
    const following = chosen[i + 1]
    const r = await play(players, () => {
      if (following) next = cast(config(following))
    })
    results.push(r)
    out('')
    out(`${strategy}: ${r.produced} task events produced, ${r.processed} messages processed in ${r.seconds.toFixed(0)} s`)
    out(`  ${summarize(r.duplicateCauses, 'duplicate notification', 'duplicate notifications')}`)
    if (strategy === 'production+idempotent')
      out(
        `  ${summarize(r.redeliveryCauses, 'redelivery, skipped by the idempotent store', 'redeliveries, each skipped by the idempotent store')}`,
      )
    else if (r.redeliveries !== r.duplicates) out(`  ${summarize(r.redeliveryCauses, 'redelivery', 'redeliveries')}`)
    if (r.lost > 0) out(`  ${r.lost} task events never notified: ${r.lostIds.slice(0, 10).join(', ')}`)
  }
} finally {
  if (next) await dismiss(next)
}

out('')
out('━━━ Result')
out('')
const rows = [
  ['STRATEGY', 'PROCESSED', 'DUPLICATES', 'LOST'],
  ...results.map((r) => [r.strategy, String(r.processed), String(r.duplicates), String(r.lost)]),
]
const widths = (rows[0] as string[]).map((_, i) => Math.max(...rows.map((r) => (r[i] as string).length)))
for (const r of rows) out(r.map((c, i) => (i === 0 ? c.padEnd(widths[i] as number) : c.padStart(widths[i] as number))).join('  '))
out('')
out(`task events produced: ${results.map((r) => `${r.strategy} ${r.produced}`).join(', ')} (each play produces while its script runs)`)
out('PROCESSED   messages the consumers finished processing, repeats included')
out('DUPLICATES  notifications sent more than once: rows in the notifications table beyond the first for the same task event')
out('LOST        task events acknowledged by the broker and never notified')
out('')
for (const r of results) out(`${r.strategy}: ${summarize(r.duplicateCauses, 'duplicate', 'duplicates')}`)
const warnings = results.flatMap((r) => r.warnings.map((w) => `${r.strategy}: ${w}`))
if (warnings.length > 0) {
  out('')
  out('The script ran into problems (the counts above are still what happened):')
  for (const w of warnings) out(`  ${w}`)
}
out('')
out(`${((Date.now() - started) / 1000).toFixed(0)} s. See docs/demo.md for how to read this.`)
if (args.keep) out(`Working files kept in ${dir}`)
else rmSync(dir, { recursive: true, force: true })
