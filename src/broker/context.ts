/** What every API handler can reach: configuration, the logs, the clock and the broker's identity. */

import type { BufferPool } from '../util/buffer-pool.ts'
import type { Clock } from '../util/clock.ts'
import type { BrokerConfig } from './config.ts'
import type { GroupService } from './groups/group-service.ts'
import type { LogManager } from './log/index.ts'
import type { AppendNotifier } from './produce/append-notifier.ts'
import type { ProducerStates } from './produce/producer-state.ts'

export interface BrokerContext {
  readonly config: BrokerConfig
  readonly nodeId: number
  readonly clusterId: string
  /** Host and port clients are told to connect to (Metadata, FindCoordinator, DescribeCluster). */
  readonly advertised: { host: string; port: number }
  readonly logs: LogManager
  readonly groups: GroupService
  readonly clock: Clock
  readonly producers: ProducerStates
  readonly appends: AppendNotifier
  /** Reused buffers that Fetch responses read records into (absent: fresh buffers). */
  readonly readBuffers?: BufferPool
  readonly log: (msg: string) => void
  /** Allocates a producer id that no earlier run of this broker handed out. */
  nextProducerId(): bigint
}
