/**
 * Golden tests for `cohort groups` text output: each expected string is written out byte for byte from
 * Kafka's printf formats (ConsumerGroupCommand.java / GroupOffsetsResetter.java, trunk; see
 * ../shared/reference/operations.md §1): `%-Ns` widths of max(minimum, longest value), tables that start with
 * `\n`, rows printed as `\n` + row, trailing spaces, `-` placeholders, and what goes to stdout vs stderr.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { CommittedOffset, GroupDescription, MemberDescription, TopicPartition } from '../../../src/admin/groups.ts'
import { OffsetResetError } from '../../../src/admin/offset-reset.ts'
import {
  assignmentString,
  chunksOf,
  commandFailed,
  formatDelete,
  formatDeleteOffsets,
  formatList,
  formatMembers,
  formatOffsets,
  formatResetNotice,
  formatResetPlan,
  formatState,
  formatValidateRegex,
  type GroupOffsets,
  offsetRows,
  resetRefused,
} from '../../../src/cli/groups/format.ts'
import { formatRebalanceHistory } from '../../../src/cli/groups/history.ts'
import { KafkaError } from '../../../src/protocol/errors.ts'

const tp = (topic: string, partition: number): TopicPartition => ({ topic, partition })

function member(
  memberId: string,
  clientId: string,
  assignment: TopicPartition[],
  groupInstanceId: string | null = null,
): MemberDescription {
  return {
    memberId,
    groupInstanceId,
    clientId,
    clientHost: '/127.0.0.1',
    assignment,
    subscription: null,
    rawMetadata: Buffer.alloc(0),
    rawAssignment: Buffer.alloc(0),
  }
}

function group(groupId: string, state: string, members: MemberDescription[], protocol = 'range'): GroupDescription {
  return {
    groupId,
    state,
    protocolType: members.length > 0 ? 'consumer' : '',
    protocol,
    members,
    coordinator: { nodeId: 1, host: 'localhost', port: 9092 },
    error: null,
  }
}

function commit(topic: string, partition: number, offset: bigint, leaderEpoch: number | null = null): CommittedOffset {
  return { topic, partition, offset, leaderEpoch, metadata: '', error: null }
}

const ends = (entries: [string, number, bigint][]) => new Map(entries.map(([t, p, o]) => [`${t}\u0000${p}`, o]))

// ---- offsets view -------------------------------------------------------------------------------

test('several groups: each notice is written right before its own table, as Kafka interleaves stderr and stdout', () => {
  const d = group('g-a', 'Empty', [])
  const a = offsetRows(d, [commit('t', 0, 1n)], ends([['t', 0, 1n]]))
  const b = offsetRows(group('g-b', 'Empty', []), [commit('t', 0, 2n)], ends([['t', 0, 2n]]))
  const p = formatOffsets(
    [
      { groupId: 'g-a', state: 'Empty', rows: a },
      { groupId: 'g-b', state: 'Empty', rows: b },
    ],
    false,
  )
  const order = chunksOf(p).map((c) => `${c.stream}:${c.text.includes('no active members') ? c.text.trim() : 'table'}`)
  assert.deepEqual(order, [
    "err:Consumer group 'g-a' has no active members.",
    'out:table',
    "err:Consumer group 'g-b' has no active members.",
    'out:table',
  ])
})

test('offsets view, Empty group with commits: the notice on stderr, the table on stdout (the note’s sample)', () => {
  const d = group('my-group', 'Empty', [])
  const rows = offsetRows(d, [commit('my-topic', 0, 128n)], ends([['my-topic', 0, 128n]]))
  const p = formatOffsets([{ groupId: 'my-group', state: 'Empty', rows }], false)
  assert.equal(p.err, "\nConsumer group 'my-group' has no active members.\n")
  assert.equal(
    p.out,
    '\n' +
      'GROUP           TOPIC           PARTITION  CURRENT-OFFSET  LOG-END-OFFSET  LAG             CONSUMER-ID     HOST            CLIENT-ID\n' +
      'my-group        my-topic        0          128             128             0               -               -               -\n',
  )
})

/** Two owners (2 partitions and 1), an idle member, and a committed partition nobody owns. */
function stableGroup(): { d: GroupDescription; committed: CommittedOffset[] } {
  const d = group('orders-app', 'Stable', [
    member('small-1', 'app-small', [tp('orders', 1)]),
    member('idle-1', 'app-idle', []),
    member('consumer-app-big-4c1e5a0e', 'app-big', [tp('orders', 2), tp('events', 0)]),
  ])
  const committed = [commit('orders', 1, 5n, 3), commit('events', 0, 9n), commit('audit', 0, 3n), commit('orders', 2, 12n, 4)]
  return { d, committed }
}

