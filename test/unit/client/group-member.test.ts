/**
 * The group member's state machine against an in-memory coordinator on a manual clock: joins,
 * heartbeat errors per code, lost partitions, the poll watchdog, commits and their fencing,
 * cooperative two-phase rebalances, static membership. Nothing here sleeps.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { stickyAssignor } from '../../../src/client/assignors/sticky.ts'
import { decodeStickyUserData } from '../../../src/client/assignors/user-data.ts'
import { CommitFailedError, FencedInstanceError, GroupJoinError } from '../../../src/client/group/errors.ts'
import type { TopicPartition } from '../../../src/client/group/types.ts'
import { ErrorCode } from '../../../src/protocol/errors.ts'
import { dealAssignor, fmt, Harness, stickyishAssignor, subscriptionOf, type TestMember } from './group-fake.ts'

function owned(m: TestMember): string {
  return fmt(m.member.assignment())
}

async function stable(h: Harness, ...members: TestMember[]): Promise<void> {
  await h.until(
    () => h.coordinator.state === 'Stable' && members.every((m) => m.member.state === 'stable' && m.member.rejoinReason === null),
    `${members.map((m) => m.name).join(', ')} stable`,
  )
}

test('joins with MEMBER_ID_REQUIRED, leads, assigns every partition and heartbeats on its own timer', async () => {
  const h = new Harness()
  h.metadata.counts.set('t', 3)
  const a = h.member('a')
  a.member.subscribe(['t'])
  await stable(h, a)
  const joins = h.coordinator.callsOf('join', 'a')
  assert.equal(joins.length, 2, 'the first join is answered MEMBER_ID_REQUIRED, the second carries the id')
  assert.equal(joins[0]?.memberId, '')
  assert.equal(joins[1]?.memberId, a.member.memberId)
  assert.ok(a.member.isLeader)
  assert.equal(owned(a), 't-0,t-1,t-2')
  assert.deepEqual(a.calls, [{ kind: 'assigned', tps: 't-0,t-1,t-2' }])
  assert.ok(a.sink.events.includes('ready t-0,t-1,t-2'))
  assert.match(a.logs.find((l) => l.message.startsWith('rejoining'))?.message ?? '', /why=subscribed to topics t/)
  const before = h.coordinator.callsOf('heartbeat', 'a').length
  await h.tick(5000)
  const beats = h.coordinator.callsOf('heartbeat', 'a').length - before
  assert.ok(beats >= 4 && beats <= 6, `${beats} heartbeats in 5 s at a 1 s interval`)
})

test('eager: REBALANCE_IN_PROGRESS on heartbeat revokes everything (onRevoked) before rejoining', async () => {
  const h = new Harness()
  h.metadata.counts.set('t', 4)
  const a = h.member('a')
  a.member.subscribe(['t'])
  await stable(h, a)
  const b = h.member('b')
  b.member.subscribe(['t'])
  await stable(h, a, b)
  assert.deepEqual(
    a.calls.map((c) => c.kind),
    ['assigned', 'revoked', 'assigned'],
  )
  assert.equal(a.calls[1]?.tps, 't-0,t-1,t-2,t-3', 'eager revokes everything')
  assert.match(a.logs.find((l) => /REBALANCE_IN_PROGRESS/.test(l.message))?.message ?? '', /why=the group is rebalancing/)
  assert.equal(owned(a).split(',').length + owned(b).split(',').length, 4)
  assert.equal(new Set([...a.member.assignment(), ...b.member.assignment()].map((tp) => tp.partition)).size, 4)
  // The revoke happened before a's rejoin was sent.
  const revokeAt = a.sink.events.indexOf('revoke t-0,t-1,t-2,t-3')
  assert.ok(revokeAt >= 0)
})

test('cooperative: nothing is revoked until the new assignment; then only the moved partitions, and a follow-up rebalance', async () => {
  const h = new Harness()
  h.metadata.counts.set('t', 4)
  const cfg = { assignors: [stickyishAssignor] }
  const a = h.member('a', cfg)
  a.member.subscribe(['t'])
  await stable(h, a)
  assert.equal(a.member.protocol, 'COOPERATIVE')
  assert.equal(owned(a), 't-0,t-1,t-2,t-3')
  const b = h.member('b', cfg)
  b.member.subscribe(['t'])
  // Watch a while the first rebalance is under way: it keeps all four until SyncGroup.
  let sawJoinWhileOwning = false
  h.coordinator.intercept = (call) => {
    if (call.api === 'join' && call.client === 'a' && a.member.assignment().length === 4) sawJoinWhileOwning = true
    return undefined
  }
  await stable(h, a, b)
  assert.ok(sawJoinWhileOwning, 'a rejoined still owning its partitions')
  const revoked = a.calls.filter((c) => c.kind === 'revoked')
  assert.equal(revoked.length, 1, `a revoked once: ${JSON.stringify(a.calls)}`)
  assert.equal(revoked[0]?.tps.split(',').length, 2, 'only the two moved partitions')
  assert.deepEqual(
    b.calls.filter((c) => c.kind === 'revoked'),
    [],
    'b revoked nothing',
  )
  assert.equal(owned(b).split(',').length, 2, 'b got them in the follow-up rebalance')
  assert.equal(fmt([...a.member.assignment(), ...b.member.assignment()]), 't-0,t-1,t-2,t-3')
  assert.ok(a.logs.some((l) => /why=follow-up rebalance after revoking 2 partition\(s\)/.test(l.message)))
})

/** The subscription metadata of every JoinGroup the member sends (its first protocol's), in order. */
function sentSubscriptions(a: TestMember): Buffer[] {
  const seen: Buffer[] = []
  const join = a.transport.joinGroup.bind(a.transport)
  a.transport.joinGroup = (args) => {
    seen.push(args.protocols[0]?.metadata as Buffer)
    return join(args)
  }
  return seen
}

