/**
 * `cohort groups`: kafka-consumer-groups.sh's actions on Cohort's admin
 * client. Arguments are checked as Kafka checks them (options.ts), data is
 * collected with the admin client, text comes from format.ts, JSON from
 * json.ts. Exit codes are Kafka's: 1 for what Kafka reports as a usage error,
 * 0 otherwise — including the failures Kafka's tool prints as
 * "Error: Executing consumer group command failed due to …", a group that does
 * not exist, a refused reset and failed deletions (see docs/groups.md).
 */
import { readFileSync } from 'node:fs'
import { Admin, type AdminOptions } from '../../admin/admin.ts'
import type { GroupDescription, TopicPartition } from '../../admin/groups.ts'
import {
  formatResetCsv,
  type GroupResetResult,
  javaExceptionString,
  OffsetResetError,
  parseResetCsv,
  parseTopicSelection,
  type ResetScenario,
  type ResetScope,
  resetGroupOffsets,
} from '../../admin/offset-reset.ts'
import { listOffsets, OffsetSpec, tpKey } from '../../client/cluster/offsets.ts'
import { ListGroups } from '../../protocol/apis/index.ts'
import { ErrorCode, KafkaError } from '../../protocol/errors.ts'
import { DEFAULT_BOOTSTRAP } from '../common.ts'
import {
  chunksOf,
  commandFailed,
  type DeleteOffsetsRow,
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
  javaPlanOrder,
  type ListedGroup,
  logTimestamp,
  offsetRows,
  type Printed,
  resetRefused,
} from './format.ts'
import { formatRebalanceHistory, type GroupHistory, historyJson } from './history.ts'
import { javaHashOrder, javaStringHash, javaTopicPartitionHash } from './java.ts'
import * as J from './json.ts'
import {
  type Action,
  action,
  checkArgs,
  HELP_MESSAGE,
  longValue,
  OptionParseError,
  type ParsedArgs,
  parseArgs,
  parseStates,
  parseTypes,
  UsageError,
  usage,
} from './options.ts'

/** Where the command writes (stdout, stderr). */
export interface GroupsIo {
  out(text: string): void
  err(text: string): void
}

export interface GroupsDeps {
  /** Printed for --version. */
  version: string
  /** Opens the admin client (tests may pass their own). */
  admin?: (options: AdminOptions) => Admin
  /** The clock for --by-duration and log lines. */
  now?: () => number
  /**
   * The rebalance history for --history (groups-command.ts reads it with
   * `Admin.describeRebalanceHistory`); without it the command reports that the
   * option is not available.
   */
  history?: (admin: Admin, groupIds: readonly string[]) => Promise<GroupHistory[]>
}

/** Properties that `--command-config` may set, mapped to the admin client's options. */
const COMMAND_CONFIG: Record<string, keyof AdminOptions> = {
  'client.id': 'clientId',
  'request.timeout.ms': 'requestTimeoutMs',
  'default.api.timeout.ms': 'defaultApiTimeoutMs',
  'retry.backoff.ms': 'retryBackoffMs',
  'retry.backoff.max.ms': 'retryBackoffMaxMs',
  'socket.connection.setup.timeout.ms': 'socketConnectionSetupTimeoutMs',
  'connections.max.idle.ms': 'connectionsMaxIdleMs',
  'metadata.max.age.ms': 'metadataMaxAgeMs',
}

/** A Java properties file's `key=value` (or `key: value`) lines; `#` and `!` start comments. */
function readProperties(path: string): Map<string, string> {
  const out = new Map<string, string>()
  for (const raw of readFileSync(path, 'utf8').split(/\r?\n/)) {
    const line = raw.trim()
    if (line === '' || line.startsWith('#') || line.startsWith('!')) continue
    const m = /^([^=:\s]+)\s*[=:\s]\s*(.*)$/.exec(line)
    if (m) out.set(m[1] as string, m[2] as string)
  }
  return out
}

function adminOptions(o: ParsedArgs, timeoutMs: number): AdminOptions {
  const options: AdminOptions = { bootstrapServers: o.value('bootstrap-server') ?? DEFAULT_BOOTSTRAP, clientId: 'cohort-groups' }
  const file = o.value('command-config')
  if (file !== null) {
    for (const [k, v] of readProperties(file)) {
      const name = COMMAND_CONFIG[k]
      if (name === undefined) continue
      ;(options as Record<string, unknown>)[name] = name === 'clientId' ? v : Number(v)
    }
  }
  // --timeout is each admin call's budget (Kafka's AbstractOptions.timeoutMs).
  options.defaultApiTimeoutMs = timeoutMs
  options.requestTimeoutMs = Math.min(options.requestTimeoutMs ?? timeoutMs, timeoutMs)
  return options
}

