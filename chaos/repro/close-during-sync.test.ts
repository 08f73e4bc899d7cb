/**
 * Found by the chaos harness (docs/chaos.md): a cooperative member closed between its JoinGroup
 * answer and its SyncGroup answer runs onRevoked while the group is CompletingRebalance, so the commit
 * there is answered REBALANCE_IN_PROGRESS (as Kafka does) and is lost: a static member's next
 * incarnation, or the next owner, repeats what it processed. Java fails the same way; waiting for the
 * in-flight SyncGroup before revoking (bounded by the close timeout) would let the commit through.
 *
 *   node --import tsx --test chaos/repro/close-during-sync.test.ts
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Harness, stickyishAssignor } from '../../test/unit/client/group-fake.ts'

test('close() while the SyncGroup answer is pending still commits in onRevoked', async () => {
  const h = new Harness()
  h.metadata.counts.set('t', 2)
  let commitError: unknown = null
  const a = h.member(
    'a',
    { assignors: [stickyishAssignor], groupInstanceId: 'a-1' },
    {
      revoked: async () => {
        try {
          await a.member.commit([{ topic: 't', partition: 0, offset: 9n }])
        } catch (err) {
          commitError = err
        }
      },
    },
  )
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
  const closing = a.member.close()
  await h.tick(500)
  release()
  await h.tick(500)
  await closing
  assert.equal(commitError, null, `the commit in onRevoked failed: ${String(commitError)}`)
  assert.equal(h.coordinator.committed('t', 0), 9n)
})
