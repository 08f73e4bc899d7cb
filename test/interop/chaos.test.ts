/**
 * The short form of the chaos harness (chaos/, docs/chaos.md): a mixed group of Cohort and
 * confluent-kafka (librdkafka) member processes under churn while records are produced, then every
 * member's record of what it processed is checked against what the broker acknowledged.
 *
 * 1. Graceful churn only — scale-ups, scale-downs, rolling restarts of static members, partition
 *    additions: nothing lost and nothing processed twice (every member commits in onRevoked).
 * 2. kill -9 of members and broker restarts, members notifying through the idempotent helper (one
 *    SQLite store shared by both languages): nothing lost, every repeat attributed to an ungraceful
 *    end of ownership and within its bound (what that member had processed but not committed), and
 *    not one notification twice.
 *
 * Each run is about 20 s of chaos plus start, drain and shutdown; the seeds fix the chaos decisions.
 * The run directory is kept when a run fails (its path is in the failure message).
 */
import assert from 'node:assert/strict'
import { existsSync, rmSync } from 'node:fs'
import { type TestContext, test } from 'node:test'
import type { CheckReport } from '../../chaos/checker.ts'
import { type ChaosOptions, GRACEFUL_SCENARIOS, PYTHON, runChaos } from '../../chaos/harness.ts'

const pythonShare = existsSync(PYTHON) ? 0.5 : 0

const common: Partial<ChaosOptions> = {
  durationMs: 20_000,
  members: 4,
  minMembers: 2,
  maxMembers: 5,
  pythonShare,
  partitions: 6,
  maxPartitions: 9,
  rate: 100,
  gapMs: [1500, 3000],
  sessionTimeoutMs: 6000,
  drainTimeoutMs: 45_000,
}

async function chaos(t: TestContext, options: Partial<ChaosOptions>): Promise<CheckReport> {
  const lines: string[] = []
  const { report, text, dir } = await runChaos({ ...common, ...options, log: (l) => lines.push(l) })
  if (!report.pass) assert.fail(`chaos run failed:\n${text}\nprogress:\n${lines.join('\n')}`)
  for (const line of text.trimEnd().split('\n')) t.diagnostic(line)
  rmSync(dir, { recursive: true, force: true })
  return report
}

test('chaos, graceful churn (scale up/down, rolling static restarts, partition additions): nothing lost, nothing twice', async (t) => {
  // EAGER (range) for the mixed group: with cooperative-sticky, librdkafka 2.0.2 drops its assignment
  // when a commit meets a rebalance (librdkafka #4059); the next run covers cooperative-sticky with
  // Cohort's members.
  const r = await chaos(t, { seed: 11, scenarios: GRACEFUL_SCENARIOS, strategy: 'range', commitEvery: 1 })
  assert.equal(r.lost, 0)
  assert.equal(r.duplicates, 0)
  assert.ok(r.produced > 1000, `${r.produced} records produced`)
  assert.ok((r.actions['stop (rolling-restart)'] ?? 0) > 0, `a rolling restart happened: ${JSON.stringify(r.actions)}`)
  assert.ok((r.actions['add-partitions'] ?? 0) > 0, 'partitions were added')
  if (pythonShare > 0) assert.ok(r.members.python > 0 && r.members.cohort > 0, 'the group mixed both clients')
})

test('chaos, graceful churn with cooperative-sticky (Cohort members): nothing lost, nothing twice', async (t) => {
  const r = await chaos(t, { seed: 5, scenarios: GRACEFUL_SCENARIOS, strategy: 'cooperative-sticky', pythonShare: 0, commitEvery: 10 })
  assert.equal(r.lost, 0)
  assert.equal(r.duplicates, 0)
  assert.ok((r.actions['stop (rolling-restart)'] ?? 0) > 0, `a rolling restart happened: ${JSON.stringify(r.actions)}`)
})

test('chaos, kill -9 and broker restarts with the idempotent helper: nothing lost, repeats within bound, no notification twice', async (t) => {
  const r = await chaos(t, {
    seed: 12,
    scenarios: ['kill', 'broker', 'scale'],
    strategy: 'cooperative-sticky',
    // Committing every 20 records leaves work to redo after a kill, so the helper has something to suppress.
    commitEvery: 20,
    idempotent: true,
  })
  assert.equal(r.lost, 0)
  assert.ok((r.actions.kill ?? 0) > 0 && (r.actions['broker-stop'] ?? 0) > 0, `kills and a broker restart: ${JSON.stringify(r.actions)}`)
  for (const i of r.incidents) assert.ok(i.withinBound, `${i.cause} of ${i.member}: ${i.duplicates} repeats, bound ${i.bound}`)
  assert.ok(r.sideEffects, 'the idempotent store was checked')
  assert.equal(r.sideEffects.duplicateSideEffects, 0)
  assert.equal(r.sideEffects.missingSideEffects, 0)
  assert.equal(r.sideEffects.notifications, r.produced)
  // A repeat of a record whose first processing died before its side effect is a first notification, not a suppressed one.
  assert.ok(r.sideEffects.suppressedRedeliveries <= r.duplicates)
})
