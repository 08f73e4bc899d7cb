/**
 * A tiny in-process Kafka broker for client unit tests, speaking the real wire
 * format through the protocol codec. It keeps record batches in memory and
 * answers ApiVersions, Metadata, InitProducerId, Produce, Fetch and ListOffsets;
 * tests override any API with `intercept` to inject errors or delays.
 */
import { createServer, type Server, type Socket } from 'node:net'
import { ALL_APIS, ApiVersions, apiByKey } from '../../../src/protocol/apis/index.ts'
import { decodeRequestBody, encodeResponse, peekRequestHeader, readRequestHeader } from '../../../src/protocol/frame.ts'
import { Reader } from '../../../src/protocol/primitives/reader.ts'
import { batchSpans } from '../../../src/protocol/records/batch.ts'
import { batchHeader } from '../../../src/protocol/records/batch-header.ts'
import type { ApiDefinition } from '../../../src/protocol/schema/dsl.ts'

// biome-ignore lint/suspicious/noExplicitAny: test double; bodies are checked by the codec on the way out
type Body = any
export type Handler = (version: number, body: Body, ctx: { broker: FakeBroker; socket: Socket }) => Body | null | Promise<Body | null>

export interface FakeBrokerOptions {
  nodeId?: number
  /** Advertised ranges; default: every API the protocol module defines, at its full range. */
  versions?: Map<number, { min: number; max: number }>
  /** ApiVersions requests above this get a v0-format UNSUPPORTED_VERSION answer. */
  apiVersionsMax?: number
  /** Whether that answer lists the key-18 entry (KIP-511). */
  listApiVersionsEntry?: boolean
  topics?: Record<string, number>
  autoCreate?: boolean
}

interface StoredBatch {
  baseOffset: bigint
  lastOffset: bigint
  bytes: Buffer
}

interface ProducerSeq {
  lastSeq: number
  baseOffset: bigint
}

export class FakeBroker {
  readonly nodeId: number
  readonly versions: Map<number, { min: number; max: number }>
  readonly topics = new Map<string, number>()
  readonly logs = new Map<string, StoredBatch[]>()
  readonly topicIds = new Map<string, string>()
  readonly requests: { apiKey: number; version: number; body: Body }[] = []
  /** API keys of request frames as they arrive, before the ones ahead of them are answered. */
  readonly arrivals: number[] = []
  readonly #intercepts = new Map<number, Handler>()
  readonly #seqs = new Map<string, ProducerSeq>()
  readonly #sockets = new Set<Socket>()
  #server: Server
  #nextPid = 1000n
  port = 0

  constructor(readonly options: FakeBrokerOptions = {}) {
    this.nodeId = options.nodeId ?? 1
    this.versions = options.versions ?? new Map(ALL_APIS.map((a) => [a.key, { min: a.versions.min, max: a.versions.max }]))
    for (const [name, n] of Object.entries(options.topics ?? {})) this.createTopic(name, n)
    this.#server = createServer((s) => this.#serve(s))
  }

