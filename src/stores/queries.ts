import type { AuditAction, RunSource, RunStatus, SortOrder, TriggerSort, TriggerStatus } from '../types.js';

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
