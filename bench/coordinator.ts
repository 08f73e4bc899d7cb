/**
 * Group coordinator, in process (no sockets, no log): rebalance latency, commit throughput, memory.
 * Run: node --import tsx bench/coordinator.ts [--json]     (add --expose-gc for steadier memory numbers)
 *
 * Method
 *  - Rebalance: a Stable group of N members (range/consumer protocol, one subscribed topic of N×2 partitions).
 *    Every member rejoins with its member id (an eager rebalance); the clock starts just before the LAST
 *    JoinGroup (which completes the join phase and answers all N parked joins), then every follower sends
 *    SyncGroup (parked), the leader sends its assignment (round-robin of partitions over member ids, bytes
 *    prepared beforehand: that is client work), the GroupMetadata record is replayed, and the clock stops
 *    when all N SyncGroup responses have resolved. "with record codec" also encodes the record and replays
 *    the decoded copy, as the broker does. Median of R rounds after 3 warm-up rounds.
 *  - Commits: one member of a Stable group commits K partitions per request; handler + replay of the records
 *    (and, in the codec column, encode + decode of every record). Best of 5 rounds of ~300 ms.
 *  - Memory: heap delta (after GC) of many 1-member Stable groups, of members in 100-member groups, and of
 *    committed partitions, divided by the count. Timers are ManualTimer closures (the broker's SystemTimer
 *    holds a Node Timeout per member instead, which is larger).
 */
import { loadavg } from 'node:os'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import {
  type CoordinatorRecord,
  decodeRecord,
  encodeAssignment,
  encodeRecord,
  encodeSubscription,
  GroupCoordinator,
  type JoinGroupRequest,
  ManualTimer,
  type OffsetCommitRequest,
  type RequestContext,
  type SyncGroupRequest,
} from '../src/broker/coordinator/index.ts'
import { ManualClock } from '../src/util/clock.ts'

const JSON_OUT = process.argv.includes('--json')

function getGc(): (() => void) | undefined {
  const g = (globalThis as { gc?: () => void }).gc
  if (typeof g === 'function') return g
  try {
    setFlagsFromString('--expose-gc')
    return runInNewContext('gc') as () => void
  } catch {
    return undefined
  }
}
const gc = getGc()

const nowMs = () => Number(process.hrtime.bigint()) / 1e6
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)] as number
}

const ctx = (version: number): RequestContext => ({ version, clientId: 'bench', clientHost: '/127.0.0.1' })
const TOPIC = 'bench-topic'
const SUBSCRIPTION = encodeSubscription({ topics: [TOPIC] }, 1)

function newCoordinator(): { c: GroupCoordinator; clock: ManualClock; timer: ManualTimer } {
  const clock = new ManualClock(1_700_000_000_000)
  const timer = new ManualTimer(clock)
  let n = 0
  const c = new GroupCoordinator({ clock, timer, config: { initialRebalanceDelayMs: 0 }, generateUuid: () => `${++n}` })
  return { c, clock, timer }
}

function join(groupId: string, memberId: string): JoinGroupRequest {
  return {
    groupId,
    sessionTimeoutMs: 45_000,
    rebalanceTimeoutMs: 300_000,
    memberId,
    groupInstanceId: null,
    protocolType: 'consumer',
    protocols: [{ name: 'range', metadata: SUBSCRIPTION }],
    reason: null,
  }
}

function sync(
  groupId: string,
  memberId: string,
  generationId: number,
  assignments: SyncGroupRequest['assignments'] = [],
): SyncGroupRequest {
  return { groupId, generationId, memberId, groupInstanceId: null, protocolType: 'consumer', protocolName: 'range', assignments }
}

function apply(c: GroupCoordinator, records: CoordinatorRecord[], codec: boolean): void {
  for (const r of records) {
    if (codec) {
      const e = encodeRecord(r)
      c.replay(decodeRecord(e.key, e.value))
    } else {
      c.replay(r)
    }
  }
}

/** Round-robin of partitions 0..P-1 over the members (the leader's assignor; client work, done up front). */
function roundRobin(memberIds: string[], partitions: number): SyncGroupRequest['assignments'] {
  const byMember = new Map<string, number[]>(memberIds.map((id) => [id, []]))
  for (let p = 0; p < partitions; p++) (byMember.get(memberIds[p % memberIds.length] as string) as number[]).push(p)
  return memberIds.map((id) => ({
    memberId: id,
    assignment: encodeAssignment({ assignedPartitions: [{ topic: TOPIC, partitions: byMember.get(id) as number[] }] }),
  }))
}

