/**
 * The algorithm shared by `sticky` and `cooperative-sticky`, after Java's `AbstractStickyAssignor`
 * (Kafka 3.x/4.x, without the rack-aware parts: those need replica racks, which `partitionsPerTopic` does
 * not carry, and with no replica racks Java skips them too).
 *
 * 1. Previously owned partitions are collected from each member's MemberData (owned partitions + generation).
 *    A partition claimed by several members goes to the highest generation; claimed twice in the same
 *    generation, it is taken from all of them ("partitionsWithMultiplePreviousOwners").
 * 2. All subscriptions identical → the constrained builder: every member keeps up to its quota (⌊P/N⌋, or
 *    ⌈P/N⌉ for the first P mod N members that own that many) of its owned partitions, sorted by partition
 *    then topic; the rest are dealt round-robin to the members below quota, sorted by member id. Balanced
 *    within one partition, and it moves the fewest partitions that balance allows.
 * 3. Otherwise → the general builder: keep what is still subscribed, give each unassigned partition to the
 *    least-loaded subscribed member, then move partitions from members with ≥2 more than another eligible
 *    member until no such move remains (preferring a partition's previous-generation owner, and undoing
 *    moves between the same two members in one rebalance), reverting if the balance did not improve.
 *
 * Ties follow Java's: member iteration is Java's HashMap order (see java-hash.ts), member lists are sorted by
 * member id, partitions by Java's comparators. Deviations, all for inputs where Java misbehaves:
 *  - maxGeneration is computed per call (Java keeps it in the assignor instance and never lowers it);
 *  - a first member (in map order) with an empty subscription does not make every later subscription
 *    "equal" (Java's check restarts from the next non-empty one and can then assign a topic to a member
 *    that does not subscribe to it);
 *  - a previous-generation owner is only preferred when it still subscribes to the topic and takes part in
 *    the reassignment (Java would assign it a partition of a topic it left, or throw an NPE);
 *  - claimed partitions of unknown topics, or beyond the topic's partition count, and duplicates within
 *    one member's claim, are ignored;
 *  - Java's balancing loop can run forever: when a partition of a topic already moved from the target to
 *    another member in this rebalance, Java moves that one back instead, even when its holder is not the
 *    overloaded member, and two members can then pass a partition back and forth without end (found by
 *    differential testing; Java's own assignor hangs on those inputs). Such substitutions that do not
 *    improve the balance are counted, and past 64 + (number of partitions) of them the balancing is redone
 *    from its start using a substitution only when it improves the balance. Every move then lowers the
 *    balance score, so it ends; inputs on which Java ends are not affected unless they needed that many.
 */
import { checkMembers, compareStrings, javaMemberOrder, subscribedTopicCounts } from './common.ts'
import { JavaHashSet, javaStringHash, javaTopicPartitionHash } from './java-hash.ts'
import type { MemberSubscription, TopicPartition } from './types.ts'
import type { MemberData } from './user-data.ts'

export const DEFAULT_GENERATION = -1

/** Dense ids for the partitions of the assigned topics: topics sorted by name, then partition number. */
export class PartitionIndex {
  readonly topics: string[]
  readonly counts: number[]
  readonly offsets: number[]
  readonly total: number
  readonly #topicIndex = new Map<string, number>()
  readonly #topicOf: Int32Array
  readonly #topicHash: number[]

  constructor(counts: ReadonlyMap<string, number>) {
    this.topics = [...counts.keys()].sort(compareStrings)
    this.counts = this.topics.map((t) => counts.get(t)!)
    this.offsets = []
    let total = 0
    this.topics.forEach((t, i) => {
      this.#topicIndex.set(t, i)
      this.offsets.push(total)
      total += this.counts[i]
    })
    this.total = total
    this.#topicOf = new Int32Array(total)
    for (let i = 0; i < this.topics.length; i++) this.#topicOf.fill(i, this.offsets[i], this.offsets[i] + this.counts[i])
    this.#topicHash = this.topics.map(javaStringHash)
  }

