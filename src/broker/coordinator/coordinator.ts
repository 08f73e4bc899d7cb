/**
 * The classic-protocol group coordinator: a pure state machine on an injected clock and timer
 * (Kafka `GroupMetadataManager` + `OffsetMetadataManager`, classic-group parts).
 *
 * Contract with the broker:
 *  - Every handler returns `{ records, response }`. The broker appends `records` to `__consumer_offsets`,
 *    waits until they are durable, calls `replay(record)` for each (in log order), and only then sends the
 *    response. JoinGroup and SyncGroup responses are promises: they resolve when the request is answered,
 *    which may be much later (end of the join phase, the leader's SyncGroup, a timer).
 *  - Timers (`Timer`) fire closures that return records too; they go through the same append → replay path.
 *  - At startup the broker replays the whole log through `replay` and then calls `onLoaded()`.
 *
 * State: committed offsets are durable and change only in `replay`. A classic group is Kafka's "soft
 * state": membership, parked requests and timers change in handlers, as in Kafka; GroupMetadata records
 * are its persisted snapshot. Replaying one for a group this process is running applies what Kafka does
 * when the append completes (the leader's assignment is stored and the group becomes Stable); replaying
 * one for a group only known from the log rebuilds the group from it.
 */
import { randomUUID } from 'node:crypto'
import { CONSUMER_PROTOCOL_TYPE, EMPTY_CONSUMER_ASSIGNMENT } from '../../protocol/consumer-protocol.ts'
import { ErrorCode } from '../../protocol/errors.ts'
import type { Clock } from '../../util/clock.ts'
import {
  ClassicGroup,
  ClassicGroupMember,
  type GroupState,
  NO_ASSIGNMENT,
  type Protocol,
  type RebalanceTrigger,
  shapeJoinResponse,
} from './classic-group.ts'
import {
  applyAssignmentDiff,
  markSynced,
  memberEntry,
  type OwnedPartitions,
  type Ownership,
  ownedPartitions,
  type RebalanceHistoryEntry,
  type RebalanceMember,
  type RebalanceMemberEntry,
} from './history.ts'
import { type CommittedOffset, OffsetStore } from './offsets.ts'
import {
  type CoordinatorRecord,
  decodeHistoryKey,
  decodeRecord,
  type GroupMetadataValue,
  groupMetadataRecord,
  groupMetadataTombstone,
  offsetCommitRecord,
  offsetCommitTombstone,
  partitionFor,
  type RebalanceHistoryRecord,
  type RebalanceHistoryValue,
  RecordType,
  rebalanceHistoryRecord,
  rebalanceHistoryTombstone,
} from './records.ts'
import { type CoordinatorResult, Deferred, EMPTY_RESULT, type HandlerResult } from './result.ts'
import type { Timer } from './timer.ts'
import {
  type CoordinatorConfig,
  DEFAULT_COORDINATOR_CONFIG,
  type DeleteGroupsRequest,
  type DeleteGroupsResponse,
  type DescribeGroupsRequest,
  type DescribeGroupsResponse,
  type DescribeRebalanceHistoryRequest,
  type DescribeRebalanceHistoryResponse,
  type HeartbeatRequest,
  type HeartbeatResponse,
  type JoinGroupRequest,
  type JoinGroupResponse,
  type LeaveGroupRequest,
  type LeaveGroupResponse,
  type ListGroupsRequest,
  type ListGroupsResponse,
  type OffsetCommitRequest,
  type OffsetCommitResponse,
  type OffsetDeleteRequest,
  type OffsetDeleteResponse,
  type OffsetFetchRequest,
  type OffsetFetchResponse,
  type RequestContext,
  type SyncGroupRequest,
  type SyncGroupResponse,
} from './types.ts'

export interface GroupCoordinatorOptions {
  clock: Clock
  timer: Timer
  config?: Partial<CoordinatorConfig>
  /** Whether a topic-partition exists (OffsetCommit answers UNKNOWN_TOPIC_OR_PARTITION otherwise). Default: always. */
  topicExists?: (topic: string, partition: number) => boolean
  /** The UUID part of generated member ids. Default: crypto.randomUUID. */
  generateUuid?: () => string
  /** Informational messages (rebalances, removals). */
  log?: (msg: string) => void
}

export type { RebalanceHistoryEntry } from './history.ts'

export interface MemberSnapshot {
  memberId: string
  groupInstanceId: string | null
  clientId: string
  clientHost: string
  sessionTimeoutMs: number
  rebalanceTimeoutMs: number
  protocols: { name: string; metadata: Buffer }[]
  assignment: Buffer
  awaitingJoin: boolean
  awaitingSync: boolean
}

export interface GroupSnapshot {
  groupId: string
  state: GroupState
  generationId: number
  protocolType: string | null
  protocolName: string | null
  leaderId: string | null
  currentStateTimestamp: number | null
  members: MemberSnapshot[]
  pendingMembers: string[]
  pendingSyncMembers: string[]
  subscribedTopics: string[] | null
}

/** Bound on the rebalance history kept per group. */
export const HISTORY_LIMIT = 50

/** DescribeGroups authorized operations without an authorizer: READ (3), DELETE (6), DESCRIBE (8). */
const GROUP_AUTHORIZED_OPERATIONS = (1 << 3) | (1 << 6) | (1 << 8)
const AUTHORIZED_OPERATIONS_OMITTED = -2147483648

const heartbeatKey = (groupId: string, memberId: string) => `heartbeat-${groupId}-${memberId}`
const joinKey = (groupId: string) => `join-${groupId}`
const syncKey = (groupId: string) => `sync-${groupId}`

/** A JoinGroup as the join logic sees it, with version differences resolved. */
interface JoinInput {
  groupId: string
  memberId: string
  groupInstanceId: string | null
  sessionTimeoutMs: number
  rebalanceTimeoutMs: number
  protocolType: string
  protocols: Protocol[]
  reason: string
  version: number
  clientId: string
  clientHost: string
}

function joinError(errorCode: number, memberId: string): JoinGroupResponse {
  return {
    throttleTimeMs: 0,
    errorCode,
    generationId: -1,
    protocolType: null,
    protocolName: null,
    leader: '',
    skipAssignment: false,
    memberId,
    members: [],
  }
}

function syncError(errorCode: number): SyncGroupResponse {
  return { throttleTimeMs: 0, errorCode, protocolType: null, protocolName: null, assignment: NO_ASSIGNMENT }
}

function isProtocolInconsistent(requested: string | null, current: string | null): boolean {
  return requested !== null && current !== null && requested !== current
}

export class GroupCoordinator {
  readonly config: Readonly<CoordinatorConfig>
  readonly #clock: Clock
  readonly #timer: Timer
  readonly #topicExists: (topic: string, partition: number) => boolean
  readonly #uuid: () => string
  readonly #log: (msg: string) => void
  readonly #groups = new Map<string, ClassicGroup>()
  readonly #offsets = new OffsetStore()
  readonly #history = new Map<string, RebalanceHistoryEntry[]>()
  /** Completed rebalances per group and trigger (not bounded like the history); carried in the history records. */
  readonly #rebalanceCounts = new Map<string, Map<RebalanceTrigger, number>>()
  /** History entries changed since `takeHistoryRecords` last ran, with their group. */
  readonly #historyDirty = new Map<RebalanceHistoryEntry, string>()
  /**
   * Tombstones for entries that left the history (bounded history, deleted group) since then; those queued while
   * loading (the bound trimming what the log holds) go out with the first records after `onLoaded`.
   */
  #historyTombstones: RebalanceHistoryRecord[] = []
  /** Entries changed since written whose change waits for a later write (a member synced, others have not). */
  readonly #historyStale = new WeakSet<RebalanceHistoryEntry>()
  /** While loading: the counts of each group's last history record in log order (they are the group's). */
  readonly #countsAtLoad = new Map<string, RebalanceHistoryValue['counts']>()
  /** While loading: keys of history records that did not decode; their entries are rewritten or deleted once loaded. */
  readonly #skippedAtLoad = new Map<string, { group: string; generation: number }>()
  /** Set by `onLoaded`: from then on the in-memory history is the truth and history records replay as no-ops. */
  #loaded = false

  constructor(opts: GroupCoordinatorOptions) {
    this.config = Object.freeze({ ...DEFAULT_COORDINATOR_CONFIG, ...opts.config })
    this.#clock = opts.clock
    this.#timer = opts.timer
    this.#topicExists = opts.topicExists ?? (() => true)
    this.#uuid = opts.generateUuid ?? randomUUID
    this.#log = opts.log ?? (() => {})
  }

  /** The `__consumer_offsets` partition that holds a group. */
  partitionFor(groupId: string): number {
    return partitionFor(groupId, this.config.offsetsTopicPartitions)
  }

  // =============================================================================================
  // JoinGroup

  joinGroup(req: JoinGroupRequest, ctx: RequestContext): HandlerResult<Promise<JoinGroupResponse>> {
    const d = new Deferred<JoinGroupResponse>()
    const records = this.#join(req, ctx, d)
    return { records, response: d.promise }
  }

