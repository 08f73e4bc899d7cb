/**
 * `cohort groups` end to end through the built bin (`node bin/cohort.js groups …`, after `npm run build`),
 * against an in-process broker with groups prepared in every state: Empty with commits (Cohort's client,
 * closed), Stable with owners and a committed partition nobody owns, static members with an idle one,
 * PreparingRebalance (raw JoinGroups: a second member joins while the first, which will not rejoin, holds
 * the rebalance open), and missing/deleted ones; then groups made by confluent-kafka (librdkafka) and kafkajs.
 *
 * stdout and stderr are compared byte for byte with Kafka's layouts. Only what varies between runs is
 * normalised: the UUID in broker-assigned member ids (replaced by a same-length placeholder, so column
 * widths are untouched), the broker's port in the state view, and the time stamp of logger lines.
 */
import assert from 'node:assert/strict'
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { after, before, test } from 'node:test'
import { Kafka, type Consumer as KafkaJsConsumer, logLevel } from 'kafkajs'
import { Admin } from '../../src/admin/index.ts'
import { Consumer, Producer, silentLogger } from '../../src/client/index.ts'
import { JoinGroup, SyncGroup } from '../../src/protocol/apis/index.ts'
import { encodeAssignment, encodeSubscription } from '../../src/protocol/consumer-protocol.ts'
import { startBroker, type TestBroker, tempDir } from '../helpers/broker.ts'
import { RawClient } from '../helpers/raw-client.ts'
import { PYTHON, run } from '../helpers/run.ts'

const BIN = resolve(import.meta.dirname, '../../bin/cohort.js')
const MEMBER = resolve(import.meta.dirname, 'peers', 'group_member.py')
/** Stands in for the UUID of a broker-assigned member id: same length, so widths do not change. */
const U = 'uuuuuuuu-uuuu-uuuu-uuuu-uuuuuuuuuuuu'
const WARN =
  'WARN: No action will be performed as the --execute option is missing.In a future major release, the default behavior of this command will be to prompt the user before executing the reset rather than doing a dry run. You should add the --dry-run option explicitly if you are scripting this command and want to keep the current default behavior without prompting.\n'

let b: TestBroker
let admin: Admin
const consumers: Consumer[] = []
const raws: RawClient[] = []
const dir = tempDir('cohort-groups-cli-')

before(async () => {
  b = await startBroker({ 'log.flush.mode': 'os', 'group.min.session.timeout.ms': 1000 })
  admin = new Admin({ bootstrapServers: b.bootstrap })
})
after(async () => {
  for (const r of raws) r.close()
  await Promise.all(consumers.map((c) => c.close().catch(() => {})))
  await admin.close()
  await b.stop()
})

// ---- helpers --------------------------------------------------------------------------------------

function normalise(s: string): string {
  return s
    .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, U)
    .replace(/^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}\] /gm, '[TIME] ')
}

/** `cohort groups <args> --bootstrap-server <broker>`: exit code, stdout, stderr (normalised). */
async function groups(...args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  const r = await run(process.execPath, [BIN, 'groups', ...args, '--bootstrap-server', b.bootstrap], { timeoutMs: 60_000 })
  return { code: r.code, out: normalise(r.stdout), err: normalise(r.stderr) }
}

async function waitUntil(cond: () => Promise<boolean> | boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await cond())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting until ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

async function produce(topic: string, perPartition: Record<number, number>): Promise<void> {
  const producer = new Producer({ bootstrapServers: b.bootstrap })
  try {
    for (const [p, n] of Object.entries(perPartition)) {
      await Promise.all(Array.from({ length: n }, (_, i) => producer.send({ topic, partition: Number(p), value: `${p}-${i}` })))
    }
  } finally {
    await producer.close()
  }
}

/** A Cohort group member that commits each record after "processing" it. */
function member(groupId: string, clientId: string, topics: string[], groupInstanceId: string | null = null): Consumer {
  const c = new Consumer({
    bootstrapServers: b.bootstrap,
    groupId,
    clientId,
    groupInstanceId,
    sessionTimeoutMs: 6000,
    heartbeatIntervalMs: 300,
    autoOffsetReset: 'earliest',
    enableAutoCommit: false,
    logger: silentLogger,
  })
  consumers.push(c)
  c.subscribe(topics)
  void (async () => {
    try {
      for await (const m of c.messages()) await c.commitMessage(m) // with the record's leader epoch, as Java's consumer commits
    } catch {
      // closed
    }
  })()
  return c
}

async function stableWith(groupId: string, members: number, owners = members): Promise<void> {
  await waitUntil(async () => {
    const d = (await admin.describeGroups([groupId])).get(groupId)
    return d?.state === 'Stable' && d.members.length === members && d.members.filter((m) => m.assignment.length > 0).length === owners
  }, `${groupId} is Stable with ${members} members`)
}

async function committed(groupId: string): Promise<Record<string, number>> {
  const out: Record<string, number> = {}
  for (const c of await admin.listGroupOffsets(groupId)) out[`${c.topic}-${c.partition}`] = Number(c.offset)
  return out
}

