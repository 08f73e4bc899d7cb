/**
 * `cohort broker --metrics-port 0` as a process: its ready line names the metrics URL, and after kcat
 * (librdkafka) produces and consumes as a group member, a scrape shows the requests, the partitions'
 * offsets and the group's committed offsets, lag and rebalances under kafka_exporter's names.
 */
import assert from 'node:assert/strict'
import { type ChildProcess, spawn } from 'node:child_process'
import { rmSync } from 'node:fs'
import { resolve } from 'node:path'
import { after, before, test } from 'node:test'
import { tempDir } from '../helpers/broker.ts'
import { runOk } from '../helpers/run.ts'

const BIN = resolve(import.meta.dirname, '../../bin/cohort.js')
const TOPIC = 'metrics-interop'
const GROUP = 'metrics-interop-group'
const COUNT = 1000

let child: ChildProcess
let dataDir: string
let bootstrap: string
let metricsUrl: string

before(async () => {
  dataDir = tempDir()
  child = spawn(
    process.execPath,
    [
      BIN,
      'broker',
      '--port',
      '0',
      '--data-dir',
      dataDir,
      '--metrics-port',
      '0',
      '--set',
      'group.initial.rebalance.delay.ms=0',
      '--set',
      'log.flush.mode=os',
      '--set',
      'num.partitions=3',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  )
  let err = ''
  child.stderr?.on('data', (d: Buffer) => {
    err += d.toString()
  })
  const line = await new Promise<string>((res, rej) => {
    let out = ''
    const timer = setTimeout(() => rej(new Error(`broker did not start: ${err}`)), 15_000)
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString()
      if (out.includes('\n')) {
        clearTimeout(timer)
        res(out.split('\n')[0] as string)
      }
    })
    child.once('exit', (code) => {
      clearTimeout(timer)
      rej(new Error(`broker exited with ${code}: ${err}`))
    })
  })
  const m = /listening on (\S+) \(data dir [^)]*\), metrics on (http:\/\/127\.0\.0\.1:\d+\/metrics)$/.exec(line)
  assert.ok(m, `ready line names the metrics URL: ${line}`)
  bootstrap = m[1] as string
  metricsUrl = m[2] as string
})

after(async () => {
  if (child && child.exitCode === null) {
    const exited = new Promise((res) => child.once('exit', res))
    child.kill('SIGTERM')
    await exited
  }
  if (dataDir) rmSync(dataDir, { recursive: true, force: true })
})

/** name{labels} → value, for the samples of the text exposition. */
async function scrape(): Promise<Map<string, number>> {
  const res = await fetch(metricsUrl)
  assert.equal(res.status, 200)
  const out = new Map<string, number>()
  for (const line of (await res.text()).split('\n')) {
    if (line === '' || line.startsWith('#')) continue
    const i = line.lastIndexOf(' ')
    out.set(line.slice(0, i), Number(line.slice(i + 1)))
  }
  return out
}

function get(samples: Map<string, number>, key: string): number {
  const v = samples.get(key)
  assert.ok(v !== undefined, `${key} is exposed`)
  return v
}

test('kcat produces and consumes in a group; the scrape shows requests, offsets, lag and rebalances', async () => {
  const lines = Array.from({ length: COUNT }, (_, i) => `k${i % 50}:v${i}`).join('\n')
  await runOk('kcat', ['-b', bootstrap, '-P', '-t', TOPIC, '-K:', '-X', 'linger.ms=5'], { input: `${lines}\n` })

  const produced = await scrape()
  const ends = [0, 1, 2].map((p) => get(produced, `kafka_topic_partition_current_offset{topic="${TOPIC}",partition="${p}"}`))
  assert.equal(
    ends.reduce((a, b) => a + b, 0),
    COUNT,
  )
  assert.equal(get(produced, `kafka_topic_partitions{topic="${TOPIC}"}`), 3)
  assert.ok(get(produced, 'cohort_broker_requests_total{api="Produce",error="NONE"}') >= 1)
  assert.ok(get(produced, 'cohort_broker_request_duration_seconds_count{api="Produce"}') >= 1)
  assert.ok(get(produced, 'cohort_broker_bytes_in_total{api="Produce"}') > COUNT * 4)

  // A group member reads everything, commits (auto-commit on close) and leaves.
  const consumed = await runOk('kcat', [
    '-b',
    bootstrap,
    '-G',
    GROUP,
    '-X',
    'auto.offset.reset=earliest',
    '-X',
    'session.timeout.ms=6000',
    '-e',
    '-q',
    '-f',
    '%p %o\\n',
    TOPIC,
  ])
  assert.equal(consumed.trim().split('\n').length, COUNT)

  const s = await scrape()
  for (const p of [0, 1, 2]) {
    const labels = `consumergroup="${GROUP}",topic="${TOPIC}",partition="${p}"`
    assert.equal(get(s, `kafka_consumergroup_current_offset{${labels}}`), ends[p])
    assert.equal(get(s, `kafka_consumergroup_lag{${labels}}`), 0)
  }
  assert.equal(get(s, `kafka_consumergroup_lag_sum{consumergroup="${GROUP}",topic="${TOPIC}"}`), 0)
  assert.equal(get(s, `kafka_consumergroup_current_offset_sum{consumergroup="${GROUP}",topic="${TOPIC}"}`), COUNT)
  assert.equal(get(s, `kafka_consumergroup_members{consumergroup="${GROUP}"}`), 0, 'the member left')
  assert.equal(get(s, `cohort_group_state{consumergroup="${GROUP}",state="Empty"}`), 1)
  assert.ok(get(s, `cohort_group_rebalances_total{consumergroup="${GROUP}",trigger="join"}`) >= 1)
  assert.equal(get(s, `cohort_group_rebalances_total{consumergroup="${GROUP}",trigger="leave"}`), 1)
  assert.ok(get(s, `cohort_group_generation{consumergroup="${GROUP}"}`) >= 2)
  assert.equal(
    get(s, `cohort_group_last_rebalance_partitions_moved{consumergroup="${GROUP}"}`),
    3,
    'the leave revoked all three partitions',
  )
  assert.ok(get(s, 'cohort_broker_requests_total{api="Fetch",error="NONE"}') >= 1)
  assert.ok(get(s, 'cohort_broker_requests_total{api="JoinGroup",error="NONE"}') >= 1)
  assert.ok(get(s, 'cohort_broker_requests_total{api="OffsetCommit",error="NONE"}') >= 1)
  assert.ok(get(s, 'cohort_broker_bytes_out_total{api="Fetch"}') > COUNT * 4)
})
