/**
 * One client connection: size-prefixed frames in, responses out in request
 * order. Requests are dispatched as they arrive (so a parked long poll does
 * not stop a produce behind it from being appended), but replies leave in the
 * order the requests came, as Kafka clients require.
 */
import type { Socket } from 'node:net'
import type { BufferPool } from '../../util/buffer-pool.ts'

/**
 * What a request handler gives back: response chunks, or null when no response is due (acks=0).
 * `afterSend` runs once the chunks are handed to the socket: chunks that lie in reused buffers
 * go back then.
 */
export type Reply = (Buffer[] & { afterSend?: () => void }) | null

export interface ConnectionHandler {
  /** Called once per complete frame (without its size prefix), in arrival order. */
  onFrame(frame: Buffer, conn: Connection): Promise<Reply> | Reply
  /**
   * Whether requests of this API key keep no view of their frame once `onFrame`'s result
   * settles, so that the frame may lie in a reused buffer. Absent: never.
   */
  reusesFrame?(apiKey: number): boolean
}

export interface ConnectionOptions {
  /** socket.request.max.bytes: a larger size prefix closes the connection before any of it is buffered. */
  maxRequestBytes: number
  /** Requests dispatched but not yet answered before reading pauses. */
  maxInFlight: number
  log: (msg: string) => void
  /** Reused buffers for frames of at least POOLED_FRAME_MIN bytes whose API allows it (`reusesFrame`). */
  framePool?: BufferPool
}

/** Frames below this are copied into fresh memory: small copies come from recycled heap anyway. */
const POOLED_FRAME_MIN = 64 * 1024

interface Slot {
  done: boolean
  reply: Reply
  /** The pooled buffer the request's frame lies in, given back once the request is answered. */
  pooled: Buffer | null
}

export class Connection {
  readonly remote: string
  readonly remoteAddress: string
  #socket: Socket
  #opts: ConnectionOptions
  #handler: ConnectionHandler
  #pending: Buffer[] = []
  #pendingBytes = 0
  #frameSize = -1
  #queue: Slot[] = []
  #closed = false
  #paused = false
  #onClose: (() => void)[] = []
  /** Free-form per-connection state for handlers (e.g. SASL progress). */
  readonly state = new Map<string, unknown>()

