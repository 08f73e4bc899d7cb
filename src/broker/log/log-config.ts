/**
 * Topic-level log configuration under Kafka's own names and defaults, and the
 * parser CreateTopics / AlterConfigs / IncrementalAlterConfigs use: string
 * key/values in, a typed `LogConfig` out, or an `InvalidConfigError` (Kafka
 * error 40, INVALID_CONFIG) naming the key and the reason.
 *
 * Every topic config Kafka 3.x knows is accepted so that tools which set, say,
 * `compression.type` or `min.compaction.lag.ms` keep working; the ones the log
 * acts on are typed below, the rest are validated and stored for DescribeConfigs.
 */
import { ErrorCode, KafkaError } from '../../protocol/errors.ts'

export type CleanupPolicy = 'delete' | 'compact' | 'compact,delete'
export type TimestampType = 'CreateTime' | 'LogAppendTime'
export type TopicCompression = 'producer' | 'uncompressed' | 'gzip' | 'snappy' | 'lz4' | 'zstd'

/** The configs the log acts on. Long values at Kafka's Long.MAX_VALUE ("never") become `Infinity`. */
export interface LogConfig {
  'segment.bytes': number
  'segment.ms': number
  'segment.jitter.ms': number
  /** −1 = keep forever. */
  'retention.ms': number
  /** −1 = no size limit. */
  'retention.bytes': number
  'cleanup.policy': CleanupPolicy
  'max.message.bytes': number
  'min.insync.replicas': number
  'message.timestamp.type': TimestampType
  'index.interval.bytes': number
  'delete.retention.ms': number
  'min.compaction.lag.ms': number
  'segment.index.bytes': number
  'flush.messages': number
  'flush.ms': number
  'compression.type': TopicCompression
}

export type LogConfigKey = keyof LogConfig

/** Thrown for an unknown key or a bad value; `code` is 40 (INVALID_CONFIG). */
export class InvalidConfigError extends KafkaError {
  constructor(
    readonly key: string,
    reason: string,
  ) {
    super(ErrorCode.INVALID_CONFIG, reason)
  }
}

type Kind = 'long' | 'int' | 'double' | 'boolean' | 'string' | 'enum' | 'policy' | 'list'

interface Spec {
  kind: Kind
  /** Kafka's default, as DescribeConfigs prints it. */
  def: string
  min?: number
  max?: number
  values?: readonly string[]
}

const LONG_MAX = '9223372036854775807'
const INT_MAX = 2147483647

/** Kafka 3.x `TopicConfig` keys with their defaults and validators (LogConfig.java). */
const SPECS: Record<string, Spec> = {
  'cleanup.policy': { kind: 'policy', def: 'delete' },
  'compression.type': { kind: 'enum', def: 'producer', values: ['producer', 'uncompressed', 'gzip', 'snappy', 'lz4', 'zstd'] },
  'compression.gzip.level': { kind: 'int', def: '-1', min: -1, max: 9 },
  'compression.lz4.level': { kind: 'int', def: '9', min: 1, max: 17 },
  'compression.zstd.level': { kind: 'int', def: '3', min: -131072, max: 22 },
  'delete.retention.ms': { kind: 'long', def: '86400000', min: 0 },
  'file.delete.delay.ms': { kind: 'long', def: '60000', min: 0 },
  'flush.messages': { kind: 'long', def: LONG_MAX, min: 1 },
  'flush.ms': { kind: 'long', def: LONG_MAX, min: 0 },
  'follower.replication.throttled.replicas': { kind: 'list', def: '' },
  'index.interval.bytes': { kind: 'int', def: '4096', min: 0 },
  'leader.replication.throttled.replicas': { kind: 'list', def: '' },
  'local.retention.bytes': { kind: 'long', def: '-2', min: -2 },
  'local.retention.ms': { kind: 'long', def: '-2', min: -2 },
  'max.compaction.lag.ms': { kind: 'long', def: LONG_MAX, min: 1 },
  'max.message.bytes': { kind: 'int', def: '1048588', min: 0 },
  'message.downconversion.enable': { kind: 'boolean', def: 'true' },
  'message.format.version': { kind: 'string', def: '3.0-IV1' },
  'message.timestamp.after.max.ms': { kind: 'long', def: LONG_MAX, min: 0 },
  'message.timestamp.before.max.ms': { kind: 'long', def: LONG_MAX, min: 0 },
  'message.timestamp.difference.max.ms': { kind: 'long', def: LONG_MAX, min: 0 },
  'message.timestamp.type': { kind: 'enum', def: 'CreateTime', values: ['CreateTime', 'LogAppendTime'] },
  'min.cleanable.dirty.ratio': { kind: 'double', def: '0.5', min: 0, max: 1 },
  'min.compaction.lag.ms': { kind: 'long', def: '0', min: 0 },
  'min.insync.replicas': { kind: 'int', def: '1', min: 1 },
  preallocate: { kind: 'boolean', def: 'false' },
  'remote.storage.enable': { kind: 'boolean', def: 'false' },
  'retention.bytes': { kind: 'long', def: '-1' },
  'retention.ms': { kind: 'long', def: '604800000', min: -1 },
  // Kafka 3.x allows 14 bytes (one legacy record); Kafka 4 raised it to 1 MiB. Small segments keep tests fast.
  'segment.bytes': { kind: 'int', def: '1073741824', min: 14 },
  'segment.index.bytes': { kind: 'int', def: '10485760', min: 4 },
  'segment.jitter.ms': { kind: 'long', def: '0', min: 0 },
  'segment.ms': { kind: 'long', def: '604800000', min: 1 },
  'unclean.leader.election.enable': { kind: 'boolean', def: 'false' },
}

