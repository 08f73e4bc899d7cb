/**
 * The topic metadata log, `<dataDir>/__cluster_metadata/metadata.log`: an
 * append-only file of JSON lines, each `<crc32c hex> <json>\n`, fdatasync'ed on
 * every change and replayed on open. Replay stops at the first line that is
 * torn, fails its CRC or does not parse, and truncates the file there.
 * Topic state is only ever rebuilt by `replayMetadata`, the same path for
 * startup and live changes.
 */
import fs from 'node:fs'
import path from 'node:path'
import { crc32c } from '../../protocol/records/crc32c.ts'
import { syncDir, syncDirSync } from './checkpoint.ts'
import { type FsyncFn, fdatasync } from './group-commit.ts'

export const METADATA_DIR = '__cluster_metadata'
export const METADATA_FILE = 'metadata.log'

export type MetadataRecord =
  | { type: 'topic'; name: string; id: string; partitions: number; configs: Record<string, string>; createdMs: number }
  | { type: 'partitions'; name: string; count: number }
  | { type: 'config'; name: string; configs: Record<string, string> }
  | { type: 'delete'; name: string; id: string }

export interface TopicMeta {
  name: string
  /** Kafka UUID, 22 characters of URL-safe base64. */
  id: string
  partitions: number
  /** Only the configs set explicitly on the topic. */
  configs: Record<string, string>
  createdMs: number
}

/** Applies one record to the topic table. */
export function replayMetadata(topics: Map<string, TopicMeta>, rec: MetadataRecord): void {
  switch (rec.type) {
    case 'topic':
      topics.set(rec.name, {
        name: rec.name,
        id: rec.id,
        partitions: rec.partitions,
        configs: { ...rec.configs },
        createdMs: rec.createdMs,
      })
      return
    case 'partitions': {
      const t = topics.get(rec.name)
      if (t && rec.count > t.partitions) t.partitions = rec.count
      return
    }
    case 'config': {
      const t = topics.get(rec.name)
      if (t) t.configs = { ...rec.configs }
      return
    }
    case 'delete': {
      const t = topics.get(rec.name)
      if (t && t.id === rec.id) topics.delete(rec.name)
      return
    }
  }
}

function encodeLine(rec: MetadataRecord): Buffer {
  const json = JSON.stringify(rec)
  return Buffer.from(`${crc32c(Buffer.from(json)).toString(16).padStart(8, '0')} ${json}\n`)
}

function isRecord(v: unknown): v is MetadataRecord {
  if (typeof v !== 'object' || v === null) return false
  const r = v as Record<string, unknown>
  if (typeof r.name !== 'string') return false
  switch (r.type) {
    case 'topic':
      return typeof r.id === 'string' && Number.isInteger(r.partitions) && typeof r.configs === 'object' && r.configs !== null
    case 'partitions':
      return Number.isInteger(r.count)
    case 'config':
      return typeof r.configs === 'object' && r.configs !== null
    case 'delete':
      return typeof r.id === 'string'
    default:
      return false
  }
}

export class MetadataLog {
  readonly path: string
  #fd: number
  #size: number
  #fsync: FsyncFn
  #records: number

  private constructor(file: string, fd: number, size: number, records: number, fsync: FsyncFn) {
    this.path = file
    this.#fd = fd
    this.#size = size
    this.#records = records
    this.#fsync = fsync
  }

  /** Records appended or replayed since the file was last rewritten. */
  get recordCount(): number {
    return this.#records
  }

  /** Opens (creating) the log under `dataDir` and replays it into `topics`; a bad tail is cut with one log line. */
  static open(dataDir: string, topics: Map<string, TopicMeta>, log: (msg: string) => void, fsync: FsyncFn = fdatasync): MetadataLog {
    const dir = path.join(dataDir, METADATA_DIR)
    fs.mkdirSync(dir, { recursive: true })
    const file = path.join(dir, METADATA_FILE)
    fs.rmSync(`${file}.tmp`, { force: true })
    const fd = fs.openSync(file, fs.constants.O_RDWR | fs.constants.O_CREAT, 0o644)
    const data = fs.readFileSync(file)
    let pos = 0
    let count = 0
    let problem: string | null = null
    while (pos < data.length) {
      const nl = data.indexOf(0x0a, pos)
      if (nl < 0) {
        problem = 'torn last line'
        break
      }
      const line = data.toString('utf8', pos, nl)
      const json = line.slice(9)
      if (line[8] !== ' ' || crc32c(Buffer.from(json)).toString(16).padStart(8, '0') !== line.slice(0, 8)) {
        problem = 'CRC mismatch'
        break
      }
      let rec: unknown
      try {
        rec = JSON.parse(json)
      } catch {
        problem = 'unparsable record'
        break
      }
      if (!isRecord(rec)) {
        problem = 'unknown record'
        break
      }
      replayMetadata(topics, rec)
      count++
      pos = nl + 1
    }
    if (problem !== null) {
      log(`metadata log ${file}: ${problem} at byte ${pos}; truncated ${data.length - pos} bytes after ${count} records`)
      fs.ftruncateSync(fd, pos)
      fs.fdatasyncSync(fd)
    }
    return new MetadataLog(file, fd, pos, count, fsync)
  }

  /** Appends a record and resolves once it is on disk. */
  async append(rec: MetadataRecord): Promise<void> {
    const line = encodeLine(rec)
    const at = this.#size
    this.#size += line.length
    let done = 0
    while (done < line.length) done += fs.writeSync(this.#fd, line, done, line.length - done, at + done)
    this.#records++
    await this.#fsync(this.#fd)
  }

  /** Replaces the file with one record per live topic (a snapshot), atomically. */
  rewrite(topics: Iterable<TopicMeta>): void {
    const tmp = `${this.path}.tmp`
    const lines = [...topics].map((t) =>
      encodeLine({ type: 'topic', name: t.name, id: t.id, partitions: t.partitions, configs: t.configs, createdMs: t.createdMs }),
    )
    const buf = Buffer.concat(lines)
    const fd = fs.openSync(tmp, 'w', 0o644)
    try {
      fs.writeSync(fd, buf)
      fs.fdatasyncSync(fd)
    } finally {
      fs.closeSync(fd)
    }
    fs.renameSync(tmp, this.path)
    syncDirSync(path.dirname(this.path))
    fs.closeSync(this.#fd)
    this.#fd = fs.openSync(this.path, fs.constants.O_RDWR)
    this.#size = buf.length
    this.#records = lines.length
  }

  async close(): Promise<void> {
    if (this.#fd < 0) return
    await syncDir(path.dirname(this.path))
    fs.closeSync(this.#fd)
    this.#fd = -1
  }
}
