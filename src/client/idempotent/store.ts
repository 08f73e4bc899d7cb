/**
 * Idempotent processing: remember which messages were processed, in a store that outlives the
 * process, so a redelivered message (after a kill -9, a lost partition, a commit that never landed)
 * does not repeat its side effect.
 *
 * Kafka's consumer groups are at-least-once: whatever a member processed after its last successful
 * commit is delivered again to the next owner. Committing in `onRevoked` closes that window for
 * clean rebalances; nothing closes it for a crash. This module closes it for side effects, keyed by
 * a message identity, in two ways that give different guarantees:
 *
 * - `processOnceInTransaction(store, identity, effect)`: the effect writes into the store's own
 *   database, in the same transaction as the mark. The effect's writes exist if and only if the mark
 *   does, so a redelivery sees the mark and skips: exactly once with respect to that database, through
 *   any crash of the process.
 * - `processOnce(store, identity, effect)`: for an external effect (send an email, call an API). The
 *   identity is claimed (`pending`) and the claim is made durable before the effect runs; the mark
 *   becomes `done` after the effect succeeds. A redelivery of a `done` identity skips. A `pending` one
 *   is in doubt — the process died (or the partition moved away) between the claim and the mark, so
 *   the effect may or may not have happened — and the `inDoubt` policy decides: `retry` (default; the
 *   effect runs again: at-least-once, and only in that window), `skip` (at-most-once) or `throw`
 *   (`InDoubtError`: reconcile with the external system). Exactly once for an external effect needs
 *   the external system's help: pass `identity` on as its idempotency key.
 *
 * Either way the caller commits the Kafka offset after the call returns, so the mark is durable
 * before the offset says the message is done.
 */
import { hostname } from 'node:os'

/** `pending`: claimed, effect not known to have finished. `done`: processed. */
export type ProcessedState = 'pending' | 'done'

/** One identity's row in a store. Times are milliseconds since the epoch. */
export interface ProcessedRecord {
  identity: string
  state: ProcessedState
  /** Who claimed (or completed) it last: `host:pid` unless the caller names itself. */
  owner: string
  /** How many times it was claimed: more than one means an earlier attempt never completed. */
  attempts: number
  claimedAt: number
  completedAt: number | null
}

export type ClaimResult =
  /** The caller owns the claim now: a new one (`attempt` 1) or an in-doubt one it took over. */
  | { kind: 'claimed'; attempt: number; previous: ProcessedRecord | null }
  /** Already processed: skip the effect. */
  | { kind: 'done'; record: ProcessedRecord }
  /** A claim that never completed, left as it is (the caller did not ask to take it over). */
  | { kind: 'in-doubt'; record: ProcessedRecord }

/**
 * Where marks are kept. Each method is one atomic step; implementations must make a step durable
 * before its promise resolves (a claim that only lives in memory protects against nothing).
 */
export interface ProcessedStore {
  /**
   * Claims `identity` for `owner`: no row → a `pending` row (attempt 1); `done` → nothing changes;
   * `pending` → taken over (attempts + 1) when `takeOver` is set, else left as it is.
   */
  claim(identity: string, owner: string, options?: { takeOver?: boolean }): Promise<ClaimResult>
  /** Marks a claim `done` (whoever holds it: a taken-over claim may be completed by both attempts). */
  complete(identity: string, owner: string): Promise<void>
  /** Drops a `pending` claim of `owner` after its effect failed, so a retry runs the effect. */
  release(identity: string, owner: string): Promise<void>
  get(identity: string): Promise<ProcessedRecord | undefined>
  /**
   * Deletes `done` rows completed before `completedBefore` (ms since the epoch). Keep marks for
   * longer than a message can be redelivered: until the offsets past them are committed, and then
   * as long as offsets may be reset backwards.
   */
  prune(completedBefore: number): Promise<number>
  close(): Promise<void>
}

/** A store whose marks live in a database an effect can write to in the same transaction. */
export interface TransactionalProcessedStore<Tx> extends ProcessedStore {
  /**
   * In one transaction: if `identity` is `done`, nothing (a duplicate); otherwise run `effect(tx)`
   * and mark `identity` `done`. An effect that throws rolls the transaction back (no mark, no effect
   * writes) and the error propagates. Synchronous, like the transaction.
   */
  runOnce<T>(identity: string, owner: string, effect: (tx: Tx) => T): OnceResult<T>
}

export type OnceResult<T> =
  /** The effect ran (`attempt` > 1: earlier attempts were claimed and never completed). */
  | { outcome: 'processed'; value: T; attempt: number }
  /** Already processed: the effect did not run. */
  | { outcome: 'duplicate'; record: ProcessedRecord }

export type ProcessOnceResult<T> =
  | OnceResult<T>
  /** In doubt and skipped by the `skip` policy: marked `done` without running the effect. */
  | { outcome: 'skipped'; record: ProcessedRecord }

/** What `processOnce` does with an identity claimed earlier whose effect never completed. */
export type InDoubtPolicy = 'retry' | 'skip' | 'throw'

export interface ProcessOnceOptions {
  /** Recorded with the claim, for diagnosis (default `host:pid`). */
  owner?: string
  /** Default `retry`. */
  inDoubt?: InDoubtPolicy
}

export interface SideEffectContext {
  identity: string
  /** 1 normally; more when earlier attempts claimed the identity and never completed (the effect may have happened). */
  attempt: number
}

