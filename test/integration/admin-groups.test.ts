/**
 * The admin client's group operations against Cohort's broker, in process: list, describe with
 * decoded assignments, committed offsets, altering offsets of an empty group (refused while it has
 * members), deleting offsets and groups, and group lag with owners.
 */
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { Admin } from '../../src/admin/index.ts'
import { Consumer, Producer } from '../../src/client/index.ts'
import { ErrorCode } from '../../src/protocol/errors.ts'
import { startBroker, type TestBroker } from '../helpers/broker.ts'

let b: TestBroker
let admin: Admin
let producer: Producer

before(async () => {
  b = await startBroker({ 'log.flush.mode': 'os', 'group.min.session.timeout.ms': 1000, 'group.initial.rebalance.delay.ms': 0 })
  admin = new Admin({ bootstrapServers: b.bootstrap })
  producer = new Producer({ bootstrapServers: b.bootstrap, lingerMs: 1 })
})

after(async () => {
  await producer?.close()
  await admin?.close()
  await b?.stop()
})

async function produce(topic: string, perPartition: number, partitions: number): Promise<void> {
  const sends: Promise<unknown>[] = []
  for (let p = 0; p < partitions; p++)
    for (let i = 0; i < perPartition; i++) sends.push(producer.send({ topic, partition: p, value: `${p}-${i}` }))
  await Promise.all(sends)
}