async function committedAre(groupId: string, expected: Record<string, number>): Promise<void> {
  await waitUntil(
    async () => JSON.stringify(await committed(groupId)) === JSON.stringify(expected),
    `${groupId} committed ${JSON.stringify(expected)}`,
  )
}

const port = () => b.bootstrap.split(':')[1] as string
const coordinatorCell = () => `127.0.0.1:${port()}  (1)`.padEnd(25)

// ---- groups in every state ------------------------------------------------------------------------

test('describe, list: Empty with commits, Stable with owners and an unowned partition, static members, PreparingRebalance, missing', async () => {
  await admin.createTopics([
    { name: 'cli-orders', partitions: 3 },
    { name: 'cli-audit', partitions: 1 },
  ])
  await produce('cli-orders', { 0: 10, 1: 10, 2: 10 })
  await produce('cli-audit', { 0: 4 })

  // Empty with commits: a Cohort consumer reads everything, commits, and leaves; then partition 0 grows by 5.
  const e = member('g-empty', 'empty-app', ['cli-orders'])
  await committedAre('g-empty', { 'cli-orders-0': 10, 'cli-orders-1': 10, 'cli-orders-2': 10 })
  await e.close()
  await produce('cli-orders', { 0: 5 })

  // Stable with owners: an offset on cli-audit committed while the group was empty (nobody owns it), then two
  // members; range gives stable-a (lower member id) partitions 0 and 1, stable-b partition 2.
  await admin.alterGroupOffsets('g-stable', [{ topic: 'cli-audit', partition: 0, offset: 3n }])
  member('g-stable', 'stable-a', ['cli-orders'])
  await stableWith('g-stable', 1)
  member('g-stable', 'stable-b', ['cli-orders'])
  await stableWith('g-stable', 2)
  await committedAre('g-stable', { 'cli-audit-0': 3, 'cli-orders-0': 15, 'cli-orders-1': 10, 'cli-orders-2': 10 })

  // Static members on a one-partition topic: one owns it, the other is idle. Their member ids start with the instance id.
  member('g-static', 'static-a', ['cli-audit'], 'inst-a')
  await stableWith('g-static', 1)
  member('g-static', 'static-b', ['cli-audit'], 'inst-b')
  await stableWith('g-static', 2, 1)

  // PreparingRebalance: a raw member leads generation 1 and takes cli-orders-0; a second one joins; the first
  // never rejoins (its session is 10 minutes), so the group waits in PreparingRebalance for the rest of the file.
  await admin.alterGroupOffsets('g-rebalancing', [{ topic: 'cli-orders', partition: 0, offset: 4n }])
  const join = (c: RawClient, memberId: string) =>
    c.request(JoinGroup, 5, {
      groupId: 'g-rebalancing',
      sessionTimeoutMs: 600_000,
      rebalanceTimeoutMs: 600_000,
      memberId,
      groupInstanceId: null,
      protocolType: 'consumer',
      protocols: [{ name: 'range', metadata: encodeSubscription({ topics: ['cli-orders'] }) }],
    })
  const r1 = await RawClient.connect(b.bootstrap)
  raws.push(r1)
  const first = await join(r1, (await join(r1, '')).memberId)
  assert.equal(first.errorCode, 0)
  const synced = await r1.request(SyncGroup, 3, {
    groupId: 'g-rebalancing',
    generationId: first.generationId,
    memberId: first.memberId,
    groupInstanceId: null,
    assignments: [
      { memberId: first.memberId, assignment: encodeAssignment({ assignedPartitions: [{ topic: 'cli-orders', partitions: [0] }] }) },
    ],
  })
  assert.equal(synced.errorCode, 0)
  const r2 = await RawClient.connect(b.bootstrap)
  raws.push(r2)
  void join(r2, (await join(r2, '')).memberId).catch(() => {}) // answered only when the rebalance completes
  await waitUntil(async () => {
    const d = (await admin.describeGroups(['g-rebalancing'])).get('g-rebalancing')
    return d?.state === 'PreparingRebalance' && d.members.length === 2
  }, 'g-rebalancing is PreparingRebalance with 2 members')

  assert.deepEqual(await groups('--list'), { code: 0, out: 'g-empty\ng-rebalancing\ng-stable\ng-static\n', err: '' })
  assert.deepEqual(await groups('--list', '--state'), {
    code: 0,
    out:
      'GROUP                     STATE               \n' +
      'g-empty                   Empty               \n' +
      'g-rebalancing             PreparingRebalance  \n' +
      'g-stable                  Stable              \n' +
      'g-static                  Stable              \n',
    err: '',
  })
  assert.deepEqual(await groups('--list', '--state', 'stable,empty', '--type'), {
    code: 0,
    out:
      'GROUP                     TYPE                 STATE               \n' +
      'g-empty                   Classic              Empty               \n' +
      'g-stable                  Classic              Stable              \n' +
      'g-static                  Classic              Stable              \n',
    err: '',
  })

  // Offsets view, several groups in one call: sorted by id; Empty's notice and the missing group's error.
  assert.deepEqual(await groups('--describe', '--group', 'g-stable', '--group', 'g-missing', '--group', 'g-empty'), {
    code: 0,
    out:
      '\n' +
      'GROUP           TOPIC           PARTITION  CURRENT-OFFSET  LOG-END-OFFSET  LAG             CONSUMER-ID     HOST            CLIENT-ID\n' +
      'g-empty         cli-orders      0          10              15              5               -               -               -\n' +
      'g-empty         cli-orders      1          10              10              0               -               -               -\n' +
      'g-empty         cli-orders      2          10              10              0               -               -               -\n' +
      "\nError: Consumer group 'g-missing' does not exist.\n" +
      '\n' +
      'GROUP           TOPIC           PARTITION  CURRENT-OFFSET  LOG-END-OFFSET  LAG             CONSUMER-ID                                   HOST            CLIENT-ID\n' +
      `g-stable        cli-orders      0          15              15              0               stable-a-${U} /127.0.0.1      stable-a\n` +
      `g-stable        cli-orders      1          10              10              0               stable-a-${U} /127.0.0.1      stable-a\n` +
      `g-stable        cli-orders      2          10              10              0               stable-b-${U} /127.0.0.1      stable-b\n` +
      'g-stable        cli-audit       0          3               4               1               -                                             -               -\n',
    err: "\nConsumer group 'g-empty' has no active members.\n",
  })
  assert.deepEqual(await groups('--describe', '--group', 'g-stable', '--offsets', '--verbose'), {
    code: 0,
    out:
      '\n' +
      'GROUP           TOPIC           PARTITION  LEADER-EPOCH    CURRENT-OFFSET  LOG-END-OFFSET  LAG             CONSUMER-ID                                   HOST            CLIENT-ID\n' +
      `g-stable        cli-orders      0          0               15              15              0               stable-a-${U} /127.0.0.1      stable-a\n` +
      `g-stable        cli-orders      1          0               10              10              0               stable-a-${U} /127.0.0.1      stable-a\n` +
      `g-stable        cli-orders      2          0               10              10              0               stable-b-${U} /127.0.0.1      stable-b\n` +
      'g-stable        cli-audit       0          -               3               4               1               -                                             -               -\n',
    err: '',
  })
  assert.deepEqual(await groups('--describe', '--group', 'g-rebalancing'), {
    code: 0,
    out:
      '\n' +
      'GROUP           TOPIC           PARTITION  CURRENT-OFFSET  LOG-END-OFFSET  LAG             CONSUMER-ID                                   HOST            CLIENT-ID\n' +
      `g-rebalancing   cli-orders      0          4               15              11              raw-test-${U} /127.0.0.1      raw-test\n`,
    err: "\nWarning: Consumer group 'g-rebalancing' is rebalancing.\n",
  })

  // Members view, with and without --verbose; GROUP-INSTANCE-ID for static members; the idle member has a row.
  assert.deepEqual(await groups('--describe', '--group', 'g-stable', '--members'), {
    code: 0,
    out:
      '\n' +
      'GROUP           CONSUMER-ID                                   HOST            CLIENT-ID       #PARTITIONS     \n' +
      `g-stable        stable-a-${U} /127.0.0.1      stable-a        2               \n` +
      `g-stable        stable-b-${U} /127.0.0.1      stable-b        1               \n`,
    err: '',
  })
  assert.deepEqual(await groups('--describe', '--group', 'g-stable', '--group', 'g-static', '--members', '--verbose'), {
    code: 0,
    out:
      '\n' +
      'GROUP           CONSUMER-ID                                   HOST            CLIENT-ID       #PARTITIONS     CURRENT-EPOCH   CURRENT-ASSIGNMENT   TARGET-EPOCH    TARGET-ASSIGNMENT   \n' +
      `g-stable        stable-a-${U} /127.0.0.1      stable-a        2               -               cli-orders:0,1       -               -                   \n` +
      `g-stable        stable-b-${U} /127.0.0.1      stable-b        1               -               cli-orders:2         -               -                   \n` +
      '\n' +
      'GROUP           CONSUMER-ID                                 GROUP-INSTANCE-ID HOST            CLIENT-ID       #PARTITIONS     CURRENT-EPOCH   CURRENT-ASSIGNMENT   TARGET-EPOCH    TARGET-ASSIGNMENT   \n' +
      `g-static        inst-a-${U} inst-a            /127.0.0.1      static-a        1               -               cli-audit:0          -               -                   \n` +
      `g-static        inst-b-${U} inst-b            /127.0.0.1      static-b        0               -               -                    -               -                   \n`,
    err: '',
  })
  assert.deepEqual(await groups('--describe', '--group', 'g-rebalancing', '--members'), {
    code: 0,
    out:
      '\n' +
      'GROUP           CONSUMER-ID                                   HOST            CLIENT-ID       #PARTITIONS     \n' +
      `g-rebalancing   raw-test-${U} /127.0.0.1      raw-test        1               \n` +
      `g-rebalancing   raw-test-${U} /127.0.0.1      raw-test        0               \n`,
    err: "\nWarning: Consumer group 'g-rebalancing' is rebalancing.\n",
  })
  assert.deepEqual(await groups('--describe', '--group', 'g-missing', '--members'), {
    code: 0,
    out: "\nError: Consumer group 'g-missing' does not exist.\n\nGROUP           CONSUMER-ID     HOST            CLIENT-ID       #PARTITIONS     \n",
    err: '',
  })
  assert.deepEqual(await groups('--describe', '--group', 'g-empty', '--members'), {
    code: 0,
    out: '\nGROUP           CONSUMER-ID     HOST            CLIENT-ID       #PARTITIONS     \n',
    err: "\nConsumer group 'g-empty' has no active members.\n",
  })

  // State view, with and without --verbose.
  assert.deepEqual(await groups('--describe', '--all-groups', '--state'), {
    code: 0,
    out:
      '\n' +
      'GROUP           COORDINATOR (ID)          ASSIGNMENT-STRATEGY  STATE                #MEMBERS\n' +
      `g-empty         ${coordinatorCell()} -                    Empty                0\n` +
      '\n' +
      'GROUP           COORDINATOR (ID)          ASSIGNMENT-STRATEGY  STATE                #MEMBERS\n' +
      `g-rebalancing   ${coordinatorCell()} -                    PreparingRebalance   2\n` +
      '\n' +
      'GROUP           COORDINATOR (ID)          ASSIGNMENT-STRATEGY  STATE                #MEMBERS\n' +
      `g-stable        ${coordinatorCell()} range                Stable               2\n` +
      '\n' +
      'GROUP           COORDINATOR (ID)          ASSIGNMENT-STRATEGY  STATE                #MEMBERS\n' +
      `g-static        ${coordinatorCell()} range                Stable               2\n`,
    err: "\nConsumer group 'g-empty' has no active members.\n\nWarning: Consumer group 'g-rebalancing' is rebalancing.\n",
  })
  assert.deepEqual(await groups('--describe', '--group', 'g-stable', '--group', 'g-missing', '--state', '--verbose'), {
    code: 0,
    out:
      "\nError: Consumer group 'g-missing' does not exist.\n" +
      '\n' +
      'GROUP           COORDINATOR (ID)          ASSIGNMENT-STRATEGY  STATE                GROUP-EPOCH     TARGET-ASSIGNMENT-EPOCH   #MEMBERS\n' +
      `g-stable        ${coordinatorCell()} range                Stable               -               -                         2\n`,
    err: '',
  })

  // JSON: the same data, for machines.
  const json = JSON.parse((await groups('--describe', '--group', 'g-stable', '--output', 'json')).out)
  assert.equal(json.action, 'describe')
  assert.equal(json.view, 'offsets')
  assert.deepEqual(
    json.groups[0].partitions.map(
      (p: { topic: string; partition: number; currentOffset: number; lag: number | null; clientId: string | null }) => [
        `${p.topic}-${p.partition}`,
        p.currentOffset,
        p.lag,
        p.clientId,
      ],
    ),
    [
      ['cli-orders-0', 15, 0, 'stable-a'],
      ['cli-orders-1', 10, 0, 'stable-a'],
      ['cli-orders-2', 10, 0, 'stable-b'],
      ['cli-audit-0', 3, 1, null],
    ],
  )
})

