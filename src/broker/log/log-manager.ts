/**
 * The data directory: topics, their partition logs, and the background work
 * (roll, retention, compaction, recovery-point checkpoints, flush.ms).
 *
 * Topic metadata lives in the append-only metadata log and is rebuilt by
 * replaying it. Every change is written there first (and fdatasync'ed), then
 * applied to the directories, so a crash in between is finished on the next
 * open: missing partition directories are created, partition directories whose
 * `partition.metadata` names a topic id that is no longer live are deleted.
 * Deleting renames `<topic>-<p>` to `<topic>-<p>.<id hex>-delete` first, then
 * removes it in the background, as Kafka does.
 */
import fs from 'node:fs'
import fsp from 'node:fs/promises'
import path from 'node:path'
import { ErrorCode, KafkaError } from '../../protocol/errors.ts'
import { randomUuid } from '../../protocol/schema/uuid.ts'
import type { Clock } from '../../util/clock.ts'
import { syncDirSync } from './checkpoint.ts'
import { type FlushMode, FlushScheduler, type FsyncFn } from './group-commit.ts'
import { brokerTopicDefaults, compacts, DEFAULT_LOG_CONFIG, type LogConfig, parseLogConfig, validateTopicConfigs } from './log-config.ts'
import { METADATA_DIR, MetadataLog, type MetadataRecord, type TopicMeta } from './metadata-log.ts'
import { PartitionLog } from './partition-log.ts'

/** Broker settings the log reads (Kafka names; Cohort's BrokerConfig fits). Topic-level defaults come from the `log.*` keys. */
export interface BrokerLogDefaults {
  'log.flush.mode'?: FlushMode
  'log.segment.bytes'?: number | string
  'log.roll.ms'?: number | string
  'log.roll.hours'?: number | string
  'log.retention.ms'?: number | string
  'log.retention.minutes'?: number | string
  'log.retention.hours'?: number | string
  'log.retention.bytes'?: number | string
  'log.cleanup.policy'?: string
  'message.max.bytes'?: number | string
  'log.message.timestamp.type'?: string
  'log.index.interval.bytes'?: number | string
  'log.index.size.max.bytes'?: number | string
  'log.cleaner.delete.retention.ms'?: number | string
  'log.cleaner.min.compaction.lag.ms'?: number | string
  'log.flush.interval.messages'?: number | string
  'log.flush.interval.ms'?: number | string
  'min.insync.replicas'?: number | string
  /** Per-partition pause between two compactions (Kafka's log.cleaner.backoff.ms is the idle poll). Default 15000. */
  'log.cleaner.backoff.ms'?: number | string
  /** How often recovery points are written. Default 60000. */
  'log.flush.offset.checkpoint.interval.ms'?: number | string
}

export interface LogManagerDeps {
  clock: Clock
  log?: (msg: string) => void
  /** Injectable fdatasync (tests, benchmarks). */
  fsync?: FsyncFn
}

/** The effective config of a topic, plus the three facts the produce path asks for. */
export type TopicLogConfig = LogConfig & { readonly maxMessageBytes: number; readonly compact: boolean; readonly logAppendTime: boolean }

export type { TopicMeta } from './metadata-log.ts'

const PARTITION_METADATA = 'partition.metadata'
const PARTITION_DIR = /^(.+)-(\d+)$/

/** Never build a path from a name that could leave the data dir. */
function checkName(name: string): void {
  if (typeof name !== 'string' || name === '' || name === '.' || name === '..' || /[/\\\0]/.test(name) || name.length > 249) {
    throw new KafkaError(ErrorCode.INVALID_TOPIC_EXCEPTION, `illegal topic name ${JSON.stringify(name)}`)
  }
}

function num(v: number | string | undefined, def: number): number {
  if (v === undefined) return def
  const n = Number(v)
  return Number.isFinite(n) ? n : def
}

interface TopicState {
  meta: TopicMeta
  config: TopicLogConfig
  logs: PartitionLog[]
}

export class LogManager {
  readonly dataDir: string
  readonly scheduler: FlushScheduler
  readonly #clock: Clock
  readonly #log: (msg: string) => void
  readonly #brokerBase: LogConfig
  readonly #cleanerBackoffMs: number
  readonly #checkpointIntervalMs: number
  #meta: MetadataLog
  #topics = new Map<string, TopicState>()
  #byId = new Map<string, TopicState>()
  #lastCompaction = new Map<PartitionLog, number>()
  #lastFlush = new Map<PartitionLog, number>()
  #lastCheckpoint: number
  #cleaner: Promise<void> = Promise.resolve()
  #cleanerBusy = false
  #background = new Set<Promise<unknown>>()
  #closed = false