  #join(req: JoinGroupRequest, ctx: RequestContext, d: Deferred<JoinGroupResponse>): CoordinatorRecord[] {
    const version = ctx.version
    const fail = (errorCode: number, memberId: string): CoordinatorRecord[] => {
      d.resolve(shapeJoinResponse(joinError(errorCode, memberId), version))
      return []
    }
    if (req.groupId === '') return fail(ErrorCode.INVALID_GROUP_ID, req.memberId)
    if (req.sessionTimeoutMs < this.config.minSessionTimeoutMs || req.sessionTimeoutMs > this.config.maxSessionTimeoutMs) {
      return fail(ErrorCode.INVALID_SESSION_TIMEOUT, req.memberId)
    }
    const isUnknownMember = req.memberId === ''
    let group = this.#groups.get(req.groupId)
    const isNewGroup = group === undefined
    if (group === undefined) {
      // A group is created by a member without id; a member id for a missing group is unknown.
      if (!isUnknownMember) return fail(ErrorCode.UNKNOWN_MEMBER_ID, req.memberId)
      group = new ClassicGroup({ groupId: req.groupId, state: 'Empty', nowMs: this.#clock.now() })
      this.#groups.set(req.groupId, group)
    }
    group.live = true

    const input: JoinInput = {
      groupId: req.groupId,
      memberId: req.memberId,
      groupInstanceId: version >= 5 ? req.groupInstanceId : null,
      sessionTimeoutMs: req.sessionTimeoutMs,
      // v0 has no rebalance timeout: the session timeout serves as one.
      rebalanceTimeoutMs: version >= 1 ? req.rebalanceTimeoutMs : req.sessionTimeoutMs,
      protocolType: req.protocolType,
      protocols: req.protocols.map((p) => ({ name: p.name, metadata: Buffer.from(p.metadata) })),
      reason: (version >= 8 ? req.reason : null) ?? 'not provided',
      version,
      clientId: ctx.clientId,
      clientHost: ctx.clientHost,
    }

    let records: CoordinatorRecord[]
    if (!this.#acceptJoiningMember(group, input.memberId)) {
      group.remove(input.memberId)
      records = fail(ErrorCode.GROUP_MAX_SIZE_REACHED, '')
    } else if (isUnknownMember) {
      records = this.#joinNewMember(group, input, d)
    } else {
      records = this.#joinExistingMember(group, input, d)
    }

    if (isNewGroup && records.length === 0) {
      // Kafka commits a newly created group with an empty GroupMetadata record.
      records = [
        groupMetadataRecord(group.groupId, {
          protocolType: '',
          generation: 0,
          protocol: null,
          leader: null,
          currentStateTimestamp: group.currentStateTimestamp ?? -1,
          members: [],
        }),
      ]
    }
    return records
  }

  /** group.max.size (Kafka `acceptJoiningMember`). */
  #acceptJoiningMember(group: ClassicGroup, memberId: string): boolean {
    switch (group.state) {
      case 'Empty':
      case 'Dead':
        return true
      case 'PreparingRebalance':
        // Counting parked joins (not members) lets the last rejoining members of an oversized group be kicked out.
        return group.member(memberId)?.isAwaitingJoin === true || group.numMembersAwaitingJoin < this.config.maxGroupSize
      case 'CompletingRebalance':
      case 'Stable':
        return group.hasMember(memberId) || group.numMembers < this.config.maxGroupSize
    }
  }

