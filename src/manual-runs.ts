/**
 * Runs created on demand rather than by a schedule: `runNow`, `runMany` and `enqueue`. Each
 * item may carry its own payload, priority and run time; items are validated together (one
 * ValidationError names every bad item) and stored in one write.
 */
import { buildRun, recordAudit, type ApiContext } from './engine.js';
import { ValidationError, type ValidationIssue } from './errors.js';
import { instantMs } from './instants.js';
import type { HandlerRegistry } from './registry.js';
import { unknownKeyIssues } from './option-keys.js';
import { field, INVALID, int, type Field } from './field-kit.js';
import { TRIGGER_FIELDS } from './trigger-fields.js';
import type { RunRecord, TriggerRecord } from './types.js';

/** When a run created on demand may start. Give at most one of the two; default: now. */
export interface RunTimeOptions {
  /** Not before this instant: a Date or an ISO-8601 string with an offset. A past instant runs at once. */
  runAt?: Date | string;
  /** Not before this many ms from now, 0..315,360,000,000 (10 years). */
  delayMs?: number;
}

/** One run of `runMany`: its own payload, priority and run time, else the trigger's payload and priority, now. */
export interface RunManyItem<P = unknown> extends RunTimeOptions {
  /** Use this payload instead of the trigger's (validated against the schema). */
  payload?: P;
  /** Priority of this run. Default: the trigger's. */
  priority?: number;
}

/** Options of `runMany`. */
export interface RunManyOptions {
  /** Who did it, for the audit trail. Default: the scoped owner, else `system`. */
  actor?: string;
  /** Run even while another run of the trigger is running, whatever its overlap policy. Default false. */
  ignoreOverlap?: boolean;
}

/** Options of `runNow`: one run's payload, priority and run time, and the options of `runMany`. */
export interface RunNowOptions<P = unknown> extends RunManyItem<P>, RunManyOptions {}

/** Longest delay of a run created on demand: 10 years. */
export const MAX_DELAY_MS = 315_360_000_000;

/** The fields of one run created on demand (`runNow` options, a `runMany` item), in check order. */
export const RUN_ITEM_FIELDS = {
  payload: field<unknown>(() => INVALID, { $ref: '#/components/schemas/Payload' }), // checked by checkRunItem, against the trigger's task type
  priority: TRIGGER_FIELDS.priority,
  runAt: field<Date | string>(() => INVALID, { type: 'string', format: 'date-time', description: 'Not before this instant (with an offset); a past one runs at once. Not with delayMs.' }), // checked by runTimeOf, against now
  delayMs: { ...int(0, MAX_DELAY_MS, { note: ' (10 years)' }), schema: { type: 'integer', minimum: 0, maximum: MAX_DELAY_MS, description: 'Not before this many ms from now.' } },
} satisfies { [K in keyof Required<RunManyItem>]: Field<unknown, unknown> };

export const RUN_ITEM_KEYS = Object.keys(RUN_ITEM_FIELDS) as (keyof typeof RUN_ITEM_FIELDS)[];
export const RUN_MANY_OPTION_KEYS = ['actor', 'ignoreOverlap'] as const;
export const RUN_NOW_OPTION_KEYS = [...RUN_ITEM_KEYS, ...RUN_MANY_OPTION_KEYS] as const;

/** A validated item, ready to become a run. */
export interface CheckedItem {
  payload?: unknown;
  priority?: number;
  /** When it may start: the requested run time, else now. */
  at: Date;
  /** Set by enqueue's idempotency key: the same id on every retry. */
  id?: string;
}

/**
 * The run time of an item (`runAt` or `delayMs`, else `now`), adding an issue under `prefix`
 * when it is malformed.
 */
export function runTimeOf(item: RunTimeOptions, now: Date, prefix: string, issues: ValidationIssue[]): Date {
  const { runAt, delayMs } = item;
  if (runAt !== undefined && delayMs !== undefined) {
    issues.push({ path: `${prefix}runAt`, message: 'give runAt or delayMs, not both' });
    return now;
  }
  if (delayMs !== undefined) {
    const delay = RUN_ITEM_FIELDS.delayMs.check(delayMs, `${prefix}delayMs`, issues, undefined);
    return typeof delay === 'number' ? new Date(now.getTime() + delay) : now;
  }
  if (runAt !== undefined) {
    const ms = instantMs(runAt);
    if (!Number.isNaN(ms) && ms <= now.getTime() + MAX_DELAY_MS) return new Date(ms);
    issues.push({ path: `${prefix}runAt`, message: 'must be a Date or an ISO-8601 string with an offset, at most 10 years ahead' });
  }
  return now;
}

