/**
 * The broker's Prometheus metrics, in a Registry of its own (several brokers may run in one process).
 * Nothing here runs on the request path: request counters are plain numbers kept by RequestStats, and
 * every metric is computed when it is scraped, from RequestStats, the logs (offsets) and the group
 * coordinator (committed offsets, members, rebalances). Names follow kafka_exporter where it has one, so
 * its dashboards and alerts work unchanged; the rest are `cohort_*`. docs/metrics.md lists them all.
 */
import { Counter, Gauge, type Metric, Registry } from 'prom-client'
import { errorInfo } from '../../protocol/errors.ts'
import { REBALANCE_TRIGGERS } from '../coordinator/history.ts'
import { GROUP_STATES, type GroupCoordinator } from '../coordinator/index.ts'
import type { LogManager } from '../log/index.ts'
import { DURATION_BUCKETS_SECONDS, type RequestStats } from './request-stats.ts'

export interface MetricsSources {
  readonly stats: RequestStats
  readonly logs: LogManager
  readonly coordinator: GroupCoordinator
  /** Open client connections. */
  readonly connections: () => number
  readonly info: { readonly version: string; readonly clusterId: string; readonly nodeId: number; readonly address: string }
}

type Emit<L extends string> = (labels: Partial<Record<L, string | number>>, value: number) => void

/** A gauge whose values are all computed at scrape time. */
function gauge<L extends string>(registry: Registry, name: string, help: string, labelNames: L[], fill: (emit: Emit<L>) => void): void {
  new Gauge<L>({
    name,
    help,
    labelNames,
    registers: [registry],
    collect() {
      this.reset()
      fill((labels, value) => this.set(labels, value))
    },
  })
}

/** A counter whose totals are kept elsewhere and copied in at scrape time. */
function counter<L extends string>(registry: Registry, name: string, help: string, labelNames: L[], fill: (emit: Emit<L>) => void): void {
  new Counter<L>({
    name,
    help,
    labelNames,
    registers: [registry],
    collect() {
      this.reset()
      fill((labels, value) => this.inc(labels, value))
    },
  })
}

/**
 * The request-duration histogram, read from RequestStats' bucket counts at scrape time. prom-client's own
 * Histogram would allocate on every observation (label hashing); this object gives the Registry the same
 * exposition without that.
 */
class RequestDurationHistogram {
  readonly name = 'cohort_broker_request_duration_seconds'
  readonly help =
    'Time from reading a request to its encoded response, by API (includes long polls, parked JoinGroup/SyncGroup and fsync waits).'
  readonly type = 'histogram'
  readonly aggregator = 'sum'
  readonly labelNames = ['api']
  readonly #stats: RequestStats

  constructor(stats: RequestStats) {
    this.#stats = stats
  }

  async get(): Promise<{ name: string; help: string; type: string; aggregator: string; values: unknown[] }> {
    const values: { metricName: string; labels: Record<string, string | number>; value: number }[] = []
    const bucket = `${this.name}_bucket`
    for (const s of this.#stats.apis()) {
      if (s.count === 0) continue
      let acc = 0
      for (let i = 0; i < DURATION_BUCKETS_SECONDS.length; i++) {
        acc += s.buckets[i] as number
        values.push({ metricName: bucket, labels: { api: s.name, le: DURATION_BUCKETS_SECONDS[i] as number }, value: acc })
      }
      values.push({ metricName: bucket, labels: { api: s.name, le: '+Inf' }, value: s.count })
      values.push({ metricName: `${this.name}_sum`, labels: { api: s.name }, value: s.sumMicros / 1e6 })
      values.push({ metricName: `${this.name}_count`, labels: { api: s.name }, value: s.count })
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values }
  }

  reset(): void {}
}

export class BrokerMetrics {
  readonly registry = new Registry()
  readonly #src: MetricsSources

  constructor(src: MetricsSources) {
    this.#src = src
    this.#requests()
    this.#broker()
    this.#topics()
    this.#groups()
    this.#process()
  }

  /** The Prometheus text exposition (format 0.0.4). */
  text(): Promise<string> {
    return this.registry.metrics()
  }

  get contentType(): string {
    return this.registry.contentType
  }

