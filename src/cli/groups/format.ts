/**
 * The text kafka-consumer-groups.sh prints, as pure functions from the admin
 * client's results to `{ out, err }` (stdout and stderr), byte for byte:
 * printf layouts with `%-Ns` columns whose widths grow with the longest value
 * (never below Kafka's minimums), tables that start with `\n` and rows printed
 * as `\n` + row, `-` for a missing value, the trailing spaces of `%-15s `
 * formats, and which message goes to which stream. Sources: Kafka's
 * ConsumerGroupCommand.java and GroupOffsetsResetter.java (trunk, 2025).
 */
import type { CommittedOffset, GroupDescription, GroupState, MemberDescription, TopicPartition } from '../../admin/groups.ts'
import { javaException, javaExceptionString, OffsetResetError, type ResetNotice, type ResetTarget } from '../../admin/offset-reset.ts'
import { KafkaError } from '../../protocol/errors.ts'
import { javaHashOrder, javaStringHash, javaTopicPartitionHash, padRight } from './java.ts'

/** What one piece of the command prints on each stream. */
export interface Chunk {
  stream: 'out' | 'err'
  text: string
}

export interface Printed {
  out: string
  err: string
}

export const MISSING = '-'

/**
 * What each stream gets, plus (non-enumerable, so the golden tests compare the two streams alone)
 * the order in which Kafka's tool writes them: "has no active members" on stderr comes before its
 * group's table on stdout, and with several groups each message stays next to its table.
 */
const ORDER = Symbol('chunks')
type Ordered = Printed & { [ORDER]?: Chunk[] }

function withOrder(out: string, err: string, chunks: Chunk[]): Printed {
  const p: Ordered = { out, err }
  Object.defineProperty(p, ORDER, { value: chunks, enumerable: false })
  return p
}

export function chunksOf(p: Printed): Chunk[] {
  const c = (p as Ordered)[ORDER]
  if (c) return c
  const out: Chunk[] = []
  if (p.out) out.push({ stream: 'out', text: p.out })
  if (p.err) out.push({ stream: 'err', text: p.err })
  return out
}

export function printed(out = '', err = ''): Printed {
  const chunks: Chunk[] = []
  if (out) chunks.push({ stream: 'out', text: out })
  if (err) chunks.push({ stream: 'err', text: err })
  return withOrder(out, err, chunks)
}

export function concat(parts: readonly Printed[]): Printed {
  return withOrder(
    parts.map((p) => p.out).join(''),
    parts.map((p) => p.err).join(''),
    parts.flatMap((p) => chunksOf(p)),
  )
}

/** ConsumerGroupCommand.printError: `\nError: <msg>` on stdout. */
export function errorLine(message: string): string {
  return `\nError: ${message}\n`
}

/**
 * The failure Kafka's tool reports for any exception it did not expect: a line on stdout and the exception
 * on stderr (Kafka prints its stack trace there). A failed admin call reaches Kafka's tool as an
 * ExecutionException, whose message is its cause's `class: message`; a reset failure carries Kafka's text.
 */
export function commandFailed(err: Error): Printed {
  const text = err instanceof OffsetResetError ? err.message : javaExceptionString(err)
  return printed(errorLine(`Executing consumer group command failed due to ${text}`), `${javaExceptionString(err)}\n`)
}

/** Kafka's GroupState names; parse is case-insensitive, printing uses these spellings. */
const STATES = ['Stable', 'Empty', 'Dead', 'PreparingRebalance', 'CompletingRebalance', 'Assigning', 'Reconciling'] as const
const REBALANCING = new Set<string>(['PreparingRebalance', 'CompletingRebalance', 'Assigning', 'Reconciling'])

/** The state as Kafka prints it (`Unknown` for one it does not know). */
export function canonicalState(state: string | null): string {
  if (state === null) return 'Unknown'
  return STATES.find((s) => s.toLowerCase() === state.toLowerCase()) ?? 'Unknown'
}

/**
 * ConsumerGroupService.shouldPrintMemberState: the message for the group's
 * state (Dead: an error on stdout; Empty, rebalancing: a notice on stderr),
 * and whether its rows are printed (not Dead, and some rows). A group absent
 * from the result (`rows` null) "does not exist". An unknown state is Kafka's
 * KafkaException, thrown.
 */
