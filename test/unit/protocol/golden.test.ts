/**
 * Request frames captured from real clients (scripts/capture-golden.ts) must decode to what the
 * client meant, and re-encode to the very same bytes.
 */
import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { crc32c } from '@node-rs/crc32'
import { ApiKey, apiByKey } from '../../../src/protocol/apis/index.ts'
import { decodeRequestBody, encodeRequest, readRequestHeader } from '../../../src/protocol/frame.ts'
import { Reader } from '../../../src/protocol/primitives/reader.ts'
import { Writer } from '../../../src/protocol/primitives/writer.ts'
import { encodeStruct } from '../../../src/protocol/schema/codec.ts'

const dir = join(dirname(fileURLToPath(import.meta.url)), '../../fixtures/golden')
const ZERO_UUID = 'AAAAAAAAAAAAAAAAAAAAAA'
const TOPIC = 'cohort-golden'

interface Expected {
  apiKey: number
  version: number
  clientId: string | null
  /** Fields of the decoded body to check (a subset). */
  body: Record<string, unknown>
  /** Further checks on the decoded body. */
  check?: (body: Record<string, unknown>) => void
}

const GROUP = 'cohort-golden-group'

/** A produced record batch (magic 2) holding the one record `golden-key` → `golden-value`, with a valid CRC-32C. */
function checkProduce(body: Record<string, unknown>): void {
  const topics = body.topicData as { name: string; partitionData: { index: number; records: Buffer | null }[] }[]
  assert.equal(topics.length, 1)
  assert.equal(topics[0]?.name, TOPIC)
  assert.equal(topics[0]?.partitionData.length, 1)
  const p = topics[0]?.partitionData[0] as { index: number; records: Buffer | null }
  assert.equal(p.index, 0)
  const batch = p.records as Buffer
  assert.ok(Buffer.isBuffer(batch))
  assert.equal(batch.readInt32BE(8), batch.length - 12, 'batchLength')
  assert.equal(batch.readInt8(16), 2, 'magic')
  assert.equal(batch.readUInt32BE(17), crc32c(batch.subarray(21)), 'CRC-32C')
  assert.equal(batch.readInt32BE(57), 1, 'record count')
  assert.ok(batch.includes('golden-key') && batch.includes('golden-value'))
}

/** A JoinGroup from a new consumer: empty member id, consumer protocol, these assignors. */
const joinGroupBody = (protocols: string[]) => (body: Record<string, unknown>) => {
  assert.equal(body.groupId, GROUP)
  assert.equal(body.memberId, '')
  assert.equal(body.protocolType, 'consumer')
  const ps = body.protocols as { name: string; metadata: Buffer }[]
  assert.deepEqual(
    ps.map((p) => p.name),
    protocols,
  )
  // ConsumerProtocolSubscription: int16 version, [topics], ... — it names our topic.
  for (const p of ps) assert.ok(p.metadata.includes(TOPIC), `${p.name} subscription names the topic`)
}

