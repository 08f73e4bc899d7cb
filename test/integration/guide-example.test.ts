/**
 * The production consumer guide (docs/guide/production-consumer.md) and its example
 * (examples/notification-service) against Cohort's broker, in process:
 *
 * - the guide quotes the example's code regions verbatim, so neither can drift from the other;
 * - the example's consumer, scaled 1 → 3 → 1 over task-created (6 partitions) and task-completed
 *   (1 partition) while tasks are created and completed (joins, a static member's restart, a planned
 *   scale-down with LeaveGroup, a static member that does not come back), notifies every event
 *   exactly once and leaves every offset committed (lag 0 in the example's lag report);
 * - the same scaling with the commit in onRevoked removed (the chapter's bug) notifies some twice;
 * - the example run as a program stops on SIGTERM (or SIGINT) after committing, without leaving the
 *   group, and says how many messages it processed.
 *
 * Session timeouts are shortened (3 s) so the static member's departure is noticed quickly.
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { test } from 'node:test'
import {
  consumerOptions,
  createNotificationConsumer,
  GROUP_ID,
  type NotificationServiceOptions,
  processNotifications,
} from '../../examples/notification-service/consumer.ts'
import { TASK_COMPLETED, TASK_CREATED, TOPICS } from '../../examples/notification-service/events.ts'
import { describeLag } from '../../examples/notification-service/lag.ts'
import { createTaskProducer, publishTaskCompleted, publishTaskCreated } from '../../examples/notification-service/producer.ts'
import { Admin } from '../../src/admin/index.ts'
import { Consumer, type ConsumerOptions, type Producer } from '../../src/client/index.ts'
import { startBroker, type TestBroker } from '../helpers/broker.ts'

const ROOT = resolve(import.meta.dirname, '../..')
const EXAMPLE = resolve(ROOT, 'examples/notification-service')
const GUIDE = resolve(ROOT, 'docs/guide/production-consumer.md')
const PARTITIONS = 6
/** task-created's partitions and task-completed's one, as `topic[partition]`. */
const ALL_PARTITIONS = [...Array.from({ length: PARTITIONS }, (_, p) => `${TASK_CREATED}[${p}]`), `${TASK_COMPLETED}[0]`].sort()

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

async function waitUntil(cond: () => boolean, what: string, timeoutMs = 20_000, describe: () => string = () => ''): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!cond()) {
    if (Date.now() > deadline) assert.fail(`timed out after ${timeoutMs} ms waiting until ${what}\n${describe()}`)
    await sleep(50)
  }
}

/** The `// #region name` … `// #endregion` blocks of a file, keyed by name. */
function regions(file: string): Map<string, string> {
  const out = new Map<string, string>()
  const re = /^\/\/ #region (\S+)\n([\s\S]*?)^\/\/ #endregion$/gm
  for (const m of readFileSync(file, 'utf8').matchAll(re)) out.set(m[1] as string, m[2] as string)
  return out
}

async function startGuideBroker(): Promise<{ b: TestBroker; admin: Admin }> {
  const b = await startBroker({ 'log.flush.mode': 'os', 'group.min.session.timeout.ms': 1000 })
  const admin = new Admin({ bootstrapServers: b.bootstrap })
  const created = await admin.createTopics([
    { name: TASK_CREATED, partitions: PARTITIONS },
    { name: TASK_COMPLETED, partitions: 1 },
  ])
  for (const r of created.values()) if (r.error) throw r.error
  return { b, admin }
}

/** Every partition's committed offset is its end offset (checked with the example's lag report): nothing processed was left uncommitted. */
async function assertEverythingCommitted(admin: Admin): Promise<void> {
  const report = await describeLag(admin)
  const rows = report.split('\n').filter((l) => l.startsWith('task-'))
  assert.equal(rows.length, ALL_PARTITIONS.length, report)
  for (const row of rows) assert.match(row, /^task-(created|completed)\s+\d\s+(\d+)\s+\2\s+0(\s|$)/, `lag 0 in\n${report}`)
  const lag = await admin.groupLag(GROUP_ID)
  assert.deepEqual(
    lag.partitions.map((p) => p.lag),
    ALL_PARTITIONS.map(() => 0n),
    report,
  )
}

/**
 * Publishes task-created events with ids 0, 1, 2, … through the example's producer until stopped,
 * and a task-completed event for every third task a batch later.
 */
class TaskFeed {
  next = 0
  /** The notifications expected: `task-created/0`, `task-completed/0`, … */
  readonly events: string[] = []
  #running = true
  readonly #loop: Promise<void>