/** Forms a Stable group of n members; returns the coordinator and member ids (leader first). */
async function formGroup(
  c: GroupCoordinator,
  timer: ManualTimer,
  groupId: string,
  n: number,
  codec = false,
): Promise<{ memberIds: string[]; generation: number }> {
  const joins = []
  for (let i = 0; i < n; i++) {
    const r = c.joinGroup(join(groupId, ''), ctx(3)) // v3: no member-id round trip
    apply(c, r.records, codec)
    joins.push(r.response)
  }
  apply(c, timer.advance(0), codec)
  const responses = await Promise.all(joins)
  const leader = responses.find((r) => r.leader === r.memberId)
  if (leader === undefined) throw new Error('no leader')
  const memberIds = [leader.memberId, ...responses.filter((r) => r !== leader).map((r) => r.memberId)]
  const syncs = memberIds.slice(1).map((id) => {
    const r = c.syncGroup(sync(groupId, id, leader.generationId), ctx(5))
    apply(c, r.records, codec)
    return r.response
  })
  const ls = c.syncGroup(sync(groupId, leader.memberId, leader.generationId, roundRobin(memberIds, n * 2)), ctx(5))
  apply(c, ls.records, codec)
  await Promise.all([...syncs, ls.response])
  return { memberIds, generation: leader.generationId }
}

/** One eager rebalance of a Stable group; returns ms from the last JoinGroup to all SyncGroup responses. */
async function rebalance(
  c: GroupCoordinator,
  groupId: string,
  memberIds: string[],
  assignments: SyncGroupRequest['assignments'],
  codec: boolean,
): Promise<number> {
  const joins = []
  for (let i = 0; i < memberIds.length - 1; i++) {
    const r = c.joinGroup(join(groupId, memberIds[i] as string), ctx(9))
    apply(c, r.records, codec)
    joins.push(r.response)
  }
  const t0 = nowMs()
  const last = c.joinGroup(join(groupId, memberIds[memberIds.length - 1] as string), ctx(9))
  apply(c, last.records, codec)
  joins.push(last.response)
  const responses = await Promise.all(joins)
  const generation = (responses[0] as { generationId: number }).generationId
  const leaderId = (responses[0] as { leader: string }).leader
  const syncs = []
  for (const id of memberIds) {
    if (id === leaderId) continue
    const r = c.syncGroup(sync(groupId, id, generation), ctx(5))
    apply(c, r.records, codec)
    syncs.push(r.response)
  }
  const ls = c.syncGroup(sync(groupId, leaderId, generation, assignments), ctx(5))
  apply(c, ls.records, codec)
  syncs.push(ls.response)
  const done = await Promise.all(syncs)
  const ms = nowMs() - t0
  if (done.some((r) => r.errorCode !== 0)) throw new Error('sync failed')
  return ms
}

interface RebalanceRow {
  members: number
  rounds: number
  medianMs: number
  p90Ms: number
  medianMsWithCodec: number
}

async function benchRebalance(n: number): Promise<RebalanceRow> {
  const rounds = n >= 1000 ? 21 : 51
  const results: Record<'plain' | 'codec', number[]> = { plain: [], codec: [] }
  for (const mode of ['plain', 'codec'] as const) {
    const { c, timer } = newCoordinator()
    const { memberIds } = await formGroup(c, timer, 'g', n, mode === 'codec')
    const assignments = roundRobin(memberIds, n * 2)
    for (let i = 0; i < 3; i++) await rebalance(c, 'g', memberIds, assignments, mode === 'codec')
    for (let i = 0; i < rounds; i++) results[mode].push(await rebalance(c, 'g', memberIds, assignments, mode === 'codec'))
  }
  const sorted = [...results.plain].sort((a, b) => a - b)
  return {
    members: n,
    rounds,
    medianMs: median(results.plain),
    p90Ms: sorted[Math.floor(sorted.length * 0.9)] as number,
    medianMsWithCodec: median(results.codec),
  }
}

interface CommitRow {
  partitionsPerRequest: number
  requestsPerSec: number
  partitionsPerSec: number
  partitionsPerSecWithCodec: number
}

async function benchCommits(k: number): Promise<CommitRow> {
  const rates: Record<'plain' | 'codec', number[]> = { plain: [], codec: [] }
  for (const mode of ['plain', 'codec'] as const) {
    const { c, timer } = newCoordinator()
    const { memberIds, generation } = await formGroup(c, timer, 'g', 1)
    let offset = 0n
    const request = (): OffsetCommitRequest => ({
      groupId: 'g',
      generationIdOrMemberEpoch: generation,
      memberId: memberIds[0] as string,
      groupInstanceId: null,
      retentionTimeMs: -1n,
      topics: [
        {
          name: TOPIC,
          partitions: Array.from({ length: k }, (_, p) => ({
            partitionIndex: p,
            committedOffset: ++offset,
            committedLeaderEpoch: 0,
            commitTimestamp: -1n,
            committedMetadata: '',
          })),
        },
      ],
    })
    const reqs = Array.from({ length: 64 }, request)
    for (let round = 0; round < 6; round++) {
      let n = 0
      const t0 = nowMs()
      while (nowMs() - t0 < 300) {
        for (const req of reqs) {
          const r = c.offsetCommit(req, ctx(9))
          apply(c, r.records, mode === 'codec')
          n++
        }
      }
      if (round > 0) rates[mode].push((n * 1000) / (nowMs() - t0))
    }
  }
  const best = Math.max(...rates.plain)
  return {
    partitionsPerRequest: k,
    requestsPerSec: best,
    partitionsPerSec: best * k,
    partitionsPerSecWithCodec: Math.max(...rates.codec) * k,
  }
}