test('cooperative: the subscription sent carries owned partitions and the generation', async () => {
  const h = new Harness()
  h.metadata.counts.set('t', 2)
  const a = h.member('a', { assignors: [stickyishAssignor] })
  const seen = sentSubscriptions(a)
  a.member.subscribe(['t'])
  await stable(h, a)
  a.member.requestRejoin('test')
  await stable(h, a)
  const last = subscriptionOf(seen.at(-1) as Buffer)
  assert.deepEqual(last.ownedPartitions, [{ topic: 't', partitions: [0, 1] }])
  assert.equal(last.generationId, 1)
  assert.deepEqual(last.topics, ['t'])
})

test('eager sticky: the rejoin after revoking everything still sends the last assignment and its generation in userData', async () => {
  const h = new Harness()
  h.metadata.counts.set('t', 3)
  const a = h.member('a', { assignors: [stickyAssignor] })
  const seen = sentSubscriptions(a)
  a.member.subscribe(['t'])
  await stable(h, a)
  assert.equal(subscriptionOf(seen[0] as Buffer).userData, null, 'no userData before the first assignment')
  a.member.requestRejoin('test')
  await stable(h, a)
  assert.ok(a.sink.events.includes('revoke t-0,t-1,t-2'), a.sink.events.join('\n'))
  const last = subscriptionOf(seen.at(-1) as Buffer)
  assert.deepEqual(last.ownedPartitions, [], 'EAGER: nothing is owned at the join')
  const data = decodeStickyUserData(last.userData)
  assert.deepEqual(data.partitions.map((tp) => `${tp.topic}-${tp.partition}`).sort(), ['t-0', 't-1', 't-2'])
  assert.equal(data.generation, 1)
})