// ---- reset --------------------------------------------------------------------------------------------

test('reset-offsets: refused for an active group, dry run changes nothing, execute, clamping, datetimes, export and from-file round trip', async () => {
  const before = await committed('g-empty')
  assert.deepEqual(before, { 'cli-orders-0': 10, 'cli-orders-1': 10, 'cli-orders-2': 10 })

  // Refused: the group has members. Nothing is printed but the refusal and the (empty) plan's header.
  const stableBefore = await committed('g-stable')
  assert.deepEqual(await groups('--reset-offsets', '--group', 'g-stable', '--all-topics', '--to-earliest', '--execute'), {
    code: 0,
    out:
      "\nError: Assignments can only be reset if the group 'g-stable' is inactive, but the current state is Stable.\n" +
      '\nGROUP           TOPIC           PARTITION  NEW-OFFSET\n',
    err: '',
  })
  assert.deepEqual(await committed('g-stable'), stableBefore)
  assert.deepEqual(await groups('--reset-offsets', '--group', 'g-rebalancing', '--all-topics', '--to-earliest', '--dry-run'), {
    code: 0,
    out:
      "\nError: Assignments can only be reset if the group 'g-rebalancing' is inactive, but the current state is PreparingRebalance.\n" +
      '\nGROUP           TOPIC           PARTITION  NEW-OFFSET\n',
    err: '',
  })

  // Dry run by default (with Kafka's WARN): the plan, in java.util.HashMap order (cli-orders 2, 1, 0); nothing changes.
  const plan = (offsets: [number, number, number]) =>
    '\n' +
    'GROUP           TOPIC           PARTITION  NEW-OFFSET\n' +
    `g-empty         cli-orders      2          ${offsets[2]}\n` +
    `g-empty         cli-orders      1          ${offsets[1]}\n` +
    `g-empty         cli-orders      0          ${offsets[0]}\n`
  assert.deepEqual(await groups('--reset-offsets', '--group', 'g-empty', '--all-topics', '--to-earliest'), {
    code: 0,
    out: plan([0, 0, 0]),
    err: WARN,
  })
  assert.deepEqual(await committed('g-empty'), before)

  // Clamping to the log end, with the resetter's WARN lines (stderr), in the plan's order.
  assert.deepEqual(await groups('--reset-offsets', '--group', 'g-empty', '--topic', 'cli-orders', '--to-offset', '12', '--dry-run'), {
    code: 0,
    out: plan([12, 10, 10]),
    err:
      '[TIME] WARN New offset (12) is higher than latest offset for topic partition cli-orders-2. Value will be set to 10. (org.apache.kafka.tools.GroupOffsetsResetter)\n' +
      '[TIME] WARN New offset (12) is higher than latest offset for topic partition cli-orders-1. Value will be set to 10. (org.apache.kafka.tools.GroupOffsetsResetter)\n',
  })
  assert.deepEqual(await committed('g-empty'), before)

  // Execute: shift by -3 from the committed offsets; read back.
  assert.deepEqual(await groups('--reset-offsets', '--group', 'g-empty', '--all-topics', '--shift-by', '-3', '--execute'), {
    code: 0,
    out: plan([7, 7, 7]),
    err: '',
  })
  assert.deepEqual(await committed('g-empty'), { 'cli-orders-0': 7, 'cli-orders-1': 7, 'cli-orders-2': 7 })

  // Partitions and a datetime: before every record → the first offset; in the future → the log end, with Kafka's Warn lines.
  assert.deepEqual(
    await groups(
      '--reset-offsets',
      '--group',
      'g-empty',
      '--topic',
      'cli-orders:0,1',
      '--to-datetime',
      '2020-01-01T00:00:00.000',
      '--dry-run',
    ),
    {
      code: 0,
      out: '\nGROUP           TOPIC           PARTITION  NEW-OFFSET\ng-empty         cli-orders      1          0\ng-empty         cli-orders      0          0\n',
      err: '',
    },
  )
  assert.deepEqual(
    await groups(
      '--reset-offsets',
      '--group',
      'g-empty',
      '--topic',
      'cli-orders:0,1',
      '--to-datetime',
      '2999-01-01T00:00:00.000+01:00',
      '--dry-run',
    ),
    {
      code: 0,
      out:
        '\nWarn: Partition 1 from topic cli-orders is empty. Falling back to latest known offset.\n' +
        '\nWarn: Partition 0 from topic cli-orders is empty. Falling back to latest known offset.\n' +
        '\nGROUP           TOPIC           PARTITION  NEW-OFFSET\ng-empty         cli-orders      1          10\ng-empty         cli-orders      0          15\n',
      err: '',
    },
  )
  assert.deepEqual(await groups('--reset-offsets', '--group', 'g-empty', '--topic', 'cli-orders:2', '--by-duration', 'PT1H', '--dry-run'), {
    code: 0,
    out: '\nGROUP           TOPIC           PARTITION  NEW-OFFSET\ng-empty         cli-orders      2          0\n',
    err: '',
  })

  // --export prints CSV (then an empty line); --from-file reads it back and --execute applies it.
  const exported = await groups('--reset-offsets', '--group', 'g-empty', '--all-topics', '--to-latest', '--dry-run', '--export')
  assert.deepEqual(exported, { code: 0, out: 'cli-orders,2,10\ncli-orders,1,10\ncli-orders,0,15\n\n', err: '' })
  const file = join(dir, 'plan.csv')
  writeFileSync(file, exported.out)
  assert.deepEqual(await groups('--reset-offsets', '--group', 'g-empty', '--from-file', file, '--execute'), {
    code: 0,
    out: plan([15, 10, 10]),
    err: '',
  })
  assert.deepEqual(await committed('g-empty'), { 'cli-orders-0': 15, 'cli-orders-1': 10, 'cli-orders-2': 10 })

  // Several groups: the CSV has a group column; a missing group may be reset (it is created by the commit).
  await admin.alterGroupOffsets('g-empty2', [{ topic: 'cli-audit', partition: 0, offset: 1n }])
  const both = await groups(
    '--reset-offsets',
    '--group',
    'g-empty',
    '--group',
    'g-empty2',
    '--all-topics',
    '--to-earliest',
    '--dry-run',
    '--export',
  )
  assert.deepEqual(both, {
    code: 0,
    out: 'g-empty2,cli-audit,0,0\ng-empty,cli-orders,2,0\ng-empty,cli-orders,1,0\ng-empty,cli-orders,0,0\n\n',
    err: '',
  })
  writeFileSync(file, both.out)
  assert.deepEqual(await groups('--reset-offsets', '--group', 'g-empty', '--group', 'g-empty2', '--from-file', file, '--execute'), {
    code: 0,
    out:
      '\nGROUP           TOPIC           PARTITION  NEW-OFFSET\n' +
      'g-empty2        cli-audit       0          0\n' +
      'g-empty         cli-orders      2          0\n' +
      'g-empty         cli-orders      1          0\n' +
      'g-empty         cli-orders      0          0\n',
    err: '',
  })
  assert.deepEqual(await committed('g-empty2'), { 'cli-audit-0': 0 })
  assert.equal(readFileSync(file, 'utf8'), both.out)
  assert.deepEqual(await groups('--reset-offsets', '--group', 'g-new', '--topic', 'cli-audit', '--to-latest', '--execute'), {
    code: 0,
    out: '\nGROUP           TOPIC           PARTITION  NEW-OFFSET\ng-new           cli-audit       0          4\n',
    err: '',
  })
  assert.deepEqual(await committed('g-new'), { 'cli-audit-0': 4 })

  // Kafka's usage errors (exit 1) and failures (exit 0, "Error: …" on stdout).
  const noCommit = await groups('--reset-offsets', '--group', 'g-new', '--topic', 'cli-orders', '--shift-by', '1', '--dry-run')
  assert.equal(noCommit.code, 1)
  assert.match(
    noCommit.err,
    /^Cannot shift offset for partition cli-orders-\d since there is no current committed offset\nOption {2,}Description\n/,
  )
  assert.deepEqual(await groups('--reset-offsets', '--group', 'g-new', '--topic', 'nope', '--to-earliest', '--dry-run'), {
    code: 0,
    out: '\nError: Executing consumer group command failed due to This server does not host this topic-partition.\n',
    err: 'org.apache.kafka.common.errors.UnknownTopicOrPartitionException: This server does not host this topic-partition.\n',
  })
  assert.deepEqual(await groups('--reset-offsets', '--group', 'g-new', '--topic', 'cli-audit:7', '--to-earliest', '--dry-run'), {
    code: 0,
    out: '\nError: Executing consumer group command failed due to The partitions "cli-audit-7" do not exist\n',
    err: 'org.apache.kafka.common.errors.UnknownTopicOrPartitionException: The partitions "cli-audit-7" do not exist\n',
  })

  // JSON for a reset.
  const json = JSON.parse(
    (await groups('--reset-offsets', '--group', 'g-new', '--all-topics', '--to-earliest', '--dry-run', '--output', 'json')).out,
  )
  assert.deepEqual(json, {
    action: 'reset-offsets',
    execute: false,
    groups: [{ group: 'g-new', state: 'Empty', refused: false, offsets: [{ topic: 'cli-audit', partition: 0, offset: 0 }], notices: [] }],
  })
})