  static async start(options: FakeBrokerOptions = {}): Promise<FakeBroker> {
    const b = new FakeBroker(options)
    await new Promise<void>((resolve) => b.#server.listen(0, '127.0.0.1', resolve))
    b.port = (b.#server.address() as { port: number }).port
    return b
  }

  get bootstrap(): string {
    return `127.0.0.1:${this.port}`
  }

  createTopic(name: string, partitions: number): void {
    this.topics.set(name, partitions)
    const id = Buffer.alloc(16)
    id.write(name.padEnd(16, '#').slice(0, 16))
    id[0] = (id[0] as number) | 1
    this.topicIds.set(name, id.toString('base64url'))
    for (let p = 0; p < partitions; p++) if (!this.logs.has(`${name}-${p}`)) this.logs.set(`${name}-${p}`, [])
  }

  intercept(apiKey: number, handler: Handler | null): void {
    if (handler) this.#intercepts.set(apiKey, handler)
    else this.#intercepts.delete(apiKey)
  }

  /** Kills every client connection (the listener stays up). */
  dropConnections(): void {
    for (const s of this.#sockets) s.destroy()
  }

  logEnd(topic: string, partition: number): bigint {
    const log = this.logs.get(`${topic}-${partition}`) ?? []
    const last = log[log.length - 1]
    return last ? last.lastOffset + 1n : 0n
  }

  async close(): Promise<void> {
    this.dropConnections()
    await new Promise<void>((resolve) => this.#server.close(() => resolve()))
  }

  #serve(socket: Socket): void {
    this.#sockets.add(socket)
    socket.on('close', () => this.#sockets.delete(socket))
    socket.on('error', () => {})
    let buf = Buffer.alloc(0)
    let chain = Promise.resolve()
    socket.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk])
      while (buf.length >= 4) {
        const size = buf.readInt32BE(0)
        if (buf.length < 4 + size) break
        const frame = buf.subarray(4, 4 + size)
        buf = buf.subarray(4 + size)
        if (frame.length >= 2) this.arrivals.push(frame.readInt16BE(0))
        // Answer strictly in order, as Kafka does.
        chain = chain
          .then(() => this.#handle(socket, frame))
          .catch(() => {
            socket.destroy()
          })
      }
    })
  }

  async #handle(socket: Socket, frame: Buffer): Promise<void> {
    const peek = peekRequestHeader(frame)
    if (!peek) throw new Error('short frame')
    const api = apiByKey(peek.apiKey) as ApiDefinition
    if (api.key === ApiVersions.key && peek.apiVersion > (this.options.apiVersionsMax ?? ApiVersions.versions.max)) {
      const keys =
        this.options.listApiVersionsEntry === false ? [] : [{ apiKey: 18, minVersion: 0, maxVersion: this.options.apiVersionsMax ?? 3 }]
      this.requests.push({ apiKey: 18, version: peek.apiVersion, body: null })
      write(socket, encodeResponse(ApiVersions, 0, peek.correlationId, { errorCode: 35, apiKeys: keys }))
      return
    }
    const r = new Reader(frame)
    readRequestHeader(r, api.requestHeaderVersion(peek.apiVersion))
    const body = decodeRequestBody(api, peek.apiVersion, r)
    this.requests.push({ apiKey: api.key, version: peek.apiVersion, body })
    const ctx = { broker: this, socket }
    const handler = this.#intercepts.get(api.key) ?? ((v: number, b: Body) => this.defaultHandler(api.key, v, b))
    const res = await handler(peek.apiVersion, body, ctx)
    if (res === null || socket.destroyed) return
    write(socket, encodeResponse(api, peek.apiVersion, peek.correlationId, res))
  }

  /** The built-in behaviour of an API, for intercepts that only alter some answers. */
  async defaultHandler(key: number, version: number, body: Body): Promise<Body | null> {
    switch (key) {
      case 18:
        return {
          errorCode: 0,
          apiKeys: [...this.versions].map(([apiKey, r]) => ({ apiKey, minVersion: r.min, maxVersion: r.max })),
          throttleTimeMs: 0,
        }
      case 3:
        return this.#metadata(body)
      case 22:
        return { throttleTimeMs: 0, errorCode: 0, producerId: this.#nextPid++, producerEpoch: 0 }
      case 0:
        return this.#produce(version, body)
      case 1:
        return this.#fetch(version, body)
      case 2:
        return this.#listOffsets(body)
      default:
        throw new Error(`fake broker: no handler for API ${key}`)
    }
  }

  #metadata(body: Body): Body {
    const wanted: string[] =
      body.topics === null || body.topics.length === 0 ? [...this.topics.keys()] : body.topics.map((t: Body) => t.name)
    const topics = wanted.map((name) => {
      if (!this.topics.has(name) && body.allowAutoTopicCreation && this.options.autoCreate) this.createTopic(name, 1)
      const n = this.topics.get(name)
      if (n === undefined) return { errorCode: 3, name, partitions: [] }
      return {
        errorCode: 0,
        name,
        topicId: this.topicIds.get(name),
        isInternal: false,
        partitions: Array.from({ length: n }, (_, i) => ({
          errorCode: 0,
          partitionIndex: i,
          leaderId: this.nodeId,
          leaderEpoch: 0,
          replicaNodes: [this.nodeId],
          isrNodes: [this.nodeId],
          offlineReplicas: [],
        })),
      }
    })
    return {
      throttleTimeMs: 0,
      brokers: [{ nodeId: this.nodeId, host: '127.0.0.1', port: this.port, rack: null }],
      clusterId: 'fake-cluster',
      controllerId: this.nodeId,
      topics,
    }
  }