  constructor(producer: Producer) {
    this.#loop = (async () => {
      while (this.#running) {
        const sends: Promise<unknown>[] = []
        for (let i = 0; i < 20; i++, this.next++) {
          const task = { id: String(this.next), userId: `user-${this.next % 37}`, title: `task ${this.next}` }
          sends.push(publishTaskCreated(producer, { ...task, createdAt: new Date().toISOString() }))
          this.events.push(`${TASK_CREATED}/${task.id}`)
          if (this.next % 3 === 0) {
            sends.push(publishTaskCompleted(producer, { ...task, completedAt: new Date().toISOString() }))
            this.events.push(`${TASK_COMPLETED}/${task.id}`)
          }
        }
        await Promise.all(sends)
        await sleep(40)
      }
    })()
  }

  async stop(): Promise<string[]> {
    this.#running = false
    await this.#loop
    return this.events
  }
}

type MakeConsumer = (options: NotificationServiceOptions) => Consumer

/** One instance of the notification service: the example's consumer and processing loop. */
class Instance {
  readonly consumer: Consumer
  readonly lines: string[] = []
  readonly loop: Promise<void>

  constructor(
    readonly name: string,
    bootstrapServers: string,
    make: MakeConsumer,
    notified: Map<string, number>,
  ) {
    const log = (line: string): void => {
      this.lines.push(`${new Date().toISOString()} ${line}`)
      if (process.env.GUIDE_TEST_LOG) process.stderr.write(`${name} ${line}\n`)
    }
    const overrides: Partial<ConsumerOptions> = {
      sessionTimeoutMs: 3000,
      heartbeatIntervalMs: 300,
      fetchMaxWaitMs: 100,
      metadataMaxAgeMs: 2000,
      retryBackoffMs: 50,
      logger: (level, message) => log(`[${level}] ${message}`),
    }
    this.consumer = make({ bootstrapServers, instanceId: name, overrides, log })
    this.loop = processNotifications(
      this.consumer,
      async ({ type, task }) => {
        const key = `${type}/${task.id}`
        notified.set(key, (notified.get(key) ?? 0) + 1)
      },
      log,
    )
  }

  get owned(): string[] {
    return this.consumer
      .assignment()
      .map((tp) => `${tp.topic}[${tp.partition}]`)
      .sort()
  }

  async stop(options: { leaveGroup?: boolean } = {}): Promise<void> {
    await this.consumer.close(options)
    await this.loop
  }
}

/**
 * Scales the service 1 → 3 → 1 while tasks are produced: a starts; b and c join; b restarts (same
 * instance id); c scales down for good (LeaveGroup); b stops without coming back (no LeaveGroup, so
 * the coordinator waits out its session timeout); a drains the rest and stops.
 */
async function scaleOneThreeOne(
  make: MakeConsumer,
  afterwards: (admin: Admin) => Promise<void> = async () => {},
): Promise<{ total: number; notified: Map<string, number>; instances: Instance[] }> {
  const { b, admin } = await startGuideBroker()
  const producer = createTaskProducer(b.bootstrap)
  const notified = new Map<string, number>()
  const instances: Instance[] = []
  const start = (name: string): Instance => {
    const i = new Instance(name, b.bootstrap, make, notified)
    instances.push(i)
    return i
  }
  const describe = (): string => {
    const g = b.broker.context.groups.coordinator.group(GROUP_ID)
    return [
      `group: ${g?.state} generation ${g?.generationId}, ${g?.members.length} members`,
      ...instances.map((i) => `${i.name}: owns ${JSON.stringify(i.owned)}\n  ${i.lines.slice(-6).join('\n  ')}`),
    ].join('\n')
  }
  /** The group is stable with exactly these instances, which own every partition once between them. */
  const balanced = async (members: Instance[], what: string, timeoutMs = 20_000): Promise<void> => {
    const holds = (): boolean => {
      const g = b.broker.context.groups.coordinator.group(GROUP_ID)
      if (g?.state !== 'Stable' || g.members.length !== members.length) return false
      const all = members.flatMap((m) => m.owned).sort()
      const counts = members.map((m) => m.owned.length)
      return all.join() === ALL_PARTITIONS.join() && Math.max(...counts) - Math.min(...counts) <= 1
    }
    for (;;) {
      await waitUntil(holds, what, timeoutMs, describe)
      await sleep(200)
      if (holds()) return
    }
  }
  let feed: TaskFeed | undefined
  try {
    feed = new TaskFeed(producer)
    const a = start('a')
    await balanced([a], 'a owns all 7 partitions')
    await sleep(500)
    const bb = start('b')
    const c = start('c')
    await balanced([a, bb, c], 'a, b and c own 2 or 3 partitions each')
    await sleep(500)

    const bOwned = bb.owned
    await bb.stop() // a rolling restart: close() without LeaveGroup, then the same instance id again
    const b2 = start('b')
    await balanced([a, b2, c], 'the restarted b is back')
    assert.deepEqual(b2.owned, bOwned, 'static membership: the restarted instance got its partitions back')
    await sleep(500)

    await c.stop({ leaveGroup: true }) // a planned scale-down: leave at once
    await balanced([a, b2], 'a and b own 3 or 4 partitions each')
    await sleep(500)

    await b2.stop() // a static member that does not come back: its partitions move after sessionTimeoutMs
    await balanced([a], 'a owns all 7 partitions again', 30_000)
    await sleep(500)

    const events = await feed.stop()
    feed = undefined
    await waitUntil(
      () => notified.size === events.length,
      `all ${events.length} task events notified`,
      20_000,
      () => `${notified.size} of ${events.length}\n${describe()}`,
    )
    await a.stop({ leaveGroup: true })
    await afterwards(admin)
    for (const e of events) assert.ok(notified.has(e), `${e} was never notified`)
    assert.ok(events.length > 300, `${events.length} task events produced while scaling`)
    return { total: events.length, notified, instances }
  } finally {
    await feed?.stop().catch(() => {})
    for (const i of instances) await i.consumer.close({ timeoutMs: 1000 }).catch(() => {})
    await producer.close()
    await admin.close()
    await b.stop()
  }
}

