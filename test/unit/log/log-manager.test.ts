import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import { test } from 'node:test'
import { InvalidConfigError } from '../../../src/broker/log/log-config.ts'
import { LogManager } from '../../../src/broker/log/log-manager.ts'
import { ErrorCode, KafkaError } from '../../../src/protocol/errors.ts'
import { ManualClock } from '../../../src/util/clock.ts'
import { batch, keyed, lines, readAll, tempDir } from './helpers.ts'

const open = (dir: string, clock = new ManualClock(), defaults = {}) => {
  const l = lines()
  return LogManager.open(dir, { 'log.flush.mode': 'os', ...defaults }, { clock, log: l.log }).then((m) => ({ m, seen: l.seen }))
}

test('create, add partitions, alter configs and delete survive a reopen', async () => {
  const dir = tempDir()
  const clock = new ManualClock()
  let { m } = await open(dir, clock)
  const a = await m.createTopic('orders', 3, { 'retention.ms': '1000' })
  assert.equal(a.partitions, 3)
  assert.match(a.id, /^[A-Za-z0-9_-]{22}$/)
  const b = await m.createTopic('audit', 1, {})
  await m.createTopic('doomed', 2, {})
  m.partition('orders', 2)?.append(batch(3, clock.now()))
  await m.addPartitions('audit', 4)
  await m.alterConfigs('orders', { 'cleanup.policy': 'compact', 'segment.bytes': '100000' })
  await m.deleteTopic('doomed')
  assert.equal(m.topic('doomed'), undefined)
  assert.equal(m.effectiveConfig('orders')['segment.bytes'], 100000)
  assert.equal(m.effectiveConfig('orders').compact, true)
  await m.close()
  assert.deepEqual(
    fs
      .readdirSync(dir)
      .filter((f) => f.startsWith('doomed'))
      .sort(),
    [],
  )

  ;({ m } = await open(dir, clock))
  assert.deepEqual(
    m
      .topics()
      .map((t) => [t.name, t.partitions, t.configs])
      .sort(),
    [
      ['audit', 4, {}],
      ['orders', 3, { 'cleanup.policy': 'compact', 'segment.bytes': '100000' }],
    ],
  )
  assert.equal(m.topic('orders')?.id, a.id)
  assert.equal(m.topicById(b.id)?.name, 'audit')
  assert.equal(m.topic('orders')?.createdMs, a.createdMs)
  assert.equal(m.partition('orders', 2)?.logEndOffset, 3n)
  assert.ok(m.partition('audit', 3))
  assert.equal(m.partition('audit', 4), undefined)
  assert.equal(m.partition('orders', 0)?.config['segment.bytes'], 100000)
  // The same name can come back as a new topic with a new id and empty partitions.
  const again = await m.createTopic('doomed', 1, {})
  assert.equal(m.partition('doomed', 0)?.logEndOffset, 0n)
  assert.notEqual(again.id, undefined)
  await m.close()
})

test('bad requests: duplicate topic, bad partition count, bad config, unsafe name', async () => {
  const { m } = await open(tempDir())
  await m.createTopic('t', 1, {})
  await assert.rejects(m.createTopic('t', 1, {}), (e: unknown) => e instanceof KafkaError && e.code === ErrorCode.TOPIC_ALREADY_EXISTS)
  await assert.rejects(m.createTopic('u', 0, {}), (e: unknown) => e instanceof KafkaError && e.code === ErrorCode.INVALID_PARTITIONS)
  await assert.rejects(m.createTopic('u', 1, { 'retention.ms': 'soon' }), (e: unknown) => e instanceof InvalidConfigError && e.code === 40)
  await assert.rejects(m.createTopic('u', 1, { 'no.such.config': '1' }), InvalidConfigError)
  assert.equal(m.topic('u'), undefined)
  for (const bad of ['..', '.', 'a/b', 'a\\b', '']) await assert.rejects(m.createTopic(bad, 1, {}), KafkaError)
  await assert.rejects(m.addPartitions('t', 1), (e: unknown) => e instanceof KafkaError && e.code === ErrorCode.INVALID_PARTITIONS)
  await assert.rejects(m.alterConfigs('t', { 'segment.bytes': '-5' }), InvalidConfigError)
  assert.throws(() => m.validateTopicConfigs({ 'cleanup.policy': 'shred' }), InvalidConfigError)
  await m.close()
})

