/**
 * The topic configs Cohort accepts, with their types, the broker setting
 * that supplies their default, and what they mean. DescribeConfigs lists
 * them; CreateTopics and the AlterConfigs APIs validate against them.
 */
import type { BrokerConfig } from './config.ts'

/** DescribeConfigs v3+ configType values. */
export const ConfigType = { boolean: 1, string: 2, int: 3, short: 4, long: 5, double: 6, list: 7, class: 8, password: 9 } as const
/** DescribeConfigs v1+ configSource values. */
export const ConfigSource = { dynamicTopic: 1, dynamicBroker: 2, dynamicDefaultBroker: 3, staticBroker: 4, default: 5 } as const

export interface TopicConfigDef {
  type: (typeof ConfigType)[keyof typeof ConfigType]
  /** The broker setting that gives the default, or a literal default. */
  brokerKey?: keyof BrokerConfig
  default?: string
  /** Allowed values for enumerations and lists. */
  oneOf?: readonly string[]
  min?: number
  /** Accepted and shown, but without effect on a single node (replication settings). */
  inert?: boolean
  doc: string
}

const LONG_MAX = '9223372036854775807'

export const TOPIC_CONFIGS: Readonly<Record<string, TopicConfigDef>> = {
  'cleanup.policy': {
    type: ConfigType.list,
    brokerKey: 'log.cleanup.policy',
    oneOf: ['delete', 'compact'],
    doc: 'delete: drop old segments by retention; compact: keep the latest record per key.',
  },
  'compression.type': {
    type: ConfigType.string,
    default: 'producer',
    oneOf: ['producer', 'uncompressed', 'gzip', 'snappy', 'lz4', 'zstd'],
    inert: true,
    doc: 'Accepted for compatibility; batches are stored as the producer compressed them.',
  },
  'delete.retention.ms': { type: ConfigType.long, default: '86400000', min: 0, doc: 'How long tombstones stay in a compacted topic.' },
  'file.delete.delay.ms': { type: ConfigType.long, default: '60000', min: 0, inert: true, doc: 'Accepted for compatibility.' },
  'flush.messages': { type: ConfigType.long, default: LONG_MAX, min: 1, inert: true, doc: 'Accepted; durability follows log.flush.mode and acks.' },
  'flush.ms': { type: ConfigType.long, default: LONG_MAX, min: 0, inert: true, doc: 'Accepted; durability follows log.flush.mode and acks.' },
  'index.interval.bytes': { type: ConfigType.int, default: '4096', min: 0, doc: 'Bytes of log between two offset-index entries.' },
  'max.message.bytes': { type: ConfigType.int, brokerKey: 'message.max.bytes', min: 0, doc: 'Largest record batch the topic accepts.' },
  'message.timestamp.type': {
    type: ConfigType.string,
    default: 'CreateTime',
    oneOf: ['CreateTime', 'LogAppendTime'],
    doc: 'Whether record timestamps are the producer\'s or the broker\'s append time.',
  },
  'min.cleanable.dirty.ratio': { type: ConfigType.double, default: '0.5', min: 0, inert: true, doc: 'Accepted for compatibility.' },
  'min.compaction.lag.ms': { type: ConfigType.long, default: '0', min: 0, inert: true, doc: 'Accepted for compatibility.' },
  'min.insync.replicas': { type: ConfigType.int, default: '1', min: 1, inert: true, doc: 'Accepted; a single node is always in sync.' },
  'retention.bytes': { type: ConfigType.long, brokerKey: 'log.retention.bytes', doc: 'Partition size above which old segments are deleted; -1 for no limit.' },
  'retention.ms': { type: ConfigType.long, brokerKey: 'log.retention.ms', doc: 'Age above which old segments are deleted; -1 for no limit.' },
  'segment.bytes': { type: ConfigType.int, brokerKey: 'log.segment.bytes', min: 14, doc: 'Size at which a segment rolls.' },
  'segment.index.bytes': { type: ConfigType.int, default: '10485760', min: 4, doc: 'Maximum size of a segment\'s offset index.' },
  'segment.ms': { type: ConfigType.long, brokerKey: 'log.roll.ms', min: 1, doc: 'Age at which a segment rolls.' },
  'unclean.leader.election.enable': { type: ConfigType.boolean, default: 'false', inert: true, doc: 'Accepted; there is one replica.' },
}

export class InvalidConfigError extends Error {
  override readonly name = 'InvalidConfigError'
}

/** Throws InvalidConfigError (Kafka's INVALID_CONFIG) for an unknown name or a value of the wrong type. */
export function validateTopicConfig(name: string, value: string | null): void {
  const def = TOPIC_CONFIGS[name]
  if (!def) throw new InvalidConfigError(`Unknown topic config name: ${name}`)
  if (value === null) throw new InvalidConfigError(`Null value not supported for topic config ${name}`)
  const bad = () => new InvalidConfigError(`Invalid value ${value} for configuration ${name}`)
  switch (def.type) {
    case ConfigType.int:
    case ConfigType.short:
    case ConfigType.long: {
      if (!/^-?\d+$/.test(value.trim())) throw bad()
      const n = Number(value)
      if (def.min !== undefined && n < def.min && !(n === -1 && (name === 'retention.ms' || name === 'retention.bytes'))) {
        throw new InvalidConfigError(`Invalid value ${value} for configuration ${name}: Value must be at least ${def.min}`)
      }
      if (def.type === ConfigType.int && (n > 2147483647 || n < -2147483648)) throw bad()
      return
    }
    case ConfigType.double:
      if (Number.isNaN(Number(value)) || value.trim() === '') throw bad()
      return
    case ConfigType.boolean:
      if (value !== 'true' && value !== 'false') throw bad()
      return
    case ConfigType.list:
      for (const item of value.split(',').map((s) => s.trim())) if (def.oneOf && !def.oneOf.includes(item)) throw bad()
      return
    default:
      if (def.oneOf && !def.oneOf.includes(value)) throw bad()
  }
}

/** The default a topic config takes from the broker. */
export function topicConfigDefault(config: BrokerConfig, name: string): string {
  const def = TOPIC_CONFIGS[name]
  if (!def) return ''
  if (def.brokerKey) return String(config[def.brokerKey])
  return def.default ?? ''
}
