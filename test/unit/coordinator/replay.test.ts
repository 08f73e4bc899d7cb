/** Replay: rebuilding state from `__consumer_offsets`, the state table, rebalance history, timers. */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { ClassicGroup } from '../../../src/broker/coordinator/classic-group.ts'
import {
  type CoordinatorRecord,
  encodeRecord,
  type GroupCoordinator,
  type GroupSnapshot,
  groupMetadataRecord,
  HISTORY_LIMIT,
  IllegalStateTransitionError,
  ManualTimer,
  offsetCommitRecord,
  SystemTimer,
  VALID_PREVIOUS_STATES,
} from '../../../src/broker/coordinator/index.ts'
import { ErrorCode } from '../../../src/protocol/errors.ts'
import { ManualClock } from '../../../src/util/clock.ts'
import { CoordinatorContext, GROUP, RANGE } from './context.ts'

/** The durable view of a coordinator: groups (without transient parked-request flags) and offsets. */
function durable(c: GroupCoordinator) {
  const groups = c
    .groupIds()
    .sort()
    .map((id) => {
      const g = c.group(id) as GroupSnapshot
      return {
        ...g,
        currentStateTimestamp: undefined,
        pendingMembers: [],
        pendingSyncMembers: [],
        members: g.members.map((m) => ({ ...m, awaitingJoin: false, awaitingSync: false, protocols: m.protocols.slice(0, 1) })),
      }
    })
  const offsets = c
    .groupIds()
    .sort()
    .map((id) => [id, [...c.committedOffsets(id)].map(([t, ps]) => [t, [...ps]])])
  return { groups, offsets }
}