/** Every topic config key Kafka knows, for DescribeConfigs. */
export const TOPIC_CONFIG_KEYS: readonly string[] = Object.keys(SPECS).sort()

/** Kafka's default for a topic config key, as a string (undefined for an unknown key). */
export function kafkaDefault(key: string): string | undefined {
  return SPECS[key]?.def
}

function parseLong(key: string, raw: string, spec: Spec): number {
  const s = raw.trim()
  if (!/^-?\d+$/.test(s)) throw new InvalidConfigError(key, `Invalid value ${raw} for configuration ${key}: Not a number of type LONG`)
  const big = BigInt(s)
  if (big > 9223372036854775807n || big < -9223372036854775808n) {
    throw new InvalidConfigError(key, `Invalid value ${raw} for configuration ${key}: Not a number of type LONG`)
  }
  const n = big >= BigInt(Number.MAX_SAFE_INTEGER) ? Number.POSITIVE_INFINITY : Number(big)
  checkRange(key, raw, n, spec)
  return n
}

function checkRange(key: string, raw: string, n: number, spec: Spec): void {
  if (spec.min !== undefined && n < spec.min) {
    throw new InvalidConfigError(key, `Invalid value ${raw} for configuration ${key}: Value must be at least ${spec.min}`)
  }
  if (spec.max !== undefined && n > spec.max) {
    throw new InvalidConfigError(key, `Invalid value ${raw} for configuration ${key}: Value must be no more than ${spec.max}`)
  }
}

/** 'delete', 'compact', 'compact,delete' or 'delete,compact' (any spacing) → the normalised policy. */
export function parseCleanupPolicy(raw: string, key = 'cleanup.policy'): CleanupPolicy {
  const parts = raw
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '')
  const bad = parts.find((p) => p !== 'delete' && p !== 'compact')
  if (parts.length === 0 || bad !== undefined) {
    throw new InvalidConfigError(key, `Invalid value ${raw} for configuration ${key}: String must be one of: compact, delete`)
  }
  const c = parts.includes('compact')
  const d = parts.includes('delete')
  return c && d ? 'compact,delete' : c ? 'compact' : 'delete'
}

