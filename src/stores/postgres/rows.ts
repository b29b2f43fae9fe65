import type { AttemptRecord, AuditEntry, RunRecord, TriggerRecord } from '../../types.js';
import type { RunFinish } from '../types.js';

/**
 * Pure mapping between records and table rows. Records travel to PostgreSQL as one JSON
 * document per row (snake_case keys, Dates as ISO strings) read by `jsonb_to_recordset`;
 * jsonb columns travel as JSON *text* (`JSON.stringify(value)`, key left out for undefined) so
 * that a JavaScript `null` is stored as the jsonb value `null` and `undefined` as SQL NULL.
 * They are selected back as text (`col::text`), so the two stay apart on the way out as well.
 */

export type ColumnType = 'text' | 'jsonb' | 'timestamptz' | 'integer' | 'bigint' | 'boolean';

export interface Column {
  name: string;
  type: ColumnType;
}

const columns = (spec: Record<string, ColumnType>): readonly Column[] =>
  Object.entries(spec).map(([name, type]) => ({ name, type }));

/** The triggers table, in table order (columns added by later migrations come last). */
export const TRIGGER_COLUMNS = columns({
  id: 'text', owner: 'text', name: 'text', task_type: 'text', payload: 'jsonb', schedule: 'jsonb', status: 'text',
  next_fire_at: 'timestamptz', priority: 'integer', timeout_ms: 'integer', retry: 'jsonb', misfire: 'text',
  misfire_grace_ms: 'integer', overlap: 'text', run_count: 'integer', paused_reason: 'text', metadata: 'jsonb',
  created_at: 'timestamptz', updated_at: 'timestamptz', version: 'integer', timing: 'jsonb', auto_pause: 'jsonb',
});

/** The runs table, in table order (columns added by later migrations come last). */
export const RUN_COLUMNS = columns({
  id: 'text', trigger_id: 'text', trigger_name: 'text', owner: 'text', task_type: 'text', payload: 'jsonb',
  source: 'text', status: 'text', priority: 'integer', scheduled_for: 'timestamptz', available_at: 'timestamptz',
  attempt: 'integer', max_attempts: 'integer', timeout_ms: 'integer', retry: 'jsonb', overlap: 'text',
  lease_token: 'text', lease_instance: 'text', lease_expires_at: 'timestamptz', started_at: 'timestamptz',
  finished_at: 'timestamptz', duration_ms: 'bigint', instance_id: 'text', result: 'jsonb', error: 'jsonb',
  progress: 'jsonb', cancel_requested: 'boolean', attempts: 'jsonb', event: 'jsonb', created_at: 'timestamptz',
  expires_at: 'timestamptz', pause_after_failures: 'integer',
});

/** The audit table, in table order. */
export const AUDIT_COLUMNS = columns({
  id: 'text', at: 'timestamptz', actor: 'text', action: 'text', owner: 'text', trigger_id: 'text', run_id: 'text',
  details: 'jsonb',
});

/** A row as selected: jsonb columns as text, timestamps as Dates, bigints as strings. */
type Row = Record<string, unknown>;

/** JSON text for a jsonb column; undefined (SQL NULL) for undefined. */
function json(value: unknown): string | undefined {
  return value === undefined ? undefined : JSON.stringify(value);
}

function parseJson(text: unknown): unknown {
  return typeof text === 'string' ? JSON.parse(text) : undefined;
}

function date(value: unknown): Date {
  return value instanceof Date ? value : new Date(value as string);
}

function dateOrNull(value: unknown): Date | null {
  return value === null || value === undefined ? null : date(value);
}

function num(value: unknown): number {
  return typeof value === 'number' ? value : Number(value);
}

export function encodeTrigger(t: TriggerRecord): Row {
  return {
    id: t.id, owner: t.owner, name: t.name, task_type: t.taskType, payload: json(t.payload), schedule: json(t.schedule),
    status: t.status, next_fire_at: t.nextFireAt, priority: t.priority, timeout_ms: t.timeoutMs, retry: json(t.retry),
    misfire: t.misfire, misfire_grace_ms: t.misfireGraceMs, overlap: t.overlap, run_count: t.runCount,
    paused_reason: t.pausedReason, metadata: json(t.metadata), created_at: t.createdAt, updated_at: t.updatedAt,
    version: t.version, timing: json(t.timing), auto_pause: json(t.autoPause),
  };
}

