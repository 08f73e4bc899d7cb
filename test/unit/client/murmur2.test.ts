/**
 * murmur2 must agree with the Java client bit for bit, or keyed records from
 * Cohort and from Java/librdkafka(murmur2_random)/kafka-python land on
 * different partitions.
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { test } from 'node:test'
import { keyPartition, murmur2, toPositive } from '../../../src/client/producer/murmur2.ts'

// apache/kafka clients/src/test/java/org/apache/kafka/common/utils/UtilsTest.java, testMurmur2.
const JAVA_VECTORS: [string, number][] = [
  ['21', -973932308],
  ['foobar', -790332482],
  ['a-little-bit-long-string', -985981536],
  ['a-little-bit-longer-string', -1486304829],
  ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
  ['abc', 479470107],
]

test('murmur2 matches the Java client on its own test vectors', () => {
  for (const [key, want] of JAVA_VECTORS) assert.equal(murmur2(Buffer.from(key, 'utf8')), want, key)
})

// kafka-python 2.0.2 `kafka.partitioner.default.murmur2` (returns the unsigned form):
// /usr/bin/python3 -c "from kafka.partitioner.default import murmur2; print(murmur2(b'key'))"
const KAFKA_PYTHON_VECTORS: [Buffer, number][] = [
  [Buffer.from('key'), 3215029929],
  [Buffer.alloc(0), 275646681],
  [Buffer.from([0xff, 0xfe, 0x00]), 3662153412],
  [Buffer.from('21'), 3321034988],
]

test('murmur2 matches kafka-python, including empty and non-ASCII keys', () => {
  for (const [key, want] of KAFKA_PYTHON_VECTORS) assert.equal(murmur2(key) >>> 0, want, key.toString('hex'))
})

test('toPositive masks the sign bit rather than negating', () => {
  assert.equal(toPositive(-973932308), -973932308 & 0x7fffffff)
  assert.equal(toPositive(-2147483648), 0)
  assert.equal(toPositive(5), 5)
  assert.equal(keyPartition(Buffer.from('21'), 7), (-973932308 & 0x7fffffff) % 7)
})

test('partitions agree with kafka-python for many keys and partition counts', (t) => {
  const keys = Array.from({ length: 300 }, (_, i) =>
    Buffer.from(i % 3 === 0 ? `key-${i}` : i % 3 === 1 ? `ключ-${i * 7919}` : 'x'.repeat(i % 41)),
  )
  const script = [
    'import sys, json',
    'from kafka.partitioner.default import murmur2',
    'keys = [bytes.fromhex(h) for h in json.load(sys.stdin)]',
    'print(json.dumps([murmur2(k) for k in keys]))',
  ].join('\n')
  const r = spawnSync('/usr/bin/python3', ['-c', script], { input: JSON.stringify(keys.map((k) => k.toString('hex'))), encoding: 'utf8' })
  if (r.status !== 0) {
    t.skip(`kafka-python is not available: ${r.stderr.trim().split('\n').pop()}`)
    return
  }
  const theirs = JSON.parse(r.stdout) as number[]
  keys.forEach((k, i) => {
    assert.equal(murmur2(k) >>> 0, theirs[i], k.toString('hex'))
    for (const n of [1, 3, 6, 12, 50]) {
      // kafka-python's DefaultPartitioner: (murmur2(key) & 0x7fffffff) % len(all_partitions)
      assert.equal(keyPartition(k, n), ((theirs[i] as number) & 0x7fffffff) % n)
    }
  })
})
