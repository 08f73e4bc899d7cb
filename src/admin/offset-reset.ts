/**
 * Planning and applying consumer-group offset resets with the semantics of
 * `kafka-consumer-groups.sh --reset-offsets` (Kafka's GroupOffsetsResetter and
 * ConsumerGroupCommand.resetOffsets): the scenarios (to-offset, to-earliest,
 * to-latest, shift-by, to-datetime, by-duration, from-file, to-current), the
 * scopes (every committed partition, or topics with optional partitions), the
 * clamping of requested offsets to [log start, log end], Kafka's datetime and
 * ISO-8601 duration formats, and the CSV files `--export` writes and
 * `--from-file` reads.
 *
 * The functions report what Kafka's tool prints as data (`ResetNotice`s) and
 * fail with `OffsetResetError`, whose `usage` flag tells the failures Kafka
 * treats as bad arguments (exit code 1) from the others. Results are sorted by
 * topic and partition; the CLI reorders them as Kafka's tool prints them.
 */
import { listOffsets, OffsetSpec, tpKey } from '../client/cluster/offsets.ts'
import { ClientError, RequestTimeoutError, TimeoutError, UnsupportedVersionError } from '../client/errors.ts'
import { ErrorCode, errorInfo, KafkaError } from '../protocol/errors.ts'
import type { Admin, TopicDescription } from './admin.ts'
import { compareTopicPartition, type GroupState, type TopicPartition } from './groups.ts'

/** What to reset the offsets to. Datetimes and durations are kept as text: they are parsed when a plan is made, as Kafka does. */
export type ResetScenario =
  | { type: 'to-offset'; offset: bigint }
  | { type: 'to-earliest' }
  | { type: 'to-latest' }
  | { type: 'to-current' }
  | { type: 'shift-by'; shift: bigint }
  /** `YYYY-MM-DDTHH:mm:SS.sss`, optionally followed by `Z`, `±hh:mm` or `±hh` (UTC when absent); see `parseResetDateTime`. */
  | { type: 'to-datetime'; datetime: string }
  /** ISO-8601 `PnDTnHnMnS`; the target time is now minus the duration; see `parseIsoDuration`. */
  | { type: 'by-duration'; duration: string }
  /** Offsets per group, as `parseResetCsv` reads them. */
  | { type: 'from-file'; plan: ReadonlyMap<string, readonly ResetTarget[]> }

/** `t` (every partition of the topic) or `t:0,1,2`. */
export interface TopicSelection {
  topic: string
  /** Null: every partition of the topic. */
  partitions: readonly number[] | null
}

/** Which partitions to reset: every partition the group has committed, or the given topics. Null only with `from-file`. */
export type ResetScope = { allTopics: true } | { topics: readonly TopicSelection[] } | null

export interface ResetTarget extends TopicPartition {
  offset: bigint
}

/** Something Kafka's tool tells the user while planning; see `formatResetNotice` in the CLI for the exact texts. */
export type ResetNotice =
  /** The requested offset was past the log end and was lowered to it (Kafka logs a WARN). */
  | { kind: 'clamped-to-end'; topic: string; partition: number; requested: bigint; offset: bigint }
  /** The requested offset was before the log start and was raised to it (Kafka logs a WARN). */
  | { kind: 'clamped-to-start'; topic: string; partition: number; requested: bigint; offset: bigint }
  /** No record at or after the timestamp: the log end is used ("Warn: Partition … is empty"). */
  | { kind: 'no-offset-for-timestamp'; topic: string; partition: number }
  /** `from-file` has nothing for this group ("Error: No reset plan for group … found."). */
  | { kind: 'no-plan-for-group'; groupId: string }

export interface ResetPlan {
  groupId: string
  /** Sorted by topic and partition. */
  offsets: ResetTarget[]
  /** In the order Kafka's tool would report them. */
  notices: ResetNotice[]
}

/**
 * A reset that cannot be planned. `usage` marks what Kafka's tool reports as a
 * usage error (message, usage text, exit code 1); the others it prints as
 * "Error: Executing consumer group command failed due to <message>".
 * `message` is the text Kafka prints in either case.
 */
