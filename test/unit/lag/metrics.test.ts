/** The Prometheus series: kafka_exporter, kafka-lag-exporter and Burrow names and labels, values and removal. */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { LagMetrics } from '../../../src/lag/metrics.ts'
import { LagMonitor } from '../../../src/lag/monitor.ts'
import { group, owner, row, snap } from './snapshots.ts'

const A = owner('svc-a')

/** name{labels} → value, from the text exposition format. */
function parse(text: string): Map<string, string> {
  const out = new Map<string, string>()
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue
    const i = line.lastIndexOf(' ')
    out.set(line.slice(0, i), line.slice(i + 1))
  }
  return out
}

async function scrape(reports: Parameters<LagMetrics['update']>[0][], clusterName = 'local'): Promise<Map<string, string>> {
  const metrics = new LagMetrics(clusterName)
  for (const r of reports) metrics.update(r, 42)
  return parse(await metrics.metrics())
}

function reports() {
  const m = new LagMonitor()
  const g = (s: number) =>
    group('orders', 'Stable', [row('t', 0, 100 + 10 * s, 200 + 20 * s, A), row('t', 1, null, 30, A), row('u', 0, null, 5)])
  return [m.observe(snap(0, g(0))), m.observe(snap(5, g(5)))]
}

test('kafka_exporter series: lag unclamped, -1 without a commit and left out of the sums; topics without commits skipped', async () => {
  const s = await scrape(reports())
  assert.equal(s.get('kafka_consumergroup_current_offset{consumergroup="orders",topic="t",partition="0"}'), '150')
  assert.equal(s.get('kafka_consumergroup_current_offset{consumergroup="orders",topic="t",partition="1"}'), '-1')
  assert.equal(s.get('kafka_consumergroup_lag{consumergroup="orders",topic="t",partition="0"}'), '150')
  assert.equal(s.get('kafka_consumergroup_lag{consumergroup="orders",topic="t",partition="1"}'), '-1')
  assert.equal(s.get('kafka_consumergroup_lag_sum{consumergroup="orders",topic="t"}'), '150')
  assert.equal(s.get('kafka_consumergroup_current_offset_sum{consumergroup="orders",topic="t"}'), '150')
  assert.equal(s.get('kafka_consumergroup_members{consumergroup="orders"}'), '1')
  assert.equal(s.get('kafka_consumergroup_lag{consumergroup="orders",topic="u",partition="0"}'), undefined)
  assert.equal(s.get('kafka_topic_partitions{topic="t"}'), '2')
  assert.equal(s.get('kafka_topic_partition_current_offset{topic="t",partition="0"}'), '300')
  assert.equal(s.get('kafka_topic_partition_oldest_offset{topic="t",partition="0"}'), '0')
})

test('kafka-lag-exporter series: owner labels, lag in seconds, NaN without a commit, group max and sums', async () => {
  const s = await scrape(reports())
  const labels =
    'cluster_name="local",group="orders",topic="t",partition="0",member_host="/127.0.0.1",consumer_id="svc-a-1b2c",client_id="svc-a"'
  assert.equal(s.get(`kafka_consumergroup_group_offset{${labels}}`), '150')
  assert.equal(s.get(`kafka_consumergroup_group_lag{${labels}}`), '150')
  // Committed 150 at 5 s; the log end was 200 at 0 s and 300 at 5 s: extrapolated to −2.5 s, 7.5 s ago.
  assert.equal(s.get(`kafka_consumergroup_group_lag_seconds{${labels}}`), '7.5')
  const noCommit = labels.replace('partition="0"', 'partition="1"')
  // prom-client writes NaN as `Nan`; Prometheus parses it case-insensitively.
  assert.equal(s.get(`kafka_consumergroup_group_offset{${noCommit}}`), 'Nan')
  assert.equal(s.get(`kafka_consumergroup_group_lag{${noCommit}}`), 'Nan')
  assert.equal(s.get('kafka_consumergroup_group_max_lag{cluster_name="local",group="orders",is_simple_consumer="false"}'), '150')
  assert.equal(s.get('kafka_consumergroup_group_max_lag_seconds{cluster_name="local",group="orders",is_simple_consumer="false"}'), '7.5')
  assert.equal(s.get('kafka_consumergroup_group_sum_lag{cluster_name="local",group="orders"}'), '150')
  assert.equal(s.get('kafka_consumergroup_group_topic_sum_lag{cluster_name="local",group="orders",topic="t"}'), '150')
  assert.equal(s.get('kafka_partition_latest_offset{cluster_name="local",topic="t",partition="0"}'), '300')
  assert.equal(s.get('kafka_partition_earliest_offset{cluster_name="local",topic="t",partition="0"}'), '0')
  assert.equal(s.get('kafka_consumergroup_poll_time_ms{cluster_name="local"}'), '42')
  // Unassigned partitions of a group with members are not in these series, as in the exporter.
  assert.equal([...s.keys()].filter((k) => k.startsWith('kafka_consumergroup_group_lag{') && k.includes('topic="u"')).length, 0)
})

test('a group without members: committed partitions with "unknown" owner labels', async () => {
  const m = new LagMonitor()
  const r = m.observe(snap(0, group('idle', 'Empty', [row('t', 0, 5, 9)])))
  const s = await scrape([r])
  assert.equal(
    s.get(
      'kafka_consumergroup_group_lag{cluster_name="local",group="idle",topic="t",partition="0",member_host="unknown",consumer_id="unknown",client_id="unknown"}',
    ),
    '4',
  )
})

test('Burrow series once a status exists; partition status and offset once the window is full', async () => {
  const s = await scrape(reports())
  assert.equal(s.get('burrow_kafka_consumer_status{cluster="local",consumer_group="orders"}'), '2')
  assert.equal(s.get('burrow_kafka_consumer_lag_total{cluster="local",consumer_group="orders"}'), '150')
  assert.equal(s.get('burrow_kafka_consumer_partition_lag{cluster="local",consumer_group="orders",topic="t",partition="0"}'), '150')
  assert.equal(s.get('burrow_kafka_topic_partition_status{cluster="local",consumer_group="orders",topic="t",partition="0"}'), undefined)
  const m = new LagMonitor({ burrow: { intervals: 2 } })
  const g = (t: number) => group('orders', 'Stable', [row('t', 0, 100 + 10 * t, 200 + 20 * t, A)])
  m.observe(snap(0, g(0)))
  const full = await scrape([m.observe(snap(5, g(5)))])
  assert.equal(full.get('burrow_kafka_topic_partition_status{cluster="local",consumer_group="orders",topic="t",partition="0"}'), '2')
  assert.equal(full.get('burrow_kafka_consumer_current_offset{cluster="local",consumer_group="orders",topic="t",partition="0"}'), '150')
})

test("Cohort's own series: recommendation, rates, patterns", async () => {
  const s = await scrape(reports())
  assert.equal(s.get('cohort_lag_group_recommended_consumers{cluster_name="local",group="orders"}'), '3')
  assert.equal(s.get('cohort_lag_group_consume_rate{cluster_name="local",group="orders"}'), '10')
  assert.equal(s.get('cohort_lag_group_rebalances{cluster_name="local",group="orders"}'), '0')
})

test('series of a group that went away disappear on the next update', async () => {
  const metrics = new LagMetrics()
  const [first] = reports()
  metrics.update(first as Parameters<LagMetrics['update']>[0], 1)
  assert.match(await metrics.metrics(), /consumergroup="orders"/)
  metrics.update({ time: 0, groups: [] }, 1)
  assert.doesNotMatch(await metrics.metrics(), /orders/)
})
