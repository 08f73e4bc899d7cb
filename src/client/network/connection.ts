/**
 * One TCP connection to one broker. Kafka answers the requests of a connection
 * in the order they were sent, so in-flight requests sit in a FIFO keyed by
 * correlation id and every response must match the oldest one; anything else
 * means the stream is out of step and the connection is torn down.
 */
import { connect as netConnect, type Socket } from 'node:net'
import { decodeResponse, encodeRequest } from '../../protocol/frame.ts'
import type { ApiDefinition, Fields, StructInput, StructOf } from '../../protocol/schema/dsl.ts'
import { ConnectionError, ProtocolError, RequestTimeoutError } from '../errors.ts'

export interface ConnectionOptions {
  host: string
  port: number
  /** Sent in every request header; null sends no client id. */
  clientId?: string | null
  /** `request.timeout.ms`: how long a request may wait for its response. */
  requestTimeoutMs?: number
  /** `socket.connection.setup.timeout.ms`: how long the TCP connect may take. */
  connectTimeoutMs?: number
}

export interface RequestOptions {
  /** False for requests the broker never answers (Produce with acks=0): the promise resolves once the bytes are written. */
  expectResponse?: boolean
  /** Overrides `requestTimeoutMs` for this request (long polls add their wait time). */
  timeoutMs?: number
  /**
   * Provides the buffer the response frame is received into (exactly `size` bytes), e.g. one
   * reused from a pool; by default a fresh one. Called once, as the response starts to arrive.
   */
  allocate?: (size: number) => Buffer
}

export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000

const MAX_CORRELATION_ID = 0x7fffffff
/** Bytes the socket reads at a time between and within small frames (Node's own read size). */
const SCRATCH_SIZE = 64 * 1024
/** A request at least this large is written at once rather than corked until the end of the tick. */
const FLUSH_AT_ONCE = 64 * 1024
/** A frame with at least this much still to come is read into directly. */
const DIRECT_READ_MIN = 16 * 1024

interface Pending {
  correlationId: number
  api: string
  allocate: ((size: number) => Buffer) | undefined
  resolve: (frame: Buffer) => void
  reject: (err: Error) => void
  timer: NodeJS.Timeout | undefined
}

export class Connection {
  readonly host: string
  readonly port: number
  readonly address: string
  readonly clientId: string | null
  readonly requestTimeoutMs: number
  readonly connectTimeoutMs: number
  /** Last time a request was sent or a response arrived, for idle reaping. */
  lastActivityMs = Date.now()

  #socket: Socket | null = null
  #connecting: Promise<void> | null = null
  #closed = false
  #closeError: Error | null = null
  #nextCorrelationId = 0
  #inflight = new Map<number, Pending>()
  #corked = false
  #closeListeners: Array<(err: Error | null) => void> = []

  // Frame reassembly. The socket reads into `#scratch` (one buffer for the connection's lifetime), or,
  // while a large frame is being received, straight into that frame's own buffer: each byte of a
  // large response is copied once, by the kernel, and no buffer is allocated per read.
  #scratch: Buffer | null = null
  /** The size prefix of the next frame, while it arrives in pieces. */
  #head = Buffer.allocUnsafe(4)
  #headFilled = 0
  /** The frame being received (null between frames), and how much of it has arrived. */
  #frame: Buffer | null = null
  #frameFilled = 0

  constructor(options: ConnectionOptions) {
    this.host = options.host
    this.port = options.port
    this.address = formatAddress(options.host, options.port)
    this.clientId = options.clientId === undefined ? null : options.clientId
    this.requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS
    this.connectTimeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS
  }

  get connected(): boolean {
    return this.#socket !== null && !this.#closed && this.#connecting === null
  }

  get closed(): boolean {
    return this.#closed
  }

  /** Requests written and still waiting for their response. */
  get inflight(): number {
    return this.#inflight.size
  }