  /** Appends a record set the way a broker does: offsets assigned, duplicates of the last batch recognised. */
  append(topic: string, partition: number, records: Buffer): { errorCode: number; baseOffset: bigint } {
    const log = this.logs.get(`${topic}-${partition}`)
    if (!log) return { errorCode: 3, baseOffset: -1n }
    let first = -1n
    for (const s of batchSpans(records)) {
      const bytes = Buffer.from(records.subarray(s.at, s.at + s.size))
      const pid = batchHeader.producerId(bytes)
      const seq = batchHeader.baseSequence(bytes)
      const count = batchHeader.lastOffsetDelta(bytes) + 1
      const key = `${pid}/${topic}-${partition}`
      if (pid >= 0n) {
        const prev = this.#seqs.get(key)
        const expected = prev ? prev.lastSeq + 1 : 0
        if (prev && seq + count - 1 === prev.lastSeq) return { errorCode: 0, baseOffset: prev.baseOffset }
        if (seq !== expected) return { errorCode: prev ? 45 : 59, baseOffset: -1n }
      }
      const base = this.logEnd(topic, partition)
      bytes.writeBigInt64BE(base, 0)
      log.push({ baseOffset: base, lastOffset: base + BigInt(count - 1), bytes })
      if (pid >= 0n) this.#seqs.set(key, { lastSeq: seq + count - 1, baseOffset: base })
      if (first < 0n) first = base
    }
    return { errorCode: 0, baseOffset: first }
  }

  #produce(_version: number, body: Body): Body | null {
    const responses = body.topicData.map((t: Body) => ({
      name: t.name,
      partitionResponses: t.partitionData.map((p: Body) => {
        const r = this.append(t.name, p.index, p.records)
        return {
          index: p.index,
          errorCode: r.errorCode,
          baseOffset: r.baseOffset,
          logAppendTimeMs: -1n,
          logStartOffset: 0n,
          recordErrors: [],
          errorMessage: null,
        }
      }),
    }))
    if (body.acks === 0) return null
    return { responses, throttleTimeMs: 0 }
  }

  async #fetch(version: number, body: Body): Promise<Body> {
    const nameOf = (t: Body): string => (version >= 13 ? ([...this.topicIds].find(([, id]) => id === t.topicId)?.[0] ?? '?') : t.topic)
    const collect = (): { any: boolean; responses: Body[] } => {
      let any = false
      const responses = body.topics.map((t: Body) => {
        const name = nameOf(t)
        return {
          topic: name,
          topicId: t.topicId,
          partitions: t.partitions.map((p: Body) => {
            const log = this.logs.get(`${name}-${p.partition}`)
            if (!log)
              return { partitionIndex: p.partition, errorCode: version >= 13 ? 100 : 3, highWatermark: -1n, records: Buffer.alloc(0) }
            const end = this.logEnd(name, p.partition)
            if (p.fetchOffset > end) return { partitionIndex: p.partition, errorCode: 1, highWatermark: end, records: Buffer.alloc(0) }
            const parts: Buffer[] = []
            let size = 0
            for (const b of log) {
              if (b.lastOffset < p.fetchOffset) continue
              if (parts.length > 0 && size + b.bytes.length > p.partitionMaxBytes) break
              parts.push(b.bytes)
              size += b.bytes.length
            }
            if (parts.length > 0) any = true
            return {
              partitionIndex: p.partition,
              errorCode: 0,
              highWatermark: end,
              lastStableOffset: end,
              logStartOffset: 0n,
              abortedTransactions: [],
              records: Buffer.concat(parts),
            }
          }),
        }
      })
      return { any, responses }
    }
    let out = collect()
    if (!out.any) {
      await new Promise((r) => setTimeout(r, Math.min(body.maxWaitMs, 20)))
      out = collect()
    }
    return { throttleTimeMs: 0, errorCode: 0, sessionId: 0, responses: out.responses }
  }

  #listOffsets(body: Body): Body {
    return {
      throttleTimeMs: 0,
      topics: body.topics.map((t: Body) => ({
        name: t.name,
        partitions: t.partitions.map((p: Body) => {
          if (!this.logs.has(`${t.name}-${p.partitionIndex}`)) return { partitionIndex: p.partitionIndex, errorCode: 3 }
          const offset = p.timestamp === -2n ? 0n : this.logEnd(t.name, p.partitionIndex)
          return { partitionIndex: p.partitionIndex, errorCode: 0, timestamp: -1n, offset, oldStyleOffsets: [offset] }
        }),
      })),
    }
  }
}

function write(socket: Socket, chunks: Buffer[]): void {
  if (!socket.destroyed) socket.write(Buffer.concat(chunks))
}