  constructor(socket: Socket, handler: ConnectionHandler, opts: ConnectionOptions) {
    this.#socket = socket
    this.#handler = handler
    this.#opts = opts
    this.remoteAddress = socket.remoteAddress ?? 'unknown'
    this.remote = `${socket.remoteAddress}:${socket.remotePort}`
    socket.setNoDelay(true)
    socket.on('data', (chunk: Buffer) => this.#onData(chunk))
    socket.on('error', () => this.close())
    socket.on('close', () => {
      this.#closed = true
      this.#runCloseHooks()
    })
  }

  get closed(): boolean {
    return this.#closed
  }

  #onData(chunk: Buffer): void {
    this.#pending.push(chunk)
    this.#pendingBytes += chunk.length
    while (!this.#closed) {
      if (this.#frameSize < 0) {
        if (this.#pendingBytes < 4) return
        const size = this.#take(4).readInt32BE(0)
        if (size < 0 || size > this.#opts.maxRequestBytes) {
          this.fail(`request of ${size} bytes exceeds socket.request.max.bytes=${this.#opts.maxRequestBytes}`)
          return
        }
        this.#frameSize = size
      }
      if (this.#pendingBytes < this.#frameSize) return
      const size = this.#frameSize
      const pooled = size >= POOLED_FRAME_MIN ? this.#poolFor(size) : null
      const frame = this.#take(size, pooled)
      this.#frameSize = -1
      this.#dispatch(frame, pooled)
    }
  }

  /** A pooled buffer for the complete frame at the head of `#pending`, if its API may use one. */
  #poolFor(size: number): Buffer | null {
    const pool = this.#opts.framePool
    if (!pool || !this.#handler.reusesFrame) return null
    const first = this.#pending[0] as Buffer
    // The API key is the frame's first two bytes; a chunk boundary inside them just means no pooling.
    if (first.length < 2 || !this.#handler.reusesFrame(first.readInt16BE(0))) return null
    return pool.take(size)
  }

  /** The next `n` pending bytes: a view of one chunk when they lie in one, else a copy (into `into` if given). */
  #take(n: number, into: Buffer | null = null): Buffer {
    const first = this.#pending[0] as Buffer
    let out: Buffer
    if (first.length >= n && into === null) {
      out = first.subarray(0, n)
      if (first.length === n) this.#pending.shift()
      else this.#pending[0] = first.subarray(n)
    } else {
      out = into === null ? Buffer.allocUnsafe(n) : into.subarray(0, n)
      let filled = 0
      while (filled < n) {
        const head = this.#pending[0] as Buffer
        const k = Math.min(head.length, n - filled)
        head.copy(out, filled, 0, k)
        filled += k
        if (k === head.length) this.#pending.shift()
        else this.#pending[0] = head.subarray(k)
      }
    }
    this.#pendingBytes -= n
    return out
  }

  #dispatch(frame: Buffer, pooled: Buffer | null): void {
    const slot: Slot = { done: false, reply: null, pooled }
    this.#queue.push(slot)
    if (this.#queue.length >= this.#opts.maxInFlight && !this.#paused) {
      this.#paused = true
      this.#socket.pause()
    }
    let result: Promise<Reply> | Reply
    try {
      result = this.#handler.onFrame(frame, this)
    } catch (err) {
      this.fail(`request handling failed: ${errText(err)}`)
      return
    }
    if (result instanceof Promise) {
      result.then(
        (reply) => this.#complete(slot, reply),
        (err) => this.fail(`request handling failed: ${errText(err)}`),
      )
    } else {
      this.#complete(slot, result)
    }
  }

  #complete(slot: Slot, reply: Reply): void {
    slot.done = true
    slot.reply = reply
    this.#givePooled(slot)
    while (this.#queue.length > 0 && (this.#queue[0] as Slot).done) {
      const head = this.#queue.shift() as Slot
      if (head.reply && !this.#closed) this.#write(head.reply)
    }
    if (this.#paused && this.#queue.length < this.#opts.maxInFlight) {
      this.#paused = false
      this.#socket.resume()
    }
  }

  #write(chunks: Buffer[] & { afterSend?: () => void }): void {
    const after = chunks.afterSend
    // The last chunk's callback comes once every chunk before it is written too; after an error nothing is given back.
    const done = after === undefined ? undefined : (err?: Error | null) => err || after()
    if (chunks.length === 1) {
      this.#socket.write(chunks[0] as Buffer, done)
      return
    }
    this.#socket.cork()
    for (let i = 0; i < chunks.length; i++) this.#socket.write(chunks[i] as Buffer, i === chunks.length - 1 ? done : undefined)
    this.#socket.uncork()
  }

  #givePooled(slot: Slot): void {
    if (slot.pooled === null) return
    this.#opts.framePool?.give(slot.pooled)
    slot.pooled = null
  }

  /** Closes the connection after logging one line that says why. */
  fail(reason: string): void {
    if (this.#closed) return
    this.#opts.log(`closing connection from ${this.remote}: ${reason}`)
    this.close()
  }

  close(): void {
    if (this.#closed) return
    this.#closed = true
    this.#socket.destroy()
    this.#runCloseHooks()
  }

  /** Runs `fn` once when the connection closes (parked requests release their resources). */
  onClose(fn: () => void): void {
    if (this.#closed) fn()
    else this.#onClose.push(fn)
  }

  #runCloseHooks(): void {
    const hooks = this.#onClose
    this.#onClose = []
    for (const h of hooks) h()
  }
}

function errText(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}