  topicIndex(topic: string): number | undefined {
    return this.#topicIndex.get(topic)
  }

  /** The id of a partition, or undefined when the topic is not assigned or the partition does not exist. */
  id(tp: TopicPartition): number | undefined {
    const t = this.#topicIndex.get(tp.topic)
    if (t === undefined || !Number.isInteger(tp.partition) || tp.partition < 0 || tp.partition >= this.counts[t]) return undefined
    return this.offsets[t] + tp.partition
  }

  topicOf(id: number): number {
    return this.#topicOf[id]
  }

  partitionOf(id: number): number {
    return id - this.offsets[this.#topicOf[id]]
  }

  tp(id: number): TopicPartition {
    const t = this.#topicOf[id]
    return { topic: this.topics[t], partition: id - this.offsets[t] }
  }

  /** Java's `TopicPartition.hashCode()`. */
  javaHash(id: number): number {
    const t = this.#topicOf[id]
    return javaTopicPartitionHash(this.#topicHash[t], id - this.offsets[t])
  }
}

export interface StickyResult {
  index: PartitionIndex
  /** Every member (input order) → partition ids. */
  assignment: Map<string, number[]>
  /**
   * Constrained builder only: partition id → new owner, for partitions that a member still owns (or that
   * several members claimed) and that now go to another member. null from the general builder, where the
   * cooperative assignor must compute it from the owned partitions (Java `partitionsTransferringOwnership`).
   */
  transferring: Map<number, string> | null
}

/** Runs the sticky algorithm. `memberData` extracts each member's claim (sticky: userData; cooperative: owned). */
export function assignSticky(
  members: readonly MemberSubscription[],
  partitionsPerTopic: ReadonlyMap<string, number>,
  memberData: (m: MemberSubscription) => MemberData,
): StickyResult {
  checkMembers(members)
  const index = new PartitionIndex(subscribedTopicCounts(members, partitionsPerTopic))
  const order = javaMemberOrder(members)
  const assignment = new Map<string, number[]>()
  if (order.length === 0) return { index, assignment, transferring: new Map() }

  const data = new Map<string, MemberData>()
  for (const m of order) data.set(m.memberId, dedupe(memberData(m)))
  const claims = collectClaims(order, data, index)

  let built: Map<string, number[]>
  let transferring: Map<number, string> | null
  if (claims.allSubscriptionsEqual) {
    const b = new ConstrainedBuilder(index, claims)
    built = b.build()
    transferring = b.transferring
  } else {
    built = new GeneralBuilder(index, order, data, claims).build()
    transferring = null
  }
  for (const m of members) assignment.set(m.memberId, built.get(m.memberId) ?? [])
  return { index, assignment, transferring }
}

function dedupe(md: MemberData): MemberData {
  const seen = new Set<string>()
  const partitions: TopicPartition[] = []
  for (const tp of md.partitions) {
    const k = `${tp.partition}:${tp.topic}`
    if (seen.has(k)) continue
    seen.add(k)
    partitions.push(tp)
  }
  return { partitions, generation: md.generation }
}

interface Claims {
  allSubscriptionsEqual: boolean
  /** Each member (Java map order) → the partitions it keeps claiming after conflicts are resolved. */
  owned: Map<string, number[]>
  multiplePreviousOwners: Set<number>
  maxGeneration: number
}

function removeFirst(list: number[], id: number): void {
  const i = list.indexOf(id)
  if (i >= 0) list.splice(i, 1)
}

/** Java `allSubscriptionsEqual`: compares subscriptions and resolves conflicting claims by generation. */
function collectClaims(order: readonly MemberSubscription[], data: ReadonlyMap<string, MemberData>, index: PartitionIndex): Claims {
  let allSubscriptionsEqual = true
  let first: Set<string> | null = null
  const owned = new Map<string, number[]>()
  const multiplePreviousOwners = new Set<number>()
  const previousOwner = new Map<number, string>()
  const subscriptionGeneration = new Map<string, number>()
  let maxGeneration = DEFAULT_GENERATION

  for (const m of order) {
    subscriptionGeneration.set(m.memberId, m.generationId >= 0 ? m.generationId : DEFAULT_GENERATION)
    if (first === null) first = new Set(m.topics)
    else if (allSubscriptionsEqual && !(m.topics.length === first.size && m.topics.every((t) => first!.has(t))))
      allSubscriptionsEqual = false

    const md = data.get(m.memberId)!
    const generation = md.generation ?? DEFAULT_GENERATION
    maxGeneration = Math.max(maxGeneration, generation)
    const mine: number[] = []
    owned.set(m.memberId, mine)
    for (const tp of md.partitions) {
      const id = index.id(tp)
      if (id === undefined) continue
      const other = previousOwner.get(id)
      if (other === undefined) {
        mine.push(id)
        previousOwner.set(id, m.memberId)
        continue
      }
      // Java compares this member's MemberData generation with the *subscription* generation of the
      // other claimant (they agree for cooperative-sticky and for clients that send Subscription v2+).
      const otherGeneration = subscriptionGeneration.get(other)!
      if (generation === otherGeneration) {
        multiplePreviousOwners.add(id)
        removeFirst(owned.get(other)!, id)
        previousOwner.set(id, m.memberId)
      } else if (generation > otherGeneration) {
        mine.push(id)
        removeFirst(owned.get(other)!, id)
        previousOwner.set(id, m.memberId)
      }
    }
  }
  return { allSubscriptionsEqual, owned, multiplePreviousOwners, maxGeneration }
}

// --- identical subscriptions -------------------------------------------------------------------------

class ConstrainedBuilder {
  readonly transferring = new Map<number, string>()
  readonly #index: PartitionIndex
  readonly #claims: Claims
  readonly #assignment = new Map<string, number[]>()
  readonly #maybeRevoked = new Map<number, string>()
  readonly #minQuota: number
  readonly #maxQuota: number
  readonly #expectedOverMin: number
  #currentOverMin = 0
  /** Members below minQuota: Java's LinkedList plus the position of its live iterator. */
  #under: string[] = []
  #underCursor = 0
  /** Members at exactly minQuota that may still take one more. */
  #exact: string[] = []

  constructor(index: PartitionIndex, claims: Claims) {
    this.#index = index
    this.#claims = claims
    const n = claims.owned.size
    this.#minQuota = Math.floor(index.total / n)
    this.#maxQuota = Math.ceil(index.total / n)
    this.#expectedOverMin = index.total % n
    for (const m of claims.owned.keys()) this.#assignment.set(m, [])
  }

  build(): Map<string, number[]> {
    const assigned = new Uint8Array(this.#index.total)
    this.#assignOwnedPartitions(assigned)
    const unassigned: number[] = []
    for (let id = 0; id < this.#index.total; id++) if (assigned[id] === 0) unassigned.push(id)
    this.#under.sort(compareStrings)
    this.#exact.sort(compareStrings)
    this.#assignRoundRobin(unassigned)
    this.#verifyUnfilledMembers()
    return this.#assignment
  }

  #assignOwnedPartitions(assigned: Uint8Array): void {
    const index = this.#index
    const byPartitionThenTopic = (a: number, b: number): number =>
      index.partitionOf(a) - index.partitionOf(b) || index.topicOf(a) - index.topicOf(b)
    for (const [consumer, claimed] of this.#claims.owned) {
      const owned = [...claimed].sort(byPartitionThenTopic)
      for (const id of this.#claims.multiplePreviousOwners) removeFirst(owned, id)
      const mine = this.#assignment.get(consumer)!
      const keep = (n: number): void => {
        for (let i = 0; i < n; i++) {
          mine.push(owned[i])
          assigned[owned[i]] = 1
        }
        for (let i = n; i < owned.length; i++) this.#maybeRevoked.set(owned[i], consumer)
      }
      if (owned.length < this.#minQuota) {
        keep(owned.length)
        this.#under.push(consumer)
      } else if (owned.length >= this.#maxQuota && this.#currentOverMin < this.#expectedOverMin) {
        this.#currentOverMin++
        if (this.#currentOverMin === this.#expectedOverMin) this.#exact.length = 0
        keep(this.#maxQuota)
      } else {
        keep(this.#minQuota)
        if (this.#currentOverMin < this.#expectedOverMin) this.#exact.push(consumer)
      }
    }
  }

  #assignRoundRobin(unassigned: readonly number[]): void {
    for (let i = 0; i < unassigned.length; i++) {
      const id = unassigned[i]
      let consumer: string
      let fromUnder: boolean
      if (this.#underCursor < this.#under.length) {
        consumer = this.#under[this.#underCursor++]
        fromUnder = true
      } else if (this.#under.length === 0 && this.#exact.length === 0) {
        throw new Error(`sticky: no more unfilled members for ${unassigned.length - i} unassigned partitions`)
      } else if (this.#under.length === 0) {
        consumer = this.#exact.shift()!
        fromUnder = false
      } else {
        this.#underCursor = 0
        consumer = this.#under[this.#underCursor++]
        fromUnder = true
      }

      const count = this.#assignNewPartition(id, consumer)
      if (count === this.#minQuota) {
        if (fromUnder) this.#under.splice(--this.#underCursor, 1) // the iterator's remove()
        this.#exact.push(consumer)
      } else if (count === this.#maxQuota) {
        this.#currentOverMin++
      }
    }
  }

  #assignNewPartition(id: number, consumer: string): number {
    const mine = this.#assignment.get(consumer)!
    mine.push(id)
    const previous = this.#maybeRevoked.get(id)
    if ((previous !== undefined && previous !== consumer) || this.#claims.multiplePreviousOwners.has(id)) {
      this.transferring.set(id, consumer)
    }
    return mine.length
  }

  #verifyUnfilledMembers(): void {
    if (this.#under.length === 0) return
    if (this.#currentOverMin !== this.#expectedOverMin) {
      throw new Error('sticky: members are below minQuota but no partitions are left to assign')
    }
    for (const m of this.#under) {
      if (this.#assignment.get(m)!.length !== this.#minQuota) throw new Error(`sticky: member ${m} did not reach minQuota`)
    }
  }
}

// --- differing subscriptions -------------------------------------------------------------------------

/** Java's `TreeSet<String>` ordered by (number of assigned partitions, member id). */
class SizeOrderedMembers {
  readonly #sizeOf: (member: string) => number
  readonly #items: { member: string; size: number }[] = []
  readonly #keyOf = new Map<string, number>()

  constructor(sizeOf: (member: string) => number) {
    this.#sizeOf = sizeOf
  }

  get size(): number {
    return this.#items.length
  }

  #position(member: string, size: number): number {
    let lo = 0
    let hi = this.#items.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      const e = this.#items[mid]
      if ((e.size - size || compareStrings(e.member, member)) < 0) lo = mid + 1
      else hi = mid
    }
    return lo
  }

  add(member: string): void {
    if (this.#keyOf.has(member)) return
    const size = this.#sizeOf(member)
    this.#items.splice(this.#position(member, size), 0, { member, size })
    this.#keyOf.set(member, size)
  }

  delete(member: string): void {
    const size = this.#keyOf.get(member)
    if (size === undefined) return
    this.#items.splice(this.#position(member, size), 1)
    this.#keyOf.delete(member)
  }

  /** The i-th member in order (0 = fewest partitions). */
  at(i: number): string {
    return this.#items[i].member
  }

  first(): string {
    return this.#items[0].member
  }

  last(): string {
    return this.#items[this.#items.length - 1].member
  }

  *[Symbol.iterator](): IterableIterator<string> {
    for (const e of this.#items) yield e.member
  }
}

/** Java's `PartitionMovements`: which partitions moved between which members, per topic. */
class PartitionMovements {
  readonly #index: PartitionIndex
  /** topic → source member → destination member → partitions (Java HashSet order). */
  readonly #byTopic = new Map<number, Map<string, Map<string, JavaHashSet<number>>>>()
  readonly #moves = new Map<number, { src: string; dst: string }>()

  constructor(index: PartitionIndex) {
    this.#index = index
  }

  #remove(id: number): { src: string; dst: string } {
    const pair = this.#moves.get(id)!
    this.#moves.delete(id)
    const topic = this.#index.topicOf(id)
    const forTopic = this.#byTopic.get(topic)!
    const fromSrc = forTopic.get(pair.src)!
    const set = fromSrc.get(pair.dst)!
    set.delete(id)
    if (set.size === 0) {
      fromSrc.delete(pair.dst)
      if (fromSrc.size === 0) forTopic.delete(pair.src)
    }
    if (forTopic.size === 0) this.#byTopic.delete(topic)
    return pair
  }

  #add(id: number, src: string, dst: string): void {
    this.#moves.set(id, { src, dst })
    const topic = this.#index.topicOf(id)
    let forTopic = this.#byTopic.get(topic)
    if (forTopic === undefined) this.#byTopic.set(topic, (forTopic = new Map()))
    let fromSrc = forTopic.get(src)
    if (fromSrc === undefined) forTopic.set(src, (fromSrc = new Map()))
    let set = fromSrc.get(dst)
    if (set === undefined) fromSrc.set(dst, (set = new JavaHashSet((p) => this.#index.javaHash(p))))
    set.add(id)
  }

  movePartition(id: number, oldConsumer: string, newConsumer: string): void {
    if (this.#moves.has(id)) {
      const existing = this.#remove(id)
      if (existing.src !== newConsumer) this.#add(id, existing.src, newConsumer)
    } else {
      this.#add(id, oldConsumer, newConsumer)
    }
  }

  /** If partitions of this topic already moved newConsumer → oldConsumer, move one of those back instead. */
  actualPartitionToMove(id: number, oldConsumer: string, newConsumer: string): number {
    const forTopic = this.#byTopic.get(this.#index.topicOf(id))
    if (forTopic === undefined) return id
    const previous = this.#moves.get(id)
    const src = previous === undefined ? oldConsumer : previous.src
    const reverse = forTopic.get(newConsumer)?.get(src)
    return reverse === undefined ? id : reverse.first()!
  }
}

class GeneralBuilder {
  readonly #index: PartitionIndex
  readonly #order: readonly MemberSubscription[]
  readonly #data: ReadonlyMap<string, MemberData>
  readonly #claims: Claims
  /** topic → members subscribed to it (Java map order). */
  readonly #topicConsumers: string[][]
  /** member → subscribed topics that exist. */
  readonly #consumerTopics = new Map<string, number[]>()
  readonly #consumerTopicSet = new Map<string, Set<number>>()
  readonly #subscribedTopicNames = new Map<string, Set<string>>()
  /** Java `currentAssignment`; members taken out of the reassignment are not in it while balancing. */
  #current = new Map<string, Set<number>>()
  /** Java `currentPartitionConsumer`. */
  #owner: (string | undefined)[]
  #sortedAllPartitions: number[]
  readonly #sorted: SizeOrderedMembers
  #movements: PartitionMovements
  #revocationRequired = false
  /** Partitions of each topic held per member, for isBalanced. */
  #heldPerTopic: Map<string, number>[] = []
  /** Substitutions (see actualPartitionToMove) that did not improve the balance; past the limit, see #balance. */
  #nonImprovingMoves = 0
  readonly #nonImprovingLimit: number
  #safeMoves = false

  constructor(index: PartitionIndex, order: readonly MemberSubscription[], data: ReadonlyMap<string, MemberData>, claims: Claims) {
    this.#index = index
    this.#order = order
    this.#data = data
    this.#claims = claims
    this.#topicConsumers = index.topics.map(() => [])
    for (const m of order) {
      const topics: number[] = []
      for (const t of m.topics) {
        const ti = index.topicIndex(t)
        if (ti === undefined || topics.includes(ti)) continue
        topics.push(ti)
        this.#topicConsumers[ti].push(m.memberId)
      }
      this.#consumerTopics.set(m.memberId, topics)
      this.#consumerTopicSet.set(m.memberId, new Set(topics))
      this.#subscribedTopicNames.set(m.memberId, new Set(m.topics))
      this.#current.set(m.memberId, new Set(claims.owned.get(m.memberId)))
    }
    this.#owner = new Array(index.total)
    for (const [m, set] of this.#current) for (const id of set) this.#owner[id] = m

    // TopicComparator: fewer potential consumers first, then by name.
    const topicOrder = index.topics
      .map((_, i) => i)
      .sort((a, b) => this.#topicConsumers[a].length - this.#topicConsumers[b].length || a - b)
    this.#sortedAllPartitions = []
    for (const t of topicOrder) for (let p = 0; p < index.counts[t]; p++) this.#sortedAllPartitions.push(index.offsets[t] + p)

    this.#sorted = new SizeOrderedMembers((m) => this.#current.get(m)!.size)
    this.#movements = new PartitionMovements(index)
    this.#nonImprovingLimit = 64 + index.total
  }

  build(): Map<string, number[]> {
    const prevAssignment = this.#prepopulateCurrentAssignments()
    const assigned = this.#assignOwnedPartitions()
    const unassigned = this.#sortedAllPartitions.filter((id) => !assigned.has(id))
    for (const m of this.#current.keys()) this.#sorted.add(m)
    this.#balance(prevAssignment, unassigned)
    const out = new Map<string, number[]>()
    for (const [m, set] of this.#current) out.set(m, [...set])
    return out
  }

  /** The previous owner (from an older generation) of each partition, for a move back to it. */
  #prepopulateCurrentAssignments(): Map<number, { consumer: string; generation: number }> {
    const prev = new Map<number, { consumer: string; generation: number }>()
    const maxGeneration = this.#claims.maxGeneration
    const update = (partitions: readonly TopicPartition[], consumer: string, generation: number): void => {
      for (const tp of partitions) {
        const id = this.#index.id(tp)
        if (id === undefined) continue
        const existing = prev.get(id)
        if (existing === undefined || generation > existing.generation) prev.set(id, { consumer, generation })
      }
    }
    for (const m of this.#order) {
      const md = this.#data.get(m.memberId)!
      if (md.generation !== null && md.generation < maxGeneration) update(md.partitions, m.memberId, md.generation)
      else if (md.generation === null && maxGeneration > DEFAULT_GENERATION) update(md.partitions, m.memberId, DEFAULT_GENERATION)
    }
    return prev
  }

  #assignOwnedPartitions(): Set<number> {
    const assigned = new Set<number>()
    for (const [consumer, set] of this.#current) {
      const subscribed = this.#subscribedTopicNames.get(consumer)!
      for (const id of [...set]) {
        if (!subscribed.has(this.#index.topics[this.#index.topicOf(id)])) {
          // Java leaves currentPartitionConsumer pointing at the old owner until the partition is re-placed.
          set.delete(id)
          this.#revocationRequired = true
        } else {
          assigned.add(id)
        }
      }
    }
    return assigned
  }

  #size(member: string): number {
    return this.#current.get(member)!.size
  }

  #maxAssignmentSize(member: string): number {
    let n = 0
    for (const t of this.#consumerTopics.get(member)!) n += this.#index.counts[t]
    return n
  }

  #hold(member: string, id: number): void {
    const held = this.#heldPerTopic[this.#index.topicOf(id)]
    held.set(member, (held.get(member) ?? 0) + 1)
  }

  #release(member: string, id: number): void {
    const held = this.#heldPerTopic[this.#index.topicOf(id)]
    const n = held.get(member)! - 1
    if (n === 0) held.delete(member)
    else held.set(member, n)
  }

  #balance(prevAssignment: Map<number, { consumer: string; generation: number }>, unassigned: number[]): void {
    const index = this.#index
    this.#heldPerTopic = index.topics.map(() => new Map())
    for (const [m, set] of this.#current) for (const id of set) this.#hold(m, id)

    const initializing = this.#sorted.size === 0 || this.#size(this.#sorted.last()) === 0

    for (const id of unassigned) {
      if (this.#topicConsumers[index.topicOf(id)].length === 0) continue
      this.#maybeAssignPartition(id)
    }

    // Only topics with two or more potential consumers, and members that can gain or lose, take part.
    const movable = (id: number): boolean => this.#topicConsumers[index.topicOf(id)].length >= 2
    this.#sortedAllPartitions = this.#sortedAllPartitions.filter(movable)
    const reassignable = unassigned.filter(movable)
    const fixed = new Map<string, Set<number>>()
    for (const m of this.#consumerTopics.keys()) {
      if (!this.#canConsumerParticipate(m)) {
        this.#sorted.delete(m)
        fixed.set(m, this.#current.get(m)!)
        this.#current.delete(m)
      }
    }

    const preBalance = new Map<string, Set<number>>()
    for (const [m, set] of this.#current) preBalance.set(m, new Set(set))
    const preBalanceOwner = [...this.#owner]

    // With no revocation forced by subscription changes, first try to balance by moving new partitions only.
    const reassign = (): boolean => {
      if (!this.#revocationRequired) this.#performReassignments(reassignable, prevAssignment)
      return this.#performReassignments(this.#sortedAllPartitions, prevAssignment)
    }
    let reassignmentPerformed: boolean
    try {
      reassignmentPerformed = reassign()
    } catch (e) {
      if (!(e instanceof Diverged)) throw e
      // Start over from the pre-balance state, with substitutions only where they improve the balance.
      this.#current = new Map([...preBalance].map(([m, set]) => [m, new Set(set)]))
      this.#owner = [...preBalanceOwner]
      this.#heldPerTopic = index.topics.map(() => new Map())
      for (const [m, set] of this.#current) for (const id of set) this.#hold(m, id)
      for (const m of this.#current.keys()) {
        this.#sorted.delete(m)
        this.#sorted.add(m)
      }
      this.#movements = new PartitionMovements(index)
      this.#safeMoves = true
      reassignmentPerformed = reassign()
    }

    if (!initializing && reassignmentPerformed && balanceScore(this.#current) >= balanceScore(preBalance)) {
      this.#current = preBalance
      this.#owner = preBalanceOwner
    }

    for (const [m, set] of fixed) {
      this.#current.set(m, set)
      this.#sorted.add(m)
    }
  }

  #maybeAssignPartition(id: number): void {
    const topic = this.#index.topicOf(id)
    for (let i = 0; i < this.#sorted.size; i++) {
      const consumer = this.#sorted.at(i)
      if (this.#consumerTopicSet.get(consumer)!.has(topic)) {
        this.#sorted.delete(consumer)
        this.#current.get(consumer)!.add(id)
        this.#hold(consumer, id)
        this.#owner[id] = consumer
        this.#sorted.add(consumer)
        return
      }
    }
  }

  #canConsumerParticipate(member: string): boolean {
    const set = this.#current.get(member)!
    if (set.size < this.#maxAssignmentSize(member)) return true
    for (const id of set) if (this.#topicConsumers[this.#index.topicOf(id)].length >= 2) return true
    return false
  }

  /**
   * Java `isBalanced`: sizes differ by at most one, or no member that lacks some of its potential partitions
   * could take one from a member holding two or more partitions more than it. Java checks each partition;
   * checking each topic's holders is equivalent and much cheaper.
   */
  #isBalanced(): boolean {
    if (this.#size(this.#sorted.first()) >= this.#size(this.#sorted.last()) - 1) return true
    const busiestHolder = new Map<number, number>()
    const busiest = (topic: number): number => {
      let max = busiestHolder.get(topic)
      if (max === undefined) {
        max = 0
        for (const m of this.#heldPerTopic[topic].keys()) {
          const set = this.#current.get(m)
          if (set !== undefined && set.size > max) max = set.size
        }
        busiestHolder.set(topic, max)
      }
      return max
    }
    for (let i = 0; i < this.#sorted.size; i++) {
      const consumer = this.#sorted.at(i)
      const count = this.#size(consumer)
      if (count === this.#maxAssignmentSize(consumer)) continue
      for (const t of this.#consumerTopics.get(consumer)!) if (count + 1 < busiest(t)) return false
    }
    return true
  }

  #performReassignments(partitions: readonly number[], prevAssignment: Map<number, { consumer: string; generation: number }>): boolean {
    let performed = false
    let modified: boolean
    do {
      modified = false
      for (let i = 0; i < partitions.length && !this.#isBalanced(); i++) {
        const id = partitions[i]
        const consumer = this.#owner[id]
        if (consumer === undefined || !this.#current.has(consumer)) continue
        const topic = this.#index.topicOf(id)

        const prev = prevAssignment.get(id)
        if (
          prev !== undefined &&
          this.#current.has(prev.consumer) &&
          this.#consumerTopicSet.get(prev.consumer)!.has(topic) &&
          this.#size(consumer) > this.#size(prev.consumer) + 1
        ) {
          this.#reassignPartitionTo(id, prev.consumer)
          performed = modified = true
          continue
        }

        // Java asks whether any member taking part that subscribes to the topic has 2+ fewer partitions; the
        // least-loaded such member answers that, and is also where reassignPartition sends the partition.
        const lightest = this.#lightestSubscriber(topic)
        if (lightest !== undefined && this.#size(consumer) > this.#size(lightest) + 1) {
          this.#reassignPartitionTo(id, lightest)
          performed = modified = true
        }
      }
    } while (modified)
    return performed
  }

  /** Java `reassignPartition(partition)`'s choice: the first member in (size, id) order subscribed to the topic. */
  #lightestSubscriber(topic: number): string | undefined {
    for (let i = 0; i < this.#sorted.size; i++) {
      const m = this.#sorted.at(i)
      if (this.#consumerTopicSet.get(m)!.has(topic)) return m
    }
    return undefined
  }

  #reassignPartitionTo(id: number, newConsumer: string): void {
    const consumer = this.#owner[id]!
    let actual = this.#movements.actualPartitionToMove(id, consumer, newConsumer)
    // Moving `id` itself always improves the balance (its owner has 2+ more than newConsumer); a substitute's
    // holder may not.
    if (actual !== id && this.#size(this.#owner[actual]!) <= this.#size(newConsumer) + 1) {
      if (this.#safeMoves) actual = id
      else if (++this.#nonImprovingMoves > this.#nonImprovingLimit) throw new Diverged()
    }
    this.#processPartitionMovement(actual, newConsumer)
  }

  #processPartitionMovement(id: number, newConsumer: string): void {
    const oldConsumer = this.#owner[id]!
    this.#sorted.delete(oldConsumer)
    this.#sorted.delete(newConsumer)
    this.#movements.movePartition(id, oldConsumer, newConsumer)
    this.#current.get(oldConsumer)!.delete(id)
    this.#release(oldConsumer, id)
    this.#current.get(newConsumer)!.add(id)
    this.#hold(newConsumer, id)
    this.#owner[id] = newConsumer
    this.#sorted.add(newConsumer)
    this.#sorted.add(oldConsumer)
  }
}

class Diverged extends Error {}

/** Java `getBalanceScore`: the sum over member pairs of the difference in assignment sizes. */
function balanceScore(assignment: ReadonlyMap<string, Set<number>>): number {
  const sizes = [...assignment.values()].map((s) => s.size).sort((a, b) => a - b)
  let score = 0
  for (let i = 0; i < sizes.length; i++) score += sizes[i] * (2 * i - sizes.length + 1)
  return score
}
