import assert from 'node:assert/strict'
import { test } from 'node:test'
import {
  brokerTopicDefaults,
  DEFAULT_LOG_CONFIG,
  InvalidConfigError,
  parseCleanupPolicy,
  parseLogConfig,
  validateTopicConfigs,
} from '../../../src/broker/log/log-config.ts'

test("Kafka's defaults", () => {
  const c = DEFAULT_LOG_CONFIG
  assert.equal(c['segment.bytes'], 1073741824)
  assert.equal(c['segment.ms'], 604800000)
  assert.equal(c['retention.ms'], 604800000)
  assert.equal(c['retention.bytes'], -1)
  assert.equal(c['cleanup.policy'], 'delete')
  assert.equal(c['max.message.bytes'], 1048588)
  assert.equal(c['min.insync.replicas'], 1)
  assert.equal(c['message.timestamp.type'], 'CreateTime')
  assert.equal(c['index.interval.bytes'], 4096)
  assert.equal(c['delete.retention.ms'], 86400000)
  assert.equal(c['segment.index.bytes'], 10485760)
  assert.equal(c['flush.messages'], Number.POSITIVE_INFINITY)
  assert.equal(c['flush.ms'], Number.POSITIVE_INFINITY)
})

test('explicit configs override the base; the policy list is normalised', () => {
  const c = parseLogConfig({ 'retention.ms': '-1', 'cleanup.policy': 'delete, compact', 'message.timestamp.type': 'LogAppendTime' })
  assert.equal(c['retention.ms'], -1)
  assert.equal(c['cleanup.policy'], 'compact,delete')
  assert.equal(c['message.timestamp.type'], 'LogAppendTime')
  assert.equal(parseCleanupPolicy('compact'), 'compact')
  const base = parseLogConfig({ 'segment.bytes': '1000' })
  assert.equal(parseLogConfig({}, base)['segment.bytes'], 1000)
  // Accepted for compatibility though the log does not act on them.
  validateTopicConfigs({ 'unclean.leader.election.enable': 'false', 'min.cleanable.dirty.ratio': '0.3', 'compression.type': 'zstd' })
})

test('unknown keys and bad values are InvalidConfigError with Kafka code 40 and a message naming the key', () => {
  const cases: Record<string, string>[] = [
    { 'retention.msec': '1' },
    { 'retention.ms': 'ten' },
    { 'retention.ms': '-2' },
    { 'segment.bytes': '13' },
    { 'segment.bytes': '3000000000' },
    { 'cleanup.policy': 'delete,shred' },
    { 'cleanup.policy': '' },
    { 'message.timestamp.type': 'WallClock' },
    { 'min.insync.replicas': '0' },
    { preallocate: 'yes' },
    { 'min.cleanable.dirty.ratio': '1.5' },
    { 'retention.bytes': '99999999999999999999' },
  ]
  for (const c of cases) {
    const key = Object.keys(c)[0] as string
    assert.throws(
      () => validateTopicConfigs(c),
      (e: unknown) => e instanceof InvalidConfigError && e.code === 40 && e.key === key && e.message.includes(key),
      JSON.stringify(c),
    )
  }
})

test('broker log.* properties become topic defaults, ms over minutes over hours', () => {
  assert.deepEqual(brokerTopicDefaults({ 'log.retention.hours': '24', 'log.segment.bytes': '1000', 'num.partitions': '3' }), {
    'retention.ms': '86400000',
    'segment.bytes': '1000',
  })
  assert.deepEqual(brokerTopicDefaults({ 'log.retention.hours': '24', 'log.retention.ms': '5' }), { 'retention.ms': '5' })
  assert.deepEqual(brokerTopicDefaults({ 'log.retention.ms': '5', 'log.retention.hours': '24' }), { 'retention.ms': '5' })
  assert.deepEqual(brokerTopicDefaults({ 'log.retention.hours': '-1' }), { 'retention.ms': '-1' })
  assert.throws(() => brokerTopicDefaults({ 'log.cleanup.policy': 'nope' }), InvalidConfigError)
})
