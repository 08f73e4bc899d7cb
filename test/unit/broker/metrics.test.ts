/**
 * The broker's Prometheus metrics, scraped over HTTP from a real in-process broker after producing,
 * fetching, forming a consumer group and committing on the wire; and DescribeRebalanceHistory, Cohort's
 * own API, which is answered but not advertised.
 */
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { applyConfig, DEFAULT_CONFIG } from '../../../src/broker/config.ts'
import { errorFinder } from '../../../src/broker/metrics/response-errors.ts'
import { brokerConfigFrom } from '../../../src/cli/broker-command.ts'
import {
  ApiVersions,
  CreateTopics,
  DescribeRebalanceHistory,
  Fetch,
  JoinGroup,
  Metadata,
  OffsetCommit,
  Produce,
  SyncGroup,
} from '../../../src/protocol/apis/index.ts'
import { encodeAssignment, encodeSubscription } from '../../../src/protocol/consumer-protocol.ts'
import { ErrorCode } from '../../../src/protocol/errors.ts'
import { encodeRequest } from '../../../src/protocol/frame.ts'
import { encodeBatch } from '../../../src/protocol/records/batch.ts'
import { startBroker, type TestBroker } from '../../helpers/broker.ts'
import { RawClient } from '../../helpers/raw-client.ts'

// ---- the Prometheus text format -------------------------------------------------------------------

interface Sample {
  name: string
  labels: Record<string, string>
  value: number
}

/** Parses the text exposition (0.0.4), checking every line's shape and that each sample's family was declared. */
function parseExposition(text: string): { samples: Sample[]; types: Map<string, string> } {
  const samples: Sample[] = []
  const types = new Map<string, string>()
  const helped = new Set<string>()
  for (const line of text.split('\n')) {
    if (line === '') continue
    const meta = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/.exec(line)
    if (meta) {
      if (meta[1] === 'TYPE') types.set(meta[2] as string, meta[3] as string)
      else helped.add(meta[2] as string)
      continue
    }
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line)
    assert.ok(m, `malformed exposition line: ${line}`)
    const labels: Record<string, string> = {}
    if (m[2]) {
      const re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,|$)/g
      let consumed = 0
      for (let l = re.exec(m[2]); l !== null; l = re.exec(m[2])) {
        labels[l[1] as string] = (l[2] as string).replace(/\\(.)/g, '$1')
        consumed = re.lastIndex
      }
      assert.equal(consumed, m[2].length, `malformed labels: ${line}`)
    }
    const value = m[3] === '+Inf' ? Number.POSITIVE_INFINITY : Number(m[3])
    assert.ok(!Number.isNaN(value), `not a number: ${line}`)
    const name = m[1] as string
    const family = [...types.keys()].find((f) => name === f || name === `${f}_bucket` || name === `${f}_sum` || name === `${f}_count`)
    assert.ok(family !== undefined && helped.has(family), `sample without HELP/TYPE: ${line}`)
    samples.push({ name, labels, value })
  }
  return { samples, types }
}

function find(samples: Sample[], name: string, labels: Record<string, string> = {}): Sample[] {
  return samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
}

/** The value of the one sample matching; fails when there is none or several. */
function value(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  const found = find(samples, name, labels)
  assert.equal(found.length, 1, `${name}${JSON.stringify(labels)}: ${found.length} samples`)
  return (found[0] as Sample).value
}

