/**
 * Small state files next to a partition's segments (recovery point, log start
 * offset, clean-shutdown marker): one line `<crc32c hex> <json>`, replaced
 * atomically (write a temp file, fsync, rename, fsync the directory). A file
 * that is missing, torn or fails its CRC reads as absent, which is always safe:
 * recovery then scans more than it needs to.
 */
import fs from 'node:fs'
import fsp from 'node:fs/promises'
import path from 'node:path'
import { crc32c } from '../../protocol/records/crc32c.ts'

export function encodeCheckpoint(data: unknown): Buffer {
  const json = JSON.stringify(data)
  return Buffer.from(`${crc32c(Buffer.from(json)).toString(16).padStart(8, '0')} ${json}\n`)
}

export function decodeCheckpoint<T>(buf: Buffer): T | null {
  const text = buf.toString('utf8')
  const nl = text.indexOf('\n')
  if (nl < 10 || text[8] !== ' ') return null
  const json = text.slice(9, nl)
  if (crc32c(Buffer.from(json)).toString(16).padStart(8, '0') !== text.slice(0, 8)) return null
  try {
    return JSON.parse(json) as T
  } catch {
    return null
  }
}

export function readCheckpoint<T>(file: string): T | null {
  try {
    return decodeCheckpoint<T>(fs.readFileSync(file))
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null
    throw err
  }
}

/** fsyncs a directory so a rename or unlink in it is durable. */
export function syncDirSync(dir: string): void {
  const fd = fs.openSync(dir, 'r')
  try {
    fs.fsyncSync(fd)
  } finally {
    fs.closeSync(fd)
  }
}

export async function syncDir(dir: string): Promise<void> {
  const h = await fsp.open(dir, 'r')
  try {
    await h.sync()
  } finally {
    await h.close()
  }
}

/** Replaces `file` atomically; with `durable` the data and the rename are fsynced before returning. */
export function writeCheckpointSync(file: string, data: unknown, durable = true): void {
  const tmp = `${file}.tmp`
  const fd = fs.openSync(tmp, 'w', 0o644)
  try {
    fs.writeSync(fd, encodeCheckpoint(data))
    if (durable) fs.fdatasyncSync(fd)
  } finally {
    fs.closeSync(fd)
  }
  fs.renameSync(tmp, file)
  if (durable) syncDirSync(path.dirname(file))
}

export async function writeCheckpoint(file: string, data: unknown): Promise<void> {
  const tmp = `${file}.tmp`
  const h = await fsp.open(tmp, 'w', 0o644)
  try {
    await h.writeFile(encodeCheckpoint(data))
    await h.datasync()
  } finally {
    await h.close()
  }
  await fsp.rename(tmp, file)
  await syncDir(path.dirname(file))
}
