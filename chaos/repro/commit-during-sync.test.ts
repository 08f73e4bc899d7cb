/**
 * Found by the chaos harness (docs/chaos.md): a cooperative member keeps processing, and committing,
 * while it rebalances. A commit sent between its JoinGroup answer and its SyncGroup answer is answered
 * REBALANCE_IN_PROGRESS (the group is CompletingRebalance, as in Kafka), and GroupMember.commit then
 * asks for a rejoin although it is already in that rebalance: once the SyncGroup completes the member
 * joins again, with changed ownership in its subscription, so the coordinator starts a new rebalance —
 * during which the next commits fail the same way. In a 3-minute Cohort-only cooperative chaos run,
 * about two thirds of the 116 rebalances the broker logged were started this way. (The Java client
 * refuses such a commit locally while it is rebalancing, without asking for another rejoin.)
 *
 *   node --import tsx --test chaos/repro/commit-during-sync.test.ts
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Harness, stickyishAssignor } from '../../test/unit/client/group-fake.ts'

test('a commit answered REBALANCE_IN_PROGRESS during the member’s own rebalance does not start another one', async () => {
  const h = new Harness()
  h.metadata.counts.set('t', 2)
  const a = h.member('a', { assignors: [stickyishAssignor] })
  a.member.subscribe(['t'])
  await h.until(() => h.coordinator.state === 'Stable' && a.member.state === 'stable' && a.member.rejoinReason === null, 'stable')
  const sync = a.transport.syncGroup.bind(a.transport)
  let release: () => void = () => {}
  const held = new Promise<void>((r) => (release = r))
  a.transport.syncGroup = async (args, rebalanceTimeoutMs) => {
    await held
    return sync(args, rebalanceTimeoutMs)
  }
  a.member.requestRejoin('the heartbeat answered REBALANCE_IN_PROGRESS')
  await h.until(() => h.coordinator.state === 'CompletingRebalance', 'JoinGroup answered, SyncGroup pending')
  const generation = h.coordinator.generation
  await assert.rejects(a.member.commit([{ topic: 't', partition: 0, offset: 3n }]))
  release()
  await h.tick(3000)
  assert.equal(h.coordinator.generation, generation, `no further rebalance (why: ${a.member.rejoinReason})`)
})