async function scrape(port: number): Promise<{ samples: Sample[]; types: Map<string, string> }> {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`)
  assert.equal(res.status, 200)
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/)
  return parseExposition(await res.text())
}

// ---- a broker, a topic and a group, on the wire -----------------------------------------------------

const TOPIC = 'metrics-topic'
const GROUP = 'metrics-group'

let b: TestBroker
let c1: RawClient
let c2: RawClient
let metricsPort: number

function subscription(): Buffer {
  return encodeSubscription({ topics: [TOPIC] }, 0)
}

function assignment(partitions: number[]): Buffer {
  return encodeAssignment({ assignedPartitions: [{ topic: TOPIC, partitions }], userData: null }, 0)
}

async function produce(c: RawClient, partition: number, records: number) {
  const res = await c.request(Produce, 9, {
    acks: 1,
    timeoutMs: 1000,
    topicData: [
      {
        name: TOPIC,
        partitionData: [
          { index: partition, records: encodeBatch({ records: Array.from({ length: records }, (_, i) => ({ value: `v${i}` })) }) },
        ],
      },
    ],
  })
  return res.responses[0]?.partitionResponses[0]?.errorCode
}

/** JoinGroup v9 with the member-id handshake; resolves with the (possibly parked) real join. */
async function join(c: RawClient, memberId = '') {
  const body = {
    groupId: GROUP,
    sessionTimeoutMs: 10_000,
    rebalanceTimeoutMs: 10_000,
    memberId,
    groupInstanceId: null,
    protocolType: 'consumer',
    protocols: [{ name: 'range', metadata: subscription() }],
    reason: null,
  }
  if (memberId !== '') return c.request(JoinGroup, 9, body)
  const first = await c.request(JoinGroup, 9, body)
  assert.equal(first.errorCode, ErrorCode.MEMBER_ID_REQUIRED)
  return c.request(JoinGroup, 9, { ...body, memberId: first.memberId })
}

let member1 = ''
let member2 = ''

before(async () => {
  b = await startBroker({ 'log.flush.mode': 'os', 'metrics.port': 0 })
  metricsPort = b.broker.metricsPort as number
  c1 = await RawClient.connect(b.bootstrap)
  c2 = await RawClient.connect(b.bootstrap)
  const created = await c1.request(CreateTopics, 5, { topics: [{ name: TOPIC, numPartitions: 3, replicationFactor: 1 }] })
  assert.equal(created.topics[0]?.errorCode, ErrorCode.NONE)
})

after(async () => {
  c1?.close()
  c2?.close()
  await b?.stop()
})

describe('broker metrics', () => {
  test('metrics are off by default; metrics.port and --metrics-port configure them', async () => {
    assert.equal(DEFAULT_CONFIG['metrics.port'], null)
    const plain = await startBroker()
    try {
      assert.equal(plain.broker.metricsPort, null)
      assert.equal(plain.broker.metricsAddress, null)
    } finally {
      await plain.stop()
    }
    assert.equal(applyConfig(DEFAULT_CONFIG, { 'metrics.port': '9404', 'metrics.host': '0.0.0.0' })['metrics.port'], 9404)
    assert.throws(() => applyConfig(DEFAULT_CONFIG, { 'metrics.port': '70000' }), /metrics.port must be 0–65535/)
    assert.throws(() => applyConfig(DEFAULT_CONFIG, { 'metrics.port': 'x' }), /must be an integer/)
    assert.equal(brokerConfigFrom({ set: [], metricsPort: '0' })['metrics.port'], 0)
    assert.equal(brokerConfigFrom({ set: ['metrics.port=9404'] })['metrics.port'], 9404)
    assert.ok(metricsPort > 0, 'port 0 reports the bound port')
    assert.deepEqual(b.broker.metricsAddress, { host: '127.0.0.1', port: metricsPort })
  })

  test('only GET /metrics is served', async () => {
    assert.equal((await fetch(`http://127.0.0.1:${metricsPort}/`)).status, 404)
    assert.equal((await fetch(`http://127.0.0.1:${metricsPort}/metrics`, { method: 'POST', body: 'x' })).status, 405)
    const head = await fetch(`http://127.0.0.1:${metricsPort}/metrics`, { method: 'HEAD' })
    assert.equal(head.status, 200)
  })

  test('requests by API and error, latency histograms, bytes in and out', async () => {
    const before = (await scrape(metricsPort)).samples
    const producedBefore = value(before, 'cohort_broker_requests_total', { api: 'Produce', error: 'NONE' })
    assert.equal(producedBefore, 0)

    assert.equal(await produce(c1, 0, 5), ErrorCode.NONE)
    assert.equal(await produce(c1, 1, 3), ErrorCode.NONE)
    assert.equal(await produce(c1, 7, 1), ErrorCode.UNKNOWN_TOPIC_OR_PARTITION) // a per-partition error
    // acks=0: no response, still counted (with 0 bytes out); the Metadata behind it proves it was handled.
    c1.writeRaw(
      Buffer.concat(
        encodeRequest(Produce, 9, 999, 't', {
          acks: 0,
          timeoutMs: 1000,
          topicData: [{ name: TOPIC, partitionData: [{ index: 2, records: encodeBatch({ records: [{ value: 'zero' }] }) }] }],
        }),
      ),
    )
    await c1.request(Metadata, 12, { topics: [{ name: TOPIC }], allowAutoTopicCreation: false })
    const fetched = await c1.request(Fetch, 11, {
      maxWaitMs: 0,
      minBytes: 0,
      maxBytes: 1 << 20,
      topics: [{ topic: TOPIC, partitions: [{ partition: 0, fetchOffset: 0n, partitionMaxBytes: 1 << 20 }] }],
    })
    assert.equal(fetched.responses[0]?.partitions[0]?.errorCode, ErrorCode.NONE)

    const { samples, types } = await scrape(metricsPort)
    assert.equal(types.get('cohort_broker_requests_total'), 'counter')
    assert.equal(types.get('cohort_broker_request_duration_seconds'), 'histogram')
    assert.equal(value(samples, 'cohort_broker_requests_total', { api: 'Produce', error: 'NONE' }), 3)
    assert.equal(value(samples, 'cohort_broker_requests_total', { api: 'Produce', error: 'UNKNOWN_TOPIC_OR_PARTITION' }), 1)
    assert.equal(value(samples, 'cohort_broker_requests_total', { api: 'Fetch', error: 'NONE' }), 1)
    assert.equal(value(samples, 'cohort_broker_requests_total', { api: 'Metadata', error: 'NONE' }), 1)

    for (const api of ['Produce', 'Fetch']) {
      const buckets = find(samples, 'cohort_broker_request_duration_seconds_bucket', { api })
      assert.ok(buckets.length > 10, `${api} buckets`)
      const les = buckets.map((s) => Number(s.labels.le))
      assert.deepEqual(
        les,
        [...les].sort((x, y) => x - y),
        'buckets in order',
      )
      for (let i = 1; i < buckets.length; i++) assert.ok((buckets[i] as Sample).value >= (buckets[i - 1] as Sample).value, 'cumulative')
      const count = value(samples, 'cohort_broker_request_duration_seconds_count', { api })
      assert.equal(value(samples, 'cohort_broker_request_duration_seconds_bucket', { api, le: '+Inf' }), count)
      assert.ok(value(samples, 'cohort_broker_request_duration_seconds_sum', { api }) > 0)
      assert.ok(value(samples, 'cohort_broker_bytes_in_total', { api }) > 0)
    }
    assert.equal(value(samples, 'cohort_broker_request_duration_seconds_count', { api: 'Produce' }), 4)
    // The fetch carried the 5 records back: more bytes out than a bare response.
    assert.ok(value(samples, 'cohort_broker_bytes_out_total', { api: 'Fetch' }) > 100)
    assert.ok(
      value(samples, 'cohort_broker_bytes_in_total', { api: 'Produce' }) >
        value(samples, 'cohort_broker_bytes_out_total', { api: 'Produce' }),
    )
    assert.equal(value(samples, 'cohort_broker_connections'), 2)
    assert.equal(value(samples, 'kafka_brokers'), 1)
    assert.equal(value(samples, 'kafka_broker_info', { id: '1', address: b.bootstrap }), 1)
    assert.equal(find(samples, 'cohort_broker_info', { node_id: '1', version: '0.1.0' }).length, 1)
    assert.ok(value(samples, 'process_resident_memory_bytes') > 0)
  })

  test('topic-partition offsets with kafka_exporter names', async () => {
    const { samples, types } = await scrape(metricsPort)
    assert.equal(types.get('kafka_topic_partition_current_offset'), 'gauge')
    assert.equal(value(samples, 'kafka_topic_partitions', { topic: TOPIC }), 3)
    const current = (p: number) => value(samples, 'kafka_topic_partition_current_offset', { topic: TOPIC, partition: String(p) })
    assert.deepEqual([current(0), current(1), current(2)], [5, 3, 1])
    for (const p of ['0', '1', '2']) {
      assert.equal(value(samples, 'kafka_topic_partition_oldest_offset', { topic: TOPIC, partition: p }), 0)
      assert.equal(value(samples, 'kafka_topic_partition_leader', { topic: TOPIC, partition: p }), 1)
      assert.equal(value(samples, 'kafka_topic_partition_under_replicated_partition', { topic: TOPIC, partition: p }), 0)
    }
  })

  test('group offsets, lag and members (kafka_exporter) and rebalances, generation and state (cohort)', async () => {
    const j1 = await join(c1)
    assert.equal(j1.errorCode, ErrorCode.NONE)
    member1 = j1.memberId
    const s1 = await c1.request(SyncGroup, 5, {
      groupId: GROUP,
      generationId: j1.generationId,
      memberId: member1,
      groupInstanceId: null,
      protocolType: 'consumer',
      protocolName: 'range',
      assignments: [{ memberId: member1, assignment: assignment([0, 1, 2]) }],
    })
    assert.equal(s1.errorCode, ErrorCode.NONE)
    const committed = await c1.request(OffsetCommit, 9, {
      groupId: GROUP,
      generationIdOrMemberEpoch: j1.generationId,
      memberId: member1,
      groupInstanceId: null,
      topics: [
        {
          name: TOPIC,
          partitions: [
            { partitionIndex: 0, committedOffset: 2n, committedLeaderEpoch: -1, committedMetadata: '' },
            { partitionIndex: 1, committedOffset: 3n, committedLeaderEpoch: -1, committedMetadata: '' },
          ],
        },
      ],
    })
    assert.deepEqual(
      committed.topics[0]?.partitions.map((p) => p.errorCode),
      [0, 0],
    )

    const { samples } = await scrape(metricsPort)
    const g = { consumergroup: GROUP, topic: TOPIC }
    const at = (name: string, p: number) => value(samples, name, { ...g, partition: String(p) })
    assert.deepEqual(
      [
        at('kafka_consumergroup_current_offset', 0),
        at('kafka_consumergroup_current_offset', 1),
        at('kafka_consumergroup_current_offset', 2),
      ],
      [2, 3, -1],
    )
    assert.deepEqual([at('kafka_consumergroup_lag', 0), at('kafka_consumergroup_lag', 1), at('kafka_consumergroup_lag', 2)], [3, 0, -1])
    assert.equal(value(samples, 'kafka_consumergroup_lag_sum', g), 3)
    assert.equal(value(samples, 'kafka_consumergroup_current_offset_sum', g), 5)
    assert.equal(value(samples, 'kafka_consumergroup_members', { consumergroup: GROUP }), 1)
    assert.equal(value(samples, 'cohort_group_generation', { consumergroup: GROUP }), 1)
    assert.equal(value(samples, 'cohort_group_state', { consumergroup: GROUP, state: 'Stable' }), 1)
    assert.equal(
      find(samples, 'cohort_group_state', { consumergroup: GROUP }).reduce((n, s) => n + s.value, 0),
      1,
      'one state at a time',
    )
    assert.equal(value(samples, 'cohort_group_rebalances_total', { consumergroup: GROUP, trigger: 'join' }), 1)
    assert.equal(value(samples, 'cohort_group_rebalances_total', { consumergroup: GROUP, trigger: 'leave' }), 0)
    assert.equal(value(samples, 'cohort_group_last_rebalance_partitions_moved', { consumergroup: GROUP }), 3)
    assert.ok(value(samples, 'cohort_group_last_rebalance_duration_seconds', { consumergroup: GROUP }) >= 0)
    assert.equal(value(samples, 'cohort_broker_requests_total', { api: 'JoinGroup', error: 'MEMBER_ID_REQUIRED' }), 1)

    // A second member: a rebalance moves partition 2 to it.
    const parked = join(c2)
    await new Promise((r) => setTimeout(r, 50))
    const rejoin = await join(c1, member1)
    const j2 = await parked
    assert.equal(rejoin.generationId, 2)
    member2 = j2.memberId
    const followerSync = c2.request(SyncGroup, 5, {
      groupId: GROUP,
      generationId: 2,
      memberId: member2,
      groupInstanceId: null,
      protocolType: 'consumer',
      protocolName: 'range',
      assignments: [],
    })
    const leaderSync = await c1.request(SyncGroup, 5, {
      groupId: GROUP,
      generationId: 2,
      memberId: member1,
      groupInstanceId: null,
      protocolType: 'consumer',
      protocolName: 'range',
      assignments: [
        { memberId: member1, assignment: assignment([0, 1]) },
        { memberId: member2, assignment: assignment([2]) },
      ],
    })
    assert.equal(leaderSync.errorCode, ErrorCode.NONE)
    assert.equal((await followerSync).errorCode, ErrorCode.NONE)
    const after = (await scrape(metricsPort)).samples
    assert.equal(value(after, 'kafka_consumergroup_members', { consumergroup: GROUP }), 2)
    assert.equal(value(after, 'cohort_group_generation', { consumergroup: GROUP }), 2)
    assert.equal(value(after, 'cohort_group_rebalances_total', { consumergroup: GROUP, trigger: 'join' }), 2)
    assert.equal(value(after, 'cohort_group_last_rebalance_partitions_moved', { consumergroup: GROUP }), 1)
  })

  test('DescribeRebalanceHistory is answered but not advertised', async () => {
    const versions = await c1.request(ApiVersions, 3, { clientSoftwareName: 't', clientSoftwareVersion: '1' })
    assert.ok(!versions.apiKeys.some((k) => k.apiKey === DescribeRebalanceHistory.key))
    const res = await c1.request(DescribeRebalanceHistory, 0, { groups: [GROUP, 'no-such-group'] })
    assert.deepEqual(
      res.groups.map((g) => [g.groupId, g.errorCode]),
      [
        [GROUP, ErrorCode.NONE],
        ['no-such-group', ErrorCode.GROUP_ID_NOT_FOUND],
      ],
    )
    const rebalances = res.groups[0]?.rebalances ?? []
    assert.deepEqual(
      rebalances.map((r) => [r.generationId, r.trigger, r.partitionsMoved, r.protocolName]),
      [
        [1, 'join', 3, 'range'],
        [2, 'join', 1, 'range'],
      ],
    )
    const second = rebalances[1]
    assert.ok(second && second.stableAtMs >= second.startedAtMs && second.durationMs === second.stableAtMs - second.startedAtMs)
    assert.deepEqual(
      second?.members.map((m) => [
        m.memberId,
        m.clientId,
        m.clientHost,
        m.inPreviousGeneration,
        m.inNewGeneration,
        m.revokedPartitions,
        m.assignedPartitions,
      ]),
      [
        [member1, 'raw-test', '/127.0.0.1', true, true, [{ topic: TOPIC, partitions: [2] }], []],
        [member2, 'raw-test', '/127.0.0.1', false, true, [], [{ topic: TOPIC, partitions: [2] }]],
      ],
    )
    for (const m of second?.members ?? []) assert.ok(m.waitMs >= 0n && m.syncedAtMs >= m.waitStartedAtMs)
    assert.equal(Number(second?.maxWaitMs), Math.max(...(second?.members ?? []).map((m) => Number(m.waitMs))))
  })

  test('several brokers in one process keep separate registries', async () => {
    const other = await startBroker({ 'log.flush.mode': 'os', 'metrics.port': 0 })
    try {
      const port = other.broker.metricsPort as number
      assert.notEqual(port, metricsPort)
      const fresh = (await scrape(port)).samples
      assert.equal(value(fresh, 'cohort_broker_requests_total', { api: 'Produce', error: 'NONE' }), 0)
      assert.equal(find(fresh, 'kafka_topic_partitions', { topic: TOPIC }).length, 0)
      assert.equal(value((await scrape(metricsPort)).samples, 'cohort_broker_requests_total', { api: 'Produce', error: 'NONE' }), 3)
    } finally {
      await other.stop()
    }
    const refused = await fetch(`http://127.0.0.1:${other.broker.metricsPort}/metrics`).then(
      () => false,
      () => true,
    )
    assert.ok(refused, 'the metrics listener closes with the broker')
  })
})