  private constructor(dataDir: string, defaults: BrokerLogDefaults, deps: LogManagerDeps, meta: MetadataLog, brokerBase: LogConfig) {
    this.dataDir = dataDir
    this.#clock = deps.clock
    this.#log = deps.log ?? ((m) => console.warn(m))
    this.scheduler = new FlushScheduler({ mode: defaults['log.flush.mode'] ?? 'fsync', fsync: deps.fsync, log: this.#log })
    this.#brokerBase = brokerBase
    this.#cleanerBackoffMs = num(defaults['log.cleaner.backoff.ms'], 15_000)
    this.#checkpointIntervalMs = num(defaults['log.flush.offset.checkpoint.interval.ms'], 60_000)
    this.#meta = meta
    this.#lastCheckpoint = deps.clock.now()
  }

  /** Opens the data dir: replays the metadata log, finishes interrupted deletions, opens (recovering) every partition. */
  static async open(dataDir: string, defaults: BrokerLogDefaults, deps: LogManagerDeps): Promise<LogManager> {
    fs.mkdirSync(dataDir, { recursive: true })
    const log = deps.log ?? ((m: string) => console.warn(m))
    const props: Record<string, string> = {}
    for (const [k, v] of Object.entries(defaults)) if (v !== undefined && v !== null) props[k] = String(v)
    const brokerBase = parseLogConfig(brokerTopicDefaults(props), DEFAULT_LOG_CONFIG)
    const metas = new Map<string, TopicMeta>()
    const meta = MetadataLog.open(dataDir, metas, log, deps.fsync)
    const m = new LogManager(dataDir, defaults, { ...deps, log }, meta, brokerBase)
    await m.#loadTopics(metas)
    if (meta.recordCount > 2 * metas.size + 100) meta.rewrite(metas.values())
    return m
  }

  async #loadTopics(metas: Map<string, TopicMeta>): Promise<void> {
    const removals: Promise<void>[] = []
    for (const entry of fs.readdirSync(this.dataDir, { withFileTypes: true })) {
      if (!entry.isDirectory() || entry.name === METADATA_DIR) continue
      const full = path.join(this.dataDir, entry.name)
      if (entry.name.endsWith('-delete')) {
        removals.push(fsp.rm(full, { recursive: true, force: true }))
        continue
      }
      const m = PARTITION_DIR.exec(entry.name)
      if (!m) continue
      const owner = readPartitionMetadata(full)
      const t = metas.get(m[1] as string)
      const live = t !== undefined && Number(m[2]) < t.partitions && (owner === null || owner === t.id)
      if (!live && owner !== null) {
        // Left over from a deletion interrupted by a crash (its topic id is gone).
        const dead = `${full}.${Buffer.from(owner, 'base64url').toString('hex')}-delete`
        fs.renameSync(full, dead)
        removals.push(fsp.rm(dead, { recursive: true, force: true }))
        this.#log(`log manager: removing ${entry.name}, left over from deleted topic id ${owner}`)
      } else if (!live) this.#log(`log manager: ignoring directory ${entry.name}: no live topic owns it`)
    }
    for (const t of metas.values()) {
      const state = this.#state(t)
      for (let p = 0; p < t.partitions; p++) state.logs.push(this.#openPartition(t, p, state.config))
      this.#register(state)
    }
    await Promise.all(removals)
  }

  #state(meta: TopicMeta): TopicState {
    return { meta, config: this.#effective(meta.configs), logs: [] }
  }

  #register(s: TopicState): void {
    this.#topics.set(s.meta.name, s)
    this.#byId.set(s.meta.id, s)
  }

  #effective(configs: Record<string, string>): TopicLogConfig {
    const c = parseLogConfig(configs, this.#brokerBase)
    return Object.freeze({
      ...c,
      maxMessageBytes: c['max.message.bytes'],
      compact: compacts(c),
      logAppendTime: c['message.timestamp.type'] === 'LogAppendTime',
    })
  }

  #partitionDir(name: string, p: number): string {
    checkName(name)
    return path.join(this.dataDir, `${name}-${p}`)
  }

