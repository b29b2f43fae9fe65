/**
 * Every filter, update and sort the MongoDB store sends, built by pure functions so they can be
 * read and tested without a server. Each guarded write names the state it expects in its filter:
 * MongoDB applies a single-document update atomically, so "filter matched" means "the state was
 * still the expected one".
 */
import type { Document, Filter, Sort, UpdateFilter } from 'mongodb';
import { FINAL_RUN_STATUSES } from '../../types.js';
import type { AttemptRecord, RunError, RunRecord, RunStatus } from '../../types.js';
import type { AuditQuery, ClaimRequest, RunFinish, RunQuery, TriggerQuery } from '../types.js';
import { toStorable, type AuditDoc, type RunDoc, type TriggerDoc } from './documents.js';

// ---- Triggers ----

/** A trigger by id, and only at `version` when given (compare-and-set writes and deletes). */
export function triggerAtVersion(id: string, version?: number): Filter<TriggerDoc> {
  return version === undefined ? { _id: id } : { _id: id, version };
}

/** Active triggers due by `until` (index `punctual_due`). */
export function dueTriggersFilter(until: Date): Filter<TriggerDoc> {
  return { status: 'active', nextFireAt: { $lte: until } };
}

export const DUE_TRIGGERS_SORT: Sort = { nextFireAt: 1, _id: 1 };

/** Active triggers fired by `event` (index `punctual_event`), listed in {@link TRIGGER_LIST_SORT} order. */
export function eventTriggersFilter(event: string): Filter<TriggerDoc> {
  return { status: 'active', 'schedule.event': event, 'schedule.kind': 'event' };
}

export function triggerListFilter(query: TriggerQuery): Filter<TriggerDoc> {
  const filter: Filter<TriggerDoc> = {};
  if (query.owner !== undefined) filter.owner = query.owner;
  if (query.status !== undefined) filter.status = query.status;
  if (query.taskType !== undefined) filter.taskType = query.taskType;
  if (query.name !== undefined) filter.name = query.name;
  // An anchored, case-sensitive regex without metacharacters: an index range scan on `name`.
  if (query.namePrefix !== undefined) {
    filter.name = { ...(query.name !== undefined ? { $eq: query.name } : {}), $regex: `^${escapeRegex(query.namePrefix)}` };
  }
  if (query.after) {
    const field = query.sort === 'name' ? 'name' : 'createdAt';
    Object.assign(filter, keysetAfter(field, query.after.value, query.after.id, query.order === 'desc' ? -1 : 1));
  }
  return filter;
}

/** The order of a trigger listing: its sort key, then `_id`, both in `order`. */
export function triggerListSort(query: Pick<TriggerQuery, 'sort' | 'order'>): Sort {
  const direction = query.order === 'desc' ? -1 : 1;
  return query.sort === 'name' ? { name: direction, _id: direction } : { createdAt: direction, _id: direction };
}

/** The order `findEventTriggers` pages in (creation order). */
export const TRIGGER_LIST_SORT: Sort = { createdAt: 1, _id: 1 };

/**
 * Documents strictly after (`value`, `id`) in a listing sorted by `field` then `_id`, both in
 * `direction`. Strings compare by code point (the default simple collation), as in every store.
 */