  #joinNewMember(group: ClassicGroup, input: JoinInput, d: Deferred<JoinGroupResponse>): CoordinatorRecord[] {
    if (group.is('Dead')) {
      d.resolve(shapeJoinResponse(joinError(ErrorCode.COORDINATOR_NOT_AVAILABLE, ''), input.version))
      return []
    }
    if (!group.supportsProtocols(input.protocolType, input.protocols)) {
      d.resolve(shapeJoinResponse(joinError(ErrorCode.INCONSISTENT_GROUP_PROTOCOL, ''), input.version))
      return []
    }
    const newMemberId = `${input.groupInstanceId ?? input.clientId}-${this.#uuid()}`
    if (input.groupInstanceId !== null) {
      const existing = group.staticMemberId(input.groupInstanceId)
      if (existing !== undefined) return this.#replaceStaticMemberThenRebalanceOrCompleteJoin(group, input, existing, newMemberId, d)
      return this.#addMemberThenRebalanceOrCompleteJoin(group, input, newMemberId, d)
    }
    if (input.version >= 4) {
      // KIP-394: the member must come back with the id we give it; until then it is pending.
      group.addPendingMember(newMemberId)
      this.#timer.schedule(heartbeatKey(group.groupId, newMemberId), input.sessionTimeoutMs, () =>
        this.#expireHeartbeat(group.groupId, newMemberId),
      )
      d.resolve(shapeJoinResponse(joinError(ErrorCode.MEMBER_ID_REQUIRED, newMemberId), input.version))
      return []
    }
    return this.#addMemberThenRebalanceOrCompleteJoin(group, input, newMemberId, d)
  }

  #joinExistingMember(group: ClassicGroup, input: JoinInput, d: Deferred<JoinGroupResponse>): CoordinatorRecord[] {
    const { memberId, version } = input
    const fail = (errorCode: number): CoordinatorRecord[] => {
      d.resolve(shapeJoinResponse(joinError(errorCode, memberId), version))
      return []
    }
    if (group.is('Dead')) return fail(ErrorCode.COORDINATOR_NOT_AVAILABLE)
    if (!group.supportsProtocols(input.protocolType, input.protocols)) return fail(ErrorCode.INCONSISTENT_GROUP_PROTOCOL)
    if (group.isPendingMember(memberId)) {
      // A pending member is always dynamic; Kafka fails such a request with an internal error.
      if (input.groupInstanceId !== null) return fail(ErrorCode.UNKNOWN_SERVER_ERROR)
      return this.#addMemberThenRebalanceOrCompleteJoin(group, input, memberId, d)
    }
    const error = this.#validateMember(group, memberId, input.groupInstanceId)
    if (error !== ErrorCode.NONE) return fail(error)

    const member = group.member(memberId) as ClassicGroupMember
    switch (group.state) {
      case 'PreparingRebalance':
        return this.#updateMemberThenRebalanceOrCompleteJoin(group, member, input, d, 'join')
      case 'CompletingRebalance':
        if (member.matches(input.protocols)) {
          // Same metadata (it probably missed the JoinGroup response): answer with the current generation.
          d.resolve(shapeJoinResponse(this.#currentGenerationResponse(group, memberId, group.isLeader(memberId)), version))
          return []
        }
        return this.#updateMemberThenRebalanceOrCompleteJoin(group, member, input, d, 'subscription-change')
      case 'Stable':
        if (!member.matches(input.protocols))
          return this.#updateMemberThenRebalanceOrCompleteJoin(group, member, input, d, 'subscription-change')
        if (group.isLeader(memberId)) {
          // The leader rejoining forces a rebalance: it may have seen a change (topic metadata) its subscription does not show.
          return this.#updateMemberThenRebalanceOrCompleteJoin(group, member, input, d, 'metadata-change')
        }
        d.resolve(shapeJoinResponse(this.#currentGenerationResponse(group, memberId, false), version))
        return []
      default:
        // Empty: the member must reset its generation and rejoin.
        return fail(ErrorCode.UNKNOWN_MEMBER_ID)
    }
  }

  #currentGenerationResponse(group: ClassicGroup, memberId: string, withMembers: boolean): JoinGroupResponse {
    return {
      throttleTimeMs: 0,
      errorCode: ErrorCode.NONE,
      generationId: group.generationId,
      protocolType: group.protocolType,
      protocolName: group.protocolName,
      leader: group.leaderId ?? '',
      skipAssignment: false,
      memberId,
      members: withMembers ? group.currentMembersForLeader() : [],
    }
  }

  #addMemberThenRebalanceOrCompleteJoin(
    group: ClassicGroup,
    input: JoinInput,
    memberId: string,
    d: Deferred<JoinGroupResponse>,
  ): CoordinatorRecord[] {
    const member = new ClassicGroupMember({
      memberId,
      groupInstanceId: input.groupInstanceId,
      clientId: input.clientId,
      clientHost: input.clientHost,
      rebalanceTimeoutMs: input.rebalanceTimeoutMs,
      sessionTimeoutMs: input.sessionTimeoutMs,
      protocolType: input.protocolType,
      protocols: input.protocols,
    })
    member.isNew = true
    // A member arriving during the initial delay extends it.
    if (group.is('PreparingRebalance') && group.previousState === 'Empty') group.newMemberAdded = true
    group.add(member, d, input.version)
    member.joinedAt = this.#clock.now()
    // The member cannot heartbeat while its JoinGroup is parked, so its session does not apply yet; instead a
    // parked JoinGroup of a new member expires after newMemberJoinTimeoutMs (a client that gave up and retried).
    this.#scheduleHeartbeat(group, member, this.config.newMemberJoinTimeoutMs)
    return this.#maybePrepareRebalanceOrCompleteJoin(
      group,
      'join',
      `adding new member ${memberId} with group instance id ${input.groupInstanceId ?? 'none'}; client reason: ${input.reason}`,
    )
  }

  #updateMemberThenRebalanceOrCompleteJoin(
    group: ClassicGroup,
    member: ClassicGroupMember,
    input: JoinInput,
    d: Deferred<JoinGroupResponse>,
    trigger: RebalanceTrigger,
  ): CoordinatorRecord[] {
    const superseded = group.updateMember(member, input.protocols, input.rebalanceTimeoutMs, input.sessionTimeoutMs, d, input.version)
    member.joinedAt ??= this.#clock.now()
    // Kafka drops a superseded parked JoinGroup without answering it; answering keeps per-connection response order intact.
    superseded?.resolve(shapeJoinResponse(joinError(ErrorCode.REBALANCE_IN_PROGRESS, member.memberId), member.joinVersion))
    return this.#maybePrepareRebalanceOrCompleteJoin(
      group,
      trigger,
      `member ${member.memberId} rejoined during ${group.state} (${trigger}); client reason: ${input.reason}`,
    )
  }

  /** KIP-345: a known group instance id joins with an unknown member id (a restart). */
  #replaceStaticMemberThenRebalanceOrCompleteJoin(
    group: ClassicGroup,
    input: JoinInput,
    oldMemberId: string,
    newMemberId: string,
    d: Deferred<JoinGroupResponse>,
  ): CoordinatorRecord[] {
    const instanceId = input.groupInstanceId as string
    const previousLeader = group.leaderId
    this.#timer.cancel(heartbeatKey(group.groupId, oldMemberId))
    const member = group.replaceStaticMember(instanceId, oldMemberId, newMemberId)
    this.#scheduleHeartbeat(group, member, member.sessionTimeoutMs)
    group.updateMember(member, input.protocols, input.rebalanceTimeoutMs, input.sessionTimeoutMs, d, input.version)
    member.joinedAt = this.#clock.now()
    // The new member id continues the old one's ownership: the next assignment diff must not show a move.
    group.lastAssignment = renameOwner(group.lastAssignment, oldMemberId, member)
    const reason = `static member ${newMemberId} with instance id ${instanceId} replaced ${oldMemberId}; client reason: ${input.reason}`

    switch (group.state) {
      case 'Stable': {
        if ((group.protocolName ?? '') !== group.selectProtocol()) {
          return this.#maybePrepareRebalanceOrCompleteJoin(group, 'static-replacement', `${reason}; the selected protocol would change`)
        }
        // No rebalance: persist the new member id and hand out the current generation.
        this.#log(`group ${group.groupId}: ${reason}; no rebalance`)
        const record = this.#groupMetadataRecord(group, group.groupAssignment())
        if (input.version >= 9) {
          const isLeader = group.isLeader(newMemberId)
          group.completeJoin(member, { ...this.#currentGenerationResponse(group, newMemberId, isLeader), skipAssignment: isLeader })
        } else {
          // Before v9 the client cannot skip the assignment, so a replaced leader is told the old leader id and acts as a follower (KAFKA-8224).
          group.completeJoin(member, { ...this.#currentGenerationResponse(group, newMemberId, false), leader: previousLeader ?? '' })
        }
        return [record]
      }
      case 'CompletingRebalance':
        // The leader may already be assigning to the old member id: rebalance so the new id gets an assignment (KAFKA-9801).
        return this.#prepareRebalance(group, 'static-replacement', reason)
      case 'PreparingRebalance':
        return this.#maybeCompleteJoinPhase(group)
      default:
        throw new Error(`group ${group.groupId} cannot be in state ${group.state} when static member ${instanceId} rejoins`)
    }
  }

  #validateMember(group: ClassicGroup, memberId: string, groupInstanceId: string | null): number {
    if (groupInstanceId !== null) {
      const existing = group.staticMemberId(groupInstanceId)
      if (existing === undefined) return ErrorCode.UNKNOWN_MEMBER_ID
      if (existing !== memberId) return ErrorCode.FENCED_INSTANCE_ID
    }
    return group.hasMember(memberId) ? ErrorCode.NONE : ErrorCode.UNKNOWN_MEMBER_ID
  }

  // =============================================================================================
  // The join phase

  #maybePrepareRebalanceOrCompleteJoin(group: ClassicGroup, trigger: RebalanceTrigger, reason: string): CoordinatorRecord[] {
    return group.canRebalance ? this.#prepareRebalance(group, trigger, reason) : this.#maybeCompleteJoinPhase(group)
  }

  #prepareRebalance(group: ClassicGroup, trigger: RebalanceTrigger, reason: string): CoordinatorRecord[] {
    // Members waiting for their assignment must rejoin.
    if (group.is('CompletingRebalance')) this.#resetAndPropagateAssignmentWithError(group, ErrorCode.REBALANCE_IN_PROGRESS)
    this.#removeSyncExpiration(group)

    const now = this.#clock.now()
    const isInitialRebalance = group.is('Empty')
    if (isInitialRebalance) {
      // KIP-134: give the other members of a new group time to join.
      const delayMs = this.config.initialRebalanceDelayMs
      const remainingMs = Math.max(group.rebalanceTimeoutMs - delayMs, 0)
      this.#timer.schedule(joinKey(group.groupId), delayMs, () =>
        this.#tryCompleteInitialRebalanceElseSchedule(group.groupId, delayMs, remainingMs),
      )
    }
    group.transitionTo('PreparingRebalance', now)
    group.rebalance = { trigger, reason, startedAt: now, membersAtStart: new Set(group.members.keys()) }
    // The previous rebalance's entry is closed: write it as it ends (members may have synced since it was written).
    const closing = group.openRebalance?.entry
    if (closing !== undefined && this.#historyStale.has(closing)) this.#historyDirty.set(closing, group.groupId)
    group.openRebalance = null
    this.#log(`group ${group.groupId}: preparing to rebalance (generation ${group.generationId}): ${reason}`)
    return isInitialRebalance ? [] : this.#maybeCompleteJoinElseSchedule(group)
  }

  #maybeCompleteJoinElseSchedule(group: ClassicGroup): CoordinatorRecord[] {
    if (group.hasAllMembersJoined()) return this.#completeJoin(group)
    this.#scheduleJoinCompletion(group, group.rebalanceTimeoutMs)
    return []
  }

  #scheduleJoinCompletion(group: ClassicGroup, delayMs: number): void {
    const groupId = group.groupId
    this.#timer.schedule(joinKey(groupId), delayMs, () => {
      const g = this.#timerGroup(groupId)
      return g === undefined ? EMPTY_RESULT : { records: this.#completeJoin(g) }
    })
  }

  #tryCompleteInitialRebalanceElseSchedule(groupId: string, delayMs: number, remainingMs: number): CoordinatorResult {
    const group = this.#timerGroup(groupId)
    if (group === undefined) return EMPTY_RESULT
    if (group.newMemberAdded && remainingMs !== 0) {
      // Members are still arriving: wait again, but never beyond the rebalance timeout.
      group.newMemberAdded = false
      const newDelayMs = Math.min(this.config.initialRebalanceDelayMs, remainingMs)
      const newRemainingMs = Math.max(remainingMs - delayMs, 0)
      this.#timer.schedule(joinKey(groupId), newDelayMs, () =>
        this.#tryCompleteInitialRebalanceElseSchedule(groupId, newDelayMs, newRemainingMs),
      )
      return EMPTY_RESULT
    }
    return { records: this.#completeJoin(group) }
  }

  /** Completes the join phase unless it is the initial rebalance or members are still missing. */
  #maybeCompleteJoinPhase(group: ClassicGroup): CoordinatorRecord[] {
    if (!group.is('PreparingRebalance')) return []
    if (group.previousState === 'Empty') return [] // the initial delay decides
    if (!group.hasAllMembersJoined()) return []
    return this.#completeJoin(group)
  }

  #completeJoin(group: ClassicGroup): CoordinatorRecord[] {
    const groupId = group.groupId
    this.#timer.cancel(joinKey(groupId))
    if (!group.is('PreparingRebalance')) return []

    // Dynamic members that did not rejoin are gone; static ones stay with their old metadata.
    for (const m of group.notYetRejoinedMembers()) {
      if (!m.isStatic) this.#dropMember(group, m)
    }
    if (!group.maybeElectNewJoinedLeader() && group.numMembers > 0) {
      // Only static members are left and none rejoined: wait another rebalance timeout (their sessions will expire).
      this.#scheduleJoinCompletion(group, group.rebalanceTimeoutMs)
      return []
    }

    const now = this.#clock.now()
    group.initNextGeneration(now)
    this.#recordHistory(group, now)
    if (group.is('Empty')) {
      this.#log(`group ${groupId} with generation ${group.generationId} is now empty`)
      return [this.#groupMetadataRecord(group, new Map())]
    }

    this.#log(`group ${groupId}: generation ${group.generationId} with ${group.numMembers} members, protocol ${group.protocolName}`)
    const leaderMembers = group.currentMembersForLeader()
    for (const member of group.members.values()) {
      const isLeader = group.isLeader(member.memberId)
      group.completeJoin(member, {
        throttleTimeMs: 0,
        errorCode: ErrorCode.NONE,
        generationId: group.generationId,
        protocolType: group.protocolType,
        protocolName: group.protocolName,
        leader: group.leaderId ?? '',
        skipAssignment: false,
        memberId: member.memberId,
        members: isLeader ? leaderMembers : [],
      })
      this.#scheduleHeartbeat(group, member, member.sessionTimeoutMs)
      member.isNew = false
      group.pendingSyncMembers.add(member.memberId)
    }
    this.#schedulePendingSync(group)
    return []
  }

  #schedulePendingSync(group: ClassicGroup): void {
    const { groupId, generationId } = group
    this.#timer.schedule(syncKey(groupId), group.rebalanceTimeoutMs, () => this.#expirePendingSync(groupId, generationId))
  }

  #removeSyncExpiration(group: ClassicGroup): void {
    group.pendingSyncMembers.clear()
    this.#timer.cancel(syncKey(group.groupId))
  }

  /** Members that sent no SyncGroup within the rebalance timeout are removed and the group rebalances. */
  #expirePendingSync(groupId: string, generationId: number): CoordinatorResult {
    const group = this.#timerGroup(groupId)
    if (group === undefined || group.generationId !== generationId) return EMPTY_RESULT
    if (!group.is('CompletingRebalance') && !group.is('Stable')) return EMPTY_RESULT
    if (group.pendingSyncMembers.size === 0) return EMPTY_RESULT
    const missing = [...group.pendingSyncMembers]
    for (const id of missing) {
      const m = group.member(id)
      if (m !== undefined) this.#dropMember(group, m)
      else group.remove(id)
    }
    return { records: this.#prepareRebalance(group, 'sync-timeout', `removing ${missing.join(', ')} on pending sync expiration`) }
  }

  #resetAndPropagateAssignmentWithError(group: ClassicGroup, error: number): void {
    for (const m of group.members.values()) m.assignment = NO_ASSIGNMENT
    this.#propagateAssignment(group, error)
  }

  #setAndPropagateAssignment(group: ClassicGroup, assignment: ReadonlyMap<string, Buffer>): void {
    for (const m of group.members.values()) m.assignment = this.#storedAssignment(group, assignment.get(m.memberId) ?? NO_ASSIGNMENT)
    this.#propagateAssignment(group, ErrorCode.NONE)
  }

  #propagateAssignment(group: ClassicGroup, error: number): void {
    const ok = error === ErrorCode.NONE
    for (const m of group.members.values()) {
      const answered = group.completeSync(m, {
        throttleTimeMs: 0,
        errorCode: error,
        protocolType: ok ? group.protocolType : null,
        protocolName: ok ? group.protocolName : null,
        assignment: ok ? this.#storedAssignment(group, m.assignment) : m.assignment,
      })
      // Sessions that expired while the member waited were ignored; start a fresh one.
      if (answered) this.#scheduleHeartbeat(group, m, m.sessionTimeoutMs)
      if (answered && ok) this.#markSynced(group, m.memberId)
    }
  }

  /** A member got its assignment of the current generation: its wait in the open history entry ends. */
  #markSynced(group: ClassicGroup, memberId: string): void {
    const open = group.openRebalance
    if (open === null || open.entry.generation !== group.generationId) return
    const m = open.byMember.get(memberId)
    if (m === undefined || m.syncedAt !== null || m.waitStartedAt === null) return
    markSynced(open.entry, m, this.#clock.now())
    // Written once every member has its assignment, not once per member (a large group's entry is large);
    // an entry left incomplete is written as it ends, when the next rebalance starts.
    if (--open.unsynced <= 0) this.#historyDirty.set(open.entry, group.groupId)
    else this.#historyStale.add(open.entry)
  }

  /** A consumer-protocol member never gets a zero-length assignment (some clients cannot decode it). */
  #storedAssignment(group: ClassicGroup, bytes: Buffer): Buffer {
    return bytes.length === 0 && group.protocolType === CONSUMER_PROTOCOL_TYPE ? EMPTY_CONSUMER_ASSIGNMENT : bytes
  }

  /** The group's persisted snapshot (Kafka `newGroupMetadataRecord`): members with their selected-protocol metadata and assignment. */
  #groupMetadataRecord(group: ClassicGroup, assignment: ReadonlyMap<string, Buffer>): CoordinatorRecord {
    const protocol = group.protocolName
    const members = [...group.members.values()].map((m) => {
      if (protocol === null) throw new Error(`group ${group.groupId} has members but no protocol`)
      const a = assignment.get(m.memberId)
      if (a === undefined) throw new Error(`member ${m.memberId} of group ${group.groupId} has no assignment to persist`)
      return {
        memberId: m.memberId,
        groupInstanceId: m.groupInstanceId,
        clientId: m.clientId,
        clientHost: m.clientHost,
        rebalanceTimeout: m.rebalanceTimeoutMs,
        sessionTimeout: m.sessionTimeoutMs,
        subscription: m.metadata(protocol),
        assignment: a,
      }
    })
    return groupMetadataRecord(group.groupId, {
      protocolType: group.protocolType ?? '',
      generation: group.generationId,
      protocol,
      leader: group.leaderId,
      currentStateTimestamp: group.currentStateTimestamp ?? -1,
      members,
    })
  }

  /** Called when the join phase completes (after initNextGeneration, before the parked JoinGroups are answered). */
  #recordHistory(group: ClassicGroup, now: number): void {
    const r = group.rebalance ?? { trigger: 'join' as const, reason: '', startedAt: now, membersAtStart: new Set<string>() }
    const before = group.lastGenerationMembers
    const after = [...group.members.values()]
    const members: RebalanceMemberEntry[] = []
    const byMember = new Map<string, RebalanceMemberEntry>()
    const add = (identity: RebalanceMember, inBefore: boolean) => {
      const m = group.members.get(identity.memberId)
      let e: RebalanceMemberEntry
      if (m === undefined) {
        e = memberEntry(identity, inBefore, false, null, null)
      } else {
        // Its wait starts with the rebalance if it was a member then, else with its JoinGroup.
        const joinedAt = m.isAwaitingJoin ? m.joinedAt : null
        const waitStartedAt = r.membersAtStart.has(m.memberId) ? r.startedAt : (joinedAt ?? r.startedAt)
        e = memberEntry(identity, inBefore, true, joinedAt, waitStartedAt)
      }
      members.push(e)
      byMember.set(e.memberId, e)
    }
    for (const m of before) add(m, true)
    for (const m of after) if (!byMember.has(m.memberId)) add(m.identity, false)
    const entry: RebalanceHistoryEntry = {
      generation: group.generationId,
      trigger: r.trigger,
      reason: r.reason,
      protocolType: group.protocolType,
      protocolName: group.protocolName,
      membersBefore: before.map((m) => m.memberId),
      membersAfter: after.map((m) => m.memberId),
      members,
      startedAt: r.startedAt,
      endedAt: now,
      stableAt: null,
      durationMs: null,
      maxWaitMs: null,
      partitionsMoved: null,
    }
    let list = this.#history.get(group.groupId)
    if (list === undefined) this.#history.set(group.groupId, (list = []))
    // Entries of generations a restart lost (joined, never assigned, so never in the group's snapshot) give way
    // to the ones that now take their numbers; the new entry's record replaces theirs in the log.
    while (list.length > 0 && (list.at(-1) as RebalanceHistoryEntry).generation >= entry.generation) {
      const stale = list.pop() as RebalanceHistoryEntry
      if (stale.generation === entry.generation) this.#historyDirty.delete(stale)
      else this.#forgetHistoryEntry(group.groupId, stale)
    }
    list.push(entry)
    if (list.length > HISTORY_LIMIT) {
      for (const old of list.splice(0, list.length - HISTORY_LIMIT)) this.#forgetHistoryEntry(group.groupId, old)
    }
    this.#historyDirty.set(entry, group.groupId)
    let counts = this.#rebalanceCounts.get(group.groupId)
    if (counts === undefined) this.#rebalanceCounts.set(group.groupId, (counts = new Map()))
    counts.set(r.trigger, (counts.get(r.trigger) ?? 0) + 1)
    group.lastGenerationMembers = after.map((m) => m.identity)
    group.rebalance = null
    let unsynced = 0
    for (const e of members) if (e.inNewGeneration && e.waitStartedAt !== null) unsynced++
    group.openRebalance = { entry, byMember, unsynced }
    // An empty generation gets no assignment: everything owned before is revoked now.
    if (after.length === 0) this.#recordAssignment(group)
  }

  // =============================================================================================
  // Sessions

  #scheduleHeartbeat(group: ClassicGroup, member: ClassicGroupMember, timeoutMs: number): void {
    const { groupId } = group
    const { memberId } = member
    this.#timer.schedule(heartbeatKey(groupId, memberId), timeoutMs, () => this.#expireHeartbeat(groupId, memberId))
  }

  #expireHeartbeat(groupId: string, memberId: string): CoordinatorResult {
    const group = this.#timerGroup(groupId)
    if (group === undefined || group.is('Dead')) return EMPTY_RESULT
    if (group.isPendingMember(memberId)) {
      this.#log(`group ${groupId}: pending member ${memberId} removed after its session timeout`)
      group.remove(memberId)
      if (group.is('PreparingRebalance') && group.hasAllMembersJoined()) return { records: this.#completeJoin(group) }
      return EMPTY_RESULT
    }
    const member = group.member(memberId)
    if (member === undefined || member.hasSatisfiedHeartbeat()) return EMPTY_RESULT
    this.#log(`group ${groupId}: member ${memberId} failed (session timeout), removing it`)
    return { records: this.#removeMemberAndUpdateGroup(group, member, 'session-timeout', `member ${memberId} session timed out`) }
  }

  #removeMemberAndUpdateGroup(
    group: ClassicGroup,
    member: ClassicGroupMember,
    trigger: RebalanceTrigger,
    reason: string,
  ): CoordinatorRecord[] {
    this.#dropMember(group, member)
    if (group.is('Stable') || group.is('CompletingRebalance')) return this.#maybePrepareRebalanceOrCompleteJoin(group, trigger, reason)
    if (group.is('PreparingRebalance') && group.hasAllMembersJoined()) return this.#completeJoin(group)
    return []
  }

  /** Removes a member, answering its parked requests (UNKNOWN_MEMBER_ID: retry the join) and stopping its session. */
  #dropMember(group: ClassicGroup, member: ClassicGroupMember): void {
    group.completeJoin(member, joinError(ErrorCode.UNKNOWN_MEMBER_ID, ''))
    group.completeSync(member, syncError(ErrorCode.UNKNOWN_MEMBER_ID))
    this.#timer.cancel(heartbeatKey(group.groupId, member.memberId))
    group.remove(member.memberId)
  }

  /** The group a timer refers to, if it still exists (and counts as running from now on). */
  #timerGroup(groupId: string): ClassicGroup | undefined {
    const group = this.#groups.get(groupId)
    if (group !== undefined) group.live = true
    return group
  }

  // =============================================================================================
  // SyncGroup

  syncGroup(req: SyncGroupRequest, ctx: RequestContext): HandlerResult<Promise<SyncGroupResponse>> {
    const d = new Deferred<SyncGroupResponse>()
    const records = this.#sync(req, ctx, d)
    return { records, response: d.promise }
  }

  #sync(req: SyncGroupRequest, ctx: RequestContext, d: Deferred<SyncGroupResponse>): CoordinatorRecord[] {
    const version = ctx.version
    const fail = (errorCode: number): CoordinatorRecord[] => {
      d.resolve(syncError(errorCode))
      return []
    }
    if (req.groupId === '') return fail(ErrorCode.INVALID_GROUP_ID)
    const group = this.#groups.get(req.groupId)
    if (group === undefined || group.is('Empty')) return fail(ErrorCode.UNKNOWN_MEMBER_ID)
    group.live = true
    if (group.is('Dead')) return fail(ErrorCode.COORDINATOR_NOT_AVAILABLE)
    const instanceId = version >= 3 ? req.groupInstanceId : null
    const error = this.#validateMember(group, req.memberId, instanceId)
    if (error !== ErrorCode.NONE) return fail(error)
    if (req.generationId !== group.generationId) return fail(ErrorCode.ILLEGAL_GENERATION)
    if (
      version >= 5 &&
      (isProtocolInconsistent(req.protocolType, group.protocolType) || isProtocolInconsistent(req.protocolName, group.protocolName))
    ) {
      return fail(ErrorCode.INCONSISTENT_GROUP_PROTOCOL)
    }

    const member = group.member(req.memberId) as ClassicGroupMember
    switch (group.state) {
      case 'PreparingRebalance':
        return fail(ErrorCode.REBALANCE_IN_PROGRESS)
      case 'CompletingRebalance': {
        const superseded = member.awaitingSync
        member.awaitingSync = d
        if (superseded !== null && superseded !== d) superseded.resolve(syncError(ErrorCode.REBALANCE_IN_PROGRESS))
        this.#removePendingSyncMember(group, req.memberId)
        if (!group.isLeader(req.memberId)) return []
        // The leader's assignment: persist it; replaying the record stores it, moves the group to Stable and answers every parked SyncGroup.
        const assignment = new Map<string, Buffer>()
        for (const a of req.assignments) assignment.set(a.memberId, a.assignment)
        const stored = new Map<string, Buffer>()
        for (const m of group.members.values()) {
          stored.set(m.memberId, this.#storedAssignment(group, Buffer.from(assignment.get(m.memberId) ?? NO_ASSIGNMENT)))
        }
        return [this.#groupMetadataRecord(group, stored)]
      }
      case 'Stable':
        this.#removePendingSyncMember(group, req.memberId)
        this.#scheduleHeartbeat(group, member, member.sessionTimeoutMs)
        this.#markSynced(group, req.memberId)
        d.resolve({
          throttleTimeMs: 0,
          errorCode: ErrorCode.NONE,
          protocolType: group.protocolType,
          protocolName: group.protocolName,
          assignment: this.#storedAssignment(group, member.assignment),
        })
        return []
      default:
        throw new Error(`unexpected SyncGroup for group ${group.groupId} in state ${group.state}`)
    }
  }

  #removePendingSyncMember(group: ClassicGroup, memberId: string): void {
    group.pendingSyncMembers.delete(memberId)
    if (!(group.is('CompletingRebalance') || group.is('Stable')) || group.pendingSyncMembers.size === 0) {
      this.#timer.cancel(syncKey(group.groupId))
    }
  }

  // =============================================================================================
  // Heartbeat

  heartbeat(req: HeartbeatRequest, ctx: RequestContext): HandlerResult<HeartbeatResponse> {
    const answer = (errorCode: number): HandlerResult<HeartbeatResponse> => ({ records: [], response: { throttleTimeMs: 0, errorCode } })
    if (req.groupId === '') return answer(ErrorCode.INVALID_GROUP_ID)
    const group = this.#groups.get(req.groupId)
    if (group === undefined) return answer(ErrorCode.UNKNOWN_MEMBER_ID)
    group.live = true
    if (group.is('Dead')) return answer(ErrorCode.COORDINATOR_NOT_AVAILABLE)
    const error = this.#validateMember(group, req.memberId, ctx.version >= 3 ? req.groupInstanceId : null)
    if (error !== ErrorCode.NONE) return answer(error)
    if (req.generationId !== group.generationId) return answer(ErrorCode.ILLEGAL_GENERATION)
    const member = group.member(req.memberId) as ClassicGroupMember
    switch (group.state) {
      case 'PreparingRebalance':
        this.#scheduleHeartbeat(group, member, member.sessionTimeoutMs)
        return answer(ErrorCode.REBALANCE_IN_PROGRESS)
      case 'CompletingRebalance':
      case 'Stable':
        // Clients heartbeat between their JoinGroup response and SyncGroup: a normal heartbeat.
        this.#scheduleHeartbeat(group, member, member.sessionTimeoutMs)
        return answer(ErrorCode.NONE)
      default:
        return answer(ErrorCode.UNKNOWN_MEMBER_ID)
    }
  }

  // =============================================================================================
  // LeaveGroup

  leaveGroup(req: LeaveGroupRequest, ctx: RequestContext): HandlerResult<LeaveGroupResponse> {
    const version = ctx.version
    const identities = version >= 3 ? req.members : [{ memberId: req.memberId, groupInstanceId: null, reason: null }]
    const respond = (errorCode: number, members: LeaveGroupResponse['members'], records: CoordinatorRecord[] = []) => {
      if (version >= 3) return { records, response: { throttleTimeMs: 0, errorCode, members } }
      // v0–2 carry a single member and report its error at the top level.
      const memberError = members[0]?.errorCode ?? ErrorCode.NONE
      return { records, response: { throttleTimeMs: 0, errorCode: errorCode !== ErrorCode.NONE ? errorCode : memberError, members: [] } }
    }
    if (req.groupId === '') return respond(ErrorCode.INVALID_GROUP_ID, [])
    const group = this.#groups.get(req.groupId)
    if (group === undefined) {
      return respond(
        ErrorCode.NONE,
        identities.map((m) => ({ memberId: m.memberId, groupInstanceId: m.groupInstanceId, errorCode: ErrorCode.UNKNOWN_MEMBER_ID })),
      )
    }
    group.live = true
    if (group.is('Dead')) return respond(ErrorCode.COORDINATOR_NOT_AVAILABLE, [])

    const results: LeaveGroupResponse['members'] = []
    const left: string[] = []
    const why: string[] = []
    for (const m of identities) {
      const reason = m.reason ?? 'not provided'
      let errorCode: number = ErrorCode.NONE
      if (m.memberId === '') {
        // Admin removal by group instance id ("remove members").
        const staticId = m.groupInstanceId === null ? undefined : group.staticMemberId(m.groupInstanceId)
        if (staticId === undefined) errorCode = ErrorCode.UNKNOWN_MEMBER_ID
        else this.#removeLeavingMember(group, staticId, reason)
      } else if (group.isPendingMember(m.memberId)) {
        group.remove(m.memberId)
        this.#timer.cancel(heartbeatKey(group.groupId, m.memberId))
      } else {
        errorCode = this.#validateMember(group, m.memberId, m.groupInstanceId)
        if (errorCode === ErrorCode.NONE) this.#removeLeavingMember(group, m.memberId, reason)
      }
      results.push({ memberId: m.memberId, groupInstanceId: m.groupInstanceId, errorCode })
      if (errorCode === ErrorCode.NONE) {
        left.push(m.memberId)
        why.push(`${m.memberId === '' ? `instance ${m.groupInstanceId}` : m.memberId} on LeaveGroup with reason: ${reason}`)
      }
    }

    let records: CoordinatorRecord[] = []
    if (left.length > 0) {
      // The client's reason (LeaveGroup v5+) says why it left: closing, a poll timeout, an admin removal.
      const reason = `removing ${why.join('; ')}`
      if (group.is('Stable') || group.is('CompletingRebalance')) records = this.#maybePrepareRebalanceOrCompleteJoin(group, 'leave', reason)
      else if (group.is('PreparingRebalance')) records = this.#maybeCompleteJoinPhase(group)
    }
    return respond(ErrorCode.NONE, results, records)
  }

  #removeLeavingMember(group: ClassicGroup, memberId: string, reason: string): void {
    const member = group.member(memberId)
    if (member === undefined) return
    this.#log(`group ${group.groupId}: member ${memberId} left; client reason: ${reason}`)
    this.#dropMember(group, member)
  }

  // =============================================================================================
  // OffsetCommit

  offsetCommit(req: OffsetCommitRequest, ctx: RequestContext): HandlerResult<OffsetCommitResponse> {
    const version = ctx.version
    const now = this.#clock.now()
    // Like Kafka's request layer, unknown partitions are answered before the coordinator sees the request.
    let known = 0
    const topics: OffsetCommitResponse['topics'] = req.topics.map((t) => ({
      name: t.name,
      partitions: t.partitions.map((p) => {
        const exists = this.#topicExists(t.name, p.partitionIndex)
        if (exists) known++
        return { partitionIndex: p.partitionIndex, errorCode: exists ? ErrorCode.NONE : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION }
      }),
    }))
    const response: OffsetCommitResponse = { throttleTimeMs: 0, topics }
    if (known === 0) return { records: [], response }

    const generationId = version >= 1 ? req.generationIdOrMemberEpoch : -1
    const memberId = version >= 1 ? req.memberId : ''
    const instanceId = version >= 7 ? req.groupInstanceId : null
    const groupError = this.#validateOffsetCommit(req.groupId, generationId, memberId, instanceId, version)
    if (groupError !== ErrorCode.NONE) {
      // A group-level failure is copied to every partition.
      for (const t of topics) for (const p of t.partitions) if (p.errorCode === ErrorCode.NONE) p.errorCode = groupError
      return { records: [], response }
    }

    const group = this.#groups.get(req.groupId)
    // Commits keep a member's session alive while the group is Stable or rebalancing.
    if (group !== undefined && (group.is('Stable') || group.is('PreparingRebalance'))) {
      const member = group.member(memberId)
      if (member !== undefined) this.#scheduleHeartbeat(group, member, member.sessionTimeoutMs)
    }
    const retentionMs = version >= 2 && version <= 4 ? req.retentionTimeMs : -1n
    const expireTimestamp = retentionMs === -1n ? -1 : now + Number(retentionMs)
    const records: CoordinatorRecord[] = []
    req.topics.forEach((t, ti) => {
      const out = (topics[ti] as OffsetCommitResponse['topics'][number]).partitions
      t.partitions.forEach((p, pi) => {
        const slot = out[pi] as { errorCode: number }
        if (slot.errorCode !== ErrorCode.NONE) return
        const metadata = p.committedMetadata ?? ''
        // Kafka compares the string's length (UTF-16 units), not its UTF-8 size.
        if (metadata.length > this.config.offsetMetadataMaxBytes) {
          slot.errorCode = ErrorCode.OFFSET_METADATA_TOO_LARGE
          return
        }
        records.push(
          offsetCommitRecord(req.groupId, t.name, p.partitionIndex, {
            offset: p.committedOffset,
            leaderEpoch: version >= 6 ? p.committedLeaderEpoch : -1,
            metadata,
            commitTimestamp: version === 1 && p.commitTimestamp !== -1n ? Number(p.commitTimestamp) : now,
            expireTimestamp,
          }),
        )
      })
    })
    return { records, response }
  }

  /** Kafka `OffsetMetadataManager.validateOffsetCommit` + `ClassicGroup.validateOffsetCommit`. */
  #validateOffsetCommit(groupId: string, generationId: number, memberId: string, instanceId: string | null, version: number): number {
    const group = this.#groups.get(groupId)
    if (group === undefined) {
      // generation < 0: an admin or standalone (`assign()`) commit; replay creates the group, Empty, without protocol type.
      if (generationId < 0) return ErrorCode.NONE
      return version >= 9 ? ErrorCode.GROUP_ID_NOT_FOUND : ErrorCode.ILLEGAL_GENERATION
    }
    group.live = true
    if (group.is('Dead')) return ErrorCode.COORDINATOR_NOT_AVAILABLE
    if (generationId < 0 && group.is('Empty')) return ErrorCode.NONE
    if (generationId >= 0 || memberId !== '' || instanceId !== null) {
      const error = this.#validateMember(group, memberId, instanceId)
      if (error !== ErrorCode.NONE) return error
      if (generationId !== group.generationId) return ErrorCode.ILLEGAL_GENERATION
    } else if (!group.is('Empty')) {
      // Only members may commit to an active group (why the CLI refuses to reset an active group).
      return ErrorCode.UNKNOWN_MEMBER_ID
    }
    // Its JoinGroup response is out but its assignment is not: let the member retry after rejoining.
    if (group.is('CompletingRebalance')) return ErrorCode.REBALANCE_IN_PROGRESS
    return ErrorCode.NONE
  }

  // =============================================================================================
  // OffsetFetch

  offsetFetch(req: OffsetFetchRequest, ctx: RequestContext): HandlerResult<OffsetFetchResponse> {
    const version = ctx.version
    if (version >= 8) {
      const groups = req.groups.map((g) => this.#fetchGroupOffsets(g.groupId, g.topics))
      return { records: [], response: { throttleTimeMs: 0, topics: [], errorCode: ErrorCode.NONE, groups } }
    }
    const topics = version >= 2 ? req.topics : (req.topics ?? [])
    const g = this.#fetchGroupOffsets(req.groupId, topics)
    return { records: [], response: { throttleTimeMs: 0, topics: g.topics, errorCode: g.errorCode, groups: [] } }
  }

  #fetchGroupOffsets(
    groupId: string,
    topics: { name: string; partitionIndexes: number[] }[] | null,
  ): OffsetFetchResponse['groups'][number] {
    // Requests on a missing or dead group are not errors: nothing is committed.
    const group = this.#groups.get(groupId)
    const stored = group === undefined || group.is('Dead') ? undefined : this.#offsets.group(groupId)
    const out: OffsetFetchResponse['groups'][number]['topics'] = []
    if (topics === null) {
      if (stored !== undefined) {
        for (const [topic, partitions] of stored) {
          out.push({ name: topic, partitions: [...partitions].map(([p, o]) => fetchedPartition(p, o)) })
        }
      }
    } else {
      for (const t of topics) {
        const partitions = stored?.get(t.name)
        out.push({ name: t.name, partitions: t.partitionIndexes.map((p) => fetchedPartition(p, partitions?.get(p))) })
      }
    }
    return { groupId, topics: out, errorCode: ErrorCode.NONE }
  }

  // =============================================================================================
  // DescribeGroups, ListGroups

  describeGroups(req: DescribeGroupsRequest, ctx: RequestContext): HandlerResult<DescribeGroupsResponse> {
    const authorizedOperations =
      ctx.version >= 3 && req.includeAuthorizedOperations ? GROUP_AUTHORIZED_OPERATIONS : AUTHORIZED_OPERATIONS_OMITTED
    const groups = req.groups.map((groupId): DescribeGroupsResponse['groups'][number] => {
      const group = this.#groups.get(groupId)
      if (group === undefined || group.is('Dead')) {
        // Kafka answers an unknown group with state Dead and no error.
        return {
          errorCode: ErrorCode.NONE,
          groupId,
          groupState: 'Dead',
          protocolType: '',
          protocolData: '',
          members: [],
          authorizedOperations,
        }
      }
      const stable = group.is('Stable') && group.protocolName !== null
      return {
        errorCode: ErrorCode.NONE,
        groupId,
        groupState: group.state,
        protocolType: group.protocolType ?? '',
        protocolData: stable ? (group.protocolName as string) : '',
        members: [...group.members.values()].map((m) => ({
          memberId: m.memberId,
          groupInstanceId: m.groupInstanceId,
          clientId: m.clientId,
          clientHost: m.clientHost,
          // Kafka includes member metadata only when the group is Stable.
          memberMetadata: stable ? m.metadata(group.protocolName as string) : NO_ASSIGNMENT,
          memberAssignment: m.assignment,
        })),
        authorizedOperations,
      }
    })
    return { records: [], response: { throttleTimeMs: 0, groups } }
  }

  listGroups(req: ListGroupsRequest, ctx: RequestContext): HandlerResult<ListGroupsResponse> {
    const states = new Set((ctx.version >= 4 ? req.statesFilter : []).map((s) => s.trim().toLowerCase()))
    const types = new Set((ctx.version >= 5 ? req.typesFilter : []).map((s) => s.trim().toLowerCase()))
    const groups: ListGroupsResponse['groups'] = []
    for (const g of this.#groups.values()) {
      if (g.is('Dead')) continue
      if (states.size > 0 && !states.has(g.state.toLowerCase())) continue
      if (types.size > 0 && !types.has('classic')) continue
      groups.push({ groupId: g.groupId, protocolType: g.protocolType ?? '', groupState: g.state, groupType: 'classic' })
    }
    return { records: [], response: { throttleTimeMs: 0, errorCode: ErrorCode.NONE, groups } }
  }

  // =============================================================================================
  // DescribeRebalanceHistory (Cohort's own API)

  describeRebalanceHistory(req: DescribeRebalanceHistoryRequest, _ctx: RequestContext): HandlerResult<DescribeRebalanceHistoryResponse> {
    const groups = req.groups.map((groupId): DescribeRebalanceHistoryResponse['groups'][number] => {
      const fail = (errorCode: number, errorMessage: string) => ({ groupId, errorCode, errorMessage, rebalances: [] })
      if (groupId === '') return fail(ErrorCode.INVALID_GROUP_ID, 'the group id is empty')
      const group = this.#groups.get(groupId)
      if (group === undefined || group.is('Dead')) return fail(ErrorCode.GROUP_ID_NOT_FOUND, `group ${groupId} does not exist`)
      return { groupId, errorCode: ErrorCode.NONE, errorMessage: null, rebalances: this.history(groupId).map(wireEntry) }
    })
    return { records: [], response: { throttleTimeMs: 0, groups } }
  }

  // =============================================================================================
  // DeleteGroups, OffsetDelete

  deleteGroups(req: DeleteGroupsRequest, _ctx: RequestContext): HandlerResult<DeleteGroupsResponse> {
    const records: CoordinatorRecord[] = []
    const results = req.groupsNames.map((groupId) => {
      const group = this.#groups.get(groupId)
      if (group === undefined || group.is('Dead')) return { groupId, errorCode: ErrorCode.GROUP_ID_NOT_FOUND }
      if (!group.is('Empty')) return { groupId, errorCode: ErrorCode.NON_EMPTY_GROUP }
      const stored = this.#offsets.group(groupId)
      if (stored !== undefined) {
        for (const [topic, partitions] of stored) for (const p of partitions.keys()) records.push(offsetCommitTombstone(groupId, topic, p))
      }
      records.push(groupMetadataTombstone(groupId), ...this.#historyTombstonesOf(groupId))
      this.#markDead(group)
      return { groupId, errorCode: ErrorCode.NONE }
    })
    return { records, response: { throttleTimeMs: 0, results } }
  }

  offsetDelete(req: OffsetDeleteRequest, _ctx: RequestContext): HandlerResult<OffsetDeleteResponse> {
    const fail = (errorCode: number): HandlerResult<OffsetDeleteResponse> => ({
      records: [],
      response: { errorCode, throttleTimeMs: 0, topics: [] },
    })
    const group = this.#groups.get(req.groupId)
    if (group === undefined || group.is('Dead')) return fail(ErrorCode.GROUP_ID_NOT_FOUND)
    if (!group.is('Empty') && !group.usesConsumerProtocol) return fail(ErrorCode.NON_EMPTY_GROUP)
    const records: CoordinatorRecord[] = []
    const topics = req.topics.map((t) => {
      if (group.isSubscribedToTopic(t.name)) {
        return {
          name: t.name,
          partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, errorCode: ErrorCode.GROUP_SUBSCRIBED_TO_TOPIC })),
        }
      }
      return {
        name: t.name,
        partitions: t.partitions.map((p) => {
          if (this.#offsets.get(req.groupId, t.name, p.partitionIndex) !== undefined) {
            records.push(offsetCommitTombstone(req.groupId, t.name, p.partitionIndex))
          }
          return { partitionIndex: p.partitionIndex, errorCode: ErrorCode.NONE }
        }),
      }
    })
    return { records, response: { errorCode: ErrorCode.NONE, throttleTimeMs: 0, topics } }
  }

  /** Dead until the tombstone is replayed: requests meanwhile get COORDINATOR_NOT_AVAILABLE and retry. */
  #markDead(group: ClassicGroup): void {
    this.#cancelGroupTimers(group)
    if (!group.is('Dead')) group.transitionTo('Dead', this.#clock.now())
  }

  #cancelGroupTimers(group: ClassicGroup): void {
    this.#timer.cancel(joinKey(group.groupId))
    this.#timer.cancel(syncKey(group.groupId))
    for (const id of group.members.keys()) this.#timer.cancel(heartbeatKey(group.groupId, id))
    for (const id of group.pendingJoinMembers) this.#timer.cancel(heartbeatKey(group.groupId, id))
  }

  // =============================================================================================
  // Offset retention (KIP-211)

  /**
   * Tombstones for expired offsets, and for Empty groups left without offsets (which go Dead). The broker
   * calls this every `offsets.retention.check.interval.ms` and appends/replays the records as usual.
   */
  expireOffsets(): CoordinatorResult {
    const now = this.#clock.now()
    const retentionMs = this.config.offsetsRetentionMs
    const records: CoordinatorRecord[] = []
    for (const group of this.#groups.values()) {
      if (group.is('Dead')) continue
      let allExpired = true
      const stored = this.#offsets.group(group.groupId)
      if (stored !== undefined) {
        const base = expirationBase(group)
        if (base === undefined) continue
        for (const [topic, partitions] of stored) {
          if (group.isSubscribedToTopic(topic)) {
            allExpired = false
            continue
          }
          for (const [p, o] of partitions) {
            const expired = o.expireTimestamp >= 0 ? now >= o.expireTimestamp : now - base(o) >= retentionMs
            if (expired) records.push(offsetCommitTombstone(group.groupId, topic, p))
            else allExpired = false
          }
        }
      }
      if (allExpired && group.is('Empty')) {
        records.push(groupMetadataTombstone(group.groupId), ...this.#historyTombstonesOf(group.groupId))
        group.live = true
        this.#markDead(group)
      }
    }
    return { records }
  }

  // =============================================================================================
  // Replay

  /** Applies a record appended to `__consumer_offsets`: live writes and startup loading take this same path. */
  replay(record: CoordinatorRecord): void {
    switch (record.type) {
      case 'offset-commit': {
        if (record.value === null) {
          this.#offsets.delete(record.group, record.topic, record.partition)
          return
        }
        // Offsets without a group (standalone consumers, admin commits) live in a "simple" group: Empty, no protocol type.
        if (!this.#groups.has(record.group)) {
          this.#groups.set(record.group, new ClassicGroup({ groupId: record.group, state: 'Empty', nowMs: this.#clock.now() }))
        }
        this.#offsets.put(record.group, record.topic, record.partition, { ...record.value })
        return
      }
      case 'group-metadata': {
        if (record.value === null) {
          this.#removeGroup(record.group)
          return
        }
        const group = this.#groups.get(record.group)
        if (group?.live) this.#applyGroupMetadata(group, record.value)
        else this.#loadGroup(record.group, record.value)
        return
      }
      case 'rebalance-history':
        if (!this.#loaded) this.#loadHistory(record)
        return
      case 'unknown':
        return
    }
  }

  /** `replay` of an encoded record, as read from the log. */
  replayEncoded(key: Buffer, value: Buffer | null): void {
    let record: CoordinatorRecord
    try {
      record = decodeRecord(key, value)
    } catch (err) {
      // The history is observability, not group state: a record of it that does not decode is skipped, not fatal.
      if (key.length >= 2 && key.readInt16BE(0) === RecordType.REBALANCE_HISTORY) {
        this.#log(`skipping a rebalance-history record that does not decode: ${(err as Error).message}`)
        const k = this.#loaded ? null : decodeHistoryKey(key)
        if (k !== null) this.#skippedAtLoad.set(`${k.group}\u0000${k.generation}`, k)
        return
      }
      throw err
    }
    this.replay(record)
  }

  /** A persisted snapshot of a group this process is running: only the leader's assignment has an effect. */
  #applyGroupMetadata(group: ClassicGroup, value: GroupMetadataValue): void {
    if (!group.is('CompletingRebalance') || value.generation !== group.generationId || value.members.length === 0) return
    const assignment = new Map<string, Buffer>()
    for (const m of value.members) assignment.set(m.memberId, m.assignment)
    const now = this.#clock.now()
    const open = group.openRebalance
    if (open !== null && open.entry.generation === group.generationId) {
      open.entry.stableAt = now
      open.entry.durationMs = now - open.entry.startedAt
    }
    this.#setAndPropagateAssignment(group, assignment)
    group.transitionTo('Stable', now)
    this.#recordAssignment(group)
  }

  /** The generation's assignment is final: diff it against the last Stable one for the history, then make it the new "before". */
  #recordAssignment(group: ClassicGroup): void {
    const after = new Map<string, OwnedPartitions>()
    const owners = new Map<string, Ownership>()
    for (const m of group.members.values()) {
      // An unchanged assignment (most members, most rebalances) keeps its decoded partitions.
      const prev = group.lastAssignment.get(m.memberId)
      const partitions = prev?.bytes.equals(m.assignment) ? prev.partitions : ownedPartitions(group.protocolType, m.assignment)
      after.set(m.memberId, partitions)
      owners.set(m.memberId, { member: m.identity, bytes: m.assignment, partitions })
    }
    const open = group.openRebalance
    if (open !== null && open.entry.generation === group.generationId) {
      applyAssignmentDiff(open.entry, group.lastAssignment, after)
      this.#historyDirty.set(open.entry, group.groupId)
    }
    group.lastAssignment = owners
  }

  /** Rebuilds a group from its persisted snapshot (startup, or a group only known from the log). */
  #loadGroup(groupId: string, value: GroupMetadataValue): void {
    const previous = this.#groups.get(groupId)
    if (previous !== undefined) this.#cancelGroupTimers(previous)
    const group = new ClassicGroup({
      groupId,
      state: value.members.length === 0 ? 'Empty' : 'Stable',
      nowMs: value.currentStateTimestamp === -1 ? null : value.currentStateTimestamp,
      generationId: value.generation,
      protocolType: value.protocolType === '' ? null : value.protocolType,
      protocolName: value.protocol,
      leaderId: value.leader,
    })
    for (const m of value.members) {
      group.add(
        new ClassicGroupMember({
          memberId: m.memberId,
          groupInstanceId: m.groupInstanceId,
          clientId: m.clientId,
          clientHost: m.clientHost,
          rebalanceTimeoutMs: m.rebalanceTimeout === -1 ? m.sessionTimeout : m.rebalanceTimeout,
          sessionTimeoutMs: m.sessionTimeout,
          protocolType: value.protocolType,
          protocols: [{ name: value.protocol ?? '', metadata: m.subscription }],
          assignment: m.assignment,
        }),
      )
    }
    group.subscribedTopics = group.computeSubscribedTopics()
    group.lastGenerationMembers = [...group.members.values()].map((m) => m.identity)
    const owners = new Map<string, Ownership>()
    for (const m of group.members.values()) {
      owners.set(m.memberId, { member: m.identity, bytes: m.assignment, partitions: ownedPartitions(group.protocolType, m.assignment) })
    }
    group.lastAssignment = owners
    this.#groups.set(groupId, group)
  }

  #removeGroup(groupId: string): void {
    const group = this.#groups.get(groupId)
    if (group === undefined) return
    for (const m of group.members.values()) {
      group.completeJoin(m, joinError(ErrorCode.COORDINATOR_NOT_AVAILABLE, m.memberId))
      group.completeSync(m, syncError(ErrorCode.COORDINATOR_NOT_AVAILABLE))
    }
    this.#cancelGroupTimers(group)
    if (!group.is('Dead')) group.transitionTo('Dead', this.#clock.now())
    this.#groups.delete(groupId)
    // Its history's tombstones were written with the group's (deleteGroups, expireOffsets), in the same batch.
    for (const e of this.#history.get(groupId) ?? []) this.#historyDirty.delete(e)
    this.#history.delete(groupId)
    this.#rebalanceCounts.delete(groupId)
    this.#countsAtLoad.delete(groupId)
  }

  /** Tombstones for every history entry of a group that is being deleted; they go in the batch of its tombstone. */
  #historyTombstonesOf(groupId: string): RebalanceHistoryRecord[] {
    return (this.#history.get(groupId) ?? []).map((e) => rebalanceHistoryTombstone(groupId, e.generation))
  }

  /** An entry leaves the history: its record is deleted from the log too. */
  #forgetHistoryEntry(groupId: string, e: RebalanceHistoryEntry): void {
    this.#historyDirty.delete(e)
    this.#historyTombstones.push(rebalanceHistoryTombstone(groupId, e.generation))
  }

  /**
   * The history records to append for what changed since the last call: each new or changed entry as it is now,
   * with its group's counts, and tombstones for entries that left. History changes as a side effect of handlers,
   * timers and replayed records (a group becomes Stable when the leader's assignment is replayed), so the broker
   * calls this after each of those and appends what it returns like any other records.
   */
  takeHistoryRecords(): CoordinatorRecord[] {
    if (this.#historyDirty.size === 0 && this.#historyTombstones.length === 0) return []
    const out: CoordinatorRecord[] = this.#historyTombstones
    this.#historyTombstones = []
    for (const [entry, groupId] of this.#historyDirty) {
      const counts = Object.fromEntries(this.#rebalanceCounts.get(groupId) ?? [])
      out.push(rebalanceHistoryRecord(groupId, { entry, counts }))
      this.#historyStale.delete(entry)
    }
    this.#historyDirty.clear()
    return out
  }

  /** Startup: a history record from the log goes into the group's history, ordered by generation. */
  #loadHistory(record: RebalanceHistoryRecord): void {
    let list = this.#history.get(record.group)
    const at = list?.findIndex((e) => e.generation === record.generation) ?? -1
    if (record.value === null) {
      if (list !== undefined && at >= 0) list.splice(at, 1)
      return
    }
    if (list === undefined) this.#history.set(record.group, (list = []))
    if (at >= 0) list[at] = record.value.entry
    else {
      list.push(record.value.entry)
      list.sort((a, b) => a.generation - b.generation)
      if (list.length > HISTORY_LIMIT) {
        for (const old of list.splice(0, list.length - HISTORY_LIMIT)) this.#forgetHistoryEntry(record.group, old)
      }
    }
    this.#countsAtLoad.set(record.group, record.value.counts)
  }

  /**
   * Called once the log has been replayed at startup (Kafka `onLoaded`): starts a session for every loaded
   * member and rebalances groups above group.max.size. From now on every group counts as running.
   */
  onLoaded(): CoordinatorResult {
    this.#loaded = true
    // History whose group did not survive (deleted, or never assigned before a crash): delete its records, so that
    // they cannot come back to a group of the same id.
    for (const [groupId, list] of this.#history) {
      if (this.#groups.has(groupId)) {
        // The counts written last are the group's (a group tombstone earlier in the log cleared an older group's).
        const counts = this.#countsAtLoad.get(groupId)
        if (counts !== undefined) this.#rebalanceCounts.set(groupId, new Map(Object.entries(counts) as [RebalanceTrigger, number][]))
        continue
      }
      for (const e of list) this.#forgetHistoryEntry(groupId, e)
      this.#history.delete(groupId)
      this.#rebalanceCounts.delete(groupId)
    }
    this.#countsAtLoad.clear()
    // A record that did not decode: write the entry again if an earlier version of it loaded, else delete the key,
    // so that no record is left that a later version might load into another group of the same id.
    for (const k of this.#skippedAtLoad.values()) {
      const entry = this.#history.get(k.group)?.find((e) => e.generation === k.generation)
      if (entry !== undefined) this.#historyDirty.set(entry, k.group)
      else this.#historyTombstones.push(rebalanceHistoryTombstone(k.group, k.generation))
    }
    this.#skippedAtLoad.clear()
    const records: CoordinatorRecord[] = []
    for (const group of this.#groups.values()) {
      group.live = true
      for (const m of group.members.values()) this.#scheduleHeartbeat(group, m, m.sessionTimeoutMs)
      if (group.numMembers > this.config.maxGroupSize && group.canRebalance) {
        records.push(
          ...this.#prepareRebalance(
            group,
            'join',
            `loaded group with ${group.numMembers} members is over group.max.size ${this.config.maxGroupSize}`,
          ),
        )
      }
    }
    return { records }
  }

  // =============================================================================================
  // Inspection (operations tooling, tests)

  /** The rebalance history of a group, oldest first (last HISTORY_LIMIT completed rebalances). */
  history(groupId: string): readonly RebalanceHistoryEntry[] {
    return this.#history.get(groupId) ?? []
  }

  /** Completed rebalances of a group per trigger (a Prometheus counter: not bounded; restored from the history records after a restart, reset when the group is deleted). */
  rebalanceCounts(groupId: string): ReadonlyMap<RebalanceTrigger, number> {
    return this.#rebalanceCounts.get(groupId) ?? new Map()
  }

  groupIds(): string[] {
    return [...this.#groups.keys()]
  }

  /** A cheap view of every group for metrics: no member lists are copied. */
  *groupSummaries(): Iterable<{ groupId: string; state: GroupState; generationId: number; protocolType: string | null; members: number }> {
    for (const g of this.#groups.values()) {
      yield { groupId: g.groupId, state: g.state, generationId: g.generationId, protocolType: g.protocolType, members: g.numMembers }
    }
  }

  group(groupId: string): GroupSnapshot | undefined {
    const g = this.#groups.get(groupId)
    if (g === undefined) return undefined
    return {
      groupId: g.groupId,
      state: g.state,
      generationId: g.generationId,
      protocolType: g.protocolType,
      protocolName: g.protocolName,
      leaderId: g.leaderId,
      currentStateTimestamp: g.currentStateTimestamp,
      members: [...g.members.values()].map((m) => ({
        memberId: m.memberId,
        groupInstanceId: m.groupInstanceId,
        clientId: m.clientId,
        clientHost: m.clientHost,
        sessionTimeoutMs: m.sessionTimeoutMs,
        rebalanceTimeoutMs: m.rebalanceTimeoutMs,
        protocols: m.protocols.map((p) => ({ name: p.name, metadata: p.metadata })),
        assignment: m.assignment,
        awaitingJoin: m.isAwaitingJoin,
        awaitingSync: m.isAwaitingSync,
      })),
      pendingMembers: [...g.pendingJoinMembers],
      pendingSyncMembers: [...g.pendingSyncMembers],
      subscribedTopics: g.subscribedTopics === undefined ? null : [...g.subscribedTopics].sort(),
    }
  }

  committedOffset(groupId: string, topic: string, partition: number): CommittedOffset | undefined {
    return this.#offsets.get(groupId, topic, partition)
  }

  /** Every committed offset of a group: topic → partition → offset. */
  committedOffsets(groupId: string): ReadonlyMap<string, ReadonlyMap<number, CommittedOffset>> {
    return this.#offsets.group(groupId) ?? new Map()
  }

  stats(): { groups: number; members: number; committedOffsets: number } {
    let members = 0
    for (const g of this.#groups.values()) members += g.numMembers
    return { groups: this.#groups.size, members, committedOffsets: this.#offsets.size }
  }
}

function fetchedPartition(
  partitionIndex: number,
  o: CommittedOffset | undefined,
): OffsetFetchResponse['groups'][number]['topics'][number]['partitions'][number] {
  if (o === undefined) return { partitionIndex, committedOffset: -1n, committedLeaderEpoch: -1, metadata: '', errorCode: ErrorCode.NONE }
  return { partitionIndex, committedOffset: o.offset, committedLeaderEpoch: o.leaderEpoch, metadata: o.metadata, errorCode: ErrorCode.NONE }
}

/**
 * From when an offset's retention counts, by group kind (Kafka `ClassicGroup.offsetExpirationCondition`);
 * undefined when the group's offsets do not expire now.
 */
function expirationBase(group: ClassicGroup): ((o: CommittedOffset) => number) | undefined {
  if (group.protocolType !== null) {
    // Empty: since the group became empty (commit time if unknown).
    if (group.is('Empty')) return (o) => group.currentStateTimestamp ?? o.commitTimestamp
    // A Stable consumer group with known subscriptions: topics it dropped, by commit time.
    if (group.usesConsumerProtocol && group.subscribedTopics !== undefined && group.is('Stable')) return (o) => o.commitTimestamp
    return undefined
  }
  // Standalone/admin commits: by commit time.
  return (o) => o.commitTimestamp
}

/** The same ownership map with a replaced static member's entry moved to its new member id (order kept). */
function renameOwner(
  owners: ReadonlyMap<string, Ownership>,
  oldMemberId: string,
  member: ClassicGroupMember,
): ReadonlyMap<string, Ownership> {
  const owned = owners.get(oldMemberId)
  if (owned === undefined) return owners
  const out = new Map<string, Ownership>()
  for (const [id, o] of owners) {
    if (id === oldMemberId) out.set(member.memberId, { ...owned, member: member.identity })
    else out.set(id, o)
  }
  return out
}

const ms = (t: number | null): bigint => (t === null ? -1n : BigInt(t))

/** A history entry in DescribeRebalanceHistory's shape (-1 for "did not happen"). */
function wireEntry(e: RebalanceHistoryEntry): DescribeRebalanceHistoryResponse['groups'][number]['rebalances'][number] {
  const list = (l: readonly { topic: string; partitions: readonly number[] }[] | null) =>
    l === null ? null : l.map((tp) => ({ topic: tp.topic, partitions: [...tp.partitions] }))
  return {
    generationId: e.generation,
    trigger: e.trigger,
    reason: e.reason,
    protocolType: e.protocolType,
    protocolName: e.protocolName,
    startedAtMs: ms(e.startedAt),
    joinCompletedAtMs: ms(e.endedAt),
    stableAtMs: ms(e.stableAt),
    durationMs: ms(e.durationMs),
    maxWaitMs: ms(e.maxWaitMs),
    partitionsMoved: e.partitionsMoved ?? -1,
    members: e.members.map((m) => ({
      memberId: m.memberId,
      groupInstanceId: m.groupInstanceId,
      clientId: m.clientId,
      clientHost: m.clientHost,
      inPreviousGeneration: m.inPreviousGeneration,
      inNewGeneration: m.inNewGeneration,
      joinedAtMs: ms(m.joinedAt),
      waitStartedAtMs: ms(m.waitStartedAt),
      syncedAtMs: ms(m.syncedAt),
      waitMs: ms(m.waitMs),
      revokedPartitions: list(m.revoked),
      assignedPartitions: list(m.assigned),
    })),
  }
}
