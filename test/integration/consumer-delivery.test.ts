/**
 * What the application sees from the group Consumer, against Cohort's broker: batches with their
 * high watermark and lag, positions from committed offsets, a seek inside onAssigned, pause/resume,
 * run() handlers, manual assignment with standalone commits, the max.poll.interval.ms watchdog and
 * a fenced static member.
 */
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { Admin } from '../../src/admin/index.ts'
import { Consumer, type ConsumerOptions, type Message } from '../../src/client/consumer/consumer.ts'
import { CommitFailedError, FencedInstanceError } from '../../src/client/group/errors.ts'
import { Producer } from '../../src/client/index.ts'
import { startBroker, type TestBroker } from '../helpers/broker.ts'

let b: TestBroker
let admin: Admin
let producer: Producer
const open = new Set<Consumer>()

before(async () => {
  b = await startBroker({ 'log.flush.mode': 'os', 'group.min.session.timeout.ms': 1000 })
  admin = new Admin({ bootstrapServers: b.bootstrap })
  producer = new Producer({ bootstrapServers: b.bootstrap, lingerMs: 1 })
})

after(async () => {
  for (const c of open) await c.close({ timeoutMs: 500 }).catch(() => {})
  await producer?.close()
  await admin?.close()
  await b?.stop()
})

function consumer(groupId: string | undefined, logs: string[] = [], extra: Partial<ConsumerOptions> = {}): Consumer {
  const c = new Consumer({
    bootstrapServers: b.bootstrap,
    groupId,
    sessionTimeoutMs: 4000,
    heartbeatIntervalMs: 300,
    autoOffsetReset: 'earliest',
    fetchMaxWaitMs: 100,
    retryBackoffMs: 50,
    logger: (level, message) => logs.push(`${level} ${message}`),
    ...extra,
  })
  open.add(c)
  return c
}

async function topicWith(name: string, partitions: number, perPartition: number): Promise<void> {
  const r = (await admin.createTopics([{ name, partitions }])).get(name)
  if (r?.error) throw r.error
  const sends: Promise<unknown>[] = []
  for (let p = 0; p < partitions; p++)
    for (let i = 0; i < perPartition; i++) sends.push(producer.send({ topic: name, partition: p, value: `${p}:${i}` }))
  await Promise.all(sends)
}

async function waitUntil(cond: () => boolean, what: string, timeoutMs = 15_000, describe: () => string = () => ''): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!cond()) {
    if (Date.now() > deadline) assert.fail(`timed out after ${timeoutMs} ms waiting until ${what}\n${describe()}`)
    await new Promise((r) => setTimeout(r, 25))
  }
}

/** The first message delivered, releasing it (as a `break` out of for-await does). */
async function firstMessage(c: Consumer): Promise<Message> {
  const it = c.messages()
  const m = (await nextWithin(it)).value as Message
  await it.return?.()
  return m
}

/** Resolves with the iterator's next value, failing after `ms`. */
async function nextWithin<T>(it: AsyncIterator<T>, ms = 10_000): Promise<IteratorResult<T>> {
  let timer: NodeJS.Timeout | undefined
  const r = await Promise.race([it.next(), new Promise<'timeout'>((res) => (timer = setTimeout(() => res('timeout'), ms)))])
  clearTimeout(timer)
  if (r === 'timeout') assert.fail(`nothing delivered within ${ms} ms`)
  return r
}

test('batches carry at most maxPollRecords messages, the high watermark and the lag', async () => {
  await topicWith('batches', 1, 30)
  const c = consumer('batches', [], { maxPollRecords: 10 })
  c.subscribe(['batches'])
  const it = c.batches()
  const first = (await nextWithin(it)).value
  assert.ok(first)
  assert.equal(first.messages.length, 10)
  assert.equal(first.firstOffset, 0n)
  assert.equal(first.lastOffset, 9n)
  assert.equal(first.highWatermark, 30n)
  assert.equal(first.lag, 20n)
  const m = first.messages[3] as Message
  assert.equal(m.value?.toString(), '0:3')
  assert.equal(m.highWatermark, 30n)
  assert.equal(m.lag, 26n)
  assert.equal(m.partition, 0)
  assert.equal(typeof m.timestamp, 'bigint')
  assert.ok(Array.isArray(m.headers))
  let total = 10
  while (total < 30) total += (await nextWithin(it)).value?.messages.length ?? 0
  assert.equal(total, 30)
  assert.equal(c.position({ topic: 'batches', partition: 0 }), 30n)
  // Leaving the loop leaves the batch in hand unprocessed: the partition is rewound to it.
  await it.return?.()
  assert.equal(c.position({ topic: 'batches', partition: 0 }), 20n)
  await c.close()
  // The close auto-committed the processed position: the first two batches.
  const check = consumer('batches')
  assert.deepEqual(
    (await check.committed([{ topic: 'batches', partition: 0 }])).map((x) => x.offset),
    [20n],
  )
  await check.close()
})