describe('response error finder', () => {
  test('top level first, then the first nested error, records untouched', () => {
    const find = errorFinder(Produce.response)
    const ok = { responses: [{ name: 't', partitionResponses: [{ index: 0, errorCode: 0 }] }], throttleTimeMs: 0 }
    assert.equal(find(ok), 0)
    const mixed = {
      responses: [
        { name: 'a', partitionResponses: [{ index: 0, errorCode: 0 }] },
        {
          name: 'b',
          partitionResponses: [
            { index: 0, errorCode: 0 },
            { index: 1, errorCode: ErrorCode.NOT_LEADER_OR_FOLLOWER },
          ],
        },
      ],
    }
    assert.equal(find(mixed), ErrorCode.NOT_LEADER_OR_FOLLOWER)
    const fetchFind = errorFinder(Fetch.response)
    const records = new Proxy(Buffer.alloc(1), {
      get: () => assert.fail('records must not be read'),
    })
    assert.equal(fetchFind({ errorCode: 0, responses: [{ topic: 't', partitions: [{ partitionIndex: 0, errorCode: 0, records }] }] }), 0)
    assert.equal(fetchFind({ errorCode: ErrorCode.FETCH_SESSION_ID_NOT_FOUND, responses: [] }), ErrorCode.FETCH_SESSION_ID_NOT_FOUND)
    // An API without any errorCode field.
    assert.equal(errorFinder(DescribeRebalanceHistory.request)({ groups: ['x'] }), 0)
  })
})