for (const code of [ErrorCode.UNKNOWN_MEMBER_ID, ErrorCode.ILLEGAL_GENERATION]) {
  test(`heartbeat ${code === ErrorCode.UNKNOWN_MEMBER_ID ? 'UNKNOWN_MEMBER_ID' : 'ILLEGAL_GENERATION'}: partitions lost (onLost, no onRevoked), then rejoin`, async () => {
    const h = new Harness()
    h.metadata.counts.set('t', 2)
    const a = h.member('a')
    a.member.subscribe(['t'])
    await stable(h, a)
    const id = a.member.memberId
    let once = true
    h.coordinator.intercept = (call) => {
      if (call.api === 'heartbeat' && once) {
        once = false
        // UNKNOWN_MEMBER_ID means the coordinator dropped the member (as a session expiry would).
        if (code === ErrorCode.UNKNOWN_MEMBER_ID) h.coordinator.expire(call.memberId)
        return code
      }
      return undefined
    }
    await h.tick(1100)
    assert.ok(a.sink.events.includes('lose t-0,t-1'), a.sink.events.join('\n'))
    await stable(h, a)
    assert.deepEqual(
      a.calls.map((c) => c.kind),
      ['assigned', 'lost', 'assigned'],
    )
    const rejoin = h.coordinator.callsOf('join', 'a').filter((c) => c.reason?.includes('heartbeat answered'))
    assert.equal(rejoin[0]?.memberId, code === ErrorCode.UNKNOWN_MEMBER_ID ? '' : id, 'UNKNOWN_MEMBER_ID resets the member id')
    await assert.rejects(
      a.member.commit([{ topic: 't', partition: 9, offset: 1n }]),
      (e: unknown) => e instanceof CommitFailedError && e.code === -1,
    )
  })
}

test('heartbeat FENCED_INSTANCE_ID is fatal: FencedInstanceError, partitions lost, no rejoin', async () => {
  const h = new Harness()
  h.metadata.counts.set('t', 2)
  const a = h.member('a', { groupInstanceId: 'i-1' })
  a.member.subscribe(['t'])
  await stable(h, a)
  h.coordinator.intercept = (call) => (call.api === 'heartbeat' ? ErrorCode.FENCED_INSTANCE_ID : undefined)
  await h.tick(1500)
  assert.equal(a.member.state, 'fatal')
  assert.ok(a.member.fatalError instanceof FencedInstanceError)
  assert.equal((a.member.fatalError as FencedInstanceError).code, ErrorCode.FENCED_INSTANCE_ID)
  assert.equal((a.member.fatalError as FencedInstanceError).retriable, false)
  assert.equal(a.sink.errors.length, 1)
  assert.ok(a.sink.errors[0]?.fatal && a.sink.errors[0].err instanceof FencedInstanceError)
  assert.ok(a.sink.events.includes('lose t-0,t-1'))
  await h.settle()
  assert.deepEqual(a.calls.at(-1), { kind: 'lost', tps: 't-0,t-1' })
  const joins = h.coordinator.callsOf('join', 'a').length
  await h.tick(5000)
  assert.equal(h.coordinator.callsOf('join', 'a').length, joins, 'no rejoin after being fenced')
  assert.throws(() => a.member.subscribe(['t']), FencedInstanceError)
  await assert.rejects(a.member.commit(), FencedInstanceError)
})

test('a second static member with the same instance id fences the first (FENCED_INSTANCE_ID on its heartbeat)', async () => {
  const h = new Harness()
  h.metadata.counts.set('t', 1)
  const a = h.member('a', { groupInstanceId: 'same' })
  a.member.subscribe(['t'])
  await stable(h, a)
  const b = h.member('b', { groupInstanceId: 'same' })
  b.member.subscribe(['t'])
  await h.until(() => a.member.state === 'fatal', 'a fenced')
  assert.ok(a.member.fatalError instanceof FencedInstanceError)
  await stable(h, b)
  assert.equal(owned(b), 't-0')
})