export class OffsetResetError extends Error {
  override readonly name = 'OffsetResetError'
  readonly usage: boolean
  /** The Java exception Kafka's tool fails with (its stack trace's first line); default: the cause's, else RuntimeException. */
  readonly javaClass: string | null
  constructor(message: string, options: { usage?: boolean; cause?: unknown; javaClass?: string } = {}) {
    super(message, { cause: options.cause })
    this.usage = options.usage ?? false
    this.javaClass = options.javaClass ?? null
  }
}

export interface PlanOptions {
  /** The scope; Kafka requires one unless the scenario is `from-file`. */
  scope: ResetScope
  /** "Now" for `by-duration` (ms since the epoch; default Date.now()). */
  now?: number
  /** Budget for each lookup (default: the admin client's default.api.timeout.ms). */
  timeoutMs?: number
}

// ---- parsing: datetimes, durations, topic arguments, CSV --------------------------------------

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]

function isLeap(y: number): boolean {
  return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0
}

/**
 * Kafka's `Utils.getDateTime`: `yyyy-MM-dd'T'HH:mm:ss.SSS` followed by a zone
 * (`Z`, `±hh:mm` or `±hh`); without a `+`, `-` or `Z` after the `T`, UTC is
 * assumed. Parsed strictly (fields in range; the milliseconds are a number of
 * milliseconds, so `.5` is 5 ms) but, like Java's SimpleDateFormat, text after
 * a complete date is ignored. Returns ms since the epoch; throws
 * OffsetResetError with the message Kafka prints.
 */
export function parseResetDateTime(text: string): number {
  const parts = text.split('T')
  while (parts.length > 0 && parts[parts.length - 1] === '') parts.pop()
  if (parts.length < 2) {
    throw new OffsetResetError("java.text.ParseException: Error parsing timestamp. It does not contain a 'T' according to ISO8601 format")
  }
  const second = parts[1] as string
  const withZone = second.includes('+') || second.includes('-') || second.includes('Z') ? text : `${text}Z`
  const m = /^(\d+)-(\d+)-(\d+)T(\d+):(\d+):(\d+)\.(\d+)(Z|[+-]\d\d:\d\d|[+-]\d\d)/.exec(withZone)
  const fail = (): never => {
    throw new OffsetResetError(`java.text.ParseException: Unparseable date: "${withZone}"`)
  }
  if (!m) return fail()
  const [year, month, day, hour, minute, sec, ms] = m.slice(1, 8).map((d) => Number(d)) as number[]
  const zone = m[8] as string
  const monthDays = month === 2 && isLeap(year as number) ? 29 : (DAYS_IN_MONTH[(month as number) - 1] ?? 0)
  if ((year as number) < 1 || (month as number) < 1 || (month as number) > 12 || (day as number) < 1 || (day as number) > monthDays) fail()
  if ((hour as number) > 23 || (minute as number) > 59 || (sec as number) > 59 || (ms as number) > 999) fail()
  let offsetMin = 0
  if (zone !== 'Z') {
    const zh = Number(zone.slice(1, 3))
    const zm = zone.length > 3 ? Number(zone.slice(4, 6)) : 0
    if (zh > 23 || zm > 59) fail()
    offsetMin = (zone[0] === '-' ? -1 : 1) * (zh * 60 + zm)
  }
  const d = new Date(0)
  d.setUTCFullYear(year as number, (month as number) - 1, day as number)
  d.setUTCHours(hour as number, minute as number, sec as number, ms as number)
  return d.getTime() - offsetMin * 60_000
}

const DURATION = /^([-+]?)P(?:([-+]?[0-9]+)D)?(T(?:([-+]?[0-9]+)H)?(?:([-+]?[0-9]+)M)?(?:([-+]?[0-9]+)(?:[.,]([0-9]{0,9}))?S)?)?$/i

/**
 * Java's `Duration.parse`: `PnDTnHnMnS` (ISO-8601, days at most; each number
 * may carry a sign, seconds a fraction). Returns the duration in nanoseconds.
 * Throws OffsetResetError with the message Kafka prints.
 */