export function decodeTrigger(row: Row): TriggerRecord {
  const trigger: TriggerRecord = {
    id: row.id as string,
    owner: row.owner as string,
    name: row.name as string,
    taskType: row.task_type as string,
    payload: parseJson(row.payload),
    schedule: parseJson(row.schedule) as TriggerRecord['schedule'],
    status: row.status as TriggerRecord['status'],
    nextFireAt: dateOrNull(row.next_fire_at),
    priority: num(row.priority),
    misfire: row.misfire as TriggerRecord['misfire'],
    misfireGraceMs: num(row.misfire_grace_ms),
    overlap: row.overlap as TriggerRecord['overlap'],
    runCount: num(row.run_count),
    createdAt: date(row.created_at),
    updatedAt: date(row.updated_at),
    version: num(row.version),
  };
  if (row.timeout_ms !== null && row.timeout_ms !== undefined) trigger.timeoutMs = num(row.timeout_ms);
  if (row.retry !== null && row.retry !== undefined) trigger.retry = parseJson(row.retry) as TriggerRecord['retry'];
  if (typeof row.paused_reason === 'string') trigger.pausedReason = row.paused_reason;
  if (row.metadata !== null && row.metadata !== undefined) trigger.metadata = parseJson(row.metadata) as TriggerRecord['metadata'];
  if (typeof row.timing === 'string') trigger.timing = parseJson(row.timing) as TriggerRecord['timing'];
  if (typeof row.auto_pause === 'string') trigger.autoPause = parseJson(row.auto_pause) as TriggerRecord['autoPause'];
  return trigger;
}

export function encodeRun(r: RunRecord): Row {
  return {
    id: r.id, trigger_id: r.triggerId, trigger_name: r.triggerName, owner: r.owner, task_type: r.taskType,
    payload: json(r.payload), source: r.source, status: r.status, priority: r.priority, scheduled_for: r.scheduledFor,
    available_at: r.availableAt, attempt: r.attempt, max_attempts: r.maxAttempts, timeout_ms: r.timeoutMs,
    retry: json(r.retry), overlap: r.overlap, lease_token: r.lease?.token, lease_instance: r.lease?.instanceId,
    lease_expires_at: r.lease?.expiresAt, started_at: r.startedAt, finished_at: r.finishedAt, duration_ms: r.durationMs,
    instance_id: r.instanceId, result: json(r.result), error: json(r.error), progress: json(r.progress),
    cancel_requested: r.cancelRequested, attempts: json(r.attempts), event: json(r.event), created_at: r.createdAt,
    expires_at: r.expiresAt, pause_after_failures: r.pauseAfterFailures,
  };
}