test('session timeout while the coordinator is unreachable: partitions lost, then rejoin when it is back', async () => {
  const h = new Harness()
  h.metadata.counts.set('t', 2)
  const a = h.member('a')
  a.member.subscribe(['t'])
  await stable(h, a)
  h.coordinator.unreachable = true
  await h.tick(9000)
  assert.equal(a.calls.filter((c) => c.kind === 'lost').length, 0, 'not lost before sessionTimeoutMs')
  await h.tick(1500)
  assert.ok(a.sink.events.includes('lose t-0,t-1'), 'lost once the session timeout passed')
  assert.ok(a.logs.some((l) => /no successful heartbeat for \d+ ms \(sessionTimeoutMs=10000\)/.test(l.message)))
  assert.ok(a.transport.dead.some((w) => /session timed out/.test(w)))
  await h.settle()
  assert.deepEqual(a.calls.at(-1), { kind: 'lost', tps: 't-0,t-1' })
  assert.equal(a.member.generationId, -1)
  // Back: the coordinator dropped the member meanwhile (session expiry); it joins afresh.
  h.coordinator.expire(a.member.memberId || [...h.coordinator.members.keys()][0] || '')
  h.coordinator.unreachable = false
  await stable(h, a)
  assert.equal(owned(a), 't-0,t-1')
  assert.deepEqual(a.calls.at(-1), { kind: 'assigned', tps: 't-0,t-1' })
})

test('poll watchdog: processing past max.poll.interval.ms logs one line, sends LeaveGroup, and rejoins when processing resumes', async () => {
  const h = new Harness()
  h.metadata.counts.set('t', 2)
  const a = h.member('a', { maxPollIntervalMs: 20_000, sessionTimeoutMs: 10_000 })
  a.member.subscribe(['t'])
  await stable(h, a)
  const memberId = a.member.memberId
  // The application got a message and is stuck processing it; heartbeats keep the session alive meanwhile.
  a.sink.busy = true
  a.member.pollEnded()
  await h.tick(19_000)
  assert.equal(h.coordinator.callsOf('leave', 'a').length, 0, 'heartbeats alone keep it in the group while within max.poll.interval.ms')
  assert.equal(a.member.state, 'stable')
  await h.tick(1500)
  const lines = a.logs.filter((l) => l.message.includes('max.poll.interval.ms=20000'))
  assert.equal(lines.length, 1)
  assert.match(
    lines[0]?.message ?? '',
    /^processing exceeded max\.poll\.interval\.ms=20000 ; leaving the group so its partitions can be reassigned/,
  )
  assert.equal(lines[0]?.level, 'warn')
  const leaves = h.coordinator.callsOf('leave', 'a')
  assert.equal(leaves.length, 1)
  assert.equal(leaves[0]?.memberId, memberId)
  assert.equal(a.member.state, 'left')
  assert.ok(a.sink.events.includes('lose t-0,t-1'), 'fetching stopped at once')
  assert.deepEqual(
    a.calls.map((c) => c.kind),
    ['assigned'],
    'onLost waits until processing returns',
  )
  await assert.rejects(
    a.member.commit([{ topic: 't', partition: 0, offset: 5n }]),
    (e: unknown) => e instanceof CommitFailedError && e.code === -1,
  )
  const joinsBefore = h.coordinator.callsOf('join', 'a').length
  await h.tick(5000)
  assert.equal(h.coordinator.callsOf('join', 'a').length, joinsBefore, 'no rejoin while still stuck')
  // Processing returns to poll.
  a.sink.busy = false
  a.member.pollStarted()
  await stable(h, a)
  assert.deepEqual(
    a.calls.map((c) => c.kind),
    ['assigned', 'lost', 'assigned'],
  )
  assert.ok(a.logs.some((l) => /why=processing resumed after exceeding max\.poll\.interval\.ms=20000/.test(l.message)))
})