export function parseIsoDuration(text: string): bigint {
  const m = DURATION.exec(text)
  const fail = (): never => {
    throw new OffsetResetError('Text cannot be parsed to a Duration', { javaClass: 'java.time.format.DateTimeParseException' })
  }
  if (!m) return fail()
  const [, sign, days, t, hours, minutes, seconds, fraction] = m
  if (days === undefined && t === undefined) fail()
  if (t !== undefined && hours === undefined && minutes === undefined && seconds === undefined) fail()
  const n = (s: string | undefined) => (s === undefined ? 0n : BigInt(s))
  let nanos = n(days) * 86_400_000_000_000n + n(hours) * 3_600_000_000_000n + n(minutes) * 60_000_000_000n + n(seconds) * 1_000_000_000n
  if (fraction !== undefined && fraction !== '') {
    const f = BigInt(fraction.padEnd(9, '0'))
    nanos += seconds?.startsWith('-') ? -f : f
  }
  return sign === '-' ? -nanos : nanos
}

/** The time `by-duration` resets to: now minus the duration, in ms (as Java's Instant.minus(...).toEpochMilli()). */
export function durationTarget(duration: string, now: number): number {
  const nanos = BigInt(now) * 1_000_000n - parseIsoDuration(duration)
  const ms = nanos / 1_000_000n
  return Number(nanos < 0n && ms * 1_000_000n !== nanos ? ms - 1n : ms)
}

/**
 * One `--topic` argument: `t` or `t:0,1,2`. Throws OffsetResetError (usage)
 * with Kafka's message for a malformed one.
 */
export function parseTopicSelection(arg: string): TopicSelection {
  if (!arg.includes(':')) return { topic: arg, partitions: null }
  const parts = arg.split(':')
  while (parts.length > 0 && parts[parts.length - 1] === '') parts.pop()
  if (parts.length !== 2) throw new OffsetResetError(`Invalid topic arg '${arg}', expected topic name and partitions`, { usage: true })
  const [topic, list] = parts as [string, string]
  const items = list.split(',')
  while (items.length > 0 && items[items.length - 1] === '') items.pop()
  return {
    topic,
    partitions: items.map((p) => {
      const n = parseJavaInt(p)
      if (n === null) throw new OffsetResetError(`Invalid partition '${p}' specified in topic arg '${arg}''`, { usage: true })
      return n
    }),
  }
}

/** Java's Integer.parseInt: an optional sign and decimal digits, within 32 bits. */
function parseJavaInt(s: string): number | null {
  if (!/^[-+]?\d+$/.test(s)) return null
  const n = Number(s)
  return n >= -2147483648 && n <= 2147483647 ? n : null
}

/** Splits one CSV line into fields (RFC 4180 quotes, as Jackson's CSV reader reads them). */
function csvFields(line: string): string[] {
  const out: string[] = []
  let i = 0
  for (;;) {
    let field = ''
    if (line[i] === '"') {
      i++
      for (;;) {
        if (i >= line.length) throw new Error('unterminated quoted value')
        if (line[i] === '"') {
          if (line[i + 1] === '"') {
            field += '"'
            i += 2
            continue
          }
          i++
          break
        }
        field += line[i++]
      }
      if (i < line.length && line[i] !== ',') throw new Error('unexpected character after a quoted value')
    } else {
      const end = line.indexOf(',', i)
      field = end < 0 ? line.slice(i) : line.slice(i, end)
      i = end < 0 ? line.length : end
    }
    out.push(field)
    if (i >= line.length) return out
    i++ // the comma
  }
}

function csvValue(s: string): string {
  // Jackson's CSV writer quotes a value that holds the separator, a quote, a control character, or starts with '#'.
  const needsQuotes = s.startsWith('#') || [...s].some((c) => c === '"' || c === ',' || c.charCodeAt(0) < 0x20)
  if (!needsQuotes) return s
  return `"${s.replaceAll('"', '""')}"`
}

function parseLong(s: string): bigint | null {
  return /^[-+]?\d+$/.test(s.trim()) ? BigInt(s.trim()) : null
}

/**
 * Reads a reset plan written by `--export` (or by hand): `topic,partition,offset`
 * lines when exactly one group is named and the first line has that shape,
 * `group,topic,partition,offset` lines otherwise — Kafka's rule. Blank lines
 * and a trailing CR are ignored. Throws OffsetResetError for a line that does
 * not parse.
 */
