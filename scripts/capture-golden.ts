/**
 * Captures golden request frames from real Kafka clients.
 *
 * For each run it starts a plain `node:net` server on 127.0.0.1 (a random free port), runs one client
 * doing one thing against it, and saves the first request frame of each api key the run is after as
 * `test/fixtures/golden/<client>-<api>-v<N>.hex`: the frame without its int32 size prefix, in
 * lowercase hex on one line. To get the client that far, ApiVersions (advertising every API in
 * ALL_APIS), Metadata (one topic, one partition, this server as the only broker) and FindCoordinator
 * are answered with this project's codec; nothing else is, so the client stops at the request we want.
 *
 *   node --import tsx scripts/capture-golden.ts [client ...]
 *
 * Clients: kcat, confluent-kafka, kafka-python, kafkajs, platformatic. Only 127.0.0.1 is used.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { createServer, type Socket } from 'node:net'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { ALL_APIS, ApiKey, ApiVersions, apiByKey, FindCoordinator, Metadata } from '../src/protocol/apis/index.ts'
import { decodeRequestBody, encodeResponse, peekRequestHeader, readRequestHeader } from '../src/protocol/frame.ts'
import { Reader } from '../src/protocol/primitives/reader.ts'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const outDir = join(root, 'test/fixtures/golden')

/** The topic the clients ask about, where the client takes one. */
export const GOLDEN_TOPIC = 'cohort-golden'
export const GOLDEN_CLIENT_ID = 'cohort-golden'

interface Scenario {
  /** File-name prefix: the client's name. */
  client: string
  /** What the run does, for the log. */
  does: string
  command: (port: number) => { cmd: string; args: string[]; stdin?: string }
  /** The api keys whose requests this run saves; it stops once it has one of each. */
  save: number[]
}

const nodeScript = (code: string) => ({ cmd: process.execPath, args: ['--input-type=module', '-e', code] })
const python = (...lines: string[]) => ({ cmd: '/usr/bin/python3', args: ['-c', lines.join('\n')] })
const GROUP = 'cohort-golden-group'
const bootstrapAndMetadata = [ApiKey.ApiVersions, ApiKey.Metadata]
const joinGroup = [ApiKey.FindCoordinator, ApiKey.JoinGroup]

const kafkajs = (port: number, body: string) =>
  nodeScript(`
    import kafkajs from 'kafkajs'
    const kafka = new kafkajs.Kafka({ clientId: '${GOLDEN_CLIENT_ID}', brokers: ['127.0.0.1:${port}'],
      logLevel: kafkajs.logLevel.NOTHING, retry: { retries: 0 }, requestTimeout: 5000 })
    try { ${body} } catch {}
    process.exit(0)
  `)

const platformatic = (port: number, body: string) =>
  nodeScript(`
    import { Admin, Consumer, Producer } from '@platformatic/kafka'
    const options = { clientId: '${GOLDEN_CLIENT_ID}', bootstrapBrokers: ['127.0.0.1:${port}'], retries: 0, timeout: 5000 }
    try { ${body} } catch {}
    process.exit(0)
  `)