export function keysetAfter(field: string, value: Date | string, id: string, direction: 1 | -1): { $or: object[] } {
  const beyond = direction === 1 ? '$gt' : '$lt';
  return { $or: [{ [field]: { [beyond]: value } }, { [field]: value, _id: { [beyond]: id } }] };
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

// ---- Runs: history ----

export function runListFilter(query: RunQuery): Filter<RunDoc> {
  const filter: Filter<RunDoc> = {};
  if (query.owner !== undefined) filter.owner = query.owner;
  if (query.triggerId !== undefined) filter.triggerId = query.triggerId;
  if (query.status !== undefined) filter.status = query.status;
  if (query.taskType !== undefined) filter.taskType = query.taskType;
  if (query.source !== undefined) filter.source = query.source;
  if (query.from !== undefined || query.to !== undefined) {
    filter.scheduledFor = {
      ...(query.from !== undefined ? { $gte: query.from } : {}),
      ...(query.to !== undefined ? { $lt: query.to } : {}),
    };
  }
  if (query.after) Object.assign(filter, keysetAfter('scheduledFor', query.after.scheduledFor, query.after.id, -1));
  return filter;
}

export const RUN_LIST_SORT: Sort = { scheduledFor: -1, _id: -1 };

export function countRunsFilter(triggerId: string, statuses: readonly RunStatus[]): Filter<RunDoc> {
  return { triggerId, status: { $in: [...new Set(statuses)] } };
}

/** A run by id, owned by `owner` when given. */
export function runById(id: string, owner?: string): Filter<RunDoc> {
  return owner === undefined ? { _id: id } : { _id: id, owner };
}

/**
 * A run a fire created, only while nobody has touched it: a run created claimed is still held
 * under the fire's own lease, a pending one was never claimed (a claim sets `startedAt`, which
 * a deferral back to pending keeps).
 */
export function untouchedRun(run: RunRecord): Filter<RunDoc> {
  return run.lease ? { _id: run.id, status: 'running', 'lease.token': run.lease.token } : { _id: run.id, status: 'pending', startedAt: null };
}

// ---- Runs: claiming ----

/** Claimable runs (index `punctual_claim`, which also yields {@link CLAIM_SORT} without sorting). */
export function claimCandidatesFilter(request: Pick<ClaimRequest, 'now' | 'taskTypes'>): Filter<RunDoc> {
  const filter: Filter<RunDoc> = { status: 'pending', availableAt: { $lte: request.now } };
  if (request.taskTypes !== undefined) filter.taskType = { $in: [...request.taskTypes] };
  return filter;
}

/** Due pending runs of the types not in `exceptTypes`, counted by type (see `Store.countDueRunsByType`). */
export function dueRunsByTypePipeline(now: Date, exceptTypes: readonly string[]): Document[] {
  return [
    { $match: { status: 'pending', availableAt: { $lte: now }, taskType: { $nin: [...new Set(exceptTypes)] } } },
    { $group: { _id: '$taskType', count: { $sum: 1 }, oldest: { $min: '$availableAt' } } },
  ];
}

/** Claim order: priority desc, then availableAt, scheduledFor and id ascending (as the memory store). */
export const CLAIM_SORT: Sort = { priority: -1, availableAt: 1, scheduledFor: 1, _id: 1 };

/** The candidates still claimable at update time: each document is re-checked atomically. */
export function claimFilter(ids: readonly string[], request: Pick<ClaimRequest, 'now' | 'taskTypes'>): Filter<RunDoc> {
  return { _id: { $in: [...ids] }, ...claimCandidatesFilter(request) };
}

export function claimUpdate(request: ClaimRequest): UpdateFilter<RunDoc> {
  const lease = { token: request.token, instanceId: request.instanceId, expiresAt: new Date(request.now.getTime() + request.leaseMs) };
  return {
    $set: { status: 'running', lease, startedAt: request.now, instanceId: request.instanceId },
    $inc: { attempt: 1 },
  };
}

/** The runs among `ids` that the claim under `token` won. */
export function claimedFilter(ids: readonly string[], token: string): Filter<RunDoc> {
  return { _id: { $in: [...ids] }, status: 'running', 'lease.token': token };
}

// ---- Runs: leases ----

/** The run, only while `token` holds its lease. */
export function heldRun(runId: string, token: string): Filter<RunDoc> {
  return { _id: runId, status: 'running', 'lease.token': token };
}

export function renewUpdate(expiresAt: Date): UpdateFilter<RunDoc> {
  return { $set: { 'lease.expiresAt': expiresAt } };
}

export function progressUpdate(progress: NonNullable<RunRecord['progress']>): UpdateFilter<RunDoc> {
  return { $set: { progress: toStorable(progress) } };
}

/** The update that ends the current attempt (see `RunFinish`); the filter is {@link heldRun}. */
export function finishUpdate(finish: RunFinish): UpdateFilter<RunDoc> {
  const push = finish.attemptRecord ? { $push: { attempts: toStorable(finish.attemptRecord) } } : {};
  if (finish.status === 'pending') {
    const set: Record<string, unknown> = { status: 'pending', availableAt: finish.availableAt, lease: null };
    if (finish.error) set.error = toStorable(finish.error);
    return { $set: set, ...(finish.undoAttempt ? { $inc: { attempt: -1 } } : {}), ...push };
  }
  const set: Record<string, unknown> = {
    status: finish.status,
    finishedAt: finish.finishedAt,
    durationMs: finish.durationMs,
    expiresAt: finish.expiresAt,
    purgeAt: finish.expiresAt,
    lease: null,
  };
  if (finish.progress) set.progress = toStorable(finish.progress);
  if (finish.status === 'completed') {
    if (finish.result !== undefined) set.result = toStorable(finish.result);
    // A success clears the error an earlier attempt left.
    return { $set: set, $unset: { error: '' }, ...push };
  }
  set.error = toStorable(finish.error);
  return { $set: set, ...push };
}

/** Running runs whose lease expired by `now`, oldest expiry first (index `punctual_lease_expiry`). */
export function expiredLeasesFilter(now: Date): Filter<RunDoc> {
  return { status: 'running', 'lease.expiresAt': { $lte: now } };
}

export const EXPIRED_LEASES_SORT: Sort = { 'lease.expiresAt': 1, _id: 1 };

/**
 * Taking over one expired run: its filter holds only while the same lease is still there and
 * still expired (a renewal in between wins), and the update mirrors the memory store's recovery.
 */
export function recoveryWrite(
  run: RunRecord & { lease: NonNullable<RunRecord['lease']> },
  now: Date,
  retentionMs: number,
): { filter: Filter<RunDoc>; update: UpdateFilter<RunDoc>; outcome: 'pending' | 'failed' } {
  const at = now.getTime();
  const error: RunError = {
    name: 'LeaseLostError',
    message: `The lease of instance "${run.lease.instanceId}" expired at ${run.lease.expiresAt.toISOString()}.`,
  };
  const attempt: AttemptRecord = {
    attempt: run.attempt,
    instanceId: run.lease.instanceId,
    startedAt: run.startedAt ?? now,
    finishedAt: now,
    outcome: 'lease_expired',
    error,
  };
  const filter: Filter<RunDoc> = { _id: run.id, status: 'running', 'lease.token': run.lease.token, 'lease.expiresAt': { $lte: now } };
  const exhausted = run.attempt >= run.maxAttempts;
  const set: Record<string, unknown> = exhausted
    ? {
        status: 'failed',
        lease: null,
        finishedAt: now,
        durationMs: run.startedAt ? Math.max(0, at - run.startedAt.getTime()) : null,
        expiresAt: new Date(at + retentionMs),
        purgeAt: new Date(at + retentionMs),
        error,
      }
    : { status: 'pending', lease: null, availableAt: now };
  return { filter, update: { $set: set, $push: { attempts: attempt } }, outcome: exhausted ? 'failed' : 'pending' };
}

// ---- Runs: cancel and retention ----

export function cancelPendingFilter(id: string, owner?: string): Filter<RunDoc> {
  return { ...runById(id, owner), status: 'pending' };
}

export function cancelPendingUpdate(now: Date, retentionMs: number): UpdateFilter<RunDoc> {
  const expiresAt = new Date(now.getTime() + retentionMs);
  return { $set: { status: 'cancelled', finishedAt: now, expiresAt, purgeAt: expiresAt, lease: null } };
}

export function cancelRunningFilter(id: string, owner?: string): Filter<RunDoc> {
  return { ...runById(id, owner), status: 'running' };
}

export const CANCEL_REQUEST_UPDATE: UpdateFilter<RunDoc> = { $set: { cancelRequested: true } };

/** Final runs past retention (index `punctual_retention_ttl`). */
export function purgeableFilter(now: Date): Filter<RunDoc> {
  return { purgeAt: { $lte: now }, status: { $in: [...FINAL_RUN_STATUSES] } };
}

// ---- Audit ----

export function auditListFilter(query: AuditQuery): Filter<AuditDoc> {
  const filter: Filter<AuditDoc> = {};
  if (query.owner !== undefined) filter.owner = query.owner;
  if (query.triggerId !== undefined) filter.triggerId = query.triggerId;
  if (query.action !== undefined) filter.action = query.action;
  if (query.after) Object.assign(filter, keysetAfter('at', query.after.at, query.after.id, -1));
  return filter;
}

export const AUDIT_LIST_SORT: Sort = { at: -1, _id: -1 };

/** `skip`/`limit` of a `findEventTriggers` page; `null` when the page is empty by construction (limit 0). */
export function pageWindow(query: { limit: number; offset: number }): { skip: number; limit: number } | null {
  const limit = Math.max(0, Math.floor(query.limit));
  return limit === 0 ? null : { skip: Math.max(0, Math.floor(query.offset)), limit };
}
