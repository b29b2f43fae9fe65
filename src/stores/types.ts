import type { LockStore } from '../locks/types.js';
import type {
  AttemptRecord,
  AuditAction,
  AuditEntry,
  RunError,
  RunRecord,
  RunSource,
  RunStatus,
  SortOrder,
  TriggerRecord,
  TriggerSort,
  TriggerStatus,
} from '../types.js';

/**
 * Filters and keyset position for listing triggers. `owner` undefined means every owner (the
 * admin view). Items come in `sort` order, ties broken by `id` in the same direction, starting
 * strictly after `after` when given.
 */
export interface TriggerQuery {
  owner?: string;
  status?: TriggerStatus;
  taskType?: string;
  /** Exact name. */
  name?: string;
  /** Names starting with this text (case-sensitive; `_` and `%` are plain characters). */
  namePrefix?: string;
  sort: TriggerSort;
  order: SortOrder;
  /** The last item of the previous page: `value` is its `createdAt` (a Date) or its `name` (a string), as `sort` says. */
  after?: { value: Date | string; id: string };
  /** At most this many items. */
  limit: number;
}

/** Filters for run history, newest `scheduledFor` first (then id descending). */
export interface RunQuery {
  owner?: string;
  triggerId?: string;
  status?: RunStatus;
  taskType?: string;
  source?: RunSource;
  /** `scheduledFor >= from`. */
  from?: Date;
  /** `scheduledFor < to`. */
  to?: Date;
  /** Only runs after this one in the listing order: older `scheduledFor`, or the same with a smaller id. */
  after?: { scheduledFor: Date; id: string };
  limit: number;
}

/** Filters for the audit trail, newest `at` first (then id descending). */
export interface AuditQuery {
  owner?: string;
  triggerId?: string;
  action?: AuditAction;
  /** Only entries after this one in the listing order: older `at`, or the same with a smaller id. */
  after?: { at: Date; id: string };
  limit: number;
}

/** Writes to a trigger, applied only when its `version` still equals `expectedVersion`. */
export interface TriggerWrite {
  id: string;
  expectedVersion: number;
  /** The full new record; its `version` must be `expectedVersion + 1`. */
  next: TriggerRecord;
}

/**
 * Firing one slot: create the slot's run and advance the trigger, exactly once per slot.
 * `run.id` is deterministic for the slot, so a second attempt to fire the same slot (from any
 * instance, or after a crash between the two writes) finds the run already there.
 */
export interface SlotFire {
  /** The trigger as the dispatcher last read it. */
  triggerId: string;
  expectedVersion: number;
  /** The trigger after firing (nextFireAt moved on, runCount incremented, maybe completed). */
  next: TriggerRecord;
  /**
   * The run to create, or null to advance without a run (misfire skip). Status `pending`, or
   * `running` when the firing instance claims it at creation: then it carries the lease, the
   * attempt, `startedAt` and `instanceId` a claim would have set, and is stored as given.
   */
  run: RunRecord | null;
}

/**
 * - `fired`: this call created the run and advanced the trigger; also when a retried fire finds
 *   its run already there held under the fire's own lease token and the trigger advanced to
 *   `next` (an earlier call wrote it but its answer was lost).
 * - `duplicate`: the run already existed (another instance fired the slot); the trigger was
 *   advanced if it still had `expectedVersion`.
 * - `stale`: the trigger changed since it was read (or is gone) and no run was created; re-read it.
 * - `failed`: a store that writes a batch in several steps could not finish this fire (a write
 *   failed or the server refused the run); the trigger did not advance past the slot as far as
 *   it knows. Fire the same slot again later with the same lease token: its deterministic run id
 *   makes the retry safe. Stores that write a batch atomically throw instead.
 */
export type SlotFireResult = 'fired' | 'duplicate' | 'stale' | 'failed';

/** Claim pending runs whose `availableAt <= now`, highest priority first, then oldest `availableAt`. */
export interface ClaimRequest {
  now: Date;
  instanceId: string;
  /** Lease token for every run claimed by this call. */
  token: string;
  leaseMs: number;
  /** At most this many runs. */
  limit: number;
  /** Only runs of these task types (those with free capacity here); undefined: any. */
  taskTypes?: readonly string[];
}

/** Due pending runs of one task type (see `Store.countDueRunsByType`). */
export interface DueRunCount {
  taskType: string;
  count: number;
  /** The earliest `availableAt` among them: how long the oldest has been waiting. */
  oldestAvailableAt: Date;
}

/** Ends the current attempt of a run held under `token`. */
export type RunFinish = {
  runId: string;
  token: string;
  /** Appended to the run's `attempts` (omitted for deferrals and skips, which are not attempts). */
  attemptRecord?: AttemptRecord;
} & (
  | {
      /** Clears any `error` left by an earlier attempt. */
      status: 'completed';
      finishedAt: Date;
      durationMs: number;
      result?: unknown;
      expiresAt: Date;
      progress?: RunRecord['progress'];
    }
  | {
      status: 'failed' | 'timed_out' | 'cancelled' | 'skipped';
      finishedAt: Date;
      durationMs: number;
      error: RunError;
      expiresAt: Date;
      progress?: RunRecord['progress'];
    }
  | {
      /** Back to the queue: a retry after backoff, or a deferral (the attempt did not count). */
      status: 'pending';
      availableAt: Date;
      error?: RunError;
      /** Deferral: the claim is undone, so `attempt` goes back down by one. */
      undoAttempt?: boolean;
    }
);

/** One lease to renew (see `Store.renewLeases`): extend it to `expiresAt` if `token` still holds `runId`. */
export interface LeaseRenewalRequest {
  runId: string;
  token: string;
  expiresAt: Date;
}

/** The result of renewing a lease. */
export interface LeaseRenewal {
  /** False when the token no longer holds the run: the caller must stop. */
  held: boolean;
  /** `runs.cancel` was called on this run. */
  cancelRequested: boolean;
}

/**
 * Take over runs whose lease expired: running runs with `lease.expiresAt <= now`, oldest expiry
 * first, of the listed task types. Each is held from then on under `token` (lease until
 * `now + leaseMs`, lease instance `instanceId`); nothing else of the run changes (its status
 * stays `running`, its `attempt`, `startedAt` and `instanceId` stay those of the lapsed
 * attempt). What becomes of the run (retried after backoff, or failed) is the engine's policy:
 * it writes that outcome with `finishRuns` under `token`. The request has the shape of a claim;
 * `taskTypes` there are the types this instance has a handler for (so it knows their retry policy).
 */
export type ExpiredLeaseClaim = ClaimRequest;

/** A run taken over by {@link Store.claimExpiredLeases}, and the lease that had lapsed. */
export interface ExpiredLease {
  /** The run as now stored: held under the claim's token. */
  run: RunRecord;
  /** The lease that expired: its holder and when it expired. */
  expired: { instanceId: string; expiresAt: Date };
}

/** A change another process made, delivered by stores that can notify. */
export interface StoreChange {
  kind: 'trigger' | 'run';
  id?: string;
}

/**
 * Persistence for triggers, runs and the audit trail. The engine hands every time value in
 * (`now`), so stores never read a clock. Every method is safe to call concurrently from many
 * processes sharing one database; the guarantees are stated per method and checked by the
 * contract suite in `punctual/testing`.
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
  /** Active triggers with `nextFireAt <= until`, earliest first, at most `limit`. */
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