export function stateMessage(group: string, state: GroupState | null, rows: number | null): { printed: Printed; print: boolean } {
  if (rows === null) return { printed: printed(errorLine(`The consumer group '${group}' does not exist.`)), print: false }
  const s = canonicalState(state)
  if (s === 'Dead') return { printed: printed(errorLine(`Consumer group '${group}' does not exist.`)), print: false }
  if (s === 'Empty') return { printed: printed('', `\nConsumer group '${group}' has no active members.\n`), print: rows > 0 }
  if (REBALANCING.has(s)) return { printed: printed('', `\nWarning: Consumer group '${group}' is rebalancing.\n`), print: rows > 0 }
  if (s === 'Stable') return { printed: printed(), print: rows > 0 }
  throw new Error(`Expected a valid consumer group state, but found '${s}'.`)
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

/** Groups in the order Kafka prints them (a TreeMap: sorted by id). */
export function sortedGroups<T extends { groupId: string }>(groups: readonly T[]): T[] {
  const seen = new Map<string, T>()
  for (const g of groups) seen.set(g.groupId, g)
  return [...seen.values()].sort((a, b) => compareStrings(a.groupId, b.groupId))
}

// ---- --list ----------------------------------------------------------------------------------

export interface ListedGroup {
  groupId: string
  /** As ListGroups v5 reports it (`classic`, `consumer`); null from older brokers. */
  type: string | null
  state: GroupState | null
}

const TYPES = ['Classic', 'Consumer', 'Share', 'Streams']

function canonicalType(type: string | null): string {
  return TYPES.find((t) => t.toLowerCase() === (type ?? '').toLowerCase()) ?? 'Unknown'
}

/** `--list`: one id a line; with `--state`/`--type`, a table: `%-{W}s` (W = max(15, longest id) + 10) then ` %-20s` per column, each line ending in a newline. */
export function formatList(groups: readonly ListedGroup[], includeType: boolean, includeState: boolean): Printed {
  if (!includeType && !includeState) return printed(groups.map((g) => `${g.groupId}\n`).join(''))
  const width = Math.max(15, ...groups.map((g) => g.groupId.length)) + 10
  const line = (cells: string[]) => {
    let s = padRight(cells[0] as string, width)
    for (const c of cells.slice(1)) s += ` ${padRight(c, 20)}`
    return `${s}\n`
  }
  const header = ['GROUP', ...(includeType ? ['TYPE'] : []), ...(includeState ? ['STATE'] : [])]
  let out = line(header)
  for (const g of groups) {
    out += line([g.groupId, ...(includeType ? [canonicalType(g.type)] : []), ...(includeState ? [canonicalState(g.state)] : [])])
  }
  return printed(out)
}

// ---- --describe (--offsets) -------------------------------------------------------------------

export interface OffsetRow {
  group: string
  topic: string
  partition: number
  /** The committed leader epoch (shown with --verbose). */
  leaderEpoch: number | null
  /** The committed offset; null without a commit. */
  offset: bigint | null
  /** Null when unknown. */
  logEndOffset: bigint | null
  /** logEndOffset − offset, not clamped; null when either is unknown. */
  lag: bigint | null
  /** Null for a committed partition no member owns. */
  consumerId: string | null
  host: string | null
  clientId: string | null
}

function tpKey(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`
}

/**
 * The offsets view's rows for one group, in Kafka's order: members that own
 * partitions, by partition count descending (ties keep the coordinator's
 * member order), each member's partitions by topic then partition; then the
 * committed partitions no member owns, by topic then partition. A member
 * without partitions has no row.
 */
export function offsetRows(
  description: GroupDescription,
  committed: readonly CommittedOffset[],
  logEndOffsets: ReadonlyMap<string, bigint>,
): OffsetRow[] {
  const commits = new Map<string, CommittedOffset>()
  for (const c of committed) if (!c.error && c.offset >= 0n) commits.set(tpKey(c.topic, c.partition), c)
  const row = (tp: TopicPartition, owner: MemberDescription | null): OffsetRow => {
    const c = commits.get(tpKey(tp.topic, tp.partition))
    const end = logEndOffsets.get(tpKey(tp.topic, tp.partition)) ?? null
    const offset = c ? c.offset : null
    return {
      group: description.groupId,
      topic: tp.topic,
      partition: tp.partition,
      leaderEpoch: c ? c.leaderEpoch : null,
      offset,
      logEndOffset: end,
      lag: offset !== null && end !== null ? end - offset : null,
      consumerId: owner ? owner.memberId : null,
      host: owner ? owner.clientHost : null,
      clientId: owner ? owner.clientId : null,
    }
  }
  const byTp = (a: TopicPartition, b: TopicPartition) => compareStrings(a.topic, b.topic) || a.partition - b.partition
  const rows: OffsetRow[] = []
  const assigned = new Set<string>()
  const owners = description.members.filter((m) => m.assignment.length > 0).sort((a, b) => b.assignment.length - a.assignment.length)
  for (const m of owners) {
    const mine = dedupeTps(m.assignment).sort(byTp)
    for (const tp of mine) assigned.add(tpKey(tp.topic, tp.partition))
    for (const tp of mine) rows.push(row(tp, m))
  }
  const unowned = [...commits.values()].filter((c) => !assigned.has(tpKey(c.topic, c.partition))).sort(byTp)
  for (const c of unowned) rows.push(row(c, null))
  return rows
}

function dedupeTps<T extends TopicPartition>(tps: readonly T[]): T[] {
  const seen = new Set<string>()
  return tps.filter((tp) => {
    const k = tpKey(tp.topic, tp.partition)
    if (seen.has(k)) return false
    seen.add(k)
    return true
  })
}

export interface GroupOffsets {
  groupId: string
  state: GroupState
  rows: readonly OffsetRow[]
}

const str = (v: bigint | number | string | null): string => (v === null ? MISSING : String(v))

/** `--describe [--offsets] [--verbose]` for each group, sorted by id. */
export function formatOffsets(groups: readonly GroupOffsets[], verbose: boolean): Printed {
  const parts: Printed[] = []
  for (const g of sortedGroups(groups)) {
    const verdict = stateMessage(g.groupId, g.state, g.rows.length)
    parts.push(verdict.printed)
    if (!verdict.print) continue
    const G = Math.max(15, ...g.rows.map((r) => r.group.length))
    const T = Math.max(15, ...g.rows.map((r) => r.topic.length))
    const C = Math.max(15, ...g.rows.map((r) => (r.consumerId ?? MISSING).length))
    const H = Math.max(15, ...g.rows.map((r) => (r.host ?? MISSING).length))
    const line = (cells: string[]) => {
      const [group, topic, partition, ...rest] = cells as [string, string, string, ...string[]]
      const epoch = verbose ? [padRight(rest.shift() as string, 15)] : []
      const [current, end, lag, consumer, host, client] = rest as [string, string, string, string, string, string]
      return `\n${[
        padRight(group, G),
        padRight(topic, T),
        padRight(partition, 10),
        ...epoch,
        padRight(current, 15),
        padRight(end, 15),
        padRight(lag, 15),
        padRight(consumer, C),
        padRight(host, H),
        client,
      ].join(' ')}`
    }
    let out = line([
      'GROUP',
      'TOPIC',
      'PARTITION',
      ...(verbose ? ['LEADER-EPOCH'] : []),
      'CURRENT-OFFSET',
      'LOG-END-OFFSET',
      'LAG',
      'CONSUMER-ID',
      'HOST',
      'CLIENT-ID',
    ])
    for (const r of g.rows) {
      out += line([
        r.group,
        r.topic,
        String(r.partition),
        ...(verbose ? [str(r.leaderEpoch)] : []),
        str(r.offset),
        str(r.logEndOffset),
        str(r.lag),
        str(r.consumerId),
        str(r.host),
        str(r.clientId),
      ])
    }
    parts.push(printed(`${out}\n`))
  }
  return concat(parts)
}

// ---- --describe --members ----------------------------------------------------------------------

/** Kafka's assignment string: `topicA:0,1,2;topicB:0` — partitions sorted numerically, the `topic:…` strings sorted. */
export function assignmentString(tps: readonly TopicPartition[]): string {
  if (tps.length === 0) return MISSING
  const byTopic = new Map<string, number[]>()
  for (const tp of tps) {
    let l = byTopic.get(tp.topic)
    if (!l) byTopic.set(tp.topic, (l = []))
    l.push(tp.partition)
  }
  return [...byTopic]
    .map(([topic, ps]) => `${topic}:${[...ps].sort((a, b) => a - b).join(',')}`)
    .sort(compareStrings)
    .join(';')
}

/** `--describe --members [--verbose]` for each group, sorted by id. The header is printed even without members. */
export function formatMembers(groups: readonly GroupDescription[], verbose: boolean): Printed {
  const parts: Printed[] = []
  for (const g of sortedGroups(groups)) {
    const verdict = stateMessage(g.groupId, g.state, g.members.length)
    parts.push(verdict.printed)
    let G = 15
    let C = 15
    let I = 17
    let H = 15
    let CL = 15
    let A = 20
    let TA = 20
    let withInstanceId = false
    if (verdict.print) {
      for (const m of g.members) {
        G = Math.max(G, g.groupId.length)
        C = Math.max(C, m.memberId.length)
        I = Math.max(I, (m.groupInstanceId ?? '').length)
        H = Math.max(H, m.clientHost.length)
        CL = Math.max(CL, m.clientId.length)
        withInstanceId ||= (m.groupInstanceId ?? '') !== ''
        A = Math.max(A, assignmentString(m.assignment).length)
        TA = Math.max(TA, MISSING.length)
      }
    }
    const head = (cells: { group: string; id: string; instance: string; host: string; client: string; count: string }) =>
      withInstanceId
        ? `${padRight(cells.group, G)} ${padRight(cells.id, C)} ${padRight(cells.instance, I)} ${padRight(cells.host, H)} ${padRight(cells.client, CL)} ${padRight(cells.count, 15)} `
        : `${padRight(cells.group, G)} ${padRight(cells.id, C)} ${padRight(cells.host, H)} ${padRight(cells.client, CL)} ${padRight(cells.count, 15)} `
    const tail = (epoch: string, current: string, targetEpoch: string, target: string) =>
      `${padRight(epoch, 15)} ${padRight(current, A)} ${padRight(targetEpoch, 15)} ${padRight(target, TA)}`
    let out = `\n${head({ group: 'GROUP', id: 'CONSUMER-ID', instance: 'GROUP-INSTANCE-ID', host: 'HOST', client: 'CLIENT-ID', count: '#PARTITIONS' })}`
    if (verbose) out += tail('CURRENT-EPOCH', 'CURRENT-ASSIGNMENT', 'TARGET-EPOCH', 'TARGET-ASSIGNMENT')
    out += '\n'
    for (const m of g.members) {
      out += head({
        group: g.groupId,
        id: m.memberId,
        instance: m.groupInstanceId ?? '',
        host: m.clientHost,
        client: m.clientId,
        count: String(m.assignment.length),
      })
      // Classic groups have no member epochs and no target assignment.
      if (verbose) out += tail(MISSING, assignmentString(m.assignment), MISSING, MISSING)
      out += '\n'
    }
    parts.push(printed(out))
  }
  return concat(parts)
}

// ---- --describe --state ------------------------------------------------------------------------

/** `--describe --state [--verbose]` for each group, sorted by id. The coordinator cell is `host:port  (id)` (two spaces, as Kafka's source has it). */
export function formatState(groups: readonly GroupDescription[], verbose: boolean): Printed {
  const parts: Printed[] = []
  for (const g of sortedGroups(groups)) {
    const verdict = stateMessage(g.groupId, g.state, 1)
    parts.push(verdict.printed)
    if (!verdict.print) continue
    const c = g.coordinator
    const coordinator = c ? `${c.host}:${c.port}  (${c.nodeId})` : `${MISSING}:${MISSING}  (${MISSING})`
    const CO = Math.max(25, coordinator.length)
    const G = Math.max(15, g.groupId.length)
    const strategy = g.protocol === '' ? MISSING : g.protocol
    const line = (cells: string[]) => {
      const [group, co, st, state, ...rest] = cells as [string, string, string, string, ...string[]]
      const epochs = verbose ? [padRight(rest[0] as string, 15), padRight(rest[1] as string, 25)] : []
      return `\n${[padRight(group, G), padRight(co, CO), padRight(st, 20), padRight(state, 20), ...epochs, rest[rest.length - 1]].join(' ')}`
    }
    const header = line([
      'GROUP',
      'COORDINATOR (ID)',
      'ASSIGNMENT-STRATEGY',
      'STATE',
      ...(verbose ? ['GROUP-EPOCH', 'TARGET-ASSIGNMENT-EPOCH'] : []),
      '#MEMBERS',
    ])
    const row = line([
      g.groupId,
      coordinator,
      strategy,
      canonicalState(g.state),
      ...(verbose ? [MISSING, MISSING] : []),
      String(g.members.length),
    ])
    parts.push(printed(`${header}${row}\n`))
  }
  return concat(parts)
}

// ---- --reset-offsets ---------------------------------------------------------------------------

export interface GroupResetPlan {
  groupId: string
  offsets: readonly ResetTarget[]
}

/** The plan in the order Kafka prints it: java.util.HashMap iteration, of the groups and of each group's partitions. */
export function javaPlanOrder(plans: readonly GroupResetPlan[]): GroupResetPlan[] {
  const groups = javaHashOrder(sortedGroups(plans), (p) => javaStringHash(p.groupId))
  return groups.map((p) => ({ groupId: p.groupId, offsets: javaHashOrder(p.offsets, (o) => javaTopicPartitionHash(o.topic, o.partition)) }))
}

/**
 * The reset plan table: `%n%-{G}s %-{T}s %-10s %s` (GROUP TOPIC PARTITION
 * NEW-OFFSET), the header only when some group was considered (a refused
 * group counts), then a newline.
 */
export function formatResetPlan(plans: readonly GroupResetPlan[]): Printed {
  const ordered = javaPlanOrder(plans)
  const G = Math.max(15, ...ordered.map((p) => p.groupId.length))
  const T = Math.max(15, ...ordered.flatMap((p) => p.offsets.map((o) => o.topic.length)))
  const line = (g: string, t: string, p: string, o: string) => `\n${padRight(g, G)} ${padRight(t, T)} ${padRight(p, 10)} ${o}`
  let out = ordered.length > 0 ? line('GROUP', 'TOPIC', 'PARTITION', 'NEW-OFFSET') : ''
  for (const p of ordered) for (const o of p.offsets) out += line(p.groupId, o.topic, String(o.partition), String(o.offset))
  return printed(`${out}\n`)
}

/** Kafka's refusal for a group with members. */
export function resetRefused(groupId: string, state: string): Printed {
  return printed(
    errorLine(`Assignments can only be reset if the group '${groupId}' is inactive, but the current state is ${canonicalState(state)}.`),
  )
}

/**
 * What Kafka's tool says while planning: clamping is a WARN from its logger
 * (stderr, `[time] WARN … (org.apache.kafka.tools.GroupOffsetsResetter)`);
 * an empty partition for a datetime is a `Warn:` line on stdout; a group
 * missing from the file an `Error:` line on stdout.
 */
export function formatResetNotice(n: ResetNotice, logTime: string): Printed {
  const logger = (msg: string) => printed('', `[${logTime}] WARN ${msg} (org.apache.kafka.tools.GroupOffsetsResetter)\n`)
  switch (n.kind) {
    case 'clamped-to-end':
      return logger(
        `New offset (${n.requested}) is higher than latest offset for topic partition ${n.topic}-${n.partition}. Value will be set to ${n.offset}.`,
      )
    case 'clamped-to-start':
      return logger(
        `New offset (${n.requested}) is lower than earliest offset for topic partition ${n.topic}-${n.partition}. Value will be set to ${n.offset}.`,
      )
    case 'no-offset-for-timestamp':
      return printed(`\nWarn: Partition ${n.partition} from topic ${n.topic} is empty. Falling back to latest known offset.\n`)
    case 'no-plan-for-group':
      return printed(errorLine(`No reset plan for group ${n.groupId} found.`))
  }
}

/** log4j's `%d`: `yyyy-MM-dd HH:mm:ss,SSS` in local time. */
export function logTimestamp(at: Date): string {
  const p = (n: number, w = 2) => String(n).padStart(w, '0')
  return `${at.getFullYear()}-${p(at.getMonth() + 1)}-${p(at.getDate())} ${p(at.getHours())}:${p(at.getMinutes())}:${p(at.getSeconds())},${p(at.getMilliseconds(), 3)}`
}

// ---- --delete ----------------------------------------------------------------------------------

export interface DeleteResult {
  groupId: string
  error: Error | null
}

/** `--delete`: success or the failures, groups in java.util.HashMap order, errors as Java prints the exception. */
export function formatDelete(results: readonly DeleteResult[]): Printed {
  const all = javaHashOrder(sortedGroups(results), (r) => javaStringHash(r.groupId))
  const ok = all.filter((r) => r.error === null)
  const failed = all.filter((r) => r.error !== null)
  const quoted = (rs: readonly DeleteResult[]) => rs.map((r) => `'${r.groupId}'`).join(', ')
  if (failed.length === 0)
    return printed(
      `Deletion of requested consumer groups (${quoted(javaHashOrder(ok, (r) => javaStringHash(r.groupId)))}) was successful.\n`,
    )
  let out = errorLine('Deletion of some consumer groups failed:')
  for (const r of javaHashOrder(failed, (x) => javaStringHash(x.groupId))) {
    out += `* Group '${r.groupId}' could not be deleted due to: ${javaExceptionString(r.error as Error)}\n`
  }
  if (ok.length > 0)
    out += `\nThese consumer groups were deleted successfully: ${quoted(javaHashOrder(ok, (r) => javaStringHash(r.groupId)))}\n`
  return printed(out)
}

// ---- --delete-offsets --------------------------------------------------------------------------

export interface DeleteOffsetsRow {
  topic: string
  /** -1 for a topic whose partitions could not be listed (printed as `-`). */
  partition: number
  error: Error | null
}

const PARTITION_LEVEL = new Set(['GROUP_SUBSCRIBED_TO_TOPIC', 'TOPIC_AUTHORIZATION_FAILED', 'UNKNOWN_TOPIC_OR_PARTITION'])
const GROUP_LEVEL = new Set(['INVALID_GROUP_ID', 'GROUP_ID_NOT_FOUND', 'GROUP_AUTHORIZATION_FAILED', 'NON_EMPTY_GROUP'])

/**
 * `--delete-offsets`: the verdict line Kafka picks from the request's outcome
 * (`topLevel`: the group-level error, or else the first failed partition's, as
 * DeleteConsumerGroupOffsetsResult.all() reports it), then the table
 * `%n%-{T}s %-10s %-15s` (TOPIC PARTITION STATUS) sorted by topic+partition
 * as text.
 */
export function formatDeleteOffsets(groupId: string, topLevel: Error | null, rows: readonly DeleteOffsetsRow[]): Printed {
  let out: string
  const name = topLevel instanceof KafkaError ? topLevel.errorName : topLevel ? 'UNKNOWN_SERVER_ERROR' : 'NONE'
  if (name === 'NONE') out = `Request succeeded for deleting offsets from group ${groupId}.\n`
  else if (GROUP_LEVEL.has(name)) out = errorLine(javaException(topLevel as Error).message)
  else if (PARTITION_LEVEL.has(name)) out = errorLine('Encountered some partition-level error, see the follow-up details.')
  else out = errorLine(`Encountered some unknown error: ${name}`)
  const T = Math.max(15, ...rows.map((r) => r.topic.length))
  const line = (t: string, p: string, s: string) => `\n${padRight(t, T)} ${padRight(p, 10)} ${padRight(s, 15)}`
  out += line('TOPIC', 'PARTITION', 'STATUS')
  const sorted = [...rows].sort((a, b) => compareStrings(`${a.topic}${a.partition}`, `${b.topic}${b.partition}`))
  for (const r of sorted) {
    out += line(
      r.topic,
      r.partition >= 0 ? String(r.partition) : MISSING,
      r.error ? `Error: ${javaExceptionString(r.error)}` : 'Successful',
    )
  }
  return printed(`${out}\n`)
}

// ---- --validate-regex --------------------------------------------------------------------------

/** `--validate-regex`: whether the expression compiles (JavaScript's syntax stands in for RE2's). */
export function formatValidateRegex(regex: string): Printed {
  try {
    new RegExp(regex, 'u')
    return printed(`The regular expression \`${regex}\` is valid.\n`)
  } catch (err) {
    const why = (err as Error).message.replace(/^Invalid regular expression: \/.*\/[a-z]*: /, '')
    return printed(`The regular expression \`${regex}\` is invalid: ${why}.\n`)
  }
}
