/**
 * The records of `__consumer_offsets`, in Kafka's exact binary layout so that Kafka's own tools,
 * Burrow and KMinion can read Cohort's log (and Cohort can read theirs).
 *
 * A record's key starts with an int16 *key version* that doubles as the record type:
 *   0, 1  OffsetCommitKey   { group, topic, partition }     value OffsetCommitValue v0–v4
 *   2     GroupMetadataKey  { group }                       value GroupMetadataValue v0–v4
 *   3+    KIP-848 consumer-group and share-group records    (not used by Cohort; decoded as `unknown`)
 *   31744 Cohort's RebalanceHistoryKey { group, generation } value: one rebalance of the history (see below)
 * The value starts with its own int16 schema version. A null value is a tombstone.
 *
 * The rebalance history is Cohort's own record type, in the group's partition so that it is compacted and
 * deleted with the group's other records. Its key version lies far above Kafka's (which number theirs from 0
 * up, past 20 with KIP-848, share and streams groups): readers that only know Kafka's types skip it, as they
 * must skip KIP-848 records of a Kafka 4 cluster. Its value (version 0) is the entry as UTF-8 JSON.
 *
 * Schemas follow `group-coordinator/src/main/resources/common/message/{OffsetCommit,GroupMetadata}{Key,Value}.json`:
 * values are flexible (compact encodings and tagged fields) from v4. Cohort writes what Kafka ≥ 2.3 writes:
 * key v1 + OffsetCommitValue v3 (v1 when the commit carries an explicit expire timestamp), and key v2 +
 * GroupMetadataValue v3, which Burrow 1.2.1 also understands.
 */
import { MalformedError, Reader } from '../../protocol/primitives/reader.ts'
import { Writer } from '../../protocol/primitives/writer.ts'
import { decodeStruct, encodeStruct } from '../../protocol/schema/codec.ts'
import { t } from '../../protocol/schema/dsl.ts'
import type { RebalanceTrigger } from './classic-group.ts'
import { REBALANCE_TRIGGERS, type RebalanceHistoryEntry } from './history.ts'

// ---------------------------------------------------------------------------------------------
// Schemas (field names and version ranges as in Kafka's JSON definitions)

const OffsetCommitKeySchema = {
  group: t.string,
  topic: t.string,
  partition: t.int32,
}

const OffsetCommitValueSchema = {
  offset: t.int64,
  leaderEpoch: t.int32.v('3+').default(-1),
  metadata: t.string,
  commitTimestamp: t.int64,
  expireTimestamp: t.int64.v('1').default(-1n),
}

const GroupMetadataKeySchema = {
  group: t.string,
}

const RebalanceHistoryKeySchema = {
  group: t.string,
  generation: t.int32,
}

const GroupMetadataValueSchema = {
  protocolType: t.string,
  generation: t.int32,
  protocol: t.string.nullable('0+'),
  leader: t.string.nullable('0+'),
  currentStateTimestamp: t.int64.v('2+').default(-1n),
  members: t.array({
    memberId: t.string,
    groupInstanceId: t.string.v('3+').nullable('3+').default(null),
    clientId: t.string,
    clientHost: t.string,
    rebalanceTimeout: t.int32.v('1+').default(-1),
    sessionTimeout: t.int32,
    subscription: t.bytes,
    assignment: t.bytes,
  }),
}

const VALUE_FLEXIBLE_FROM = 4
const MAX_VALUE_VERSION = 4

/** Key versions (= record types) in `__consumer_offsets`. */
export const RecordType = {
  OFFSET_COMMIT_V0: 0,
  OFFSET_COMMIT: 1,
  GROUP_METADATA: 2,
  /** Cohort's own: one entry of a group's rebalance history. */
  REBALANCE_HISTORY: 0x7c00,
} as const

const REBALANCE_HISTORY_VALUE_VERSION = 0
const REBALANCE_TRIGGER_NAMES: ReadonlySet<RebalanceTrigger> = new Set(REBALANCE_TRIGGERS)

/** Value versions Cohort writes. */
export const OFFSET_COMMIT_VALUE_VERSION = 3
export const OFFSET_COMMIT_VALUE_VERSION_WITH_EXPIRE = 1
export const GROUP_METADATA_VALUE_VERSION = 3

