/**
 * A classic-protocol group and its members (Kafka `classic/ClassicGroup`, `ClassicGroupMember`,
 * `ClassicGroupState`). This is the in-memory state machine; it knows nothing of timers or records.
 *
 * States and their actions (how each request is answered in them) are documented in
 * `/work/shared/reference/group-coordinator.md` §1 and implemented in `coordinator.ts`; this file
 * enforces the transition table on every move.
 */

import { CONSUMER_PROTOCOL_TYPE, subscribedTopicsOf } from '../../protocol/consumer-protocol.ts'
import { ErrorCode } from '../../protocol/errors.ts'
import type { Ownership, RebalanceHistoryEntry, RebalanceMember, RebalanceMemberEntry } from './history.ts'
import type { Deferred } from './result.ts'
import type { JoinGroupResponse, JoinGroupResponseMember, SyncGroupResponse } from './types.ts'

export type GroupState = 'Empty' | 'PreparingRebalance' | 'CompletingRebalance' | 'Stable' | 'Dead'

export const GROUP_STATES: readonly GroupState[] = ['Empty', 'PreparingRebalance', 'CompletingRebalance', 'Stable', 'Dead']

/** Allowed previous states of each state (Kafka `ClassicGroupState` static block). */
export const VALID_PREVIOUS_STATES: Readonly<Record<GroupState, readonly GroupState[]>> = Object.freeze({
  Empty: ['PreparingRebalance'],
  PreparingRebalance: ['Stable', 'CompletingRebalance', 'Empty'],
  CompletingRebalance: ['PreparingRebalance'],
  Stable: ['CompletingRebalance'],
  Dead: ['Stable', 'PreparingRebalance', 'CompletingRebalance', 'Empty', 'Dead'],
})

export class IllegalStateTransitionError extends Error {
  override readonly name = 'IllegalStateTransitionError'
  constructor(
    readonly groupId: string,
    readonly from: GroupState,
    readonly to: GroupState,
  ) {
    super(`group ${groupId} should be in one of [${VALID_PREVIOUS_STATES[to].join(', ')}] before moving to ${to}, but is in ${from}`)
  }
}

export interface Protocol {
  readonly name: string
  readonly metadata: Buffer
}

/** The zero-length assignment Kafka stores for a member without one (`EMPTY_ASSIGNMENT`). */
export const NO_ASSIGNMENT: Buffer = Buffer.alloc(0)

export class ClassicGroupMember {
  readonly memberId: string
  readonly groupInstanceId: string | null
  readonly clientId: string
  readonly clientHost: string
  readonly protocolType: string
  rebalanceTimeoutMs: number
  sessionTimeoutMs: number
  /** In the member's order of preference. */
  protocols: readonly Protocol[]
  assignment: Buffer
  /** The parked JoinGroup, if any, and the API version it came with. */
  awaitingJoin: Deferred<JoinGroupResponse> | null = null
  joinVersion = 0
  awaitingSync: Deferred<SyncGroupResponse> | null = null
  /** Added in the current join phase: its parked JoinGroup can time out (newMemberJoinTimeoutMs). */
  isNew = false
  /** When its parked JoinGroup arrived (the first one of the current join phase); null when none is parked. */
  joinedAt: number | null = null

  constructor(init: {
    memberId: string
    groupInstanceId: string | null
    clientId: string
    clientHost: string
    rebalanceTimeoutMs: number
    sessionTimeoutMs: number
    protocolType: string
    protocols: readonly Protocol[]
    assignment?: Buffer
  }) {
    this.memberId = init.memberId
    this.groupInstanceId = init.groupInstanceId
    this.clientId = init.clientId
    this.clientHost = init.clientHost
    this.rebalanceTimeoutMs = init.rebalanceTimeoutMs
    this.sessionTimeoutMs = init.sessionTimeoutMs
    this.protocolType = init.protocolType
    this.protocols = init.protocols
    this.assignment = init.assignment ?? NO_ASSIGNMENT
  }

  #identity: RebalanceMember | undefined

