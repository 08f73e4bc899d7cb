/**
 * `ProcessedStore` on SQLite (better-sqlite3, loaded on first `open`, so importing `cohort/client`
 * never needs the native module).
 *
 * One table, shared by any process or language that follows the same steps (the chaos harness's
 * Python members do, with the standard library's sqlite3):
 *
 *   CREATE TABLE IF NOT EXISTS cohort_processed (
 *     identity     TEXT PRIMARY KEY,
 *     state        TEXT NOT NULL CHECK (state IN ('pending', 'done')),
 *     owner        TEXT NOT NULL,
 *     attempts     INTEGER NOT NULL,
 *     claimed_at   INTEGER NOT NULL,   -- ms since the epoch
 *     completed_at INTEGER             -- ms since the epoch; NULL while pending
 *   ) WITHOUT ROWID
 *
 * Every step is one `BEGIN IMMEDIATE` transaction (the write lock is taken up front, so concurrent
 * processes queue on the busy timeout instead of failing to upgrade a read lock).
 *
 * Durability, as `open` sets it up: WAL journal. A transaction that returned is in the WAL file; a
 * kill -9 of the process cannot undo it (the kernel has the bytes), whatever `synchronous` says.
 * `synchronous` decides power loss and OS crashes: `FULL` (the default) fsyncs the WAL at each commit,
 * so a returned transaction survives those too; `NORMAL` fsyncs only at checkpoints, so the last
 * transactions before a power cut may roll back — the database stays consistent (mark and effect roll
 * back together), but a message whose offset was committed after such a transaction is then neither
 * marked nor redelivered: its effect is lost, never doubled.
 */
import type BetterSqlite3 from 'better-sqlite3'
import type { ClaimResult, OnceResult, ProcessedRecord, ProcessedState, TransactionalProcessedStore } from './store.ts'

type Database = BetterSqlite3.Database

export interface SqliteProcessedStoreOptions {
  /** Table name (default `cohort_processed`): letters, digits and underscores. */
  table?: string
  /** `FULL` (default): every step survives a power cut. `NORMAL`: survives a crash of the process only (see the header). */
  synchronous?: 'FULL' | 'NORMAL'
  /** How long a step waits for another process's write lock before failing with SQLITE_BUSY (default 5000). It blocks the event loop meanwhile. */
  busyTimeoutMs?: number
  /** Clock for the timestamps (tests). */
  now?: () => number
}

interface Row {
  identity: string
  state: ProcessedState
  owner: string
  attempts: number
  claimed_at: number
  completed_at: number | null
}

export const PROCESSED_TABLE = 'cohort_processed'

/** The statement that creates the table (also run by `open` and `fromDatabase`). */
export function processedTableSql(table = PROCESSED_TABLE): string {
  checkTableName(table)
  return (
    `CREATE TABLE IF NOT EXISTS ${table} (` +
    'identity TEXT PRIMARY KEY, ' +
    "state TEXT NOT NULL CHECK (state IN ('pending', 'done')), " +
    'owner TEXT NOT NULL, ' +
    'attempts INTEGER NOT NULL, ' +
    'claimed_at INTEGER NOT NULL, ' +
    'completed_at INTEGER' +
    ') WITHOUT ROWID'
  )
}

function checkTableName(table: string): void {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(table)) throw new Error(`bad table name ${JSON.stringify(table)}`)
}

function toRecord(r: Row): ProcessedRecord {
  return {
    identity: r.identity,
    state: r.state,
    owner: r.owner,
    attempts: Number(r.attempts),
    claimedAt: Number(r.claimed_at),
    completedAt: r.completed_at === null ? null : Number(r.completed_at),
  }
}

export class SqliteProcessedStore implements TransactionalProcessedStore<Database> {
  /** The connection: effects of `runOnce` get it, and may use it for their own tables. */
  readonly db: Database
  readonly table: string
  readonly #now: () => number
  readonly #ownsDb: boolean
  readonly #select: BetterSqlite3.Statement<[string], Row>
  readonly #insert: BetterSqlite3.Statement<[string, string, string, number, number, number | null]>
  readonly #takeOver: BetterSqlite3.Statement<[string, number, string]>
  readonly #complete: BetterSqlite3.Statement<[string, number, string]>
  readonly #release: BetterSqlite3.Statement<[string, string]>
  readonly #prune: BetterSqlite3.Statement<[number]>
  readonly #claimTx: (identity: string, owner: string, takeOver: boolean) => ClaimResult
  readonly #completeTx: (identity: string, owner: string) => void

  /**
   * Opens (creating when absent) a database file with the store's table, in WAL mode with
   * `synchronous` as asked. Loads better-sqlite3 on first use.
   */
  static async open(path: string, options: SqliteProcessedStoreOptions = {}): Promise<SqliteProcessedStore> {
    const { default: Sqlite } = await import('better-sqlite3')
    const db = new Sqlite(path, { timeout: options.busyTimeoutMs ?? 5000 })
    try {
      db.pragma('journal_mode = WAL')
      db.pragma(`synchronous = ${options.synchronous ?? 'FULL'}`)
      return new SqliteProcessedStore(db, options, true)
    } catch (err) {
      db.close()
      throw err
    }
  }