test('commit inside onRevoked succeeds; a commit for a partition no longer owned is refused locally', async () => {
  const h = new Harness()
  h.metadata.counts.set('t', 2)
  let member: TestMember | null = null
  const committedInRevoke: string[] = []
  const a = h.member(
    'a',
    {},
    {
      revoked: async (tps: TopicPartition[]) => {
        const m = member as TestMember
        for (const tp of tps) m.sink.positionsOf.set(`${tp.topic}\u0000${tp.partition}`, 40n + BigInt(tp.partition))
        await m.member.commit()
        committedInRevoke.push(fmt(tps))
      },
    },
  )
  member = a
  a.member.subscribe(['t'])
  await stable(h, a)
  const b = h.member('b')
  b.member.subscribe(['t'])
  await stable(h, a, b)
  assert.deepEqual(committedInRevoke, ['t-0,t-1'])
  assert.equal(h.coordinator.committed('t', 0), 40n)
  assert.equal(h.coordinator.committed('t', 1), 41n)
  const gone = [0, 1].find((p) => !a.member.owns({ topic: 't', partition: p })) as number
  const sent = h.coordinator.callsOf('commit').length
  await assert.rejects(
    a.member.commit([{ topic: 't', partition: gone, offset: 99n }]),
    (e: unknown) => e instanceof CommitFailedError && e.code === -1 && e.retriable === false && /not owned/.test(e.message),
  )
  assert.equal(h.coordinator.callsOf('commit').length, sent, 'nothing was sent')
  assert.equal(h.coordinator.committed('t', gone), 40n + BigInt(gone))
})

test('commit errors: REBALANCE_IN_PROGRESS (retriable, rejoin), NOT_COORDINATOR (rediscover, retry), ILLEGAL_GENERATION (lost), OFFSET_METADATA_TOO_LARGE (fail)', async () => {
  const h = new Harness()
  h.metadata.counts.set('t', 1)
  const a = h.member('a')
  a.member.subscribe(['t'])
  await stable(h, a)
  const offsets = [{ topic: 't', partition: 0, offset: 7n }]

  let answer: number[] = [ErrorCode.NOT_COORDINATOR, ErrorCode.COORDINATOR_LOAD_IN_PROGRESS]
  h.coordinator.intercept = (c) => (c.api === 'commit' ? answer.shift() : undefined)
  const p = a.member.commit(offsets)
  await h.tick(2000)
  await p
  assert.equal(h.coordinator.committed('t', 0), 7n, 'retried until it went through')
  assert.ok(
    a.transport.dead.some((w) => /NOT_COORDINATOR/.test(w)),
    'NOT_COORDINATOR makes it look the coordinator up again',
  )

  answer = [ErrorCode.OFFSET_METADATA_TOO_LARGE]
  await assert.rejects(
    a.member.commit(offsets),
    (e: unknown) => e instanceof CommitFailedError && e.code === ErrorCode.OFFSET_METADATA_TOO_LARGE && !e.retriable,
  )
  assert.equal(a.member.rejoinReason, null)

  answer = [ErrorCode.REBALANCE_IN_PROGRESS]
  await assert.rejects(
    a.member.commit(offsets),
    (e: unknown) => e instanceof CommitFailedError && e.code === ErrorCode.REBALANCE_IN_PROGRESS && e.retriable,
  )
  assert.match(a.member.rejoinReason ?? a.logs.map((l) => l.message).join('\n'), /REBALANCE_IN_PROGRESS/)
  await stable(h, a)
  assert.deepEqual(
    a.calls.map((c) => c.kind),
    ['assigned', 'revoked', 'assigned'],
    'eager: a normal revoke, not a loss',
  )

  answer = [ErrorCode.ILLEGAL_GENERATION]
  await assert.rejects(a.member.commit(offsets), (e: unknown) => e instanceof CommitFailedError && e.code === ErrorCode.ILLEGAL_GENERATION)
  assert.ok(a.sink.events.includes('lose t-0'))
  await stable(h, a)
  assert.deepEqual(a.calls.map((c) => c.kind).slice(-2), ['lost', 'assigned'])
})

test('auto-commit commits positions on its interval and before an eager revocation', async () => {
  const h = new Harness()
  h.metadata.counts.set('t', 2)
  const a = h.member('a', { autoCommit: true, autoCommitIntervalMs: 5000 })
  a.member.subscribe(['t'])
  await stable(h, a)
  a.sink.positionsOf.set('t\u00000', 10n)
  await h.tick(5100)
  assert.equal(h.coordinator.committed('t', 0), 10n)
  a.sink.positionsOf.set('t\u00000', 12n)
  a.sink.positionsOf.set('t\u00001', 3n)
  const b = h.member('b')
  b.member.subscribe(['t'])
  await stable(h, a, b)
  assert.equal(h.coordinator.committed('t', 0), 12n, 'committed before the revoke')
  assert.equal(h.coordinator.committed('t', 1), 3n)
})

