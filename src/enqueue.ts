/**
 * `scheduler.enqueue`: a run of a task type at (or after) a time, with no trigger to name.
 *
 * Every run belongs to a trigger (history, overlap, audit and owner scoping all go through it),
 * so enqueued runs belong to the owner's queue trigger of the task type: a manual trigger named
 * `queue:<taskType>`, created on first use with upsert semantics (the name's uniqueness settles
 * a race between instances). Names with `:` cannot be given to `create`, so it never collides
 * with a user's trigger. An idempotency key gives the run a deterministic id under that trigger,
 * so a retried enqueue finds the stored run on every store.
 */
import { resolveActor } from './actor.js';
import { recordAudit, type ApiContext } from './engine.js';
import { ConflictError, isPunctualError, ValidationError, type ValidationIssue } from './errors.js';
import { preview } from './json-limits.js';
import { checkRunItem, insertManualRuns, type CheckedItem, type RunTimeOptions } from './manual-runs.js';
import { checkOptionKeys } from './option-keys.js';
import type { PayloadOf, SchemaMap } from './registry.js';
import type { HostInput } from './trigger-handle.js';
import { OWNER_PATTERN } from './trigger-input.js';
import { findTriggerByName } from './trigger-upsert.js';
import type { RunRecord, TriggerRecord } from './types.js';

/** Options of `enqueue`: when, how urgent, and a key that makes a retried call return the same run. */
export interface EnqueueOptions extends RunTimeOptions {
  /** Higher runs first when capacity is short, -1000..1000. Default: the handler's priority or 0. */
  priority?: number;
  /**
   * 1-100 letters, digits and `_ - . : @`: enqueueing again with the same key (same owner, same
   * task type) creates nothing and returns the run already stored, whatever its payload, while
   * that run is kept (see `retentionMs`).
   */
  idempotencyKey?: string;
  /** Admin view only: whose run it is. Default `system`. */
  owner?: string;
  /** Who did it, for the audit trail. Default: the scoped owner, else `system`. */
  actor?: string;
}

/** One job of `enqueueMany`: a task type, its payload (typed by its schema) and the options of one run. */
export type EnqueueJob<S extends SchemaMap> = {
  [K in keyof S & string]: { taskType: K; payload: PayloadOf<S, K> } & Omit<EnqueueOptions, 'owner' | 'actor'>;
}[keyof S & string];

/** Options of `enqueueMany`. */
export interface EnqueueManyOptions {
  /** Admin view only: whose runs they are. Default `system`. */
  owner?: string;
  actor?: string;
}

/** Most jobs one `enqueueMany` call takes. */
export const MAX_ENQUEUE_MANY = 10_000;
/** The owner of runs enqueued in the admin view without an `owner`. */
export const DEFAULT_ENQUEUE_OWNER = 'system';
const KEY_PATTERN = /^[A-Za-z0-9_.:@-]{1,100}$/;
const JOB_KEYS = ['taskType', 'priority', 'idempotencyKey'];
const ENQUEUE_OPTION_KEYS = ['runAt', 'delayMs', 'priority', 'idempotencyKey', 'owner', 'actor'];
const QUEUE_ATTEMPTS = 8;

/** The name of an owner's queue trigger for a task type. */
export function queueTriggerName(taskType: string): string {
  return `queue:${taskType}`;
}

/** Enqueues one run; resolves to it (or to the stored run of the same idempotency key). */
export async function enqueue(engine: ApiContext, taskType: unknown, payload: unknown, options: unknown, scopeOwner?: string): Promise<RunRecord> {
  checkOptionKeys(options, ENQUEUE_OPTION_KEYS, 'Invalid enqueue options');
  const { owner, actor, ...run } = (options ?? {}) as EnqueueOptions;
  const [queued] = await enqueueJobs(engine, [{ ...run, taskType, payload }], { ...(owner !== undefined ? { owner } : {}), ...(actor !== undefined ? { actor } : {}) }, scopeOwner, '');
  return queued as RunRecord;
}

/** Enqueues runs of any task types in one store write; resolves to them in input order. */
export async function enqueueMany(engine: ApiContext, jobs: unknown, options: unknown, scopeOwner?: string): Promise<RunRecord[]> {
  checkOptionKeys(options, ['owner', 'actor'], 'Invalid enqueue options');
  if (!Array.isArray(jobs) || jobs.length === 0 || jobs.length > MAX_ENQUEUE_MANY) {
    throw ValidationError.from([{ path: 'jobs', message: `must be an array of 1 to ${MAX_ENQUEUE_MANY} jobs` }], 'Invalid enqueue');
  }
  return enqueueJobs(engine, jobs, (options ?? {}) as EnqueueManyOptions, scopeOwner, 'jobs.');
}

async function enqueueJobs(engine: ApiContext, jobs: readonly unknown[], options: EnqueueManyOptions, scopeOwner: string | undefined, prefix: string): Promise<RunRecord[]> {
  const actor = resolveActor(options, scopeOwner);
  const owner = ownerOf(options, scopeOwner);
  const checked = await checkJobs(engine, jobs, prefix);
  await engine.ready();
  const byType = new Map<string, { index: number; item: CheckedItem; key?: string }[]>();
  for (const [index, job] of checked.entries()) byType.set(job.taskType, [...(byType.get(job.taskType) ?? []), { index, item: job.item, ...(job.key ? { key: job.key } : {}) }]);
  const out: RunRecord[] = new Array<RunRecord>(jobs.length);
  for (const [taskType, group] of byType) {
    const trigger = await queueTrigger(engine, owner, taskType);
    const items = group.map(({ item, key }) => (key === undefined ? item : { ...item, id: `${trigger.id}@key:${key}` }));
    const { runs } = await insertManualRuns(engine, trigger, items, { actor, audit: { details: { enqueued: true } } });
    for (const [i, { index }] of group.entries()) out[index] = runs[i] as RunRecord;
  }
  return out;
}