test('offsets view, Stable group: owners by partition count, then unowned commits; widths grow with the longest value; lag is not clamped', () => {
  const { d, committed } = stableGroup()
  const rows = offsetRows(
    d,
    committed,
    ends([
      ['orders', 1, 7n],
      ['events', 0, 9n],
      ['orders', 2, 10n],
    ]),
  )
  const p = formatOffsets([{ groupId: d.groupId, state: d.state, rows }], false)
  assert.equal(p.err, '')
  assert.equal(
    p.out,
    '\n' +
      'GROUP           TOPIC           PARTITION  CURRENT-OFFSET  LOG-END-OFFSET  LAG             CONSUMER-ID               HOST            CLIENT-ID\n' +
      'orders-app      events          0          9               9               0               consumer-app-big-4c1e5a0e /127.0.0.1      app-big\n' +
      'orders-app      orders          2          12              10              -2              consumer-app-big-4c1e5a0e /127.0.0.1      app-big\n' +
      'orders-app      orders          1          5               7               2               small-1                   /127.0.0.1      app-small\n' +
      'orders-app      audit           0          3               -               -               -                         -               -\n',
  )
})

test('offsets view --verbose adds LEADER-EPOCH (the committed epoch, or -)', () => {
  const { d, committed } = stableGroup()
  const rows = offsetRows(d, committed, ends([['orders', 2, 10n]]))
  const p = formatOffsets([{ groupId: d.groupId, state: d.state, rows }], true)
  assert.equal(
    p.out,
    '\n' +
      'GROUP           TOPIC           PARTITION  LEADER-EPOCH    CURRENT-OFFSET  LOG-END-OFFSET  LAG             CONSUMER-ID               HOST            CLIENT-ID\n' +
      'orders-app      events          0          -               9               -               -               consumer-app-big-4c1e5a0e /127.0.0.1      app-big\n' +
      'orders-app      orders          2          4               12              10              -2              consumer-app-big-4c1e5a0e /127.0.0.1      app-big\n' +
      'orders-app      orders          1          3               5               -               -               small-1                   /127.0.0.1      app-small\n' +
      'orders-app      audit           0          -               3               -               -               -                         -               -\n',
  )
})

test('offsets view: an owned partition without a commit shows - for CURRENT-OFFSET and LAG', () => {
  const d = group('g', 'Stable', [member('m-1', 'c', [tp('t', 0)])])
  const rows = offsetRows(d, [], ends([['t', 0, 42n]]))
  assert.equal(
    formatOffsets([{ groupId: 'g', state: 'Stable', rows }], false).out,
    '\n' +
      'GROUP           TOPIC           PARTITION  CURRENT-OFFSET  LOG-END-OFFSET  LAG             CONSUMER-ID     HOST            CLIENT-ID\n' +
      'g               t               0          -               42              -               m-1             /127.0.0.1      c\n',
  )
})

