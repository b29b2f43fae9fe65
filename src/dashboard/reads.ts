/** The dashboard's JSON reads. Each takes the request's View, so a scoped view sees one owner only. */
import { ValidationError, type ValidationIssue } from '../errors.js';
import type { Scheduler } from '../scheduler.js';
import { RUN_STATUSES, TRIGGER_STATUSES, type RunStatus, type TriggerStatus } from '../types.js';
import { HttpError } from './http.js';
import { countRuns, listAudit, listRuns, listTriggers, MAX_PAGE, searchTriggers, type RunFilters, type TriggerFilters } from './listing.js';
import { runSummary, triggerSummary } from './summaries.js';
import { upcoming } from './upcoming.js';
import type { View } from './view.js';

/** Runs in a trigger's recent-runs strip. */
const STRIP = 12;

function pageSize(query: URLSearchParams, issues: ValidationIssue[]): number {
  const raw = query.get('limit');
  if (raw === null) return 25;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > MAX_PAGE) issues.push({ path: 'limit', message: `must be a whole number from 1 to ${MAX_PAGE}` });
  return n;
}

function choice<T extends string>(query: URLSearchParams, name: string, allowed: readonly T[], issues: ValidationIssue[]): T | undefined {
  const raw = query.get(name);
  if (raw === null || raw === '') return undefined;
  if (!allowed.includes(raw as T)) issues.push({ path: name, message: `must be one of ${allowed.join(', ')}` });
  return raw as T;
}

function text(query: URLSearchParams, name: string): string | undefined {
  const raw = query.get(name);
  return raw === null || raw === '' ? undefined : raw;
}

function date(query: URLSearchParams, name: string, issues: ValidationIssue[]): Date | undefined {
  const raw = text(query, name);
  if (raw === undefined) return undefined;
  const value = new Date(raw);
  if (Number.isNaN(value.getTime())) issues.push({ path: name, message: 'must be an ISO-8601 date' });
  return value;
}

/** An owner filter is the admin's; in a scoped view the owner is the view's and cannot be asked for. */
function ownerFilter(view: View, query: URLSearchParams, issues: ValidationIssue[]): { owner?: string } {
  const owner = text(query, 'owner');
  if (owner === undefined) return {};
  if (view.owner !== undefined) {
    issues.push({ path: 'owner', message: 'is fixed in this view' });
    return {};
  }
  return { owner };
}

function done(issues: ValidationIssue[], subject: string): void {
  if (issues.length > 0) throw ValidationError.from(issues, subject);
}

export async function triggerList(view: View, query: URLSearchParams) {
  const issues: ValidationIssue[] = [];
  const limit = pageSize(query, issues);
  const filters: TriggerFilters = { ...ownerFilter(view, query, issues) };
  const status = choice<TriggerStatus>(query, 'status', TRIGGER_STATUSES, issues);
  if (status) filters.status = status;
  const taskType = text(query, 'taskType');
  if (taskType) filters.taskType = taskType;
  done(issues, 'Invalid trigger query');
  const search = text(query, 'q');
  const cursor = text(query, 'cursor');
  const page = search ? await searchTriggers(view, filters, search, cursor, limit) : await listTriggers(view, filters, cursor, limit);
  const items = await Promise.all(
    page.items.map(async (trigger) => {
      const recent = (await listRuns(view, { triggerId: trigger.id }, undefined, STRIP)).items;
      const last = recent.find((run) => run.finishedAt !== null);
      return {
        ...triggerSummary(trigger),
        lastOutcome: last ? { status: last.status, at: last.finishedAt, runId: last.id } : null,
        recent: recent.map((run) => ({ id: run.id, status: run.status, durationMs: run.durationMs, scheduledFor: run.scheduledFor })),
      };
    }),
  );
  return { items, nextCursor: page.nextCursor };
}

export async function triggerDetail(view: View, id: string) {
  const trigger = await view.triggers.get(id);
  const next = await view.triggers.preview(id, 10);
  return { trigger: triggerSummary(trigger), next };
}

export async function triggerRuns(view: View, id: string, query: URLSearchParams) {
  const issues: ValidationIssue[] = [];
  const limit = pageSize(query, issues);
  done(issues, 'Invalid run query');
  await view.triggers.get(id); // a trigger of another owner is not found, even with no runs
  const page = await listRuns(view, { triggerId: id }, text(query, 'cursor'), limit);
  return { items: page.items.map(runSummary), nextCursor: page.nextCursor };
}

export async function triggerAudit(view: View, id: string, query: URLSearchParams) {
  const issues: ValidationIssue[] = [];
  const limit = pageSize(query, issues);
  done(issues, 'Invalid audit query');
  await view.triggers.get(id);
  return listAudit(view, id, text(query, 'cursor'), limit);
}

export async function runList(view: View, query: URLSearchParams) {
  const issues: ValidationIssue[] = [];
  const limit = pageSize(query, issues);
  const filters: RunFilters = { ...ownerFilter(view, query, issues) };
  const status = choice<RunStatus>(query, 'status', RUN_STATUSES, issues);
  if (status) filters.status = status;
  const taskType = text(query, 'taskType');
  if (taskType) filters.taskType = taskType;
  const triggerId = text(query, 'triggerId');
  if (triggerId) filters.triggerId = triggerId;
  const from = date(query, 'from', issues);
  const to = date(query, 'to', issues);
  if (from) filters.from = from;
  if (to) filters.to = to;
  done(issues, 'Invalid run query');
  const page = await listRuns(view, filters, text(query, 'cursor'), limit);
  return { items: page.items.map(runSummary), nextCursor: page.nextCursor };
}

export async function runDetail(view: View, id: string) {
  const run = await view.runs.get(id);
  return { ...runSummary(run), payload: run.payload, ...(run.result !== undefined ? { result: run.result } : {}) };
}

export async function upcomingFires(view: View, query: URLSearchParams, now: Date) {
  const raw = query.get('hours') ?? '24';
  const hours = Number(raw);
  if (!Number.isInteger(hours) || hours < 1 || hours > 168) throw ValidationError.from([{ path: 'hours', message: 'must be a whole number from 1 to 168' }], 'Invalid window');
  return upcoming(view, now, hours);
}

/** Health, the metrics snapshot, waiting runs and the last day's failures per task type. Admin view only. */
export async function healthSnapshot(view: View, scheduler: Scheduler, now: Date) {
  if (view.owner !== undefined) throw new HttpError(403, 'FORBIDDEN', 'Health covers every owner; it is shown in the admin view only');
  const [health, waiting, failed] = await Promise.all([
    scheduler.health(),
    countRuns(view, { status: 'pending' }, 10_000),
    listRuns(view, { status: 'failed', from: new Date(now.getTime() - 86_400_000) }, undefined, MAX_PAGE),
  ]);
  const failuresByType: Record<string, number> = {};
  for (const run of failed.items) failuresByType[run.taskType] = (failuresByType[run.taskType] ?? 0) + 1;
  return { health, metrics: scheduler.metrics(), waiting, failuresByType, failuresSampled: failed.nextCursor !== null };
}
