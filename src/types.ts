/**
 * The records punctual stores, shared by the engine and every store. They are plain data
 * (strings, numbers, booleans, Dates, arrays, objects) so every store can persist them.
 */
import type { StoredTriggerFields } from './trigger-fields.js';

export type { TriggerTiming } from './timing-fields.js';

/**
 * A normalized schedule, as stored on a trigger. Built from a {@link ScheduleInput} by
 * `parseSchedule`; instants are ISO-8601 strings so a schedule is plain JSON.
 */
export type Schedule =
  | { kind: 'cron'; expression: string; timezone: string }
  | { kind: 'interval'; everyMs: number; anchor: string }
  | { kind: 'once'; at: string }
  | { kind: 'manual' }
  | { kind: 'event'; event: string; filter?: EventFilter; debounceMs?: number };

/**
 * Equality filter on published event data: every key (a dotted path into the data) must equal
 * the given value, or be one of the values when an array is given.
 * @example { 'user.plan': ['pro', 'team'], country: 'FR' }
 */
export type EventFilter = Record<string, string | number | boolean | null | readonly (string | number | boolean | null)[]>;

/** How a schedule is written by users. Exactly one of `cron`, `every`, `at`, `manual`, `event`. */
export type ScheduleInput =
  | {
      /** 5 fields (minute hour day-of-month month day-of-week) or 6 with seconds first. */
      cron: string;
      /** IANA zone, default `UTC`. */
      timezone?: string;
    }
  | {
      /** Milliseconds, or a duration string: `'30s'`, `'5m'`, `'2h'`, `'1d'`, `'1h30m'`. */
      every: number | string;
      /** Slots are `anchor + k * every`; default: the creation time. */
      anchor?: Date | string;
    }
  | {
      /** Fires once at this instant. */
      at: Date | string;
    }
  | {
      /** Never fires by itself; only `runNow`. */
      manual: true;
    }
  | {
      /** Fires when the host publishes this event name (`scheduler.publish`). */
      event: string;
      /** Only events whose data matches. */
      filter?: EventFilter;
      /** Collapse the events of each window of this many ms into one run at the window's end (first event's data). */
      debounceMs?: number;
    };

/** `active`: firing; `paused`: no new slots; `completed`: its schedule has no more slots. */
export type TriggerStatus = 'active' | 'paused' | 'completed';
export const TRIGGER_STATUSES: readonly TriggerStatus[] = ['active', 'paused', 'completed'];

/**
 * What to do with slots that came due while nothing could fire them (all instances down, the
 * trigger paused). `skip`: fire nothing missed; `once`: one run for the most recent missed slot;
 * `all`: every missed slot, oldest first, within the catch-up window.
 */
export type MisfirePolicy = 'skip' | 'once' | 'all';
export const MISFIRE_POLICIES: readonly MisfirePolicy[] = ['skip', 'once', 'all'];

/**
 * What to do when a run is due while a previous run of the same trigger still runs.
 * `queue`: wait for it (default; while one run waits, further fresh slots are skipped);
 * `allow`: run in parallel; `skip`: record a skipped run; `cancel-previous`: abort the running
 * one's signal, then start.
 */
export type OverlapPolicy = 'queue' | 'allow' | 'skip' | 'cancel-previous';
export const OVERLAP_POLICIES: readonly OverlapPolicy[] = ['queue', 'allow', 'skip', 'cancel-previous'];

/** Per-trigger or per-handler retry settings. */
export interface RetryOptions {
  /** Retries after the first attempt, 0..10. Default: the scheduler's `retry.maxRetries` (3). */
  maxRetries?: number;
  /** Delay before the first retry, ms. Default 1,000. */
  initialDelayMs?: number;
  /** Each retry waits `multiplier` times longer. Default 2. */
  multiplier?: number;
  /** Upper bound of one delay, ms. Default 60,000. */
  maxDelayMs?: number;
  /** Random spread as a fraction, 0..0.2: 0.2 means +-20%. Default 0.2. */
  jitter?: number;
}

/**
 * A trigger: what to run (task type + payload), when (schedule) and how (policies). Its declared
 * fields are those of the field table (trigger-fields.ts), defaults applied; the rest is state.
 */
export interface TriggerRecord extends StoredTriggerFields {
  id: string;
  status: TriggerStatus;
  /** The next slot to fire, or null when the schedule fires only on demand or has ended. */
  nextFireAt: Date | null;
  /** Number of runs created from this trigger's schedule. */
  runCount: number;
  /** Automatic pause after this many consecutive failed runs, and the current streak. */
  autoPause?: { afterFailures: number; consecutiveFailures: number };
  pausedReason?: string;
  createdAt: Date;
  updatedAt: Date;
  /** Incremented on every write; updates are compare-and-set on it. */
  version: number;
}

