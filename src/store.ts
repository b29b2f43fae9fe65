/**
 * `punctual/store`: the `Store` and `LockStore` interfaces and every type their methods take and
 * return, for writing a store or lock store of your own (run it against the contract suites of
 * `punctual/testing/contract`). Users of `createScheduler({ db })`, `postgresStore`, `mongoStore`
 * or the memory store need nothing from here. Types only: errors such as `ConflictError` come from
 * `punctual` itself.
 */
export type * from './stores/types.js';
export type * from './locks/types.js';
export type {
  AttemptRecord,
  AuditAction,
  AuditEntry,
  RunError,
  RunLease,
  RunRecord,
  RunSource,
  RunStatus,
  Schedule,
  SortOrder,
  TriggerRecord,
  TriggerSort,
  TriggerStatus,
  TriggerTiming,
} from './types.js';
