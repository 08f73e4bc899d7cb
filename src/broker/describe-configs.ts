/** Effective topic and broker configs as DescribeConfigs and CreateTopics report them. */
import type { BrokerContext } from './context.ts'
import { ConfigSource, ConfigType, TOPIC_CONFIGS, topicConfigDefault } from './topic-configs.ts'

export interface DescribedConfig {
  name: string
  value: string | null
  readOnly: boolean
  configSource: number
  configType: number
  documentation: string
  synonyms: { name: string; value: string | null; source: number }[]
}

/** Every topic config with its value: the topic's own setting, else the broker default. */
export function describeTopicConfigs(broker: BrokerContext, explicit: Record<string, string>): DescribedConfig[] {
  return Object.entries(TOPIC_CONFIGS)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, def]) => {
      const own = explicit[name]
      const fallback = topicConfigDefault(broker.config, name)
      const synonyms = []
      if (own !== undefined) synonyms.push({ name, value: own, source: ConfigSource.dynamicTopic })
      if (def.brokerKey) synonyms.push({ name: def.brokerKey, value: fallback, source: ConfigSource.staticBroker })
      else synonyms.push({ name, value: fallback, source: ConfigSource.default })
      return {
        name,
        value: own ?? fallback,
        readOnly: false,
        configSource: own !== undefined ? ConfigSource.dynamicTopic : def.brokerKey ? ConfigSource.staticBroker : ConfigSource.default,
        configType: def.type,
        documentation: def.doc,
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
      const type = typeof v === 'number' ? ConfigType.long : typeof v === 'boolean' ? ConfigType.boolean : ConfigType.string
      return {
        name,
        value,
        readOnly: true,
        configSource: ConfigSource.staticBroker,
        configType: type,
        documentation: '',
        synonyms: [{ name, value, source: ConfigSource.staticBroker }],
      }
    })
}