/** Validates one key/value; returns the parsed value (number, boolean, string). */
function parseOne(key: string, raw: string): number | boolean | string {
  const spec = SPECS[key]
  if (spec === undefined) throw new InvalidConfigError(key, `Unknown topic config name: ${key}`)
  if (typeof raw !== 'string') throw new InvalidConfigError(key, `Invalid value for configuration ${key}: null`)
  switch (spec.kind) {
    case 'long':
      return parseLong(key, raw, spec)
    case 'int': {
      const s = raw.trim()
      if (!/^-?\d+$/.test(s)) throw new InvalidConfigError(key, `Invalid value ${raw} for configuration ${key}: Not a number of type INT`)
      const n = Number(s)
      if (n > INT_MAX || n < -INT_MAX - 1) {
        throw new InvalidConfigError(key, `Invalid value ${raw} for configuration ${key}: Not a number of type INT`)
      }
      checkRange(key, raw, n, spec)
      return n
    }
    case 'double': {
      const n = Number(raw.trim())
      if (raw.trim() === '' || !Number.isFinite(n)) {
        throw new InvalidConfigError(key, `Invalid value ${raw} for configuration ${key}: Not a number of type DOUBLE`)
      }
      checkRange(key, raw, n, spec)
      return n
    }
    case 'boolean': {
      const s = raw.trim().toLowerCase()
      if (s !== 'true' && s !== 'false') {
        throw new InvalidConfigError(key, `Invalid value ${raw} for configuration ${key}: Expected value to be either true or false`)
      }
      return s === 'true'
    }
    case 'enum': {
      const values = spec.values ?? []
      const hit = values.find((v) => v.toLowerCase() === raw.trim().toLowerCase())
      if (hit === undefined) {
        throw new InvalidConfigError(key, `Invalid value ${raw} for configuration ${key}: String must be one of: ${values.join(', ')}`)
      }
      return hit
    }
    case 'policy':
      return parseCleanupPolicy(raw, key)
    case 'list':
    case 'string':
      return raw
  }
}

/** Kafka's defaults, typed. */
export const DEFAULT_LOG_CONFIG: Readonly<LogConfig> = Object.freeze(buildConfig({}))

function buildConfig(explicit: Record<string, string>, base?: LogConfig): LogConfig {
  const get = <K extends LogConfigKey>(k: K): LogConfig[K] => {
    const raw = explicit[k]
    if (raw !== undefined) return parseOne(k, raw) as LogConfig[K]
    if (base !== undefined) return base[k]
    return parseOne(k, SPECS[k]?.def as string) as LogConfig[K]
  }
  return {
    'segment.bytes': get('segment.bytes'),
    'segment.ms': get('segment.ms'),
    'segment.jitter.ms': get('segment.jitter.ms'),
    'retention.ms': get('retention.ms'),
    'retention.bytes': get('retention.bytes'),
    'cleanup.policy': get('cleanup.policy'),
    'max.message.bytes': get('max.message.bytes'),
    'min.insync.replicas': get('min.insync.replicas'),
    'message.timestamp.type': get('message.timestamp.type'),
    'index.interval.bytes': get('index.interval.bytes'),
    'delete.retention.ms': get('delete.retention.ms'),
    'min.compaction.lag.ms': get('min.compaction.lag.ms'),
    'segment.index.bytes': get('segment.index.bytes'),
    'flush.messages': get('flush.messages'),
    'flush.ms': get('flush.ms'),
    'compression.type': get('compression.type'),
  }
}

/**
 * Checks explicit topic configs (CreateTopics, AlterConfigs) and throws
 * `InvalidConfigError` on the first unknown key or bad value.
 */
export function validateTopicConfigs(configs: Record<string, string>): void {
  for (const [k, v] of Object.entries(configs)) parseOne(k, v)
}

/**
 * The effective config of a topic: its explicit configs over `base` (the
 * broker's defaults, themselves Kafka's unless overridden). Throws
 * `InvalidConfigError` like `validateTopicConfigs`.
 */
export function parseLogConfig(explicit: Record<string, string>, base: LogConfig = DEFAULT_LOG_CONFIG): LogConfig {
  validateTopicConfigs(explicit)
  return buildConfig(explicit, base)
}

/** True when the policy includes compaction / deletion. */
export const compacts = (c: LogConfig): boolean => c['cleanup.policy'] !== 'delete'
export const deletes = (c: LogConfig): boolean => c['cleanup.policy'] !== 'compact'

export type ConfigSource = 'topic' | 'broker-default' | 'default'

export interface DescribedConfig {
  name: string
  value: string
  source: ConfigSource
}