describe('replay', () => {
  test('testRebuildingFromTheLogYieldsTheSameGroupsAndOffsets', async () => {
    const ctx = new CoordinatorContext()
    const dynamic = await ctx.stableGroup(3, { groupId: 'dynamic' })
    ctx.commit({
      groupId: 'dynamic',
      generationIdOrMemberEpoch: dynamic.generationId,
      memberId: dynamic.leader.memberId,
      offsets: [
        { topic: 'foo', partition: 0, offset: 10, metadata: 'm0', leaderEpoch: 3 },
        { topic: 'foo', partition: 1, offset: 11 },
      ],
    })
    const stat = await ctx.stableGroup(2, { groupId: 'static', instanceIds: ['a', 'b'] })
    ctx.join({ groupId: 'static', groupInstanceId: 'b' }) // replacement without rebalance
    ctx.commit({ groupId: 'simple', offsets: [{ topic: 'bar', partition: 0, offset: 5 }] })
    const emptied = await ctx.stableGroup(1, { groupId: 'emptied' })
    ctx.commit({
      groupId: 'emptied',
      generationIdOrMemberEpoch: 1,
      memberId: emptied.leader.memberId,
      offsets: [{ topic: 'foo', partition: 0, offset: 1 }],
    })
    ctx.leaveMembers([{ memberId: emptied.leader.memberId }], 'emptied')
    ctx.commit({ groupId: 'deleted', offsets: [{ topic: 'bar', partition: 0, offset: 1 }] })
    ctx.append(ctx.coordinator.deleteGroups({ groupsNames: ['deleted'] }, ctx.ctx(2)).records)
    ctx.commit({ groupId: 'simple', offsets: [{ topic: 'bar', partition: 0, offset: 6 }] }) // last value wins
    assert.equal(stat.members.length, 2)

    const rebuilt = ctx.rebuild()
    assert.deepEqual(durable(rebuilt.coordinator), durable(ctx.coordinator))
    assert.deepEqual(rebuilt.coordinator.groupIds().sort(), ['dynamic', 'emptied', 'simple', 'static'])
    assert.equal(rebuilt.coordinator.group('emptied')?.state, 'Empty')
    assert.equal(rebuilt.coordinator.group('emptied')?.generationId, 2)
    assert.equal(rebuilt.committed('simple', 'bar', 0), 6n)
    assert.equal(rebuilt.committed('deleted', 'bar', 0), -1n)
  })

  test('testLoadedStableGroupKeepsServingItsMembers', async () => {
    const ctx = new CoordinatorContext()
    const { leader, followers } = await ctx.stableGroup(2)
    const rebuilt = ctx.rebuild()
    assert.equal(rebuilt.state(), 'Stable')
    assert.equal(rebuilt.heartbeat({ memberId: followers[0]!.memberId, generationId: 1 }).errorCode, ErrorCode.NONE)
    const s = await rebuilt.answered(rebuilt.sync({ memberId: followers[0]!.memberId, generationId: 1 }))
    assert.equal(s.assignment.toString(), `assignment-${followers[0]!.memberId}`)
    // An unchanged follower rejoin needs no rebalance after a restart either.
    const j = await rebuilt.answered(rebuilt.join({ memberId: followers[0]!.memberId }))
    assert.equal(j.generationId, 1)
    assert.equal(j.leader, leader.memberId)
  })

  test('testLoadedMembersSessionsStartOnLoad', async () => {
    const ctx = new CoordinatorContext()
    const { leader } = await ctx.stableGroup(2)
    const rebuilt = ctx.rebuild()
    rebuilt.advance(9000)
    rebuilt.heartbeat({ memberId: leader.memberId, generationId: 1 })
    rebuilt.advance(1000)
    // The follower never came back after the restart: removed by its session timeout.
    assert.equal(rebuilt.state(), 'PreparingRebalance')
    assert.equal(rebuilt.coordinator.group(GROUP)?.members.length, 1)
  })

  test('testLoadingAGroupMetadataV0RecordUsesTheSessionTimeoutAsRebalanceTimeout', () => {
    const ctx = new CoordinatorContext()
    const rec = groupMetadataRecord(GROUP, {
      protocolType: 'consumer',
      generation: 4,
      protocol: 'range',
      leader: 'm',
      currentStateTimestamp: -1,
      members: [
        {
          memberId: 'm',
          groupInstanceId: null,
          clientId: 'c',
          clientHost: 'h',
          rebalanceTimeout: -1,
          sessionTimeout: 7000,
          subscription: RANGE().metadata,
          assignment: Buffer.from('a'),
        },
      ],
    })
    const enc = encodeRecord({ ...rec, valueVersion: 0 })
    ctx.coordinator.replayEncoded(enc.key, enc.value)
    const g = ctx.coordinator.group(GROUP)!
    assert.equal(g.state, 'Stable')
    assert.equal(g.generationId, 4)
    assert.equal(g.members[0]?.rebalanceTimeoutMs, 7000)
    assert.equal(g.members[0]?.groupInstanceId, null)
    assert.equal(g.currentStateTimestamp, null)
    assert.deepEqual(g.subscribedTopics, ['foo'])
  })

  test('testOffsetRecordForUnknownGroupCreatesASimpleGroup', () => {
    const ctx = new CoordinatorContext()
    ctx.coordinator.replay(
      offsetCommitRecord('g', 't', 0, { offset: 1n, leaderEpoch: -1, metadata: '', commitTimestamp: 1, expireTimestamp: -1 }),
    )
    assert.equal(ctx.coordinator.group('g')?.state, 'Empty')
    assert.equal(ctx.coordinator.group('g')?.protocolType, null)
  })

  test('testUnknownRecordTypesAreIgnored', () => {
    const ctx = new CoordinatorContext()
    ctx.coordinator.replayEncoded(Buffer.from('00030001 67'.replace(/ /g, ''), 'hex'), Buffer.from('0000', 'hex'))
    assert.deepEqual(ctx.coordinator.groupIds(), [])
  })
})

describe('state table', () => {
  test('testEveryTransitionIsCheckedAgainstTheAllowedPreviousStates', () => {
    const states = Object.keys(VALID_PREVIOUS_STATES) as (keyof typeof VALID_PREVIOUS_STATES)[]
    for (const from of states) {
      for (const to of states) {
        const g = new ClassicGroup({ groupId: 'g', state: from, nowMs: 0 })
        const allowed = VALID_PREVIOUS_STATES[to].includes(from)
        if (allowed) {
          g.transitionTo(to, 5)
          assert.equal(g.state, to)
          assert.equal(g.previousState, from)
          assert.equal(g.currentStateTimestamp, 5)
        } else {
          assert.throws(() => g.transitionTo(to, 5), IllegalStateTransitionError, `${from} -> ${to}`)
        }
      }
    }
    assert.deepEqual(VALID_PREVIOUS_STATES.Stable, ['CompletingRebalance'])
  })
})