export function parseResetCsv(text: string, singleGroup: string | null): Map<string, ResetTarget[]> {
  const lines = text
    .split('\n')
    .map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l))
    .filter((l) => l.trim() !== '')
  const parse = (line: string, n: number, withGroup: boolean): { group: string | null; target: ResetTarget } => {
    let fields: string[]
    try {
      fields = csvFields(line)
    } catch (err) {
      throw new OffsetResetError(`Cannot read the reset plan: line ${n}: ${(err as Error).message}`, { cause: err })
    }
    const want = withGroup ? 4 : 3
    const bad = (why: string): never => {
      throw new OffsetResetError(`Cannot read the reset plan: line ${n} ('${line}'): ${why}`)
    }
    if (fields.length !== want) bad(`expected ${want} values (${withGroup ? 'group,topic,partition,offset' : 'topic,partition,offset'})`)
    const [group, topic, partition, offset] = withGroup ? fields : [null, ...fields]
    const p = parseJavaInt((partition as string).trim())
    const o = parseLong(offset as string)
    if (p === null) bad(`partition '${partition}' is not an integer`)
    if (o === null) bad(`offset '${offset}' is not an integer`)
    return { group: group ?? null, target: { topic: topic as string, partition: p as number, offset: o as bigint } }
  }
  let oldFormat = false
  if (lines.length > 0) {
    try {
      parse(lines[0] as string, 1, false)
      oldFormat = true
    } catch {
      oldFormat = false
    }
  }
  const out = new Map<string, ResetTarget[]>()
  const add = (group: string, t: ResetTarget) => {
    let list = out.get(group)
    if (!list) out.set(group, (list = []))
    const i = list.findIndex((x) => x.topic === t.topic && x.partition === t.partition)
    if (i >= 0) list[i] = t
    else list.push(t)
  }
  lines.forEach((line, i) => {
    if (singleGroup !== null && oldFormat) add(singleGroup, parse(line, i + 1, false).target)
    else {
      const r = parse(line, i + 1, true)
      add(r.group as string, r.target)
    }
  })
  for (const list of out.values()) list.sort(compareTopicPartition)
  return out
}

/**
 * The CSV `--export` prints: `topic,partition,offset` lines for a single group,
 * `group,topic,partition,offset` lines otherwise, one per target in the order
 * given, each ending in a newline.
 */
export function formatResetCsv(plans: readonly { groupId: string; offsets: readonly ResetTarget[] }[], withGroup: boolean): string {
  let out = ''
  for (const p of plans) {
    for (const o of p.offsets) {
      out += withGroup
        ? `${csvValue(p.groupId)},${csvValue(o.topic)},${o.partition},${o.offset}\n`
        : `${csvValue(o.topic)},${o.partition},${o.offset}\n`
    }
  }
  return out
}

// ---- planning ----------------------------------------------------------------------------------

/**
 * Kafka's message when no scenario is given. The list is joptsimple's
 * OptionSpecs in the iteration order of the java.util.HashSet Kafka keeps
 * them in (fixed: it follows from the option names' hash codes).
 */
export const NO_SCENARIO =
  "Option '[reset-offsets]' requires one of the following scenarios: [[to-offset], [to-current], [to-datetime], [from-file], [by-duration], [to-earliest], [to-latest], [shift-by]]"

/** `TopicPartition.toString()` in Kafka: `topic-partition`. */
function tpName(tp: TopicPartition): string {
  return `${tp.topic}-${tp.partition}`
}

// ---- Kafka's exception names and messages -------------------------------------------------------

