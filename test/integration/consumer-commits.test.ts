/**
 * Commit ordering against Cohort's broker: a synchronous commit issued after async ones is sent
 * after them, so an older async commit can never land last and overwrite a newer offset. The
 * group transport is the real one, wrapped to hold OffsetCommits until the test lets them go.
 */
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { Admin } from '../../src/admin/index.ts'
import { WireGroupTransport } from '../../src/client/group/transport.ts'
import type { GroupTransport, MemberIdentity, OffsetToCommit } from '../../src/client/group/types.ts'
import { Cluster, Consumer, silentLogger } from '../../src/client/index.ts'
import { startBroker, type TestBroker } from '../helpers/broker.ts'

let b: TestBroker
let admin: Admin

before(async () => {
  b = await startBroker({ 'log.flush.mode': 'os' })
  admin = new Admin({ bootstrapServers: b.bootstrap })
})

after(async () => {
  await admin?.close()
  await b?.stop()
})

/** The wire transport with OffsetCommits held in a queue; `sent` records their offsets in send order. */
function holdingTransport(cluster: Cluster, groupId: string) {
  const wire = new WireGroupTransport(cluster, groupId)
  const held: (() => void)[] = []
  const sent: bigint[] = []
  const transport: GroupTransport = {
    connect: () => wire.connect(),
    joinGroup: (a) => wire.joinGroup(a),
    syncGroup: (a, t) => wire.syncGroup(a, t),
    heartbeat: (m) => wire.heartbeat(m),
    leaveGroup: (a) => wire.leaveGroup(a),
    offsetFetch: (g, p, s) => wire.offsetFetch(g, p, s),
    coordinatorDead: (why) => wire.coordinatorDead(why),
    close: () => wire.close(),
    async offsetCommit(identity: MemberIdentity, offsets: readonly OffsetToCommit[]) {
      sent.push(offsets[0]?.offset ?? -1n)
      await new Promise<void>((resolve) => held.push(resolve))
      return wire.offsetCommit(identity, offsets)
    },
  }
  const release = async (): Promise<void> => {
    while (held.length === 0) await new Promise((r) => setTimeout(r, 5))
    held.shift()?.()
  }
  return { transport, sent, release, held }
}

test('a sync commit issued after async commits is sent after them: the newest offset is the one that stays', async () => {
  const topic = 'commit-order'
  await admin.createTopics([{ name: topic, partitions: 1 }])
  const cluster = new Cluster({ bootstrapServers: b.bootstrap })
  const { transport, sent, release } = holdingTransport(cluster, 'g-order')
  const consumer = new Consumer({ cluster, groupId: 'g-order', groupTransport: transport, logger: silentLogger, enableAutoCommit: false })
  try {
    consumer.assign([{ topic, partition: 0 }])
    const callbacks: (string | null)[] = []
    consumer.commitAsync([{ topic, partition: 0, offset: 5n }], (err) => callbacks.push(err ? err.message : 'a5'))
    consumer.commitAsync([{ topic, partition: 0, offset: 6n }], (err) => callbacks.push(err ? err.message : 'a6'))
    const sync = consumer.commit([{ topic, partition: 0, offset: 7n }])
    await release()
    await release()
    await release()
    await sync
    assert.deepEqual(sent, [5n, 6n, 7n])
    assert.deepEqual(callbacks, ['a5', 'a6'])
    const committed = await admin.listGroupOffsets('g-order')
    assert.deepEqual(
      committed.map((c) => c.offset),
      [7n],
    )
  } finally {
    await consumer.close()
    await cluster.close()
  }
})

test('a failed sync commit does not block the commits after it; a commitAsync callback that throws is logged, not fatal', async () => {
  const topic = 'commit-order-2'
  await admin.createTopics([{ name: topic, partitions: 1 }])
  const cluster = new Cluster({ bootstrapServers: b.bootstrap })
  const logged: string[] = []
  const consumer = new Consumer({
    cluster,
    groupId: 'g-order-2',
    enableAutoCommit: false,
    logger: (level, message) => {
      if (level === 'error' || level === 'warn') logged.push(message)
    },
  })
  try {
    consumer.assign([{ topic, partition: 0 }])
    await assert.rejects(consumer.commit([{ topic, partition: 1, offset: 1n }]), /not assigned/)
    consumer.commitAsync([{ topic, partition: 0, offset: 3n }], () => {
      throw new Error('callback bug')
    })
    await consumer.commit([{ topic, partition: 0, offset: 4n }])
    assert.deepEqual(
      (await admin.listGroupOffsets('g-order-2')).map((c) => c.offset),
      [4n],
    )
    assert.ok(
      logged.some((m) => m.includes('callback bug')),
      logged.join('\n'),
    )
  } finally {
    await consumer.close()
    await cluster.close()
  }
})
