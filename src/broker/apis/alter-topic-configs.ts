/** Shared by AlterConfigs (replace the whole set) and IncrementalAlterConfigs (per-key operations). */
import { ErrorCode } from '../../protocol/errors.ts'
import type { BrokerContext } from '../context.ts'
import { InvalidConfigError } from '../log/index.ts'
import { ResourceType } from './32-describe-configs.ts'

export interface AlterOutcome {
  errorCode: number
  errorMessage: string | null
  resourceType: number
  resourceName: string
}

export async function alterResource(
  broker: BrokerContext,
  resourceType: number,
  resourceName: string,
  validateOnly: boolean,
  next: (current: Record<string, string>) => Record<string, string>,
): Promise<AlterOutcome> {
  const base = { resourceType, resourceName }
  if (resourceType === ResourceType.broker) {
    return {
      ...base,
      errorCode: ErrorCode.INVALID_REQUEST,
      errorMessage: 'Broker configs are static in Cohort: set them in the config file and restart.',
    }
  }
  if (resourceType !== ResourceType.topic)
    return { ...base, errorCode: ErrorCode.INVALID_REQUEST, errorMessage: `Unsupported resource type ${resourceType}` }
  const meta = broker.logs.topic(resourceName)
  if (!meta) return { ...base, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: `Topic ${resourceName} does not exist` }
  let updated: Record<string, string>
  try {
    updated = next({ ...meta.configs })
    broker.logs.validateTopicConfigs(updated)
  } catch (err) {
    if (err instanceof InvalidConfigError) return { ...base, errorCode: ErrorCode.INVALID_CONFIG, errorMessage: err.message }
    throw err
  }
  if (!validateOnly) await broker.logs.alterConfigs(resourceName, updated)
  return { ...base, errorCode: ErrorCode.NONE, errorMessage: null }
}