// ---------------------------------------------------------------------------------------------
// Record model

export interface OffsetCommitValue {
  /** The committed offset: the next offset the group will read. */
  offset: bigint
  /** −1 when unknown (and always −1 in value versions < 3). */
  leaderEpoch: number
  metadata: string
  commitTimestamp: number
  /** −1 unless the commit carried an explicit retention (OffsetCommit v2–v4); only value v1 stores it. */
  expireTimestamp: number
}

export interface GroupMetadataMember {
  memberId: string
  groupInstanceId: string | null
  clientId: string
  clientHost: string
  /** −1 in value v0 (the session timeout served as rebalance timeout). */
  rebalanceTimeout: number
  sessionTimeout: number
  /** The member's metadata for the group's selected protocol. */
  subscription: Buffer
  assignment: Buffer
}

export interface GroupMetadataValue {
  /** "" for a group without protocol type (created by offset commits only, or freshly created). */
  protocolType: string
  generation: number
  protocol: string | null
  leader: string | null
  /** When the group entered its current state; −1 when unknown (value v0–v1). */
  currentStateTimestamp: number
  members: GroupMetadataMember[]
}

export interface OffsetCommitRecord {
  readonly type: 'offset-commit'
  readonly group: string
  readonly topic: string
  readonly partition: number
  /** null = tombstone (offset deleted or expired). */
  readonly value: OffsetCommitValue | null
  /** Value schema version to write; chosen by `encodeRecord` when absent. Set by `decodeRecord`. */
  readonly valueVersion?: number
}

export interface GroupMetadataRecord {
  readonly type: 'group-metadata'
  readonly group: string
  /** null = tombstone (group deleted). */
  readonly value: GroupMetadataValue | null
  readonly valueVersion?: number
}

/** One rebalance of a group's history, with the group's rebalance counts per trigger when it was written. */
export interface RebalanceHistoryValue {
  readonly entry: RebalanceHistoryEntry
  readonly counts: Readonly<Partial<Record<RebalanceTrigger, number>>>
}

export interface RebalanceHistoryRecord {
  readonly type: 'rebalance-history'
  readonly group: string
  readonly generation: number
  /** null = tombstone (the entry fell out of the bounded history, or the group was deleted). */
  readonly value: RebalanceHistoryValue | null
}

/** A record whose key version Cohort does not model (KIP-848 / share groups); replay ignores it. */
export interface UnknownRecord {
  readonly type: 'unknown'
  readonly keyVersion: number
  readonly key: Buffer
  readonly value: Buffer | null
}

export type CoordinatorRecord = OffsetCommitRecord | GroupMetadataRecord | RebalanceHistoryRecord | UnknownRecord

// ---------------------------------------------------------------------------------------------
// Record constructors (the `newXRecord` / `newXTombstoneRecord` helpers of Kafka)

export function offsetCommitRecord(group: string, topic: string, partition: number, value: OffsetCommitValue): OffsetCommitRecord {
  return { type: 'offset-commit', group, topic, partition, value }
}

export function offsetCommitTombstone(group: string, topic: string, partition: number): OffsetCommitRecord {
  return { type: 'offset-commit', group, topic, partition, value: null }
}

export function groupMetadataRecord(group: string, value: GroupMetadataValue): GroupMetadataRecord {
  return { type: 'group-metadata', group, value }
}

export function groupMetadataTombstone(group: string): GroupMetadataRecord {
  return { type: 'group-metadata', group, value: null }
}

export function rebalanceHistoryRecord(group: string, value: RebalanceHistoryValue): RebalanceHistoryRecord {
  return { type: 'rebalance-history', group, generation: value.entry.generation, value }
}

export function rebalanceHistoryTombstone(group: string, generation: number): RebalanceHistoryRecord {
  return { type: 'rebalance-history', group, generation, value: null }
}

// ---------------------------------------------------------------------------------------------
// Encoding

export interface EncodedRecord {
  key: Buffer
  value: Buffer | null
}