  /** Its identity, as the rebalance history records it (one object per member, shared by every entry). */
  get identity(): RebalanceMember {
    this.#identity ??= {
      memberId: this.memberId,
      groupInstanceId: this.groupInstanceId,
      clientId: this.clientId,
      clientHost: this.clientHost,
    }
    return this.#identity
  }

  get isStatic(): boolean {
    return this.groupInstanceId !== null
  }

  get isAwaitingJoin(): boolean {
    return this.awaitingJoin !== null
  }

  get isAwaitingSync(): boolean {
    return this.awaitingSync !== null
  }

  /** The member's metadata for a protocol it supports. */
  metadata(protocolName: string): Buffer {
    for (const p of this.protocols) if (p.name === protocolName) return p.metadata
    throw new Error(`member ${this.memberId} does not support protocol ${protocolName}`)
  }

  /** Same protocols, same order, same metadata bytes. */
  matches(protocols: readonly Protocol[]): boolean {
    if (protocols.length !== this.protocols.length) return false
    for (let i = 0; i < protocols.length; i++) {
      const a = protocols[i] as Protocol
      const b = this.protocols[i] as Protocol
      if (a.name !== b.name || !a.metadata.equals(b.metadata)) return false
    }
    return true
  }

  /** The member's most preferred protocol among the candidates. */
  vote(candidates: ReadonlySet<string>): string {
    for (const p of this.protocols) if (candidates.has(p.name)) return p.name
    throw new Error(`member ${this.memberId} supports none of the candidate protocols`)
  }

  /** Whether an expiring session timer should spare this member (Kafka `hasSatisfiedHeartbeat`). */
  hasSatisfiedHeartbeat(): boolean {
    // New members can be expired even while awaiting join; members waiting on a rebalance are alive.
    if (this.isNew) return false
    return this.isAwaitingJoin || this.isAwaitingSync
  }
}

/** Why a group entered PreparingRebalance (recorded in the rebalance history). */
export type RebalanceTrigger =
  | 'join'
  | 'leave'
  | 'session-timeout'
  | 'subscription-change'
  | 'metadata-change'
  | 'static-replacement'
  | 'sync-timeout'

export interface RebalanceInProgress {
  readonly trigger: RebalanceTrigger
  readonly reason: string
  readonly startedAt: number
  /** Members when it started: their wait for the new generation starts then (later joiners' when they join). */
  readonly membersAtStart: ReadonlySet<string>
}

/** The history entry of the current generation while members are still getting their assignments. */
export interface OpenRebalance {
  readonly entry: RebalanceHistoryEntry
  readonly byMember: ReadonlyMap<string, RebalanceMemberEntry>
  /** Members of the new generation still waiting for their assignment. */
  unsynced: number
}

export class ClassicGroup {
  readonly groupId: string
  /** The rebalance under way (set on entering PreparingRebalance, cleared when the join phase completes). */
  rebalance: RebalanceInProgress | null = null
  /** Members of the last completed generation (the "before" of the next rebalance). */
  lastGenerationMembers: readonly RebalanceMember[] = []
  /** What each member owned in the last Stable generation (the "before" of the next assignment diff). */
  lastAssignment: ReadonlyMap<string, Ownership> = new Map()
  /** The current generation's history entry, until the next rebalance starts. */
  openRebalance: OpenRebalance | null = null
  state: GroupState
  previousState: GroupState = 'Dead'
  /** When the group entered its current state; null when unknown (loaded from an old record). */
  currentStateTimestamp: number | null
  protocolType: string | null
  protocolName: string | null
  generationId: number
  leaderId: string | null
  /** Insertion-ordered: leader election and the leader's member list follow this order. */
  readonly members = new Map<string, ClassicGroupMember>()
  /** group instance id → member id */
  readonly staticMembers = new Map<string, string>()
  /** Dynamic members told MEMBER_ID_REQUIRED that have not rejoined yet. */
  readonly pendingJoinMembers = new Set<string>()
  /** Members expected to send SyncGroup in the current generation. */
  readonly pendingSyncMembers = new Set<string>()
  numMembersAwaitingJoin = 0
  /** protocol name → number of members supporting it */
  readonly supportedProtocols = new Map<string, number>()
  /** Topics the members subscribe to (consumer protocol only); undefined when unknown. */
  subscribedTopics: ReadonlySet<string> | undefined = undefined
  /** A member joined during the initial rebalance delay: extend the delay. */
  newMemberAdded = false
  /** Touched by a request or timer in this process (as opposed to only materialized from the log). */
  live = false

  constructor(init: {
    groupId: string
    state: GroupState
    nowMs: number | null
    generationId?: number
    protocolType?: string | null
    protocolName?: string | null
    leaderId?: string | null
  }) {
    this.groupId = init.groupId
    this.state = init.state
    this.currentStateTimestamp = init.nowMs
    this.generationId = init.generationId ?? 0
    this.protocolType = init.protocolType ?? null
    this.protocolName = init.protocolName ?? null
    this.leaderId = init.leaderId ?? null
  }

