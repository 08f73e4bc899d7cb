/**
 * The embedded "consumer" protocol (protocol type `consumer`): the bytes members put in JoinGroup
 * `protocols[].metadata` (Subscription) and the leader puts in SyncGroup `assignments[].assignment`
 * (Assignment). The coordinator treats them as opaque except to learn a group's subscribed topics;
 * the CLI, the lag monitor and the client decode them.
 *
 * Layout (Kafka `ConsumerProtocolSubscription.json` / `ConsumerProtocolAssignment.json`), non-flexible, big-endian:
 *   Subscription v0: int16 version, [string topic], nullable bytes user_data
 *                v1: + owned_partitions [string topic, [int32 partition]]       (KIP-429)
 *                v2: + int32 generation_id (default −1)                          (KIP-792)
 *                v3: + nullable string rack_id                                   (KIP-881)
 *   Assignment v0–v3: int16 version, [string topic, [int32 partition]], nullable bytes user_data
 *
 * Like Kafka's `ConsumerProtocol`, a version newer than the newest known is read with the newest known
 * layout (new versions may only append fields). Decoding is lenient about *missing trailing* fields of
 * the version (some clients stop early); they take their defaults. A field cut off in the middle throws.
 */
import { MalformedError, Reader } from './primitives/reader.ts'
import { Writer } from './primitives/writer.ts'

export const CONSUMER_PROTOCOL_TYPE = 'consumer'
export const SUBSCRIPTION_MAX_VERSION = 3
export const ASSIGNMENT_MAX_VERSION = 3

export interface TopicPartitions {
  topic: string
  partitions: number[]
}

export interface Subscription {
  /** The version found on the wire (may exceed SUBSCRIPTION_MAX_VERSION). */
  version: number
  topics: string[]
  userData: Buffer | null
  ownedPartitions: TopicPartitions[]
  generationId: number
  rackId: string | null
}

export interface Assignment {
  version: number
  assignedPartitions: TopicPartitions[]
  userData: Buffer | null
}

// --- primitives ------------------------------------------------------------------------------

function writeString(w: Writer, s: string): void {
  w.int16(Buffer.byteLength(s)).utf8(s)
}

function writeNullableString(w: Writer, s: string | null): void {
  if (s === null) w.int16(-1)
  else writeString(w, s)
}

function writeNullableBytes(w: Writer, b: Buffer | null): void {
  if (b === null) w.int32(-1)
  else w.int32(b.length).raw(b)
}

function writeTopicPartitions(w: Writer, tps: readonly TopicPartitions[]): void {
  w.int32(tps.length)
  for (const tp of tps) {
    writeString(w, tp.topic)
    w.int32(tp.partitions.length)
    for (const p of tp.partitions) w.int32(p)
  }
}

function readString(r: Reader): string {
  const n = r.int16()
  if (n < 0) throw new MalformedError('non-nullable string is null')
  return r.utf8(n)
}

function readNullableString(r: Reader): string | null {
  const n = r.int16()
  return n < 0 ? null : r.utf8(n)
}

function readNullableBytes(r: Reader): Buffer | null {
  const n = r.int32()
  return n < 0 ? null : Buffer.from(r.bytes(n))
}

function readCount(r: Reader, minItemBytes: number): number {
  const n = r.int32()
  if (n < 0) return 0 // Kafka's non-nullable arrays read a null as empty
  if (n * minItemBytes > r.remaining) throw new MalformedError(`array length ${n} exceeds the ${r.remaining} bytes left`)
  return n
}

function readTopicPartitions(r: Reader): TopicPartitions[] {
  const n = readCount(r, 6)
  const out: TopicPartitions[] = new Array(n)
  for (let i = 0; i < n; i++) {
    const topic = readString(r)
    const m = readCount(r, 4)
    const partitions: number[] = new Array(m)
    for (let j = 0; j < m; j++) partitions[j] = r.int32()
    out[i] = { topic, partitions }
  }
  return out
}

// --- Subscription ----------------------------------------------------------------------------

export function encodeSubscription(
  s: { topics: readonly string[] } & Partial<Omit<Subscription, 'topics'>>,
  version = s.version ?? SUBSCRIPTION_MAX_VERSION,
): Buffer {
  if (version < 0) throw new RangeError(`unsupported subscription version ${version}`)
  const layout = Math.min(version, SUBSCRIPTION_MAX_VERSION)
  const w = new Writer(64).int16(version)
  w.int32(s.topics.length)
  for (const t of s.topics) writeString(w, t)
  writeNullableBytes(w, s.userData ?? null)
  if (layout >= 1) writeTopicPartitions(w, s.ownedPartitions ?? [])
  if (layout >= 2) w.int32(s.generationId ?? -1)
  if (layout >= 3) writeNullableString(w, s.rackId ?? null)
  return w.toBuffer()
}

export function decodeSubscription(buf: Buffer): Subscription {
  const r = new Reader(buf)
  const version = r.int16()
  if (version < 0) throw new MalformedError(`unsupported subscription version ${version}`)
  const layout = Math.min(version, SUBSCRIPTION_MAX_VERSION)
  const n = readCount(r, 2)
  const topics: string[] = new Array(n)
  for (let i = 0; i < n; i++) topics[i] = readString(r)
  const s: Subscription = { version, topics, userData: null, ownedPartitions: [], generationId: -1, rackId: null }
  if (r.remaining === 0) return s
  s.userData = readNullableBytes(r)
  if (layout < 1 || r.remaining === 0) return s
  s.ownedPartitions = readTopicPartitions(r)
  if (layout < 2 || r.remaining === 0) return s
  s.generationId = r.int32()
  if (layout < 3 || r.remaining === 0) return s
  s.rackId = readNullableString(r)
  return s
}

// --- Assignment ------------------------------------------------------------------------------

export function encodeAssignment(
  a: { assignedPartitions: readonly TopicPartitions[] } & Partial<Omit<Assignment, 'assignedPartitions'>>,
  version = a.version ?? 0,
): Buffer {
  if (version < 0) throw new RangeError(`unsupported assignment version ${version}`)
  const w = new Writer(64).int16(version)
  writeTopicPartitions(w, a.assignedPartitions)
  writeNullableBytes(w, a.userData ?? null)
  return w.toBuffer()
}

export function decodeAssignment(buf: Buffer): Assignment {
  const r = new Reader(buf)
  const version = r.int16()
  if (version < 0) throw new MalformedError(`unsupported assignment version ${version}`)
  const assignedPartitions = readTopicPartitions(r)
  const userData = r.remaining === 0 ? null : readNullableBytes(r)
  return { version, assignedPartitions, userData }
}

/**
 * The assignment the coordinator hands to a member of a `consumer` group that the leader gave nothing:
 * version 0, no partitions, null user data (10 bytes). Some clients cannot decode a zero-length assignment
 * (franz-go kfake `emptyConsumerAssignment`).
 */
export const EMPTY_CONSUMER_ASSIGNMENT: Buffer = encodeAssignment({ assignedPartitions: [], userData: null }, 0)

/** The topics a subscription names, or undefined when the bytes are not a consumer-protocol subscription. */
export function subscribedTopicsOf(metadata: Buffer): string[] | undefined {
  try {
    return decodeSubscription(metadata).topics
  } catch {
    return undefined
  }
}