/** Java exception classes whose name is not the error code's name in CamelCase + "Exception". */
const JAVA_CLASS: Record<number, string> = {
  [ErrorCode.UNKNOWN_SERVER_ERROR]: 'UnknownServerException',
  [ErrorCode.REQUEST_TIMED_OUT]: 'TimeoutException',
  [ErrorCode.OFFSET_METADATA_TOO_LARGE]: 'OffsetMetadataTooLarge',
  [ErrorCode.INVALID_TOPIC_EXCEPTION]: 'InvalidTopicException',
  [ErrorCode.TOPIC_AUTHORIZATION_FAILED]: 'TopicAuthorizationException',
  [ErrorCode.GROUP_AUTHORIZATION_FAILED]: 'GroupAuthorizationException',
  [ErrorCode.CLUSTER_AUTHORIZATION_FAILED]: 'ClusterAuthorizationException',
  [ErrorCode.NON_EMPTY_GROUP]: 'GroupNotEmptyException',
  [ErrorCode.INVALID_COMMIT_OFFSET_SIZE]: 'InvalidCommitOffsetSizeException',
  [ErrorCode.LEADER_NOT_AVAILABLE]: 'LeaderNotAvailableException',
  [ErrorCode.NOT_LEADER_OR_FOLLOWER]: 'NotLeaderOrFollowerException',
}

/** Kafka's messages (Errors.java) where Cohort's table shortened them. */
const JAVA_MESSAGE: Record<number, string> = {
  [ErrorCode.UNKNOWN_SERVER_ERROR]: 'The server experienced an unexpected error when processing the request.',
  [ErrorCode.NOT_LEADER_OR_FOLLOWER]:
    'For requests intended only for the leader, this error indicates that the broker is not the current leader. For requests intended for any replica, this error indicates that the broker is not a replica of the topic partition.',
}

/**
 * How Kafka's Java client names an error: the exception class
 * (`org.apache.kafka.common.errors.GroupNotEmptyException`) and its message
 * (Errors.java's default message for a broker error code). Client-side
 * failures (timeouts, lost connections) map to Kafka's TimeoutException or
 * DisconnectException with Cohort's message.
 */
export function javaException(err: Error): { className: string; message: string } {
  const pkg = 'org.apache.kafka.common.errors.'
  if (err instanceof KafkaError) {
    const info = errorInfo(err.code)
    const derived = `${info.name
      .toLowerCase()
      .split('_')
      .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
      .join('')}Exception`
    return { className: pkg + (JAVA_CLASS[err.code] ?? derived), message: JAVA_MESSAGE[err.code] ?? info.message }
  }
  if (err instanceof TimeoutError || err instanceof RequestTimeoutError)
    return { className: `${pkg}TimeoutException`, message: err.message }
  if (err instanceof UnsupportedVersionError) return { className: `${pkg}UnsupportedVersionException`, message: err.message }
  if (err instanceof ClientError) return { className: `${pkg}DisconnectException`, message: err.message }
  if (err instanceof OffsetResetError) {
    if (err.javaClass !== null) return { className: err.javaClass, message: err.message }
    const cause = err.cause instanceof Error ? javaException(err.cause) : null
    return { className: cause?.message === err.message ? cause.className : 'java.lang.RuntimeException', message: err.message }
  }
  return { className: 'java.lang.RuntimeException', message: err.message }
}

/** `e.toString()` of the Java exception: `class: message`. */
export function javaExceptionString(err: Error): string {
  const j = javaException(err)
  return `${j.className}: ${j.message}`
}

/** What a failed call's `getMessage()` says in Kafka's tool: the message for a broker error, `class: message` when Java wrapped it. */
function errorText(err: Error): string {
  return javaException(err).message
}

class Planner {
  readonly #admin: Admin
  readonly #timeoutMs: number | undefined
  readonly #topics = new Map<string, Promise<TopicDescription | undefined>>()

  constructor(admin: Admin, timeoutMs: number | undefined) {
    this.#admin = admin
    this.#timeoutMs = timeoutMs
  }

  async describe(topic: string): Promise<TopicDescription | undefined> {
    let p = this.#topics.get(topic)
    if (!p) {
      p = this.#admin.describeTopics([topic]).then((m) => m.get(topic))
      this.#topics.set(topic, p)
    }
    return p
  }

