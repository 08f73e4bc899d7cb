/**
 * The pure parts of src/admin/offset-reset.ts against Kafka's behaviour: Utils.getDateTime's formats,
 * java.time.Duration.parse, `--topic t:0,1` arguments, the CSV files --export writes and --from-file reads
 * (one group: topic,partition,offset; several: group,topic,partition,offset), and the Java exception texts.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import {
  durationTarget,
  formatResetCsv,
  javaExceptionString,
  OffsetResetError,
  parseIsoDuration,
  parseResetCsv,
  parseResetDateTime,
  parseTopicSelection,
} from '../../../src/admin/offset-reset.ts'
import { javaPlanOrder } from '../../../src/cli/groups/format.ts'
import { KafkaError } from '../../../src/protocol/errors.ts'

test('datetimes: YYYY-MM-DDTHH:mm:SS.sss, UTC unless a zone (Z, ±hh:mm, ±hh) follows', () => {
  assert.equal(parseResetDateTime('2026-11-25T10:15:30.123'), Date.UTC(2026, 10, 25, 10, 15, 30, 123))
  assert.equal(parseResetDateTime('2026-11-25T10:15:30.123Z'), Date.UTC(2026, 10, 25, 10, 15, 30, 123))
  assert.equal(parseResetDateTime('2026-11-25T10:15:30.123+02:00'), Date.UTC(2026, 10, 25, 8, 15, 30, 123))
  assert.equal(parseResetDateTime('2026-11-25T10:15:30.123-05'), Date.UTC(2026, 10, 25, 15, 15, 30, 123))
  // SimpleDateFormat's SSS is a count of milliseconds, and text after a complete date is ignored.
  assert.equal(parseResetDateTime('2026-11-25T10:15:30.5'), Date.UTC(2026, 10, 25, 10, 15, 30, 5))
  assert.equal(parseResetDateTime('2024-02-29T00:00:00.000Zjunk'), Date.UTC(2024, 1, 29))
})

test('datetimes Kafka refuses, with its exception text', () => {
  const refuse = (text: string, message: string) =>
    assert.throws(
      () => parseResetDateTime(text),
      (e: unknown) => e instanceof OffsetResetError && !e.usage && e.message === message,
    )
  refuse('2026-11-25', "java.text.ParseException: Error parsing timestamp. It does not contain a 'T' according to ISO8601 format")
  refuse('2026-11-25T10:15:30', 'java.text.ParseException: Unparseable date: "2026-11-25T10:15:30Z"')
  refuse('2026-13-01T00:00:00.000', 'java.text.ParseException: Unparseable date: "2026-13-01T00:00:00.000Z"')
  refuse('2023-02-29T00:00:00.000', 'java.text.ParseException: Unparseable date: "2023-02-29T00:00:00.000Z"')
  refuse('2026-11-25T24:00:00.000', 'java.text.ParseException: Unparseable date: "2026-11-25T24:00:00.000Z"')
})

test('durations: java.time.Duration.parse (PnDTnHnMnS, signs, fractions, case-insensitive)', () => {
  const ms = (d: string) => Number(parseIsoDuration(d) / 1_000_000n)
  assert.equal(ms('PT1H'), 3_600_000)
  assert.equal(ms('P1DT2H3M4.5S'), 86_400_000 + 7_200_000 + 180_000 + 4_500)
  assert.equal(ms('pt15m'), 900_000)
  assert.equal(ms('-PT10S'), -10_000)
  assert.equal(ms('PT-1.5S'), -1_500)
  assert.equal(ms('P2D'), 172_800_000)
  for (const bad of ['P', 'PT', '1H', 'P1H', 'PT1D', 'P1W', '']) {
    assert.throws(() => parseIsoDuration(bad), { message: 'Text cannot be parsed to a Duration' }, bad)
  }
  assert.equal(durationTarget('PT1M', 1_000_000), 940_000)
  assert.equal(durationTarget('PT0.0005S', 1_000), 999) // Instant.toEpochMilli floors
})

test('--topic arguments: t, t:0,1,2, and Kafka’s usage errors', () => {
  assert.deepEqual(parseTopicSelection('orders'), { topic: 'orders', partitions: null })
  assert.deepEqual(parseTopicSelection('orders:0,2'), { topic: 'orders', partitions: [0, 2] })
  assert.throws(
    () => parseTopicSelection('orders:'),
    (e: unknown) =>
      e instanceof OffsetResetError && e.usage && e.message === "Invalid topic arg 'orders:', expected topic name and partitions",
  )
  assert.throws(() => parseTopicSelection('a:b:1'), { message: "Invalid topic arg 'a:b:1', expected topic name and partitions" })
  assert.throws(() => parseTopicSelection('orders:x'), { message: "Invalid partition 'x' specified in topic arg 'orders:x''" })
})

test('CSV: export for one group and for several, in the plan’s order; import reads both back', () => {
  const plan = [
    { groupId: 'g2', offsets: [{ topic: 'orders', partition: 1, offset: 7n }] },
    {
      groupId: 'g1',
      offsets: [
        { topic: 'orders', partition: 0, offset: 5n },
        { topic: 'orders', partition: 1, offset: 6n },
      ],
    },
  ]
  assert.equal(formatResetCsv(plan.slice(1), false), 'orders,0,5\norders,1,6\n')
  const several = formatResetCsv(javaPlanOrder(plan), true)
  assert.equal(several, 'g1,orders,0,5\ng1,orders,1,6\ng2,orders,1,7\n')
  // --export prints the CSV and then a newline (println); reading it back ignores the blank line.
  assert.deepEqual(
    [...parseResetCsv(`${formatResetCsv(plan.slice(1), false)}\n`, 'g1')],
    [
      [
        'g1',
        [
          { topic: 'orders', partition: 0, offset: 5n },
          { topic: 'orders', partition: 1, offset: 6n },
        ],
      ],
    ],
  )
  const back = parseResetCsv(several, null)
  assert.deepEqual([...back.keys()], ['g1', 'g2'])
  assert.deepEqual(back.get('g2'), [{ topic: 'orders', partition: 1, offset: 7n }])
  // With one group named, a file with the group column is still read as such (its first line is not topic,partition,offset).
  assert.deepEqual([...parseResetCsv(several, 'g1').keys()], ['g1', 'g2'])
  // Quotes as Jackson writes and reads them; CRLF files too.
  assert.equal(formatResetCsv([{ groupId: 'a,"b"', offsets: [{ topic: 't', partition: 0, offset: 1n }] }], true), '"a,""b""",t,0,1\n')
  assert.deepEqual(parseResetCsv('"a,""b""",t,0,1\r\n', null).get('a,"b"'), [{ topic: 't', partition: 0, offset: 1n }])
  assert.throws(() => parseResetCsv('t,zero,1\n', 'g'), /line 1/)
})

test('Java exception texts for broker errors', () => {
  assert.equal(javaExceptionString(new KafkaError(68)), 'org.apache.kafka.common.errors.GroupNotEmptyException: The group is not empty.')
  assert.equal(
    javaExceptionString(new KafkaError(15)),
    'org.apache.kafka.common.errors.CoordinatorNotAvailableException: The coordinator is not available.',
  )
  assert.equal(javaExceptionString(new KafkaError(7)), 'org.apache.kafka.common.errors.TimeoutException: The request timed out.')
  assert.equal(
    javaExceptionString(new KafkaError(86)),
    'org.apache.kafka.common.errors.GroupSubscribedToTopicException: Deleting offsets of a topic is forbidden while the consumer group is actively subscribed to it.',
  )
})