test('offsets view: rebalancing warns on stderr and still prints rows; Dead prints only the error; no rows prints nothing', () => {
  const d = group('rb', 'PreparingRebalance', [member('m-1', 'c', [])])
  const rebalancing: GroupOffsets = {
    groupId: 'rb',
    state: 'PreparingRebalance',
    rows: offsetRows(d, [commit('t', 0, 1n)], ends([['t', 0, 1n]])),
  }
  const dead: GroupOffsets = { groupId: 'gone', state: 'Dead', rows: [] }
  const quiet: GroupOffsets = { groupId: 'quiet', state: 'Stable', rows: [] }
  const emptyNoCommits: GroupOffsets = { groupId: 'idle', state: 'Empty', rows: [] }
  const p = formatOffsets([rebalancing, quiet, dead, emptyNoCommits], false)
  // Sorted by group id: gone, idle, quiet, rb.
  assert.equal(
    p.out,
    "\nError: Consumer group 'gone' does not exist.\n" +
      '\n' +
      'GROUP           TOPIC           PARTITION  CURRENT-OFFSET  LOG-END-OFFSET  LAG             CONSUMER-ID     HOST            CLIENT-ID\n' +
      'rb              t               0          1               1               0               -               -               -\n',
  )
  assert.equal(p.err, "\nConsumer group 'idle' has no active members.\n\nWarning: Consumer group 'rb' is rebalancing.\n")
})

test('offsets view: an unknown state is a command failure with Kafka’s message', () => {
  assert.throws(() => formatOffsets([{ groupId: 'g', state: 'Weird', rows: [] }], false), {
    message: "Expected a valid consumer group state, but found 'Unknown'.",
  })
})

// ---- members view ---------------------------------------------------------------------------------

test('members view: header with a trailing space after #PARTITIONS, one row per member (idle ones too), in the coordinator’s order', () => {
  const { d } = stableGroup()
  const p = formatMembers([d], false)
  assert.equal(p.err, '')
  assert.equal(
    p.out,
    '\n' +
      'GROUP           CONSUMER-ID               HOST            CLIENT-ID       #PARTITIONS     \n' +
      'orders-app      small-1                   /127.0.0.1      app-small       1               \n' +
      'orders-app      idle-1                    /127.0.0.1      app-idle        0               \n' +
      'orders-app      consumer-app-big-4c1e5a0e /127.0.0.1      app-big         2               \n',
  )
})

test('members view --verbose: epochs and target assignment are - for classic groups; assignments as topic:partitions, sorted', () => {
  const { d } = stableGroup()
  assert.equal(assignmentString([tp('orders', 2), tp('events', 0), tp('orders', 0), tp('a-b', 1)]), 'a-b:1;events:0;orders:0,2')
  assert.equal(
    formatMembers([d], true).out,
    '\n' +
      'GROUP           CONSUMER-ID               HOST            CLIENT-ID       #PARTITIONS     CURRENT-EPOCH   CURRENT-ASSIGNMENT   TARGET-EPOCH    TARGET-ASSIGNMENT   \n' +
      'orders-app      small-1                   /127.0.0.1      app-small       1               -               orders:1             -               -                   \n' +
      'orders-app      idle-1                    /127.0.0.1      app-idle        0               -               -                    -               -                   \n' +
      'orders-app      consumer-app-big-4c1e5a0e /127.0.0.1      app-big         2               -               events:0;orders:2    -               -                   \n',
  )
})

test('members view: GROUP-INSTANCE-ID appears (width max(17, longest)) when any member is static', () => {
  const d = group('static-g', 'Stable', [member('m-1', 'c1', [tp('t', 0)], 'instance-a'), member('m-2', 'c2', [tp('t', 1)])])
  assert.equal(
    formatMembers([d], false).out,
    '\n' +
      'GROUP           CONSUMER-ID     GROUP-INSTANCE-ID HOST            CLIENT-ID       #PARTITIONS     \n' +
      'static-g        m-1             instance-a        /127.0.0.1      c1              1               \n' +
      'static-g        m-2                               /127.0.0.1      c2              1               \n',
  )
})

test('members view: Empty and Dead groups still print the header (Dead after its error)', () => {
  const p = formatMembers([group('empty-g', 'Empty', []), group('dead-g', 'Dead', [])], false)
  assert.equal(
    p.out,
    "\nError: Consumer group 'dead-g' does not exist.\n" +
      '\nGROUP           CONSUMER-ID     HOST            CLIENT-ID       #PARTITIONS     \n' +
      '\nGROUP           CONSUMER-ID     HOST            CLIENT-ID       #PARTITIONS     \n',
  )
  assert.equal(p.err, "\nConsumer group 'empty-g' has no active members.\n")
})

