/**
 * confluent-kafka (librdkafka 2.0.2) and kafka-python 2.0.2 against the
 * broker: each creates a topic, produces 100k keyed records and reads them
 * back complete and in order per partition.
 */

import { resolve } from 'node:path'
import { after, before, test } from 'node:test'
import { startBroker, type TestBroker } from '../helpers/broker.ts'
import { PYTHON, runOk } from '../helpers/run.ts'
import { assertCompleteInOrder, assertKeysSticky } from '../helpers/verify.ts'

const COUNT = 100_000
const PEERS = resolve(import.meta.dirname, 'peers')
let b: TestBroker

before(async () => {
  b = await startBroker({ 'log.flush.mode': 'os' })
})
after(async () => {
  await b.stop()
})

for (const codec of ['zstd', 'snappy']) {
  test(`confluent-kafka produces 100k keyed records (${codec}, idempotent, acks=all) and reads them back`, async () => {
    const out = await runOk(PYTHON, [resolve(PEERS, 'confluent_roundtrip.py'), b.bootstrap, `ck-${codec}`, String(COUNT), codec, '4'])
    const r = JSON.parse(out.trim().split('\n').pop() as string)
    assertCompleteInOrder(r.consumed, COUNT)
    assertKeysSticky(r.keyPartitions, 4)
  })
}

for (const codec of ['gzip', 'lz4']) {
  test(`kafka-python produces 100k keyed records (${codec}) and reads them back`, async () => {
    const out = await runOk(PYTHON, [resolve(PEERS, 'kafka_python_roundtrip.py'), b.bootstrap, `kp-${codec}`, String(COUNT), codec, '3'])
    const r = JSON.parse(out.trim().split('\n').pop() as string)
    assertCompleteInOrder(r.consumed, COUNT)
    assertKeysSticky(r.keyPartitions, 3)
  })
}