async function until(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 15000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

test('an Empty group with commits: listed, described without members, lag per committed partition; offsets can be altered and deleted', async () => {
  const topic = 'admin-groups-empty'
  await admin.createTopics([{ name: topic, partitions: 3 }])
  await produce(topic, 10, 3)
  const results = await admin.alterGroupOffsets('g-empty', [
    { topic, partition: 0, offset: 4n },
    { topic, partition: 1, offset: 10n },
  ])
  assert.deepEqual(
    results.map((r) => [r.partition, r.error]),
    [
      [0, null],
      [1, null],
    ],
  )

  const listed = await admin.listGroups()
  const g = listed.find((x) => x.groupId === 'g-empty')
  assert.deepEqual(g, { groupId: 'g-empty', protocolType: '', state: 'Empty' })
  assert.deepEqual((await admin.listGroups({ states: ['EMPTY'] })).map((x) => x.groupId).includes('g-empty'), true)
  assert.equal(
    (await admin.listGroups({ states: ['Stable'] })).some((x) => x.groupId === 'g-empty'),
    false,
  )

  const d = (await admin.describeGroups(['g-empty'])).get('g-empty')
  assert.equal(d?.state, 'Empty')
  assert.equal(d?.members.length, 0)
  assert.equal(d?.error, null)

  const committed = await admin.listGroupOffsets('g-empty')
  assert.deepEqual(
    committed.map((c) => [c.topic, c.partition, c.offset]),
    [
      [topic, 0, 4n],
      [topic, 1, 10n],
    ],
  )
  const some = await admin.listGroupOffsets('g-empty', [
    { topic, partition: 1 },
    { topic, partition: 2 },
  ])
  assert.deepEqual(
    some.map((c) => [c.partition, c.offset]),
    [
      [1, 10n],
      [2, -1n],
    ],
  )

  const lag = await admin.groupLag('g-empty')
  assert.equal(lag.state, 'Empty')
  assert.deepEqual(
    lag.partitions.map((p) => [p.partition, p.committed, p.logStart, p.logEnd, p.lag, p.owner]),
    [
      [0, 4n, 0n, 10n, 6n, null],
      [1, 10n, 0n, 10n, 0n, null],
    ],
  )

  const del = await admin.deleteGroupOffsets('g-empty', [{ topic, partition: 0 }])
  assert.equal(del.error, null)
  assert.deepEqual(
    del.partitions.map((p) => [p.partition, p.error]),
    [[0, null]],
  )
  assert.deepEqual(
    (await admin.listGroupOffsets('g-empty')).map((c) => c.partition),
    [1],
  )

  const deleted = await admin.deleteGroups(['g-empty', 'g-never-existed'])
  assert.equal(deleted.get('g-empty')?.error, null)
  assert.equal(deleted.get('g-never-existed')?.error?.code, ErrorCode.GROUP_ID_NOT_FOUND)
  assert.equal((await admin.describeGroups(['g-empty'])).get('g-empty')?.state, 'Dead')
})

test('a Stable group: members with decoded assignments and owners in the lag view; altering its offsets is refused', async () => {
  const topic = 'admin-groups-stable'
  await admin.createTopics([{ name: topic, partitions: 4 }])
  await produce(topic, 5, 4)
  const consumers = [0, 1].map(
    (i) =>
      new Consumer({
        bootstrapServers: b.bootstrap,
        groupId: 'g-stable',
        clientId: `member-${i}`,
        sessionTimeoutMs: 6000,
        heartbeatIntervalMs: 200,
        autoOffsetReset: 'earliest',
        enableAutoCommit: false,
      }),
  )
  try {
    const seen = new Set<string>()
    for (const c of consumers) {
      c.subscribe([topic])
      void c.run({
        eachBatch: async (batch) => {
          for (const m of batch.messages) seen.add(`${m.partition}:${m.offset}`)
          await c.commit()
        },
      })
    }
    await until('both members to own two partitions and consume everything', async () => {
      const d = (await admin.describeGroups(['g-stable'])).get('g-stable')
      return seen.size === 20 && d?.state === 'Stable' && d.members.length === 2 && d.members.every((m) => m.assignment.length === 2)
    })
    const d = (await admin.describeGroups(['g-stable'])).get('g-stable')
    assert.ok(d)
    assert.equal(d.protocolType, 'consumer')
    assert.equal(d.protocol, 'range')
    assert.deepEqual(d.members.map((m) => m.clientId).sort(), ['member-0', 'member-1'])
    assert.deepEqual(d.members.flatMap((m) => m.assignment.map((tp) => tp.partition)).sort(), [0, 1, 2, 3])
    for (const m of d.members) {
      assert.deepEqual(m.subscription, [topic])
      assert.match(m.clientHost, /^\/127\.0\.0\.1$/)
    }

    await until('commits for every partition', async () => (await admin.listGroupOffsets('g-stable')).every((c) => c.offset === 5n))
    const lag = await admin.groupLag('g-stable')
    assert.equal(lag.members.length, 2)
    for (const p of lag.partitions) {
      assert.equal(p.lag, 0n)
      const partition = p.partition
      const ownerId: string | undefined = d.members.find((m) => m.assignment.some((tp) => tp.partition === partition))?.memberId
      assert.equal(p.owner?.memberId, ownerId)
    }

    const refused = await admin.alterGroupOffsets('g-stable', [{ topic, partition: 0, offset: 0n }])
    assert.equal(refused[0]?.error?.code, ErrorCode.UNKNOWN_MEMBER_ID)
    const notEmpty = await admin.deleteGroups(['g-stable'])
    assert.equal(notEmpty.get('g-stable')?.error?.code, ErrorCode.NON_EMPTY_GROUP)
  } finally {
    await Promise.all(consumers.map((c) => c.close()))
  }
  assert.equal((await admin.describeGroups(['g-stable'])).get('g-stable')?.state, 'Empty')
})

test('removeGroupMembers takes a closed static member out at once instead of after its session timeout', async () => {
  const topic = 'admin-groups-static'
  await admin.createTopics([{ name: topic, partitions: 2 }])
  const c = new Consumer({
    bootstrapServers: b.bootstrap,
    groupId: 'g-static',
    groupInstanceId: 'worker-1',
    sessionTimeoutMs: 30_000,
    heartbeatIntervalMs: 200,
    enableAutoCommit: false,
  })
  c.subscribe([topic])
  void c.run({ eachMessage: async () => {} })
  await until('the static member to own both partitions', async () => {
    const d = (await admin.describeGroups(['g-static'])).get('g-static')
    return d?.state === 'Stable' && d.members[0]?.assignment.length === 2
  })
  await c.close()
  // A static member's close sends no LeaveGroup: the coordinator keeps it until the session times out.
  const kept = (await admin.describeGroups(['g-static'])).get('g-static')
  assert.deepEqual(
    kept?.members.map((m) => m.groupInstanceId),
    ['worker-1'],
  )
  const removed = await admin.removeGroupMembers('g-static', ['worker-1', 'worker-9'])
  assert.equal(removed[0]?.error, null)
  assert.equal(removed[1]?.error?.code, ErrorCode.UNKNOWN_MEMBER_ID)
  const after = (await admin.describeGroups(['g-static'])).get('g-static')
  assert.equal(after?.members.length, 0)
})