// ---- delete -----------------------------------------------------------------------------------------

test('delete-offsets and delete: successes, partition-level and group-level errors', async () => {
  assert.deepEqual(await groups('--delete-offsets', '--group', 'g-empty', '--topic', 'cli-orders:0'), {
    code: 0,
    out: 'Request succeeded for deleting offsets from group g-empty.\n\nTOPIC           PARTITION  STATUS         \ncli-orders      0          Successful     \n',
    err: '',
  })
  assert.deepEqual(await committed('g-empty'), { 'cli-orders-1': 0, 'cli-orders-2': 0 })
  const subscribed =
    'Error: org.apache.kafka.common.errors.GroupSubscribedToTopicException: Deleting offsets of a topic is forbidden while the consumer group is actively subscribed to it.'
  assert.deepEqual(await groups('--delete-offsets', '--group', 'g-stable', '--topic', 'cli-orders', '--topic', 'no-such-topic'), {
    code: 0,
    out:
      '\nError: Encountered some partition-level error, see the follow-up details.\n' +
      '\nTOPIC           PARTITION  STATUS         ' +
      `\ncli-orders      0          ${subscribed}` +
      `\ncli-orders      1          ${subscribed}` +
      `\ncli-orders      2          ${subscribed}` +
      '\nno-such-topic   -          Error: org.apache.kafka.common.errors.UnknownTopicOrPartitionException: This server does not host this topic-partition.\n',
    err: '',
  })
  assert.deepEqual(await groups('--delete-offsets', '--group', 'g-missing', '--topic', 'cli-orders:0'), {
    code: 0,
    out:
      '\nError: The group id does not exist.\n' +
      '\nTOPIC           PARTITION  STATUS         ' +
      '\ncli-orders      0          Error: org.apache.kafka.common.errors.GroupIdNotFoundException: The group id does not exist.\n',
    err: '',
  })

  assert.deepEqual(await groups('--delete', '--group', 'g-stable', '--group', 'g-empty'), {
    code: 0,
    out:
      '\nError: Deletion of some consumer groups failed:\n' +
      "* Group 'g-stable' could not be deleted due to: org.apache.kafka.common.errors.GroupNotEmptyException: The group is not empty.\n" +
      "\nThese consumer groups were deleted successfully: 'g-empty'\n",
    err: '',
  })
  assert.deepEqual(await groups('--delete', '--group', 'g-empty2', '--group', 'g-new'), {
    code: 0,
    out: "Deletion of requested consumer groups ('g-empty2', 'g-new') was successful.\n",
    err: '',
  })
  assert.deepEqual(await groups('--delete', '--group', 'g-empty'), {
    code: 0,
    out:
      '\nError: Deletion of some consumer groups failed:\n' +
      "* Group 'g-empty' could not be deleted due to: org.apache.kafka.common.errors.GroupIdNotFoundException: The group id does not exist.\n",
    err: '',
  })
  assert.deepEqual(await groups('--describe', '--group', 'g-empty'), {
    code: 0,
    out: "\nError: Consumer group 'g-empty' does not exist.\n",
    err: '',
  })
  assert.deepEqual(await committed('g-empty'), {})
  const usage = await groups('--delete', '--group', 'g-stable', '--topic', 'cli-orders')
  assert.equal(usage.code, 1)
  assert.match(usage.err, /^The consumer does not support topic-specific offset deletion from a consumer group\.\n/)
})

