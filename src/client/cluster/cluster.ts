/**
 * What the producer, consumer and admin share: connections (one per broker node
 * id, plus bootstrap connections until the first metadata names the brokers),
 * each connection's negotiated versions, the metadata cache, and `send`, which
 * routes a request, picks its version and retries retriable failures with
 * exponential backoff. Nothing here assumes a single broker.
 */
import { Metadata } from '../../protocol/apis/index.ts'
import { ErrorCode, errorInfo, KafkaError } from '../../protocol/errors.ts'
import type { ApiDefinition, Fields, StructInput, StructOf, VersionRange } from '../../protocol/schema/dsl.ts'
import {
  ClientError,
  ClosedError,
  ConfigError,
  ConnectionError,
  codeInvalidatesMetadata,
  invalidatesMetadata,
  TimeoutError,
  UnknownTopicError,
} from '../errors.ts'
import { Connection, DEFAULT_CONNECT_TIMEOUT_MS, DEFAULT_REQUEST_TIMEOUT_MS, parseAddress } from '../network/connection.ts'
import { type ApiVersionTable, CLIENT_SOFTWARE_NAME, CLIENT_SOFTWARE_VERSION, negotiateApiVersions } from '../network/versions.ts'
import { type BrokerNode, ClusterMetadata, type TopicMetadata } from './metadata.ts'

/** Options shared by every client; names are Kafka's, camelCased, with Kafka's defaults. */
export interface ClusterOptions {
  /** `bootstrap.servers`: `host:port,host:port` or a list. */
  bootstrapServers: string | readonly string[]
  /** `client.id` (default `cohort`). */
  clientId?: string
  /** `request.timeout.ms` (30000). */
  requestTimeoutMs?: number
  /** `socket.connection.setup.timeout.ms` (10000). */
  socketConnectionSetupTimeoutMs?: number
  /** `retries`: attempts after the first, for retriable errors (2147483647; time bounds it first). */
  retries?: number
  /** `retry.backoff.ms` (100): the first backoff, doubled per attempt. */
  retryBackoffMs?: number
  /** `retry.backoff.max.ms` (1000). */
  retryBackoffMaxMs?: number
  /** `default.api.timeout.ms` (60000): the overall budget of one `send` including its retries. */
  defaultApiTimeoutMs?: number
  /** `connections.max.idle.ms` (540000). */
  connectionsMaxIdleMs?: number
  /** `metadata.max.age.ms` (300000): cached metadata older than this is refreshed on use. */
  metadataMaxAgeMs?: number
  /** `allow.auto.create.topics` (true): ask the broker to create unknown topics on Metadata. */
  allowAutoCreateTopics?: boolean
}

export type NodeTarget = number | 'any' | 'controller'
export type BodyArg<Req extends Fields> = StructInput<Req> | ((version: number) => StructInput<Req>)

export interface SendOptions<R> {
  /** Narrows the versions usable for this request (e.g. a field that needs v4+). */
  versions?: Partial<VersionRange>
  /** Per-request timeout (default `requestTimeoutMs`). */
  timeoutMs?: number
  /** Overall budget including retries (default `defaultApiTimeoutMs`). */
  deadlineMs?: number
  /** Attempts after the first (default `retries`). */
  retries?: number
  /** Extracts a top-level error code; retriable codes are retried like connection errors. */
  errorCode?: (response: R) => number
}

export interface NodeConnection {
  nodeId: number | null
  conn: Connection
  versions: ApiVersionTable
}

export interface TopicWaitOptions {
  /** Ask the broker to create missing topics (default `allowAutoCreateTopics`). */
  autoCreate?: boolean
  /** How long to wait for the topics to appear (default `defaultApiTimeoutMs`). */
  timeoutMs?: number
}

const DEFAULTS = {
  clientId: 'cohort',
  requestTimeoutMs: DEFAULT_REQUEST_TIMEOUT_MS,
  socketConnectionSetupTimeoutMs: DEFAULT_CONNECT_TIMEOUT_MS,
  retries: 2147483647,
  retryBackoffMs: 100,
  retryBackoffMaxMs: 1000,
  defaultApiTimeoutMs: 60_000,
  connectionsMaxIdleMs: 540_000,
  metadataMaxAgeMs: 300_000,
  allowAutoCreateTopics: true,
} satisfies Omit<Required<ClusterOptions>, 'bootstrapServers'>

