/**
 * The rebalance history survives a restart of the broker: it is written to `__consumer_offsets` with the
 * group's other records and replayed from there. A group scales up and down, the broker restarts on the
 * same data directory: the admin client reads the same rebalances, the counts behind the Prometheus
 * counter carry on, and rebalances after the restart join the loaded ones.
 */
import assert from 'node:assert/strict'
import { rmSync } from 'node:fs'
import { after, test } from 'node:test'
import { Admin, type RebalanceHistory } from '../../src/admin/index.ts'
import { Consumer, silentLogger } from '../../src/client/index.ts'
import { startBroker, type TestBroker, tempDir } from '../helpers/broker.ts'

const dataDir = tempDir()
after(() => rmSync(dataDir, { recursive: true, force: true }))

const CONFIG = { 'log.dirs': dataDir, 'group.min.session.timeout.ms': 1000, 'group.initial.rebalance.delay.ms': 0 } as const

async function until(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 15000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

async function history(b: TestBroker, group: string): Promise<RebalanceHistory> {
  const admin = new Admin({ bootstrapServers: b.bootstrap })
  try {
    const h = (await admin.describeRebalanceHistory([group])).get(group)
    assert.ok(h)
    assert.equal(h.error, null)
    return h
  } finally {
    await admin.close()
  }
}

function member(b: TestBroker, id: string): Consumer {
  const c = new Consumer({
    bootstrapServers: b.bootstrap,
    groupId: 'g-restart',
    clientId: id,
    sessionTimeoutMs: 6000,
    heartbeatIntervalMs: 200,
    logger: silentLogger,
  })
  c.subscribe(['t-restart'])
  void c.run({ eachMessage: () => {} })
  return c
}

test('the rebalance history and its counts survive broker restarts', async () => {
  let b = await startBroker(CONFIG)
  const admin = new Admin({ bootstrapServers: b.bootstrap })
  await admin.createTopics([{ name: 't-restart', partitions: 4 }])
  await admin.close()
  const a = member(b, 'a')
  await until('a owns every partition', () => a.assignment().length > 0)
  const c = member(b, 'c')
  await until('a and c share the partitions', () => a.assignment().length > 0 && c.assignment().length > 0)
  await c.close()
  await until('a alone again', async () => (await history(b, 'g-restart')).rebalances.length === 3 && a.assignment().length > 0)
  await a.close()
  const before = await history(b, 'g-restart')
  assert.deepEqual(
    before.rebalances.map((r) => r.trigger),
    ['join', 'join', 'leave', 'leave'],
  )
  const counts = b.broker.context.groups.coordinator.rebalanceCounts('g-restart')
  await b.stop()

  b = await startBroker(CONFIG)
  const after1 = await history(b, 'g-restart')
  assert.deepEqual(after1.rebalances, before.rebalances)
  assert.deepEqual(b.broker.context.groups.coordinator.rebalanceCounts('g-restart'), counts)

  // One more rebalance after the restart joins the loaded ones.
  const d = member(b, 'd')
  await until('d owns the partitions', () => d.assignment().length > 0)
  await d.close()
  const grown = await history(b, 'g-restart')
  assert.deepEqual(grown.rebalances.slice(0, before.rebalances.length), before.rebalances)
  assert.equal(grown.rebalances.length, before.rebalances.length + 2)
  await b.stop()

  b = await startBroker(CONFIG)
  assert.deepEqual((await history(b, 'g-restart')).rebalances, grown.rebalances)
  await b.stop()
})