// ---- groups made by other clients ---------------------------------------------------------------------

/** One confluent-kafka (librdkafka) member: peers/group_member.py, committing each record. */
function pythonMember(name: string, topic: string, groupId: string): ChildProcessWithoutNullStreams {
  const child = spawn(
    PYTHON,
    [MEMBER, '--bootstrap', b.bootstrap, '--topic', topic, '--group', groupId, '--name', name, '--strategy', 'range'],
    {
      stdio: ['pipe', 'pipe', 'pipe'],
    },
  )
  child.stdout.resume()
  child.stderr.resume()
  child.stdin.on('error', () => {})
  return child
}

async function stopPython(child: ChildProcessWithoutNullStreams): Promise<void> {
  if (child.exitCode !== null) return
  const exited = new Promise((r) => child.once('exit', r))
  child.stdin.write('stop\n')
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000)
  await exited
  clearTimeout(timer)
}

test('describe a group of confluent-kafka (librdkafka) members', async () => {
  await admin.createTopics([{ name: 'py-orders', partitions: 3 }])
  await produce('py-orders', { 0: 6, 1: 7, 2: 8 })
  const a = pythonMember('py-a', 'py-orders', 'py-group')
  const members = [a]
  try {
    await stableWith('py-group', 1)
    members.push(pythonMember('py-b', 'py-orders', 'py-group'))
    await stableWith('py-group', 2)
    await committedAre('py-group', { 'py-orders-0': 6, 'py-orders-1': 7, 'py-orders-2': 8 })
    // range: py-a (the lower member id) gets partitions 0 and 1, py-b partition 2.
    assert.deepEqual(await groups('--describe', '--group', 'py-group'), {
      code: 0,
      out:
        '\n' +
        'GROUP           TOPIC           PARTITION  CURRENT-OFFSET  LOG-END-OFFSET  LAG             CONSUMER-ID                               HOST            CLIENT-ID\n' +
        `py-group        py-orders       0          6               6               0               py-a-${U} /127.0.0.1      py-a\n` +
        `py-group        py-orders       1          7               7               0               py-a-${U} /127.0.0.1      py-a\n` +
        `py-group        py-orders       2          8               8               0               py-b-${U} /127.0.0.1      py-b\n`,
      err: '',
    })
    assert.deepEqual(await groups('--describe', '--group', 'py-group', '--members', '--verbose'), {
      code: 0,
      out:
        '\n' +
        'GROUP           CONSUMER-ID                               HOST            CLIENT-ID       #PARTITIONS     CURRENT-EPOCH   CURRENT-ASSIGNMENT   TARGET-EPOCH    TARGET-ASSIGNMENT   \n' +
        `py-group        py-a-${U} /127.0.0.1      py-a            2               -               py-orders:0,1        -               -                   \n` +
        `py-group        py-b-${U} /127.0.0.1      py-b            1               -               py-orders:2          -               -                   \n`,
      err: '',
    })
    assert.deepEqual(await groups('--describe', '--group', 'py-group', '--state'), {
      code: 0,
      out:
        '\n' +
        'GROUP           COORDINATOR (ID)          ASSIGNMENT-STRATEGY  STATE                #MEMBERS\n' +
        `py-group        ${coordinatorCell()} range                Stable               2\n`,
      err: '',
    })
  } finally {
    await Promise.all(members.map(stopPython))
  }
  // Both left: Empty, with their commits.
  await waitUntil(async () => (await admin.describeGroups(['py-group'])).get('py-group')?.state === 'Empty', 'py-group is Empty')
  assert.deepEqual(await groups('--describe', '--group', 'py-group'), {
    code: 0,
    out:
      '\n' +
      'GROUP           TOPIC           PARTITION  CURRENT-OFFSET  LOG-END-OFFSET  LAG             CONSUMER-ID     HOST            CLIENT-ID\n' +
      'py-group        py-orders       0          6               6               0               -               -               -\n' +
      'py-group        py-orders       1          7               7               0               -               -               -\n' +
      'py-group        py-orders       2          8               8               0               -               -               -\n',
    err: "\nConsumer group 'py-group' has no active members.\n",
  })
})