describe('rebalance history', () => {
  test('testRebalanceHistoryRecordsTriggerMembersAndTimes', async () => {
    const ctx = new CoordinatorContext()
    const start = ctx.clock.now()
    const { leader, followers } = await ctx.stableGroup(2)
    const [first] = ctx.coordinator.history(GROUP)
    assert.equal(first?.generation, 1)
    assert.equal(first?.trigger, 'join')
    assert.deepEqual(first?.membersBefore, [])
    assert.deepEqual(first?.membersAfter, [leader.memberId, followers[0]!.memberId])
    assert.equal(first?.startedAt, start)
    assert.equal(first?.endedAt, start + 6000)
    assert.equal(first?.stableAt, start + 6000)
    ctx.leaveMembers([{ memberId: followers[0]!.memberId }])
    ctx.clock.advance(50)
    ctx.join({ memberId: leader.memberId })
    const second = ctx.coordinator.history(GROUP)[1]
    assert.equal(second?.trigger, 'leave')
    assert.equal(second?.endedAt, (second?.startedAt ?? 0) + 50)
    assert.equal(second?.stableAt, null)
    assert.deepEqual(second?.membersAfter, [leader.memberId])
  })

  test('testRebalanceHistoryIsBounded', async () => {
    const ctx = new CoordinatorContext()
    const { leader } = await ctx.stableGroup(1)
    await ctx.rejoinAlone(leader.memberId, HISTORY_LIMIT + 10)
    const h = ctx.coordinator.history(GROUP)
    assert.equal(h.length, HISTORY_LIMIT)
    assert.equal(h.at(-1)?.generation, HISTORY_LIMIT + 11)
  })
})

describe('timers', () => {
  test('testSystemTimerHandsEveryFiredResultToTheSinkEvenWithoutRecords', async () => {
    const got: CoordinatorRecord[][] = []
    const timer = new SystemTimer((records) => got.push(records))
    await new Promise<void>((resolve) => {
      timer.schedule('k', 1, () => {
        setImmediate(resolve)
        return { records: [] }
      })
    })
    // The broker drains what the timer changed besides records (the rebalance history) in the sink.
    assert.deepEqual(got, [[]])
    timer.close()
  })

  test('testManualTimerFiresInDeadlineOrderAndReplacesKeys', () => {
    const clock = new ManualClock(0)
    const timer = new ManualTimer(clock)
    const fired: string[] = []
    const at = (name: string) => () => {
      fired.push(`${name}@${clock.now()}`)
      return { records: [] as CoordinatorRecord[] }
    }
    timer.schedule('a', 30, at('a'))
    timer.schedule('b', 10, at('b'))
    timer.schedule('c', 10, at('c'))
    timer.schedule('a', 20, at('a2')) // replaces a
    timer.schedule('d', 5, () => {
      timer.schedule('e', 1, at('e')) // scheduled by a callback, due within this advance
      return { records: [] }
    })
    timer.cancel('c')
    timer.advance(25)
    assert.deepEqual(fired, ['e@6', 'b@10', 'a2@20'])
    assert.equal(clock.now(), 25)
    assert.equal(timer.size, 0)
  })

  test('testSystemTimerCancelAndClose', () => {
    const timer = new SystemTimer(() => {})
    timer.schedule('a', 60_000, () => ({ records: [] }))
    timer.schedule('a', 60_000, () => ({ records: [] }))
    timer.schedule('b', 60_000, () => ({ records: [] }))
    assert.equal(timer.size, 2)
    timer.cancel('a')
    assert.equal(timer.size, 1)
    timer.close()
    assert.equal(timer.size, 0)
  })
})
