/**
 * The idempotent-processing helper (src/client/idempotent): processOnce's claim / complete / in-doubt
 * rules on both stores, processOnceInTransaction's atomicity, and the SQLite store's promises across
 * processes: marks survive kill -9, concurrent processes never run an effect twice, and importing
 * the client does not load the native module.
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { after, test } from 'node:test'
import {
  InDoubtError,
  MemoryProcessedStore,
  offsetIdentity,
  processOnce,
  processOnceInTransaction,
  SqliteProcessedStore,
} from '../../../src/client/idempotent/index.ts'

const dir = mkdtempSync(join(tmpdir(), 'cohort-idempotent-'))
after(() => rmSync(dir, { recursive: true, force: true }))
let seq = 0
const dbPath = (): string => join(dir, `store-${++seq}.db`)
const MODULE = resolve(import.meta.dirname, '../../../src/client/idempotent/index.ts')
const CLIENT = resolve(import.meta.dirname, '../../../src/client/index.ts')

/** `SELECT count(*)` of a table. */
const count = (db: { prepare(sql: string): { get(): unknown } }, table: string): number =>
  (db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n

const stores = {
  memory: async () => new MemoryProcessedStore(),
  sqlite: async () => SqliteProcessedStore.open(dbPath()),
}

for (const [kind, open] of Object.entries(stores)) {
  test(`processOnce (${kind}): the effect runs once; a redelivery is a duplicate`, async () => {
    const store = await open()
    let calls = 0
    const first = await processOnce(store, 'task-1', () => ++calls, { owner: 'a' })
    assert.deepEqual(first, { outcome: 'processed', value: 1, attempt: 1 })
    const again = await processOnce(store, 'task-1', () => ++calls, { owner: 'b' })
    assert.equal(again.outcome, 'duplicate')
    assert.equal(calls, 1)
    const row = await store.get('task-1')
    assert.equal(row?.state, 'done')
    assert.equal(row?.owner, 'a')
    await store.close()
  })

  test(`processOnce (${kind}): a failing effect releases its claim, so the retry runs it`, async () => {
    const store = await open()
    await assert.rejects(
      processOnce(store, 'task-2', () => {
        throw new Error('smtp down')
      }),
      /smtp down/,
    )
    assert.equal(await store.get('task-2'), undefined, 'no claim left behind')
    const retry = await processOnce(store, 'task-2', () => 'sent')
    assert.deepEqual(retry, { outcome: 'processed', value: 'sent', attempt: 1 })
    await store.close()
  })

  test(`processOnce (${kind}): a claim that never completed is in doubt; the policy decides`, async () => {
    const store = await open()
    // A process that claimed and died before completing (kill -9 between the effect and the mark).
    for (const id of ['r', 's', 't']) assert.equal((await store.claim(id, 'dead-process')).kind, 'claimed')

    const seen: number[] = []
    const retried = await processOnce(store, 'r', (ctx) => seen.push(ctx.attempt), { owner: 'next', inDoubt: 'retry' })
    assert.equal(retried.outcome, 'processed')
    assert.deepEqual(seen, [2], 'retry: the effect runs again, told it is attempt 2')

    const skipped = await processOnce(store, 's', () => assert.fail('skip must not run the effect'), { inDoubt: 'skip' })
    assert.equal(skipped.outcome, 'skipped')
    assert.equal((await store.get('s'))?.state, 'done')

    await assert.rejects(
      processOnce(store, 't', () => assert.fail('throw must not run the effect'), { inDoubt: 'throw' }),
      (err: unknown) => err instanceof InDoubtError && err.record.owner === 'dead-process' && err.record.attempts === 1,
    )
    assert.equal((await store.get('t'))?.state, 'pending', 'left for the application to reconcile')
    await store.close()
  })

  test(`processOnceInTransaction (${kind}): processed once, then duplicates`, async () => {
    const store = await open()
    const effects: string[] = []
    for (let i = 0; i < 3; i++) {
      const r = processOnceInTransaction(store as never, 'task-3', () => effects.push('notified'))
      assert.equal(r.outcome, i === 0 ? 'processed' : 'duplicate')
    }
    assert.deepEqual(effects, ['notified'])
    await store.close()
  })

  test(`prune (${kind}) deletes done marks completed before the cut-off, never pending claims`, async () => {
    const store = await open()
    await processOnce(store, 'old', () => {})
    await store.claim('pending', 'x')
    const n = await store.prune(Date.now() + 1000)
    assert.equal(n, 1)
    assert.equal(await store.get('old'), undefined)
    assert.equal((await store.get('pending'))?.state, 'pending')
    await store.close()
  })
}

test('SqliteProcessedStore: the effect and the mark commit or roll back together', async () => {
  const store = await SqliteProcessedStore.open(dbPath())
  store.db.exec('CREATE TABLE notifications (task TEXT NOT NULL)')
  const insert = store.db.prepare('INSERT INTO notifications (task) VALUES (?)')
  assert.throws(
    () =>
      processOnceInTransaction(store, 'task-4', (db) => {
        insert.run('task-4')
        assert.equal(count(db, 'notifications'), 1, 'visible inside the transaction')
        throw new Error('render failed')
      }),
    /render failed/,
  )
  assert.equal(store.getSync('task-4'), undefined, 'no mark')
  assert.equal(count(store.db, 'notifications'), 0, 'no effect')
  assert.equal(processOnceInTransaction(store, 'task-4', () => insert.run('task-4')).outcome, 'processed')
  assert.equal(processOnceInTransaction(store, 'task-4', () => insert.run('task-4')).outcome, 'duplicate')
  assert.equal(count(store.db, 'notifications'), 1)
  assert.throws(
    () => store.runOnce('task-5', 'me', (async () => {}) as never),
    /synchronous/,
    'an async effect is refused (and rolled back) instead of escaping the transaction',
  )
  assert.equal(store.getSync('task-5'), undefined)
  await store.close()
})

test('SqliteProcessedStore: WAL with synchronous=FULL by default, NORMAL on request; a custom table', async () => {
  const a = await SqliteProcessedStore.open(dbPath())
  assert.equal(a.db.pragma('journal_mode', { simple: true }), 'wal')
  assert.equal(a.db.pragma('synchronous', { simple: true }), 2)
  await a.close()
  const b = await SqliteProcessedStore.open(dbPath(), { synchronous: 'NORMAL', table: 'my_marks' })
  assert.equal(b.db.pragma('synchronous', { simple: true }), 1)
  await processOnce(b, 'x', () => {})
  assert.equal(count(b.db, 'my_marks'), 1)
  await b.close()
  await assert.rejects(SqliteProcessedStore.open(dbPath(), { table: 'x; DROP TABLE y' }), /bad table name/)
})

test('offsetIdentity names a log entry', () => {
  assert.equal(offsetIdentity({ topic: 'task-created', partition: 2, offset: 41n }), 'task-created/2/41')
})

// ---- across processes ---------------------------------------------------------------------------

/** Runs a module (ESM JavaScript that may import .ts files) in `node --import tsx`; resolves with its stdout. */
function child(
  source: string,
  args: string[],
  onLine?: (line: string, kill: () => void) => void,
): Promise<{ out: string; code: number | null; signal: string | null }> {
  const file = join(dir, `child-${++seq}.mjs`)
  writeFileSync(file, source)
  return new Promise((res, rej) => {
    const p = spawn(process.execPath, ['--import', 'tsx', file, ...args], {
      cwd: resolve(import.meta.dirname, '../../..'),
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let out = ''
    let err = ''
    let buf = ''
    p.stdout.on('data', (d: Buffer) => {
      out += d.toString()
      if (!onLine) return
      buf += d.toString()
      for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
        onLine(buf.slice(0, nl), () => p.kill('SIGKILL'))
        buf = buf.slice(nl + 1)
      }
    })
    p.stderr.on('data', (d: Buffer) => {
      err += d.toString()
    })
    p.on('error', rej)
    p.on('close', (code, signal) => {
      if (code !== 0 && signal !== 'SIGKILL') rej(new Error(`child exited ${code}: ${err}`))
      else res({ out, code, signal })
    })
  })
}

const WORKER = `
import { writeSync } from 'node:fs'
import { SqliteProcessedStore, processOnceInTransaction } from ${JSON.stringify(MODULE)}
const [path, from, to, step] = process.argv.slice(2)
const store = await SqliteProcessedStore.open(path)
store.db.exec('CREATE TABLE IF NOT EXISTS notifications (task TEXT NOT NULL, pid INTEGER NOT NULL)')
const insert = store.db.prepare('INSERT INTO notifications (task, pid) VALUES (?, ?)')
const ids = []
for (let i = Number(from); Number(step) > 0 ? i < Number(to) : i >= Number(to); i += Number(step)) ids.push('task-' + i)
for (const id of ids) {
  const r = processOnceInTransaction(store, id, () => insert.run(id, process.pid))
  writeSync(1, id + ' ' + r.outcome + '\\n')
}
await store.close()
`

test('SqliteProcessedStore: a mark that returned survives kill -9, with its effect; nothing is half-written', async () => {
  const path = dbPath()
  const acknowledged: string[] = []
  const r = await child(WORKER, [path, '0', '1000000', '1'], (line, kill) => {
    acknowledged.push(line.split(' ')[0] as string)
    if (acknowledged.length === 300) kill()
  })
  assert.equal(r.signal, 'SIGKILL')
  const store = await SqliteProcessedStore.open(path)
  const rows = store.db.prepare('SELECT task, count(*) AS n FROM notifications GROUP BY task').all() as { task: string; n: number }[]
  const marks = store.db.prepare("SELECT identity FROM cohort_processed WHERE state = 'done'").all() as { identity: string }[]
  assert.ok(
    rows.every((x) => x.n === 1),
    'no effect twice',
  )
  assert.deepEqual(new Set(rows.map((x) => x.task)), new Set(marks.map((m) => m.identity)), 'an effect exactly where there is a mark')
  for (const id of acknowledged) assert.equal(store.getSync(id)?.state, 'done', `${id} was acknowledged, so it is marked`)
  // Every line the child wrote was read (the pipe outlives it): at most one transaction committed without its line.
  assert.ok(
    marks.length - acknowledged.length === 0 || marks.length - acknowledged.length === 1,
    `${marks.length} marks for ${acknowledged.length} acknowledged`,
  )
  // The redelivery after the crash: everything already marked is a duplicate.
  for (const id of acknowledged) assert.equal(processOnceInTransaction(store, id, () => assert.fail('ran twice')).outcome, 'duplicate')
  await store.close()
})

test('SqliteProcessedStore: two processes racing over the same ids run each effect once', async () => {
  const path = dbPath()
  ;(await SqliteProcessedStore.open(path)).close()
  const [a, b] = await Promise.all([child(WORKER, [path, '0', '400', '1']), child(WORKER, [path, '399', '0', '-1'])])
  const store = await SqliteProcessedStore.open(path)
  const rows = store.db.prepare('SELECT task, count(*) AS n FROM notifications GROUP BY task').all() as { task: string; n: number }[]
  assert.equal(rows.length, 400)
  assert.ok(
    rows.every((x) => x.n === 1),
    'no effect twice',
  )
  const processed = (out: string) => out.split('\n').filter((l) => l.endsWith(' processed')).length
  assert.equal(processed(a.out) + processed(b.out), 400, 'each id processed by exactly one of them')
  await store.close()
})

test('importing the client does not load better-sqlite3; opening a SQLite store does', async () => {
  const r = await child(
    `
import { createRequire } from 'node:module'
const loaded = () => Object.keys(createRequire(import.meta.url).cache).some((k) => k.includes('better-sqlite3'))
const client = await import(${JSON.stringify(CLIENT)})
console.log(typeof client.processOnce, loaded())
const store = await client.SqliteProcessedStore.open(':memory:')
console.log(loaded())
await store.close()
`,
    [],
  )
  assert.equal(r.out, 'function false\ntrue\n')
})