  /** Kafka's describeTopics(...).allTopicNames().get(): the first topic that fails fails the call. */
  async describeAll(topics: readonly string[]): Promise<Map<string, TopicDescription>> {
    const out = new Map<string, TopicDescription>()
    for (const t of topics) {
      const d = await this.describe(t)
      if (!d || d.error) {
        const cause = d?.error ?? new KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION)
        throw new OffsetResetError(errorText(cause), { cause })
      }
      out.set(t, d)
    }
    return out
  }

  async committed(groupId: string): Promise<Map<string, bigint>> {
    const rows = await this.#admin.listGroupOffsets(groupId)
    const out = new Map<string, bigint>()
    for (const r of rows) if (!r.error && r.offset >= 0n) out.set(tpKey(r.topic, r.partition), r.offset)
    return out
  }

  /** Offsets by spec; a partition whose lookup failed is absent (Kafka's "Unknown"). */
  async offsets(tps: readonly TopicPartition[], timestamp: bigint): Promise<Map<string, bigint>> {
    const out = new Map<string, bigint>()
    if (tps.length === 0) return out
    const answers = await listOffsets(
      this.#admin.cluster,
      tps.map((tp) => ({ topic: tp.topic, partition: tp.partition, timestamp })),
      this.#timeoutMs === undefined ? {} : { timeoutMs: this.#timeoutMs },
    )
    const failed = [...answers.values()].find((a) => a.error)
    if (failed?.error) {
      // Kafka's listOffsets(...).all().get() fails as a whole, wrapped in a RuntimeException.
      throw new OffsetResetError(`java.util.concurrent.ExecutionException: ${javaExceptionString(failed.error)}`, { cause: failed.error })
    }
    for (const [k, a] of answers) out.set(k, a.offset)
    return out
  }
}

/** The partitions a reset applies to, in the order Kafka collects them (explicit partitions first, then whole topics). */
async function partitionsToReset(
  planner: Planner,
  groupId: string,
  scenario: ResetScenario | null,
  scope: ResetScope,
): Promise<TopicPartition[]> {
  if (scope === null) {
    if (scenario?.type !== 'from-file')
      throw new OffsetResetError('One of the reset scopes should be defined: --all-topics, --topic.', { usage: true })
    return []
  }
  if ('allTopics' in scope) {
    return [...(await planner.committed(groupId)).keys()].map((k) => {
      const i = k.lastIndexOf('\u0000')
      return { topic: k.slice(0, i), partition: Number(k.slice(i + 1)) }
    })
  }
  const explicit: TopicPartition[] = []
  const whole: string[] = []
  for (const s of scope.topics) {
    if (s.partitions === null) whole.push(s.topic)
    else for (const partition of s.partitions) explicit.push({ topic: s.topic, partition })
  }
  const described = await planner.describeAll([...new Set(whole)])
  for (const [topic, d] of described) for (const p of d.partitions) explicit.push({ topic, partition: p.partition })
  return explicit
}

/** Kafka's checkAllTopicPartitionsValid: every partition exists and has a leader. */
async function checkValid(planner: Planner, tps: readonly TopicPartition[]): Promise<void> {
  if (tps.length === 0) return
  let described: Map<string, TopicDescription>
  try {
    described = await planner.describeAll([...new Set(tps.map((tp) => tp.topic))])
  } catch (err) {
    if (!(err instanceof OffsetResetError)) throw err
    // filterNonExistentPartitions wraps the failed lookup in a RuntimeException.
    const cause = err.cause instanceof Error ? err.cause : new KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION)
    throw new OffsetResetError(`java.util.concurrent.ExecutionException: ${javaExceptionString(cause)}`, { cause })
  }
  const missing = tps.filter((tp) => !described.get(tp.topic)?.partitions.some((p) => p.partition === tp.partition))
  if (missing.length > 0) {
    throw new OffsetResetError(`The partitions "${missing.map(tpName).join(',')}" do not exist`, {
      javaClass: 'org.apache.kafka.common.errors.UnknownTopicOrPartitionException',
    })
  }
  const leaderless = tps.filter((tp) => (described.get(tp.topic)?.partitions.find((p) => p.partition === tp.partition)?.leader ?? -1) < 0)
  if (leaderless.length > 0) {
    throw new OffsetResetError(`The partitions "${leaderless.map(tpName).join(',')}" have no leader`, {
      javaClass: 'org.apache.kafka.common.errors.LeaderNotAvailableException',
    })
  }
}

