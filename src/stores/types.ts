import type { LockStore } from '../locks/types.js';
import type { RunRecord, TriggerRecord, AuditEntry } from '../types.js';
import type { AuditQuery, RunQuery, TriggerQuery } from './queries.js';
import type { ClaimRequest, DueRunCount, ExpiredLease, ExpiredLeaseClaim, LeaseRenewal, LeaseRenewalRequest, RunFinish } from './run-claims.js';
import type { SlotFire, SlotFireResult, TriggerWrite } from './trigger-writes.js';

// The types a Store's methods take and return, one module per concept; importers keep using this module.
export type * from './queries.js';
export type * from './run-claims.js';
export type * from './trigger-writes.js';

/** A change another process made, delivered by stores that can notify. */
export interface StoreChange {
  kind: 'trigger' | 'run';
  id?: string;
}

/**
 * Persistence for triggers, runs and the audit trail. The engine hands every time value in
 * (`now`), so stores never read a clock. Every method is safe to call concurrently from many
 * processes sharing one database; the guarantees are stated per method and checked by the
 * contract suite in `punctual/testing/contract`.
 */
export interface Store {
  /** A short name for health output, e.g. `memory`, `mongodb`, `postgres`. */
  readonly kind: string;
  /** Prepare (indexes, migrations). Idempotent; called by `scheduler.start()`. */
  init(): Promise<void>;
  /** Release resources. Closes the connection only if the store created it. */
  close(): Promise<void>;
  /** Cheap round trip for health checks; throws when unreachable. */
  ping(): Promise<void>;

  // Triggers
  /** Insert. Throws ConflictError when `owner` already has a trigger named `name` or the id exists. */
  insertTrigger(trigger: TriggerRecord): Promise<void>;
  /** By id, optionally only if owned by `owner`. */
  getTrigger(id: string, owner?: string): Promise<TriggerRecord | null>;
  /** Filter, order and cut one keyset page; see {@link TriggerQuery}. */
  listTriggers(query: TriggerQuery): Promise<TriggerRecord[]>;
  /**
   * Compare-and-set write. Returns false (writing nothing) when the version moved on or the
   * trigger is gone. Throws ConflictError when the new name is taken by the same owner.
   */
  updateTrigger(write: TriggerWrite): Promise<boolean>;
  /** Delete if still at `expectedVersion` (any version if omitted). Returns whether it deleted. */
  deleteTrigger(id: string, expectedVersion?: number): Promise<boolean>;
  /** Active triggers with `nextFireAt <= until`, earliest first (ties in any order), at most `limit`. */
  findDueTriggers(until: Date, limit: number): Promise<TriggerRecord[]>;
  /**
   * Active triggers with an event schedule for `event` (`schedule.kind === 'event'` and
   * `schedule.event === event`), ordered by `createdAt` then `id`, paged.
   */
  findEventTriggers(event: string, limit: number, offset: number): Promise<TriggerRecord[]>;
  /** Fire slots; see {@link SlotFire}. Results are in input order. */
  fireSlots(fires: readonly SlotFire[]): Promise<SlotFireResult[]>;

  // Runs
  /** Insert new runs. Returns, in input order, false for each whose id already existed (nothing written for it). */
  insertRuns(runs: readonly RunRecord[]): Promise<boolean[]>;
  getRun(id: string, owner?: string): Promise<RunRecord | null>;
  /** Filter, order and cut one keyset page; see {@link RunQuery}. */
  listRuns(query: RunQuery): Promise<RunRecord[]>;
  /**
   * Atomically move up to `limit` claimable runs to `running` under a new lease:
   * `attempt + 1`, `startedAt = now`, `instanceId`, `lease = { token, instanceId, now + leaseMs }`,
   * `cancelRequested` kept. A run is claimed by at most one caller.
   */
  claimRuns(request: ClaimRequest): Promise<RunRecord[]>;
  /**
   * Pending runs with `availableAt <= now` whose task type is not in `exceptTypes`, counted by
   * task type, in no particular order. The engine asks with the types it has handlers for, to
   * show runs no instance has claimed because their handler is missing (a forgotten deploy).
   * Read-only; called once every few polls, so it may read every due pending run.
   */
  countDueRunsByType(now: Date, exceptTypes: readonly string[]): Promise<DueRunCount[]>;
  /**
   * Extend each lease its token still holds (to its `expiresAt`), in one call however many;
   * also reports each run's cancel request. Results in input order; `held: false` when the
   * token no longer holds the run (nothing written for it). A repeated run and token gets the
   * same answer as its first occurrence.
   */
  renewLeases(renewals: readonly LeaseRenewalRequest[]): Promise<LeaseRenewal[]>;
  /** Apply each finish if its token still holds the run. Results in input order; false: lease lost, nothing written. */
  finishRuns(finishes: readonly RunFinish[]): Promise<boolean[]>;
  /** Store progress if `token` holds the run. */
  setProgress(runId: string, token: string, progress: NonNullable<RunRecord['progress']>): Promise<boolean>;
  /**
   * Take over up to `request.limit` runs whose lease expired (see {@link ExpiredLeaseClaim}):
   * atomically, so a run is taken by at most one caller, and only while the lapsed lease is still
   * the run's (a renewal that landed first wins). Results ordered by the lapsed expiry, then id.
   */
  claimExpiredLeases(request: ExpiredLeaseClaim): Promise<ExpiredLease[]>;
  /**
   * Cancel a run: a pending run becomes `cancelled` at once (returned with status cancelled);
   * a running one gets `cancelRequested = true` (its holder aborts it). Null when the run is
   * missing, not owned by `owner`, or already final.
   */
  cancelRun(id: string, now: Date, retentionMs: number, owner?: string): Promise<RunRecord | null>;
  /**
   * Cancel every pending run of a trigger in one call (`triggers.delete`): each becomes
   * `cancelled` with `finishedAt = now` and `expiresAt = now + retentionMs`. Running and final
   * runs are left alone. Returns how many were cancelled.
   */
  cancelPendingRuns(triggerId: string, now: Date, retentionMs: number): Promise<number>;
  /** Delete finished runs with `expiresAt <= now`, at most `limit`. Returns how many. */
  purgeExpiredRuns(now: Date, limit: number): Promise<number>;

  // Audit
  appendAudit(entry: AuditEntry): Promise<void>;
  /** Filter, order and cut one keyset page; see {@link AuditQuery}. */
  listAudit(query: AuditQuery): Promise<AuditEntry[]>;

  /**
   * Optional: what this deployment lacks that the operator should know (for example no TTL
   * indexes, or no change notifications on a standalone MongoDB server), each in a sentence
   * saying what the store does instead. Shown in `health()` as `store.notes`.
   */
  notes?(): readonly string[];

  /**
   * Optional: the lock store that goes with this store (e.g. MongoDB TTL locks in the same
   * database), used when the scheduler is given no `lockStore`.
   */
  createLockStore?(): LockStore;

  /**
   * Optional: call `listener` when another process changes triggers or runs, so the dispatcher
   * wakes at once instead of at the next poll. Resolves to an unsubscribe function, or to
   * null when this deployment cannot notify (e.g. MongoDB without a replica set); polling then
   * does the job alone. `onState(false)` reports a broken feed (polling carries on),
   * `onState(true)` that it works again.
   */
  subscribe?(listener: (change: StoreChange) => void, onState?: (active: boolean) => void): Promise<(() => Promise<void>) | null>;
}
