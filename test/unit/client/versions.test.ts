/**
 * ApiVersions negotiation against fake brokers that reject v3 with and
 * without the KIP-511 key-18 entry, and the per-API version choice.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { UnsupportedVersionError } from '../../../src/client/errors.ts'
import { Connection } from '../../../src/client/network/connection.ts'
import { ApiVersionTable, negotiateApiVersions } from '../../../src/client/network/versions.ts'
import { Fetch, JoinGroup, Metadata, Produce } from '../../../src/protocol/apis/index.ts'
import { FakeBroker } from './fake-broker.ts'

async function negotiate(b: FakeBroker): Promise<ApiVersionTable> {
  const c = new Connection({ host: '127.0.0.1', port: b.port })
  await c.connect()
  try {
    return await negotiateApiVersions(c)
  } finally {
    c.close()
  }
}

test('a broker that knows v3 answers the first request', async () => {
  const b = await FakeBroker.start()
  try {
    const t = await negotiate(b)
    assert.equal(t.apiVersionsVersion, 3)
    assert.deepEqual(
      b.requests.map((r) => r.version),
      [3],
    )
    assert.equal(b.requests[0]?.body.clientSoftwareName, 'cohort-js')
  } finally {
    await b.close()
  }
})

test('UNSUPPORTED_VERSION with a key-18 entry: retry at the broker max', async () => {
  const b = await FakeBroker.start({ apiVersionsMax: 2, listApiVersionsEntry: true })
  try {
    const t = await negotiate(b)
    assert.equal(t.apiVersionsVersion, 2)
    assert.deepEqual(
      b.requests.map((r) => r.version),
      [3, 2],
    )
    assert.equal(t.pick(Metadata), 12)
  } finally {
    await b.close()
  }
})

test('UNSUPPORTED_VERSION without the entry: retry at v0', async () => {
  const b = await FakeBroker.start({ apiVersionsMax: 1, listApiVersionsEntry: false })
  try {
    const t = await negotiate(b)
    assert.equal(t.apiVersionsVersion, 0)
    assert.deepEqual(
      b.requests.map((r) => r.version),
      [3, 0],
    )
  } finally {
    await b.close()
  }
})

test('pick takes min(our max, broker max) and fails clearly when ranges do not overlap', () => {
  const t = new ApiVersionTable(
    new Map([
      [Produce.key, { min: 3, max: 7 }],
      [Fetch.key, { min: 0, max: 30 }],
      [Metadata.key, { min: 13, max: 15 }],
    ]),
  )
  assert.equal(t.pick(Produce), 7)
  assert.equal(t.pick(Fetch), Fetch.versions.max, 'never above what we implement')
  assert.equal(t.pick(Fetch, { max: 12 }), 12)
  assert.throws(() => t.pick(Produce, { min: 9 }), UnsupportedVersionError)
  assert.throws(
    () => t.pick(Metadata),
    (e: unknown) => e instanceof UnsupportedVersionError && /Metadata/.test(e.message) && /v13-v15/.test(e.message) && !e.retriable,
  )
  assert.throws(() => t.pick(JoinGroup), /does not support JoinGroup/)
  assert.equal(t.supports(JoinGroup), false)
})