const CONSUMER_PROTOCOL_TYPES = new Set(['consumer', ''])

/**
 * Consumer groups (protocol type `consumer`, or none: groups that only
 * committed offsets) from every broker, with their type and state;
 * ListGroups' own filters where given. Sorted by id.
 */
async function listConsumerGroups(admin: Admin, states: readonly string[] = [], types: readonly string[] = []): Promise<ListedGroup[]> {
  const meta = await admin.cluster.refreshMetadata([])
  const nodes = meta.brokers.size > 0 ? [...meta.brokers.keys()] : ['any' as const]
  const answers = await Promise.all(
    nodes.map((n) =>
      admin.cluster.send(
        n,
        ListGroups,
        { statesFilter: [...states], typesFilter: types.map((t) => t.toLowerCase()) },
        { errorCode: (r) => r.errorCode, versions: { min: types.length > 0 ? 5 : states.length > 0 ? 4 : 0 } },
      ),
    ),
  )
  const out = new Map<string, ListedGroup>()
  for (const res of answers) {
    if (res.errorCode !== ErrorCode.NONE) throw new KafkaError(res.errorCode)
    for (const g of res.groups) {
      if (!CONSUMER_PROTOCOL_TYPES.has(g.protocolType)) continue
      out.set(g.groupId, {
        groupId: g.groupId,
        type: g.groupType === '' ? null : g.groupType,
        state: g.groupState === '' ? null : g.groupState,
      })
    }
  }
  return [...out.values()].sort((a, b) => (a.groupId < b.groupId ? -1 : a.groupId > b.groupId ? 1 : 0))
}

/** DescribeGroups for each group; the first group-level failure fails the command, as Kafka's describeConsumerGroups(...).get() does. */
async function describe(admin: Admin, groupIds: readonly string[]): Promise<GroupDescription[]> {
  const described = await admin.describeGroups([...new Set(groupIds)])
  const out: GroupDescription[] = []
  for (const d of described.values()) {
    if (d.error) throw d.error
    out.push(d)
  }
  return out
}

/** The offsets view's data: committed offsets and log-end offsets of every row's partition (unknown ends print as `-`). */
async function collectOffsets(admin: Admin, descriptions: readonly GroupDescription[], timeoutMs: number): Promise<GroupOffsets[]> {
  return Promise.all(
    descriptions.map(async (d) => {
      const committed = await admin.listGroupOffsets(d.groupId)
      const draft = offsetRows(d, committed, new Map())
      const ends = new Map<string, bigint>()
      if (draft.length > 0) {
        const answers = await listOffsets(
          admin.cluster,
          draft.map((r) => ({ topic: r.topic, partition: r.partition, timestamp: OffsetSpec.latest })),
          { timeoutMs },
        )
        for (const [k, a] of answers) if (!a.error && a.offset >= 0n) ends.set(k, a.offset)
      }
      return { groupId: d.groupId, state: d.state, rows: offsetRows(d, committed, ends) }
    }),
  )
}

function scenarioOf(o: ParsedArgs, groupIds: readonly string[]): ResetScenario | null {
  if (o.has('to-offset')) return { type: 'to-offset', offset: longValue(o, 'to-offset') as bigint }
  if (o.has('to-earliest')) return { type: 'to-earliest' }
  if (o.has('to-latest')) return { type: 'to-latest' }
  if (o.has('shift-by')) return { type: 'shift-by', shift: longValue(o, 'shift-by') as bigint }
  if (o.has('to-datetime')) return { type: 'to-datetime', datetime: o.value('to-datetime') as string }
  if (o.has('by-duration')) return { type: 'by-duration', duration: o.value('by-duration') as string }
  if (o.has('from-file')) {
    const path = o.value('from-file') as string
    let text: string
    try {
      text = readFileSync(path, 'utf8')
    } catch (err) {
      // Kafka's Utils.readFileAsString fails with java.nio's exception, wrapped in a RuntimeException.
      const code = (err as NodeJS.ErrnoException).code
      const java =
        code === 'ENOENT'
          ? 'java.nio.file.NoSuchFileException'
          : code === 'EACCES'
            ? 'java.nio.file.AccessDeniedException'
            : 'java.io.IOException'
      throw new OffsetResetError(`${java}: ${path}`, { cause: err })
    }
    return { type: 'from-file', plan: parseResetCsv(text, groupIds.length === 1 ? (groupIds[0] as string) : null) }
  }
  if (o.has('to-current')) return { type: 'to-current' }
  return null
}

function scopeOf(o: ParsedArgs): ResetScope {
  if (o.has('all-topics')) return { allTopics: true }
  if (o.has('topic')) return { topics: o.values('topic').map(parseTopicSelection) }
  return null
}

