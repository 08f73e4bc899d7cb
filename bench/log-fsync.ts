/**
 * Durable-append throughput: how close does PartitionLog's group commit get to
 * what the disk can do with write + fdatasync?
 *
 *   node --import tsx bench/log-fsync.ts     (BENCH_SECONDS=4 per case, in BENCH_REPS=5 interleaved slices)
 *
 * (a) the disk alone: sequential write(n) + fdatasync, n = 16 KiB … 1 MiB, one
 *     file in a temp dir next to os.tmpdir() (override with BENCH_DIR);
 * (b) PartitionLog.append + await flush() ('fsync' mode) with 1, 4, 16 writers,
 *     each appending 64 KiB batches: on one partition, and on one partition each
 *     sharing a FlushScheduler (how LogManager runs them).
 * Ratios compare (b) with (a) at the same bytes per fdatasync a full round
 * would carry (writers × 64 KiB, capped at 1 MiB), and with (a)'s best.
 * (c) CPU cost of the hot paths without fsync ('os' mode): append per call,
 *     and a 1 MiB read of small batches from the page cache.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { FlushScheduler } from '../src/broker/log/group-commit.ts'
import { DEFAULT_LOG_CONFIG } from '../src/broker/log/log-config.ts'
import { PartitionLog } from '../src/broker/log/partition-log.ts'
import { encodeBatch } from '../src/protocol/records/batch.ts'
import { systemClock } from '../src/util/clock.ts'

const SECONDS = Number(process.env.BENCH_SECONDS ?? 4)
const root = fs.mkdtempSync(path.join(process.env.BENCH_DIR ?? os.tmpdir(), 'cohort-bench-log-'))
const KiB = 1024
const MiB = 1024 * KiB

interface Rate {
  mbps: number
  syncsPerSec: number
  bytesPerSync: number
}

function fsType(dir: string): string {
  try {
    let best = { mount: '', type: '?', dev: '?' }
    for (const line of fs.readFileSync('/proc/mounts', 'utf8').split('\n')) {
      const [dev, mount, type] = line.split(' ')
      if (mount && type && dev && dir.startsWith(mount) && mount.length >= best.mount.length) best = { mount, type, dev }
    }
    return `${best.type} on ${best.dev} (${best.mount})`
  } catch {
    return 'unknown'
  }
}

function rawDisk(size: number, ms: number): Rate {
  const file = path.join(root, `raw-${size}`)
  const fd = fs.openSync(file, 'w')
  const buf = Buffer.alloc(size, 0x5a)
  let bytes = 0
  let syncs = 0
  const start = performance.now()
  while (performance.now() - start < ms) {
    fs.writeSync(fd, buf, 0, size, bytes)
    fs.fdatasyncSync(fd)
    bytes += size
    syncs++
  }
  const secs = (performance.now() - start) / 1000
  fs.closeSync(fd)
  fs.rmSync(file)
  return { mbps: bytes / MiB / secs, syncsPerSec: syncs / secs, bytesPerSync: size }
}

function batch64k(): Buffer {
  const value = Buffer.alloc(1000, 0x61)
  // 65 records of ~1 KiB: a batch of about 64 KiB.
  return encodeBatch({ records: Array.from({ length: 65 }, () => ({ value, timestamp: Date.now() })) })
}

async function groupCommit(writers: number, partitions: number, ms: number): Promise<Rate> {
  let syncs = 0
  const scheduler = new FlushScheduler({
    mode: 'fsync',
    fsync: (fd) => {
      syncs++
      return new Promise((resolve, reject) => fs.fdatasync(fd, (err) => (err ? reject(err) : resolve())))
    },
  })
  const config = { ...DEFAULT_LOG_CONFIG, 'segment.bytes': 512 * MiB }
  const logs: PartitionLog[] = []
  for (let i = 0; i < partitions; i++) {
    logs.push(await PartitionLog.open(fs.mkdtempSync(path.join(root, 'p-')), config, { clock: systemClock, scheduler, log: () => {} }))
  }
  const template = batch64k()
  let bytes = 0
  const start = performance.now()
  await Promise.all(
    Array.from({ length: writers }, async (_, w) => {
      const log = logs[w % logs.length] as PartitionLog
      const buf = Buffer.from(template) // the log patches offsets into it
      while (performance.now() - start < ms) {
        log.append(buf)
        bytes += buf.length
        await log.flush()
      }
    }),
  )
  const secs = (performance.now() - start) / 1000
  const rounds = scheduler.stats.rounds
  for (const l of logs) {
    await l.close()
    fs.rmSync(l.dir, { recursive: true, force: true })
  }
  return { mbps: bytes / MiB / secs, syncsPerSec: syncs / secs, bytesPerSync: rounds > 0 ? bytes / rounds : 0 }
}

const fmt = (n: number, d = 1) => n.toFixed(d).padStart(9)

async function hotPaths(): Promise<void> {
  const log = await PartitionLog.open(
    fs.mkdtempSync(path.join(root, 'hot-')),
    { ...DEFAULT_LOG_CONFIG, 'segment.bytes': 512 * MiB },
    {
      clock: systemClock,
      flushMode: 'os',
      log: () => {},
    },
  )
  console.log('')
  console.log("(c) hot paths, 'os' mode (page cache only), best of 3")
  console.log('   batch bytes   appends/s   µs/append   1 MiB read µs')
  for (const [records, valueBytes] of [
    [1, 80],
    [10, 80],
    [100, 150],
  ] as const) {
    const buf = encodeBatch({
      records: Array.from({ length: records }, () => ({ value: Buffer.alloc(valueBytes, 0x62), timestamp: Date.now() })),
    })
    const n = Math.floor((64 * MiB) / buf.length)
    const first = log.logEndOffset
    let bestAppend = Number.POSITIVE_INFINITY
    let bestRead = Number.POSITIVE_INFINITY
    for (let rep = 0; rep < 3; rep++) {
      let t = performance.now()
      for (let i = 0; i < n / 3; i++) log.append(buf)
      bestAppend = Math.min(bestAppend, (performance.now() - t) / Math.floor(n / 3))
      // A consumer reading from the first offset: 1 MiB fetches, each starting after the previous one.
      t = performance.now()
      let reads = 0
      for (let o = first; reads < 32 && o < log.logEndOffset; reads++) {
        const r = log.read(o, MiB, { minOneBatch: true }).records[0] as Buffer
        let at = 0
        let last = 0
        while (at < r.length) {
          last = at
          at += r.readInt32BE(at + 8) + 12
        }
        o = r.readBigInt64BE(last) + BigInt(r.readInt32BE(last + 23)) + 1n
      }
      bestRead = Math.min(bestRead, (performance.now() - t) / reads)
    }
    console.log(
      `${String(buf.length).padStart(14)} ${fmt(1000 / bestAppend, 0).padStart(11)} ${fmt(bestAppend * 1000, 2).padStart(11)} ${fmt(bestRead * 1000, 0).padStart(15)}`,
    )
  }
  await log.close()
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2
}
const RAW_SIZES = [16 * KiB, 64 * KiB, 256 * KiB, 1 * MiB]
const GC_CASES: { writers: number; partitions: number }[] = [
  { writers: 1, partitions: 1 },
  { writers: 4, partitions: 1 },
  { writers: 16, partitions: 1 },
  { writers: 4, partitions: 4 },
  { writers: 16, partitions: 16 },
]

async function main(): Promise<void> {
  const cpu = os.cpus()[0]?.model ?? 'unknown cpu'
  const reps = Number(process.env.BENCH_REPS ?? 5)
  const slice = (SECONDS * 1000) / reps
  console.log(`# log-fsync benchmark  ${new Date().toISOString()}`)
  console.log(
    `# node ${process.version}, ${os.type()} ${os.release()}, ${os.cpus().length} x ${cpu}, ${Math.round(os.totalmem() / 2 ** 30)} GiB`,
  )
  console.log(`# dir ${root}: ${fsType(root)}; UV_THREADPOOL_SIZE=${process.env.UV_THREADPOOL_SIZE ?? '4 (default)'}`)
  console.log(
    `# ${reps} interleaved repetitions of ${Math.round(slice)} ms per case; medians shown; ratios are medians of per-repetition ratios`,
  )
  const raw = new Map<number, Rate[]>(RAW_SIZES.map((s) => [s, []]))
  const gc = GC_CASES.map(() => [] as Rate[])
  const ratioSame = GC_CASES.map(() => [] as number[])
  const ratioBest = GC_CASES.map(() => [] as number[])
  for (let r = 0; r < reps; r++) {
    for (const size of RAW_SIZES) raw.get(size)?.push(rawDisk(size, slice))
    const best = Math.max(...RAW_SIZES.map((s) => ((raw.get(s) as Rate[])[r] as Rate).mbps))
    for (const [i, c] of GC_CASES.entries()) {
      const res = await groupCommit(c.writers, c.partitions, slice)
      gc[i]?.push(res)
      // Compare with the raw rate at the bytes one full round carries, measured in this same repetition.
      const same = (raw.get(Math.min(c.writers * 64 * KiB, MiB)) as Rate[])[r] as Rate
      ratioSame[i]?.push(res.mbps / same.mbps)
      ratioBest[i]?.push(res.mbps / best)
    }
  }
  console.log('')
  console.log('(a) disk: sequential write + fdatasync')
  console.log('   write size      MB/s   fsyncs/s   (min–max MB/s)')
  for (const size of RAW_SIZES) {
    const rs = raw.get(size) as Rate[]
    const mb = rs.map((x) => x.mbps)
    console.log(
      `${`${size / KiB} KiB`.padStart(13)} ${fmt(median(mb))} ${fmt(median(rs.map((x) => x.syncsPerSec)), 0)}   (${Math.min(...mb).toFixed(0)}–${Math.max(...mb).toFixed(0)})`,
    )
  }
  console.log('')
  console.log('(b) PartitionLog append(64 KiB) + await flush(), fsync mode, one FlushScheduler')
  console.log('   writers  partitions      MB/s  fdatasync/s  KiB/round   vs (a) same bytes/fsync   vs (a) best')
  for (const [i, c] of GC_CASES.entries()) {
    const rs = gc[i] as Rate[]
    console.log(
      `${String(c.writers).padStart(10)} ${String(c.partitions).padStart(11)} ${fmt(median(rs.map((x) => x.mbps)))} ${fmt(
        median(rs.map((x) => x.syncsPerSec)),
        0,
      )}  ${fmt(median(rs.map((x) => x.bytesPerSync)) / KiB, 0)}   ${fmt(100 * median(ratioSame[i] as number[]), 0)}% (${Math.min(c.writers * 64, 1024)} KiB)       ${fmt(
        100 * median(ratioBest[i] as number[]),
        0,
      )}%`,
    )
  }
  await hotPaths()
}

main()
  .catch((err) => {
    console.error(err)
    process.exitCode = 1
  })
  .finally(() => fs.rmSync(root, { recursive: true, force: true }))