function offsetValueVersion(rec: OffsetCommitRecord): number {
  if (rec.valueVersion !== undefined) return rec.valueVersion
  // Kafka: MetadataVersion.offsetCommitValueVersion(expireTimestampPresent) → 1 when an expire timestamp exists, else 3.
  return rec.value && rec.value.expireTimestamp >= 0 ? OFFSET_COMMIT_VALUE_VERSION_WITH_EXPIRE : OFFSET_COMMIT_VALUE_VERSION
}

function checkValueVersion(v: number): void {
  if (!Number.isInteger(v) || v < 0 || v > MAX_VALUE_VERSION) throw new RangeError(`unsupported value version ${v}`)
}

/** Encodes a record as Kafka would write it to `__consumer_offsets`. */
export function encodeRecord(rec: CoordinatorRecord): EncodedRecord {
  switch (rec.type) {
    case 'offset-commit': {
      const kw = new Writer(64).int16(RecordType.OFFSET_COMMIT)
      encodeStruct(kw, OffsetCommitKeySchema, RecordType.OFFSET_COMMIT, false, rec)
      if (rec.value === null) return { key: kw.toBuffer(), value: null }
      const version = offsetValueVersion(rec)
      checkValueVersion(version)
      const v = rec.value
      const vw = new Writer(64).int16(version)
      encodeStruct(vw, OffsetCommitValueSchema, version, version >= VALUE_FLEXIBLE_FROM, {
        offset: v.offset,
        leaderEpoch: v.leaderEpoch,
        metadata: v.metadata,
        commitTimestamp: BigInt(v.commitTimestamp),
        expireTimestamp: BigInt(v.expireTimestamp),
      })
      return { key: kw.toBuffer(), value: vw.toBuffer() }
    }
    case 'group-metadata': {
      const kw = new Writer(32).int16(RecordType.GROUP_METADATA)
      encodeStruct(kw, GroupMetadataKeySchema, RecordType.GROUP_METADATA, false, rec)
      if (rec.value === null) return { key: kw.toBuffer(), value: null }
      const version = rec.valueVersion ?? GROUP_METADATA_VALUE_VERSION
      checkValueVersion(version)
      const v = rec.value
      const vw = new Writer(256).int16(version)
      encodeStruct(vw, GroupMetadataValueSchema, version, version >= VALUE_FLEXIBLE_FROM, {
        protocolType: v.protocolType,
        generation: v.generation,
        protocol: v.protocol,
        leader: v.leader,
        currentStateTimestamp: BigInt(v.currentStateTimestamp),
        members: v.members,
      })
      return { key: kw.toBuffer(), value: vw.toBuffer() }
    }
    case 'rebalance-history': {
      const kw = new Writer(32).int16(RecordType.REBALANCE_HISTORY)
      encodeStruct(kw, RebalanceHistoryKeySchema, 0, false, rec)
      if (rec.value === null) return { key: kw.toBuffer(), value: null }
      const json = Buffer.from(JSON.stringify({ entry: rec.value.entry, counts: rec.value.counts }), 'utf8')
      const vw = new Writer(json.length + 2).int16(REBALANCE_HISTORY_VALUE_VERSION).raw(json)
      return { key: kw.toBuffer(), value: vw.toBuffer() }
    }
    case 'unknown':
      return { key: rec.key, value: rec.value }
  }
}

// ---------------------------------------------------------------------------------------------
// Decoding

function finish(r: Reader, what: string): void {
  // Kafka ignores trailing bytes of a newer (tagged) value; for the fixed schemas here they mean corruption.
  if (r.remaining !== 0) throw new MalformedError(`${r.remaining} trailing bytes after ${what}`)
}

/** Copies a buffer so that a decoded record does not pin the (possibly large) buffer it was read from. */
function own(b: Buffer): Buffer {
  return Buffer.from(b)
}