  is(state: GroupState): boolean {
    return this.state === state
  }

  get isEmpty(): boolean {
    return this.state === 'Empty'
  }

  get usesConsumerProtocol(): boolean {
    return this.protocolType === CONSUMER_PROTOCOL_TYPE
  }

  /** A group with no protocol type and no members: used only to store offsets (`assign()` or admin commits). */
  get isSimpleGroup(): boolean {
    return this.protocolType === null && this.isEmpty && this.pendingJoinMembers.size === 0
  }

  get numMembers(): number {
    return this.members.size
  }

  hasMember(memberId: string): boolean {
    return this.members.has(memberId)
  }

  member(memberId: string): ClassicGroupMember | undefined {
    return this.members.get(memberId)
  }

  isLeader(memberId: string): boolean {
    return this.leaderId !== null && this.leaderId === memberId
  }

  staticMemberId(groupInstanceId: string): string | undefined {
    return this.staticMembers.get(groupInstanceId)
  }

  /** The group's rebalance timeout: the largest of its members'. */
  get rebalanceTimeoutMs(): number {
    let max = 0
    for (const m of this.members.values()) if (m.rebalanceTimeoutMs > max) max = m.rebalanceTimeoutMs
    return max
  }

  get canRebalance(): boolean {
    return VALID_PREVIOUS_STATES.PreparingRebalance.includes(this.state)
  }

  transitionTo(to: GroupState, nowMs: number): void {
    if (!VALID_PREVIOUS_STATES[to].includes(this.state)) throw new IllegalStateTransitionError(this.groupId, this.state, to)
    this.previousState = this.state
    this.state = to
    this.currentStateTimestamp = nowMs
  }

  // --- membership ---------------------------------------------------------------------------

  add(member: ClassicGroupMember, join: Deferred<JoinGroupResponse> | null = null, joinVersion = 0): void {
    if (member.groupInstanceId !== null) {
      if (this.staticMembers.has(member.groupInstanceId)) {
        throw new Error(`static member ${member.groupInstanceId} cannot be added to group ${this.groupId}: it is already a member`)
      }
      this.staticMembers.set(member.groupInstanceId, member.memberId)
    }
    if (this.members.size === 0) this.protocolType = member.protocolType
    if (this.protocolType !== member.protocolType) throw new Error('the group and the member must use the same protocol type')
    if (this.leaderId === null) this.leaderId = member.memberId
    this.members.set(member.memberId, member)
    this.#countProtocols(member.protocols, 1)
    member.awaitingJoin = join
    member.joinVersion = joinVersion
    if (join !== null) this.numMembersAwaitingJoin++
    this.pendingJoinMembers.delete(member.memberId)
  }

  /** Removes a member or a pending member. A removed leader is replaced by the first remaining member. */
  remove(memberId: string): ClassicGroupMember | undefined {
    const removed = this.members.get(memberId)
    if (removed !== undefined) {
      this.members.delete(memberId)
      this.#countProtocols(removed.protocols, -1)
      if (removed.isAwaitingJoin) this.numMembersAwaitingJoin--
      if (removed.groupInstanceId !== null) this.staticMembers.delete(removed.groupInstanceId)
    }
    if (this.isLeader(memberId)) {
      const first = this.members.keys().next()
      this.leaderId = first.done ? null : first.value
    }
    this.pendingJoinMembers.delete(memberId)
    this.pendingSyncMembers.delete(memberId)
    return removed
  }

  addPendingMember(memberId: string): void {
    if (this.hasMember(memberId)) throw new Error(`pending member ${memberId} is already a member of group ${this.groupId}`)
    this.pendingJoinMembers.add(memberId)
  }

  isPendingMember(memberId: string): boolean {
    return this.pendingJoinMembers.has(memberId)
  }

