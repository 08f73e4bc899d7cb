/**
 * The sticky assignors' userData bytes (big-endian, Kafka's non-flexible `Struct` encoding).
 *
 * `sticky` — Java `StickyAssignor` "ConsumerUserData"; librdkafka writes the same bytes under
 * `cooperative-sticky`:
 *   V0: previous_assignment [topic STRING (int16 length + UTF-8), partitions [INT32]]
 *   V1: V0 + generation INT32
 * Java writes V1 and reads V1, then V0 if V1 fails; bytes neither can parse count as "no previous
 * assignment, generation -1". An absent or empty userData means "no previous assignment, no generation".
 *
 * `cooperative-sticky` — Java `CooperativeStickyAssignor`: V0 = generation INT32 (the owned partitions
 * travel in the Subscription's own `owned_partitions` field).
 */
import { javaHashMapOrder } from './java-hash.ts'
import type { TopicPartition } from './types.ts'

/** What a sticky member reports about its previous assignment (Java `AbstractStickyAssignor.MemberData`). */
export interface MemberData {
  partitions: TopicPartition[]
  /** null when the member sent no generation (Java `Optional.empty()`). */
  generation: number | null
}

/**
 * Encodes Java's StickyAssignor userData: V1 when `generation` is a number, V0 when it is null. Partitions
 * are grouped by topic the way Java's `CollectionUtils.groupPartitionsByTopic` does (`HashMap.computeIfAbsent`,
 * so topics come out in that HashMap's order; partitions keep their order), so the bytes match Java's.
 */
export function encodeStickyUserData(partitions: readonly TopicPartition[], generation: number | null): Buffer {
  const byTopic = new Map<string, number[]>()
  for (const tp of partitions) {
    let list = byTopic.get(tp.topic)
    if (list === undefined) byTopic.set(tp.topic, (list = []))
    list.push(tp.partition)
  }
  // Java calls computeIfAbsent once per partition, and it checks for a resize even when the topic is known.
  const topics = javaHashMapOrder(
    partitions.map((tp) => tp.topic),
    'computeIfAbsent',
  )
  let size = 4 + (generation === null ? 0 : 4)
  for (const t of topics) size += 2 + Buffer.byteLength(t) + 4 + 4 * byTopic.get(t)!.length
  const buf = Buffer.alloc(size)
  let off = buf.writeInt32BE(topics.length, 0)
  for (const t of topics) {
    const len = Buffer.byteLength(t)
    if (len > 0x7fff) throw new RangeError(`topic name of ${len} bytes is longer than a Kafka STRING`)
    off = buf.writeInt16BE(len, off)
    off += buf.write(t, off, 'utf8')
    const ps = byTopic.get(t)!
    off = buf.writeInt32BE(ps.length, off)
    for (const p of ps) off = buf.writeInt32BE(p, off)
  }
  if (generation !== null) buf.writeInt32BE(generation, off)
  return buf
}

class Underflow extends Error {}

function readPreviousAssignment(buf: Buffer, withGeneration: boolean): MemberData {
  let off = 0
  const need = (n: number): void => {
    if (off + n > buf.length) throw new Underflow()
  }
  need(4)
  const topicCount = buf.readInt32BE(off)
  off += 4
  // Type.ArrayOf: a negative size or one larger than the bytes left is a SchemaException.
  if (topicCount < 0 || topicCount > buf.length - off) throw new Underflow()
  const partitions: TopicPartition[] = []
  for (let i = 0; i < topicCount; i++) {
    need(2)
    const len = buf.readInt16BE(off)
    off += 2
    if (len < 0) throw new Underflow()
    need(len)
    const topic = buf.toString('utf8', off, off + len)
    off += len
    need(4)
    const n = buf.readInt32BE(off)
    off += 4
    if (n < 0 || n > buf.length - off) throw new Underflow()
    need(4 * n)
    for (let j = 0; j < n; j++, off += 4) partitions.push({ topic, partition: buf.readInt32BE(off) })
  }
  if (!withGeneration) return { partitions, generation: null }
  need(4)
  return { partitions, generation: buf.readInt32BE(off) }
}

/** Decodes StickyAssignor userData the way Java's `StickyAssignor.memberData` does. Never throws. */
export function decodeStickyUserData(userData: Buffer | null): MemberData {
  if (userData === null || userData.length === 0) return { partitions: [], generation: null }
  try {
    return readPreviousAssignment(userData, true)
  } catch {
    try {
      return readPreviousAssignment(userData, false)
    } catch {
      return { partitions: [], generation: -1 }
    }
  }
}

/** CooperativeStickyAssignor userData: the generation as an INT32. */
export function encodeCooperativeUserData(generation: number): Buffer {
  const buf = Buffer.alloc(4)
  buf.writeInt32BE(generation, 0)
  return buf
}

/**
 * Decodes CooperativeStickyAssignor userData: null when absent (Java `Optional.empty()`), -1 when it cannot
 * be read (fewer than 4 bytes), else the leading INT32 (trailing bytes are ignored, as Java's Struct does).
 */
export function decodeCooperativeUserData(userData: Buffer | null): number | null {
  if (userData === null) return null
  return userData.length < 4 ? -1 : userData.readInt32BE(0)
}
