/**
 * The broker's connection: frames split across socket chunks, replies in
 * request order, and large frames of opted-in APIs received into reused
 * buffers that go back only once their request is answered.
 */
import assert from 'node:assert/strict'
import net from 'node:net'
import { test } from 'node:test'
import { Connection, type ConnectionHandler, type Reply } from '../../../src/broker/network/connection.ts'
import { framePool } from '../../../src/broker/network/frame-pool.ts'
import type { BufferPool } from '../../../src/util/buffer-pool.ts'

interface Seen {
  apiKey: number
  tag: number
  /** The frame's bytes as they were when the handler got it. */
  copy: Buffer
  frame: Buffer
  answer: (reply: Reply) => void
}

/** A server whose handler records each frame and answers when the test says so. */
async function serve(
  pool: BufferPool,
  reuses: (apiKey: number) => boolean,
): Promise<{ seen: Seen[]; client: net.Socket; replies: number[]; close: () => Promise<void> }> {
  const seen: Seen[] = []
  const handler: ConnectionHandler = {
    onFrame(frame) {
      return new Promise<Reply>((answer) =>
        seen.push({ apiKey: frame.readInt16BE(0), tag: frame.readInt32BE(2), copy: Buffer.from(frame), frame, answer }),
      )
    },
    reusesFrame: reuses,
  }
  const server = net.createServer(
    (s) => new Connection(s, handler, { maxRequestBytes: 1 << 24, maxInFlight: 16, log: () => {}, framePool: pool }),
  )
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const client = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1')
  await new Promise<void>((r) => client.once('connect', r))
  const replies: number[] = []
  client.on('data', (d: Buffer) => {
    for (let at = 0; at + 4 <= d.length; at += 4) replies.push(d.readInt32BE(at))
  })
  return {
    seen,
    client,
    replies,
    close: async () => {
      client.destroy()
      await new Promise<void>((r) => server.close(() => r()))
    },
  }
}

/** A frame of `size` bytes: API key, a tag, then bytes derived from the tag. */
function frame(apiKey: number, tag: number, size: number): Buffer {
  const f = Buffer.alloc(4 + size)
  f.writeInt32BE(size, 0)
  f.writeInt16BE(apiKey, 4)
  f.writeInt32BE(tag, 6)
  for (let i = 10; i < f.length; i++) f[i] = (tag * 31 + i) & 0xff
  return f
}

async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !cond(); i++) await new Promise((r) => setTimeout(r, 5))
  assert.ok(cond(), 'timed out')
}

const reply = (tag: number): Reply => {
  const b = Buffer.alloc(4)
  b.writeInt32BE(tag)
  return [b]
}

test('large frames of an opted-in API reuse a pooled buffer once their request is answered, never before', async () => {
  const pool = framePool()
  const s = await serve(pool, (k) => k === 0)
  try {
    const size = 300 * 1024
    // Two pipelined requests: both in flight, so they must lie in different buffers.
    s.client.write(Buffer.concat([frame(0, 1, size), frame(0, 2, size)]))
    await until(() => s.seen.length === 2)
    const [a, b] = s.seen as [Seen, Seen]
    assert.notEqual(a.frame.buffer, b.frame.buffer, 'frames in flight share no buffer')
    assert.equal(pool.idle, 0)
    a.answer(reply(1))
    await until(() => pool.idle === 1)
    // The third request takes the buffer the first one gave back; the second's bytes are untouched.
    s.client.write(frame(0, 3, size))
    await until(() => s.seen.length === 3)
    const c = s.seen[2] as Seen
    assert.equal(c.frame.buffer, a.frame.buffer, 'the answered request’s buffer is reused')
    assert.ok(b.frame.equals(b.copy), 'a request still in flight keeps its bytes')
    assert.ok(c.frame.equals(frame(0, 3, size).subarray(4)))
    b.answer(reply(2))
    c.answer(reply(3))
    await until(() => s.replies.length === 3)
    assert.deepEqual(s.replies, [1, 2, 3])
  } finally {
    await s.close()
  }
})

test('frames of other APIs, and small frames, get buffers of their own', async () => {
  const pool = framePool()
  const s = await serve(pool, (k) => k === 0)
  try {
    s.client.write(Buffer.concat([frame(1, 1, 300 * 1024), frame(0, 2, 1000)]))
    await until(() => s.seen.length === 2)
    for (const x of s.seen) {
      assert.ok(x.frame.equals(x.copy))
      x.answer(reply(x.tag))
    }
    await until(() => s.replies.length === 2)
    assert.equal(pool.idle, 0, 'nothing was leased')
  } finally {
    await s.close()
  }
})
