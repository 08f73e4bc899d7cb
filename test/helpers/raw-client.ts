/** A bare TCP client speaking Cohort's codec, for tests that send exactly the bytes they mean to. */
import { connect, type Socket } from 'node:net'
import { decodeResponse, encodeRequest } from '../../src/protocol/frame.ts'
import type { ApiDefinition, Fields, StructInput, StructOf } from '../../src/protocol/schema/dsl.ts'

export class RawClient {
  #socket: Socket
  #buf = Buffer.alloc(0)
  #waiters: ((frame: Buffer | null) => void)[] = []
  #closed = false
  #correlation = 1

  private constructor(socket: Socket) {
    this.#socket = socket
    socket.on('data', (d: Buffer) => {
      this.#buf = Buffer.concat([this.#buf, d])
      while (this.#buf.length >= 4) {
        const size = this.#buf.readInt32BE(0)
        if (this.#buf.length < 4 + size) break
        const frame = this.#buf.subarray(4, 4 + size)
        this.#buf = this.#buf.subarray(4 + size)
        this.#waiters.shift()?.(frame)
      }
    })
    socket.on('close', () => {
      this.#closed = true
      for (const w of this.#waiters.splice(0)) w(null)
    })
    socket.on('error', () => {})
  }

  static async connect(bootstrap: string): Promise<RawClient> {
    const [host, port] = bootstrap.split(':') as [string, string]
    const socket = connect(Number(port), host)
    socket.setNoDelay(true)
    await new Promise<void>((res, rej) => {
      socket.once('connect', res)
      socket.once('error', rej)
    })
    return new RawClient(socket)
  }

  get closed(): boolean {
    return this.#closed
  }

  /** Resolves with the next response frame, or null if the broker closed the connection. */
  nextFrame(timeoutMs = 5000): Promise<Buffer | null> {
    if (this.#closed) return Promise.resolve(null)
    return new Promise((res, rej) => {
      const t = setTimeout(() => rej(new Error('no response within timeout')), timeoutMs)
      this.#waiters.push((f) => {
        clearTimeout(t)
        res(f)
      })
    })
  }

  writeRaw(bytes: Buffer): void {
    this.#socket.write(bytes)
  }

  async request<Req extends Fields, Res extends Fields>(
    api: ApiDefinition<Req, Res>,
    version: number,
    body: StructInput<Req>,
  ): Promise<StructOf<Res>> {
    const id = this.#correlation++
    const pending = this.nextFrame()
    this.#socket.write(Buffer.concat(encodeRequest(api, version, id, 'raw-test', body)))
    const frame = await pending
    if (!frame) throw new Error(`connection closed instead of answering ${api.name} v${version}`)
    const { correlationId, body: out } = decodeResponse(api, version, frame)
    if (correlationId !== id) throw new Error(`correlation id ${correlationId}, expected ${id}`)
    return out
  }

  close(): void {
    this.#socket.destroy()
  }
}