test('static member: close sends no LeaveGroup; close({ leaveGroup: true }) does; a dynamic member always does', async () => {
  const h = new Harness()
  h.metadata.counts.set('t', 1)
  const s = h.member('s', { groupInstanceId: 'static-1' })
  s.member.subscribe(['t'])
  await stable(h, s)
  await s.member.close()
  assert.equal(h.coordinator.callsOf('leave', 's').length, 0)
  assert.deepEqual(
    s.calls.map((c) => c.kind),
    ['assigned', 'revoked'],
    'onRevoked still runs on close',
  )
  assert.ok(s.logs.some((l) => /static member/.test(l.message)))
  assert.equal(h.coordinator.members.size, 1, 'the coordinator keeps the static member')
  h.coordinator.expire([...h.coordinator.members.keys()][0] as string) // its session timeout, later

  const s2 = h.member('s2', { groupInstanceId: 'static-2' })
  s2.member.subscribe(['t'])
  await h.until(() => s2.member.state === 'stable', 's2 stable')
  await s2.member.close({ leaveGroup: true })
  assert.equal(h.coordinator.callsOf('leave', 's2').length, 1)

  const d = h.member('d')
  d.member.subscribe(['t'])
  await h.until(() => d.member.state === 'stable', 'd stable')
  await d.member.close()
  assert.equal(h.coordinator.callsOf('leave', 'd').length, 1)
})

test('a static member restarting within the session timeout gets its partitions back without a rebalance', async () => {
  const h = new Harness()
  h.metadata.counts.set('t', 2)
  const a = h.member('a', { groupInstanceId: 'ia' })
  const b = h.member('b', { groupInstanceId: 'ib' })
  a.member.subscribe(['t'])
  b.member.subscribe(['t'])
  await stable(h, a, b)
  const gen = h.coordinator.generation
  const bOwned = owned(b)
  await b.member.close()
  const b2 = h.member('b2', { groupInstanceId: 'ib' })
  b2.member.subscribe(['t'])
  await stable(h, a, b2)
  assert.equal(h.coordinator.generation, gen, 'no new generation')
  assert.equal(owned(b2), bOwned)
  assert.deepEqual(
    a.calls.map((c) => c.kind),
    ['assigned'],
    'a saw nothing',
  )
})

test('a pattern subscription rejoins when the matching topics change; a partition count change rejoins too', async () => {
  const h = new Harness()
  h.metadata.counts.set('orders-eu', 1)
  h.metadata.counts.set('other', 1)
  const a = h.member('a')
  a.member.subscribe(/^orders-/)
  await stable(h, a)
  assert.equal(owned(a), 'orders-eu-0')
  h.metadata.counts.set('orders-us', 2)
  await h.tick(5100)
  await stable(h, a)
  assert.equal(owned(a), 'orders-eu-0,orders-us-0,orders-us-1')
  assert.ok(a.logs.some((l) => /why=topics matching \/\^orders-\/ changed: \+orders-us/.test(l.message)))
  h.metadata.counts.set('orders-eu', 3)
  await h.tick(5100)
  await stable(h, a)
  assert.ok(a.logs.some((l) => /why=partition count of topic orders-eu changed: 1 → 3/.test(l.message)))
  assert.equal(a.member.assignment().length, 5)
})

test('listener callbacks wait for in-flight processing (hold) before revoking', async () => {
  const h = new Harness()
  h.metadata.counts.set('t', 2)
  const a = h.member('a')
  a.member.subscribe(['t'])
  await stable(h, a)
  a.sink.busy = true
  const b = h.member('b')
  b.member.subscribe(['t'])
  await h.tick(3000)
  assert.deepEqual(
    a.calls.map((c) => c.kind),
    ['assigned'],
    'no onRevoked while the application is processing',
  )
  a.sink.busy = false
  await stable(h, a, b)
  assert.deepEqual(
    a.calls.map((c) => c.kind),
    ['assigned', 'revoked', 'assigned'],
  )
})

