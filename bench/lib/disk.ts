/**
 * The disk's own durable-write rate: append `chunk` bytes, fdatasync, repeat,
 * for `durationMs`, to a fresh file in the directory under test (so the file
 * grows as a log segment does and each fdatasync also commits the new size).
 * This is the ceiling for acks=all with log.flush.mode=fsync.
 */
import fs from 'node:fs'
import path from 'node:path'

export interface DiskResult {
  chunk: number
  seconds: number
  bytes: number
  syncs: number
  /** 10^6 bytes per second. */
  mbps: number
  avgSyncMs: number
}

export function measureFdatasync(dir: string, chunk: number, durationMs: number): DiskResult {
  const file = path.join(dir, `fdatasync-probe-${chunk}`)
  const buf = Buffer.alloc(chunk, 0x61)
  const fd = fs.openSync(file, 'w')
  let bytes = 0
  let syncs = 0
  let syncNs = 0n
  const t0 = performance.now()
  try {
    while (performance.now() - t0 < durationMs) {
      let done = 0
      while (done < chunk) done += fs.writeSync(fd, buf, done, chunk - done, bytes + done)
      const s = process.hrtime.bigint()
      fs.fdatasyncSync(fd)
      syncNs += process.hrtime.bigint() - s
      bytes += chunk
      syncs++
    }
  } finally {
    fs.closeSync(fd)
    fs.rmSync(file, { force: true })
  }
  const seconds = (performance.now() - t0) / 1000
  return { chunk, seconds, bytes, syncs, mbps: bytes / seconds / 1e6, avgSyncMs: Number(syncNs) / 1e6 / syncs }
}