/** Decodes a `__consumer_offsets` record. Unknown key versions come back as `{ type: 'unknown' }`. */
export function decodeRecord(key: Buffer, value: Buffer | null): CoordinatorRecord {
  const kr = new Reader(key)
  const keyVersion = kr.int16()
  switch (keyVersion) {
    case RecordType.OFFSET_COMMIT_V0:
    case RecordType.OFFSET_COMMIT: {
      const k = decodeStruct(kr, OffsetCommitKeySchema, keyVersion, false)
      finish(kr, 'OffsetCommitKey')
      if (value === null) return offsetCommitTombstone(k.group, k.topic, k.partition)
      const vr = new Reader(value)
      const version = vr.int16()
      checkValueVersion(version)
      const v = decodeStruct(vr, OffsetCommitValueSchema, version, version >= VALUE_FLEXIBLE_FROM)
      finish(vr, 'OffsetCommitValue')
      return {
        type: 'offset-commit',
        group: k.group,
        topic: k.topic,
        partition: k.partition,
        valueVersion: version,
        value: {
          offset: v.offset,
          leaderEpoch: v.leaderEpoch,
          metadata: v.metadata,
          commitTimestamp: Number(v.commitTimestamp),
          expireTimestamp: Number(v.expireTimestamp),
        },
      }
    }
    case RecordType.GROUP_METADATA: {
      const k = decodeStruct(kr, GroupMetadataKeySchema, keyVersion, false)
      finish(kr, 'GroupMetadataKey')
      if (value === null) return groupMetadataTombstone(k.group)
      const vr = new Reader(value)
      const version = vr.int16()
      checkValueVersion(version)
      const v = decodeStruct(vr, GroupMetadataValueSchema, version, version >= VALUE_FLEXIBLE_FROM)
      finish(vr, 'GroupMetadataValue')
      return {
        type: 'group-metadata',
        group: k.group,
        valueVersion: version,
        value: {
          protocolType: v.protocolType,
          generation: v.generation,
          protocol: v.protocol,
          leader: v.leader,
          currentStateTimestamp: Number(v.currentStateTimestamp),
          members: v.members.map((m) => ({
            memberId: m.memberId,
            groupInstanceId: m.groupInstanceId,
            clientId: m.clientId,
            clientHost: m.clientHost,
            rebalanceTimeout: m.rebalanceTimeout,
            sessionTimeout: m.sessionTimeout,
            subscription: own(m.subscription),
            assignment: own(m.assignment),
          })),
        },
      }
    }
    case RecordType.REBALANCE_HISTORY: {
      const k = readHistoryKey(kr)
      if (value === null) return rebalanceHistoryTombstone(k.group, k.generation)
      const vr = new Reader(value)
      const version = vr.int16()
      if (version !== REBALANCE_HISTORY_VALUE_VERSION) throw new MalformedError(`unsupported rebalance-history value version ${version}`)
      const parsed = parseHistoryValue(value.subarray(2))
      if (parsed.entry.generation !== k.generation) {
        throw new MalformedError(`rebalance-history value of generation ${parsed.entry.generation} under the key of ${k.generation}`)
      }
      return { type: 'rebalance-history', group: k.group, generation: k.generation, value: parsed }
    }
    default:
      return { type: 'unknown', keyVersion, key: own(key), value: value === null ? null : own(value) }
  }
}

/** A rebalance-history key after its key version. */
function readHistoryKey(kr: Reader): { group: string; generation: number } {
  const k = decodeStruct(kr, RebalanceHistoryKeySchema, 0, false)
  finish(kr, 'RebalanceHistoryKey')
  return { group: k.group, generation: k.generation }
}

/** The group and generation of a rebalance-history key, or null when the key is not one. */
export function decodeHistoryKey(key: Buffer): { group: string; generation: number } | null {
  try {
    const kr = new Reader(key)
    return kr.int16() === RecordType.REBALANCE_HISTORY ? readHistoryKey(kr) : null
  } catch {
    return null
  }
}

/**
 * Checks a history value field by field, as the coordinator and DescribeRebalanceHistory read it: a value that
 * does not fit is corruption (the record is skipped), never an entry that fails later when it is served.
 */