test('positions start at the committed offset; a seek inside onAssigned wins over it', async () => {
  await topicWith('positions', 1, 30)
  // A standalone commit (manual assignment, generation −1) for group "positions".
  const manual = consumer('positions', [], { enableAutoCommit: false })
  manual.assign([{ topic: 'positions', partition: 0, offset: 0n }])
  await manual.commit([{ topic: 'positions', partition: 0, offset: 5n }])
  await manual.close()

  const c = consumer('positions', [], { enableAutoCommit: false })
  c.subscribe(['positions'])
  const first = await firstMessage(c)
  assert.equal(first.offset, 5n, 'starts at the committed offset')
  await c.close()

  const s = consumer('positions', [], { enableAutoCommit: false })
  s.subscribe(['positions'], {
    onAssigned: (tps) => {
      for (const tp of tps) s.seek(tp, 20n)
    },
  })
  const seeked = await firstMessage(s)
  assert.equal(seeked.offset, 20n, 'the seek in onAssigned wins')
  await s.close()
})

test('pause stops delivering a partition until resume; commitMessage commits offset + 1', async () => {
  await topicWith('pause', 2, 20)
  const c = consumer('pause', [], { enableAutoCommit: false, maxPartitionFetchBytes: 200 })
  let assigned = false
  c.subscribe(['pause'], {
    onAssigned: (tps) => {
      assigned = tps.length === 2
      c.pause([{ topic: 'pause', partition: 0 }])
    },
  })
  const it = c.messages()
  const seen: Message[] = []
  while (seen.length < 20) seen.push((await nextWithin(it)).value as Message)
  assert.ok(assigned)
  assert.deepEqual([...new Set(seen.map((m) => m.partition))], [1], 'only the partition that is not paused')
  assert.deepEqual(c.paused(), [{ topic: 'pause', partition: 0 }])
  c.resume([{ topic: 'pause', partition: 0 }])
  const next = (await nextWithin(it)).value as Message
  assert.equal(next.partition, 0)
  assert.equal(next.offset, 0n)
  await c.commitMessage(next)
  assert.deepEqual(
    (await c.committed([{ topic: 'pause', partition: 0 }])).map((x) => x.offset),
    [1n],
  )
  await it.return?.()
  await c.close()
})

test('run({ eachMessage }) delivers in order; a handler error rejects run() and rewinds to the failed message', async () => {
  await topicWith('run', 1, 10)
  const c = consumer('run', [], { enableAutoCommit: false })
  c.subscribe(['run'])
  const got: bigint[] = []
  await assert.rejects(
    c.run({
      eachMessage: async (m) => {
        got.push(m.offset)
        if (m.offset === 4n && got.filter((o) => o === 4n).length === 1) throw new Error('boom')
      },
    }),
    /boom/,
  )
  assert.deepEqual(got, [0n, 1n, 2n, 3n, 4n])
  const started = Date.now()
  await c.run({
    eachMessage: async (m) => {
      got.push(m.offset)
      // Awaiting close() inside the handler does not wait for the handler itself.
      if (m.offset === 9n) await c.close()
    },
  })
  assert.ok(Date.now() - started < 5000, `run() ended ${Date.now() - started} ms after close()`)
  assert.deepEqual(got.slice(5), [4n, 5n, 6n, 7n, 8n, 9n], 'the failed message is delivered again')
})