test('fatal join errors stop the member with a typed error; the eager protocol is chosen when any assignor lacks COOPERATIVE', async () => {
  const h = new Harness()
  h.metadata.counts.set('t', 1)
  const mixed = h.member('m', { assignors: [dealAssignor, stickyishAssignor] })
  assert.equal(mixed.member.protocol, 'EAGER')
  h.coordinator.intercept = (c) => (c.api === 'join' ? ErrorCode.INVALID_SESSION_TIMEOUT : undefined)
  mixed.member.subscribe(['t'])
  await h.until(() => mixed.member.state === 'fatal', 'fatal')
  assert.equal((mixed.member.fatalError as GroupJoinError).code, ErrorCode.INVALID_SESSION_TIMEOUT)
  assert.ok(mixed.member.fatalError instanceof GroupJoinError)
  assert.ok(mixed.sink.errors[0]?.fatal)
})

test('cooperative: a member that cannot reach the coordinator to rejoin loses its partitions after the session timeout', async () => {
  const h = new Harness()
  h.metadata.counts.set('t', 2)
  const a = h.member('a', { assignors: [stickyishAssignor] })
  a.member.subscribe(['t'])
  await stable(h, a)
  // A rebalance is asked for, and the coordinator goes away before the JoinGroup reaches it:
  // finding it again hangs (FindCoordinator retrying) and heartbeats fail.
  h.coordinator.unreachable = true
  h.coordinator.stallConnect = true
  a.member.requestRejoin('test: rebalance')
  await h.tick(5000)
  assert.equal(owned(a), 't-0,t-1', 'cooperative: still owned while within the session timeout')
  assert.equal(a.calls.filter((c) => c.kind === 'lost').length, 0)
  await h.tick(6000)
  assert.equal(owned(a), '', 'lost once sessionTimeoutMs passed without reaching the coordinator')
  assert.ok(a.sink.events.includes('lose t-0,t-1'))
  await h.settle()
  assert.deepEqual(a.calls.at(-1), { kind: 'lost', tps: 't-0,t-1' })
  assert.ok(h.coordinator.stalledConnects() > 0, 'it was still trying to reach the coordinator')
  h.coordinator.expire([...h.coordinator.members.keys()][0] as string)
  h.coordinator.unreachable = false
  h.coordinator.unstall()
  await stable(h, a)
  assert.equal(owned(a), 't-0,t-1')
})

test('unsubscribe revokes, leaves the group, and a later subscribe joins afresh', async () => {
  const h = new Harness()
  h.metadata.counts.set('t', 1)
  h.metadata.counts.set('u', 1)
  const a = h.member('a')
  a.member.subscribe(['t'])
  await stable(h, a)
  await a.member.unsubscribe()
  assert.deepEqual(
    a.calls.map((c) => c.kind),
    ['assigned', 'revoked'],
  )
  assert.equal(h.coordinator.callsOf('leave', 'a').length, 1)
  assert.equal(a.member.state, 'idle')
  await h.tick(5000)
  assert.equal(h.coordinator.callsOf('heartbeat', 'a').filter((c) => c.generationId === -1).length, 0)
  a.member.subscribe(['u'])
  await stable(h, a)
  assert.equal(owned(a), 'u-0')
})

// ---- found by the chaos harness (docs/chaos.md) --------------------------------------------------

test('a commit made while the member is joining waits for its rebalance, then commits in the new generation: nothing lost', async () => {
  const h = new Harness()
  h.metadata.counts.set('t', 2)
  const a = h.member('a', { assignors: [stickyishAssignor] })
  a.member.subscribe(['t'])
  await stable(h, a)
  assert.equal(a.member.protocol, 'COOPERATIVE')
  const before = a.member.generationId
  // The JoinGroup answer is held back, as when the commit's answer arrives first on the other connection.
  const release = holdJoinAnswers(a)
  a.member.requestRejoin('the heartbeat answered REBALANCE_IN_PROGRESS')
  await h.until(() => h.coordinator.generation > before, 'the coordinator completed the join')
  assert.equal(a.member.state, 'joining')
  let committed = false
  const commit = a.member.commit([{ topic: 't', partition: 0, offset: 5n }]).then(() => (committed = true))
  await h.tick(500)
  assert.equal(committed, false, 'the commit waits for the rebalance')
  assert.equal(h.coordinator.callsOf('commit', 'a').length, 0, 'nothing was sent between generations')
  release()
  await h.until(() => committed, 'the commit went through')
  await commit
  assert.equal(h.coordinator.committed('t', 0), 5n)
  assert.equal(h.coordinator.callsOf('commit', 'a').at(-1)?.generationId, h.coordinator.generation)
  assert.deepEqual(
    a.calls.filter((c) => c.kind === 'lost'),
    [],
  )
})

