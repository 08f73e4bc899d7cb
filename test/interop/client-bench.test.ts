/**
 * The client benchmark (bench/clients.ts) in its short form, as a smoke test: Cohort's
 * client, kafkajs and @platformatic/kafka each produce a few thousand messages per scenario
 * to a Cohort broker and read them back through a consumer group, and run a short
 * end-to-end latency test. Asserts that the run completes and that every client received
 * every message it produced, exactly once and in order per partition. No timing is asserted:
 * the numbers belong in docs/benchmarks/clients.md, not in a test.
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { after, test } from 'node:test'

const BENCH = resolve(import.meta.dirname, '../../bench/clients.ts')
const dir = mkdtempSync(join(tmpdir(), 'cohort-client-bench-'))
after(() => rmSync(dir, { recursive: true, force: true }))

interface Row {
  client: string
  size: number
  acks: number
  ok: boolean
  error: string | null
  job: { kind: 'produce' | 'consume' | 'latency'; count?: number }
  result:
    | { kind: 'produce'; acked: number; failed: number }
    | { kind: 'consume'; delivery: { received: number; duplicates: number; gaps: number; badSize: number }; timedOut: boolean }
    | { kind: 'latency'; sent: number; received: number }
    | null
}

test('bench/clients.ts --quick: every client produces and receives every message', { timeout: 120_000 }, async () => {
  const json = join(dir, 'result.json')
  const args = [
    '--import',
    'tsx',
    BENCH,
    '--quick',
    '--messages',
    '3000',
    '--messages-1kb',
    '1000',
    '--latency-rate',
    '500',
    '--latency-seconds',
    '1',
    '--latency-acks',
    '1',
    '--job-timeout',
    '45',
    '--json',
    json,
  ]
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  child.stdout.on('data', (d: Buffer) => {
    output += d.toString()
  })
  child.stderr.on('data', (d: Buffer) => {
    output += d.toString()
  })
  const code = await new Promise<number | null>((r) => child.once('exit', r))
  assert.equal(code, 0, `the benchmark failed:\n${output}`)

  const report = JSON.parse(readFileSync(json, 'utf8')) as { ok: boolean; rows: Row[] }
  assert.equal(report.ok, true, output)
  for (const client of ['cohort', 'kafkajs', 'platformatic']) {
    const rows = report.rows.filter((r) => r.client === client)
    // 100 B and 1 KiB values, acks=1 and acks=all: a produce and a consume each, plus a latency run
    // (Cohort's twice: lingerMs 0 and its default 5).
    assert.equal(rows.filter((r) => r.job.kind === 'produce').length, 4, `${client}: produce scenarios`)
    assert.equal(rows.filter((r) => r.job.kind === 'consume').length, 4, `${client}: consume scenarios`)
    assert.equal(rows.filter((r) => r.job.kind === 'latency').length, client === 'cohort' ? 2 : 1, `${client}: latency runs`)
    for (const r of rows) {
      assert.equal(r.error, null, `${client} ${r.job.kind}: ${r.error}`)
      assert.ok(r.ok, `${client} ${r.job.kind} ${r.size} B acks=${r.acks}: ${JSON.stringify(r.result)}`)
      const res = r.result
      if (res?.kind === 'produce') {
        assert.equal(res.acked, r.job.count)
        assert.equal(res.failed, 0)
      } else if (res?.kind === 'consume') {
        assert.equal(res.delivery.received, r.job.count, `${client} received every message`)
        assert.equal(res.delivery.duplicates, 0)
        assert.equal(res.delivery.gaps, 0)
        assert.equal(res.delivery.badSize, 0)
      } else if (res?.kind === 'latency') {
        assert.ok(res.sent > 0)
        assert.equal(res.received, res.sent, `${client} received every timed message`)
      }
    }
  }
})