test('processing past maxPollIntervalMs: one log line, the member leaves and its partitions move; it rejoins once processing returns', async () => {
  await topicWith('watchdog', 2, 5)
  const logsA: string[] = []
  const a = consumer('watchdog', logsA, { maxPollIntervalMs: 1500, enableAutoCommit: false, clientId: 'wd-a' })
  const bq = consumer('watchdog', [], { enableAutoCommit: false, clientId: 'wd-b' })
  a.subscribe(['watchdog'])
  const itA = a.messages()
  const stuck = (await nextWithin(itA)).value as Message
  bq.subscribe(['watchdog'])
  // a is "processing" `stuck` and does not come back for 4 s; heartbeats alone do not keep it in.
  await waitUntil(() => logsA.some((l) => l.includes('processing exceeded max.poll.interval.ms=1500')), 'the watchdog fires', 8000)
  const lines = logsA.filter((l) => l.includes('max.poll.interval.ms=1500 ; leaving the group so its partitions can be reassigned'))
  assert.equal(lines.length, 1, logsA.join('\n'))
  assert.match(lines[0] ?? '', /^warn /)
  await waitUntil(() => bq.assignment().length === 2, 'b takes over every partition', 10_000)
  await assert.rejects(a.commitMessage(stuck), (e: unknown) => e instanceof CommitFailedError && e.code === -1)
  // Processing returns: a rejoins and the two split the topic again.
  const pending = itA.next()
  await waitUntil(
    () => a.assignment().length === 1 && bq.assignment().length === 1,
    'a rejoined',
    10_000,
    () => logsA.join('\n'),
  )
  assert.ok(logsA.some((l) => /why=processing resumed after exceeding max\.poll\.interval\.ms=1500/.test(l)))
  await pending
  await itA.return?.()
  await a.close()
  await bq.close()
})

test('a consumer whose loop stopped without close() leaves after maxPollIntervalMs, and rejoins when iteration starts again', async () => {
  await topicWith('stopped', 1, 3)
  const logs: string[] = []
  const c = consumer('stopped', logs, { maxPollIntervalMs: 1000, clientId: 'stopped-c' })
  c.subscribe(['stopped'])
  await firstMessage(c)
  await waitUntil(() => logs.some((l) => l.includes('max.poll.interval.ms=1000 ; leaving the group')), 'the watchdog fires', 8000)
  await waitUntil(() => b.broker.context.groups.coordinator.group('stopped')?.state === 'Empty', 'the group is empty')
  assert.deepEqual(c.assignment(), [])
  const m = await firstMessage(c)
  assert.equal(m.partition, 0)
  assert.equal(c.assignment().length, 1)
  await c.close()
})

test('a second consumer with the same groupInstanceId fences the first: its iteration fails with FencedInstanceError', async () => {
  await topicWith('fenced', 1, 3)
  const first = consumer('fenced', [], { groupInstanceId: 'only-one' })
  first.subscribe(['fenced'])
  const it = first.messages()
  await nextWithin(it)
  const second = consumer('fenced', [], { groupInstanceId: 'only-one' })
  second.subscribe(['fenced'])
  let err: unknown
  for (let i = 0; i < 10 && err === undefined; i++) {
    try {
      await nextWithin(it)
    } catch (e) {
      err = e
    }
  }
  assert.ok(err instanceof FencedInstanceError, String(err))
  assert.equal(err.code, 82)
  assert.equal(err.retriable, false)
  assert.equal(first.groupMetadata().state, 'fatal')
  await waitUntil(() => second.assignment().length === 1, 'the new instance owns the partition')
  await first.close()
  await second.close({ leaveGroup: true })
})

test('manual assign() without a group reads from autoOffsetReset and cannot commit', async () => {
  await topicWith('manual', 1, 3)
  const c = consumer(undefined)
  c.assign([{ topic: 'manual', partition: 0 }])
  const m = await firstMessage(c)
  assert.equal(m.offset, 0n)
  await assert.rejects(c.commit(), /needs a groupId/)
  assert.throws(() => c.subscribe(['manual']), /needs a groupId/)
  await c.close()
})