// ---- state view -----------------------------------------------------------------------------------

test('state view: coordinator as host:port  (id) with two spaces; an empty assignment strategy is -', () => {
  const p = formatState(
    [group('orders-app', 'Stable', [member('a', 'a', []), member('b', 'b', [])]), group('idle', 'Empty', [], '')],
    false,
  )
  assert.equal(
    p.out,
    '\n' +
      'GROUP           COORDINATOR (ID)          ASSIGNMENT-STRATEGY  STATE                #MEMBERS\n' +
      'idle            localhost:9092  (1)       -                    Empty                0\n' +
      '\n' +
      'GROUP           COORDINATOR (ID)          ASSIGNMENT-STRATEGY  STATE                #MEMBERS\n' +
      'orders-app      localhost:9092  (1)       range                Stable               2\n',
  )
  assert.equal(p.err, "\nConsumer group 'idle' has no active members.\n")
})

test('state view --verbose adds GROUP-EPOCH and TARGET-ASSIGNMENT-EPOCH (- for classic groups); Dead prints only the error', () => {
  const p = formatState([group('g', 'CompletingRebalance', [member('a', 'a', [])], ''), group('gone', 'Dead', [])], true)
  assert.equal(
    p.out,
    '\n' +
      'GROUP           COORDINATOR (ID)          ASSIGNMENT-STRATEGY  STATE                GROUP-EPOCH     TARGET-ASSIGNMENT-EPOCH   #MEMBERS\n' +
      'g               localhost:9092  (1)       -                    CompletingRebalance  -               -                         1\n' +
      "\nError: Consumer group 'gone' does not exist.\n",
  )
  assert.equal(p.err, "\nWarning: Consumer group 'g' is rebalancing.\n")
})

// ---- list -------------------------------------------------------------------------------------------

test('list: ids one a line; with --state/--type a table, first column max(15, longest id) + 10, others %-20s, trailing spaces kept', () => {
  const groups = [
    { groupId: 'orders-app', type: 'classic', state: 'Stable' },
    { groupId: 'a-rather-long-group-name', type: 'classic', state: 'Empty' },
    { groupId: 'legacy', type: null, state: null },
  ]
  assert.equal(formatList(groups, false, false).out, 'orders-app\na-rather-long-group-name\nlegacy\n')
  assert.equal(
    formatList(groups, false, true).out,
    'GROUP                              STATE               \n' +
      'orders-app                         Stable              \n' +
      'a-rather-long-group-name           Empty               \n' +
      'legacy                             Unknown             \n',
  )
  assert.equal(
    formatList(groups.slice(0, 1), true, true).out,
    'GROUP                     TYPE                 STATE               \n' +
      'orders-app                Classic              Stable              \n',
  )
  assert.equal(formatList([], true, false).out, 'GROUP                     TYPE                \n')
})

// ---- reset ------------------------------------------------------------------------------------------

test('reset plan: header only when a group was considered, rows in java.util.HashMap order, widths max(15, longest)', () => {
  // HashMap buckets (computed independently from Java's hashCode): orders-0..2 → 9, 10, 11; events-0..3 → 13, 14, 15, 0.
  const offsets = [
    { topic: 'events', partition: 0, offset: 0n },
    { topic: 'events', partition: 1, offset: 0n },
    { topic: 'events', partition: 2, offset: 5n },
    { topic: 'events', partition: 3, offset: 7n },
    { topic: 'orders', partition: 0, offset: 10n },
    { topic: 'orders', partition: 1, offset: 11n },
  ]
  assert.equal(
    formatResetPlan([{ groupId: 'orders-app', offsets }]).out,
    '\n' +
      'GROUP           TOPIC           PARTITION  NEW-OFFSET\n' +
      'orders-app      events          3          7\n' +
      'orders-app      orders          0          10\n' +
      'orders-app      orders          1          11\n' +
      'orders-app      events          0          0\n' +
      'orders-app      events          1          0\n' +
      'orders-app      events          2          5\n',
  )
  // A refused group leaves an empty plan: the header is still printed; no group at all prints only the newline.
  assert.equal(formatResetPlan([{ groupId: 'busy', offsets: [] }]).out, '\nGROUP           TOPIC           PARTITION  NEW-OFFSET\n')
  assert.equal(formatResetPlan([]).out, '\n')
  assert.equal(
    resetRefused('busy', 'Stable').out,
    "\nError: Assignments can only be reset if the group 'busy' is inactive, but the current state is Stable.\n",
  )
})