  #requests(): void {
    const { stats } = this.#src
    const r = this.registry
    counter(
      r,
      'cohort_broker_requests_total',
      'Requests handled, by API and by the error their response carried (NONE, or the first error code in it).',
      ['api', 'error'],
      (emit) => {
        for (const s of stats.apis()) {
          emit({ api: s.name, error: 'NONE' }, s.ok)
          for (const [code, n] of s.errors) emit({ api: s.name, error: errorInfo(code).name }, n)
        }
      },
    )
    r.registerMetric(new RequestDurationHistogram(stats) as unknown as Metric)
    counter(r, 'cohort_broker_bytes_in_total', 'Bytes of request frames received (size prefix included), by API.', ['api'], (emit) => {
      for (const s of stats.apis()) if (s.count > 0) emit({ api: s.name }, s.bytesIn)
    })
    counter(r, 'cohort_broker_bytes_out_total', 'Bytes of response frames sent (size prefix included), by API.', ['api'], (emit) => {
      for (const s of stats.apis()) if (s.count > 0) emit({ api: s.name }, s.bytesOut)
    })
  }

  #broker(): void {
    const { info, connections } = this.#src
    const r = this.registry
    gauge(r, 'cohort_broker_info', 'Always 1; the labels describe the broker.', ['version', 'cluster_id', 'node_id'], (emit) =>
      emit({ version: info.version, cluster_id: info.clusterId, node_id: info.nodeId }, 1),
    )
    gauge(r, 'cohort_broker_connections', 'Open client connections.', [], (emit) => emit({}, connections()))
    gauge(r, 'kafka_brokers', 'Number of brokers in the cluster (always 1).', [], (emit) => emit({}, 1))
    gauge(r, 'kafka_broker_info', 'Always 1; the broker id and the address clients are told to use.', ['address', 'id'], (emit) =>
      emit({ address: info.address, id: info.nodeId }, 1),
    )
  }

  #topics(): void {
    const { logs, info } = this.#src
    const r = this.registry
    const perPartition = (name: string, help: string, value: (topic: string, p: number) => number | undefined) =>
      gauge(r, name, help, ['topic', 'partition'], (emit) => {
        for (const t of logs.topics()) {
          for (let p = 0; p < t.partitions; p++) {
            const v = value(t.name, p)
            if (v !== undefined) emit({ topic: t.name, partition: p }, v)
          }
        }
      })
    gauge(r, 'kafka_topic_partitions', 'Number of partitions of the topic.', ['topic'], (emit) => {
      for (const t of logs.topics()) emit({ topic: t.name }, t.partitions)
    })
    perPartition('kafka_topic_partition_current_offset', 'High watermark (log end offset) of the partition.', (t, p) => {
      const log = logs.partition(t, p)
      return log === undefined ? undefined : Number(log.logEndOffset)
    })
    perPartition('kafka_topic_partition_oldest_offset', 'Log start offset of the partition.', (t, p) => {
      const log = logs.partition(t, p)
      return log === undefined ? undefined : Number(log.logStartOffset)
    })
    perPartition('kafka_topic_partition_leader', 'Leader broker id of the partition (always this broker).', () => info.nodeId)
    perPartition('kafka_topic_partition_replicas', 'Number of replicas of the partition (always 1).', () => 1)
    perPartition('kafka_topic_partition_in_sync_replica', 'Number of in-sync replicas of the partition (always 1).', () => 1)
    perPartition('kafka_topic_partition_leader_is_preferred', '1 if the leader is the preferred replica (always).', () => 1)
    perPartition('kafka_topic_partition_under_replicated_partition', '1 if the partition is under-replicated (never).', () => 0)
  }

  /**
   * Every (group, topic, partition) kafka_exporter reports: all partitions of each topic the group has
   * committed at least one offset to; committed −1 where it has none. Topics deleted since are skipped.
   */
  *#groupPartitions(): Generator<{ group: string; topic: string; partitions: { partition: number; committed: number; end: number }[] }> {
    const { logs, coordinator } = this.#src
    for (const g of coordinator.groupSummaries()) {
      if (g.state === 'Dead') continue
      for (const [topic, committed] of coordinator.committedOffsets(g.groupId)) {
        const meta = logs.topic(topic)
        if (meta === undefined || committed.size === 0) continue
        const partitions: { partition: number; committed: number; end: number }[] = []
        for (let p = 0; p < meta.partitions; p++) {
          const log = logs.partition(topic, p)
          const c = committed.get(p)
          partitions.push({
            partition: p,
            committed: c === undefined ? -1 : Number(c.offset),
            end: log === undefined ? -1 : Number(log.logEndOffset),
          })
        }
        yield { group: g.groupId, topic, partitions }
      }
    }
  }

  #groups(): void {
    const { coordinator } = this.#src
    const r = this.registry
    const live = () => [...coordinator.groupSummaries()].filter((g) => g.state !== 'Dead')
    gauge(
      r,
      'kafka_consumergroup_current_offset',
      'Committed offset of the group on the partition (−1: none).',
      ['consumergroup', 'topic', 'partition'],
      (emit) => {
        for (const { group, topic, partitions } of this.#groupPartitions())
          for (const p of partitions) emit({ consumergroup: group, topic, partition: p.partition }, p.committed)
      },
    )
    gauge(
      r,
      'kafka_consumergroup_current_offset_sum',
      'Sum of the group’s committed offsets on the topic (partitions without a commit left out).',
      ['consumergroup', 'topic'],
      (emit) => {
        for (const { group, topic, partitions } of this.#groupPartitions()) {
          let sum = 0
          for (const p of partitions) if (p.committed >= 0) sum += p.committed
          emit({ consumergroup: group, topic }, sum)
        }
      },
    )
    gauge(
      r,
      'kafka_consumergroup_lag',
      'High watermark minus committed offset, not clamped (−1: no commit on the partition).',
      ['consumergroup', 'topic', 'partition'],
      (emit) => {
        for (const { group, topic, partitions } of this.#groupPartitions())
          for (const p of partitions)
            emit({ consumergroup: group, topic, partition: p.partition }, p.committed < 0 || p.end < 0 ? -1 : p.end - p.committed)
      },
    )
    gauge(
      r,
      'kafka_consumergroup_lag_sum',
      'Sum of the group’s lag on the topic (partitions without a commit left out).',
      ['consumergroup', 'topic'],
      (emit) => {
        for (const { group, topic, partitions } of this.#groupPartitions()) {
          let sum = 0
          for (const p of partitions) if (p.committed >= 0 && p.end >= 0) sum += p.end - p.committed
          emit({ consumergroup: group, topic }, sum)
        }
      },
    )
    gauge(r, 'kafka_consumergroup_members', 'Members of the group.', ['consumergroup'], (emit) => {
      for (const g of live()) emit({ consumergroup: g.groupId }, g.members)
    })
    counter(
      r,
      'cohort_group_rebalances_total',
      'Completed rebalances (join phases) of the group by trigger; kept across broker restarts, reset when the group is deleted.',
      ['consumergroup', 'trigger'],
      (emit) => {
        for (const g of live()) {
          if (g.protocolType === null) continue // offsets-only ("simple") groups never rebalance
          const counts = coordinator.rebalanceCounts(g.groupId)
          for (const t of REBALANCE_TRIGGERS) emit({ consumergroup: g.groupId, trigger: t }, counts.get(t) ?? 0)
        }
      },
    )
    gauge(r, 'cohort_group_generation', 'Generation id of the group.', ['consumergroup'], (emit) => {
      for (const g of live()) emit({ consumergroup: g.groupId }, g.generationId)
    })
    gauge(r, 'cohort_group_state', '1 for the group’s current state, 0 for the others.', ['consumergroup', 'state'], (emit) => {
      for (const g of live()) for (const s of GROUP_STATES) emit({ consumergroup: g.groupId, state: s }, s === g.state ? 1 : 0)
    })
    const lastRebalance = (name: string, help: string, value: (e: ReturnType<GroupCoordinator['history']>[number]) => number | null) =>
      gauge(r, name, help, ['consumergroup'], (emit) => {
        for (const g of live()) {
          const h = coordinator.history(g.groupId)
          for (let i = h.length - 1; i >= 0; i--) {
            const v = value(h[i] as (typeof h)[number])
            if (v !== null) {
              emit({ consumergroup: g.groupId }, v)
              break
            }
          }
        }
      })
    lastRebalance(
      'cohort_group_last_rebalance_duration_seconds',
      'Of the last rebalance that completed: time from PreparingRebalance to Stable.',
      (e) => (e.durationMs === null ? null : e.durationMs / 1000),
    )
    lastRebalance(
      'cohort_group_last_rebalance_max_wait_seconds',
      'Of the last rebalance that completed: the longest a member waited from having to rejoin to getting its assignment.',
      (e) => (e.stableAt === null || e.maxWaitMs === null ? null : e.maxWaitMs / 1000),
    )
    lastRebalance(
      'cohort_group_last_rebalance_partitions_moved',
      'Of the last rebalance whose moves are known (consumer protocol): partitions whose owner changed.',
      (e) => e.partitionsMoved,
    )
  }

  #process(): void {
    const r = this.registry
    const startSeconds = Math.round(Date.now() / 1000 - process.uptime())
    counter(r, 'process_cpu_seconds_total', 'User and system CPU time of the process, in seconds.', [], (emit) => {
      const u = process.cpuUsage()
      emit({}, (u.user + u.system) / 1e6)
    })
    gauge(r, 'process_resident_memory_bytes', 'Resident memory of the process.', [], (emit) => emit({}, process.memoryUsage.rss()))
    gauge(r, 'process_start_time_seconds', 'Start time of the process, in seconds since the epoch.', [], (emit) => emit({}, startSeconds))
    gauge(r, 'nodejs_heap_size_used_bytes', 'V8 heap in use.', [], (emit) => emit({}, process.memoryUsage().heapUsed))
    gauge(r, 'nodejs_heap_size_total_bytes', 'V8 heap allocated.', [], (emit) => emit({}, process.memoryUsage().heapTotal))
  }
}
