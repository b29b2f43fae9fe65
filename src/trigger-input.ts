import { ValidationError, type ValidationIssue } from './errors.js';
import { jsonIssue, preview } from './json-limits.js';
import type { HandlerRegistry, PayloadOf, SchemaMap } from './registry.js';
import { MAX_TIMEOUT_MS } from './registry.js';
import { retryOptionIssues } from './retry.js';
import { parseSchedule } from './schedules/index.js';
import type { MisfirePolicy, OverlapPolicy, RetryOptions, Schedule, ScheduleInput, TriggerTiming } from './types.js';

/** Settings every trigger has, whatever its task type. */
export interface TriggerSettings {
  /** 1-100 letters, digits, `-` and `_`; unique per owner. */
  name: string;
  schedule: ScheduleInput;
  /** Higher runs first when capacity is short, -1000..1000. Default: the handler's priority or 0. */
  priority?: number;
  /** Execution limit, ms, 1..86,400,000. Default: the handler's, else the scheduler's `defaultTimeoutMs`. */
  timeoutMs?: number;
  /** Retry override for this trigger's runs. */
  retry?: RetryOptions;
  /** Missed-slot policy. Default: the scheduler's `misfire` (`once`). */
  misfire?: MisfirePolicy;
  /** How late a slot may start before it counts as missed, ms. Default: the scheduler's `misfireGraceMs`. */
  misfireGraceMs?: number;
  /** What a due run does while the previous one still runs. Default: the scheduler's `overlap` (`queue`). */
  overlap?: OverlapPolicy;
  /** Start and end dates, a run cap, jitter and exclusion calendars. */
  timing?: TimingInput;
  /** Pause the trigger automatically after this many consecutive failed runs (1..1000). Off by default. */
  pauseAfterFailures?: number;
  /** Create paused. Default false. */
  paused?: boolean;
  /** Free-form JSON for the host, at most 16 KB. */
  metadata?: Record<string, unknown>;
}

/**
 * Refinements of a trigger's schedule.
 * @example { startAt: '2026-12-01T00:00:00Z', endAt: '2027-01-01T00:00:00Z', maxRuns: 20, jitterMs: 30_000, calendars: ['fr-holidays'] }
 */
export interface TimingInput {
  /** No slot before this instant (Date or ISO-8601 with an offset). */
  startAt?: Date | string;
  /** No slot after this instant; the trigger then completes. */
  endAt?: Date | string;
  /** Complete after this many scheduled runs (1..1,000,000,000). */
  maxRuns?: number;
  /** Delay each scheduled run by a random 0..jitterMs ms, at most 86,400,000; the slot (and its run id) is unchanged. */
  jitterMs?: number;
  /** Exclusion calendars (scheduler option `calendars`) whose days and windows are skipped. */
  calendars?: string[];
}

/**
 * Input of `triggers.create`: the payload's type follows from the task type's schema.
 * @example
 * { name: 'weekday-report', owner: 'user-42', taskType: 'send-report',
 *   payload: { to: 'a@example.com' }, schedule: { cron: '0 9 * * 1-5', timezone: 'Europe/Paris' } }
 */
export type CreateTriggerInput<S extends SchemaMap> = {
  [K in keyof S & string]: TriggerSettings & { owner: string; taskType: K; payload: PayloadOf<S, K> };
}[keyof S & string];

/** Any payload of any registered task type. */
export type AnyPayload<S extends SchemaMap> = { [K in keyof S & string]: PayloadOf<S, K> }[keyof S & string];

/** Fields `triggers.update` may change. Changing `taskType` requires a `payload` valid for it. */
export type UpdateTriggerInput<S extends SchemaMap> = Partial<Omit<TriggerSettings, 'paused'>> &
  (
    | { [K in keyof S & string]: { taskType: K; payload: PayloadOf<S, K> } }[keyof S & string]
    | { taskType?: undefined; payload?: AnyPayload<S> }
  );

/** A trigger's fields after validation, ready to store. */
export interface ValidTriggerFields {
  name: string;
  taskType: string;
  payload: unknown;
  schedule: Schedule;
  priority?: number;
  timeoutMs?: number;
  retry?: RetryOptions;
  misfire?: MisfirePolicy;
  misfireGraceMs?: number;
  overlap?: OverlapPolicy;
  paused?: boolean;
  metadata?: Record<string, unknown>;
  timing?: TriggerTiming;
  pauseAfterFailures?: number;
}