const SCENARIOS: Scenario[] = [
  {
    client: 'kcat',
    does: 'list metadata',
    command: (port) => ({ cmd: 'kcat', args: ['-b', `127.0.0.1:${port}`, '-L', '-m', '2'] }),
    save: bootstrapAndMetadata,
  },
  {
    client: 'kcat',
    does: 'produce one message',
    command: (port) => ({
      cmd: 'kcat',
      args: ['-b', `127.0.0.1:${port}`, '-P', '-t', GOLDEN_TOPIC, '-k', 'golden-key', '-p', '0'],
      stdin: 'golden-value',
    }),
    save: [ApiKey.Produce],
  },
  {
    client: 'kcat',
    does: 'join a consumer group',
    command: (port) => ({ cmd: 'kcat', args: ['-b', `127.0.0.1:${port}`, '-G', GROUP, GOLDEN_TOPIC] }),
    save: joinGroup,
  },
  {
    client: 'confluent-kafka',
    does: 'list one topic',
    command: (port) =>
      python(
        'from confluent_kafka.admin import AdminClient',
        `a = AdminClient({'bootstrap.servers': '127.0.0.1:${port}', 'client.id': '${GOLDEN_CLIENT_ID}'})`,
        'try:',
        `    a.list_topics(topic='${GOLDEN_TOPIC}', timeout=5)`,
        'except Exception:',
        '    pass',
      ),
    save: bootstrapAndMetadata,
  },
  {
    client: 'kafka-python',
    does: 'list topics',
    command: (port) =>
      python(
        'from kafka import KafkaConsumer',
        `c = KafkaConsumer(bootstrap_servers='127.0.0.1:${port}', client_id='${GOLDEN_CLIENT_ID}', request_timeout_ms=5000)`,
        'c.topics()',
      ),
    save: bootstrapAndMetadata,
  },
  {
    client: 'kafka-python',
    does: 'produce one message',
    command: (port) =>
      python(
        'from kafka import KafkaProducer',
        `p = KafkaProducer(bootstrap_servers='127.0.0.1:${port}', client_id='${GOLDEN_CLIENT_ID}', request_timeout_ms=5000)`,
        `p.send('${GOLDEN_TOPIC}', key=b'golden-key', value=b'golden-value', partition=0).get(timeout=10)`,
      ),
    save: [ApiKey.Produce],
  },
  {
    client: 'kafka-python',
    does: 'join a consumer group',
    command: (port) =>
      python(
        'from kafka import KafkaConsumer',
        `c = KafkaConsumer('${GOLDEN_TOPIC}', bootstrap_servers='127.0.0.1:${port}', client_id='${GOLDEN_CLIENT_ID}', group_id='${GROUP}', request_timeout_ms=11000)`,
        'c.poll(timeout_ms=10000)',
      ),
    save: joinGroup,
  },
  {
    client: 'kafkajs',
    does: 'fetch topic metadata',
    command: (port) =>
      kafkajs(port, `const admin = kafka.admin(); await admin.connect(); await admin.fetchTopicMetadata({ topics: ['${GOLDEN_TOPIC}'] })`),
    save: bootstrapAndMetadata,
  },
  {
    client: 'kafkajs',
    does: 'produce one message',
    command: (port) =>
      kafkajs(
        port,
        `const p = kafka.producer(); await p.connect();
         await p.send({ topic: '${GOLDEN_TOPIC}', messages: [{ key: 'golden-key', value: 'golden-value', partition: 0 }] })`,
      ),
    save: [ApiKey.Produce],
  },
  {
    client: 'kafkajs',
    does: 'join a consumer group',
    command: (port) =>
      kafkajs(
        port,
        `const c = kafka.consumer({ groupId: '${GROUP}' }); await c.connect();
         await c.subscribe({ topics: ['${GOLDEN_TOPIC}'] }); await c.run({ eachMessage: async () => {} });
         await new Promise((r) => setTimeout(r, 15000))`,
      ),
    save: joinGroup,
  },
  {
    client: 'platformatic',
    does: 'fetch topic metadata',
    command: (port) => platformatic(port, `await new Admin(options).metadata({ topics: ['${GOLDEN_TOPIC}'] })`),
    save: bootstrapAndMetadata,
  },
  {
    client: 'platformatic',
    does: 'produce one message',
    command: (port) =>
      platformatic(
        port,
        `await new Producer(options).send({ messages: [{ topic: '${GOLDEN_TOPIC}', partition: 0,
           key: Buffer.from('golden-key'), value: Buffer.from('golden-value') }] })`,
      ),
    save: [ApiKey.Produce],
  },
  {
    client: 'platformatic',
    does: 'join a consumer group',
    command: (port) =>
      platformatic(port, `const c = new Consumer({ ...options, groupId: '${GROUP}' }); await c.consume({ topics: ['${GOLDEN_TOPIC}'] })`),
    save: joinGroup,
  },
]

const kebab = (s: string) => s.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase()

const NODE_ID = 1
const TOPIC_ID = Buffer.alloc(16, 7).toString('base64url')

