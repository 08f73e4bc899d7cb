/**
 * CRC-32C: @node-rs/crc32 (native) vs the pure-JS slicing-by-8 fallback.
 * Run: node --import tsx bench/crc32c.ts [--json]
 *
 * Method: per (implementation, size), a 300 ms warm-up, then 7 timed rounds of
 * ~300 ms each over one random buffer; the table shows the fastest round (the
 * 2-vCPU dev VM is shared with other work, and slower rounds measure that work).
 * Results are folded into a sink so V8 cannot drop the calls.
 */
import { randomBytes } from 'node:crypto'
import { loadavg } from 'node:os'
import { crc32c as nativeCrc32c } from '@node-rs/crc32'
import { crc32cJs } from '../src/protocol/records/crc32c-js.ts'

const SIZES = [100, 256, 1024, 16 * 1024, 1024 * 1024]
const ROUNDS = 7
const ROUND_MS = 300

type Fn = (b: Uint8Array, initial?: number) => number
const IMPLS: Record<string, Fn> = { '@node-rs/crc32': nativeCrc32c, 'js slicing-by-8': crc32cJs }

let sink = 0

/** Calls per round sized so one round takes about ROUND_MS. */
function calibrate(fn: Fn, buf: Uint8Array): number {
  let n = 1
  for (;;) {
    const t0 = process.hrtime.bigint()
    for (let i = 0; i < n; i++) sink ^= fn(buf)
    const ms = Number(process.hrtime.bigint() - t0) / 1e6
    if (ms > 30) return Math.max(1, Math.round((n * ROUND_MS) / ms))
    n *= 2
  }
}

function measure(fn: Fn, buf: Uint8Array): { opsPerSec: number; mbPerSec: number } {
  const n = calibrate(fn, buf)
  const warmEnd = Date.now() + ROUND_MS
  while (Date.now() < warmEnd) for (let i = 0; i < 64; i++) sink ^= fn(buf)
  const rates: number[] = []
  for (let r = 0; r < ROUNDS; r++) {
    const t0 = process.hrtime.bigint()
    for (let i = 0; i < n; i++) sink ^= fn(buf)
    const s = Number(process.hrtime.bigint() - t0) / 1e9
    rates.push(n / s)
  }
  const opsPerSec = Math.max(...rates)
  return { opsPerSec, mbPerSec: (opsPerSec * buf.length) / 1e6 }
}

function fmtSize(n: number): string {
  return n >= 1024 * 1024 ? `${n / 1024 / 1024} MiB` : n >= 1024 ? `${n / 1024} KiB` : `${n} B`
}

const rows: { impl: string; size: number; opsPerSec: number; mbPerSec: number }[] = []
for (const size of SIZES) {
  const buf = randomBytes(size)
  if (nativeCrc32c(buf) !== crc32cJs(buf)) throw new Error('implementations disagree')
  for (const [name, fn] of Object.entries(IMPLS)) rows.push({ impl: name, size, ...measure(fn, buf) })
}

if (process.argv.includes('--json')) {
  console.log(JSON.stringify(rows, null, 2))
} else {
  console.log(
    `node ${process.version}, ${process.arch}; fastest of ${ROUNDS} rounds x ~${ROUND_MS} ms; load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}\n`,
  )
  console.log('| size | implementation | ops/s | MB/s |')
  console.log('|---|---|---:|---:|')
  for (const r of rows) {
    console.log(`| ${fmtSize(r.size)} | ${r.impl} | ${Math.round(r.opsPerSec).toLocaleString('en-US')} | ${r.mbPerSec.toFixed(0)} |`)
  }
  console.log('')
  for (const size of SIZES) {
    const [a, b] = rows.filter((r) => r.size === size)
    if (a && b) console.log(`${fmtSize(size)}: native/js = ${(a.opsPerSec / b.opsPerSec).toFixed(1)}x`)
  }
}
if (sink === 0.5) console.log(sink)
