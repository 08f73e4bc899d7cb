/**
 * Broker configuration with Kafka's names and defaults. Values come from
 * defaults, then a properties file (`--config`), then command-line flags.
 */
import { readFileSync } from 'node:fs'

export interface BrokerConfig {
  'node.id': number
  host: string
  port: number
  'advertised.host': string | null
  'advertised.port': number | null
  'log.dirs': string
  'socket.request.max.bytes': number
  'auto.create.topics.enable': boolean
  'num.partitions': number
  'default.replication.factor': number
  'message.max.bytes': number
  /** fsync: acks=all is answered after fdatasync (group commit); os: flushing left to the kernel. */
  'log.flush.mode': 'fsync' | 'os'
  'log.segment.bytes': number
  'log.roll.ms': number
  'log.retention.ms': number
  'log.retention.bytes': number
  'log.cleanup.policy': string
  'log.retention.check.interval.ms': number
  'offsets.topic.num.partitions': number
  'group.initial.rebalance.delay.ms': number
  'group.min.session.timeout.ms': number
  'group.max.session.timeout.ms': number
  'group.max.size': number
  'offsets.retention.minutes': number
  'offset.metadata.max.bytes': number
  'cluster.id': string | null
  /** Port of the Prometheus `/metrics` listener; null (the default) serves no metrics, 0 picks a free port. */
  'metrics.port': number | null
  /** Address of the metrics listener; null means the broker's `host`. */
  'metrics.host': string | null
}

export const DEFAULT_CONFIG: BrokerConfig = {
  'node.id': 1,
  host: '127.0.0.1',
  port: 9092,
  'advertised.host': null,
  'advertised.port': null,
  'log.dirs': './cohort-data',
  'socket.request.max.bytes': 104857600,
  'auto.create.topics.enable': true,
  'num.partitions': 1,
  'default.replication.factor': 1,
  'message.max.bytes': 1048588,
  'log.flush.mode': 'fsync',
  'log.segment.bytes': 1073741824,
  'log.roll.ms': 604800000,
  'log.retention.ms': 604800000,
  'log.retention.bytes': -1,
  'log.cleanup.policy': 'delete',
  'log.retention.check.interval.ms': 300000,
  'offsets.topic.num.partitions': 50,
  'group.initial.rebalance.delay.ms': 3000,
  'group.min.session.timeout.ms': 6000,
  'group.max.session.timeout.ms': 1800000,
  'group.max.size': 2147483647,
  'offsets.retention.minutes': 10080,
  'offset.metadata.max.bytes': 4096,
  'cluster.id': null,
  'metrics.port': null,
  'metrics.host': null,
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError'
}

/** Applies `key=value` pairs (from a properties file or flags) onto a config, checking each key and type. */
export function applyConfig(base: BrokerConfig, entries: Record<string, string>): BrokerConfig {
  const out: Record<string, unknown> = { ...base }
  for (const [rawKey, raw] of Object.entries(entries)) {
    const key = rawKey === 'listeners.port' ? 'port' : rawKey
    if (!(key in DEFAULT_CONFIG)) throw new ConfigError(`unknown broker config '${rawKey}'`)
    const def = DEFAULT_CONFIG[key as keyof BrokerConfig]
    const value = raw.trim()
    if (typeof def === 'number' || key === 'advertised.port' || key === 'metrics.port') {
      const n = Number(value)
      if (!Number.isInteger(n)) throw new ConfigError(`${key} must be an integer, got '${raw}'`)
      if (key === 'metrics.port' && (n < 0 || n > 65535)) throw new ConfigError(`metrics.port must be 0–65535, got '${raw}'`)
      out[key] = n
    } else if (typeof def === 'boolean') {
      if (value !== 'true' && value !== 'false') throw new ConfigError(`${key} must be true or false, got '${raw}'`)
      out[key] = value === 'true'
    } else if (key === 'log.flush.mode') {
      if (value !== 'fsync' && value !== 'os') throw new ConfigError(`log.flush.mode must be fsync or os, got '${raw}'`)
      out[key] = value
    } else {
      out[key] = value
    }
  }
  return out as unknown as BrokerConfig
}

/** Reads a Java-style properties file: `key=value` lines, `#` and `!` comments. */
export function readPropertiesFile(path: string): Record<string, string> {
  const entries: Record<string, string> = {}
  for (const line of readFileSync(path, 'utf8').split(/\r?\n/)) {
    const s = line.trim()
    if (s === '' || s.startsWith('#') || s.startsWith('!')) continue
    const eq = s.search(/[=:]/)
    if (eq < 0) throw new ConfigError(`${path}: expected key=value, got '${s}'`)
    entries[s.slice(0, eq).trim()] = s.slice(eq + 1).trim()
  }
  return entries
}
