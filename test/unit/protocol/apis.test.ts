/**
 * Every API definition, every version, both directions: a sample value is derived
 * from the schema itself (so new fields are covered without touching this file),
 * encoded, decoded, and compared, and the decoder must consume every byte.
 */
import assert from 'node:assert/strict'
import { readdirSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { ALL_APIS, ApiKey, ApiVersions, apiByKey, ConsumerGroupHeartbeat, Heartbeat } from '../../../src/protocol/apis/index.ts'
import { ErrorCode, errorInfo, KafkaError } from '../../../src/protocol/errors.ts'
import { Reader } from '../../../src/protocol/primitives/reader.ts'
import { Writer } from '../../../src/protocol/primitives/writer.ts'
import { decodeStruct, defaultOf, encodeStruct } from '../../../src/protocol/schema/codec.ts'
import { type AnyField, type ApiDefinition, type Fields, inRange, t } from '../../../src/protocol/schema/dsl.ts'

type Mode = 'values' | 'nulls'

/** Whether the field is on the wire in this version (tagged-only fields need a flexible version). */
function present(f: AnyField, version: number, flexible: boolean): boolean {
  if (!inRange(f.versions, version)) return false
  if (f.tag !== undefined && !flexible) return false
  return true
}

/** A value of the field's kind that differs from its default. */
function sampleValue(f: AnyField, version: number, flexible: boolean, mode: Mode, n: number): unknown {
  if (mode === 'nulls' && inRange(f.nullableVersions, version)) return null
  const d = defaultOf(f, version)
  switch (f.kind) {
    case 'int8':
      return d === 10 + (n % 100) ? 11 + (n % 100) : 10 + (n % 100)
    case 'int16':
      return 300 + n
    case 'uint16':
      return 60000 + n
    case 'int32':
      return 70000 + n
    case 'uint32':
      return 3_000_000_000 + n
    case 'int64':
      return 2n ** 40n + BigInt(n)
    case 'float64':
      return 1.5 + n
    case 'bool':
      return d !== true
    case 'string':
      return `s${n}-é`
    case 'bytes':
      return Buffer.from([1, 2, 3, n & 0xff])
    case 'records':
      return Buffer.from([9, 8, 7, 6, 5, n & 0xff])
    case 'uuid':
      return Buffer.alloc(16, (n % 250) + 1).toString('base64url')
    case 'array': {
      const item = f.item as AnyField
      return [0, 1].map((i) => sampleValue(item, version, flexible, mode, n * 2 + i + 1))
    }
    case 'struct':
      return sampleStruct(f.fields as Fields, version, flexible, mode, n + 1)
  }
}

function sampleStruct(fields: Fields, version: number, flexible: boolean, mode: Mode, n = 0): Record<string, unknown> {
  const o: Record<string, unknown> = {}
  let i = 0
  for (const [name, f] of Object.entries(fields)) {
    i++
    o[name] = present(f, version, flexible) ? sampleValue(f, version, flexible, mode, n * 7 + i) : defaultOf(f, version)
  }
  return o
}

function roundTrip(fields: Fields, version: number, flexible: boolean, value: Record<string, unknown>) {
  const w = new Writer()
  encodeStruct(w, fields, version, flexible, value)
  const buf = w.toBuffer()
  const r = new Reader(buf)
  const out = decodeStruct(r, fields, version, flexible)
  return { out, remaining: r.remaining, length: buf.length }
}

for (const api of ALL_APIS) {
  test(`${api.name} (key ${api.key}) round-trips requests and responses at v${api.versions.min}–v${api.versions.max}`, () => {
    for (let v = api.versions.min; v <= api.versions.max; v++) {
      const flex = api.isFlexible(v)
      for (const [dir, fields] of [
        ['request', api.request],
        ['response', api.response],
      ] as const) {
        for (const mode of ['values', 'nulls'] as const) {
          const value = sampleStruct(fields, v, flex, mode)
          const where = `${api.name} v${v} ${dir} (${mode})`
          let res: ReturnType<typeof roundTrip>
          try {
            res = roundTrip(fields, v, flex, value)
          } catch (err) {
            assert.fail(`${where}: ${(err as Error).message}`)
          }
          assert.deepEqual(res.out, value, where)
          assert.equal(res.remaining, 0, `${where}: ${res.remaining} bytes left undecoded`)
        }
      }
    }
  })
}

test('unknown tagged fields are skipped, at the top level and inside array elements', () => {
  // Encode with a schema that has extra tags the real one lacks, decode with the real one.
  const extendedHeartbeat = { ...Heartbeat.request, extraA: t.string.tagged(7, '4+'), extraB: t.int64.tagged(300, '4+') }
  const value = { groupId: 'g', generationId: 3, memberId: 'm', groupInstanceId: null }
  const w = new Writer()
  encodeStruct(w, extendedHeartbeat, 4, true, { ...value, extraA: 'ignored', extraB: 99n })
  const plain = new Writer()
  encodeStruct(plain, Heartbeat.request, 4, true, value)
  assert.ok(w.length > plain.length, 'the extended encoding carries the extra tags')
  const r = new Reader(w.toBuffer())
  assert.deepEqual(decodeStruct(r, Heartbeat.request, 4, true), value)
  assert.equal(r.remaining, 0)

  // Nested: an ApiVersions v3 apiKeys element with an unknown tag, next to known top-level tags.
  const item = (ApiVersions.response.apiKeys.item as AnyField).fields as Fields
  const extendedResponse = {
    ...ApiVersions.response,
    apiKeys: t.array({ ...item, extra: t.string.tagged(5, '3+') }),
    extraTop: t.bytes.tagged(42, '3+'),
  }
  const body = {
    errorCode: 0,
    apiKeys: [{ apiKey: 18, minVersion: 0, maxVersion: 3 }],
    throttleTimeMs: 0,
    supportedFeatures: [],
    finalizedFeaturesEpoch: 5n,
    finalizedFeatures: [],
    zkMigrationReady: true,
  }
  const w2 = new Writer()
  encodeStruct(w2, extendedResponse, 3, true, {
    ...body,
    apiKeys: [{ ...body.apiKeys[0], extra: 'x' }],
    extraTop: Buffer.from([1, 2, 3]),
  })
  const r2 = new Reader(w2.toBuffer())
  assert.deepEqual(decodeStruct(r2, ApiVersions.response, 3, true), body)
  assert.equal(r2.remaining, 0)
})

// Kafka writes int8 -1 for a null struct and int8 1 before a present one.
test('a nullable struct carries Kafka’s int8 presence marker (ConsumerGroupHeartbeat response `assignment`)', () => {
  const base = { throttleTimeMs: 0, errorCode: 0, errorMessage: null, memberId: null, memberEpoch: 1, heartbeatIntervalMs: 2 }
  const head = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 2]
  const encode = (assignment: unknown) => {
    const w = new Writer()
    encodeStruct(w, ConsumerGroupHeartbeat.response, 0, true, { ...base, assignment } as never)
    return w.toBuffer()
  }
  // present: marker 1, compact empty array (1), the struct's tags (0), then the body's tags (0)
  assert.deepEqual([...encode({ topicPartitions: [] })], [...head, 1, 1, 0, 0])
  // null: marker -1, then the body's tags
  assert.deepEqual([...encode(null)], [...head, 0xff, 0])
})