function heapUsed(): number {
  gc?.()
  gc?.()
  return process.memoryUsage().heapUsed
}

interface MemoryRow {
  what: string
  count: number
  bytesEach: number
}

async function benchMemory(): Promise<MemoryRow[]> {
  const rows: MemoryRow[] = []
  {
    const G = 10_000
    const { c, timer } = newCoordinator()
    const before = heapUsed()
    for (let i = 0; i < G; i++) await formGroup(c, timer, `group-${i}`, 1)
    rows.push({ what: 'Stable group with 1 member', count: G, bytesEach: (heapUsed() - before) / G })
    if (c.stats().groups !== G) throw new Error('bad group count')
  }
  {
    const G = 100
    const N = 100
    const { c, timer } = newCoordinator()
    const before = heapUsed()
    for (let i = 0; i < G; i++) await formGroup(c, timer, `group-${i}`, N)
    rows.push({ what: `member of a ${N}-member Stable group`, count: G * N, bytesEach: (heapUsed() - before) / (G * N) })
  }
  {
    const P = 1_000_000
    const { c, timer } = newCoordinator()
    const { memberIds, generation } = await formGroup(c, timer, 'g', 1)
    const before = heapUsed()
    const perTopic = 1000
    for (let t = 0; t < P / perTopic; t++) {
      const r = c.offsetCommit(
        {
          groupId: 'g',
          generationIdOrMemberEpoch: generation,
          memberId: memberIds[0] as string,
          groupInstanceId: null,
          retentionTimeMs: -1n,
          topics: [
            {
              name: `topic-${t}`,
              partitions: Array.from({ length: perTopic }, (_, p) => ({
                partitionIndex: p,
                committedOffset: BigInt(1_000_000 + p),
                committedLeaderEpoch: 0,
                commitTimestamp: -1n,
                committedMetadata: '',
              })),
            },
          ],
        },
        ctx(9),
      )
      apply(c, r.records, false)
    }
    rows.push({
      what: 'committed partition (1,000 topics × 1,000 partitions, empty metadata)',
      count: P,
      bytesEach: (heapUsed() - before) / P,
    })
    if (c.stats().committedOffsets !== P) throw new Error('bad offset count')
  }
  return rows
}

const rebalanceRows: RebalanceRow[] = []
for (const n of [10, 100, 1000]) rebalanceRows.push(await benchRebalance(n))
const commitRows: CommitRow[] = []
for (const k of [1, 10, 100]) commitRows.push(await benchCommits(k))
const memoryRows = await benchMemory()

const fmt = (n: number) => Math.round(n).toLocaleString('en-US')
if (JSON_OUT) {
  console.log(
    JSON.stringify(
      { node: process.version, gc: gc !== undefined, rebalance: rebalanceRows, commits: commitRows, memory: memoryRows },
      null,
      2,
    ),
  )
} else {
  console.log(
    `node ${process.version}, ${process.arch}; gc ${gc ? 'available' : 'NOT available (memory numbers are noisy)'}; load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}\n`,
  )
  console.log('Rebalance: last JoinGroup → all SyncGroup responses (eager rejoin of every member)\n')
  console.log('| members | rounds | median ms | p90 ms | median ms with record encode/decode |')
  console.log('|---:|---:|---:|---:|---:|')
  for (const r of rebalanceRows) {
    console.log(
      `| ${fmt(r.members)} | ${r.rounds} | ${r.medianMs.toFixed(2)} | ${r.p90Ms.toFixed(2)} | ${r.medianMsWithCodec.toFixed(2)} |`,
    )
  }
  console.log('\nOffsetCommit through the coordinator (handler + replay)\n')
  console.log('| partitions / request | requests/s | partitions/s | partitions/s with record encode/decode |')
  console.log('|---:|---:|---:|---:|')
  for (const r of commitRows) {
    console.log(
      `| ${r.partitionsPerRequest} | ${fmt(r.requestsPerSec)} | ${fmt(r.partitionsPerSec)} | ${fmt(r.partitionsPerSecWithCodec)} |`,
    )
  }
  console.log('\nMemory (heap delta after GC / count)\n')
  console.log('| what | count | bytes each |')
  console.log('|---|---:|---:|')
  for (const r of memoryRows) console.log(`| ${r.what} | ${fmt(r.count)} | ${fmt(r.bytesEach)} |`)
}