test('the guide quotes the example code as it is', () => {
  const guide = readFileSync(GUIDE, 'utf8')
  let quoted = 0
  for (const file of ['events.ts', 'producer.ts', 'consumer.ts', 'lag.ts']) {
    for (const [name, code] of regions(resolve(EXAMPLE, file))) {
      assert.ok(guide.includes(`\`\`\`ts\n${code}\`\`\``), `docs/guide/production-consumer.md quotes region "${name}" of ${file} as it is`)
      quoted++
    }
  }
  assert.equal(quoted, 7, 'regions: event, producer, options, listener, loop, main, lag')
})

test('scaling 1 → 3 → 1 while producing: every task event is notified exactly once, and every offset ends up committed', async (t) => {
  const { total, notified, instances } = await scaleOneThreeOne(createNotificationConsumer, assertEverythingCommitted)
  t.diagnostic(`${total} task events`)
  const twice = [...notified].filter(([, n]) => n > 1)
  assert.deepEqual(twice.slice(0, 10), [], `${twice.length} task events notified more than once`)
  const lines = instances.flatMap((i) => i.lines)
  assert.ok(
    lines.some((l) => /revoking task-(created|completed)\[\d\].*: committed task-\S+\[\d\]@\d+.* first/.test(l)),
    'onRevoked committed',
  )
  assert.deepEqual(
    lines.filter((l) => /revoking .*commit failed|lost task-/.test(l)),
    [],
    'no failed commit in onRevoked, nothing lost',
  )
})

test('the same scaling without the commit in onRevoked notifies some tasks twice (the chapter’s bug)', async (t) => {
  const withoutCommitOnRevoke: MakeConsumer = (options) => {
    const consumer = new Consumer(consumerOptions(options))
    consumer.subscribe(TOPICS, { onRevoked: () => {} }) // processed-but-uncommitted positions are dropped on revoke
    return consumer
  }
  const { total, notified } = await scaleOneThreeOne(withoutCommitOnRevoke)
  const twice = [...notified].filter(([, n]) => n > 1).length
  t.diagnostic(`${twice} of ${total} task events notified twice`)
  assert.ok(twice > 0, `expected duplicates without the commit in onRevoked; ${total} task events, none notified twice`)
})

