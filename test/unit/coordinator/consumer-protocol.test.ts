import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import {
  decodeAssignment,
  decodeSubscription,
  EMPTY_CONSUMER_ASSIGNMENT,
  encodeAssignment,
  encodeSubscription,
  subscribedTopicsOf,
} from '../../../src/broker/coordinator/index.ts'

const hex = (s: string) => Buffer.from(s.replace(/[^0-9a-f]/gi, ''), 'hex')

describe('consumer protocol', () => {
  test('testEmptyAssignmentIsVersion0NoTopicsNullUserData', () => {
    assert.deepEqual(EMPTY_CONSUMER_ASSIGNMENT, hex('0000 00000000 ffffffff'))
    assert.deepEqual(decodeAssignment(EMPTY_CONSUMER_ASSIGNMENT), { version: 0, assignedPartitions: [], userData: null })
  })

  test('testSubscriptionV0Bytes', () => {
    const b = encodeSubscription({ topics: ['a', 'bc'], userData: Buffer.from([1]) }, 0)
    assert.deepEqual(b, hex('0000 00000002 0001 61 0002 6263 00000001 01'))
  })

  test('testSubscriptionRoundTripsEveryVersion', () => {
    const full = {
      topics: ['foo', 'bar'],
      userData: Buffer.from('ud'),
      ownedPartitions: [{ topic: 'foo', partitions: [0, 2] }],
      generationId: 7,
      rackId: 'rack-a',
    }
    const expect = [
      { version: 0, topics: full.topics, userData: full.userData, ownedPartitions: [], generationId: -1, rackId: null },
      { version: 1, topics: full.topics, userData: full.userData, ownedPartitions: full.ownedPartitions, generationId: -1, rackId: null },
      { version: 2, topics: full.topics, userData: full.userData, ownedPartitions: full.ownedPartitions, generationId: 7, rackId: null },
      { version: 3, ...full },
    ]
    for (const e of expect) assert.deepEqual(decodeSubscription(encodeSubscription(full, e.version)), e)
  })

  test('testNewerSubscriptionVersionIsReadWithTheNewestKnownLayout', () => {
    const v3 = encodeSubscription({ topics: ['t'], rackId: 'r' }, 3)
    const v7 = Buffer.concat([hex('0007'), v3.subarray(2), hex('deadbeef')])
    const s = decodeSubscription(v7)
    assert.equal(s.version, 7)
    assert.deepEqual(s.topics, ['t'])
    assert.equal(s.rackId, 'r')
  })

  test('testSubscriptionMissingTrailingFieldsTakesDefaults', () => {
    // version 1 but the client stopped after the topics
    const s = decodeSubscription(hex('0001 00000001 0001 74'))
    assert.deepEqual(s, { version: 1, topics: ['t'], userData: null, ownedPartitions: [], generationId: -1, rackId: null })
  })

  test('testTruncatedSubscriptionThrows', () => {
    assert.throws(() => decodeSubscription(hex('0000 00000001 0005 74')))
    assert.equal(subscribedTopicsOf(hex('ff')), undefined)
  })

  test('testAssignmentRoundTrips', () => {
    const a = {
      assignedPartitions: [
        { topic: 'foo', partitions: [1, 3] },
        { topic: 'bar', partitions: [] },
      ],
      userData: Buffer.from([9, 9]),
    }
    for (const version of [0, 1, 2, 3]) assert.deepEqual(decodeAssignment(encodeAssignment(a, version)), { version, ...a })
    assert.deepEqual(
      encodeAssignment({ assignedPartitions: [{ topic: 'f', partitions: [2] }] }),
      hex('0000 00000001 0001 66 00000001 00000002 ffffffff'),
    )
  })
})
