/**
 * Prometheus metrics for `cohort lag --metrics-port`, named as the exporters
 * dashboards already use: danielqsj/kafka_exporter (`kafka_consumergroup_lag`
 * …), seglo/kafka-lag-exporter (`kafka_consumergroup_group_lag_seconds` …) and
 * Burrow (`burrow_kafka_consumer_status` …), plus Cohort's own
 * (`cohort_lag_…`). Each update replaces every series, so groups and
 * partitions that went away disappear from the next scrape.
 */

import { Gauge, Registry } from 'prom-client'
import { STATUS_VALUE } from './burrow.ts'
import type { GroupReport, LagReport, PartitionReport } from './monitor.ts'

type Labels = Record<string, string>

const KE_PARTITION = ['consumergroup', 'topic', 'partition']
const KE_TOPIC = ['consumergroup', 'topic']
const KLE_PARTITION = ['cluster_name', 'group', 'topic', 'partition', 'member_host', 'consumer_id', 'client_id']
const KLE_GROUP = ['cluster_name', 'group', 'is_simple_consumer']
const BURROW_GROUP = ['cluster', 'consumer_group']
const BURROW_PARTITION = ['cluster', 'consumer_group', 'topic', 'partition']

/** Every series `cohort lag` exports: name → [help, label names]. */
export const METRIC_DEFINITIONS = {
  // danielqsj/kafka_exporter
  kafka_consumergroup_current_offset: ['Current Offset of a ConsumerGroup at Topic/Partition', KE_PARTITION],
  kafka_consumergroup_current_offset_sum: ['Current Offset of a ConsumerGroup at Topic for all partitions', KE_TOPIC],
  kafka_consumergroup_lag: ['Current Approximate Lag of a ConsumerGroup at Topic/Partition', KE_PARTITION],
  kafka_consumergroup_lag_sum: ['Current Approximate Lag of a ConsumerGroup at Topic for all partitions', KE_TOPIC],
  kafka_consumergroup_members: ['Amount of members in a consumer group', ['consumergroup']],
  kafka_topic_partitions: ['Number of partitions for this Topic', ['topic']],
  kafka_topic_partition_current_offset: ['Current Offset of a Broker at Topic/Partition', ['topic', 'partition']],
  kafka_topic_partition_oldest_offset: ['Oldest Offset of a Broker at Topic/Partition', ['topic', 'partition']],
  // seglo/kafka-lag-exporter
  kafka_consumergroup_group_offset: ['Last group consumed offset of a partition', KLE_PARTITION],
  kafka_consumergroup_group_lag: ['Group offset lag of a partition', KLE_PARTITION],
  kafka_consumergroup_group_lag_seconds: ['Group time lag of a partition', KLE_PARTITION],
  kafka_consumergroup_group_max_lag: ['Max group offset lag', KLE_GROUP],
  kafka_consumergroup_group_max_lag_seconds: ['Max group time lag', KLE_GROUP],
  kafka_consumergroup_group_sum_lag: ['Sum of group offset lag', ['cluster_name', 'group']],
  kafka_consumergroup_group_topic_sum_lag: ['Sum of group offset lag across topic partitions', ['cluster_name', 'group', 'topic']],
  kafka_partition_latest_offset: ['Latest offset of a partition', ['cluster_name', 'topic', 'partition']],
  kafka_partition_earliest_offset: ['Earliest offset of a partition', ['cluster_name', 'topic', 'partition']],
  kafka_consumergroup_poll_time_ms: ['Group time poll time', ['cluster_name']],
  // linkedin/Burrow
  burrow_kafka_consumer_lag_total: ['The sum of all partition current lag values for the group', BURROW_GROUP],
  burrow_kafka_consumer_status: ['The status of the consumer group: 0 NOTFOUND, 1 OK, 2 WARN, 3 ERR', BURROW_GROUP],
  burrow_kafka_topic_partition_status: ['The status of topic partition: 1 OK, 2 WARN, 4 STOP, 5 STALL, 6 REWIND', BURROW_PARTITION],
  burrow_kafka_consumer_current_offset: ['Latest offset stored for this partition', BURROW_PARTITION],
  burrow_kafka_consumer_partition_lag: ['Number of messages the consumer group is behind by for a partition', BURROW_PARTITION],
  burrow_kafka_topic_partition_offset: ['Latest offset stored for this partition', ['cluster', 'topic', 'partition']],
  // Cohort
  cohort_lag_group_recommended_consumers: [
    "Consumers KEDA's Kafka scaler formula recommends, never above the partition count",
    ['cluster_name', 'group'],
  ],
  cohort_lag_group_consume_rate: ['Records committed per second by the group', ['cluster_name', 'group']],
  cohort_lag_group_produce_rate: ["Records appended per second to the group's partitions", ['cluster_name', 'group']],
  cohort_lag_group_rebalances: ['Rebalances seen in the rebalance window (10 min by default)', ['cluster_name', 'group']],
  cohort_lag_group_pattern: [
    '1 while the pattern is seen: lag-growing, hot-partition, idle-members, frequent-rebalances',
    ['cluster_name', 'group', 'pattern'],
  ],
} as const satisfies Record<string, readonly [string, readonly string[]]>