/** `skipped`: recorded but not executed (overlap policy `skip`). */
export type RunStatus = 'pending' | 'running' | 'completed' | 'failed' | 'cancelled' | 'timed_out' | 'skipped';
export const RUN_STATUSES: readonly RunStatus[] = ['pending', 'running', 'completed', 'failed', 'cancelled', 'timed_out', 'skipped'];

/** Statuses a run never leaves. */
export const FINAL_RUN_STATUSES: readonly RunStatus[] = ['completed', 'failed', 'cancelled', 'timed_out', 'skipped'];

/** Why the run exists. */
export type RunSource = 'schedule' | 'manual' | 'event' | 'backfill';
export const RUN_SOURCES: readonly RunSource[] = ['schedule', 'manual', 'event', 'backfill'];

/** Name and message of an error, as stored. Never a stack. */
export interface RunError {
  name: string;
  message: string;
}

/** One execution attempt of a run. The run keeps its id across attempts. */
export interface AttemptRecord {
  attempt: number;
  instanceId: string;
  startedAt: Date;
  finishedAt: Date;
  /** Outcome of this attempt; `retry` means a further attempt was scheduled. */
  outcome: 'completed' | 'failed' | 'timed_out' | 'cancelled' | 'retry' | 'lease_expired';
  error?: RunError;
}

/** A run's lease: who holds it and until when. Writes by the holder must present the token. */
export interface RunLease {
  token: string;
  instanceId: string;
  expiresAt: Date;
}

/** One run of a trigger: a slot of its schedule, a manual run, an event or a backfill. */
export interface RunRecord {
  /** `<triggerId>@<slot ISO>` for scheduled runs (one per slot, by construction); random otherwise. */
  id: string;
  triggerId: string;
  triggerName: string;
  owner: string;
  taskType: string;
  payload: unknown;
  source: RunSource;
  status: RunStatus;
  priority: number;
  /** The slot (or the request time of a manual run). */
  scheduledFor: Date;
  /** Not claimed before this instant (retry backoff, deferral). */
  availableAt: Date;
  /** Attempts started so far (0 while first pending). */
  attempt: number;
  /** 1 + maxRetries, fixed when the run is created. */
  maxAttempts: number;
  timeoutMs: number;
  /** The trigger's retry override, copied when the run was created. */
  retry?: RetryOptions;
  overlap: OverlapPolicy;
  /** Copied from the trigger's auto-pause setting, so outcomes know whether to count failures. */
  pauseAfterFailures?: number;
  lease: RunLease | null;
  startedAt: Date | null;
  finishedAt: Date | null;
  durationMs: number | null;
  /** Instance that ran the latest attempt. */
  instanceId: string | null;
  result?: unknown;
  error?: RunError;
  progress?: { percent: number; note?: string; at: Date };
  /** Set by `runs.cancel` on a running run; the holder aborts its handler when it sees it. */
  cancelRequested: boolean;
  /** Previous attempts, oldest first. */
  attempts: AttemptRecord[];
  /** Event data for event runs. */
  event?: { name: string; data: unknown; publishedAt: Date };
  createdAt: Date;
  /** After this instant a finished run may be purged (retention). */
  expiresAt: Date | null;
}

/** What was done, to what, by whom. */
export type AuditAction =
  | 'trigger.create'
  | 'trigger.update'
  | 'trigger.delete'
  | 'trigger.pause'
  | 'trigger.resume'
  | 'trigger.run'
  | 'trigger.backfill'
  | 'run.cancel';

export const AUDIT_ACTIONS: readonly AuditAction[] = [
  'trigger.create', 'trigger.update', 'trigger.delete', 'trigger.pause', 'trigger.resume', 'trigger.run', 'trigger.backfill', 'run.cancel',
];

export interface AuditEntry {
  id: string;
  at: Date;
  /** Who did it: a user id, `system`, ... Default `system`. */
  actor: string;
  action: AuditAction;
  owner: string;
  triggerId: string;
  runId?: string;
  /** Small details: changed fields, pause reason. */
  details?: Record<string, unknown>;
}

/**
 * A page of a listing. Listings page by keyset: each page starts strictly after the last item
 * of the previous one in a total order (the sort key, then the id), so items inserted or
 * removed between two calls never make another item appear twice or be skipped.
 */
export interface Page<T> {
  items: T[];
  /**
   * Pass it as `cursor` (same filters, sort and view) to get the next page; null when this is
   * the last page. Opaque: its format may change between versions.
   */
  nextCursor: string | null;
}

/** Paging parameters: `limit` 1..500 (default 50) and the `nextCursor` of the previous page. */
export interface PageQuery {
  limit?: number;
  /** The previous page's `nextCursor`; omit for the first page. */
  cursor?: string;
}

/** The order of a listing's sort key. */
export type SortOrder = 'asc' | 'desc';
export const SORT_ORDERS: readonly SortOrder[] = ['asc', 'desc'];

/** What `triggers.list` can sort by (then by id, so the order is total). */
export type TriggerSort = 'createdAt' | 'name';
export const TRIGGER_SORTS: readonly TriggerSort[] = ['createdAt', 'name'];