  /** Uses a connection the application opened (its pragmas are left as they are); `close` leaves it open. */
  static fromDatabase(
    db: Database,
    options: Omit<SqliteProcessedStoreOptions, 'synchronous' | 'busyTimeoutMs'> = {},
  ): SqliteProcessedStore {
    return new SqliteProcessedStore(db, options, false)
  }

  private constructor(db: Database, options: SqliteProcessedStoreOptions, ownsDb: boolean) {
    const t = options.table ?? PROCESSED_TABLE
    db.exec(processedTableSql(t))
    this.db = db
    this.table = t
    this.#ownsDb = ownsDb
    this.#now = options.now ?? Date.now
    this.#select = db.prepare(`SELECT identity, state, owner, attempts, claimed_at, completed_at FROM ${t} WHERE identity = ?`)
    this.#insert = db.prepare(
      `INSERT INTO ${t} (identity, state, owner, attempts, claimed_at, completed_at) VALUES (?, ?, ?, ?, ?, ?) ` +
        'ON CONFLICT (identity) DO UPDATE SET state = excluded.state, owner = excluded.owner, attempts = excluded.attempts, ' +
        'claimed_at = excluded.claimed_at, completed_at = excluded.completed_at',
    )
    this.#takeOver = db.prepare(
      `UPDATE ${t} SET owner = ?, attempts = attempts + 1, claimed_at = ? WHERE identity = ? AND state = 'pending'`,
    )
    this.#complete = db.prepare(`UPDATE ${t} SET state = 'done', owner = ?, completed_at = ? WHERE identity = ? AND state = 'pending'`)
    this.#release = db.prepare(`DELETE FROM ${t} WHERE identity = ? AND owner = ? AND state = 'pending'`)
    this.#prune = db.prepare(`DELETE FROM ${t} WHERE state = 'done' AND completed_at < ?`)

    this.#claimTx = db.transaction((identity: string, owner: string, takeOver: boolean): ClaimResult => {
      const row = this.#select.get(identity)
      const now = this.#now()
      if (!row) {
        this.#insert.run(identity, 'pending', owner, 1, now, null)
        return { kind: 'claimed', attempt: 1, previous: null }
      }
      const record = toRecord(row)
      if (record.state === 'done') return { kind: 'done', record }
      if (!takeOver) return { kind: 'in-doubt', record }
      this.#takeOver.run(owner, now, identity)
      return { kind: 'claimed', attempt: record.attempts + 1, previous: record }
    }).immediate
    this.#completeTx = db.transaction((identity: string, owner: string): void => {
      const now = this.#now()
      const row = this.#select.get(identity)
      if (!row) this.#insert.run(identity, 'done', owner, 1, now, now)
      else if (row.state !== 'done') this.#complete.run(owner, now, identity)
    }).immediate
  }

  claimSync(identity: string, owner: string, options: { takeOver?: boolean } = {}): ClaimResult {
    return this.#claimTx(identity, owner, options.takeOver === true)
  }

  async claim(identity: string, owner: string, options: { takeOver?: boolean } = {}): Promise<ClaimResult> {
    return this.claimSync(identity, owner, options)
  }

  async complete(identity: string, owner: string): Promise<void> {
    this.#completeTx(identity, owner)
  }

  async release(identity: string, owner: string): Promise<void> {
    this.#release.run(identity, owner)
  }

  getSync(identity: string): ProcessedRecord | undefined {
    const row = this.#select.get(identity)
    return row ? toRecord(row) : undefined
  }

  async get(identity: string): Promise<ProcessedRecord | undefined> {
    return this.getSync(identity)
  }

  async prune(completedBefore: number): Promise<number> {
    return this.#prune.run(completedBefore).changes
  }

  runOnce<T>(identity: string, owner: string, effect: (tx: Database) => T): OnceResult<T> {
    const tx = this.db.transaction((): OnceResult<T> => {
      const row = this.#select.get(identity)
      if (row?.state === 'done') return { outcome: 'duplicate', record: toRecord(row) }
      const value = effect(this.db)
      if (value instanceof Promise) throw new TypeError('runOnce: the effect must be synchronous (it runs inside a SQLite transaction)')
      const now = this.#now()
      const attempts = (row ? Number(row.attempts) : 0) + 1
      this.#insert.run(identity, 'done', owner, attempts, row ? Number(row.claimed_at) : now, now)
      return { outcome: 'processed', value, attempt: attempts }
    })
    return tx.immediate()
  }

  async close(): Promise<void> {
    if (this.#ownsDb && this.db.open) this.db.close()
  }
}
