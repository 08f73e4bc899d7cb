/**
 * The seams of the group member: what it asks of the coordinator (`GroupTransport`), of the
 * cluster's metadata (`MetadataSource`), of the fetching side (`AssignmentSink`), and what it tells
 * the application (`RebalanceListener`, `Logger`). Each is an interface so the member can be tested
 * against in-memory fakes on a manual clock.
 */
import type { TopicPartition } from '../assignors/types.ts'

export type { RebalanceProtocol, TopicPartition } from '../assignors/types.ts'

// ---- application-facing -----------------------------------------------------------------------

/**
 * Called around ownership changes. Every callback is awaited before the consumer moves on, and
 * never runs while the application is still processing a delivered message or batch (the same
 * guarantee Java gives by calling them inside poll()).
 */
export interface RebalanceListener {
  /**
   * Partitions newly given to this member. Positions are looked up (committed offset, else
   * `autoOffsetReset`) after this returns, so a `seek` made here wins. With the cooperative protocol
   * it is called after every rebalance, possibly with an empty list.
   */
  onAssigned?(partitions: TopicPartition[]): void | Promise<void>
  /**
   * Partitions about to be given up cleanly. They are still owned while this runs: fetching has
   * stopped, and a `commit()` of them succeeds. EAGER calls it with everything before each rejoin;
   * COOPERATIVE only with the partitions the new assignment moved away.
   */
  onRevoked?(partitions: TopicPartition[]): void | Promise<void>
  /**
   * Partitions whose ownership already ended without a clean revoke (session timeout, fenced by the
   * coordinator, UNKNOWN_MEMBER_ID / ILLEGAL_GENERATION, processing exceeded max.poll.interval.ms).
   * Another member may own them already, so committing them is refused. When absent, `onRevoked`
   * is called instead, as in Java and librdkafka.
   */
  onLost?(partitions: TopicPartition[]): void | Promise<void>
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error'

/** One call per log line; `fields` carries structured context (group, member, generation, why). */
export type Logger = (level: LogLevel, message: string, fields: Readonly<Record<string, string | number | null>>) => void

// ---- coordinator RPCs -------------------------------------------------------------------------

export interface JoinGroupArgs {
  groupId: string
  memberId: string
  groupInstanceId: string | null
  sessionTimeoutMs: number
  rebalanceTimeoutMs: number
  protocols: { name: string; metadata: Buffer }[]
  reason: string
}

export interface JoinGroupResult {
  errorCode: number
  generationId: number
  protocolName: string | null
  leader: string
  skipAssignment: boolean
  memberId: string
  members: { memberId: string; groupInstanceId: string | null; metadata: Buffer }[]
}

export interface SyncGroupArgs {
  groupId: string
  generationId: number
  memberId: string
  groupInstanceId: string | null
  protocolName: string | null
  assignments: { memberId: string; assignment: Buffer }[]
}

export interface SyncGroupResult {
  errorCode: number
  assignment: Buffer
}

export interface MemberIdentity {
  groupId: string
  generationId: number
  memberId: string
  groupInstanceId: string | null
}

export interface OffsetToCommit extends TopicPartition {
  /** The next offset to read (last processed + 1). */
  offset: bigint
  metadata?: string | null
  leaderEpoch?: number
}

export interface CommittedOffset extends TopicPartition {
  /** −1 when nothing is committed. */
  offset: bigint
  metadata: string | null
  leaderEpoch: number
  errorCode: number
}

export interface OffsetFetchResult {
  /** Group-level error (v2+), NONE otherwise. */
  errorCode: number
  partitions: CommittedOffset[]
}

/**
 * The classic group RPCs, each sent to the group's coordinator. Implementations find the
 * coordinator themselves; `coordinatorDead` makes them look it up again on the next call.
 * Error codes come back in the results; a transport failure (connection lost, request timeout)
 * rejects.
 */
export interface GroupTransport {
  /**
   * Finds the coordinator and connects, so that a JoinGroup sent next is parked at once (the
   * member does not check its session while a join is parked, but does while this runs).
   */
  connect(): Promise<void>
  joinGroup(args: JoinGroupArgs): Promise<JoinGroupResult>
  syncGroup(args: SyncGroupArgs, rebalanceTimeoutMs: number): Promise<SyncGroupResult>
  heartbeat(identity: MemberIdentity): Promise<number>
  leaveGroup(args: { groupId: string; memberId: string; groupInstanceId: string | null; reason: string }): Promise<number>
  offsetCommit(
    identity: MemberIdentity,
    offsets: readonly OffsetToCommit[],
  ): Promise<{ topic: string; partition: number; errorCode: number }[]>
  offsetFetch(groupId: string, partitions: readonly TopicPartition[], requireStable: boolean): Promise<OffsetFetchResult>
  /** Forget the coordinator (NOT_COORDINATOR, COORDINATOR_NOT_AVAILABLE, a lost connection). */
  coordinatorDead(why: string): void
  close(): Promise<void>
}

// ---- metadata ---------------------------------------------------------------------------------

export interface MetadataSource {
  /** Partition counts of the topics that exist (missing ones are left out), from fresh metadata. */
  partitionCounts(topics: readonly string[]): Promise<Map<string, number>>
  /** Names of the non-internal topics matching `pattern`. */
  matchingTopics(pattern: RegExp): Promise<string[]>
}

// ---- the fetching side ------------------------------------------------------------------------

/**
 * How the group hands ownership to the fetching side (franz-go's "the group code never fetches").
 * `hold` serialises rebalance work with the application's processing: it resolves once nothing
 * delivered is being processed, and no more is delivered until `release` is called.
 */
export interface AssignmentSink {
  hold(why: string): Promise<() => void>
  /** Start tracking partitions; nothing is fetched until `ready`. */
  assign(partitions: readonly TopicPartition[], why: string): void
  /** The listener's onAssigned has run: look up positions (unless seeked) and start fetching. */
  ready(partitions: readonly TopicPartition[]): void
  /** Stop fetching and drop buffered records (after a clean revoke). */
  revoke(partitions: readonly TopicPartition[], why: string): void
  /** Stop fetching and drop buffered records at once (ownership already ended). */
  lose(partitions: readonly TopicPartition[], why: string): void
  /** Consumed positions of these partitions (those that have one), for auto-commit. */
  positions(partitions: readonly TopicPartition[]): OffsetToCommit[]
  /** An error for the application (listener failure, fatal group error). */
  error(err: Error, fatal: boolean): void
}