/** Answers the few requests a client needs before it sends the interesting ones; null = no answer. */
function answer(frame: Buffer, port: number): Buffer[] | null {
  const h = peekRequestHeader(frame) as { apiKey: number; apiVersion: number; correlationId: number }
  const v = h.apiVersion
  if (h.apiKey === ApiVersions.key) {
    const apiKeys = ALL_APIS.map((a) => ({ apiKey: a.key, minVersion: a.versions.min, maxVersion: a.versions.max }))
    if (v > ApiVersions.versions.max) {
      // Too new for us: a v0 body with UNSUPPORTED_VERSION and our own ApiVersions range.
      const own = apiKeys.filter((k) => k.apiKey === ApiVersions.key)
      return encodeResponse(ApiVersions, 0, h.correlationId, { errorCode: 35, apiKeys: own })
    }
    return encodeResponse(ApiVersions, v, h.correlationId, { errorCode: 0, apiKeys, throttleTimeMs: 0 })
  }
  const api = apiByKey(h.apiKey)
  if (!api || v < api.versions.min || v > api.versions.max) return null
  const r = new Reader(frame)
  readRequestHeader(r, api.requestHeaderVersion(v))
  if (api === Metadata) {
    const req = decodeRequestBody(Metadata, v, r)
    const names = req.topics === null || req.topics.length === 0 ? [GOLDEN_TOPIC] : req.topics.map((t) => t.name ?? GOLDEN_TOPIC)
    return encodeResponse(Metadata, v, h.correlationId, {
      brokers: [{ nodeId: NODE_ID, host: '127.0.0.1', port, rack: null }],
      clusterId: 'cohort-golden-cluster',
      controllerId: NODE_ID,
      topics: names.map((name) => ({
        errorCode: 0,
        name,
        topicId: TOPIC_ID,
        isInternal: false,
        partitions: [{ errorCode: 0, partitionIndex: 0, leaderId: NODE_ID, leaderEpoch: 0, replicaNodes: [NODE_ID], isrNodes: [NODE_ID] }],
      })),
    })
  }
  if (api === FindCoordinator) {
    const req = decodeRequestBody(FindCoordinator, v, r)
    const keys = v >= 4 ? req.coordinatorKeys : [req.key]
    return encodeResponse(FindCoordinator, v, h.correlationId, {
      errorCode: 0,
      errorMessage: null,
      nodeId: NODE_ID,
      host: '127.0.0.1',
      port,
      coordinators: keys.map((key) => ({ key, nodeId: NODE_ID, host: '127.0.0.1', port, errorCode: 0, errorMessage: null })),
    })
  }
  return null
}

async function capture(s: Scenario, timeoutMs = 20_000): Promise<string[]> {
  const saved: string[] = []
  const got = new Set<number>()
  const sockets = new Set<Socket>()
  let finish: () => void = () => {}
  const done = new Promise<void>((resolve) => {
    finish = resolve
  })
  let port = 0

  const server = createServer((sock) => {
    sockets.add(sock)
    sock.on('close', () => sockets.delete(sock))
    sock.on('error', () => {})
    let pending = Buffer.alloc(0)
    sock.on('data', (chunk) => {
      pending = Buffer.concat([pending, chunk])
      while (pending.length >= 4) {
        const size = pending.readInt32BE(0)
        if (pending.length < 4 + size) break
        const frame = Buffer.from(pending.subarray(4, 4 + size))
        pending = pending.subarray(4 + size)
        const h = peekRequestHeader(frame)
        if (!h) continue
        if (s.save.includes(h.apiKey) && !got.has(h.apiKey)) {
          got.add(h.apiKey)
          const api = apiByKey(h.apiKey)
          const file = `${s.client}-${api ? kebab(api.name) : `key${h.apiKey}`}-v${h.apiVersion}.hex`
          writeFileSync(join(outDir, file), `${frame.toString('hex')}\n`)
          saved.push(file)
        }
        const reply = answer(frame, port)
        if (reply) for (const c of reply) sock.write(c)
        if (s.save.every((k) => got.has(k))) finish()
      }
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  if (address === null || typeof address === 'string') throw new Error('no port')
  port = address.port
  const { cmd, args, stdin } = s.command(port)
  const child: ChildProcess = spawn(cmd, args, { cwd: root, stdio: ['pipe', 'ignore', 'pipe'] })
  child.stdin?.end(stdin ?? '')
  let stderr = ''
  child.stderr?.on('data', (d) => {
    stderr += d
  })
  child.on('exit', () => finish())
  const timer = setTimeout(finish, timeoutMs)
  await done
  clearTimeout(timer)
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
  for (const sock of sockets) sock.destroy()
  await new Promise<void>((resolve) => server.close(() => resolve()))
  const missing = s.save.filter((k) => !got.has(k))
  if (missing.length > 0) console.error(`${s.client} (${s.does}): no frame for api key(s) ${missing.join(', ')}\n${stderr.slice(0, 2000)}`)
  return saved
}

async function main(): Promise<void> {
  mkdirSync(outDir, { recursive: true })
  const only = process.argv.slice(2)
  for (const s of SCENARIOS) {
    if (only.length > 0 && !only.includes(s.client)) continue
    const files = await capture(s)
    console.log(`${s.client} (${s.does}): ${files.length > 0 ? files.join(', ') : '(nothing captured)'}`)
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await main()
