/**
 * `cohort groups` arguments, parsed and checked as kafka-consumer-groups.sh
 * does (joptsimple + ConsumerGroupCommandOptions.checkArgs), with Kafka's
 * messages: long options, unambiguous abbreviations (`--desc`), `--opt=value`,
 * repeatable options, `--state`/`--type` with an optional value, and the same
 * checks in the same order. Two Cohort options are added: `--output text|json`
 * and `--history` (with `--describe`).
 *
 * Failures come in Kafka's two kinds: `OptionParseError` (joptsimple refused
 * the command line; Kafka dies with an uncaught exception, exit code 1) and
 * `UsageError` (printUsageAndExit: the message and the usage on stderr, exit
 * code 1).
 */
import { copiedHashSetCapacity, javaHashOrder, javaStringHash, javaStringListHash } from './java.ts'

type ArgKind = 'none' | 'required' | 'optional'

interface OptionDef {
  name: string
  arg: ArgKind
  /** What the argument is, for the usage text. */
  argName?: string
  description: string
  /** joptsimple's availableIf: the option is only allowed together with one of these. */
  availableIf?: readonly string[]
}

/** Kafka's options in the order ConsumerGroupCommandOptions declares them, then Cohort's. */
export const OPTIONS: readonly OptionDef[] = [
  {
    name: 'bootstrap-server',
    arg: 'required',
    argName: 'server to connect to',
    description: 'The server(s) to connect to (default 127.0.0.1:9092).',
  },
  { name: 'group', arg: 'required', argName: 'consumer group', description: 'The consumer group we wish to act on.' },
  {
    name: 'topic',
    arg: 'required',
    argName: 'topic',
    description:
      'The topic whose consumer group information should be deleted or topic whose should be included in the reset offset process. In `reset-offsets` case, partitions can be specified using this format: `topic1:0,1,2`, where 0,1,2 are the partition to be included in the process. Reset-offsets also supports multiple topic inputs.',
  },
  { name: 'all-topics', arg: 'none', description: 'Consider all topics assigned to a group in the `reset-offsets` process.' },
  { name: 'list', arg: 'none', description: 'List all consumer groups.' },
  {
    name: 'describe',
    arg: 'none',
    description: 'Describe consumer group and list offset lag (number of messages not yet processed) related to given group.',
  },
  { name: 'all-groups', arg: 'none', description: 'Apply to all consumer groups.' },
  {
    name: 'delete',
    arg: 'none',
    description:
      'Pass in groups to delete topic partition offsets and ownership information over the entire consumer group. For instance --group g1 --group g2',
  },
  {
    name: 'timeout',
    arg: 'required',
    argName: 'timeout (ms)',
    description:
      'The timeout that can be set for some use cases. For example, it can be used when describing the group to specify the maximum amount of time in milliseconds to wait before the group stabilizes (when the group is just created, or is going through some changes). (default: 5000)',
  },
  {
    name: 'command-config',
    arg: 'required',
    argName: 'command config property file',
    description: 'Property file containing configs to be passed to Admin Client and Consumer.',
  },
  {
    name: 'reset-offsets',
    arg: 'none',
    description:
      "Reset offsets of consumer group. Supports one consumer group at the time, and instances should be inactive. Has 2 execution options: --dry-run (the default) to plan which offsets to reset, and --execute to update the offsets. Additionally, the --export option is used to export the results to a CSV format. You must choose one of the following reset specifications: --to-datetime, --by-duration, --to-earliest, --to-latest, --shift-by, --from-file, --to-current, --to-offset. To define the scope use --all-topics or --topic. One scope must be specified unless you use '--from-file'.",
  },
  {
    name: 'delete-offsets',
    arg: 'none',
    description: 'Delete offsets of consumer group. Supports one consumer group at the time, and multiple topics.',
  },
  {
    name: 'dry-run',
    arg: 'none',
    description: 'Only show results without executing changes on Consumer Groups. Supported operations: reset-offsets.',
  },
  { name: 'execute', arg: 'none', description: 'Execute operation. Supported operations: reset-offsets.' },
  { name: 'export', arg: 'none', description: 'Export operation execution to a CSV file. Supported operations: reset-offsets.' },
  { name: 'to-offset', arg: 'required', argName: 'offset', description: 'Reset offsets to a specific offset.' },
  { name: 'from-file', arg: 'required', argName: 'path to CSV file', description: 'Reset offsets to values defined in CSV file.' },
  {
    name: 'to-datetime',
    arg: 'required',
    argName: 'datetime',
    description: "Reset offsets to offset from datetime. Format: 'YYYY-MM-DDTHH:mm:SS.sss'",
  },
  {
    name: 'by-duration',
    arg: 'required',
    argName: 'duration',
    description: "Reset offsets to offset by duration from current timestamp. Format: 'PnDTnHnMnS'",
  },
  { name: 'to-earliest', arg: 'none', description: 'Reset offsets to earliest offset.' },
  { name: 'to-latest', arg: 'none', description: 'Reset offsets to latest offset.' },
  { name: 'to-current', arg: 'none', description: 'Reset offsets to current offset.' },
  {
    name: 'shift-by',
    arg: 'required',
    argName: 'number-of-offsets',
    description: "Reset offsets shifting current offset by 'n', where 'n' can be positive or negative.",
  },
  {
    name: 'members',
    arg: 'none',
    availableIf: ['describe'],
    description: "Describe members of the group. This option may be used with '--describe' and '--bootstrap-server' options only.",
  },
  {
    name: 'verbose',
    arg: 'none',
    availableIf: ['describe'],
    description:
      "Provide additional information, if any, when describing the group. This option may be used with '--offsets'/'--members'/'--state' and '--bootstrap-server' options only.",
  },
  {
    name: 'offsets',
    arg: 'none',
    availableIf: ['describe'],
    description:
      "Describe the group and list all topic partitions in the group along with their offset lag. This is the default sub-action of and may be used with '--describe' and '--bootstrap-server' options only.",
  },
  {
    name: 'state',
    arg: 'optional',
    argName: 'String',
    availableIf: ['describe', 'list'],
    description:
      "When specified with '--describe', includes the state of the group. When specified with '--list', it displays the state of all groups. It can also be used to list groups with specific states, e.g. --list --state stable,empty",
  },
  {
    name: 'type',
    arg: 'optional',
    argName: 'String',
    availableIf: ['list'],
    description:
      "When specified with '--list', it displays the types of all the groups. It can also be used to list groups with specific types, e.g. --list --type classic,consumer",
  },
  {
    name: 'validate-regex',
    arg: 'required',
    argName: 'regex',
    description: 'Validate that the syntax of the provided regular expression is valid according to the RE2 format.',
  },
  { name: 'help', arg: 'none', description: 'Print usage information.' },
  { name: 'version', arg: 'none', description: 'Display Kafka version.' },
  // Cohort's additions.
  {
    name: 'output',
    arg: 'required',
    argName: 'text|json',
    description: 'Cohort: `json` prints one JSON document per action instead of the text layout (see docs/groups.md).',
  },
  {
    name: 'history',
    arg: 'none',
    availableIf: ['describe'],
    description: "Cohort: with '--describe --group G', the group's rebalance history as the broker recorded it.",
  },
]

