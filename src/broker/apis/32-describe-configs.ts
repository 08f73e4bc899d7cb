import { DescribeConfigs } from '../../protocol/apis/index.ts'
import { ErrorCode } from '../../protocol/errors.ts'
import { describeBrokerConfigs, describeTopicConfigs } from '../describe-configs.ts'
import { defineHandler } from './handler.ts'

export const ResourceType = { topic: 2, broker: 4, brokerLogger: 8 } as const

export const describeConfigsHandler = defineHandler(DescribeConfigs, { min: 0, max: 4 }, (ctx, req) => {
  const { broker, version } = ctx
  const results = req.resources.map((res) => {
    const base = { resourceType: res.resourceType, resourceName: res.resourceName }
    let configs: ReturnType<typeof describeTopicConfigs>
    if (res.resourceType === ResourceType.topic) {
      const meta = broker.logs.topic(res.resourceName)
      if (!meta)
        return {
          ...base,
          errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
          errorMessage: `Topic ${res.resourceName} does not exist`,
          configs: [],
        }
      configs = describeTopicConfigs(broker, meta.configs)
    } else if (res.resourceType === ResourceType.broker) {
      if (res.resourceName !== '' && res.resourceName !== String(broker.nodeId)) {
        return { ...base, errorCode: ErrorCode.INVALID_REQUEST, errorMessage: `Unexpected broker id ${res.resourceName}`, configs: [] }
      }
      configs = describeBrokerConfigs(broker)
    } else {
      return { ...base, errorCode: ErrorCode.INVALID_REQUEST, errorMessage: `Unsupported resource type ${res.resourceType}`, configs: [] }
    }
    const keys = res.configurationKeys
    if (keys !== null && keys.length > 0) configs = configs.filter((c) => keys.includes(c.name))
    return {
      ...base,
      errorCode: ErrorCode.NONE,
      errorMessage: null,
      configs: configs.map((c) => ({
        name: c.name,
        value: c.value,
        readOnly: c.readOnly,
        isDefault: c.configSource !== 1,
        configSource: c.configSource,
        isSensitive: false,
        synonyms: version >= 1 && req.includeSynonyms ? c.synonyms : [],
        configType: c.configType,
        documentation: req.includeDocumentation ? c.documentation : null,
      })),
    }
  })
  return { throttleTimeMs: 0, results }
})