  /** Called once, when the connection closes for any reason; `err` is null after a local `close()`. */
  onClose(listener: (err: Error | null) => void): void {
    if (this.#closed) listener(this.#closeError)
    else this.#closeListeners.push(listener)
  }

  connect(): Promise<void> {
    if (this.#closed) return Promise.reject(this.#closeError ?? new ConnectionError(this.address, 'connection is closed'))
    if (this.#connecting) return this.#connecting
    if (this.#socket) return Promise.resolve()
    this.#connecting = new Promise<void>((resolve, reject) => {
      const socket = netConnect({
        host: this.host,
        port: this.port,
        onread: {
          buffer: () => this.#readBuffer(),
          callback: (n: number, buf: Uint8Array) => {
            this.#onRead(n, buf)
            return true
          },
        },
      })
      this.#socket = socket
      socket.setNoDelay(true)
      const timer = setTimeout(() => {
        const err = new ConnectionError(this.address, `connect timed out after ${this.connectTimeoutMs} ms`)
        this.#fail(err)
      }, this.connectTimeoutMs)
      const onEarlyClose = (err: Error | null): void => {
        clearTimeout(timer)
        this.#connecting = null
        reject(err ?? new ConnectionError(this.address, 'connection closed while connecting'))
      }
      this.#closeListeners.push(onEarlyClose)
      socket.once('connect', () => {
        clearTimeout(timer)
        this.#connecting = null
        this.#closeListeners = this.#closeListeners.filter((l) => l !== onEarlyClose)
        socket.setKeepAlive(true)
        this.lastActivityMs = Date.now()
        resolve()
      })
      socket.on('error', (err) => this.#fail(new ConnectionError(this.address, err.message, { cause: err })))
      socket.on('close', () => this.#fail(new ConnectionError(this.address, 'connection closed by the broker')))
    })
    return this.#connecting
  }

  /** Sends a request and decodes its response at the same version. */
  request<Req extends Fields, Res extends Fields>(
    api: ApiDefinition<Req, Res>,
    version: number,
    body: StructInput<Req>,
    options: RequestOptions & { expectResponse: false },
  ): Promise<null>
  request<Req extends Fields, Res extends Fields>(
    api: ApiDefinition<Req, Res>,
    version: number,
    body: StructInput<Req>,
    options?: RequestOptions,
  ): Promise<StructOf<Res>>
  async request<Req extends Fields, Res extends Fields>(
    api: ApiDefinition<Req, Res>,
    version: number,
    body: StructInput<Req>,
    options: RequestOptions = {},
  ): Promise<StructOf<Res> | null> {
    const frame = await this.requestRaw(api, version, body, options)
    if (frame === null) return null
    try {
      return decodeResponse(api, version, frame).body
    } catch (err) {
      throw new ProtocolError(`${this.address}: cannot decode ${api.name} v${version} response: ${(err as Error).message}`, {
        cause: err,
      })
    }
  }

  /**
   * Sends a request and resolves with the raw response frame (correlation id first),
   * for callers that must decide how to decode it (ApiVersions' v0 fallback).
   */
  requestRaw<Req extends Fields, Res extends Fields>(
    api: ApiDefinition<Req, Res>,
    version: number,
    body: StructInput<Req>,
    options: RequestOptions = {},
  ): Promise<Buffer | null> {
    const socket = this.#socket
    if (this.#closed || socket === null || this.#connecting !== null) {
      const why = this.#closed ? `connection is closed${this.#closeError ? ` (${this.#closeError.message})` : ''}` : 'not connected'
      return Promise.reject(new ConnectionError(this.address, why, { cause: this.#closeError ?? undefined }))
    }
    const correlationId = this.#nextCorrelationId
    this.#nextCorrelationId = correlationId === MAX_CORRELATION_ID ? 0 : correlationId + 1
    let chunks: Buffer[]
    try {
      chunks = encodeRequest(api, version, correlationId, this.clientId, body)
    } catch (err) {
      return Promise.reject(err)
    }
    this.lastActivityMs = Date.now()
    const expectResponse = options.expectResponse !== false
    return new Promise<Buffer | null>((resolve, reject) => {
      if (expectResponse) {
        const timeoutMs = options.timeoutMs ?? this.requestTimeoutMs
        const pending: Pending = { correlationId, api: api.name, allocate: options.allocate, resolve, reject, timer: undefined }
        pending.timer = setTimeout(() => {
          this.#fail(new RequestTimeoutError(this.address, api.name, timeoutMs), pending)
        }, timeoutMs)
        this.#inflight.set(correlationId, pending)
        this.#write(chunks)
      } else {
        this.#write(chunks, (err) => (err ? reject(new ConnectionError(this.address, err.message, { cause: err })) : resolve(null)))
      }
    })
  }

  /** Closes the connection; requests still in flight fail with a ConnectionError. */
  close(): void {
    this.#fail(null)
  }

  #write(chunks: Buffer[], done?: (err: Error | null | undefined) => void): void {
    const socket = this.#socket as Socket
    // Requests issued in the same tick leave in one writev.
    if (!this.#corked) {
      this.#corked = true
      socket.cork()
      process.nextTick(() => {
        this.#corked = false
        socket.uncork()
      })
    }
    const last = chunks.length - 1
    let bytes = 0
    for (let i = 0; i < last; i++) {
      bytes += (chunks[i] as Buffer).length
      socket.write(chunks[i])
    }
    bytes += (chunks[last] as Buffer).length
    socket.write(chunks[last], done)
    if (bytes >= FLUSH_AT_ONCE) {
      // A large request gains nothing from waiting for others: let it (and what is corked before it) go now.
      this.#corked = false
      socket.uncork()
    }
  }

  /** Where the socket's next read goes: the rest of a large frame, else the scratch buffer. */
  #readBuffer(): Uint8Array {
    const frame = this.#frame
    if (frame !== null && frame.length - this.#frameFilled >= DIRECT_READ_MIN) return frame.subarray(this.#frameFilled)
    this.#scratch ??= Buffer.allocUnsafeSlow(SCRATCH_SIZE)
    return this.#scratch
  }

  #onRead(n: number, buf: Uint8Array): void {
    if (this.#closed || n <= 0) return
    if (buf !== this.#scratch) {
      // A read straight into the frame being received.
      this.#frameFilled += n
      if (this.#frameFilled === (this.#frame as Buffer).length) this.#frameDone()
      return
    }
    const scratch = buf as Buffer
    let at = 0
    while (at < n && !this.#closed) {
      let frame = this.#frame
      if (frame === null) {
        const k = Math.min(4 - this.#headFilled, n - at)
        scratch.copy(this.#head, this.#headFilled, at, at + k)
        this.#headFilled += k
        at += k
        if (this.#headFilled < 4) return
        this.#headFilled = 0
        const size = this.#head.readInt32BE(0)
        if (size < 4) {
          this.#fail(new ProtocolError(`${this.address}: invalid response frame size ${size}`))
          return
        }
        // Responses come in request order: this frame answers the oldest request in flight.
        const allocate = this.#inflight.values().next().value?.allocate
        frame = this.#frame = allocate ? allocate(size) : Buffer.allocUnsafe(size)
        if (frame.length !== size) {
          this.#fail(new ProtocolError(`${this.address}: a response buffer of ${frame.length} bytes for a frame of ${size}`))
          return
        }
        this.#frameFilled = 0
      }
      const k = Math.min(frame.length - this.#frameFilled, n - at)
      scratch.copy(frame, this.#frameFilled, at, at + k)
      this.#frameFilled += k
      at += k
      if (this.#frameFilled === frame.length) this.#frameDone()
    }
  }

  #frameDone(): void {
    const frame = this.#frame as Buffer
    this.#frame = null
    this.#frameFilled = 0
    this.#onFrame(frame)
  }

  #onFrame(frame: Buffer): void {
    this.lastActivityMs = Date.now()
    const correlationId = frame.readInt32BE(0)
    const head = this.#inflight.values().next()
    if (head.done) {
      this.#fail(new ProtocolError(`${this.address}: response with correlation id ${correlationId} but no request in flight`))
      return
    }
    const pending = head.value
    if (pending.correlationId !== correlationId) {
      this.#fail(
        new ProtocolError(
          `${this.address}: response correlation id ${correlationId} does not match the oldest request in flight (${pending.correlationId}, ${pending.api})`,
        ),
      )
      return
    }
    this.#inflight.delete(correlationId)
    clearTimeout(pending.timer)
    pending.resolve(frame)
  }

  /**
   * Tears the connection down once. `culprit` (a timed-out request) gets `err`
   * itself; every other in-flight request gets a retriable ConnectionError.
   */
  #fail(err: Error | null, culprit?: Pending): void {
    if (this.#closed) return
    this.#closed = true
    this.#closeError = err
    this.#socket?.destroy()
    const others = err === null ? new ConnectionError(this.address, 'connection closed') : toConnectionError(this.address, err)
    for (const p of this.#inflight.values()) {
      clearTimeout(p.timer)
      p.reject(p === culprit && err !== null ? err : others)
    }
    this.#inflight.clear()
    this.#frame = null
    this.#scratch = null
    const listeners = this.#closeListeners
    this.#closeListeners = []
    for (const l of listeners) l(err)
  }
}

function toConnectionError(address: string, err: Error): Error {
  if (err instanceof ConnectionError) return err
  return new ConnectionError(address, `connection closed: ${err.message}`, { cause: err })
}

export function formatAddress(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`
}

/** Parses `host:port`, `[v6addr]:port`, or a bare host (port 9092). */
export function parseAddress(s: string): { host: string; port: number } {
  const trimmed = s.trim().replace(/^[A-Za-z_]+:\/\//, '')
  let host: string
  let portText: string | undefined
  if (trimmed.startsWith('[')) {
    const end = trimmed.indexOf(']')
    if (end < 0) throw new RangeError(`bad broker address: ${s}`)
    host = trimmed.slice(1, end)
    portText = trimmed.slice(end + 1).startsWith(':') ? trimmed.slice(end + 2) : undefined
  } else {
    const colon = trimmed.lastIndexOf(':')
    host = colon < 0 ? trimmed : trimmed.slice(0, colon)
    portText = colon < 0 ? undefined : trimmed.slice(colon + 1)
  }
  const port = portText === undefined || portText === '' ? 9092 : Number(portText)
  if (host === '' || !Number.isInteger(port) || port <= 0 || port > 65535) throw new RangeError(`bad broker address: ${s}`)
  return { host, port }
}
