/**
 * `__consumer_offsets` record layouts. The golden bytes below were written by hand from Kafka's schemas
 * (group-coordinator/src/main/resources/common/message/{OffsetCommit,GroupMetadata}{Key,Value}.json):
 * non-flexible strings are int16 length + UTF-8 (−1 = null), bytes are int32 length, arrays int32 count;
 * flexible (v4) values use unsigned-varint length+1 and end each struct with a tagged-field count.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import {
  decodeRecord,
  encodeRecord,
  type GroupMetadataRecord,
  groupMetadataRecord,
  groupMetadataTombstone,
  javaStringHashCode,
  type OffsetCommitRecord,
  offsetCommitRecord,
  offsetCommitTombstone,
  partitionFor,
  type RebalanceHistoryEntry,
  rebalanceHistoryRecord,
  rebalanceHistoryTombstone,
} from '../../../src/broker/coordinator/index.ts'

const hex = (s: string) => Buffer.from(s.replace(/[^0-9a-f]/gi, ''), 'hex')
// 1_700_000_000_000 = 0x0000018B_CFE56800
const TS = '00 00 01 8b cf e5 68 00'

describe('OffsetCommit records', () => {
  test('testOffsetCommitKeyV1AndValueV3MatchKafkaBytes', () => {
    const rec = offsetCommitRecord('g', 't', 0, {
      offset: 42n,
      leaderEpoch: 5,
      metadata: 'm',
      commitTimestamp: 1_700_000_000_000,
      expireTimestamp: -1,
    })
    const enc = encodeRecord(rec)
    // key: version 1, group "g", topic "t", partition 0
    assert.deepEqual(enc.key, hex('0001 0001 67 0001 74 00000000'))
    // value: version 3, offset 42, leader epoch 5, metadata "m", commit timestamp
    assert.deepEqual(enc.value, hex(`0003 000000000000002a 00000005 0001 6d ${TS}`))
  })

  test('testOffsetCommitWithExpireTimestampIsWrittenAsValueV1', () => {
    const rec = offsetCommitRecord('g', 't', 1, {
      offset: 7n,
      leaderEpoch: 3,
      metadata: '',
      commitTimestamp: 1_700_000_000_000,
      expireTimestamp: 1_700_000_000_000,
    })
    const enc = encodeRecord(rec)
    // v1 has no leader epoch but keeps the expire timestamp (Kafka: offsetCommitValueVersion(expireTimestampPresent) = 1)
    assert.deepEqual(enc.value, hex(`0001 0000000000000007 0000 ${TS} ${TS}`))
    const back = decodeRecord(enc.key, enc.value) as OffsetCommitRecord
    assert.equal(back.value?.leaderEpoch, -1)
    assert.equal(back.value?.expireTimestamp, 1_700_000_000_000)
  })

  test('testOffsetCommitTombstoneHasNullValue', () => {
    const enc = encodeRecord(offsetCommitTombstone('g', 't', 0))
    assert.equal(enc.value, null)
    assert.deepEqual(decodeRecord(enc.key, null), { type: 'offset-commit', group: 'g', topic: 't', partition: 0, value: null })
  })

  test('testDecodeOffsetCommitValueV0ToV4', () => {
    const key = hex('0000 0001 67 0001 74 00000002') // key version 0 has the same layout
    const cases: [string, { leaderEpoch: number; expireTimestamp: number }][] = [
      [`0000 000000000000000a 0001 6d ${TS}`, { leaderEpoch: -1, expireTimestamp: -1 }],
      [`0001 000000000000000a 0001 6d ${TS} ${TS}`, { leaderEpoch: -1, expireTimestamp: 1_700_000_000_000 }],
      [`0002 000000000000000a 0001 6d ${TS}`, { leaderEpoch: -1, expireTimestamp: -1 }],
      [`0003 000000000000000a 00000009 0001 6d ${TS}`, { leaderEpoch: 9, expireTimestamp: -1 }],
      // v4 (flexible): compact string "m" = 02 6d, then an empty tagged-field section
      [`0004 000000000000000a 00000009 02 6d ${TS} 00`, { leaderEpoch: 9, expireTimestamp: -1 }],
    ]
    for (const [valueHex, expect] of cases) {
      const rec = decodeRecord(key, hex(valueHex)) as OffsetCommitRecord
      assert.equal(rec.type, 'offset-commit')
      assert.equal(rec.partition, 2)
      assert.equal(rec.value?.offset, 10n)
      assert.equal(rec.value?.metadata, 'm')
      assert.equal(rec.value?.commitTimestamp, 1_700_000_000_000)
      assert.equal(rec.value?.leaderEpoch, expect.leaderEpoch)
      assert.equal(rec.value?.expireTimestamp, expect.expireTimestamp)
    }
  })

  test('testMetadataRoundTripsByteForByte', () => {
    const metadata = 'héllo ✓ 🚀 \u0000 end'
    const enc = encodeRecord(
      offsetCommitRecord('g', 't', 0, { offset: 1n, leaderEpoch: -1, metadata, commitTimestamp: 1, expireTimestamp: -1 }),
    )
    assert.equal((decodeRecord(enc.key, enc.value) as OffsetCommitRecord).value?.metadata, metadata)
  })
})

describe('GroupMetadata records', () => {
  const value = {
    protocolType: 'consumer',
    generation: 1,
    protocol: 'range',
    leader: 'm1',
    currentStateTimestamp: 1_700_000_000_000,
    members: [
      {
        memberId: 'm1',
        groupInstanceId: null,
        clientId: 'c',
        clientHost: '/h',
        rebalanceTimeout: 300_000,
        sessionTimeout: 10_000,
        subscription: Buffer.from([0xaa, 0xbb]),
        assignment: Buffer.from([0xcc]),
      },
    ],
  }
  const GOLDEN_V3 = [
    '0003', // value version 3
    '0008 636f6e73756d6572', // protocolType "consumer"
    '00000001', // generation 1
    '0005 72616e6765', // protocol "range"
    '0002 6d31', // leader "m1"
    TS, // currentStateTimestamp
    '00000001', // 1 member
    '0002 6d31', // memberId "m1"
    'ffff', // groupInstanceId null
    '0001 63', // clientId "c"
    '0002 2f68', // clientHost "/h"
    '000493e0', // rebalanceTimeout 300000
    '00002710', // sessionTimeout 10000
    '00000002 aabb', // subscription
    '00000001 cc', // assignment
  ].join(' ')

  test('testGroupMetadataKeyV2AndValueV3MatchKafkaBytes', () => {
    const enc = encodeRecord(groupMetadataRecord('g', value))
    assert.deepEqual(enc.key, hex('0002 0001 67'))
    assert.deepEqual(enc.value, hex(GOLDEN_V3))
    assert.deepEqual(decodeRecord(enc.key, enc.value), { type: 'group-metadata', group: 'g', valueVersion: 3, value })
  })

  test('testGroupMetadataTombstone', () => {
    const enc = encodeRecord(groupMetadataTombstone('g'))
    assert.equal(enc.value, null)
    assert.deepEqual(decodeRecord(enc.key, null), { type: 'group-metadata', group: 'g', value: null })
  })

  test('testEmptyGroupMetadataWithNullProtocolAndLeader', () => {
    const empty = { protocolType: '', generation: 0, protocol: null, leader: null, currentStateTimestamp: 5, members: [] }
    const enc = encodeRecord(groupMetadataRecord('g', empty))
    assert.deepEqual(enc.value, hex('0003 0000 00000000 ffff ffff 0000000000000005 00000000'))
    assert.deepEqual((decodeRecord(enc.key, enc.value) as GroupMetadataRecord).value, empty)
  })

  test('testDecodeGroupMetadataValueV0ToV4', () => {
    const key = hex('0002 0001 67')
    const head = '0008 636f6e73756d6572 00000001 0005 72616e6765 0002 6d31'
    const v0 = `0000 ${head} 00000001 0002 6d31 0001 63 0002 2f68 00002710 00000002 aabb 00000001 cc`
    const v1 = `0001 ${head} 00000001 0002 6d31 0001 63 0002 2f68 000493e0 00002710 00000002 aabb 00000001 cc`
    const v2 = `0002 ${head} ${TS} 00000001 0002 6d31 0001 63 0002 2f68 000493e0 00002710 00000002 aabb 00000001 cc`
    const v3 = GOLDEN_V3
    // v4: compact strings/bytes/arrays (length+1) and a tagged-field count after each struct
    const v4 = `0004 09 636f6e73756d6572 00000001 06 72616e6765 03 6d31 ${TS} 02 03 6d31 00 02 63 03 2f68 000493e0 00002710 03 aabb 02 cc 00 00`
    const decoded = [v0, v1, v2, v3, v4].map((v) => (decodeRecord(key, hex(v)) as GroupMetadataRecord).value)
    for (const [i, d] of decoded.entries()) {
      assert.equal(d?.protocolType, 'consumer', `v${i}`)
      assert.equal(d?.protocol, 'range')
      assert.equal(d?.members[0]?.memberId, 'm1')
      assert.deepEqual(d?.members[0]?.subscription, Buffer.from([0xaa, 0xbb]))
      assert.deepEqual(d?.members[0]?.assignment, Buffer.from([0xcc]))
      assert.equal(d?.members[0]?.sessionTimeout, 10_000)
    }
    assert.equal(decoded[0]?.members[0]?.rebalanceTimeout, -1)
    assert.equal(decoded[0]?.currentStateTimestamp, -1)
    assert.equal(decoded[1]?.members[0]?.rebalanceTimeout, 300_000)
    assert.equal(decoded[2]?.currentStateTimestamp, 1_700_000_000_000)
    assert.equal(decoded[4]?.members[0]?.groupInstanceId, null)
  })

  test('testUnknownKeyVersionsDecodeAsUnknownRecords', () => {
    const rec = decodeRecord(hex('0003 0001 67'), hex('0000 00000001 00'))
    assert.equal(rec.type, 'unknown')
    assert.deepEqual(encodeRecord(rec), { key: hex('0003 0001 67'), value: hex('0000 00000001 00') })
  })
})

describe('partitionFor', () => {
  test('testJavaStringHashCode', () => {
    assert.equal(javaStringHashCode(''), 0)
    assert.equal(javaStringHashCode('hello'), 99162322)
    // The classic Integer.MIN_VALUE hash, which Kafka's Utils.abs maps to 0.
    assert.equal(javaStringHashCode('polygenelubricants'), -2147483648)
  })

  test('testGroupPartitionIsUtilsAbsOfHashCodeModNumPartitions', () => {
    assert.equal(partitionFor('hello', 50), 99162322 % 50)
    assert.equal(partitionFor('polygenelubricants', 50), 0)
    // Negative hashes: "console-consumer-1" style ids, Math.abs of the Java hash.
    const h = javaStringHashCode('my-group-with-a-negative-hash-?')
    assert.equal(partitionFor('my-group-with-a-negative-hash-?', 7), Math.abs(h) % 7)
    assert.equal(partitionFor('anything', 1), 0)
  })
})

describe("Cohort's rebalance-history records", () => {
  const entry: RebalanceHistoryEntry = {
    generation: 7,
    trigger: 'leave',
    reason: 'member m-2 left',
    protocolType: 'consumer',
    protocolName: 'range',
    membersBefore: ['m-1', 'm-2'],
    membersAfter: ['m-1'],
    members: [
      {
        memberId: 'm-1',
        groupInstanceId: null,
        clientId: 'c',
        clientHost: '/127.0.0.1',
        inPreviousGeneration: true,
        inNewGeneration: true,
        joinedAt: 1_700_000_000_050,
        waitStartedAt: 1_700_000_000_000,
        syncedAt: 1_700_000_000_060,
        waitMs: 60,
        revoked: [],
        assigned: [{ topic: 'foo', partitions: [3, 4] }],
      },
    ],
    startedAt: 1_700_000_000_000,
    endedAt: 1_700_000_000_050,
    stableAt: 1_700_000_000_060,
    durationMs: 60,
    maxWaitMs: 60,
    partitionsMoved: 2,
  }

  test('testHistoryRecordKeyIsVersion31744GroupAndGenerationAndTheValueRoundTrips', () => {
    const rec = rebalanceHistoryRecord('g', { entry, counts: { join: 3, leave: 4 } })
    const enc = encodeRecord(rec)
    assert.deepEqual(enc.key, hex('7c 00  00 01 67  00 00 00 07'))
    assert.equal(enc.value?.readInt16BE(0), 0)
    assert.deepEqual(decodeRecord(enc.key, enc.value), rec)
  })

  test('testHistoryTombstoneAndValuesThatCannotBeRightAreRefused', () => {
    const t = rebalanceHistoryTombstone('g', 7)
    const enc = encodeRecord(t)
    assert.equal(enc.value, null)
    assert.deepEqual(decodeRecord(enc.key, null), t)
    const value = (o: unknown) => Buffer.concat([hex('00 00'), Buffer.from(JSON.stringify(o))])
    const key = encodeRecord(rebalanceHistoryRecord('g', { entry, counts: {} })).key
    assert.throws(() => decodeRecord(key, value({ entry: { ...entry, generation: 8 }, counts: {} })), /generation 8 under the key of 7/)
    assert.throws(() => decodeRecord(key, value({ entry, counts: { join: -1 } })), /count is not a non-negative integer/)
    assert.throws(() => decodeRecord(key, value({ entry: { ...entry, members: [{}] }, counts: {} })), /memberId is not a string/)
    // Everything DescribeRebalanceHistory reads is checked, so a loaded entry can always be served.
    const refused: [object, RegExp][] = [
      [{ ...entry, startedAt: 1.5 }, /startedAt is not an integer/],
      [{ ...entry, stableAt: undefined }, /stableAt is not an integer or null/],
      [{ ...entry, trigger: 'bogus' }, /trigger "bogus" is not one Cohort knows/],
      [{ ...entry, membersAfter: [1] }, /membersAfter is not a list of member ids/],
      [{ ...entry, members: [{ ...entry.members[0], assigned: { topic: 'foo' } }] }, /assigned is not a list or null/],
      [
        { ...entry, members: [{ ...entry.members[0], revoked: [{ topic: 'foo', partitions: [1.5] }] }] },
        /revoked has a bad partition list/,
      ],
      [{ ...entry, members: [{ ...entry.members[0], joinedAt: undefined }] }, /joinedAt is not an integer or null/],
    ]
    for (const [e, why] of refused) assert.throws(() => decodeRecord(key, value({ entry: e, counts: {} })), why)
    assert.throws(() => decodeRecord(key, value({ entry, counts: { bogus: 3 } })), /counts has trigger "bogus"/)
    assert.throws(() => decodeRecord(key, hex('00 01 7b 7d')), /unsupported rebalance-history value version 1/)
    assert.throws(() => decodeRecord(key, value(null)), /the value is not an object/)
  })
})
