/**
 * Codec throughput on a 1 MiB record-batch payload of ~1 KB text-like records
 * (JSON-ish events from a fixed vocabulary, seeded PRNG, so runs are comparable).
 * Run: node --import tsx bench/compression.ts [--json]
 *
 * MB/s is always uncompressed bytes per second (10^6 B), so compress and
 * decompress columns compare directly. Each cell: 200 ms warm-up, then the
 * fastest of 7 rounds of ~300 ms (the fastest, because the 2-vCPU dev VM is
 * shared with other work and slower rounds measure that work), calls made one
 * after another (async ones awaited one at a time: per-batch latency, not
 * pool-wide throughput). The batch columns add record encoding/decoding and
 * CRC-32C to the codec. A second table gives the kernel's share of the
 * process's CPU time per cell: high values mean page faults on fresh buffers.
 */
import { loadavg } from 'node:os'
import { decodeBatch, encodeBatch, type RecordInput } from '../src/protocol/records/batch.ts'
import { type Codec, compress, compressSync, decompress, decompressSync } from '../src/protocol/records/compression.ts'
import { encodeRecords } from '../src/protocol/records/record.ts'

const ROUNDS = 7
const ROUND_MS = 300
const TARGET = 1024 * 1024

function prng(seed: number): () => number {
  let s = seed >>> 0
  return () => {
    s = (s + 0x6d2b79f5) >>> 0
    let t = s
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32
  }
}

const WORDS = (
  'the a order user payment shipped pending failed retry account balance cart item product price total ' +
  'session login logout click view page search query result error warning info debug service latency ' +
  'request response timeout region eu us west east north south checkout coupon discount invoice customer'
).split(' ')

function textRecords(): RecordInput[] {
  const rnd = prng(42)
  const pick = () => WORDS[Math.floor(rnd() * WORDS.length)] as string
  const records: RecordInput[] = []
  let bytes = 0
  for (let i = 0; bytes < TARGET - 1100; i++) {
    const words: string[] = []
    let msg = ''
    while (msg.length < 880) {
      words.push(pick())
      msg = words.join(' ')
    }
    const value = JSON.stringify({
      id: 1_000_000 + i,
      ts: 1_700_000_000_000 + i * 37,
      user: `user-${Math.floor(rnd() * 5000)}`,
      event: pick(),
      amount: Math.round(rnd() * 100000) / 100,
      region: pick(),
      msg,
    })
    const key = `user-${Math.floor(rnd() * 5000)}`
    records.push({ key, value, timestamp: 1_700_000_000_000 + i })
    bytes += key.length + value.length + 12
  }
  return records
}

type Op = () => unknown

interface Cell {
  mbPerSec: number
  /** Kernel time / (user + kernel) time over the timed rounds. */
  sys: number
}

async function rate(op: Op, bytes: number): Promise<Cell> {
  const warmEnd = Date.now() + 200
  let calls = 0
  while (Date.now() < warmEnd) {
    await op()
    calls++
  }
  const perRound = Math.max(1, Math.round((calls * ROUND_MS) / 200))
  let best = 0
  const cpu0 = process.cpuUsage()
  for (let r = 0; r < ROUNDS; r++) {
    const t0 = process.hrtime.bigint()
    for (let i = 0; i < perRound; i++) await op()
    best = Math.max(best, (perRound * bytes) / (Number(process.hrtime.bigint() - t0) / 1e9) / 1e6)
  }
  const cpu = process.cpuUsage(cpu0)
  return { mbPerSec: best, sys: cpu.system / (cpu.user + cpu.system) }
}

const records = textRecords()
const body = encodeRecords(
  records,
  records.map((r) => BigInt(r.timestamp as number)),
  1_700_000_000_000n,
)
const NAMES = ['none', 'gzip', 'snappy', 'lz4', 'zstd']

const OPS = ['compress', 'decompress', 'compressAsync', 'decompressAsync', 'encodeBatch', 'decodeBatch'] as const
type Row = { codec: string; ratio: number } & Record<(typeof OPS)[number], Cell>

const rows: Row[] = []
for (const codec of [0, 1, 2, 3, 4] as Codec[]) {
  const z = compressSync(codec, body)
  if (!decompressSync(codec, z).equals(body)) throw new Error(`${NAMES[codec]} round trip failed`)
  const batch = encodeBatch({ records, compression: codec })
  rows.push({
    codec: NAMES[codec] as string,
    ratio: body.length / z.length,
    compress: await rate(() => compressSync(codec, body), body.length),
    decompress: await rate(() => decompressSync(codec, z), body.length),
    compressAsync: await rate(() => compress(codec, body), body.length),
    decompressAsync: await rate(() => decompress(codec, z), body.length),
    encodeBatch: await rate(() => encodeBatch({ records, compression: codec }), body.length),
    decodeBatch: await rate(() => decodeBatch(batch), body.length),
  })
}

if (process.argv.includes('--json')) {
  console.log(JSON.stringify({ payloadBytes: body.length, records: records.length, rows }, null, 2))
} else {
  console.log(
    `node ${process.version}; payload ${body.length} B = ${records.length} records (~${Math.round(body.length / records.length)} B each)`,
  )
  console.log(
    `MB/s of uncompressed bytes, fastest of ${ROUNDS} rounds x ~${ROUND_MS} ms; load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}\n`,
  )
  const header = '| codec | ratio | compress | decompress | compress (async) | decompress (async) | encodeBatch | decodeBatch |'
  const rule = '|---|---:|---:|---:|---:|---:|---:|---:|'
  console.log(header)
  console.log(rule)
  // Codec 0 is the identity: its codec columns would only time a function call.
  const cells = (r: Row, f: (c: Cell) => string) => OPS.map((op, i) => (r.codec === 'none' && i < 4 ? '–' : f(r[op]))).join(' | ')
  for (const r of rows) console.log(`| ${r.codec} | ${r.ratio.toFixed(2)} | ${cells(r, (c) => c.mbPerSec.toFixed(0))} |`)
  console.log('\nKernel share of CPU time:\n')
  console.log(header)
  console.log(rule)
  for (const r of rows) console.log(`| ${r.codec} | | ${cells(r, (c) => `${Math.round(c.sys * 100)}%`)} |`)
}