/** Kafka's checkOffsetsRange: above the log end → the log end; below the log start → the log start; each with a notice. */
async function clamp(planner: Planner, requested: readonly ResetTarget[], notices: ResetNotice[]): Promise<ResetTarget[]> {
  const [starts, ends] = await Promise.all([planner.offsets(requested, OffsetSpec.earliest), planner.offsets(requested, OffsetSpec.latest)])
  return requested.map((r) => {
    const k = tpKey(r.topic, r.partition)
    const end = ends.get(k)
    const start = starts.get(k)
    if (end !== undefined && r.offset > end) {
      notices.push({ kind: 'clamped-to-end', topic: r.topic, partition: r.partition, requested: r.offset, offset: end })
      return { ...r, offset: end }
    }
    if (start !== undefined && r.offset < start) {
      notices.push({ kind: 'clamped-to-start', topic: r.topic, partition: r.partition, requested: r.offset, offset: start })
      return { ...r, offset: start }
    }
    return { ...r }
  })
}

async function byTimestamp(
  planner: Planner,
  tps: readonly TopicPartition[],
  timestamp: number,
  notices: ResetNotice[],
): Promise<ResetTarget[]> {
  const found = await planner.offsets(tps, BigInt(timestamp))
  const empty = tps.filter((tp) => found.get(tpKey(tp.topic, tp.partition)) === -1n)
  for (const tp of empty) notices.push({ kind: 'no-offset-for-timestamp', topic: tp.topic, partition: tp.partition })
  const ends = await planner.offsets(empty, OffsetSpec.latest)
  return tps.map((tp) => {
    const k = tpKey(tp.topic, tp.partition)
    const at = found.get(k)
    const offset = at === -1n ? ends.get(k) : at
    if (offset === undefined)
      throw new OffsetResetError(`Error getting offset by timestamp of topic partition: ${tpName(tp)}`, { usage: true })
    return { ...tp, offset }
  })
}

async function fromLog(
  planner: Planner,
  tps: readonly TopicPartition[],
  spec: bigint,
  what: 'starting' | 'ending',
): Promise<ResetTarget[]> {
  const got = await planner.offsets(tps, spec)
  return tps.map((tp) => {
    const offset = got.get(tpKey(tp.topic, tp.partition))
    if (offset === undefined) throw new OffsetResetError(`Error getting ${what} offset of topic partition: ${tpName(tp)}`, { usage: true })
    return { ...tp, offset }
  })
}

function dedupe(tps: readonly TopicPartition[]): TopicPartition[] {
  const seen = new Set<string>()
  return tps.filter((tp) => {
    const k = tpKey(tp.topic, tp.partition)
    if (seen.has(k)) return false
    seen.add(k)
    return true
  })
}

/**
 * Plans a reset of one group's committed offsets, as `--reset-offsets` does for
 * an inactive group: collects the partitions in scope, checks they exist and
 * have a leader, then computes each target. It does not look at the group's
 * state and changes nothing; `resetGroupOffsets` does both.
 */
