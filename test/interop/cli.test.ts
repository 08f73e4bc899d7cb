/** The `cohort` CLI end to end: topics, produce and consume against an in-process broker, through the built bin. */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { resolve } from 'node:path'
import { after, before, test } from 'node:test'
import { startBroker, type TestBroker } from '../helpers/broker.ts'
import { run, runOk } from '../helpers/run.ts'

const BIN = resolve(import.meta.dirname, '../../bin/cohort.js')
let b: TestBroker
const cohort = (args: string[], input?: string) => runOk(process.execPath, [BIN, ...args, '--bootstrap-server', b.bootstrap], { input })

before(async () => {
  b = await startBroker({ 'log.flush.mode': 'os' })
})
after(async () => {
  await b.stop()
})

test('topics create, list, describe (kafka-topics.sh layout), alter and delete', async () => {
  assert.equal(
    await cohort(['topics', 'create', 'cli-topic', '--partitions', '2', '--config', 'retention.ms=60000']),
    'Created topic cli-topic.\n',
  )
  assert.match(await cohort(['topics', 'list']), /^cli-topic$/m)
  const described = await cohort(['topics', 'describe', 'cli-topic'])
  const lines = described.trimEnd().split('\n')
  assert.match(
    lines[0] as string,
    /^Topic: cli-topic\tTopicId: \S{22}\tPartitionCount: 2\tReplicationFactor: 1\tConfigs: retention.ms=60000$/,
  )
  assert.equal(lines[1], '\tTopic: cli-topic\tPartition: 0\tLeader: 1\tReplicas: 1\tIsr: 1')
  assert.equal(lines.length, 3)
  await cohort(['topics', 'alter', 'cli-topic', '--partitions', '3'])
  assert.match(await cohort(['topics', 'describe', 'cli-topic']), /PartitionCount: 3/)
  const dup = await run(process.execPath, [BIN, 'topics', 'create', 'cli-topic', '--partitions', '1', '--bootstrap-server', b.bootstrap])
  assert.equal(dup.code, 1)
  assert.match(dup.stderr, /already exists/)
  await cohort(['topics', 'delete', 'cli-topic'])
  assert.doesNotMatch(await cohort(['topics', 'list']), /cli-topic/)
})

test('produce splits keys at the separator; consume prints them in a kcat-style format', async () => {
  await cohort(['topics', 'create', 'cli-io', '--partitions', '3'])
  const input = Array.from({ length: 30 }, (_, i) => `user-${i % 5}:event ${i}`).join('\n')
  await cohort(['produce', '--topic', 'cli-io', '--key-separator', ':'], `${input}\n`)
  const out = await cohort(['consume', '--topic', 'cli-io', '--from-beginning', '--exit-at-end', '--format', '%p\\t%o\\t%k\\t%v\\n'])
  const rows = out
    .trimEnd()
    .split('\n')
    .map((l) => l.split('\t'))
  assert.equal(rows.length, 30)
  const partitionOfKey = new Map<string, string>()
  for (const [p, , k] of rows) {
    const seen = partitionOfKey.get(k as string)
    assert.ok(seen === undefined || seen === p, `key ${k} on two partitions`)
    partitionOfKey.set(k as string, p as string)
  }
  // Within one key, events keep the order they were produced in.
  for (const key of partitionOfKey.keys()) {
    const events = rows.filter((r) => r[2] === key).map((r) => Number((r[3] as string).split(' ')[1]))
    assert.deepEqual(
      events,
      [...events].sort((a, c) => a - c),
    )
  }
  const two = await cohort(['consume', '--topic', 'cli-io', '--from-beginning', '--max-messages', '2', '--format', '%v\\n'])
  assert.equal(two.trimEnd().split('\n').length, 2)
  const busiest = [...rows.reduce((m, r) => m.set(r[0] as string, (m.get(r[0] as string) ?? 0) + 1), new Map<string, number>())].sort(
    (x, y) => y[1] - x[1],
  )[0]
  const [partition, count] = busiest as [string, number]
  const one = await cohort([
    'consume',
    '--topic',
    'cli-io',
    '--partition',
    partition,
    '--from-beginning',
    '--exit-at-end',
    '--format',
    '%p\\n',
  ])
  assert.deepEqual(one.trimEnd().split('\n'), Array(count).fill(partition))
})