test('describe a group of kafkajs members', async () => {
  await admin.createTopics([{ name: 'js-orders', partitions: 3 }])
  await produce('js-orders', { 0: 3, 1: 4, 2: 5 })
  const started: KafkaJsConsumer[] = []
  const start = async (clientId: string) => {
    const kafka = new Kafka({ clientId, brokers: [b.bootstrap], logLevel: logLevel.NOTHING })
    const c = kafka.consumer({ groupId: 'js-group', sessionTimeout: 6000, heartbeatInterval: 300 })
    started.push(c)
    await c.connect()
    await c.subscribe({ topic: 'js-orders', fromBeginning: true })
    await c.run({ eachMessage: async () => {} })
  }
  try {
    await start('js-a')
    await stableWith('js-group', 1)
    await start('js-b')
    await stableWith('js-group', 2)
    await committedAre('js-group', { 'js-orders-0': 3, 'js-orders-1': 4, 'js-orders-2': 5 })
    // kafkajs' RoundRobinAssigner over members sorted by id: js-a gets partitions 0 and 2, js-b partition 1.
    assert.deepEqual(await groups('--describe', '--group', 'js-group'), {
      code: 0,
      out:
        '\n' +
        'GROUP           TOPIC           PARTITION  CURRENT-OFFSET  LOG-END-OFFSET  LAG             CONSUMER-ID                               HOST            CLIENT-ID\n' +
        `js-group        js-orders       0          3               3               0               js-a-${U} /127.0.0.1      js-a\n` +
        `js-group        js-orders       2          5               5               0               js-a-${U} /127.0.0.1      js-a\n` +
        `js-group        js-orders       1          4               4               0               js-b-${U} /127.0.0.1      js-b\n`,
      err: '',
    })
    assert.deepEqual(await groups('--describe', '--group', 'js-group', '--members', '--verbose'), {
      code: 0,
      out:
        '\n' +
        'GROUP           CONSUMER-ID                               HOST            CLIENT-ID       #PARTITIONS     CURRENT-EPOCH   CURRENT-ASSIGNMENT   TARGET-EPOCH    TARGET-ASSIGNMENT   \n' +
        `js-group        js-a-${U} /127.0.0.1      js-a            2               -               js-orders:0,2        -               -                   \n` +
        `js-group        js-b-${U} /127.0.0.1      js-b            1               -               js-orders:1          -               -                   \n`,
      err: '',
    })
    assert.deepEqual(await groups('--describe', '--group', 'js-group', '--state'), {
      code: 0,
      out:
        '\n' +
        'GROUP           COORDINATOR (ID)          ASSIGNMENT-STRATEGY  STATE                #MEMBERS\n' +
        `js-group        ${coordinatorCell()} RoundRobinAssigner   Stable               2\n`,
      err: '',
    })
    // An active kafkajs group refuses a reset, as any other.
    assert.deepEqual(await groups('--reset-offsets', '--group', 'js-group', '--all-topics', '--to-earliest', '--execute'), {
      code: 0,
      out:
        "\nError: Assignments can only be reset if the group 'js-group' is inactive, but the current state is Stable.\n" +
        '\nGROUP           TOPIC           PARTITION  NEW-OFFSET\n',
      err: '',
    })
  } finally {
    await Promise.all(started.map((c) => c.disconnect()))
  }
})