test('ALL_APIS: unique keys, apiByKey, ApiKey, and one NN-kebab-name.ts file per API', async () => {
  const keys = ALL_APIS.map((a) => a.key)
  assert.equal(new Set(keys).size, keys.length, 'duplicate api keys')
  const names = ALL_APIS.map((a) => a.name)
  assert.equal(new Set(names).size, names.length, 'duplicate api names')
  for (const a of ALL_APIS) {
    assert.equal(apiByKey(a.key), a)
    assert.equal((ApiKey as Record<string, number>)[a.name], a.key, `ApiKey.${a.name}`)
  }
  assert.equal(Object.keys(ApiKey).length, ALL_APIS.length)
  assert.equal(apiByKey(9999), undefined)

  const dir = join(dirname(fileURLToPath(import.meta.url)), '../../../src/protocol/apis')
  const files = readdirSync(dir).filter((f) => /^\d+-.*\.ts$/.test(f))
  assert.equal(files.length, ALL_APIS.length, 'one definition file per API')
  const kebab = (s: string) => s.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase()
  for (const f of files) {
    const m = /^(\d+)-(.*)\.ts$/.exec(f) as RegExpExecArray
    const mod = (await import(join(dir, f))) as Record<string, ApiDefinition>
    const exported = Object.entries(mod)
    assert.equal(exported.length, 1, `${f} exports one definition`)
    const [exportName, api] = exported[0] as [string, ApiDefinition]
    assert.equal(api.key, Number(m[1]), `${f}: key ${api.key} does not match the file name`)
    assert.ok((m[1] as string).length >= 2, `${f}: key prefix has at least two digits`)
    assert.equal(m[2], kebab(api.name), `${f}: file name does not match the API name ${api.name}`)
    assert.equal(exportName, api.name, `${f}: export name`)
    assert.equal(apiByKey(api.key), api, `${f}: ALL_APIS holds the same object`)
  }
})

test('error table: unique codes from -1 upward, names agree with ErrorCode, KafkaError carries them', () => {
  const entries = Object.entries(ErrorCode)
  const codes = entries.map(([, c]) => c as number)
  assert.equal(new Set(codes).size, codes.length, 'duplicate error codes')
  const max = Math.max(...codes)
  for (let c = -1; c <= max; c++) assert.ok(codes.includes(c), `error code ${c} missing`)
  for (const [name, code] of entries) assert.equal(errorInfo(code).name, name)
  assert.equal(ErrorCode.NONE, 0)
  assert.equal(ErrorCode.UNKNOWN_SERVER_ERROR, -1)
  assert.equal(ErrorCode.UNSUPPORTED_VERSION, 35)
  assert.equal(errorInfo(ErrorCode.NOT_COORDINATOR).retriable, true)
  assert.equal(errorInfo(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION).retriable, true)
  assert.equal(errorInfo(ErrorCode.REBALANCE_IN_PROGRESS).retriable, false)
  assert.equal(errorInfo(ErrorCode.UNKNOWN_MEMBER_ID).retriable, false)
  const unknown = errorInfo(30000)
  assert.equal(unknown.code, 30000)
  assert.match(unknown.name, /^UNKNOWN_SERVER_ERROR/)
  assert.match(unknown.name, /30000/)

  const e = new KafkaError(ErrorCode.NOT_COORDINATOR)
  assert.ok(KafkaError.is(e) && e instanceof Error)
  assert.equal(e.code, 16)
  assert.equal(e.errorName, 'NOT_COORDINATOR')
  assert.equal(e.retriable, true)
  assert.match(e.message, /NOT_COORDINATOR/)
  assert.equal(new KafkaError(3, 'custom').message, 'custom')
  assert.equal(KafkaError.is(new Error('x')), false)
  assert.equal(KafkaError.is(null), false)
})