export type ResolvedClusterOptions = Omit<Required<ClusterOptions>, 'bootstrapServers'> & {
  bootstrapServers: { host: string; port: number }[]
}

export function resolveClusterOptions(options: ClusterOptions): ResolvedClusterOptions {
  const list = typeof options.bootstrapServers === 'string' ? options.bootstrapServers.split(',') : [...options.bootstrapServers]
  const servers = list.map((s) => s.trim()).filter((s) => s !== '')
  if (servers.length === 0) throw new ConfigError('bootstrapServers is empty')
  const resolved: ResolvedClusterOptions = { ...DEFAULTS, bootstrapServers: [] }
  for (const [k, v] of Object.entries(options)) if (v !== undefined && k !== 'bootstrapServers') Object.assign(resolved, { [k]: v })
  try {
    resolved.bootstrapServers = servers.map(parseAddress)
  } catch (err) {
    throw new ConfigError((err as Error).message)
  }
  for (const k of ['requestTimeoutMs', 'retryBackoffMs', 'retryBackoffMaxMs', 'defaultApiTimeoutMs', 'retries'] as const) {
    if (!Number.isFinite(resolved[k]) || resolved[k] < 0) throw new ConfigError(`${k} must be a non-negative number`)
  }
  return resolved
}

/** Exponential backoff with ±20% jitter, as KIP-580 specifies for the Java client. */
export function backoffMs(attempt: number, baseMs: number, maxMs: number): number {
  const exp = baseMs * 2 ** Math.max(0, attempt - 1)
  const capped = Math.min(exp, Math.max(baseMs, maxMs))
  return Math.round(capped * (0.8 + Math.random() * 0.4))
}

export class Cluster {
  readonly options: ResolvedClusterOptions
  #metadata = ClusterMetadata.empty()
  #connections = new Map<string, Promise<NodeConnection>>()
  #ready = new Map<string, NodeConnection>()
  #metadataRequests = new Map<string, Promise<ClusterMetadata>>()
  #bootstrapIndex = 0
  #reaper: NodeJS.Timeout
  #closed = false
  #abort = new AbortController()

  constructor(options: ClusterOptions) {
    this.options = resolveClusterOptions(options)
    const every = Math.max(100, Math.min(this.options.connectionsMaxIdleMs / 4, 30_000))
    this.#reaper = setInterval(() => this.#reapIdle(), every)
    this.#reaper.unref()
  }

  get metadata(): ClusterMetadata {
    return this.#metadata
  }

  get closed(): boolean {
    return this.#closed
  }

  // ---- connections ----------------------------------------------------------

  /** The established connection to a node, if there is one; never connects. */
  readyConnection(nodeId: number): NodeConnection | undefined {
    const nc = this.#ready.get(nodeKey(nodeId))
    return nc && !nc.conn.closed ? nc : undefined
  }

