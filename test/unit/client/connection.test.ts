/**
 * The connection against raw `node:net` servers: framing split across reads,
 * in-order correlation, timeouts, broken connections, acks=0.
 */
import assert from 'node:assert/strict'
import { createServer, type Server, type Socket } from 'node:net'
import { after, test } from 'node:test'
import { ConnectionError, ProtocolError, RequestTimeoutError } from '../../../src/client/errors.ts'
import { Connection, parseAddress } from '../../../src/client/network/connection.ts'
import { ApiVersions, Metadata, Produce } from '../../../src/protocol/apis/index.ts'
import { encodeResponse, peekRequestHeader } from '../../../src/protocol/frame.ts'

const servers: Server[] = []
after(() => {
  for (const s of servers) s.close()
})

/** A server that hands each request frame to `onFrame`, with frame reassembly. */
async function server(onFrame: (socket: Socket, frame: Buffer) => void): Promise<number> {
  const s = createServer((socket) => {
    let buf = Buffer.alloc(0)
    socket.on('error', () => {})
    socket.on('data', (c: Buffer) => {
      buf = Buffer.concat([buf, c])
      while (buf.length >= 4 && buf.length >= 4 + buf.readInt32BE(0)) {
        const frame = buf.subarray(4, 4 + buf.readInt32BE(0))
        buf = buf.subarray(4 + frame.length)
        onFrame(socket, frame)
      }
    })
  })
  servers.push(s)
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r))
  return (s.address() as { port: number }).port
}

function apiVersionsAnswer(correlationId: number): Buffer {
  return Buffer.concat(
    encodeResponse(ApiVersions, 0, correlationId, { errorCode: 0, apiKeys: [{ apiKey: 18, minVersion: 0, maxVersion: 3 }] }),
  )
}

test('responses split into single bytes and glued together are reassembled and matched in order', async () => {
  const pending: Buffer[] = []
  const port = await server((socket, frame) => {
    pending.push(apiVersionsAnswer(peekRequestHeader(frame)?.correlationId as number))
    if (pending.length < 3) return
    // Three responses, delivered one byte per write.
    const all = Buffer.concat(pending.splice(0))
    let i = 0
    const tick = () => {
      if (i < all.length) {
        socket.write(all.subarray(i, ++i))
        setImmediate(tick)
      }
    }
    tick()
  })
  const c = new Connection({ host: '127.0.0.1', port, clientId: 'test' })
  await c.connect()
  const rs = await Promise.all([0, 1, 2].map(() => c.request(ApiVersions, 0, {})))
  for (const r of rs) assert.deepEqual(r.apiKeys, [{ apiKey: 18, minVersion: 0, maxVersion: 3 }])
  assert.equal(c.inflight, 0)
  c.close()
})

test('a response whose correlation id is not the oldest in flight closes the connection; requests fail retriably with the ProtocolError as cause', async () => {
  const port = await server((socket, frame) => {
    socket.write(apiVersionsAnswer((peekRequestHeader(frame)?.correlationId as number) + 7))
  })
  const c = new Connection({ host: '127.0.0.1', port })
  await c.connect()
  await assert.rejects(
    c.request(ApiVersions, 0, {}),
    (err: unknown) => err instanceof ConnectionError && err.retriable && err.cause instanceof ProtocolError,
  )
  assert.equal(c.closed, true)
})

test('a request timeout rejects with RequestTimeoutError, closes the connection, and fails the others retriably', async () => {
  const port = await server(() => {})
  const c = new Connection({ host: '127.0.0.1', port, requestTimeoutMs: 50 })
  await c.connect()
  const first = c.request(ApiVersions, 0, {})
  const second = c.request(Metadata, 1, { topics: null }, { timeoutMs: 10_000 })
  await assert.rejects(first, (err: unknown) => err instanceof RequestTimeoutError && err.retriable)
  await assert.rejects(second, (err: unknown) => err instanceof ConnectionError && err.retriable)
  assert.equal(c.closed, true)
  await assert.rejects(c.request(ApiVersions, 0, {}), ConnectionError)
})

test('a socket closed by the broker rejects every request in flight with a retriable ConnectionError', async () => {
  let seen = 0
  const port = await server((socket) => {
    if (++seen === 2) socket.destroy()
  })
  const c = new Connection({ host: '127.0.0.1', port })
  let closedWith: Error | null | undefined
  c.onClose((e) => (closedWith = e))
  await c.connect()
  const rs = [c.request(ApiVersions, 0, {}), c.request(ApiVersions, 0, {})]
  for (const r of rs) await assert.rejects(r, (err: unknown) => err instanceof ConnectionError && err.retriable)
  assert.ok(closedWith instanceof ConnectionError)
})

test('connecting to a closed port fails with a ConnectionError', async () => {
  const s = createServer()
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r))
  const port = (s.address() as { port: number }).port
  await new Promise<void>((r) => s.close(() => r()))
  const c = new Connection({ host: '127.0.0.1', port })
  await assert.rejects(c.connect(), ConnectionError)
})

test('acks=0 Produce resolves once written and leaves nothing in flight; correlation ids keep counting', async () => {
  const ids: number[] = []
  const port = await server((socket, frame) => {
    const h = peekRequestHeader(frame)
    if (!h) return
    ids.push(h.correlationId)
    if (h.apiKey === 18) socket.write(apiVersionsAnswer(h.correlationId))
  })
  const c = new Connection({ host: '127.0.0.1', port })
  await c.connect()
  const r = await c.request(Produce, 7, { acks: 0, timeoutMs: 100, topicData: [] }, { expectResponse: false })
  assert.equal(r, null)
  assert.equal(c.inflight, 0)
  await c.request(ApiVersions, 0, {})
  assert.deepEqual(ids, [0, 1])
  c.close()
})

test('flexible-version responses (header v1) decode; ApiVersions v3 keeps header v0', async () => {
  const port = await server((socket, frame) => {
    const h = peekRequestHeader(frame)
    if (!h) return
    if (h.apiKey === 3) {
      socket.write(
        Buffer.concat(
          encodeResponse(Metadata, 12, h.correlationId, {
            brokers: [{ nodeId: 4, host: 'h', port: 1 }],
            clusterId: 'c',
            controllerId: 4,
            topics: [],
          }),
        ),
      )
    } else {
      socket.write(
        Buffer.concat(
          encodeResponse(ApiVersions, 3, h.correlationId, { errorCode: 0, apiKeys: [{ apiKey: 3, minVersion: 0, maxVersion: 12 }] }),
        ),
      )
    }
  })
  const c = new Connection({ host: '127.0.0.1', port })
  await c.connect()
  const v = await c.request(ApiVersions, 3, { clientSoftwareName: 'x', clientSoftwareVersion: '1' })
  assert.equal(v.apiKeys[0]?.maxVersion, 12)
  const m = await c.request(Metadata, 12, { topics: null })
  assert.equal(m.controllerId, 4)
  assert.equal(m.brokers[0]?.host, 'h')
  c.close()
})

test('parseAddress handles host:port, IPv6 brackets, schemes and a default port', () => {
  assert.deepEqual(parseAddress('localhost:9093'), { host: 'localhost', port: 9093 })
  assert.deepEqual(parseAddress(' [::1]:19092 '), { host: '::1', port: 19092 })
  assert.deepEqual(parseAddress('PLAINTEXT://kafka-0:9092'), { host: 'kafka-0', port: 9092 })
  assert.deepEqual(parseAddress('kafka-1'), { host: 'kafka-1', port: 9092 })
  assert.throws(() => parseAddress('host:notaport'), RangeError)
})