test('a torn metadata log tail is cut with one log line and the rest replays', async () => {
  const dir = tempDir()
  let { m } = await open(dir)
  await m.createTopic('keep', 2, {})
  await m.createTopic('also', 1, {})
  await m.close()
  const file = path.join(dir, '__cluster_metadata', 'metadata.log')
  const good = fs.readFileSync(file)
  fs.appendFileSync(file, Buffer.from('0badc0de {"type":"topic","name":"half'))
  let seen: string[]
  ;({ m, seen } = await open(dir))
  assert.deepEqual(
    m
      .topics()
      .map((t) => t.name)
      .sort(),
    ['also', 'keep'],
  )
  assert.equal(seen.length, 1)
  assert.match(seen[0] as string, /torn last line/)
  assert.equal(fs.statSync(file).size, good.length)
  await m.createTopic('after', 1, {})
  await m.close()
  // A flipped byte inside the last complete line is caught by its CRC.
  const data = fs.readFileSync(file)
  data[data.length - 10] = (data[data.length - 10] as number) ^ 0x01
  fs.writeFileSync(file, data)
  ;({ m, seen } = await open(dir))
  assert.deepEqual(
    m
      .topics()
      .map((t) => t.name)
      .sort(),
    ['also', 'keep'],
  )
  assert.match(seen[0] as string, /CRC mismatch/)
  await m.close()
})

test('partition directories of a deletion interrupted by a crash are removed on open', async () => {
  const dir = tempDir()
  let { m } = await open(dir)
  const t = await m.createTopic('gone', 2, {})
  m.partition('gone', 0)?.append(batch(1, 0))
  await m.deleteTopic('gone')
  await m.close()
  // Simulate a crash after the metadata record but before the directories were renamed.
  fs.mkdirSync(path.join(dir, 'gone-0'))
  fs.writeFileSync(path.join(dir, 'gone-0', 'partition.metadata'), `version: 0\ntopic_id: ${t.id}\n`)
  fs.mkdirSync(path.join(dir, `gone-1.${Buffer.from(t.id, 'base64url').toString('hex')}-delete`))
  fs.mkdirSync(path.join(dir, 'stranger-0'))
  const reopened = await open(dir)
  m = reopened.m
  const seen = reopened.seen
  const left = fs.readdirSync(dir).sort()
  assert.ok(!left.some((f) => f.startsWith('gone')), left.join(','))
  assert.ok(left.includes('stranger-0'), 'a directory with no partition.metadata is left alone')
  assert.equal(seen.filter((s) => s.includes('stranger-0')).length, 1)
  await m.close()
})

test('tick rolls, enforces retention and compacts (rate-limited)', async () => {
  const dir = tempDir()
  const clock = new ManualClock()
  const { m } = await open(dir, clock, { 'log.cleaner.backoff.ms': 15_000 })
  await m.createTopic('ret', 1, { 'segment.ms': '1000', 'retention.ms': '5000' })
  await m.createTopic('cmp', 1, { 'segment.ms': '1000', 'cleanup.policy': 'compact' })
  const ret = m.partition('ret', 0)
  const cmp = m.partition('cmp', 0)
  assert.ok(ret && cmp)
  ret.append(batch(2, clock.now()))
  cmp.append(keyed([['k', 'v1']], clock.now()))
  clock.advance(1001)
  m.tick(clock.now())
  cmp.append(keyed([['k', 'v2']], clock.now()))
  clock.advance(1001)
  m.tick(clock.now())
  assert.equal(ret.segmentCount, 2)
  assert.equal(cmp.segmentCount, 3)
  await m.settled() // the post-roll syncs and recovery-point checkpoints
  m.tick(clock.now())
  await m.settled()
  assert.equal(readAll(cmp).length, 2, 'compaction ran at most once per log.cleaner.backoff.ms')
  clock.advance(15_000)
  m.tick(clock.now())
  await m.settled()
  assert.deepEqual(
    readAll(cmp).map(([o, k, v]) => [o, k, v]),
    [[1, 'k', 'v2']],
  )
  clock.advance(5000)
  m.tick(clock.now())
  assert.equal(ret.logStartOffset, 2n, 'the expired segment is gone')
  await m.close()
})