/**
 * A commit sent in the member's current generation whose answer (`code`) comes back after the member
 * began rejoining; its JoinGroup answer is held until then. Returns the generation before the rejoin.
 */
async function commitAnsweredWhileRejoining(code: number): Promise<{ h: Harness; a: TestMember; generation: number }> {
  const h = new Harness()
  h.metadata.counts.set('t', 2)
  const a = h.member('a', { assignors: [stickyishAssignor] })
  a.member.subscribe(['t'])
  await stable(h, a)
  const commitAnswer = held()
  h.coordinator.intercept = (call) => (call.api === 'commit' ? code : undefined)
  const commit = a.transport.offsetCommit.bind(a.transport)
  a.transport.offsetCommit = async (m, o) => {
    await commitAnswer.wait
    return commit(m, o)
  }
  const releaseJoin = holdJoinAnswers(a)
  const failed = assert.rejects(a.member.commit([{ topic: 't', partition: 0, offset: 5n }]), (e: unknown) => e instanceof CommitFailedError)
  await h.settle()
  const generation = h.coordinator.generation
  a.member.requestRejoin('the heartbeat answered REBALANCE_IN_PROGRESS')
  await h.until(() => a.member.state === 'joining', 'rejoining')
  commitAnswer.release()
  await failed
  releaseJoin()
  h.coordinator.intercept = null
  await stable(h, a)
  return { h, a, generation }
}

function held(): { wait: Promise<void>; release: () => void } {
  let release: () => void = () => {}
  const wait = new Promise<void>((r) => (release = r))
  return { wait, release }
}

/** Holds the member's JoinGroup answers (the coordinator has answered) until the returned function is called. */
function holdJoinAnswers(a: TestMember): () => void {
  const gate = held()
  const join = a.transport.joinGroup.bind(a.transport)
  a.transport.joinGroup = async (args) => {
    const r = await join(args)
    await gate.wait
    return r
  }
  return gate.release
}

/** Holds the member's SyncGroup requests (not yet sent to the coordinator) until the returned function is called. */
function holdSyncRequests(a: TestMember): () => void {
  const gate = held()
  const sync = a.transport.syncGroup.bind(a.transport)
  a.transport.syncGroup = async (args, rebalanceTimeoutMs) => {
    await gate.wait
    return sync(args, rebalanceTimeoutMs)
  }
  return gate.release
}

test('a commit in flight when the member starts rejoining, answered ILLEGAL_GENERATION, does not lose the partitions', async () => {
  const { a } = await commitAnsweredWhileRejoining(ErrorCode.ILLEGAL_GENERATION)
  assert.deepEqual(
    a.calls.filter((c) => c.kind === 'lost'),
    [],
    'no partition lost',
  )
})

test('a commit answered REBALANCE_IN_PROGRESS while the member is already rejoining does not start another rebalance', async () => {
  const { h, a, generation } = await commitAnsweredWhileRejoining(ErrorCode.REBALANCE_IN_PROGRESS)
  await h.tick(3000)
  assert.equal(h.coordinator.generation, generation + 1, `one rebalance, not two (rejoin reason: ${a.member.rejoinReason})`)
})

test('close() while the SyncGroup answer is pending lets it finish, so the commit in onRevoked is accepted', async () => {
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
  await stable(h, a)
  const release = holdSyncRequests(a)
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