export function decodeRun(row: Row): RunRecord {
  const run: RunRecord = {
    id: row.id as string,
    triggerId: row.trigger_id as string,
    triggerName: row.trigger_name as string,
    owner: row.owner as string,
    taskType: row.task_type as string,
    payload: parseJson(row.payload),
    source: row.source as RunRecord['source'],
    status: row.status as RunRecord['status'],
    priority: num(row.priority),
    scheduledFor: date(row.scheduled_for),
    availableAt: date(row.available_at),
    attempt: num(row.attempt),
    maxAttempts: num(row.max_attempts),
    timeoutMs: num(row.timeout_ms),
    overlap: row.overlap as RunRecord['overlap'],
    lease:
      typeof row.lease_token === 'string'
        ? { token: row.lease_token, instanceId: row.lease_instance as string, expiresAt: date(row.lease_expires_at) }
        : null,
    startedAt: dateOrNull(row.started_at),
    finishedAt: dateOrNull(row.finished_at),
    durationMs: row.duration_ms === null || row.duration_ms === undefined ? null : num(row.duration_ms),
    instanceId: (row.instance_id as string | null) ?? null,
    cancelRequested: row.cancel_requested === true,
    attempts: decodeAttempts(parseJson(row.attempts)),
    createdAt: date(row.created_at),
    expiresAt: dateOrNull(row.expires_at),
  };
  if (typeof row.retry === 'string') run.retry = parseJson(row.retry) as RunRecord['retry'];
  if (row.pause_after_failures !== null && row.pause_after_failures !== undefined) {
    run.pauseAfterFailures = num(row.pause_after_failures);
  }
  if (typeof row.result === 'string') run.result = parseJson(row.result);
  if (typeof row.error === 'string') run.error = parseJson(row.error) as RunRecord['error'];
  if (typeof row.progress === 'string') {
    const progress = parseJson(row.progress) as { percent: number; note?: string; at: string };
    run.progress = { ...progress, at: date(progress.at) };
  }
  if (typeof row.event === 'string') {
    const event = parseJson(row.event) as { name: string; data: unknown; publishedAt: string };
    run.event = { ...event, publishedAt: date(event.publishedAt) };
  }
  return run;
}

/** Attempts as stored (Dates as ISO strings) back to records. */
function decodeAttempts(value: unknown): AttemptRecord[] {
  if (!Array.isArray(value)) return [];
  return value.map((stored: Record<string, unknown>) => ({
    ...(stored as unknown as AttemptRecord),
    startedAt: date(stored.startedAt),
    finishedAt: date(stored.finishedAt),
  }));
}

export function encodeAudit(e: AuditEntry): Row {
  return {
    id: e.id, at: e.at, actor: e.actor, action: e.action, owner: e.owner, trigger_id: e.triggerId, run_id: e.runId,
    details: json(e.details),
  };
}

export function decodeAudit(row: Row): AuditEntry {
  const entry: AuditEntry = {
    id: row.id as string,
    at: date(row.at),
    actor: row.actor as string,
    action: row.action as AuditEntry['action'],
    owner: row.owner as string,
    triggerId: row.trigger_id as string,
  };
  if (typeof row.run_id === 'string') entry.runId = row.run_id;
  if (typeof row.details === 'string') entry.details = parseJson(row.details) as AuditEntry['details'];
  return entry;
}

/**
 * An instant as JSON would write it (null for an invalid Date), without `JSON.stringify`
 * calling `toJSON` for it: that call from inside the serializer costs as much again as
 * `toISOString` itself, and a finish holds four instants.
 */
function iso(date: Date): string | null {
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
}

function encodeAttempt(a: AttemptRecord): Row {
  return { ...a, startedAt: iso(a.startedAt), finishedAt: iso(a.finishedAt) };
}

/**
 * One finish, as the `finishRuns` statement reads it; `i` is its position in the batch. The
 * attempt record, error and progress travel as nested JSON (read as jsonb), not as JSON text
 * inside the JSON: none of them is ever a JSON `null`, and encoding them once instead of twice
 * (with every quote escaped) is a visible part of a short run's cost. The result alone stays
 * text, since a `null` result must stay apart from no result.
 */
export function encodeFinish(f: RunFinish, i: number): Row {
  const row: Row = { i, run_id: f.runId, token: f.token, status: f.status };
  if (f.attemptRecord) row.attempt_record = encodeAttempt(f.attemptRecord);
  if (f.status === 'pending') {
    row.available_at = iso(f.availableAt);
    row.error = f.error;
    row.undo_attempt = f.undoAttempt === true;
    return row;
  }
  row.finished_at = iso(f.finishedAt);
  row.duration_ms = f.durationMs;
  row.expires_at = iso(f.expiresAt);
  row.progress = f.progress;
  if (f.status === 'completed') {
    row.has_result = 'result' in f;
    row.result = json(f.result);
  } else {
    row.error = f.error;
  }
  return row;
}

/** JSON text for a parameter of type jsonb; `null` for undefined. */
export function jsonParam(value: unknown): string | null {
  return json(value) ?? null;
}
