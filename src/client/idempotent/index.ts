/**
 * Idempotent processing for consumers: a durable record of which messages were processed, so a
 * redelivered message does not repeat its side effect. See `store.ts` for the guarantees.
 */

export { PROCESSED_TABLE, processedTableSql, SqliteProcessedStore, type SqliteProcessedStoreOptions } from './sqlite.ts'
export {
  type ClaimResult,
  defaultOwner,
  InDoubtError,
  type InDoubtPolicy,
  MemoryProcessedStore,
  type OnceResult,
  offsetIdentity,
  type ProcessedRecord,
  type ProcessedState,
  type ProcessedStore,
  type ProcessOnceOptions,
  type ProcessOnceResult,
  processOnce,
  processOnceInTransaction,
  type SideEffectContext,
  type TransactionalProcessedStore,
} from './store.ts'
