/**
 * `npm run demo` (demo/run.ts), run as a user runs it: it completes, and its final table says what the
 * issue asks of it — duplicates with the chapter's auto-commit configuration, none with the idempotent
 * helper, nothing lost in any row — and every duplicate counted in the table was narrated with its cause.
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { resolve } from 'node:path'
import { test } from 'node:test'

const ROOT = resolve(import.meta.dirname, '../..')

interface Row {
  strategy: string
  processed: number
  duplicates: number
  lost: number
}

function runDemo(): Promise<{ code: number | null; out: string; err: string; seconds: number }> {
  const started = Date.now()
  return new Promise((done) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'demo/run.ts'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    let err = ''
    child.stdout.on('data', (d: Buffer) => (out += d.toString()))
    child.stderr.on('data', (d: Buffer) => (err += d.toString()))
    const timer = setTimeout(() => child.kill('SIGKILL'), 280_000)
    child.once('exit', (code) => {
      clearTimeout(timer)
      done({ code, out, err, seconds: (Date.now() - started) / 1000 })
    })
  })
}

test('npm run demo: auto-commit duplicates, none with the idempotent helper, nothing lost, every duplicate explained', async (t) => {
  const { code, out, err, seconds } = await runDemo()
  t.diagnostic(`${seconds.toFixed(0)} s`)
  const context = `stdout:\n${out}\nstderr:\n${err}`
  assert.equal(code, 0, context)

  const lines = out.split('\n')
  const header = lines.findIndex((l) => l.trim().split(/\s+/).join(' ') === 'STRATEGY PROCESSED DUPLICATES LOST')
  assert.ok(header >= 0, `the table's header line\n${context}`)
  const head = lines[header] as string
  assert.match(head, /^STRATEGY {2,}PROCESSED {2}DUPLICATES {2}LOST$/, 'the header is a column layout')
  const rows: Row[] = lines.slice(header + 1, header + 4).map((l) => {
    const m = /^(\S+) +(\d+) +(\d+) +(\d+)$/.exec(l)
    assert.ok(m, `a table row: ${JSON.stringify(l)}`)
    // Right-aligned under the header's column names.
    assert.equal(l.length, head.length, `row ${JSON.stringify(l)} is as wide as the header`)
    for (const name of ['PROCESSED', 'DUPLICATES']) {
      const end = head.indexOf(name) + name.length
      assert.match(l.slice(0, end), /\d$/, `${name} is right-aligned in ${JSON.stringify(l)}`)
    }
    return { strategy: m[1] as string, processed: Number(m[2]), duplicates: Number(m[3]), lost: Number(m[4]) }
  })
  assert.equal(lines[header + 4]?.trim(), '', 'three rows, then a blank line')

  const auto = rows.filter((r) => r.strategy.includes('auto'))
  const idempotent = rows.filter((r) => r.strategy.includes('idempotent'))
  assert.equal(auto.length, 1, 'one auto-commit row')
  assert.equal(idempotent.length, 1, 'one idempotent row')
  assert.ok((auto[0] as Row).duplicates > 0, `the auto-commit row shows duplicates\n${context}`)
  assert.equal((idempotent[0] as Row).duplicates, 0, `no duplicates with the idempotent helper\n${context}`)
  for (const r of rows) {
    assert.equal(r.lost, 0, `nothing lost with ${r.strategy}\n${context}`)
    assert.ok(r.processed > 20, `${r.strategy} processed ${r.processed} messages`)
  }

  // Each play narrates each duplicate it counts, with its cause.
  const plays = out.split(/^━━━ \d\/3: /m).slice(1)
  assert.equal(plays.length, 3, 'three plays')
  for (const r of rows) {
    const play = plays.find((p) => p.startsWith(`${r.strategy} `)) ?? ''
    const narrated = play.split('\n').filter((l) => / DUPLICATE .* ← \S/.test(l))
    assert.equal(narrated.length, r.duplicates, `${r.strategy}: every duplicate narrated with its cause\n${play}`)
    for (const step of [
      'STEP 1: one consumer',
      'STEP 2: scale to three',
      'STEP 3: consumer-3 stops gracefully',
      'STEP 4: kill -9 of',
      'STEP 6: drain',
    ]) {
      assert.ok(play.includes(step), `${r.strategy}: ${step}`)
    }
    assert.match(play, /STEP 5: consumer-3 restarts with the same instance id/)
    assert.match(play, /CURRENT-OFFSET +LOG-END-OFFSET +LAG +CONSUMER-ID/, 'a lag table')
  }
  assert.match(out, /^auto-commit: \d+ duplicates?: \d+ after \S/m, 'the auto-commit duplicates are attributed')
  assert.doesNotMatch(out, /ran into problems/, 'the script ran as written')
})