  /**
   * Replaces a static member's id (KIP-345): the new member keeps the old one's identity, timeouts,
   * protocols and assignment; the old member's parked Join/Sync are fenced with FENCED_INSTANCE_ID.
   */
  replaceStaticMember(groupInstanceId: string, oldMemberId: string, newMemberId: string): ClassicGroupMember {
    const old = this.members.get(oldMemberId)
    if (old === undefined) throw new Error(`cannot replace non-existing member ${oldMemberId}`)
    this.members.delete(oldMemberId)
    this.completeJoin(old, {
      throttleTimeMs: 0,
      errorCode: ErrorCode.FENCED_INSTANCE_ID,
      generationId: -1,
      protocolType: null,
      protocolName: null,
      leader: '',
      skipAssignment: false,
      memberId: oldMemberId,
      members: [],
    })
    this.completeSync(old, {
      throttleTimeMs: 0,
      errorCode: ErrorCode.FENCED_INSTANCE_ID,
      protocolType: null,
      protocolName: null,
      assignment: NO_ASSIGNMENT,
    })
    const replacement = new ClassicGroupMember({
      memberId: newMemberId,
      groupInstanceId: old.groupInstanceId,
      clientId: old.clientId,
      clientHost: old.clientHost,
      rebalanceTimeoutMs: old.rebalanceTimeoutMs,
      sessionTimeoutMs: old.sessionTimeoutMs,
      protocolType: old.protocolType,
      protocols: old.protocols,
      assignment: old.assignment,
    })
    this.members.set(newMemberId, replacement)
    if (this.pendingSyncMembers.delete(oldMemberId)) this.pendingSyncMembers.add(newMemberId)
    if (this.isLeader(oldMemberId)) this.leaderId = newMemberId
    this.staticMembers.set(groupInstanceId, newMemberId)
    return replacement
  }

  /** New protocols, timeouts and parked JoinGroup for an existing member. */
  updateMember(
    member: ClassicGroupMember,
    protocols: readonly Protocol[],
    rebalanceTimeoutMs: number,
    sessionTimeoutMs: number,
    join: Deferred<JoinGroupResponse> | null,
    joinVersion: number,
  ): Deferred<JoinGroupResponse> | null {
    this.#countProtocols(member.protocols, -1)
    member.protocols = protocols
    this.#countProtocols(protocols, 1)
    member.rebalanceTimeoutMs = rebalanceTimeoutMs
    member.sessionTimeoutMs = sessionTimeoutMs
    if (join !== null && !member.isAwaitingJoin) this.numMembersAwaitingJoin++
    else if (join === null && member.isAwaitingJoin) this.numMembersAwaitingJoin--
    const superseded = member.awaitingJoin
    member.awaitingJoin = join
    member.joinVersion = joinVersion
    return superseded !== join ? superseded : null
  }

  /** Answers a member's parked JoinGroup, if any. */
  completeJoin(member: ClassicGroupMember, response: JoinGroupResponse): boolean {
    const d = member.awaitingJoin
    if (d === null) return false
    member.awaitingJoin = null
    member.joinedAt = null
    this.numMembersAwaitingJoin--
    d.resolve(shapeJoinResponse(response, member.joinVersion))
    return true
  }

  /** Answers a member's parked SyncGroup, if any. */
  completeSync(member: ClassicGroupMember, response: SyncGroupResponse): boolean {
    const d = member.awaitingSync
    if (d === null) return false
    member.awaitingSync = null
    d.resolve(response)
    return true
  }

  /** Members that have not sent a JoinGroup in the current join phase. */
  notYetRejoinedMembers(): ClassicGroupMember[] {
    const out: ClassicGroupMember[] = []
    for (const m of this.members.values()) if (!m.isAwaitingJoin) out.push(m)
    return out
  }

  hasAllMembersJoined(): boolean {
    return this.members.size === this.numMembersAwaitingJoin && this.pendingJoinMembers.size === 0
  }

  /**
   * Keeps the leader if it rejoined; otherwise elects the first rejoined member (map order).
   * False when no member rejoined (or there are no members).
   */
  maybeElectNewJoinedLeader(): boolean {
    if (this.leaderId === null) return false
    const leader = this.members.get(this.leaderId)
    if (leader?.isAwaitingJoin) return true
    for (const m of this.members.values()) {
      if (m.isAwaitingJoin) {
        this.leaderId = m.memberId
        return true
      }
    }
    return false
  }

  // --- protocols ----------------------------------------------------------------------------