export type MetricName = keyof typeof METRIC_DEFINITIONS

function n(v: bigint): number {
  return Number(v)
}

export class LagMetrics {
  readonly registry = new Registry()
  readonly #gauges = new Map<MetricName, Gauge>()

  constructor(readonly clusterName: string = 'default') {
    for (const [name, [help, labelNames]] of Object.entries(METRIC_DEFINITIONS)) {
      this.#gauges.set(name as MetricName, new Gauge({ name, help, labelNames: [...labelNames], registers: [this.registry] }))
    }
  }

  #set(name: MetricName, labels: Labels, value: number): void {
    ;(this.#gauges.get(name) as Gauge).set(labels, value)
  }

  /** Replaces every series with the report's values; `pollMs` is how long the snapshot took to read. */
  update(report: LagReport, pollMs: number): void {
    for (const g of this.#gauges.values()) g.reset()
    const cluster_name = this.clusterName
    this.#set('kafka_consumergroup_poll_time_ms', { cluster_name }, pollMs)
    const topicPartitions = new Map<string, Set<number>>()
    const partitionOffsets = new Map<string, PartitionReport>()
    for (const g of report.groups) {
      this.#group(g)
      for (const p of g.partitions) {
        let set = topicPartitions.get(p.topic)
        if (!set) topicPartitions.set(p.topic, (set = new Set()))
        set.add(p.partition)
        const k = `${p.topic}\u0000${p.partition}`
        const before = partitionOffsets.get(k)
        if (!before || (p.logEnd ?? -1n) > (before.logEnd ?? -1n)) partitionOffsets.set(k, p)
      }
    }
    for (const [topic, ps] of topicPartitions) this.#set('kafka_topic_partitions', { topic }, ps.size)
    for (const p of partitionOffsets.values()) {
      const partition = String(p.partition)
      if (p.logEnd !== null) {
        this.#set('kafka_topic_partition_current_offset', { topic: p.topic, partition }, n(p.logEnd))
        this.#set('kafka_partition_latest_offset', { cluster_name, topic: p.topic, partition }, n(p.logEnd))
        this.#set('burrow_kafka_topic_partition_offset', { cluster: cluster_name, topic: p.topic, partition }, n(p.logEnd))
      }
      if (p.logStart !== null) {
        this.#set('kafka_topic_partition_oldest_offset', { topic: p.topic, partition }, n(p.logStart))
        this.#set('kafka_partition_earliest_offset', { cluster_name, topic: p.topic, partition }, n(p.logStart))
      }
    }
  }

  #group(g: GroupReport): void {
    const cluster_name = this.clusterName
    const group = g.groupId
    this.#set('kafka_consumergroup_members', { consumergroup: group }, g.members.length)

    // kafka_exporter: topics where the group committed something; -1 for a partition without a commit, left out of the sums.
    const byTopic = new Map<string, PartitionReport[]>()
    for (const p of g.partitions) {
      let list = byTopic.get(p.topic)
      if (!list) byTopic.set(p.topic, (list = []))
      list.push(p)
    }
    for (const [topic, ps] of byTopic) {
      if (!ps.some((p) => p.committed !== null)) continue
      let offsetSum = 0n
      let lagSum = 0n
      for (const p of ps) {
        const labels = { consumergroup: group, topic, partition: String(p.partition) }
        this.#set('kafka_consumergroup_current_offset', labels, p.committed === null ? -1 : n(p.committed))
        if (p.committed !== null) offsetSum += p.committed
        if (p.logEnd === null) continue
        this.#set('kafka_consumergroup_lag', labels, p.lag === null ? -1 : n(p.lag))
        if (p.lag !== null) lagSum += p.lag
      }
      this.#set('kafka_consumergroup_current_offset_sum', { consumergroup: group, topic }, n(offsetSum))
      this.#set('kafka_consumergroup_lag_sum', { consumergroup: group, topic }, n(lagSum))
    }

    // kafka-lag-exporter: assigned partitions, and committed ones when the group has no members; lag clamped at 0, NaN when unknown.
    const rows = g.partitions.filter((p) => (g.members.length > 0 ? p.owner !== null : p.committed !== null))
    const topicSums = new Map<string, number>()
    let sum = 0
    let maxLag = Number.NaN
    let maxSeconds = Number.NaN
    for (const p of rows) {
      const labels = {
        cluster_name,
        group,
        topic: p.topic,
        partition: String(p.partition),
        member_host: p.owner?.clientHost ?? 'unknown',
        consumer_id: p.owner?.memberId ?? 'unknown',
        client_id: p.owner?.clientId ?? 'unknown',
      }
      const lag = p.lag === null ? Number.NaN : Math.max(0, n(p.lag))
      const seconds = p.lagSeconds ?? Number.NaN
      this.#set('kafka_consumergroup_group_offset', labels, p.committed === null ? Number.NaN : n(p.committed))
      this.#set('kafka_consumergroup_group_lag', labels, lag)
      this.#set('kafka_consumergroup_group_lag_seconds', labels, seconds)
      if (!Number.isNaN(lag)) {
        sum += lag
        topicSums.set(p.topic, (topicSums.get(p.topic) ?? 0) + lag)
        if (Number.isNaN(maxLag) || lag > maxLag) maxLag = lag
      } else if (!topicSums.has(p.topic)) topicSums.set(p.topic, 0)
      if (!Number.isNaN(seconds) && (Number.isNaN(maxSeconds) || seconds > maxSeconds)) maxSeconds = seconds
    }
    if (rows.length > 0) {
      const groupLabels = { cluster_name, group, is_simple_consumer: String(g.simple) }
      this.#set('kafka_consumergroup_group_max_lag', groupLabels, maxLag)
      this.#set('kafka_consumergroup_group_max_lag_seconds', groupLabels, maxSeconds)
      this.#set('kafka_consumergroup_group_sum_lag', { cluster_name, group }, sum)
      for (const [topic, s] of topicSums) this.#set('kafka_consumergroup_group_topic_sum_lag', { cluster_name, group, topic }, s)
    }

    // Burrow: groups it knows (with commits); partition status and offset only once the window is full.
    if (g.status !== null && g.status !== 'NOTFOUND') {
      const burrowGroup = { cluster: cluster_name, consumer_group: group }
      this.#set('burrow_kafka_consumer_lag_total', burrowGroup, n(g.totalLag))
      this.#set('burrow_kafka_consumer_status', burrowGroup, STATUS_VALUE[g.status])
      for (const p of g.partitions) {
        if (p.status === null || p.committed === null) continue
        const labels = { ...burrowGroup, topic: p.topic, partition: String(p.partition) }
        this.#set('burrow_kafka_consumer_partition_lag', labels, p.lag !== null && p.lag > 0n ? n(p.lag) : 0)
        if (p.complete === 1) {
          this.#set('burrow_kafka_consumer_current_offset', labels, n(p.committed))
          this.#set('burrow_kafka_topic_partition_status', labels, STATUS_VALUE[p.status])
        }
      }
    }

    const cohort = { cluster_name, group }
    this.#set('cohort_lag_group_recommended_consumers', cohort, g.keda.recommended)
    if (g.consumeRate !== null) this.#set('cohort_lag_group_consume_rate', cohort, g.consumeRate)
    if (g.produceRate !== null) this.#set('cohort_lag_group_produce_rate', cohort, g.produceRate)
    this.#set('cohort_lag_group_rebalances', cohort, g.rebalances)
    for (const d of g.patterns) this.#set('cohort_lag_group_pattern', { ...cohort, pattern: d.kind }, 1)
  }

  metrics(): Promise<string> {
    return this.registry.metrics()
  }
}