const EXPECTED: Record<string, Expected> = {
  // ---- librdkafka 2.0.2 (kcat, confluent-kafka-python 1.7.0)
  'kcat-api-versions-v3.hex': {
    apiKey: ApiKey.ApiVersions,
    version: 3,
    clientId: 'rdkafka',
    body: { clientSoftwareName: 'librdkafka', clientSoftwareVersion: '2.0.2' },
  },
  // librdkafka's first Metadata asks for brokers only: an empty (not null) topic list.
  'kcat-metadata-v4.hex': {
    apiKey: ApiKey.Metadata,
    version: 4,
    clientId: 'rdkafka',
    body: { topics: [], allowAutoTopicCreation: false },
  },
  'kcat-produce-v7.hex': {
    apiKey: ApiKey.Produce,
    version: 7,
    clientId: 'rdkafka',
    body: { transactionalId: null, acks: -1, timeoutMs: 30000 },
    check: checkProduce,
  },
  'kcat-find-coordinator-v2.hex': {
    apiKey: ApiKey.FindCoordinator,
    version: 2,
    clientId: 'rdkafka',
    body: { key: GROUP, keyType: 0 },
  },
  'kcat-join-group-v5.hex': {
    apiKey: ApiKey.JoinGroup,
    version: 5,
    clientId: 'rdkafka',
    body: { sessionTimeoutMs: 45000, rebalanceTimeoutMs: 300000, groupInstanceId: null },
    check: joinGroupBody(['range', 'roundrobin']),
  },
  'confluent-kafka-api-versions-v3.hex': {
    apiKey: ApiKey.ApiVersions,
    version: 3,
    clientId: 'cohort-golden',
    body: { clientSoftwareName: 'confluent-kafka-python', clientSoftwareVersion: '1.7.0-rdkafka-2.0.2' },
  },
  'confluent-kafka-metadata-v4.hex': {
    apiKey: ApiKey.Metadata,
    version: 4,
    clientId: 'cohort-golden',
    body: { topics: [{ name: TOPIC, topicId: ZERO_UUID }], allowAutoTopicCreation: true },
  },

  // ---- kafka-python 2.0.2
  'kafka-python-api-versions-v0.hex': { apiKey: ApiKey.ApiVersions, version: 0, clientId: 'cohort-golden', body: {} },
  // v0: an empty topic list means every topic.
  'kafka-python-metadata-v0.hex': { apiKey: ApiKey.Metadata, version: 0, clientId: 'cohort-golden', body: { topics: [] } },
  'kafka-python-produce-v7.hex': {
    apiKey: ApiKey.Produce,
    version: 7,
    clientId: 'cohort-golden',
    body: { transactionalId: null, acks: 1, timeoutMs: 5000 },
    check: checkProduce,
  },
  'kafka-python-find-coordinator-v0.hex': {
    apiKey: ApiKey.FindCoordinator,
    version: 0,
    clientId: 'cohort-golden',
    body: { key: GROUP },
  },
  'kafka-python-join-group-v2.hex': {
    apiKey: ApiKey.JoinGroup,
    version: 2,
    clientId: 'cohort-golden',
    body: { sessionTimeoutMs: 10000, rebalanceTimeoutMs: 300000 },
    check: joinGroupBody(['range', 'roundrobin']),
  },

  // ---- kafkajs 2.2.4
  'kafkajs-api-versions-v2.hex': { apiKey: ApiKey.ApiVersions, version: 2, clientId: 'cohort-golden', body: {} },
  'kafkajs-metadata-v6.hex': {
    apiKey: ApiKey.Metadata,
    version: 6,
    clientId: 'cohort-golden',
    body: { topics: [{ name: TOPIC, topicId: ZERO_UUID }], allowAutoTopicCreation: false },
  },
  'kafkajs-produce-v7.hex': {
    apiKey: ApiKey.Produce,
    version: 7,
    clientId: 'cohort-golden',
    body: { transactionalId: null, acks: -1, timeoutMs: 30000 },
    check: checkProduce,
  },
  'kafkajs-find-coordinator-v2.hex': {
    apiKey: ApiKey.FindCoordinator,
    version: 2,
    clientId: 'cohort-golden',
    body: { key: GROUP, keyType: 0 },
  },
  'kafkajs-join-group-v5.hex': {
    apiKey: ApiKey.JoinGroup,
    version: 5,
    clientId: 'cohort-golden',
    body: { sessionTimeoutMs: 30000, rebalanceTimeoutMs: 60000, groupInstanceId: null },
    check: joinGroupBody(['RoundRobinAssigner']),
  },

  // ---- @platformatic/kafka 1.35.0 (flexible versions)
  'platformatic-api-versions-v3.hex': {
    apiKey: ApiKey.ApiVersions,
    version: 3,
    clientId: 'cohort-golden',
    body: { clientSoftwareName: 'platformatic-kafka', clientSoftwareVersion: '1.35.0' },
  },
  'platformatic-metadata-v12.hex': {
    apiKey: ApiKey.Metadata,
    version: 12,
    clientId: 'cohort-golden',
    body: {
      topics: [{ topicId: ZERO_UUID, name: TOPIC }],
      allowAutoTopicCreation: false,
      includeTopicAuthorizedOperations: true,
    },
  },
  'platformatic-produce-v11.hex': {
    apiKey: ApiKey.Produce,
    version: 11,
    clientId: 'cohort-golden',
    body: { transactionalId: null, acks: 1, timeoutMs: 5000 },
    check: checkProduce,
  },
  'platformatic-find-coordinator-v5.hex': {
    apiKey: ApiKey.FindCoordinator,
    version: 5,
    clientId: 'cohort-golden',
    body: { keyType: 0, coordinatorKeys: [GROUP] },
  },
  'platformatic-join-group-v9.hex': {
    apiKey: ApiKey.JoinGroup,
    version: 9,
    clientId: 'cohort-golden',
    body: { sessionTimeoutMs: 60000, rebalanceTimeoutMs: 102000, groupInstanceId: null, reason: '' },
    check: joinGroupBody(['roundrobin']),
  },
}

const fixtures = readdirSync(dir)
  .filter((f) => f.endsWith('.hex'))
  .sort()

test('every expected golden fixture is present, and every fixture has expectations', () => {
  for (const name of Object.keys(EXPECTED)) assert.ok(fixtures.includes(name), `missing fixture ${name}`)
  for (const name of fixtures) assert.ok(EXPECTED[name], `no expectations for ${name}`)
})

for (const file of fixtures) {
  test(`golden ${file}: header, body, and byte-identical re-encoding`, () => {
    const frame = Buffer.from(readFileSync(join(dir, file), 'utf8').trim(), 'hex')
    const m = /^(.+)-v(\d+)\.hex$/.exec(file) as RegExpExecArray
    const version = Number(m[2])
    const api = apiByKey(frame.readInt16BE(0))
    assert.ok(api, `${file}: api key ${frame.readInt16BE(0)} is defined`)
    assert.ok(file.endsWith(`-${api.name.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase()}-v${version}.hex`), `${file}: name`)

    const r = new Reader(frame)
    const header = readRequestHeader(r, api.requestHeaderVersion(version))
    assert.equal(header.apiKey, api.key)
    assert.equal(header.apiVersion, version)
    const bodyStart = r.offset
    const body = decodeRequestBody(api, version, r)
    assert.equal(r.remaining, 0, `${file}: ${r.remaining} bytes left after the body`)

    const expected = EXPECTED[file]
    if (expected) {
      assert.equal(header.apiKey, expected.apiKey)
      assert.equal(header.apiVersion, expected.version)
      assert.equal(header.clientId, expected.clientId)
      for (const [k, v] of Object.entries(expected.body)) assert.deepEqual((body as Record<string, unknown>)[k], v, `${file}: ${k}`)
      expected.check?.(body as Record<string, unknown>)
    }

    const w = new Writer()
    encodeStruct(w, api.request, version, api.isFlexible(version), body)
    assert.equal(w.toBuffer().toString('hex'), frame.subarray(bodyStart).toString('hex'), `${file}: body re-encoding`)
    const whole = Buffer.concat(encodeRequest(api, version, header.correlationId, header.clientId, body))
    assert.equal(whole.readInt32BE(0), frame.length)
    assert.equal(whole.subarray(4).toString('hex'), frame.toString('hex'), `${file}: frame re-encoding`)
  })
}
