/**
 * A minimal pipelined Kafka connection for load generation: size-prefixed
 * frames out (encoded with the project's codec, or pre-built once and reused),
 * responses matched in order by correlation id. No retries, no metadata cache,
 * no batching: everything a real client does on top is left out on purpose so
 * the load generator costs as little CPU as possible.
 *
 * Each response is handed to its handler synchronously, as soon as its last
 * byte arrives. A response that spans several socket reads is assembled in one
 * scratch buffer that is reused for the next one (a fresh multi-MiB buffer per
 * Fetch response costs page faults and GC, more than the copy itself), so a
 * handler must not keep the frame or views into it; `request` copies for that.
 */
import { connect, type Socket } from 'node:net'
import { decodeResponse, encodeRequest } from '../../src/protocol/frame.ts'
import type { ApiDefinition, Fields, StructInput, StructOf } from '../../src/protocol/schema/dsl.ts'

/** Bytes before the request body that vary per request: size (4), apiKey (2), apiVersion (2), correlationId (4). */
const HEAD = 12
const CLIENT_ID = 'cohort-bench'

interface Waiter {
  correlationId: number
  /** Runs synchronously on the frame; its result (or throw) settles the request's promise. */
  handle: (frame: Buffer) => unknown
  resolve: (v: unknown) => void
  reject: (err: Error) => void
}

/**
 * A request encoded once and sent many times: only the 12-byte head (with the
 * correlation id) is written fresh each time; the body, which holds the record
 * batches, is shared and never modified.
 */
export interface Prebuilt {
  head: Buffer
  body: Buffer
  bytes: number
}

export function prebuild<Req extends Fields, Res extends Fields>(
  api: ApiDefinition<Req, Res>,
  version: number,
  body: StructInput<Req>,
): Prebuilt {
  const full = Buffer.concat(encodeRequest(api, version, 0, CLIENT_ID, body))
  return { head: Buffer.from(full.subarray(0, HEAD)), body: full.subarray(HEAD), bytes: full.length }
}

export class WireConn {
  readonly #sock: Socket
  #nextCorrelationId = 1
  readonly #waiting: Waiter[] = []
  #waitHead = 0
  #frame: Buffer | null = null
  #fill = 0
  #scratch: Buffer = Buffer.alloc(0)
  readonly #sizeBuf = Buffer.alloc(4)
  #sizeFill = 0
  #error: Error | null = null
  bytesIn = 0

  private constructor(sock: Socket) {
    this.#sock = sock
    sock.setNoDelay(true)
    sock.on('data', (chunk: Buffer) => this.#onData(chunk))
    sock.on('error', (err) => this.#failAll(err))
    sock.on('close', () => this.#failAll(new Error('connection closed')))
  }

  static open(host: string, port: number): Promise<WireConn> {
    return new Promise((resolve, reject) => {
      const sock = connect({ host, port })
      sock.once('error', reject)
      sock.once('connect', () => {
        sock.off('error', reject)
        resolve(new WireConn(sock))
      })
    })
  }

  get inFlight(): number {
    return this.#waiting.length - this.#waitHead
  }

  /** Encodes and sends one request; resolves with the decoded response body (copied out of the scratch buffer). */
  request<Req extends Fields, Res extends Fields>(
    api: ApiDefinition<Req, Res>,
    version: number,
    body: StructInput<Req>,
  ): Promise<StructOf<Res>> {
    return this.requestWith(api, version, body, (res) => res, true)
  }

  /**
   * Encodes and sends one request; `use` runs synchronously on the decoded
   * response, whose byte fields are views that die when it returns.
   */
  requestWith<Req extends Fields, Res extends Fields, T>(
    api: ApiDefinition<Req, Res>,
    version: number,
    body: StructInput<Req>,
    use: (res: StructOf<Res>) => T,
    copy = false,
  ): Promise<T> {
    const id = this.#nextCorrelationId++
    return this.#send(encodeRequest(api, version, id, CLIENT_ID, body), id, (frame) =>
      use(decodeResponse(api, version, copy ? Buffer.from(frame) : frame).body),
    )
  }

  /** Sends a pre-built request; `handle` runs synchronously on the raw response frame (correlation id first, no size prefix). */
  sendPrebuilt<T>(p: Prebuilt, handle: (frame: Buffer) => T): Promise<T> {
    const id = this.#nextCorrelationId++
    const head = Buffer.allocUnsafe(HEAD)
    p.head.copy(head, 0, 0, HEAD)
    head.writeInt32BE(id, 8)
    return this.#send([head, p.body], id, handle)
  }

  #send<T>(chunks: Buffer[], correlationId: number, handle: (frame: Buffer) => T): Promise<T> {
    if (this.#error) return Promise.reject(this.#error)
    const p = new Promise<T>((resolve, reject) => {
      this.#waiting.push({ correlationId, handle, resolve: resolve as (v: unknown) => void, reject })
    })
    const s = this.#sock
    if (chunks.length === 1) s.write(chunks[0] as Buffer)
    else {
      s.cork()
      for (const c of chunks) s.write(c)
      s.uncork()
    }
    return p
  }

  #onData(chunk: Buffer): void {
    this.bytesIn += chunk.length
    let off = 0
    const len = chunk.length
    while (off < len) {
      if (this.#frame === null) {
        let size: number
        if (this.#sizeFill === 0 && len - off >= 4) {
          size = chunk.readInt32BE(off)
          off += 4
        } else {
          while (this.#sizeFill < 4 && off < len) this.#sizeBuf[this.#sizeFill++] = chunk[off++] as number
          if (this.#sizeFill < 4) return
          this.#sizeFill = 0
          size = this.#sizeBuf.readInt32BE(0)
        }
        if (len - off >= size) {
          this.#deliver(chunk.subarray(off, off + size))
          off += size
          continue
        }
        if (this.#scratch.length < size) this.#scratch = Buffer.allocUnsafe(Math.max(size, 2 * this.#scratch.length))
        this.#frame = this.#scratch.subarray(0, size)
        this.#fill = 0
      }
      const frame = this.#frame
      const n = Math.min(frame.length - this.#fill, len - off)
      chunk.copy(frame, this.#fill, off, off + n)
      this.#fill += n
      off += n
      if (this.#fill === frame.length) {
        this.#frame = null
        this.#deliver(frame)
      }
    }
  }

  #deliver(frame: Buffer): void {
    const w = this.#waiting[this.#waitHead]
    if (w === undefined) {
      this.#failAll(new Error('response without a request'))
      return
    }
    this.#waiting[this.#waitHead++] = undefined as unknown as Waiter
    if (this.#waitHead > 1024 && this.#waitHead * 2 > this.#waiting.length) {
      this.#waiting.splice(0, this.#waitHead)
      this.#waitHead = 0
    }
    const got = frame.readInt32BE(0)
    if (got !== w.correlationId) {
      const err = new Error(`correlation id ${got}, expected ${w.correlationId}`)
      w.reject(err)
      this.#failAll(err)
      return
    }
    let v: unknown
    try {
      v = w.handle(frame)
    } catch (err) {
      w.reject(err as Error)
      return
    }
    w.resolve(v)
  }

  #failAll(err: Error): void {
    if (this.#error === null) this.#error = err
    const pending = this.#waiting.slice(this.#waitHead)
    this.#waiting.length = 0
    this.#waitHead = 0
    for (const w of pending) w?.reject(err)
  }

  close(): void {
    this.#error ??= new Error('closed by the benchmark')
    this.#sock.destroy()
  }
}
