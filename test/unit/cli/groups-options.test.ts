/**
 * `cohort groups` argument handling against kafka-consumer-groups.sh: joptsimple's parsing (abbreviations,
 * optional values, its exception texts) and ConsumerGroupCommandOptions.checkArgs' messages, in Kafka's order.
 * Option lists printed from a java.util.HashSet come out in that set's iteration order (e.g. "[all-groups],
 * [group]", as Kafka's own tests expect).
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { NO_SCENARIO } from '../../../src/admin/offset-reset.ts'
import { javaHashOrder, javaStringListHash } from '../../../src/cli/groups/java.ts'
import {
  action,
  checkArgs,
  OptionParseError,
  parseArgs,
  parseStates,
  parseTypes,
  RESET_DRY_RUN_WARNING,
  RESET_SCENARIOS,
  UsageError,
} from '../../../src/cli/groups/options.ts'
import { runGroups } from '../../../src/cli/groups/run.ts'

function check(argv: string[]): { warnings: string[]; error: string | null } {
  const warnings: string[] = []
  try {
    const o = parseArgs(argv)
    checkArgs(o, (w) => warnings.push(w))
    action(o)
    return { warnings, error: null }
  } catch (err) {
    if (err instanceof UsageError || err instanceof OptionParseError) return { warnings, error: err.message }
    throw err
  }
}

test('checkArgs messages, as Kafka prints them', () => {
  const cases: [string[], string][] = [
    [['--describe'], 'Option [describe] takes one of these options: [all-groups], [group]'],
    [
      ['--describe', '--group', 'g', '--members', '--state'],
      'Option [describe] takes at most one of these options: [members], [offsets], [state]',
    ],
    [['--describe', '--group', 'g', '--state', 'stable'], 'Option [describe] does not take a value for [state]'],
    [['--delete'], 'Option [delete] takes one of these options: [all-groups], [group]'],
    [['--delete', '--group', 'g', '--topic', 't'], 'The consumer does not support topic-specific offset deletion from a consumer group.'],
    [['--delete-offsets', '--group', 'g'], 'Option [delete-offsets] takes the following options: [topic], [group]'],
    [['--reset-offsets', '--group', 'g', '--dry-run', '--execute'], 'Option [reset-offsets] only accepts one of [execute] and [dry-run]'],
    [['--reset-offsets', '--to-earliest', '--dry-run'], 'Option [reset-offsets] takes one of these options: [all-groups], [group]'],
    [
      ['--reset-offsets', '--group', 'g', '--to-earliest', '--to-latest', '--dry-run'],
      'Option "[to-earliest]" can\'t be used with option "[to-latest]"',
    ],
    [
      ['--reset-offsets', '--group', 'g', '--to-offset', '1', '--shift-by', '2', '--dry-run'],
      'Option "[to-offset]" can\'t be used with option "[shift-by]"',
    ],
    [['--describe', '--group', 'g', '--all-groups'], 'Option "[group]" can\'t be used with option "[all-groups]"'],
    [['--list', '--group', 'g'], 'Option "[group]" can\'t be used with option "[list]"'],
    [['--describe', '--group', 'g', '--topic', 't'], 'Option "[topic]" can\'t be used with option "[describe]"'],
    [
      ['--group', 'g'],
      'Command must include exactly one action: --list, --describe, --delete, --reset-offsets, --delete-offsets, --validate-regex',
    ],
    [
      ['--list', '--delete', '--all-groups'],
      'Command must include exactly one action: --list, --describe, --delete, --reset-offsets, --delete-offsets, --validate-regex',
    ],
  ]
  for (const [argv, message] of cases) assert.equal(check(argv).error, message, argv.join(' '))
})

test('joptsimple: unknown, ambiguous, unavailable options and missing arguments', () => {
  assert.equal(check(['--lisst']).error, 'lisst is not a recognized option')
  assert.equal(check(['--all', '--list']).error, 'all is not a recognized option') // all-topics or all-groups
  assert.equal(check(['--list', '--verbose']).error, 'Option(s) [verbose] are unavailable given other options on the command line')
  assert.equal(
    check(['--list', '--members', '--verbose']).error,
    'Option(s) [members, verbose] are unavailable given other options on the command line',
  )
  assert.equal(
    check(['--describe', '--group', 'g', '--type']).error,
    'Option(s) [type] are unavailable given other options on the command line',
  )
  assert.equal(check(['--describe', '--group']).error, "Option ['group'] requires an argument")
  assert.throws(
    () => parseArgs(['--nope']),
    (e: unknown) => e instanceof OptionParseError && e.exception === 'UnrecognizedOptionException',
  )
})

test('joptsimple: abbreviations, --opt=value, repeated options, negative numbers as values, optional values', () => {
  const o = parseArgs(['--desc', '--gr', 'a', '--group=b', '--mem', '--bootstrap-server', 'h:1'])
  assert.deepEqual([o.has('describe'), o.values('group'), o.has('members'), o.value('bootstrap-server')], [true, ['a', 'b'], true, 'h:1'])
  assert.equal(parseArgs(['--reset-offsets', '--shift-by', '-2']).value('shift-by'), '-2')
  const l = parseArgs(['--list', '--state', 'stable,empty', '--type'])
  assert.deepEqual([l.value('state'), l.has('type'), l.value('type')], ['stable,empty', true, null])
  assert.equal(parseArgs(['--list', '--state', '--type', 'classic']).value('state'), null)
  assert.equal(parseArgs(['--describe', '--all-groups', '--state']).value('state'), null)
  // Non-option arguments are ignored, as Kafka ignores them.
  assert.equal(check(['--list', 'stray']).error, null)
})

test('a reset without --execute or --dry-run warns first (before later checks), byte for byte', () => {
  assert.equal(
    RESET_DRY_RUN_WARNING,
    'WARN: No action will be performed as the --execute option is missing.In a future major release, the default behavior of this command will be to prompt the user before executing the reset rather than doing a dry run. You should add the --dry-run option explicitly if you are scripting this command and want to keep the current default behavior without prompting.',
  )
  assert.deepEqual(check(['--reset-offsets', '--to-earliest']), {
    warnings: [RESET_DRY_RUN_WARNING],
    error: 'Option [reset-offsets] takes one of these options: [all-groups], [group]',
  })
  assert.deepEqual(check(['--reset-offsets', '--group', 'g', '--to-earliest', '--all-topics', '--execute']).warnings, [])
})

test('the no-scenario message lists the scenarios in the HashSet order Kafka prints', () => {
  const order = javaHashOrder(RESET_SCENARIOS, (n) => javaStringListHash([n])).map((n) => `[${n}]`)
  assert.equal(NO_SCENARIO, `Option '[reset-offsets]' requires one of the following scenarios: [${order.join(', ')}]`)
})

test('--list --state and --type values: case-insensitive, Kafka’s message for an invalid one', () => {
  assert.deepEqual(parseStates('stable, EMPTY'), ['Stable', 'Empty'])
  assert.throws(() => parseStates('bogus'), {
    message:
      "Invalid state list 'bogus'. Valid states are: PreparingRebalance, CompletingRebalance, Stable, Dead, Empty, Assigning, Reconciling",
  })
  assert.deepEqual(parseTypes('Classic'), ['Classic'])
  assert.throws(() => parseTypes('share'), { message: "Invalid types list 'share'. Valid types are: Consumer, Classic" })
})

test('runGroups: exit codes and streams for help, usage errors and parse errors (no broker needed)', async () => {
  const run = async (argv: string[]) => {
    let out = ''
    let err = ''
    const code = await runGroups(argv, { out: (s) => (out += s), err: (s) => (err += s) }, { version: '9.9.9' })
    return { code, out, err }
  }
  const none = await run([])
  assert.equal(none.code, 1)
  assert.match(
    none.err,
    /^This tool helps to list all consumer groups, describe a consumer group, delete consumer group info, or reset consumer group offsets\.\nOption {2,}Description\n/,
  )
  assert.deepEqual(await run(['--version']), { code: 0, out: '9.9.9\n', err: '' })
  const usage = await run(['--describe', '--bootstrap-server', 'h:1'])
  assert.equal(usage.code, 1)
  assert.equal(usage.out, '')
  assert.match(usage.err, /^Option \[describe\] takes one of these options: \[all-groups\], \[group\]\nOption {2,}Description\n/)
  assert.deepEqual(await run(['--bogus']), {
    code: 1,
    out: '',
    err: 'Exception in thread "main" joptsimple.UnrecognizedOptionException: bogus is not a recognized option\n',
  })
  assert.deepEqual(await run(['--validate-regex', 'ord.*']), { code: 0, out: 'The regular expression `ord.*` is valid.\n', err: '' })
})