test('new partitions of a subscribed topic, and new topics matching a pattern, are picked up by a rejoin', async () => {
  await topicWith('grow', 1, 1)
  const logs: string[] = []
  const c = consumer('grow', logs, { metadataMaxAgeMs: 300 })
  c.subscribe(['grow'])
  await waitUntil(() => c.assignment().length === 1, 'the first assignment')
  await admin.createPartitions('grow', 3)
  await waitUntil(
    () => c.assignment().length === 3,
    'the new partitions are assigned',
    15_000,
    () => logs.join('\n'),
  )
  assert.ok(
    logs.some((l) => /why=partition count of topic grow changed: 1 → 3/.test(l)),
    logs.join('\n'),
  )
  await c.close()

  await topicWith('pat-a', 1, 1)
  const plogs: string[] = []
  const p = consumer('pattern', plogs, { metadataMaxAgeMs: 300 })
  p.subscribe(/^pat-/)
  await waitUntil(() => p.assignment().length === 1, 'pat-a assigned')
  await topicWith('pat-b', 2, 1)
  await waitUntil(
    () => p.assignment().length === 3,
    'pat-b assigned too',
    15_000,
    () => plogs.join('\n'),
  )
  assert.ok(
    plogs.some((l) => /why=topics matching \/\^pat-\/ changed: \+pat-b/.test(l)),
    plogs.join('\n'),
  )
  const values: string[] = []
  const it = p.messages()
  while (values.length < 3) values.push((await nextWithin(it)).value?.value?.toString() ?? '')
  await it.return?.()
  assert.deepEqual(values.sort(), ['0:0', '0:0', '1:0'])
  await p.close()
})

test('auto-commit never commits a message still being processed', async () => {
  await topicWith('in-flight', 1, 3)
  const c = consumer('in-flight', [], { autoCommitIntervalMs: 50 })
  c.subscribe(['in-flight'])
  let release: () => void = () => {}
  const blocked = new Promise<void>((r) => (release = r))
  let started = false
  const running = c.run({
    eachMessage: async (m) => {
      if (m.offset !== 0n) return
      started = true
      await blocked
    },
  })
  await waitUntil(() => started, 'the first message is being processed')
  const committedNow = async (): Promise<bigint | undefined> => (await admin.listGroupOffsets('in-flight'))[0]?.offset
  // Several auto-commit intervals pass while offset 0 is in the handler.
  const deadline = Date.now() + 400
  while (Date.now() < deadline) {
    const o = await committedNow()
    assert.ok(o === undefined || o === 0n, `committed ${o} while offset 0 was still being processed`)
    await new Promise((r) => setTimeout(r, 25))
  }
  release()
  const until = Date.now() + 10_000
  let last: bigint | undefined
  while ((last = await committedNow()) !== 3n) {
    if (Date.now() > until) assert.fail(`auto-commit did not catch up once processing finished (committed ${last})`)
    await new Promise((r) => setTimeout(r, 25))
  }
  await c.close()
  await running
})

test('a for-await loop that throws leaves the message unprocessed: it is not committed at close and is delivered again', async () => {
  await topicWith('loop-throws', 1, 3)
  const c = consumer('loop-throws', [], { enableAutoCommit: false })
  c.subscribe(['loop-throws'], {
    onRevoked: async () => {
      await c.commit()
    },
  })
  await assert.rejects(async () => {
    for await (const m of c) {
      if (m.offset === 1n) throw new Error('handler failed')
      await c.commitMessage(m)
    }
  }, /handler failed/)
  assert.equal(c.position({ topic: 'loop-throws', partition: 0 }), 1n)
  // A new loop gets the failed message again.
  const again = await firstMessage(c)
  assert.equal(again.offset, 1n)
  await c.close()
  assert.deepEqual(
    (await admin.listGroupOffsets('loop-throws')).map((o) => o.offset),
    [1n],
  )
})

test('a message committed with commitMessage before leaving the loop counts as processed', async () => {
  await topicWith('loop-commit-break', 1, 3)
  const c = consumer('loop-commit-break', [], { enableAutoCommit: false })
  c.subscribe(['loop-commit-break'], {
    onRevoked: async () => {
      await c.commit()
    },
  })
  for await (const m of c) {
    await c.commitMessage(m)
    if (m.offset === 1n) break
  }
  assert.equal(c.position({ topic: 'loop-commit-break', partition: 0 }), 2n)
  await c.close()
  assert.deepEqual(
    (await admin.listGroupOffsets('loop-commit-break')).map((o) => o.offset),
    [2n],
  )
})
