/** kcat (librdkafka 2.0.2): metadata, auto-created topic, 100k keyed records produced with snappy and read back. */
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { startBroker, type TestBroker } from '../helpers/broker.ts'
import { runOk } from '../helpers/run.ts'
import { assertCompleteInOrder } from '../helpers/verify.ts'

const COUNT = 100_000
let b: TestBroker

before(async () => {
  b = await startBroker({ 'log.flush.mode': 'os', 'num.partitions': 3 })
})
after(async () => {
  await b.stop()
})

test('kcat -L lists the broker and its topics', async () => {
  const out = await runOk('kcat', ['-b', b.bootstrap, '-L', '-J'])
  const md = JSON.parse(out)
  assert.equal(md.brokers.length, 1)
  assert.equal(md.brokers[0].name, b.bootstrap)
})

test('kcat auto-creates a topic, produces 100k keyed records with snappy and consumes them back in order', async () => {
  const lines: string[] = []
  for (let i = 0; i < COUNT; i++) lines.push(`key-${i % 1000}:${i}`)
  await runOk(
    'kcat',
    ['-b', b.bootstrap, '-P', '-t', 'kcat-snappy', '-K:', '-z', 'snappy', '-X', 'linger.ms=5', '-X', 'enable.idempotence=true'],
    {
      input: `${lines.join('\n')}\n`,
    },
  )
  const out = await runOk('kcat', ['-b', b.bootstrap, '-C', '-t', 'kcat-snappy', '-o', 'beginning', '-e', '-q', '-f', '%p %k %s\\n'])
  const consumed: Record<string, number[]> = {}
  const keyPartition = new Map<string, string>()
  for (const line of out.trim().split('\n')) {
    const [p, k, v] = line.split(' ') as [string, string, string]
    ;(consumed[p] ??= []).push(Number(v))
    const prev = keyPartition.get(k)
    assert.ok(prev === undefined || prev === p, `key ${k} in partitions ${prev} and ${p}`)
    keyPartition.set(k, p)
  }
  assert.equal(Object.keys(consumed).length, 3, 'records spread over the 3 auto-created partitions')
  assertCompleteInOrder(consumed, COUNT)
})
