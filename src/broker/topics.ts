/**
 * Topic operations shared by the APIs that create topics (CreateTopics,
 * Metadata's auto-creation) so both apply the same rules.
 */
import { ErrorCode } from '../protocol/errors.ts'
import type { BrokerContext } from './context.ts'
import { topicNameError } from './topic-names.ts'

export interface TopicView {
  name: string
  id: string
  partitions: number
  configs: Record<string, string>
}

export class TopicError extends Error {
  constructor(
    readonly errorCode: number,
    message: string,
  ) {
    super(message)
  }
}

/** Validates and creates a topic; throws TopicError carrying Kafka's error code. */
export async function createTopic(
  broker: BrokerContext,
  name: string,
  partitions: number,
  replicationFactor: number,
  configs: Record<string, string>,
  validateOnly = false,
): Promise<TopicView> {
  const invalid = topicNameError(name)
  if (invalid) throw new TopicError(ErrorCode.INVALID_TOPIC_EXCEPTION, invalid)
  if (broker.logs.topic(name)) throw new TopicError(ErrorCode.TOPIC_ALREADY_EXISTS, `Topic '${name}' already exists.`)
  const count = partitions === -1 ? broker.config['num.partitions'] : partitions
  if (!Number.isInteger(count) || count <= 0)
    throw new TopicError(ErrorCode.INVALID_PARTITIONS, 'Number of partitions must be larger than 0.')
  const rf = replicationFactor === -1 ? broker.config['default.replication.factor'] : replicationFactor
  if (rf <= 0) throw new TopicError(ErrorCode.INVALID_REPLICATION_FACTOR, 'Replication factor must be larger than 0.')
  if (rf > 1) {
    throw new TopicError(
      ErrorCode.INVALID_REPLICATION_FACTOR,
      `Unable to replicate the partition ${rf} time(s): The target replication factor of ${rf} cannot be reached because only 1 broker(s) are registered.`,
    )
  }
  try {
    broker.logs.validateTopicConfigs(configs)
  } catch (err) {
    throw new TopicError(ErrorCode.INVALID_CONFIG, err instanceof Error ? err.message : String(err))
  }
  if (validateOnly) return { name, id: '', partitions: count, configs }
  const meta = await broker.logs.createTopic(name, count, configs)
  broker.log(`created topic ${name} with ${count} partition(s)`)
  return meta
}

/** Creates a topic with the broker's defaults, as Metadata does when auto-creation is on. */
export async function autoCreateTopic(broker: BrokerContext, name: string): Promise<TopicView | undefined> {
  try {
    return await createTopic(broker, name, -1, -1, {})
  } catch (err) {
    // Two clients asking at once: the second finds it created.
    if (err instanceof TopicError && err.errorCode === ErrorCode.TOPIC_ALREADY_EXISTS) return broker.logs.topic(name)
    throw err
  }
}