  /** Connects (once) to a broker by node id and negotiates its versions. */
  connection(nodeId: number): Promise<NodeConnection> {
    if (this.#closed) return Promise.reject(new ClosedError('cluster'))
    const broker = this.#metadata.brokers.get(nodeId)
    if (!broker) return Promise.reject(new ClientError(`broker ${nodeId} is not in the cluster metadata`, true))
    return this.#connect(nodeKey(nodeId), nodeId, broker.host, broker.port)
  }

  #connect(key: string, nodeId: number | null, host: string, port: number): Promise<NodeConnection> {
    const existing = this.#connections.get(key)
    if (existing) {
      const ready = this.#ready.get(key)
      // A node that moved (new host or port in metadata) gets a fresh connection.
      if (!ready || (!ready.conn.closed && ready.conn.host === host && ready.conn.port === port)) return existing
      ready.conn.close()
    }
    const conn = new Connection({
      host,
      port,
      clientId: this.options.clientId,
      requestTimeoutMs: this.options.requestTimeoutMs,
      connectTimeoutMs: this.options.socketConnectionSetupTimeoutMs,
    })
    let p!: Promise<NodeConnection>
    p = (async () => {
      await conn.connect()
      const versions = await negotiateApiVersions(conn, { name: CLIENT_SOFTWARE_NAME, version: CLIENT_SOFTWARE_VERSION })
      const nc: NodeConnection = { nodeId, conn, versions }
      if (this.#connections.get(key) === p && !conn.closed) this.#ready.set(key, nc)
      return nc
    })()
    this.#connections.set(key, p)
    conn.onClose(() => {
      if (this.#connections.get(key) === p) {
        this.#connections.delete(key)
        this.#ready.delete(key)
      }
    })
    p.catch(() => conn.close())
    return p
  }

  /** A connection to some broker: an idle connected one first, else a known broker, else a bootstrap server. */
  async anyConnection(): Promise<NodeConnection> {
    if (this.#closed) throw new ClosedError('cluster')
    let best: NodeConnection | undefined
    for (const [key, nc] of this.#ready) {
      if (nc.conn.closed || !key.startsWith('n:') || !this.#metadata.brokers.has(nc.nodeId as number)) continue
      if (!best || nc.conn.inflight < best.conn.inflight) best = nc
    }
    if (best) return best
    const brokers = [...this.#metadata.brokers.values()]
    if (brokers.length > 0) {
      const b = brokers[Math.floor(Math.random() * brokers.length)] as BrokerNode
      return this.#connect(nodeKey(b.nodeId), b.nodeId, b.host, b.port)
    }
    for (const [key, nc] of this.#ready) if (key.startsWith('b:') && !nc.conn.closed) return nc
    const servers = this.options.bootstrapServers
    const s = servers[this.#bootstrapIndex++ % servers.length] as { host: string; port: number }
    return this.#connect(`b:${s.host}:${s.port}`, null, s.host, s.port)
  }

  async #resolve(target: NodeTarget): Promise<NodeConnection> {
    if (target === 'any') return this.anyConnection()
    if (target === 'controller') {
      let id = this.#metadata.controllerId
      if (id < 0 || !this.#metadata.brokers.has(id)) {
        await this.refreshMetadata([])
        id = this.#metadata.controllerId
      }
      // Old brokers (Metadata v0) name no controller; any broker then has to do.
      return id >= 0 && this.#metadata.brokers.has(id) ? this.connection(id) : this.anyConnection()
    }
    if (!this.#metadata.brokers.has(target)) await this.refreshMetadata([])
    return this.connection(target)
  }

  // ---- requests -------------------------------------------------------------

  /**
   * Sends a request to a node (by id, any broker, or the controller) at the
   * highest version both sides implement, retrying retriable failures with
   * backoff (refreshing metadata first when they suggest it is stale) until
   * `retries` or the deadline runs out.
   */
  async send<Req extends Fields, Res extends Fields>(
    target: NodeTarget,
    api: ApiDefinition<Req, Res>,
    body: BodyArg<Req>,
    options: SendOptions<StructOf<Res>> = {},
  ): Promise<StructOf<Res>> {
    const retries = options.retries ?? this.options.retries
    const deadline = Date.now() + (options.deadlineMs ?? this.options.defaultApiTimeoutMs)
    for (let attempt = 0; ; attempt++) {
      let failure: unknown
      try {
        const nc = await this.#resolve(target)
        const version = nc.versions.pick(api, options.versions)
        const input = typeof body === 'function' ? body(version) : body
        const res = await nc.conn.request(api, version, input, { timeoutMs: options.timeoutMs })
        const code = options.errorCode ? options.errorCode(res) : ErrorCode.NONE
        if (code === ErrorCode.NONE || !errorInfo(code).retriable) return res
        failure = new KafkaError(code, `${api.name} to ${describeTarget(target)}: ${errorInfo(code).name}`)
      } catch (err) {
        failure = err
      }
      if (this.#closed) throw new ClosedError('cluster')
      if (!isRetriableFailure(failure) || attempt >= retries) throw failure
      const wait = backoffMs(attempt + 1, this.options.retryBackoffMs, this.options.retryBackoffMaxMs)
      if (Date.now() + wait >= deadline) {
        throw new TimeoutError(`${api.name} to ${describeTarget(target)} did not succeed in time: ${(failure as Error).message}`, {
          cause: failure,
        })
      }
      // Metadata requests themselves never trigger a refresh, or a dead broker would recurse.
      if (api.key !== Metadata.key && (invalidatesMetadata(failure) || (failure instanceof ClientError && target !== 'any'))) {
        await this.refreshMetadata([...this.#metadata.topics.keys()]).catch(() => {})
      }
      await this.sleep(wait)
    }
  }

  /** Resolves after `ms`, or rejects with ClosedError when the cluster closes first. */
  sleep(ms: number): Promise<void> {
    if (this.#closed) return Promise.reject(new ClosedError('cluster'))
    return new Promise((resolve, reject) => {
      const signal = this.#abort.signal
      const onAbort = (): void => {
        clearTimeout(timer)
        reject(new ClosedError('cluster'))
      }
      const timer = setTimeout(() => {
        signal.removeEventListener('abort', onAbort)
        resolve()
      }, ms)
      signal.addEventListener('abort', onAbort, { once: true })
    })
  }

  // ---- metadata -------------------------------------------------------------

  /**
   * Fetches metadata for `topics` (all topics when omitted, none when empty:
   * brokers and controller only) and merges it into the cache. Identical
   * concurrent refreshes share one request.
   */
  refreshMetadata(topics?: readonly string[], autoCreate = false): Promise<ClusterMetadata> {
    const names = topics === undefined ? null : [...new Set(topics)].sort()
    const key = `${autoCreate}|${names === null ? '*' : names.join('\u0000')}`
    const existing = this.#metadataRequests.get(key)
    if (existing) return existing
    const p = this.send('any', Metadata, (version) => metadataBody(version, names, autoCreate), {
      versions: names === null || names.length > 0 ? undefined : { min: 1 },
    })
      .then((res) => {
        this.#metadata = this.#metadata.merge(res, names === null, Date.now())
        return this.#metadata
      })
      .finally(() => this.#metadataRequests.delete(key))
    this.#metadataRequests.set(key, p)
    return p
  }

  /**
   * Metadata for `topics`, from the cache when fresh, else from the brokers,
   * waiting while a topic is being created (LEADER_NOT_AVAILABLE, or
   * UNKNOWN_TOPIC_OR_PARTITION when auto-creation was requested). Other topic
   * errors throw a KafkaError naming the topic.
   */
  async topics(topics: readonly string[], options: TopicWaitOptions = {}): Promise<Map<string, TopicMetadata>> {
    const autoCreate = options.autoCreate ?? this.options.allowAutoCreateTopics
    const deadline = Date.now() + (options.timeoutMs ?? this.options.defaultApiTimeoutMs)
    const out = new Map<string, TopicMetadata>()
    let missing = [...new Set(topics)]
    const stale = Date.now() - this.#metadata.updatedAtMs > this.options.metadataMaxAgeMs
    for (let attempt = 0; ; attempt++) {
      if (attempt > 0 || stale || missing.some((t) => !usable(this.#metadata.topic(t)))) {
        const res = await this.refreshMetadata(missing, autoCreate)
        for (const name of missing) {
          const t = res.topic(name)
          if (!t) {
            const code = res.topicErrors.get(name)
            if (code === ErrorCode.INVALID_TOPIC_EXCEPTION) throw new KafkaError(code, `topic ${name}: ${errorInfo(code).name}`)
            if (!autoCreate) throw new UnknownTopicError(name, `topic ${name} does not exist`)
          } else if (t.errorCode !== ErrorCode.NONE && !errorInfo(t.errorCode).retriable) {
            throw new KafkaError(t.errorCode, `topic ${name}: ${errorInfo(t.errorCode).name}`)
          }
        }
      }
      const still: string[] = []
      for (const name of missing) {
        const t = this.#metadata.topic(name)
        if (usable(t)) out.set(name, t as TopicMetadata)
        else still.push(name)
      }
      missing = still
      if (missing.length === 0) return out
      const wait = backoffMs(attempt + 1, this.options.retryBackoffMs, this.options.retryBackoffMaxMs)
      if (Date.now() + wait >= deadline) {
        throw new TimeoutError(
          `topic(s) ${missing.join(', ')} not present in metadata after ${options.timeoutMs ?? this.options.defaultApiTimeoutMs} ms`,
        )
      }
      await this.sleep(wait)
    }
  }

  /** Metadata of one topic; see `topics`. */
  async topic(name: string, options: TopicWaitOptions = {}): Promise<TopicMetadata> {
    return (await this.topics([name], options)).get(name) as TopicMetadata
  }

  /** The leader's node id, refreshing metadata while the partition has none. */
  async leaderFor(topic: string, partition: number, options: TopicWaitOptions = {}): Promise<number> {
    const deadline = Date.now() + (options.timeoutMs ?? this.options.defaultApiTimeoutMs)
    for (let attempt = 0; ; attempt++) {
      const t = await this.topic(topic, options)
      const wait = backoffMs(attempt + 1, this.options.retryBackoffMs, this.options.retryBackoffMaxMs)
      if (partition < 0 || partition >= t.partitions.length) {
        // A partition beyond the cached count may have just been added (a group assigns it as soon as
        // the leader has it): refresh until the deadline before calling it unknown.
        if (partition < 0 || Date.now() + wait >= deadline) {
          throw new UnknownTopicError(topic, `topic ${topic} has no partition ${partition} (it has ${t.partitions.length})`)
        }
      } else {
        const leader = this.#metadata.leaderFor(topic, partition)
        if (leader !== undefined && this.#metadata.brokers.has(leader)) return leader
        if (Date.now() + wait >= deadline) throw new KafkaError(ErrorCode.LEADER_NOT_AVAILABLE, `${topic}-${partition} has no leader`)
      }
      await this.sleep(wait)
      await this.refreshMetadata([topic]).catch(() => {})
    }
  }

  /** Marks metadata stale after an error that suggests leadership moved; the next use refreshes it. */
  invalidate(code?: number): void {
    if (code === undefined || codeInvalidatesMetadata(code)) this.#metadata = this.#metadata.stale()
  }

  // ---- lifecycle ------------------------------------------------------------

  #reapIdle(): void {
    const cutoff = Date.now() - this.options.connectionsMaxIdleMs
    for (const [key, nc] of this.#ready) {
      // Bootstrap connections only serve until the brokers are known by id.
      const idleBootstrap = key.startsWith('b:') && this.#metadata.brokers.size > 0
      if (nc.conn.inflight === 0 && (nc.conn.lastActivityMs < cutoff || idleBootstrap)) nc.conn.close()
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    this.#abort.abort()
    clearInterval(this.#reaper)
    const pending = [...this.#connections.values()]
    this.#connections.clear()
    this.#ready.clear()
    await Promise.all(pending.map((p) => p.then((nc) => nc.conn.close()).catch(() => {})))
  }
}

function nodeKey(nodeId: number): string {
  return `n:${nodeId}`
}

function describeTarget(t: NodeTarget): string {
  return typeof t === 'number' ? `broker ${t}` : t === 'any' ? 'a broker' : 'the controller'
}

function usable(t: TopicMetadata | undefined): boolean {
  return t !== undefined && t.errorCode === ErrorCode.NONE && t.partitions.length > 0
}

function isRetriableFailure(err: unknown): boolean {
  if (err instanceof KafkaError) return err.retriable || err.code === ErrorCode.NOT_CONTROLLER
  if (err instanceof ConnectionError) return true
  return err instanceof ClientError && err.retriable
}

/** A Metadata request body for `version`: `names` null asks for all topics. */
export function metadataBody(
  version: number,
  names: readonly string[] | null,
  autoCreate: boolean,
): StructInput<(typeof Metadata)['request']> {
  // v0 has no null: an empty list means all topics there.
  const topics = names === null ? (version === 0 ? [] : null) : names.map((name) => ({ name }))
  return { topics, allowAutoTopicCreation: autoCreate, includeTopicAuthorizedOperations: false, includeClusterAuthorizedOperations: false }
}