export const NAME_PATTERN = /^[A-Za-z0-9_-]{1,100}$/;
/** 1-200 printable characters, no whitespace. */
export const OWNER_PATTERN = /^[\p{L}\p{N}\p{P}\p{S}]{1,200}$/u;
const SETTINGS_KEYS = ['name', 'schedule', 'priority', 'timeoutMs', 'retry', 'misfire', 'misfireGraceMs', 'overlap', 'paused', 'metadata', 'timing', 'pauseAfterFailures'];
const TIMING_KEYS = ['startAt', 'endAt', 'maxRuns', 'jitterMs', 'calendars'];
const CREATE_KEYS = new Set([...SETTINGS_KEYS, 'owner', 'taskType', 'payload']);
const UPDATE_KEYS = new Set([...SETTINGS_KEYS.filter((k) => k !== 'paused'), 'taskType', 'payload']);
const MAX_METADATA_BYTES = 16_384;

/**
 * Validates a create (all fields) or an update (`partial`: only the given fields; the payload
 * is checked against `taskType` or, when absent, `currentTaskType`). Collects every issue and
 * throws one ValidationError; returns only the fields that were given.
 */
export async function validateTriggerFields(
  input: unknown,
  registry: HandlerRegistry,
  calendarNames: ReadonlySet<string>,
  now: Date,
  mode: { partial: false } | { partial: true; currentTaskType: string },
): Promise<Partial<ValidTriggerFields> & { owner?: string }> {
  const subject = mode.partial ? 'Invalid trigger update' : 'Invalid trigger';
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw ValidationError.from([{ path: '', message: 'must be an object' }], subject);
  }
  const o = input as Record<string, unknown>;
  const issues: ValidationIssue[] = [];
  const out: Partial<ValidTriggerFields> & { owner?: string } = {};
  const has = (key: string): boolean => o[key] !== undefined;
  const required = (key: string): boolean => {
    if (has(key)) return true;
    if (!mode.partial) issues.push({ path: key, message: 'is required' });
    return false;
  };
  for (const key of Object.keys(o)) {
    if (!(mode.partial ? UPDATE_KEYS : CREATE_KEYS).has(key)) issues.push({ path: key, message: 'is not a known field' });
  }

  if (!mode.partial && required('owner')) {
    if (typeof o.owner === 'string' && OWNER_PATTERN.test(o.owner)) out.owner = o.owner;
    else issues.push({ path: 'owner', message: 'must be a string of 1-200 characters without spaces or control characters' });
  }
  if (required('name')) {
    if (typeof o.name === 'string' && NAME_PATTERN.test(o.name)) out.name = o.name;
    else issues.push({ path: 'name', message: `must be 1-100 letters, digits, "-" or "_", got ${preview(o.name)}` });
  }
  if (required('schedule')) {
    try {
      out.schedule = parseSchedule(o.schedule as ScheduleInput, now);
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      issues.push(...error.issues);
    }
  }
  let taskType: string | undefined = mode.partial ? mode.currentTaskType : undefined;
  if (required('taskType')) {
    if (typeof o.taskType === 'string' && registry.has(o.taskType)) {
      taskType = out.taskType = o.taskType;
      if (mode.partial && !has('payload')) issues.push({ path: 'payload', message: 'is required when taskType changes' });
    } else {
      taskType = undefined;
      issues.push({ path: 'taskType', message: `unknown task type ${preview(o.taskType)}; registered: ${registry.types.join(', ') || '(none)'}` });
    }
  }
  if ((mode.partial ? has('payload') : true) && taskType !== undefined) {
    try {
      await registry.validate(taskType, o.payload);
      out.payload = o.payload;
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      issues.push(...error.issues);
    }
  }
  integer(o, 'priority', -1_000, 1_000, issues, out);
  integer(o, 'timeoutMs', 1, MAX_TIMEOUT_MS, issues, out, ' (24 h)');
  integer(o, 'misfireGraceMs', 0, 86_400_000, issues, out);
  const retryIssues = retryOptionIssues(o.retry, 'retry');
  issues.push(...retryIssues);
  if (has('retry') && retryIssues.length === 0) out.retry = { ...(o.retry as RetryOptions) };
  choice(o, 'misfire', ['skip', 'once', 'all'], issues, out);
  choice(o, 'overlap', ['queue', 'allow', 'skip', 'cancel-previous'], issues, out);
  integer(o, 'pauseAfterFailures', 1, 1_000, issues, out);
  if (has('timing')) {
    const timing = checkTiming(o.timing, calendarNames, issues);
    if (timing) out.timing = timing;
  }
  if (!mode.partial && has('paused')) {
    if (typeof o.paused === 'boolean') out.paused = o.paused;
    else issues.push({ path: 'paused', message: 'must be true or false' });
  }
  if (has('metadata')) {
    const problem = metadataIssue(o.metadata);
    if (problem) issues.push(problem);
    else out.metadata = structuredClone(o.metadata as Record<string, unknown>);
  }
  if (issues.length > 0) throw ValidationError.from(issues, subject);
  return out;
}