function parseHistoryValue(json: Buffer): RebalanceHistoryValue {
  let v: unknown
  try {
    v = JSON.parse(json.toString('utf8'))
  } catch (err) {
    throw new MalformedError(`rebalance-history value is not JSON: ${(err as Error).message}`)
  }
  const bad = (what: string): never => {
    throw new MalformedError(`rebalance-history value: ${what}`)
  }
  type Obj = Record<string, unknown>
  const obj = (x: unknown, what: string): Obj =>
    typeof x === 'object' && x !== null && !Array.isArray(x) ? (x as Obj) : bad(`${what} is not an object`)
  const str = (o: Obj, f: string, nullable = false): void => {
    if (!(typeof o[f] === 'string' || (nullable && o[f] === null))) bad(`${f} is not a string${nullable ? ' or null' : ''}`)
  }
  const int = (o: Obj, f: string, nullable = false): void => {
    if (!(Number.isSafeInteger(o[f]) || (nullable && o[f] === null))) bad(`${f} is not an integer${nullable ? ' or null' : ''}`)
  }
  const bool = (o: Obj, f: string): void => {
    if (typeof o[f] !== 'boolean') bad(`${f} is not a boolean`)
  }
  const partitions = (o: Obj, f: string): void => {
    const l = o[f]
    if (l === null) return
    if (!Array.isArray(l)) bad(`${f} is not a list or null`)
    for (const tp of l as unknown[]) {
      const t = obj(tp, `an entry of ${f}`)
      str(t, 'topic')
      // Any int32, as the consumer protocol's decoder takes them from a leader's assignment.
      if (!Array.isArray(t.partitions) || !t.partitions.every((p) => Number.isInteger(p) && p >= -0x80000000 && p <= 0x7fffffff))
        bad(`${f} has a bad partition list`)
    }
  }
  const o = obj(v, 'the value')
  const e = obj(o.entry, 'entry')
  int(e, 'generation')
  if (!REBALANCE_TRIGGER_NAMES.has(e.trigger as RebalanceTrigger)) bad(`trigger ${JSON.stringify(e.trigger)} is not one Cohort knows`)
  str(e, 'reason')
  str(e, 'protocolType', true)
  str(e, 'protocolName', true)
  for (const f of ['startedAt', 'endedAt']) int(e, f)
  for (const f of ['stableAt', 'durationMs', 'maxWaitMs', 'partitionsMoved']) int(e, f, true)
  for (const f of ['membersBefore', 'membersAfter']) {
    const l = e[f]
    if (!Array.isArray(l) || !l.every((x) => typeof x === 'string')) bad(`${f} is not a list of member ids`)
  }
  if (!Array.isArray(e.members)) bad('members is not a list')
  for (const x of e.members as unknown[]) {
    const m = obj(x, 'a member')
    for (const f of ['memberId', 'clientId', 'clientHost']) str(m, f)
    str(m, 'groupInstanceId', true)
    for (const f of ['inPreviousGeneration', 'inNewGeneration']) bool(m, f)
    for (const f of ['joinedAt', 'waitStartedAt', 'syncedAt', 'waitMs']) int(m, f, true)
    partitions(m, 'revoked')
    partitions(m, 'assigned')
  }
  const counts: Partial<Record<RebalanceTrigger, number>> = {}
  for (const [trigger, n] of Object.entries(obj(o.counts ?? {}, 'counts'))) {
    if (!REBALANCE_TRIGGER_NAMES.has(trigger as RebalanceTrigger))
      bad(`counts has trigger ${JSON.stringify(trigger)}, not one Cohort knows`)
    if (!Number.isSafeInteger(n) || (n as number) < 0) bad('a count is not a non-negative integer')
    counts[trigger as RebalanceTrigger] = n as number
  }
  return { entry: e as unknown as RebalanceHistoryEntry, counts }
}

// ---------------------------------------------------------------------------------------------
// Partitioning

/** Java's `String.hashCode()`: s[0]·31^(n−1) + … + s[n−1] over UTF-16 code units, in int32 arithmetic. */
export function javaStringHashCode(s: string): number {
  let h = 0
  for (let i = 0; i < s.length; i++) h = (Math.imul(h, 31) + s.charCodeAt(i)) | 0
  return h
}

/** Kafka's `Utils.abs`: |n|, with Integer.MIN_VALUE mapped to 0. */
function kafkaAbs(n: number): number {
  return n === -2147483648 ? 0 : Math.abs(n)
}

/** The `__consumer_offsets` partition that holds a group: `Utils.abs(groupId.hashCode()) % numPartitions`. */
export function partitionFor(groupId: string, numPartitions: number): number {
  if (!Number.isInteger(numPartitions) || numPartitions <= 0)
    throw new RangeError(`numPartitions must be a positive integer, got ${numPartitions}`)
  return kafkaAbs(javaStringHashCode(groupId)) % numPartitions
}