  #openPartition(meta: TopicMeta, p: number, config: LogConfig): PartitionLog {
    const dir = this.#partitionDir(meta.name, p)
    fs.mkdirSync(dir, { recursive: true })
    const file = path.join(dir, PARTITION_METADATA)
    if (readPartitionMetadata(dir) !== meta.id) fs.writeFileSync(file, `version: 0\ntopic_id: ${meta.id}\n`)
    return PartitionLog.openSync(dir, config, { clock: this.#clock, log: this.#log, scheduler: this.scheduler })
  }

  #checkOpen(): void {
    if (this.#closed) throw new KafkaError(ErrorCode.KAFKA_STORAGE_ERROR, 'log manager is closed')
  }

  #must(name: string): TopicState {
    const s = this.#topics.get(name)
    if (!s) throw new KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `unknown topic ${name}`)
    return s
  }

  // ---- queries -----------------------------------------------------------------------------------

  topics(): TopicMeta[] {
    return [...this.#topics.values()].map((s) => s.meta)
  }

  topic(name: string): TopicMeta | undefined {
    return this.#topics.get(name)?.meta
  }

  topicById(id: string): TopicMeta | undefined {
    return this.#byId.get(id)?.meta
  }

  partition(name: string, p: number): PartitionLog | undefined {
    return this.#topics.get(name)?.logs[p]
  }

  /** The topic's effective log config (its own settings over the broker's defaults), or the broker's for an unknown topic. */
  effectiveConfig(name: string): TopicLogConfig {
    return this.#topics.get(name)?.config ?? this.#effective({})
  }

  /** Throws InvalidConfigError (code 40) for an unknown key or a bad value. */
  validateTopicConfigs(configs: Record<string, string>): void {
    validateTopicConfigs(configs)
  }

  // ---- changes -----------------------------------------------------------------------------------

  /**
   * Creates a topic with a new random id. Visible at once; resolves once the
   * metadata record is on disk. Throws KafkaError TOPIC_ALREADY_EXISTS (36),
   * INVALID_PARTITIONS (37) or InvalidConfigError (40).
   */
  async createTopic(name: string, partitions: number, configs: Record<string, string> = {}): Promise<TopicMeta> {
    this.#checkOpen()
    checkName(name)
    if (this.#topics.has(name)) throw new KafkaError(ErrorCode.TOPIC_ALREADY_EXISTS, `Topic '${name}' already exists.`)
    if (!Number.isInteger(partitions) || partitions < 1)
      throw new KafkaError(ErrorCode.INVALID_PARTITIONS, 'Number of partitions must be larger than 0.')
    const config = this.#effective(configs)
    let id = randomUuid()
    while (this.#byId.has(id)) id = randomUuid()
    const meta: TopicMeta = { name, id, partitions, configs: { ...configs }, createdMs: this.#clock.now() }
    const state: TopicState = { meta, config, logs: [] }
    this.#register(state)
    const durable = this.#meta.append({ type: 'topic', name, id, partitions, configs: meta.configs, createdMs: meta.createdMs })
    for (let p = 0; p < partitions; p++) state.logs.push(this.#openPartition(meta, p, config))
    await durable
    return meta
  }

  /** Deletes a topic: the metadata record first, then its directories (renamed, then removed in the background). */
  async deleteTopic(name: string): Promise<void> {
    this.#checkOpen()
    const s = this.#must(name)
    this.#topics.delete(name)
    this.#byId.delete(s.meta.id)
    const rec: MetadataRecord = { type: 'delete', name, id: s.meta.id }
    await this.#meta.append(rec)
    const hex = Buffer.from(s.meta.id, 'base64url').toString('hex')
    const dead: string[] = []
    for (const [p, log] of s.logs.entries()) {
      log.drop()
      this.#lastCompaction.delete(log)
      this.#lastFlush.delete(log)
      const dir = this.#partitionDir(name, p)
      const to = `${dir}.${hex}-delete`
      try {
        fs.renameSync(dir, to)
        dead.push(to)
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
      }
    }
    syncDirSync(this.dataDir)
    this.#track(Promise.all(dead.map((d) => fsp.rm(d, { recursive: true, force: true }))))
  }

  /** CreatePartitions: grows a topic to `newTotal` partitions (never shrinks). */
  async addPartitions(name: string, newTotal: number): Promise<void> {
    this.#checkOpen()
    const s = this.#must(name)
    if (!Number.isInteger(newTotal) || newTotal <= s.meta.partitions) {
      throw new KafkaError(
        ErrorCode.INVALID_PARTITIONS,
        `Topic currently has ${s.meta.partitions} partitions, ${newTotal} would not be an increase.`,
      )
    }
    const from = s.meta.partitions
    s.meta.partitions = newTotal
    const durable = this.#meta.append({ type: 'partitions', name, count: newTotal })
    for (let p = from; p < newTotal; p++) s.logs.push(this.#openPartition(s.meta, p, s.config))
    await durable
  }

  /** Replaces the topic's explicit configs (AlterConfigs; IncrementalAlterConfigs passes the merged set). */
  async alterConfigs(name: string, configs: Record<string, string>): Promise<void> {
    this.#checkOpen()
    const s = this.#must(name)
    const config = this.#effective(configs)
    s.meta.configs = { ...configs }
    s.config = config
    for (const log of s.logs) log.setConfig(config)
    await this.#meta.append({ type: 'config', name, configs: s.meta.configs })
  }

  // ---- background ----------------------------------------------------------------------------------

  #track(p: Promise<unknown>): void {
    const q = p.catch((err: unknown) => this.#log(`log manager: background task failed: ${(err as Error).message}`))
    this.#background.add(q)
    void q.finally(() => this.#background.delete(q))
  }

  /**
   * Periodic upkeep, called by the broker's timer: roll, retention, flush.ms,
   * recovery-point checkpoints, and compaction (one partition at a time, each
   * at most once per log.cleaner.backoff.ms).
   */
  tick(nowMs: number): void {
    if (this.#closed) return
    const checkpoint = nowMs - this.#lastCheckpoint >= this.#checkpointIntervalMs
    if (checkpoint) this.#lastCheckpoint = nowMs
    for (const s of this.#topics.values()) {
      for (const log of s.logs) {
        try {
          log.maybeRoll(nowMs)
          log.enforceRetention(nowMs)
        } catch (err) {
          this.#log(`log ${log.dir}: upkeep failed: ${(err as Error).message}`)
        }
        const flushMs = s.config['flush.ms']
        if (Number.isFinite(flushMs)) {
          const last = this.#lastFlush.get(log) ?? 0
          if (nowMs - last >= flushMs) {
            this.#lastFlush.set(log, nowMs)
            this.#track(this.scheduler.sync(log))
          }
        }
        if (checkpoint) this.#track(log.checkpoint())
        if (s.config.compact && nowMs - (this.#lastCompaction.get(log) ?? Number.NEGATIVE_INFINITY) >= this.#cleanerBackoffMs) {
          this.#scheduleCompaction(log, nowMs)
        }
      }
    }
  }

  /** Resolves when background work started so far (compaction, checkpoints, syncs, removals) is over. */
  async settled(): Promise<void> {
    for (;;) {
      const logs = [...this.#topics.values()].flatMap((s) => s.logs)
      if (this.#background.size === 0) {
        await Promise.all(logs.map((l) => l.settled()))
        if (this.#background.size === 0) return
      }
      await Promise.allSettled([...this.#background])
    }
  }

  #scheduleCompaction(log: PartitionLog, nowMs: number): void {
    if (this.#cleanerBusy) return
    this.#lastCompaction.set(log, nowMs)
    this.#cleanerBusy = true
    const run = log
      .compact(nowMs)
      .catch((err: unknown) => this.#log(`log ${log.dir}: compaction failed: ${(err as Error).message}`))
      .finally(() => {
        this.#cleanerBusy = false
      })
    this.#cleaner = run
    this.#track(run)
  }

  /** Flushes and closes every partition (writing clean-shutdown markers) and the metadata log. */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    await this.#cleaner
    const logs = [...this.#topics.values()].flatMap((s) => s.logs)
    const results = await Promise.allSettled(logs.map((l) => l.close()))
    await Promise.allSettled([...this.#background])
    await this.#meta.close()
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')
    if (failed) throw failed.reason
  }
}

function readPartitionMetadata(dir: string): string | null {
  try {
    const m = /topic_id:\s*(\S+)/.exec(fs.readFileSync(path.join(dir, PARTITION_METADATA), 'utf8'))
    return m ? (m[1] as string) : null
  } catch {
    return null
  }
}