test('describe --history: the rebalances the broker recorded, with triggers, member counts and moved partitions', async () => {
  await admin.createTopics([{ name: 'hist', partitions: 4 }])
  const first = member('g-hist', 'hist-a', ['hist'])
  await stableWith('g-hist', 1)
  const second = member('g-hist', 'hist-b', ['hist'])
  await stableWith('g-hist', 2)
  await second.close()
  await stableWith('g-hist', 1)

  const r = await groups('--describe', '--group', 'g-hist', '--history')
  assert.equal(r.code, 0, r.err)
  const lines = r.out.split('\n').filter((l) => l !== '')
  assert.match(lines[0] as string, /^GROUP +GENERATION +STARTED +TRIGGER +MEMBERS +PARTITIONS-MOVED +DURATION-MS +MAX-WAIT-MS +REASON$/)
  const rows = lines.slice(1).map((l) => l.split(/ +/))
  assert.deepEqual(
    rows.map((c) => [c[0], c[1], c[3], c[4], c[5]]),
    [
      ['g-hist', '1', 'join', '0->1', '4'],
      ['g-hist', '2', 'join', '1->2', '2'],
      ['g-hist', '3', 'leave', '2->1', '2'],
    ],
  )

  const verbose = await groups('--describe', '--group', 'g-hist', '--history', '--verbose')
  assert.match(verbose.out, /MEMBER-ID +CLIENT-ID +WAIT-MS +REVOKED +ASSIGNED/)
  assert.match(verbose.out, /hist-b +\d+ +- +hist:\d,\d/)

  const json = JSON.parse((await groups('--describe', '--group', 'g-hist', '--history', '--output', 'json')).out)
  assert.equal(json.groups[0].rebalances.length, 3)

  const missing = await groups('--describe', '--group', 'g-no-such', '--history')
  assert.equal(missing.out, "\nError: Consumer group 'g-no-such' does not exist.\n")
  await first.close()
})
