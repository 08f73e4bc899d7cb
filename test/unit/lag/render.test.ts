/** The text view and the JSON form of a lag report. */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { LagMonitor } from '../../../src/lag/monitor.ts'
import { renderText, table, toJson } from '../../../src/lag/render.ts'
import { group, owner, row, snap } from './snapshots.ts'

const A = owner('svc-a')
const ESC = '\u001b'

function twoSnapshots() {
  const m = new LagMonitor()
  const g = (s: number) =>
    group('notifications', 'Stable', [row('task-created', 0, 850 + 10 * s, 1000 + 20 * s, A), row('task-created', 1, null, 7)])
  m.observe(snap(0, g(0), group('ghost', 'Dead', [])))
  return m.observe(snap(5, g(5), group('ghost', 'Dead', [])))
}

test('one block per group: a header, the figures, a table with `-` for what is unknown', () => {
  const text = renderText(twoSnapshots(), { color: false, lagThreshold: 10n })
  const lines = text.split('\n')
  assert.equal(lines[0], 'GROUP ghost  status NOTFOUND')
  assert.equal(lines[1], "Consumer group 'ghost' does not exist.")
  assert.equal(lines[2], '')
  assert.equal(lines[3], 'GROUP notifications  state Stable  assignor range  members 1  status WARN (complete 0%)')
  assert.match(
    lines[4] as string,
    /^ {2}lag 200 \(max 10\.0 s\) {2}consume 10\.0\/s {2}produce 20\.0\/s {2}consumers 1, recommended 2 \(KEDA, lagThreshold 10, 2 partitions\)$/,
  )
  assert.equal(lines[5], '')
  assert.match(
    lines[6] as string,
    /^TOPIC +PARTITION +COMMITTED +LOG-END +LAG +LAG-SECONDS +CONSUME\/S +PRODUCE\/S +STATUS +CONSUMER-ID +HOST +CLIENT-ID$/,
  )
  const cells = (l: string) => l.split(/ {2,}/)
  assert.deepEqual(cells(lines[7] as string), [
    'task-created',
    '0',
    '900',
    '1100',
    '200',
    '10.0',
    '10.0',
    '20.0',
    'WARN',
    'svc-a-1b2c',
    '/127.0.0.1',
    'svc-a',
  ])
  assert.deepEqual(cells(lines[8] as string), ['task-created', '1', '-', '7', '-', '-', '-', '0.0', '-', '-', '-', '-'])
  assert.ok(text.endsWith('\n'))
  assert.ok(!text.includes(`${ESC}[`), 'no colours')
})

test('columns line up: every cell starts where its header does', () => {
  const lines = table(
    ['A', 'LONGER', 'C'],
    [
      ['xxxxx', 'y', 'z'],
      ['x', 'yyyyyyyyy', 'zz'],
    ],
  )
  assert.deepEqual(lines, ['A      LONGER     C', 'xxxxx  y          z', 'x      yyyyyyyyy  zz'])
})

test('colours only when asked', () => {
  const text = renderText(twoSnapshots(), { color: true, lagThreshold: 10n })
  assert.ok(text.includes(`${ESC}[33mWARN  ${ESC}[0m`), 'status column, padded, in yellow')
  assert.ok(text.includes(`${ESC}[2mNOTFOUND${ESC}[0m`))
})

test('diagnoses are listed under their group; failed groups and an empty cluster say so', () => {
  const m = new LagMonitor()
  const r = m.observe(snap(0, group('g', 'Stable', [row('t', 0, 0, 0, A)], [owner('idle')])))
  const text = renderText(r, { color: false, lagThreshold: 10n, failures: [{ groupId: 'x', error: 'COORDINATOR_NOT_AVAILABLE' }] })
  assert.match(text, /\n {2}! idle members: 2 members for 1 partitions; 1 own nothing \(idle\)/)
  assert.match(text, /\n\nGROUP x {2}could not be read: COORDINATOR_NOT_AVAILABLE\n$/)
  assert.equal(renderText({ time: 0, groups: [] }, { color: false, lagThreshold: 10n }), 'No consumer groups.\n')
})

test('JSON: numbers for offsets, null for unknowns, ISO time, owners and members in full', () => {
  const report = twoSnapshots()
  const json = JSON.parse(JSON.stringify(toJson(report))) as {
    time: string
    groups: {
      groupId: string
      status: string
      totalLag: number
      recommendedConsumers: number
      members: { clientId: string; partitions: { topic: string; partition: number }[] }[]
      partitions: Record<string, unknown>[]
    }[]
    failures: unknown[]
  }
  assert.equal(json.time, new Date(report.time).toISOString())
  const g = json.groups[1]
  assert.equal(g?.groupId, 'notifications')
  assert.equal(g?.status, 'WARN')
  assert.equal(g?.totalLag, 200)
  assert.equal(g?.recommendedConsumers, 2)
  assert.deepEqual(g?.members[0]?.partitions, [{ topic: 'task-created', partition: 0 }])
  assert.deepEqual(g?.partitions[0], {
    topic: 'task-created',
    partition: 0,
    committed: 900,
    logStart: 0,
    logEnd: 1100,
    lag: 200,
    lagSeconds: 10,
    consumeRate: 10,
    produceRate: 20,
    status: 'WARN',
    complete: 0.2,
    owner: { memberId: 'svc-a-1b2c', groupInstanceId: null, clientId: 'svc-a', clientHost: '/127.0.0.1' },
  })
  assert.deepEqual(g?.partitions[1], {
    topic: 'task-created',
    partition: 1,
    committed: null,
    logStart: 0,
    logEnd: 7,
    lag: null,
    lagSeconds: null,
    consumeRate: null,
    produceRate: 0,
    status: null,
    complete: 0,
    owner: null,
  })
  assert.deepEqual(json.failures, [])
})