function ownerOf(options: EnqueueManyOptions, scopeOwner: string | undefined): string {
  if (scopeOwner !== undefined) {
    if (options.owner !== undefined && options.owner !== scopeOwner) throw ValidationError.from([{ path: 'owner', message: 'must be the owner of this view (or omitted)' }], 'Invalid enqueue');
    return scopeOwner;
  }
  const owner = options.owner ?? DEFAULT_ENQUEUE_OWNER;
  if (typeof owner !== 'string' || !OWNER_PATTERN.test(owner)) throw ValidationError.from([{ path: 'owner', message: 'must be a string of 1-200 characters without spaces or control characters' }], 'Invalid enqueue');
  return owner;
}

/** Validates every job (task type, payload, priority, run time, key) before writing anything. */
async function checkJobs(engine: ApiContext, jobs: readonly unknown[], prefix: string): Promise<{ taskType: string; item: CheckedItem; key?: string }[]> {
  const issues: ValidationIssue[] = [];
  const now = engine.now();
  const checked: { taskType: string; item: CheckedItem; key?: string }[] = [];
  for (const [i, job] of jobs.entries()) {
    const at = prefix === '' ? '' : `${prefix}${i}.`;
    if (typeof job !== 'object' || job === null || Array.isArray(job)) {
      issues.push({ path: at.replace(/\.$/, '') || 'job', message: 'must be an object { taskType, payload, runAt?, delayMs?, priority?, idempotencyKey? }' });
      continue;
    }
    const { taskType, idempotencyKey: key, ...run } = job as { taskType?: unknown; idempotencyKey?: unknown; payload?: unknown };
    if (typeof taskType !== 'string' || !engine.registry.has(taskType)) {
      issues.push({ path: `${at}taskType`, message: `unknown task type ${preview(taskType)}; registered: ${engine.registry.types.join(', ') || '(none)'}` });
      continue;
    }
    if (key !== undefined && !(typeof key === 'string' && KEY_PATTERN.test(key))) issues.push({ path: `${at}idempotencyKey`, message: 'must be 1-100 letters, digits, "_-.:@"' });
    // The payload is required here: an enqueued run has no trigger payload to fall back on.
    const item = await checkRunItem(engine.registry, taskType, { ...run, payload: run.payload ?? null }, at, now, issues, JOB_KEYS);
    checked.push({ taskType, item, ...(typeof key === 'string' ? { key } : {}) });
  }
  if (issues.length > 0) throw ValidationError.from(issues.slice(0, 100), 'Invalid enqueue');
  return checked;
}

/** The owner's queue trigger of a task type, created on first use (one per owner and type, whichever instance wins). */
async function queueTrigger(engine: ApiContext, owner: string, taskType: string): Promise<TriggerRecord> {
  const name = queueTriggerName(taskType);
  for (let attempt = 0; attempt < QUEUE_ATTEMPTS; attempt++) {
    const existing = await findTriggerByName(engine, owner, name);
    if (existing) return existing;
    const now = engine.now();
    const trigger: TriggerRecord = {
      id: engine.newId(),
      owner,
      name,
      taskType,
      payload: null,
      schedule: { kind: 'manual' },
      status: 'active',
      nextFireAt: null,
      priority: engine.registry.get(taskType)?.priority ?? 0,
      misfire: engine.options.misfire,
      misfireGraceMs: engine.options.misfireGraceMs,
      // Jobs of a queue run side by side, up to the task type's concurrency.
      overlap: 'allow',
      runCount: 0,
      createdAt: now,
      updatedAt: now,
      version: 1,
    };
    try {
      await engine.store.insertTrigger(trigger);
    } catch (error) {
      if (isPunctualError(error, 'ConflictError')) continue;
      throw error;
    }
    await recordAudit(engine, { actor: 'system', action: 'trigger.create', owner, triggerId: trigger.id, details: { name, queue: true } });
    engine.events.emit('trigger:created', { trigger, actor: 'system' });
    return trigger;
  }
  throw new ConflictError(`The queue trigger ${JSON.stringify(name)} of ${JSON.stringify(owner)} could not be read or created; try again`);
}

/** `enqueue` and `enqueueMany`, on the scheduler (admin view) and on a scoped view. */
export interface EnqueueApi<S extends SchemaMap> {
  /**
   * Enqueues a run of `taskType` with `payload` (checked against the handler's schema), now or
   * at `runAt` / after `delayMs`, with no trigger to name. Resolves once the run is stored.
   * @example await scheduler.enqueue('send-report', { to: 'a@example.com' }, { delayMs: 20 * 60_000, idempotencyKey: 'order-42' });
   */
  enqueue<K extends keyof S & string>(taskType: HostInput<S, K>, payload: HostInput<S, PayloadOf<S, K>>, options?: HostInput<S, EnqueueOptions>): Promise<RunRecord>;
  /** Enqueues many runs, of any task types, in one store write; all are validated first (`jobs.3.payload.to`). At most 10,000. */
  enqueueMany(jobs: HostInput<S, readonly EnqueueJob<S>[]>, options?: HostInput<S, EnqueueManyOptions>): Promise<RunRecord[]>;
}