class Runner {
  readonly #o: ParsedArgs
  readonly #io: GroupsIo
  readonly #deps: GroupsDeps
  readonly #json: boolean
  readonly #timeoutMs: number

  constructor(o: ParsedArgs, io: GroupsIo, deps: GroupsDeps, timeoutMs: number) {
    this.#o = o
    this.#io = io
    this.#deps = deps
    this.#json = o.value('output') === 'json'
    this.#timeoutMs = timeoutMs
  }

  print(p: Printed): void {
    for (const c of chunksOf(p)) this.#io[c.stream](c.text)
  }

  doc(doc: unknown): void {
    this.#io.out(J.render(doc))
  }

  async #groupIds(admin: Admin): Promise<string[]> {
    return this.#o.has('all-groups') ? (await listConsumerGroups(admin)).map((g) => g.groupId) : this.#o.values('group')
  }

  async list(admin: Admin): Promise<void> {
    const o = this.#o
    const includeState = o.has('state')
    const includeType = o.has('type')
    const states = includeState && o.value('state') ? parseStates(o.value('state') as string) : []
    const types = includeType && o.value('type') ? parseTypes(o.value('type') as string) : []
    const groups = await listConsumerGroups(admin, states, types)
    if (this.#json) this.doc(J.listJson(groups))
    else this.print(formatList(groups, includeType, includeState))
  }

  async describe(admin: Admin): Promise<void> {
    const o = this.#o
    const verbose = o.has('verbose')
    const groupIds = await this.#groupIds(admin)
    if (o.has('history')) return this.history(admin, groupIds, verbose)
    if (o.has('members')) {
      const groups = await describe(admin, groupIds)
      if (this.#json) this.doc(J.membersJson(groups))
      else this.print(formatMembers(groups, verbose))
    } else if (o.has('state')) {
      const groups = await describe(admin, groupIds)
      if (this.#json) this.doc(J.stateJson(groups))
      else this.print(formatState(groups, verbose))
    } else {
      const groups = await collectOffsets(admin, await describe(admin, groupIds), this.#timeoutMs)
      if (this.#json) this.doc(J.offsetsJson(groups))
      else this.print(formatOffsets(groups, verbose))
    }
  }

  async history(admin: Admin, groupIds: readonly string[], verbose: boolean): Promise<void> {
    if (!this.#deps.history)
      throw new UsageError('Option [history] needs the DescribeRebalanceHistory API, which this build does not call yet.')
    const groups = await this.#deps.history(admin, groupIds)
    if (this.#json) this.doc({ action: 'describe', view: 'history', groups: historyJson(groups) })
    else this.print(formatRebalanceHistory(groups, verbose))
  }

  async reset(admin: Admin): Promise<void> {
    const o = this.#o
    const execute = o.has('execute')
    const named = o.values('group')
    const groupIds = o.has('all-groups') ? (await listConsumerGroups(admin)).map((g) => g.groupId) : named
    const scenario = scenarioOf(o, named)
    const scope = scopeOf(o)
    const now = this.#deps.now ?? Date.now
    const done: Omit<GroupResetResult, 'executed'>[] = []
    const onGroup = (r: Omit<GroupResetResult, 'executed'>) => {
      done.push(r)
      if (this.#json) return
      if (r.refused) this.print(resetRefused(r.groupId, r.state))
      const stamp = logTimestamp(new Date(now()))
      // Kafka reports the notices of one group in its HashMap order of the partitions.
      const ordered = javaHashOrder(r.notices, (n) => ('topic' in n ? javaTopicPartitionHash(n.topic, n.partition) : 0))
      for (const n of ordered) this.print(formatResetNotice(n, stamp))
    }
    // Kafka walks the groups in the HashMap order of describeConsumerGroups' result.
    const order = javaHashOrder([...new Set(groupIds)].sort(), javaStringHash)
    try {
      await resetGroupOffsets(admin, order, { scenario, scope, execute, now: now(), timeoutMs: this.#timeoutMs, onGroup })
    } catch (err) {
      if (this.#json && !(err instanceof UsageError) && !(err instanceof OffsetResetError && err.usage)) {
        this.doc(J.resetJson(done, execute, failureMessage(err as Error)))
        return
      }
      throw err
    }
    if (o.has('export')) {
      const withGroup = named.length !== 1
      this.#io.out(`${formatResetCsv(javaPlanOrder(done), withGroup)}\n`)
    } else if (this.#json) this.doc(J.resetJson(done, execute))
    else this.print(formatResetPlan(done))
  }

  async delete(admin: Admin): Promise<void> {
    const groupIds = await this.#groupIds(admin)
    const results = [...(await admin.deleteGroups(groupIds)).values()].map((r) => ({ groupId: r.groupId, error: r.error }))
    if (this.#json) this.doc(J.deleteJson(results))
    else this.print(formatDelete(results))
  }

  async deleteOffsets(admin: Admin): Promise<void> {
    const o = this.#o
    const groupId = o.value('group') as string
    const topics = o.values('topic')
    const rows: DeleteOffsetsRow[] = []
    const explicit: TopicPartition[] = []
    for (const t of new Set(topics.filter((t) => t.includes(':')))) {
      const s = parseTopicSelection(t)
      for (const partition of s.partitions ?? []) explicit.push({ topic: s.topic, partition })
    }
    const whole = [...new Set(topics.filter((t) => !t.includes(':')))]
    const described = whole.length > 0 ? await admin.describeTopics(whole) : new Map()
    for (const topic of whole) {
      const d = described.get(topic)
      if (!d || d.error) rows.push({ topic, partition: -1, error: d?.error ?? new KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION) })
      else for (const p of d.partitions) explicit.push({ topic, partition: p.partition })
    }
    const seen = new Set<string>()
    const partitions = explicit.filter((tp) => !seen.has(tpKey(tp.topic, tp.partition)) && seen.add(tpKey(tp.topic, tp.partition)))
    const result = await admin.deleteGroupOffsets(groupId, partitions)
    const byTp = new Map(result.partitions.map((p) => [tpKey(p.topic, p.partition), p.error]))
    const partitionError = (tp: TopicPartition): Error | null => {
      if (result.error) return result.error
      const k = tpKey(tp.topic, tp.partition)
      if (!byTp.has(k)) return new Error(`Group offset deletion for partition "${tp.topic}-${tp.partition}" was not attempted`)
      return byTp.get(k) ?? null
    }
    // DeleteConsumerGroupOffsetsResult.all(): the group's error, else the first failed partition's (HashSet order).
    const firstFailed = javaHashOrder(partitions, (tp) => javaTopicPartitionHash(tp.topic, tp.partition))
      .map(partitionError)
      .find((e) => e !== null)
    const topLevel = result.error ?? firstFailed ?? null
    for (const tp of partitions) rows.push({ ...tp, error: partitionError(tp) })
    if (this.#json) this.doc(J.deleteOffsetsJson(groupId, topLevel, rows))
    else this.print(formatDeleteOffsets(groupId, topLevel, rows))
  }
}

function failureMessage(err: Error): string {
  return err instanceof OffsetResetError ? err.message : javaExceptionString(err)
}

/**
 * Runs `cohort groups` with `argv` (the arguments after `groups`) and returns
 * the exit code.
 */
export async function runGroups(argv: readonly string[], io: GroupsIo, deps: GroupsDeps): Promise<number> {
  let o: ParsedArgs
  try {
    o = parseArgs(argv)
  } catch (err) {
    if (!(err instanceof OptionParseError)) throw err
    io.err(`Exception in thread "main" joptsimple.${err.exception}: ${err.message}\n`)
    return 1
  }
  if (argv.length === 0 || o.has('help')) {
    io.err(`${HELP_MESSAGE}\n${usage()}`)
    return 1
  }
  if (o.has('version')) {
    io.out(`${deps.version}\n`)
    return 0
  }
  let act: Action
  try {
    checkArgs(o, (line) => io.err(`${line}\n`))
    act = action(o)
  } catch (err) {
    if (!(err instanceof UsageError)) throw err
    io.err(`${err.message}\n${usage()}`)
    return 1
  }
  if (act === 'validate-regex') {
    const p = formatValidateRegex(o.value('validate-regex') as string)
    io.out(p.out)
    return 0
  }
  const json = o.value('output') === 'json'
  let admin: Admin | undefined
  try {
    const timeoutMs = Number(longValue(o, 'timeout') ?? 5000n)
    admin = (deps.admin ?? ((opts) => new Admin(opts)))(adminOptions(o, timeoutMs))
    const runner = new Runner(o, io, deps, timeoutMs)
    switch (act) {
      case 'list':
        await runner.list(admin)
        break
      case 'describe':
        await runner.describe(admin)
        break
      case 'delete':
        await runner.delete(admin)
        break
      case 'reset-offsets':
        await runner.reset(admin)
        break
      case 'delete-offsets':
        await runner.deleteOffsets(admin)
        break
    }
    return 0
  } catch (err) {
    if (err instanceof UsageError || (err instanceof OffsetResetError && err.usage)) {
      io.err(`${err.message}\n${usage()}`)
      return 1
    }
    const e = err instanceof Error ? err : new Error(String(err))
    if (json) io.out(J.render(J.failureJson(act, failureMessage(e))))
    else {
      const p = commandFailed(e)
      io.out(p.out)
      io.err(p.err)
    }
    return 0
  } finally {
    await admin?.close().catch(() => {})
  }
}