test('reset notices: clamping is a logger WARN on stderr, an empty partition a Warn line on stdout, a missing plan an Error line', () => {
  const t = '2026-11-25 10:00:00,000'
  assert.deepEqual(formatResetNotice({ kind: 'clamped-to-end', topic: 't', partition: 0, requested: 99n, offset: 10n }, t), {
    out: '',
    err: '[2026-11-25 10:00:00,000] WARN New offset (99) is higher than latest offset for topic partition t-0. Value will be set to 10. (org.apache.kafka.tools.GroupOffsetsResetter)\n',
  })
  assert.deepEqual(formatResetNotice({ kind: 'clamped-to-start', topic: 't', partition: 1, requested: -3n, offset: 0n }, t), {
    out: '',
    err: '[2026-11-25 10:00:00,000] WARN New offset (-3) is lower than earliest offset for topic partition t-1. Value will be set to 0. (org.apache.kafka.tools.GroupOffsetsResetter)\n',
  })
  assert.deepEqual(formatResetNotice({ kind: 'no-offset-for-timestamp', topic: 't', partition: 2 }, t), {
    out: '\nWarn: Partition 2 from topic t is empty. Falling back to latest known offset.\n',
    err: '',
  })
  assert.deepEqual(formatResetNotice({ kind: 'no-plan-for-group', groupId: 'g' }, t), {
    out: '\nError: No reset plan for group g found.\n',
    err: '',
  })
})

// ---- delete -----------------------------------------------------------------------------------------

test('delete: success lists the groups; failures name the Java exception; groups in HashMap order', () => {
  assert.equal(
    formatDelete([
      { groupId: 'g2', error: null },
      { groupId: 'g1', error: null },
    ]).out,
    "Deletion of requested consumer groups ('g1', 'g2') was successful.\n",
  )
  assert.equal(
    formatDelete([
      { groupId: 'nope', error: new KafkaError(69) },
      { groupId: 'g1', error: null },
      { groupId: 'stable-g', error: new KafkaError(68) },
    ]).out,
    '\nError: Deletion of some consumer groups failed:\n' +
      "* Group 'stable-g' could not be deleted due to: org.apache.kafka.common.errors.GroupNotEmptyException: The group is not empty.\n" +
      "* Group 'nope' could not be deleted due to: org.apache.kafka.common.errors.GroupIdNotFoundException: The group id does not exist.\n" +
      "\nThese consumer groups were deleted successfully: 'g1'\n",
  )
})

