/**
 * Partition assignors: time to assign 1,000 members × 10,000 partitions.
 * Run: node --import tsx bench/assignors.ts [--json] [--members N] [--partitions N]
 *
 * Method: 10 topics of partitions/10 partitions each; member ids `consumer-<uuid-like>`, as Java
 * clients make them. For each assignor and scenario, 2 warm-up runs, then the median of 5 timed runs of
 * `assign()` (which includes building the result: sorted TopicPartition lists per member).
 *  - fresh: every member subscribes to all 10 topics, nobody owns anything (a new group).
 *  - rejoin −1: the previous assignment fed back (sticky: userData; cooperative-sticky: owned partitions
 *    + generation), one member gone: the common rebalance. For range/roundrobin it is the same as fresh
 *    with one member fewer.
 *  - mixed subscriptions: member i subscribes to 5 of the 10 topics (i mod 10 … i+4 mod 10), fresh;
 *    this takes the sticky assignors' general (heterogeneous) path.
 */
import { randomBytes } from 'node:crypto'
import { loadavg } from 'node:os'
import {
  type Assignor,
  cooperativeStickyAssignor,
  type MemberSubscription,
  rangeAssignor,
  roundRobinAssignor,
  stickyAssignor,
  type TopicPartition,
} from '../src/client/assignors/index.ts'

const args = process.argv.slice(2)
const JSON_OUT = args.includes('--json')
const argNum = (name: string, dflt: number): number => {
  const i = args.indexOf(name)
  return i >= 0 ? Number(args[i + 1]) : dflt
}
const MEMBERS = argNum('--members', 1000)
const PARTITIONS = argNum('--partitions', 10_000)
const TOPICS = 10
const WARMUP = 2
const RUNS = 5

const topics = Array.from({ length: TOPICS }, (_, i) => `topic-${i}`)
const partitionsPerTopic = new Map(topics.map((t) => [t, Math.floor(PARTITIONS / TOPICS)]))
const ids = Array.from({ length: MEMBERS }, () => `consumer-${randomBytes(16).toString('hex')}`)

function members(subscriptions: (i: number) => string[]): MemberSubscription[] {
  return ids.map((memberId, i) => ({
    memberId,
    groupInstanceId: null,
    topics: subscriptions(i),
    userData: null,
    ownedPartitions: [],
    generationId: -1,
    rackId: null,
  }))
}

/** The previous assignment as the next join's subscriptions, minus the first member. */
function rejoin(assignor: Assignor, previous: MemberSubscription[]): MemberSubscription[] {
  const result = assignor.assign(previous, partitionsPerTopic)
  const generation = 7
  return previous.slice(1).map((m) => {
    const owned: TopicPartition[] = result.assignments.get(m.memberId)!.partitions
    return {
      ...m,
      userData: assignor.subscriptionUserData(m.topics, owned, generation),
      ownedPartitions: assignor === stickyAssignor ? [] : owned,
      generationId: generation,
    }
  })
}

function time(assignor: Assignor, input: MemberSubscription[]): number {
  for (let i = 0; i < WARMUP; i++) assignor.assign(input, partitionsPerTopic)
  const samples: number[] = []
  for (let i = 0; i < RUNS; i++) {
    const t0 = process.hrtime.bigint()
    assignor.assign(input, partitionsPerTopic)
    samples.push(Number(process.hrtime.bigint() - t0) / 1e6)
  }
  samples.sort((a, b) => a - b)
  return samples[samples.length >> 1]
}

const all = members(() => topics)
const mixed = members((i) => Array.from({ length: 5 }, (_, k) => topics[(i + k) % TOPICS]))
const rows: { assignor: string; fresh: number; rejoin: number; mixed: number }[] = []
for (const assignor of [rangeAssignor, roundRobinAssignor, stickyAssignor, cooperativeStickyAssignor]) {
  rows.push({
    assignor: assignor.name,
    fresh: time(assignor, all),
    rejoin: time(assignor, rejoin(assignor, all)),
    mixed: time(assignor, mixed),
  })
}

if (JSON_OUT) {
  console.log(JSON.stringify({ members: MEMBERS, partitions: PARTITIONS, topics: TOPICS, loadavg: loadavg()[0], rows }))
} else {
  console.log(`assign ${MEMBERS} members × ${PARTITIONS} partitions (${TOPICS} topics), median of ${RUNS} runs, ms`)
  console.log(`${'assignor'.padEnd(20)}${'fresh'.padStart(10)}${'rejoin −1'.padStart(12)}${'mixed subs'.padStart(12)}`)
  for (const r of rows) {
    console.log(
      `${r.assignor.padEnd(20)}${r.fresh.toFixed(1).padStart(10)}${r.rejoin.toFixed(1).padStart(12)}${r.mixed.toFixed(1).padStart(12)}`,
    )
  }
  console.log(`load average ${loadavg()[0].toFixed(2)}`)
}