/** `processOnce` found an in-doubt claim and the policy is `throw`. */
export class InDoubtError extends Error {
  override readonly name = 'InDoubtError'
  constructor(readonly record: ProcessedRecord) {
    super(
      `message ${record.identity} is in doubt: claimed by ${record.owner} (${record.attempts} attempt(s)) and never completed; ` +
        'its side effect may or may not have happened',
    )
  }
}

export function defaultOwner(): string {
  return `${hostname()}:${process.pid}`
}

/**
 * The identity of a record by its position: `topic/partition/offset`. Stable across redeliveries of
 * the same log entry; it does not recognise the same business event produced twice (a producer
 * retry without idempotence, an upstream replay) and it changes if the topic is recreated. A message
 * id carried in the key, value or a header (a task id, an event id) is better when there is one.
 */
export function offsetIdentity(record: { topic: string; partition: number; offset: bigint | number }): string {
  return `${record.topic}/${record.partition}/${record.offset}`
}

/**
 * Runs an external side effect at most once per identity, except in one window: a crash between
 * the effect and its mark leaves the identity in doubt, and `options.inDoubt` decides the next
 * delivery (see the module header). A failing effect releases the claim and rethrows, so the message
 * can be retried (do not commit its offset).
 */
export async function processOnce<T>(
  store: ProcessedStore,
  identity: string,
  effect: (context: SideEffectContext) => T | Promise<T>,
  options: ProcessOnceOptions = {},
): Promise<ProcessOnceResult<T>> {
  const owner = options.owner ?? defaultOwner()
  const policy = options.inDoubt ?? 'retry'
  const claim = await store.claim(identity, owner, { takeOver: policy === 'retry' })
  if (claim.kind === 'done') return { outcome: 'duplicate', record: claim.record }
  if (claim.kind === 'in-doubt') {
    if (policy === 'throw') throw new InDoubtError(claim.record)
    await store.complete(identity, owner)
    return { outcome: 'skipped', record: claim.record }
  }
  let value: T
  try {
    value = await effect({ identity, attempt: claim.attempt })
  } catch (err) {
    await store.release(identity, owner).catch(() => {})
    throw err
  }
  await store.complete(identity, owner)
  return { outcome: 'processed', value, attempt: claim.attempt }
}

/**
 * Runs `effect` and marks `identity` done in one transaction of the store's database, unless it is
 * done already. Exactly once with respect to that database: the effect's writes and the mark commit
 * or roll back together.
 */
export function processOnceInTransaction<Tx, T>(
  store: TransactionalProcessedStore<Tx>,
  identity: string,
  effect: (tx: Tx) => T,
  options: { owner?: string } = {},
): OnceResult<T> {
  return store.runOnce(identity, options.owner ?? defaultOwner(), effect)
}

/**
 * Marks in memory: for tests and examples only. It loses everything with the process, so it
 * protects against nothing a real store is for.
 */
export class MemoryProcessedStore implements TransactionalProcessedStore<void> {
  readonly #rows = new Map<string, ProcessedRecord>()
  readonly #now: () => number

  constructor(now: () => number = Date.now) {
    this.#now = now
  }

  async claim(identity: string, owner: string, options: { takeOver?: boolean } = {}): Promise<ClaimResult> {
    return this.claimSync(identity, owner, options)
  }

  claimSync(identity: string, owner: string, options: { takeOver?: boolean } = {}): ClaimResult {
    const row = this.#rows.get(identity)
    const now = this.#now()
    if (!row) {
      this.#rows.set(identity, { identity, state: 'pending', owner, attempts: 1, claimedAt: now, completedAt: null })
      return { kind: 'claimed', attempt: 1, previous: null }
    }
    if (row.state === 'done') return { kind: 'done', record: { ...row } }
    if (!options.takeOver) return { kind: 'in-doubt', record: { ...row } }
    const previous = { ...row }
    this.#rows.set(identity, { ...row, owner, attempts: row.attempts + 1, claimedAt: now })
    return { kind: 'claimed', attempt: row.attempts + 1, previous }
  }

  async complete(identity: string, owner: string): Promise<void> {
    const row = this.#rows.get(identity)
    const now = this.#now()
    if (!row) this.#rows.set(identity, { identity, state: 'done', owner, attempts: 1, claimedAt: now, completedAt: now })
    else if (row.state !== 'done') this.#rows.set(identity, { ...row, state: 'done', owner, completedAt: now })
  }

  async release(identity: string, owner: string): Promise<void> {
    const row = this.#rows.get(identity)
    if (row?.state === 'pending' && row.owner === owner) this.#rows.delete(identity)
  }

  async get(identity: string): Promise<ProcessedRecord | undefined> {
    const row = this.#rows.get(identity)
    return row ? { ...row } : undefined
  }

  async prune(completedBefore: number): Promise<number> {
    let n = 0
    for (const [k, row] of this.#rows) {
      if (row.state === 'done' && row.completedAt !== null && row.completedAt < completedBefore) {
        this.#rows.delete(k)
        n++
      }
    }
    return n
  }

  runOnce<T>(identity: string, owner: string, effect: () => T): OnceResult<T> {
    const row = this.#rows.get(identity)
    if (row?.state === 'done') return { outcome: 'duplicate', record: { ...row } }
    const value = effect() // throws before anything is marked
    const now = this.#now()
    const attempts = (row?.attempts ?? 0) + 1
    this.#rows.set(identity, { identity, state: 'done', owner, attempts, claimedAt: now, completedAt: now })
    return { outcome: 'processed', value, attempt: attempts }
  }

  async close(): Promise<void> {}
}