test('produce to an explicit partition with acks=1 and gzip', async () => {
  await cohort(['topics', 'create', 'cli-part', '--partitions', '2'])
  await cohort(['produce', '--topic', 'cli-part', '--partition', '1', '--acks', '1', '--compression', 'gzip'], 'a\nb\nc\n')
  const out = await cohort(['consume', '--topic', 'cli-part', '--from-beginning', '--exit-at-end', '--format', '%p %o %v\\n'])
  assert.equal(out, '1 0 a\n1 1 b\n1 2 c\n')
})

test('bad arguments fail with a message, not a stack trace', async () => {
  const r = await run(process.execPath, [BIN, 'topics', 'create', 'x', '--partitions', '0', '--bootstrap-server', b.bootstrap])
  assert.equal(r.code, 1)
  assert.match(r.stderr, /--partitions must be an integer ≥ 1/)
  const f = await run(process.execPath, [BIN, 'consume', '--topic', 'cli-part', '--format', '%q', '--bootstrap-server', b.bootstrap])
  assert.equal(f.code, 1)
  assert.match(f.stderr, /unknown format token %q/)
})

test('consume --group: two members split the topic, commit as they go, and a rerun resumes after the commits', async () => {
  await cohort(['topics', 'create', 'cli-group', '--partitions', '4'])
  const lines = Array.from({ length: 200 }, (_, i) => `key-${i}:v${i}`).join('\n')
  await cohort(['produce', '--topic', 'cli-group', '--key-separator', ':'], `${lines}\n`)
  const member = () => {
    const child = spawn(
      process.execPath,
      [
        BIN,
        'consume',
        '--topic',
        'cli-group',
        '--group',
        'cli-g',
        '--from-beginning',
        '--format',
        '%p %v\\n',
        '--bootstrap-server',
        b.bootstrap,
      ],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    )
    let out = ''
    let err = ''
    child.stdout.on('data', (d: Buffer) => (out += d.toString()))
    child.stderr.on('data', (d: Buffer) => (err += d.toString()))
    const exited = new Promise<number | null>((res) => child.once('exit', (code) => res(code)))
    return { child, out: () => out, err: () => err, exited }
  }
  const waitUntil = async (cond: () => boolean, what: string) => {
    const deadline = Date.now() + 30_000
    while (!cond()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
      await new Promise((r) => setTimeout(r, 50))
    }
  }
  const first = member()
  await waitUntil(() => first.out().split('\n').length > 200, 'the first member to read everything')
  const second = member()
  await waitUntil(() => /assigned: cli-group-\d/.test(second.err()), 'the second member to get partitions')
  const more = Array.from({ length: 100 }, (_, i) => `key-${i}:w${i}`).join('\n')
  await cohort(['produce', '--topic', 'cli-group', '--key-separator', ':'], `${more}\n`)
  const values = () => [...first.out().split('\n'), ...second.out().split('\n')].filter((l) => l !== '').map((l) => l.split(' ')[1])
  await waitUntil(() => values().length >= 300, 'both members to read the second batch')
  first.child.kill('SIGTERM')
  second.child.kill('SIGTERM')
  assert.deepEqual(await Promise.all([first.exited, second.exited]), [0, 0])
  assert.match(first.err(), /revoked: .*\(offsets committed\)/)
  const all = values()
  assert.equal(all.length, 300)
  assert.equal(new Set(all).size, 300, 'no record printed twice')
  assert.ok(second.out().length > 0, 'the second member read part of the second batch')

  await cohort(['produce', '--topic', 'cli-group', '--key-separator', ':'], 'late:last\n')
  const rerun = await cohort(['consume', '--topic', 'cli-group', '--group', 'cli-g', '--max-messages', '1', '--format', '%v\\n'])
  assert.equal(rerun, 'last\n', `the group resumes after its last commit\n--- first\n${first.err()}\n--- second\n${second.err()}`)
})