/**
 * Every topic config with its effective value and where it came from, for
 * DescribeConfigs: explicit topic configs, then the broker's defaults (given as
 * topic-level key → string), then Kafka's.
 */
export function describeTopicConfigs(explicit: Record<string, string>, brokerDefaults: Record<string, string> = {}): DescribedConfig[] {
  return TOPIC_CONFIG_KEYS.map((name) => {
    const t = explicit[name]
    if (t !== undefined) return { name, value: t, source: 'topic' as const }
    const b = brokerDefaults[name]
    if (b !== undefined) return { name, value: b, source: 'broker-default' as const }
    return { name, value: SPECS[name]?.def as string, source: 'default' as const }
  })
}

/** Broker property → topic config it sets the default of (Kafka's `log.*` names). */
const BROKER_KEYS: Record<string, { topic: LogConfigKey | string; scale?: number }> = {
  'log.segment.bytes': { topic: 'segment.bytes' },
  'log.roll.ms': { topic: 'segment.ms' },
  'log.roll.hours': { topic: 'segment.ms', scale: 3_600_000 },
  'log.roll.jitter.ms': { topic: 'segment.jitter.ms' },
  'log.retention.ms': { topic: 'retention.ms' },
  'log.retention.minutes': { topic: 'retention.ms', scale: 60_000 },
  'log.retention.hours': { topic: 'retention.ms', scale: 3_600_000 },
  'log.retention.bytes': { topic: 'retention.bytes' },
  'log.cleanup.policy': { topic: 'cleanup.policy' },
  'message.max.bytes': { topic: 'max.message.bytes' },
  'min.insync.replicas': { topic: 'min.insync.replicas' },
  'log.message.timestamp.type': { topic: 'message.timestamp.type' },
  'log.index.interval.bytes': { topic: 'index.interval.bytes' },
  'log.cleaner.delete.retention.ms': { topic: 'delete.retention.ms' },
  'log.cleaner.min.compaction.lag.ms': { topic: 'min.compaction.lag.ms' },
  'log.index.size.max.bytes': { topic: 'segment.index.bytes' },
  'log.flush.interval.messages': { topic: 'flush.messages' },
  'log.flush.interval.ms': { topic: 'flush.ms' },
  'compression.type': { topic: 'compression.type' },
}

/**
 * Translates broker properties (`log.retention.hours=168`, …) into topic-level
 * default strings. Kafka's precedence holds: ms over minutes over hours. Keys
 * that are not log defaults are ignored; bad values throw `InvalidConfigError`.
 */
export function brokerTopicDefaults(props: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {}
  const rank = (k: string): number => (k.endsWith('.ms') ? 3 : k.endsWith('.minutes') ? 2 : k.endsWith('.hours') ? 1 : 3)
  const chosen: Record<string, number> = {}
  for (const [k, v] of Object.entries(props)) {
    const m = BROKER_KEYS[k]
    if (m === undefined) continue
    if ((chosen[m.topic] ?? 0) > rank(k)) continue
    chosen[m.topic] = rank(k)
    if (m.scale === undefined) out[m.topic] = v
    else {
      const n = parseLong(k, v, { kind: 'long', def: '0' })
      // Kafka: a negative retention in minutes/hours means "forever" (−1 ms).
      out[m.topic] = n < 0 ? '-1' : String(n * m.scale)
    }
  }
  validateTopicConfigs(out)
  return out
}

/** DescribeConfigs v3+ configType of a topic config (Kafka's ConfigDef types). */
const CONFIG_TYPE: Record<Kind, number> = { boolean: 1, string: 2, enum: 2, policy: 7, list: 7, int: 3, long: 5, double: 6 }

/** How DescribeConfigs presents a topic config: its type and the broker setting that supplies its default. */
export function topicConfigInfo(key: string): { configType: number; brokerKey: string | undefined } | undefined {
  const spec = SPECS[key]
  if (spec === undefined) return undefined
  const brokerKey = Object.entries(BROKER_KEYS).find(([, m]) => m.topic === key && m.scale === undefined)?.[0]
  return { configType: CONFIG_TYPE[spec.kind], brokerKey }
}
