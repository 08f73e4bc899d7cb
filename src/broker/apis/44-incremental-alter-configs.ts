import { IncrementalAlterConfigs } from '../../protocol/apis/index.ts'
import { describeTopicConfigs, isListConfig } from '../describe-configs.ts'
import { InvalidConfigError } from '../log/index.ts'
import { alterResource } from './alter-topic-configs.ts'
import { defineHandler } from './handler.ts'

const Op = { set: 0, delete: 1, append: 2, subtract: 3 } as const

export const incrementalAlterConfigsHandler = defineHandler(IncrementalAlterConfigs, { min: 0, max: 1 }, async (ctx, req) => {
  const { broker } = ctx
  const responses = []
  for (const res of req.resources) {
    responses.push(
      await alterResource(broker, res.resourceType, res.resourceName, req.validateOnly, (current) => {
        for (const c of res.configs) {
          const list = () =>
            (describeTopicConfigs(broker, current).find((d) => d.name === c.name)?.value ?? '').split(',').filter((s) => s !== '')
          switch (c.configOperation) {
            case Op.set:
              if (c.value === null) throw new InvalidConfigError(c.name, `Null value not supported for topic config ${c.name}`)
              current[c.name] = c.value
              break
            case Op.delete:
              delete current[c.name]
              break
            case Op.append:
            case Op.subtract: {
              if (!isListConfig(c.name))
                throw new InvalidConfigError(c.name, `Config value append/subtract is only allowed for list type configs, not ${c.name}`)
              const items = (c.value ?? '')
                .split(',')
                .map((s) => s.trim())
                .filter((s) => s !== '')
              const cur = list()
              current[c.name] = (
                c.configOperation === Op.append ? [...cur, ...items.filter((i) => !cur.includes(i))] : cur.filter((i) => !items.includes(i))
              ).join(',')
              break
            }
            default:
              throw new InvalidConfigError(c.name, `Unknown config operation ${c.configOperation} for ${c.name}`)
          }
        }
        return current
      }),
    )
  }
  return { throttleTimeMs: 0, responses }
})