test('the processing loop warns about processing slower than 100 ms, and says when a partition is caught up', async () => {
  const { b, admin } = await startGuideBroker()
  const producer = createTaskProducer(b.bootstrap)
  const lines: string[] = []
  const consumer = createNotificationConsumer({
    bootstrapServers: b.bootstrap,
    instanceId: 'slow',
    overrides: { sessionTimeoutMs: 3000, heartbeatIntervalMs: 300, fetchMaxWaitMs: 100, logger: () => {} },
    log: (line) => lines.push(line),
  })
  const complete = (n: number) =>
    publishTaskCompleted(producer, { id: `done-${n}`, userId: 'user-2', title: `task ${n}`, completedAt: new Date().toISOString() })
  let loop: Promise<void> | undefined
  try {
    const meta = await publishTaskCreated(producer, {
      id: 'slow-1',
      userId: 'user-1',
      title: 'Slow one',
      createdAt: new Date().toISOString(),
    })
    await complete(0)
    let notified = 0
    loop = processNotifications(
      consumer,
      async ({ type }) => {
        if (type === TASK_CREATED) await sleep(150)
        notified++
      },
      (line) => lines.push(line),
    )
    const caughtUp = (): string[] => lines.filter((l) => / caught up /.test(l))
    const show = (): string => lines.join('\n')
    await waitUntil(() => notified === 2 && caughtUp().length === 2, 'both events processed', 20_000, show)
    const created = `${TASK_CREATED}[${meta.partition}]`
    assert.deepEqual(lines.filter((l) => l.startsWith('slow processing')).length, 1, `only the slow one is reported\n${show()}`)
    assert.match(
      lines.find((l) => l.startsWith('slow processing')) ?? '',
      /^slow processing: 0\.1\d s for task-created\[\d\] offset 0 \(key user-1\)$/,
    )
    assert.deepEqual(caughtUp().sort(), [`${TASK_COMPLETED}[0]: caught up at offset 1`, `${created}: caught up at offset 1`], show())

    // A little behind and caught up again: not worth a line.
    for (let n = 1; n <= 3; n++) await complete(n)
    await waitUntil(() => notified === 5, 'three more processed', 20_000, show)
    assert.equal(caughtUp().length, 2, show())

    // More than 1000 behind, then caught up: said again.
    consumer.pause([{ topic: TASK_COMPLETED, partition: 0 }])
    await Promise.all(Array.from({ length: 1500 }, (_, i) => complete(4 + i)))
    consumer.resume([{ topic: TASK_COMPLETED, partition: 0 }])
    await waitUntil(() => notified === 1505 && caughtUp().length === 3, 'the backlog processed', 20_000, show)
    assert.equal(caughtUp()[2], `${TASK_COMPLETED}[0]: caught up at offset 1504`)
  } finally {
    await consumer.close().catch(() => {})
    await loop?.catch(() => {})
    await producer.close()
    await admin.close()
    await b.stop()
  }
})

test('run as a program, the example consumer commits and stops on SIGTERM without leaving the group, and says what it processed', async () => {
  const { b, admin } = await startGuideBroker()
  const producer = createTaskProducer(b.bootstrap)
  try {
    for (let i = 0; i < 50; i++) {
      const task = { id: `t${i}`, userId: `user-${i % 7}`, title: `task ${i}` }
      await publishTaskCreated(producer, { ...task, createdAt: new Date().toISOString() })
      if (i % 5 === 0) await publishTaskCompleted(producer, { ...task, completedAt: new Date().toISOString() })
    }
    const child = spawn(process.execPath, ['--import', 'tsx', resolve(EXAMPLE, 'consumer.ts')], {
      cwd: ROOT,
      env: { ...process.env, KAFKA_BOOTSTRAP_SERVERS: b.bootstrap, HOSTNAME: 'sigterm-test' },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let out = ''
    let err = ''
    child.stdout.on('data', (d: Buffer) => (out += d.toString()))
    child.stderr.on('data', (d: Buffer) => (err += d.toString()))
    const exited = new Promise<number | null>((res) => child.once('exit', (code) => res(code)))
    try {
      const notifications = (): number => out.split('\n').filter((l) => l.startsWith('notify ')).length
      await waitUntil(
        () => notifications() >= 60,
        'the program notified all 60 task events',
        20_000,
        () => `stdout:\n${out}\nstderr:\n${err}`,
      )
      child.kill('SIGTERM')
      let timer: NodeJS.Timeout | undefined
      const code = await Promise.race([exited, new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), 15_000)))])
      clearTimeout(timer)
      assert.equal(code, 0, `exit after SIGTERM\nstdout:\n${out}\nstderr:\n${err}`)
      assert.equal(notifications(), 60, 'each task event notified once')
      assert.match(out, /revoking .*task-completed\[0\].*: committed .*task-completed\[0\]@10\b.* first\n/)
      assert.match(out, /notify user-\d: new task "task 7" \(t7\)/)
      assert.match(out, /notify user-\d: task "task 5" is done \(t5\)/)
      assert.match(out, /\nShutdown\. Processed 60 messages\.\n$/)
      assert.match(err, /closing without LeaveGroup/)
      const g = b.broker.context.groups.coordinator.group(GROUP_ID)
      assert.equal(g?.members.length, 1, 'the static member is still in the group, waiting for its restart')
      await assertEverythingCommitted(admin)
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    }
  } finally {
    await producer.close()
    await admin.close()
    await b.stop()
  }
})