  #countProtocols(protocols: readonly Protocol[], delta: number): void {
    for (const p of protocols) this.supportedProtocols.set(p.name, (this.supportedProtocols.get(p.name) ?? 0) + delta)
  }

  /** Protocol names every member supports. */
  candidateProtocols(): Set<string> {
    const out = new Set<string>()
    const n = this.members.size
    for (const [name, count] of this.supportedProtocols) if (count === n) out.add(name)
    return out
  }

  /** Whether a member with this protocol type and these protocols may join (INCONSISTENT_GROUP_PROTOCOL otherwise). */
  supportsProtocols(memberProtocolType: string, memberProtocols: readonly Protocol[]): boolean {
    if (this.isEmpty) return memberProtocolType !== '' && memberProtocols.length > 0
    if (this.protocolType !== memberProtocolType) return false
    const n = this.members.size
    for (const p of memberProtocols) if ((this.supportedProtocols.get(p.name) ?? 0) === n) return true
    return false
  }

  /**
   * The protocol for the next generation: each member votes for its most preferred candidate (a protocol
   * every member supports) and the most votes win. Kafka breaks ties by hash-map order; Cohort breaks them
   * by the leader's preference order, then by name, so the result is deterministic.
   */
  selectProtocol(): string {
    if (this.members.size === 0) throw new Error(`cannot select a protocol for empty group ${this.groupId}`)
    const candidates = this.candidateProtocols()
    const votes = new Map<string, number>()
    for (const m of this.members.values()) {
      const v = m.vote(candidates)
      votes.set(v, (votes.get(v) ?? 0) + 1)
    }
    let best = 0
    for (const n of votes.values()) if (n > best) best = n
    const tied = [...votes].filter(([, n]) => n === best).map(([name]) => name)
    if (tied.length === 1) return tied[0] as string
    const leader = this.leaderId === null ? undefined : this.members.get(this.leaderId)
    if (leader !== undefined) for (const p of leader.protocols) if (tied.includes(p.name)) return p.name
    return tied.sort()[0] as string
  }

  /** Recomputes the topics the members subscribe to (consumer protocol), as Kafka does on each generation. */
  computeSubscribedTopics(): ReadonlySet<string> | undefined {
    if (this.protocolType !== CONSUMER_PROTOCOL_TYPE) return undefined
    if (this.members.size === 0) return new Set()
    if (this.protocolName === null) return undefined
    const all = new Set<string>()
    for (const m of this.members.values()) {
      let metadata: Buffer
      try {
        metadata = m.metadata(this.protocolName)
      } catch {
        return undefined
      }
      const topics = subscribedTopicsOf(metadata)
      if (topics === undefined) return undefined
      for (const t of topics) all.add(t)
    }
    return all
  }

  /** Whether the group's members subscribe to a topic; unknown subscriptions of a consumer group count as subscribed. */
  isSubscribedToTopic(topic: string): boolean {
    if (this.subscribedTopics !== undefined) return this.subscribedTopics.has(topic)
    return this.usesConsumerProtocol
  }

  /** generation++, select the protocol, → CompletingRebalance (or → Empty when nobody is left). */
  initNextGeneration(nowMs: number): void {
    this.generationId++
    if (this.members.size > 0) {
      this.protocolName = this.selectProtocol()
      this.subscribedTopics = this.computeSubscribedTopics()
      this.transitionTo('CompletingRebalance', nowMs)
    } else {
      this.protocolName = null
      this.subscribedTopics = this.computeSubscribedTopics()
      this.transitionTo('Empty', nowMs)
    }
    this.pendingSyncMembers.clear()
  }

  /** The member list the leader receives: id, instance id and metadata for the selected protocol. */
  currentMembersForLeader(): JoinGroupResponseMember[] {
    if (this.is('Dead') || this.is('PreparingRebalance')) {
      throw new Error(`cannot list member metadata of group ${this.groupId} in state ${this.state}`)
    }
    const protocol = this.protocolName ?? ''
    const out: JoinGroupResponseMember[] = []
    for (const m of this.members.values())
      out.push({ memberId: m.memberId, groupInstanceId: m.groupInstanceId, metadata: m.metadata(protocol) })
    return out
  }

  /** member id → assignment of every member. */
  groupAssignment(): Map<string, Buffer> {
    const out = new Map<string, Buffer>()
    for (const m of this.members.values()) out.set(m.memberId, m.assignment)
    return out
  }
}

/** Version-specific shaping of a JoinGroup response: before v7 the protocol name is not nullable. */
export function shapeJoinResponse(r: JoinGroupResponse, version: number): JoinGroupResponse {
  if (version < 7 && r.protocolName === null) return { ...r, protocolName: '' }
  return r
}
