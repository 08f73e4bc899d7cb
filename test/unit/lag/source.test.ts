/** Reading a snapshot through a (fake) admin client: group selection, the partitions added for KEDA, failures. */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { type LagSource, readSnapshot } from '../../../src/lag/source.ts'
import type { GroupInput } from '../../../src/lag/types.ts'
import { group, owner, row } from './snapshots.ts'

function fakeSource(
  groups: Record<string, GroupInput | Error>,
  listed: { groupId: string; protocolType: string }[],
): LagSource & { asked: string[] } {
  const asked: string[] = []
  return {
    asked,
    listGroups: async () => listed.map((g) => ({ ...g, state: null })),
    groupLag: async (id) => {
      asked.push(id)
      const g = groups[id]
      if (g instanceof Error) throw g
      return g ?? group(id, 'Dead', [])
    },
    listTopics: async () =>
      new Map([
        ['t', { partitions: 3 }],
        ['u', { partitions: 1 }],
      ]),
    listOffsets: async (topic, _p, spec) =>
      new Map(
        Array.from({ length: topic === 't' ? 3 : 1 }, (_, i) => [i, { offset: spec === 'latest' ? BigInt(100 + i) : 0n, error: null }]),
      ),
  }
}

test('--all-groups reads consumer groups and offset-only groups, not other protocol types', async () => {
  const src = fakeSource({}, [
    { groupId: 'a', protocolType: 'consumer' },
    { groupId: 'b', protocolType: '' },
    { groupId: 'connect-x', protocolType: 'connect' },
  ])
  const r = await readSnapshot(src, 'all')
  assert.deepEqual(src.asked.sort(), ['a', 'b'])
  assert.deepEqual(
    r.snapshot.groups.map((g) => [g.groupId, g.protocolType]),
    [
      ['a', 'consumer'],
      ['b', ''],
    ],
  )
})

test('named groups are read even when not listed (a missing one comes back Dead)', async () => {
  const src = fakeSource({}, [])
  const r = await readSnapshot(src, { groups: ['nope'] })
  assert.equal(r.snapshot.groups[0]?.state, 'Dead')
})

test("partitions of the group's topics it neither committed nor owns are added without a commit", async () => {
  const A = owner('a')
  const src = fakeSource({ g: group('g', 'Stable', [row('t', 1, 40, 101, A)]) }, [{ groupId: 'g', protocolType: 'consumer' }])
  let clock = 1000
  const r = await readSnapshot(src, 'all', () => (clock += 7))
  const ps = r.snapshot.groups[0]?.partitions ?? []
  assert.deepEqual(
    ps.map((p) => [p.partition, p.committed, p.logEnd, p.owner?.clientId ?? null]),
    [
      [0, null, 100n, null],
      [1, 40n, 101n, 'a'],
      [2, null, 102n, null],
    ],
  )
  assert.equal(r.snapshot.time, 1014)
  assert.equal(r.pollMs, 7)
})

test('a group that cannot be read is reported and marked unreadable; the others still come through', async () => {
  const src = fakeSource({ bad: new Error('COORDINATOR_NOT_AVAILABLE'), good: group('good', 'Empty', [row('u', 0, 1, 1)]) }, [
    { groupId: 'bad', protocolType: 'consumer' },
    { groupId: 'good', protocolType: 'consumer' },
  ])
  const r = await readSnapshot(src, 'all')
  assert.deepEqual(r.failures, [{ groupId: 'bad', error: 'COORDINATOR_NOT_AVAILABLE' }])
  assert.deepEqual(r.snapshot.unreadable, ['bad'])
  assert.deepEqual(
    r.snapshot.groups.map((g) => g.groupId),
    ['good'],
  )
})