test('delete-offsets: the verdict line, then TOPIC PARTITION STATUS (%-{T}s %-10s %-15s) sorted by topic+partition as text', () => {
  const rows = [
    { topic: 'orders', partition: 10, error: null },
    { topic: 'orders', partition: 2, error: null },
    { topic: 'a-very-long-topic-name', partition: -1, error: new KafkaError(3) },
  ]
  assert.equal(
    formatDeleteOffsets('g', null, rows.slice(0, 2)).out,
    'Request succeeded for deleting offsets from group g.\n' +
      '\nTOPIC           PARTITION  STATUS         ' +
      '\norders          10         Successful     ' +
      '\norders          2          Successful     \n',
  )
  assert.equal(
    formatDeleteOffsets('g', new KafkaError(86), rows).out,
    '\nError: Encountered some partition-level error, see the follow-up details.\n' +
      '\nTOPIC                  PARTITION  STATUS         ' +
      '\na-very-long-topic-name -          Error: org.apache.kafka.common.errors.UnknownTopicOrPartitionException: This server does not host this topic-partition.' +
      '\norders                 10         Successful     ' +
      '\norders                 2          Successful     \n',
  )
  const notFound = new KafkaError(69)
  assert.equal(
    formatDeleteOffsets('ghost', notFound, [{ topic: 't', partition: 0, error: notFound }]).out,
    '\nError: The group id does not exist.\n' +
      '\nTOPIC           PARTITION  STATUS         ' +
      '\nt               0          Error: org.apache.kafka.common.errors.GroupIdNotFoundException: The group id does not exist.\n',
  )
  assert.equal(
    formatDeleteOffsets('g', new KafkaError(7), []).out,
    '\nError: Encountered some unknown error: REQUEST_TIMED_OUT\n\nTOPIC           PARTITION  STATUS         \n',
  )
})

// ---- failures, regex, history -----------------------------------------------------------------------

test('an unexpected failure: "Executing consumer group command failed due to" on stdout, the exception on stderr', () => {
  // A failed admin call: Kafka prints the ExecutionException's message, i.e. its cause's `class: message`.
  assert.deepEqual(commandFailed(new KafkaError(15)), {
    out: '\nError: Executing consumer group command failed due to org.apache.kafka.common.errors.CoordinatorNotAvailableException: The coordinator is not available.\n',
    err: 'org.apache.kafka.common.errors.CoordinatorNotAvailableException: The coordinator is not available.\n',
  })
  // A reset whose commit is refused: Kafka rethrows the cause, so only its message.
  const refused = new OffsetResetError('The coordinator is not aware of this member.', { cause: new KafkaError(25) })
  assert.deepEqual(commandFailed(refused), {
    out: '\nError: Executing consumer group command failed due to The coordinator is not aware of this member.\n',
    err: 'org.apache.kafka.common.errors.UnknownMemberIdException: The coordinator is not aware of this member.\n',
  })
})

test('validate-regex', () => {
  assert.equal(formatValidateRegex('ord.*').out, 'The regular expression `ord.*` is valid.\n')
  assert.match(formatValidateRegex('a(b').out, /^The regular expression `a\(b` is invalid: .+\.\n$/)
})

test('rebalance history (Cohort only): one row per rebalance, members with --verbose', () => {
  const entry = {
    generation: 3,
    trigger: 'join',
    reason: 'member c-2 joined',
    startedAt: Date.UTC(2026, 10, 25, 10, 0, 0, 0),
    durationMs: 120,
    maxWaitMs: 110,
    membersBefore: ['c-1'],
    membersAfter: ['c-1', 'c-2'],
    partitionsMoved: 1,
    members: [
      { memberId: 'c-1', clientId: 'app', waitMs: 110, revoked: [tp('t', 1)], assigned: [] },
      { memberId: 'c-2', clientId: 'app', waitMs: 40, revoked: [], assigned: [tp('t', 1)] },
    ],
  }
  const p = formatRebalanceHistory([{ groupId: 'g', error: null, entries: [entry] }], true)
  assert.equal(
    p.out,
    '\n' +
      'GROUP           GENERATION STARTED                  TRIGGER              MEMBERS    PARTITIONS-MOVED DURATION-MS MAX-WAIT-MS REASON\n' +
      'g               3          2026-11-25T10:00:00.000Z join                 1->2       1                120         110         member c-2 joined\n' +
      '    MEMBER-ID       CLIENT-ID       WAIT-MS    REVOKED              ASSIGNED\n' +
      '    c-1             app             110        t:1                  -\n' +
      '    c-2             app             40         -                    t:1\n',
  )
  assert.equal(
    formatRebalanceHistory([{ groupId: 'x', error: "Consumer group 'x' does not exist.", entries: [] }], false).out,
    "\nError: Consumer group 'x' does not exist.\n",
  )
})