/**
 * Validates items against a task type: known keys only, payload by the schema, priority,
 * run time. `path(i)` prefixes each issue (`items.3.`, or `''` for a single run).
 */
export async function checkRunItem(
  registry: HandlerRegistry,
  taskType: string,
  item: unknown,
  prefix: string,
  now: Date,
  issues: ValidationIssue[],
  extraKeys: readonly string[] = [],
): Promise<CheckedItem> {
  if (typeof item !== 'object' || item === null || Array.isArray(item)) {
    issues.push({ path: prefix.replace(/\.$/, ''), message: 'must be an object { payload?, priority?, runAt?, delayMs? }' });
    return { at: now };
  }
  issues.push(...unknownKeyIssues(item, [...RUN_ITEM_KEYS, ...extraKeys], prefix));
  const { payload, priority } = item as RunManyItem;
  let validPayload = true;
  if (payload !== undefined) {
    try {
      await registry.validate(taskType, payload);
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      validPayload = false;
      for (const issue of error.issues) issues.push({ path: `${prefix}${issue.path}`, message: issue.message });
    }
  }
  if (priority !== undefined) RUN_ITEM_FIELDS.priority.check(priority, `${prefix}priority`, issues, undefined);
  const at = runTimeOf(item as RunTimeOptions, now, prefix, issues);
  // A refused payload is not copied: it may be nested deeper than any copy can follow.
  return { ...(payload !== undefined && validPayload ? { payload: structuredClone(payload) } : {}), ...(priority !== undefined ? { priority } : {}), at };
}

/** What `insertManualRuns` did. */
export interface ManualRunsResult {
  /** One per item, in order: the new run, or the one already stored under the same id. */
  runs: RunRecord[];
  /** Runs this call created. */
  created: RunRecord[];
}

/**
 * Stores one manual run per item of `trigger` in one write, records one audit entry for the
 * batch, emits `run:scheduled` for each new run and wakes the executor (at once, or at the
 * run time of delayed runs). Items with an `id` already stored return the stored run.
 */
export async function insertManualRuns(
  engine: ApiContext,
  trigger: TriggerRecord,
  items: readonly CheckedItem[],
  options: { actor: string; ignoreOverlap?: boolean; audit: AuditStyle },
): Promise<ManualRunsResult> {
  const now = engine.now();
  const built = items.map((item) =>
    buildRun(engine, trigger, {
      ...(item.id !== undefined ? { id: item.id } : {}),
      source: 'manual',
      scheduledFor: item.at.getTime() > now.getTime() ? item.at : now,
      ...(item.payload !== undefined ? { payload: item.payload } : {}),
      ...(item.priority !== undefined ? { priority: item.priority } : {}),
      ...(options.ignoreOverlap === true ? { overlap: 'allow' as const } : {}),
    }),
  );
  // Two items with one id (an idempotency key repeated in one call) are one run.
  const byId = new Map<string, RunRecord>();
  for (const run of built) if (!byId.has(run.id)) byId.set(run.id, run);
  const toInsert = [...byId.values()];
  const inserted = await engine.store.insertRuns(toInsert);
  const created = toInsert.filter((_, i) => inserted[i]);
  const stored = new Map(created.map((run) => [run.id, run]));
  for (const [i, run] of toInsert.entries()) {
    if (inserted[i]) continue;
    const existing = await engine.store.getRun(run.id);
    if (existing) stored.set(run.id, existing);
  }
  if (created.length > 0) {
    const what = options.audit === 'run' ? { runId: (created[0] as RunRecord).id } : { details: { runs: created.length, ...options.audit.details } };
    await recordAudit(engine, { actor: options.actor, action: 'trigger.run', owner: trigger.owner, triggerId: trigger.id, ...what });
  }
  const announce = engine.events.has('run:scheduled');
  for (const run of created) {
    engine.metrics.increment('runsScheduled');
    if (announce) engine.events.emit('run:scheduled', { run });
  }
  // One wake-up per distinct run time (the executor keeps one timer per instant).
  for (const at of new Set(created.map((run) => run.availableAt.getTime()))) engine.wake(new Date(at));
  return { runs: built.map((run) => stored.get(run.id) ?? run), created };
}

/** How a batch is audited: `run` names the one run created; `batch` counts the runs, with details. */
export type AuditStyle = 'run' | { details: Record<string, unknown> };