export async function planOffsetReset(
  admin: Admin,
  groupId: string,
  scenario: ResetScenario | null,
  options: PlanOptions,
): Promise<ResetPlan> {
  const planner = new Planner(admin, options.timeoutMs)
  const notices: ResetNotice[] = []
  const tps = dedupe(await partitionsToReset(planner, groupId, scenario, options.scope))
  await checkValid(planner, tps)
  // Kafka checks for a scenario only here, after the scope and the partitions.
  if (scenario === null) throw new OffsetResetError(NO_SCENARIO, { usage: true })
  let offsets: ResetTarget[]
  switch (scenario.type) {
    case 'to-offset':
      offsets = await clamp(
        planner,
        tps.map((tp) => ({ ...tp, offset: scenario.offset })),
        notices,
      )
      break
    case 'to-earliest':
      offsets = await fromLog(planner, tps, OffsetSpec.earliest, 'starting')
      break
    case 'to-latest':
      offsets = await fromLog(planner, tps, OffsetSpec.latest, 'ending')
      break
    case 'shift-by': {
      const committed = await planner.committed(groupId)
      const requested = tps.map((tp) => {
        const current = committed.get(tpKey(tp.topic, tp.partition))
        if (current === undefined) {
          throw new OffsetResetError(`Cannot shift offset for partition ${tpName(tp)} since there is no current committed offset`, {
            usage: true,
          })
        }
        return { ...tp, offset: current + scenario.shift }
      })
      offsets = await clamp(planner, requested, notices)
      break
    }
    case 'to-datetime':
      offsets = await byTimestamp(planner, tps, parseResetDateTime(scenario.datetime), notices)
      break
    case 'by-duration':
      offsets = await byTimestamp(planner, tps, durationTarget(scenario.duration, options.now ?? Date.now()), notices)
      break
    case 'from-file': {
      const planned = scenario.plan.get(groupId)
      if (planned === undefined) {
        notices.push({ kind: 'no-plan-for-group', groupId })
        offsets = []
      } else offsets = await clamp(planner, planned, notices)
      break
    }
    case 'to-current': {
      const committed = await planner.committed(groupId)
      const without = tps.filter((tp) => !committed.has(tpKey(tp.topic, tp.partition)))
      const ends = await planner.offsets(without, OffsetSpec.latest)
      offsets = tps.map((tp) => {
        const k = tpKey(tp.topic, tp.partition)
        const offset = committed.get(k) ?? ends.get(k)
        if (offset === undefined) {
          throw new OffsetResetError(`Error getting ending offset of topic partition: ${tpName(tp)}`, {
            javaClass: 'java.lang.IllegalStateException',
          })
        }
        return { ...tp, offset }
      })
      break
    }
  }
  return { groupId, offsets: offsets.sort(compareTopicPartition), notices }
}

export interface GroupResetResult {
  groupId: string
  /** As DescribeGroups reported it; a missing group is `Dead`. */
  state: GroupState
  /** The group has members (any state but Empty and Dead): nothing was planned or changed. */
  refused: boolean
  /** Empty when refused. */
  offsets: ResetTarget[]
  notices: ResetNotice[]
  /** The offsets were committed (execute and not refused). */
  executed: boolean
}

export interface ResetOptions extends PlanOptions {
  /** Null: none was given, which fails (as a usage error) once a group that is not refused is planned. */
  scenario: ResetScenario | null
  /** Commit the planned offsets (default false: a dry run). */
  execute?: boolean
  /** Called for each group once it is refused or planned, before its offsets are committed (Kafka's tool prints as it goes). */
  onGroup?: (result: Omit<GroupResetResult, 'executed'>) => void
}

/**
 * `--reset-offsets` for each group in turn: a group in a state other than
 * Empty or Dead (or missing) is refused — its members would overwrite the
 * offsets — otherwise its offsets are planned and, with `execute`, committed
 * as an admin (OffsetCommit with generation -1). Throws OffsetResetError or
 * the admin client's error for the first group that fails.
 */
export async function resetGroupOffsets(admin: Admin, groupIds: readonly string[], options: ResetOptions): Promise<GroupResetResult[]> {
  const unique = [...new Set(groupIds)]
  const described = await admin.describeGroups(unique)
  for (const groupId of unique) {
    const error = described.get(groupId)?.error
    // Kafka wraps the failed describe in a RuntimeException.
    if (error) throw new OffsetResetError(`java.util.concurrent.ExecutionException: ${javaExceptionString(error)}`, { cause: error })
  }
  const out: GroupResetResult[] = []
  for (const groupId of unique) {
    const state = described.get(groupId)?.state ?? 'Dead'
    if (state !== 'Empty' && state !== 'Dead') {
      const refused = { groupId, state, refused: true, offsets: [], notices: [] }
      options.onGroup?.(refused)
      out.push({ ...refused, executed: false })
      continue
    }
    const plan = await planOffsetReset(admin, groupId, options.scenario, options)
    const planned = { groupId, state, refused: false, offsets: plan.offsets, notices: plan.notices }
    options.onGroup?.(planned)
    if (options.execute && plan.offsets.length > 0) {
      const results = await admin.alterGroupOffsets(groupId, plan.offsets)
      const failed = results.find((r) => r.error)
      if (failed?.error) throw new OffsetResetError(errorText(failed.error), { cause: failed.error })
    }
    out.push({ ...planned, executed: options.execute === true })
  }
  return out
}
