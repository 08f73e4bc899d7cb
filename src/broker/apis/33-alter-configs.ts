import { AlterConfigs } from '../../protocol/apis/index.ts'
import { InvalidConfigError } from '../log/index.ts'
import { alterResource } from './alter-topic-configs.ts'
import { defineHandler } from './handler.ts'

export const alterConfigsHandler = defineHandler(AlterConfigs, { min: 0, max: 2 }, async (ctx, req) => {
  const responses = []
  for (const res of req.resources) {
    responses.push(
      await alterResource(ctx.broker, res.resourceType, res.resourceName, req.validateOnly, () => {
        // The legacy API replaces the topic's whole set of overrides.
        const out: Record<string, string> = {}
        for (const c of res.configs) {
          if (c.value === null) throw new InvalidConfigError(c.name, `Null value not supported for topic config ${c.name}`)
          out[c.name] = c.value
        }
        return out
      }),
    )
  }
  return { throttleTimeMs: 0, responses }
})
