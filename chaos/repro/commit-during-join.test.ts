/**
 * Found by the chaos harness (docs/chaos.md): a cooperative member whose OffsetCommit, sent in
 * generation N while its own JoinGroup for N+1 is in flight, is answered ILLEGAL_GENERATION before
 * the JoinGroup answer is read (they travel on two connections) declares its partitions lost, then is
 * assigned the same partitions: what it had not committed is processed again in a clean rebalance.
 * Fails until GroupMember.commit treats that answer as "rebalance in progress" while it is joining.
 *
 *   node --import tsx --test chaos/repro/commit-during-join.test.ts
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Harness, stickyishAssignor } from '../../test/unit/client/group-fake.ts'

test('a commit answered ILLEGAL_GENERATION while the member is joining the next generation does not lose its partitions', async () => {
  const h = new Harness()
  h.metadata.counts.set('t', 2)
  const a = h.member('a', { assignors: [stickyishAssignor] })
  a.member.subscribe(['t'])
  await h.until(() => h.coordinator.state === 'Stable' && a.member.state === 'stable' && a.member.rejoinReason === null, 'a stable')
  assert.equal(a.member.protocol, 'COOPERATIVE')
  const before = a.member.generationId
  // The JoinGroup answer is held back, as when the commit's answer is read first from the other connection.
  const join = a.transport.joinGroup.bind(a.transport)
  let release: () => void = () => {}
  const held = new Promise<void>((r) => (release = r))
  a.transport.joinGroup = async (args) => {
    const r = await join(args)
    await held
    return r
  }
  a.member.requestRejoin('the heartbeat answered REBALANCE_IN_PROGRESS')
  await h.until(() => h.coordinator.generation > before, 'the coordinator completed the join')
  assert.equal(a.member.state, 'joining')
  await assert.rejects(a.member.commit([{ topic: 't', partition: 0, offset: 5n }]))
  release()
  await h.tick(1000)
  assert.deepEqual(
    a.calls.filter((c) => c.kind === 'lost'),
    [],
    `no partition lost: ${JSON.stringify(a.calls)}`,
  )
})