const BY_NAME = new Map(OPTIONS.map((o) => [o.name, o]))

/** joptsimple refused the command line; Kafka's tool dies with `Exception in thread "main" joptsimple.<exception>: <message>`. */
export class OptionParseError extends Error {
  override readonly name = 'OptionParseError'
  constructor(
    readonly exception: string,
    message: string,
  ) {
    super(message)
  }
}

/** CommandLineUtils.printUsageAndExit: the message, then the usage, on stderr; exit code 1. */
export class UsageError extends Error {
  override readonly name = 'UsageError'
}

export class ParsedArgs {
  readonly #values = new Map<string, (string | null)[]>()
  /** The arguments as given (Kafka decides "no arguments at all → help" on them). */
  readonly argv: readonly string[]

  constructor(argv: readonly string[]) {
    this.argv = argv
  }

  add(name: string, value: string | null): void {
    let list = this.#values.get(name)
    if (!list) this.#values.set(name, (list = []))
    list.push(value)
  }

  has(name: string): boolean {
    return this.#values.has(name)
  }

  /** The first value, or null when the option is absent or (optional argument) was given without one. */
  value(name: string): string | null {
    return this.#values.get(name)?.find((v) => v !== null) ?? null
  }

  /** Every value given, in order. */
  values(name: string): string[] {
    return (this.#values.get(name) ?? []).filter((v): v is string => v !== null)
  }

  /** Detected option names, in first-seen order. */
  names(): string[] {
    return [...this.#values.keys()]
  }
}

function looksLikeOption(arg: string): boolean {
  return arg.startsWith('-') && arg !== '-' && !/^-\d/.test(arg)
}

/** An exact option name, or the one option the abbreviation starts (joptsimple's abbreviations); undefined if none or ambiguous. */
function resolve(name: string): OptionDef | undefined {
  const exact = BY_NAME.get(name)
  if (exact) return exact
  const matches = OPTIONS.filter((o) => o.name.startsWith(name))
  return matches.length === 1 ? matches[0] : undefined
}

/** joptsimple's OptionParser.parse for Kafka's options. Non-option arguments are ignored, as Kafka ignores them. */
export function parseArgs(argv: readonly string[]): ParsedArgs {
  const out = new ParsedArgs(argv)
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string
    if (arg === '--') break
    if (!looksLikeOption(arg)) continue
    const body = arg.startsWith('--') ? arg.slice(2) : arg.slice(1)
    const eq = body.indexOf('=')
    const name = eq >= 0 ? body.slice(0, eq) : body
    const inline = eq >= 0 ? body.slice(eq + 1) : null
    const def = name === '' ? undefined : resolve(name)
    if (!def) throw new OptionParseError('UnrecognizedOptionException', `${name} is not a recognized option`)
    if (def.arg === 'none') {
      if (inline !== null) throw new OptionParseError('UnrecognizedOptionException', `${arg.replace(/^-+/, '')} is not a recognized option`)
      out.add(def.name, null)
    } else if (def.arg === 'required') {
      if (inline !== null) out.add(def.name, inline)
      else {
        if (i + 1 >= argv.length)
          throw new OptionParseError('OptionMissingRequiredArgumentException', `Option ['${def.name}'] requires an argument`)
        out.add(def.name, argv[++i] as string)
      }
    } else if (inline !== null) out.add(def.name, inline)
    else if (i + 1 < argv.length && !looksLikeOption(argv[i + 1] as string)) out.add(def.name, argv[++i] as string)
    else out.add(def.name, null)
  }
  // availableIf (joptsimple's ensureAllowedOptions): all unavailable options in one message.
  const unavailable = OPTIONS.filter((o) => o.availableIf && out.has(o.name) && !o.availableIf.some((r) => out.has(r)))
  if (unavailable.length > 0) {
    throw new OptionParseError(
      'UnavailableOptionException',
      `Option(s) [${unavailable.map((o) => o.name).join(', ')}] are unavailable given other options on the command line`,
    )
  }
  return out
}

/** An option as joptsimple's OptionSpec.toString() prints it: `[name]`. */
function spec(name: string): string {
  return `[${name}]`
}

/** The options of a java.util.HashSet of OptionSpecs, in the set's iteration order. */
function hashSetOrder(names: readonly string[]): string[] {
  return javaHashOrder(names, (n) => javaStringListHash([n]), copiedHashSetCapacity(names.length))
}

function joinSpecs(names: readonly string[]): string {
  return names.map(spec).join(', ')
}

const GROUP_SCOPE = ['group', 'all-groups']
const GROUP_LEVEL = ['list', 'describe', 'delete', 'reset-offsets']
export const RESET_SCENARIOS = [
  'to-offset',
  'shift-by',
  'to-datetime',
  'by-duration',
  'to-earliest',
  'to-latest',
  'to-current',
  'from-file',
]
const DELETE_OFFSETS = ['group', 'topic']

/** The WARN Kafka writes to stderr for a reset without --execute or --dry-run (no space after "missing." — Kafka's text). */
export const RESET_DRY_RUN_WARNING =
  'WARN: No action will be performed as the --execute option is missing.In a future major release, the default behavior of this command will be to prompt the user before executing the reset rather than doing a dry run. You should add the --dry-run option explicitly if you are scripting this command and want to keep the current default behavior without prompting.'

/** CommandLineUtils.checkInvalidArgs: `used` with any of `invalid` (a HashSet, checked in its order) is a usage error. */
function checkInvalid(o: ParsedArgs, used: string, invalid: readonly string[]): void {
  if (!o.has(used)) return
  for (const other of hashSetOrder(invalid)) {
    if (o.has(other)) throw new UsageError(`Option "${spec(used)}" can't be used with option "${spec(other)}"`)
  }
}

/**
 * ConsumerGroupCommandOptions.checkArgs, in Kafka's order. `warn` receives
 * the dry-run WARN line (Kafka prints it before the later checks). The
 * bootstrap server is not required: like Cohort's other commands it defaults
 * to 127.0.0.1:9092.
 */
export function checkArgs(o: ParsedArgs, warn: (line: string) => void): void {
  if (o.has('describe')) {
    if (!o.has('group') && !o.has('all-groups'))
      throw new UsageError(`Option ${spec('describe')} takes one of these options: ${joinSpecs(hashSetOrder(GROUP_SCOPE))}`)
    const exclusive = ['members', 'offsets', 'state']
    if (exclusive.filter((x) => o.has(x)).length > 1)
      throw new UsageError(`Option ${spec('describe')} takes at most one of these options: ${joinSpecs(exclusive)}`)
    if (o.has('state') && o.value('state') !== null)
      throw new UsageError(`Option ${spec('describe')} does not take a value for ${spec('state')}`)
  }
  if (o.has('delete')) {
    if (!o.has('group') && !o.has('all-groups'))
      throw new UsageError(`Option ${spec('delete')} takes one of these options: ${joinSpecs(hashSetOrder(GROUP_SCOPE))}`)
    if (o.has('topic')) throw new UsageError('The consumer does not support topic-specific offset deletion from a consumer group.')
  }
  if (o.has('delete-offsets')) {
    if (!o.has('group') || !o.has('topic'))
      throw new UsageError(`Option ${spec('delete-offsets')} takes the following options: ${joinSpecs(hashSetOrder(DELETE_OFFSETS))}`)
  }
  if (o.has('reset-offsets')) {
    if (o.has('dry-run') && o.has('execute'))
      throw new UsageError(`Option ${spec('reset-offsets')} only accepts one of ${spec('execute')} and ${spec('dry-run')}`)
    if (!o.has('dry-run') && !o.has('execute')) warn(RESET_DRY_RUN_WARNING)
    if (!o.has('group') && !o.has('all-groups'))
      throw new UsageError(`Option ${spec('reset-offsets')} takes one of these options: ${joinSpecs(hashSetOrder(GROUP_SCOPE))}`)
    for (const s of ['to-offset', 'to-datetime', 'by-duration', 'to-earliest', 'to-latest', 'to-current', 'shift-by', 'from-file']) {
      checkInvalid(
        o,
        s,
        RESET_SCENARIOS.filter((x) => x !== s),
      )
    }
  }
  checkInvalid(
    o,
    'group',
    GROUP_SCOPE.filter((x) => x !== 'group'),
  )
  checkInvalid(
    o,
    'group',
    GROUP_LEVEL.filter((x) => x !== 'describe' && x !== 'delete' && x !== 'reset-offsets'),
  )
  checkInvalid(
    o,
    'topic',
    GROUP_LEVEL.filter((x) => x !== 'delete' && x !== 'reset-offsets'),
  )
  const output = o.value('output')
  if (o.has('output') && output !== 'text' && output !== 'json')
    throw new UsageError(`Option ${spec('output')} takes text or json, not '${output}'`)
  if (o.has('history') && (o.has('members') || o.has('offsets') || o.has('state')))
    throw new UsageError(`Option ${spec('history')} can't be used with ${joinSpecs(['members', 'offsets', 'state'])}`)
}

export type Action = 'list' | 'describe' | 'delete' | 'reset-offsets' | 'delete-offsets' | 'validate-regex'
const ACTIONS: readonly Action[] = ['list', 'describe', 'delete', 'reset-offsets', 'delete-offsets', 'validate-regex']

/** The one action; Kafka's main() refuses zero or several. */
export function action(o: ParsedArgs): Action {
  const present = ACTIONS.filter((a) => o.has(a))
  if (present.length !== 1) throw new UsageError(`Command must include exactly one action: ${ACTIONS.map((a) => `--${a}`).join(', ')}`)
  return present[0] as Action
}

/** Kafka's GroupState names for consumer groups, in the enum's order (Kafka prints them from a Set.of, whose order varies by run). */
const VALID_STATES = ['PreparingRebalance', 'CompletingRebalance', 'Stable', 'Dead', 'Empty', 'Assigning', 'Reconciling']

/** `--state a,b` for --list: case-insensitive names, canonicalised; Kafka's IllegalArgumentException (usage) otherwise. */
export function parseStates(input: string): string[] {
  const out: string[] = []
  for (const s of input.split(',')) {
    const canon = VALID_STATES.find((v) => v.toLowerCase() === s.trim().toLowerCase())
    if (!canon) throw new UsageError(`Invalid state list '${input}'. Valid states are: ${VALID_STATES.join(', ')}`)
    if (!out.includes(canon)) out.push(canon)
  }
  return out
}

/** `--type a,b` for --list: classic and consumer. */
export function parseTypes(input: string): string[] {
  const valid = javaHashOrder(['Classic', 'Consumer'], javaStringHash)
  const out: string[] = []
  for (const s of input.toLowerCase().split(',')) {
    const canon = valid.find((v) => v.toLowerCase() === s.trim())
    if (!canon) throw new UsageError(`Invalid types list '${input}'. Valid types are: ${valid.join(', ')}`)
    if (!out.includes(canon)) out.push(canon)
  }
  return out
}

/** A Long-typed option's value, or the message joptsimple's conversion failure gives (Kafka prints it as a command failure). */
export function longValue(o: ParsedArgs, name: string): bigint | null {
  const v = o.value(name)
  if (v === null) return null
  if (!/^[-+]?\d+$/.test(v) || BigInt(v) > 9223372036854775807n || BigInt(v) < -9223372036854775808n) {
    throw new Error(`Cannot parse argument '${v}' of option ${name}`)
  }
  return BigInt(v)
}

const INDENT = 40

/** The help text (joptsimple's layout: option, then description). */
export function usage(): string {
  const lines = [`${'Option'.padEnd(INDENT)} Description`, `${'------'.padEnd(INDENT)} -----------`]
  for (const o of OPTIONS) {
    const left = o.arg === 'none' ? `--${o.name}` : o.arg === 'required' ? `--${o.name} <${o.argName}>` : `--${o.name} [${o.argName}]`
    lines.push(left.length >= INDENT ? `${left}\n${' '.repeat(INDENT)} ${o.description}` : `${left.padEnd(INDENT)} ${o.description}`)
  }
  return `${lines.join('\n')}\n`
}

/** What Kafka prints for `--help` or no arguments, before the usage. */
export const HELP_MESSAGE =
  'This tool helps to list all consumer groups, describe a consumer group, delete consumer group info, or reset consumer group offsets.'
