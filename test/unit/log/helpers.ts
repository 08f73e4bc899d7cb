/** Shared fixtures for the log tests: temp dirs, batches, a counting fsync. */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { after } from 'node:test'
import { type FsyncFn, fdatasync } from '../../../src/broker/log/group-commit.ts'
import { DEFAULT_LOG_CONFIG, type LogConfig } from '../../../src/broker/log/log-config.ts'
import type { PartitionLog } from '../../../src/broker/log/partition-log.ts'
import { type BatchInput, decodeBatches, encodeBatch } from '../../../src/protocol/records/batch.ts'

const dirs: string[] = []
after(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true })
})

export function tempDir(prefix = 'cohort-log-'): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), prefix))
  dirs.push(d)
  return d
}

export function config(over: Partial<LogConfig> = {}): LogConfig {
  return { ...DEFAULT_LOG_CONFIG, ...over }
}

/** A batch of `n` records `prefix-i`, all with timestamp `ts`. */
export function batch(n: number, ts: number, prefix = 'v', extra: Partial<BatchInput> = {}): Buffer {
  const records = Array.from({ length: n }, (_, i) => ({ key: `k${i}`, value: `${prefix}-${i}`, timestamp: ts }))
  return encodeBatch({ records, ...extra })
}

/** A batch with one record per [key, value] pair (value null = tombstone, key null = keyless). */
export function keyed(pairs: [string | null, string | null][], ts: number, extra: Partial<BatchInput> = {}): Buffer {
  return encodeBatch({ records: pairs.map(([key, value]) => ({ key, value, timestamp: ts })), ...extra })
}

/** Every record of a read result, as [offset, key, value, timestamp]. */
export function records(bufs: Buffer[]): [number, string | null, string | null, number][] {
  const out: [number, string | null, string | null, number][] = []
  for (const b of decodeBatches(Buffer.concat(bufs))) {
    for (const r of b.records) out.push([Number(r.offset), r.key?.toString() ?? null, r.value?.toString() ?? null, Number(r.timestamp)])
  }
  return out
}

/** A real fdatasync that counts its calls. */
export function countingFsync(): { fsync: FsyncFn; calls: () => number } {
  let n = 0
  return {
    fsync: (fd) => {
      n++
      return fdatasync(fd)
    },
    calls: () => n,
  }
}

export function logFiles(dir: string, suffix = '.log'): string[] {
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith(suffix))
    .sort()
}

/** Collects log lines instead of printing them. */
export function lines(): { log: (m: string) => void; seen: string[] } {
  const seen: string[] = []
  return { log: (m) => seen.push(m), seen }
}

/** Every record from `from` to the log end, following reads across segments (one read stays within a segment). */
export function readAll(log: PartitionLog, from = log.logStartOffset): [number, string | null, string | null, number][] {
  const out: [number, string | null, string | null, number][] = []
  let next = from
  while (next < log.logEndOffset) {
    const r = log.read(next, 1 << 20, { minOneBatch: true })
    if (r.bytes === 0) break
    for (const b of decodeBatches(Buffer.concat(r.records))) next = b.baseOffset + BigInt(b.lastOffsetDelta) + 1n
    out.push(...records(r.records))
  }
  return out
}
