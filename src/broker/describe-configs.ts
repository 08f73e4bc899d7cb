/** Effective topic and broker configs as DescribeConfigs and CreateTopics report them. */
import type { BrokerContext } from './context.ts'
import { brokerTopicDefaults, kafkaDefault, TOPIC_CONFIG_KEYS, topicConfigInfo } from './log/index.ts'

/** DescribeConfigs v1+ configSource values. */
export const ConfigSource = { dynamicTopic: 1, dynamicBroker: 2, dynamicDefaultBroker: 3, staticBroker: 4, default: 5 } as const
const STRING_TYPE = 2
const LIST_TYPE = 7

export interface DescribedConfig {
  name: string
  value: string | null
  readOnly: boolean
  configSource: number
  configType: number
  documentation: string | null
  synonyms: { name: string; value: string | null; source: number }[]
}

function brokerProps(broker: BrokerContext): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(broker.config)) if (v !== null) out[k] = String(v)
  return out
}

/** Every topic config with its value: the topic's own setting, else the broker's default, else Kafka's. */
export function describeTopicConfigs(broker: BrokerContext, explicit: Record<string, string>): DescribedConfig[] {
  const fromBroker = brokerTopicDefaults(brokerProps(broker))
  return TOPIC_CONFIG_KEYS.map((name) => {
    const info = topicConfigInfo(name)
    const own = explicit[name]
    const brokerValue = fromBroker[name]
    const synonyms = []
    if (own !== undefined) synonyms.push({ name, value: own, source: ConfigSource.dynamicTopic })
    if (brokerValue !== undefined && info?.brokerKey)
      synonyms.push({ name: info.brokerKey, value: brokerValue, source: ConfigSource.staticBroker })
    const fallback = brokerValue ?? kafkaDefault(name) ?? null
    if (brokerValue === undefined) synonyms.push({ name, value: fallback, source: ConfigSource.default })
    return {
      name,
      value: own ?? fallback,
      readOnly: false,
      configSource:
        own !== undefined ? ConfigSource.dynamicTopic : brokerValue !== undefined ? ConfigSource.staticBroker : ConfigSource.default,
      configType: info?.configType ?? STRING_TYPE,
      documentation: null,
      synonyms,
    }
  })
}

/** The broker's own settings, read-only: they come from its startup configuration. */
export function describeBrokerConfigs(broker: BrokerContext): DescribedConfig[] {
  return Object.entries(broker.config)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, v]) => {
      const value = v === null ? null : String(v)
      const type = typeof v === 'number' ? 5 : typeof v === 'boolean' ? 1 : STRING_TYPE
      return {
        name,
        value,
        readOnly: true,
        configSource: ConfigSource.staticBroker,
        configType: type,
        documentation: null,
        synonyms: [{ name, value, source: ConfigSource.staticBroker }],
      }
    })
}

export function isListConfig(name: string): boolean {
  return topicConfigInfo(name)?.configType === LIST_TYPE
}