function integer(o: Record<string, unknown>, key: string, min: number, max: number, issues: ValidationIssue[], out: Record<string, unknown>, note = '', prefix = ''): void {
  const v = o[key];
  if (v === undefined) return;
  if (typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max) out[key] = v;
  else issues.push({ path: `${prefix}${key}`, message: `must be an integer from ${min} to ${max}${note}, got ${preview(v)}` });
}

function choice(o: Record<string, unknown>, key: keyof ValidTriggerFields, valid: string[], issues: ValidationIssue[], out: Record<string, unknown>): void {
  const v = o[key];
  if (v === undefined) return;
  if (typeof v === 'string' && valid.includes(v)) out[key] = v;
  else issues.push({ path: key, message: `must be one of ${valid.map((x) => `"${x}"`).join(', ')}, got ${preview(v)}` });
}

function metadataIssue(value: unknown): ValidationIssue | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { path: 'metadata', message: 'must be a plain object' };
  // JSON.stringify is safe once the limits hold: plain data, bounded depth.
  const tooBig = (): boolean => Buffer.byteLength(JSON.stringify(value)) > MAX_METADATA_BYTES;
  return jsonIssue(value, 'metadata') ?? (tooBig() ? { path: 'metadata', message: `must serialize to at most ${MAX_METADATA_BYTES} bytes of JSON` } : null);
}

/** Ids are 1-200 characters of letters, digits and `_ - . : @`. */
export const ID_PATTERN = /^[A-Za-z0-9_.:@-]{1,200}$/;

export function checkId(id: unknown, what: 'trigger' | 'run'): string {
  if (typeof id === 'string' && ID_PATTERN.test(id)) return id;
  throw ValidationError.from([{ path: 'id', message: `must be a ${what} id (1-200 letters, digits, "_-.:@"), got ${preview(id)}` }], `Invalid ${what} id`);
}

function checkTiming(value: unknown, calendarNames: ReadonlySet<string>, issues: ValidationIssue[]): TriggerTiming | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    issues.push({ path: 'timing', message: 'must be an object like { startAt, endAt, maxRuns, jitterMs, calendars }' });
    return null;
  }
  const t = value as Record<string, unknown>;
  const before = issues.length;
  const timing: TriggerTiming = {};
  for (const key of Object.keys(t)) {
    if (!TIMING_KEYS.includes(key)) issues.push({ path: `timing.${key}`, message: `is not a known field; valid: ${TIMING_KEYS.join(', ')}` });
  }
  for (const key of ['startAt', 'endAt'] as const) {
    const v = t[key];
    if (v === undefined) continue;
    const ms = v instanceof Date ? v.getTime() : typeof v === 'string' && /(Z|[+-]\d{2}:?\d{2})$/i.test(v) ? Date.parse(v) : Number.NaN;
    if (Number.isNaN(ms)) issues.push({ path: `timing.${key}`, message: `must be a Date or an ISO-8601 string with an offset, got ${preview(v)}` });
    else timing[key] = new Date(ms).toISOString();
  }
  if (timing.startAt && timing.endAt && timing.startAt >= timing.endAt) issues.push({ path: 'timing.endAt', message: 'must be after timing.startAt' });
  integer(t, 'maxRuns', 1, 1_000_000_000, issues, timing as Record<string, unknown>, '', 'timing.');
  integer(t, 'jitterMs', 0, 86_400_000, issues, timing as Record<string, unknown>, '', 'timing.');
  if (t.calendars !== undefined) {
    if (!Array.isArray(t.calendars) || t.calendars.length > 20 || !t.calendars.every((c) => typeof c === 'string')) {
      issues.push({ path: 'timing.calendars', message: 'must be an array of at most 20 calendar names' });
    } else {
      const unknown = t.calendars.filter((c: string) => !calendarNames.has(c));
      if (unknown.length > 0) {
        issues.push({ path: 'timing.calendars', message: `unknown calendar ${unknown.map((c) => preview(c)).join(', ')}; defined: ${[...calendarNames].join(', ') || '(none; see the scheduler option calendars)'}` });
      } else timing.calendars = [...new Set(t.calendars as string[])];
    }
  }
  return issues.length > before ? null : timing;
}

/** The problem with a run's priority override, if any: an integer from -1000 to 1000 or nothing. */
export function priorityIssue(path: string, priority: unknown): ValidationIssue | null {
  if (priority === undefined || (Number.isInteger(priority) && Math.abs(priority as number) <= 1_000)) return null;
  return { path, message: 'must be an integer from -1000 to 1000' };
}
