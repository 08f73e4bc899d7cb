import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ApiVersions } from '../../../src/protocol/apis/18-api-versions.ts'
import { Reader } from '../../../src/protocol/primitives/reader.ts'
import { Writer } from '../../../src/protocol/primitives/writer.ts'
import { decodeStruct, encodeStruct } from '../../../src/protocol/schema/codec.ts'

test('ApiVersions response round-trips at every version, tagged fields included', () => {
  for (let v = 0; v <= 3; v++) {
    const flex = ApiVersions.isFlexible(v)
    const w = new Writer()
    const body = {
      errorCode: 0,
      apiKeys: [{ apiKey: 18, minVersion: 0, maxVersion: 3 }],
      throttleTimeMs: v >= 1 ? 5 : 0,
      supportedFeatures: [],
      finalizedFeaturesEpoch: v >= 3 ? 7n : -1n,
      finalizedFeatures: [],
      zkMigrationReady: false,
    }
    encodeStruct(w, ApiVersions.response, v, flex, body)
    const out = decodeStruct(new Reader(w.toBuffer()), ApiVersions.response, v, flex)
    assert.deepEqual(out, body)
  }
})

test('varints: zigzag and unsigned round-trip at the edges', () => {
  const w = new Writer()
  const ints = [0, 1, -1, 63, -64, 2 ** 31 - 1, -(2 ** 31)]
  for (const i of ints) w.varint(i)
  const longs = [0n, -1n, 2n ** 63n - 1n, -(2n ** 63n)]
  for (const l of longs) w.varlong(l)
  const u = [0, 127, 128, 2 ** 32 - 1]
  for (const x of u) w.uvarint(x)
  const r = new Reader(w.toBuffer())
  for (const i of ints) assert.equal(r.varint(), i)
  for (const l of longs) assert.equal(r.varlong(), l)
  for (const x of u) assert.equal(r.uvarint(), x)
  assert.equal(r.remaining, 0)
})
