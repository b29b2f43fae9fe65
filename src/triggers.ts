/**
 * Trigger management (`scheduler.triggers`, and each owner's view): the implementation behind
 * {@link TriggersApi}. Listing and backfill have modules of their own.
 */
import { recordAudit, type ApiContext } from './engine.js';
import { ConflictError, NotFoundError, ValidationError, type ValidationIssue } from './errors.js';
import { textIssue } from './json-limits.js';
import { checkRunItem, insertManualRuns, RUN_MANY_OPTION_KEYS, RUN_NOW_OPTION_KEYS, type RunManyOptions, type RunNowOptions } from './manual-runs.js';
import { checkOptionKeys } from './option-keys.js';
import { throwIfIssues } from './paging.js';
import type { SchemaMap } from './registry.js';
import { firstSlot, nextSlot } from './slots.js';
import { backfillTrigger, checkRange, type BackfillResult } from './trigger-backfill.js';
import type { TriggerRef, UpsertResult } from './trigger-handle.js';
import { checkId, validateTriggerFields, type UpdateTriggerInput } from './trigger-input.js';
import { resolveActor } from './actor.js';
import { listTriggers, type TriggerListQuery } from './trigger-list.js';
import { calendarNames, isTimed, newTriggerRecord, validateCreateInput, withScopeOwner } from './trigger-record.js';
import { syncTriggers, type SyncOptions, type SyncResult } from './trigger-sync.js';
import { upsertTrigger } from './trigger-upsert.js';
import type { ActorOptions } from './triggers-api.js';
import type { Page, RunRecord, TriggerRecord } from './types.js';

export type { ActorOptions, ScopedCreateTriggerInput, TriggersApi } from './triggers-api.js';
export type { RunManyItem, RunManyOptions, RunNowOptions } from './manual-runs.js';
export type { TriggerListQuery } from './trigger-list.js';
export type { BackfillRange, BackfillResult } from './trigger-backfill.js';

/** Most runs one `runMany` call creates. */
export const MAX_RUN_MANY = 10_000;

const UPDATE_ATTEMPTS = 8;

/** The implementation behind both views; `createScheduler` hands it out as `TriggersApi<S>` or `TriggersApi<S, true>`. */
export class TriggerService {
  constructor(
    private readonly engine: ApiContext,
    private readonly scopeOwner?: string,
  ) {}

  async create(input: unknown, options: ActorOptions = {}): Promise<TriggerRecord> {
    const { engine } = this;
    const actor = this.actor(options);
    await engine.ready();
    const now = engine.now();
    const trigger = newTriggerRecord(engine, await validateCreateInput(engine, withScopeOwner(input, this.scopeOwner), now), now);
    await engine.store.insertTrigger(trigger);
    await recordAudit(engine, { actor, action: 'trigger.create', owner: trigger.owner, triggerId: trigger.id, details: { name: trigger.name } });
    engine.events.emit('trigger:created', { trigger, actor });
    engine.triggerChanged(trigger, trigger.id);
    return trigger;
  }

  async upsert(input: unknown, options: ActorOptions = {}): Promise<UpsertResult> {
    return upsertTrigger(this.engine, withScopeOwner(input, this.scopeOwner), this.actor(options));
  }

  async sync(inputs: readonly unknown[], options: SyncOptions = {}): Promise<SyncResult> {
    return syncTriggers(this.engine, inputs, options, this.scopeOwner, this);
  }

  async get(id: string): Promise<TriggerRecord> {
    await this.engine.ready();
    return this.load(checkId(id, 'trigger'));
  }

  async list(query: unknown = {}): Promise<Page<TriggerRecord>> {
    return listTriggers(this.engine, query as TriggerListQuery, this.scopeOwner);
  }

  async update(id: string, patch: UpdateTriggerInput<SchemaMap>, options: ActorOptions = {}): Promise<TriggerRecord> {
    checkId(id, 'trigger');
    const actor = this.actor(options);
    let changed: string[] = [];
    const { previous, next } = await this.modify(id, async (current, now) => {
      const fields = await validateTriggerFields(patch, this.engine.registry, calendarNames(this.engine), now, { partial: true, currentTaskType: current.taskType });
      changed = Object.keys(fields);
      const { pauseAfterFailures, ...rest } = fields;
      const next: TriggerRecord = { ...current, ...rest } as TriggerRecord;
      if (pauseAfterFailures !== undefined) next.autoPause = { afterFailures: pauseAfterFailures, consecutiveFailures: current.autoPause?.consecutiveFailures ?? 0 };
      if (fields.schedule || fields.timing) {
        next.nextFireAt = firstSlot(next, now, this.engine.options.calendars);
        if (next.status !== 'paused') next.status = next.nextFireAt === null && isTimed(next) ? 'completed' : 'active';
      }
      return next;
    });
    await recordAudit(this.engine, { actor, action: 'trigger.update', owner: next.owner, triggerId: id, details: { fields: changed } });
    this.engine.events.emit('trigger:updated', { trigger: next, previous, actor });
    return next;
  }

  async delete(id: string, options: ActorOptions = {}): Promise<void> {
    const { engine } = this;
    checkId(id, 'trigger');
    const actor = this.actor(options);
    await engine.ready();
    const trigger = await this.load(id);
    if (!(await engine.store.deleteTrigger(id))) throw new NotFoundError(`Trigger ${id} not found`);
    engine.triggerChanged(null, id);
    await engine.store.cancelPendingRuns(id, engine.now(), engine.options.retentionMs);
    await recordAudit(engine, { actor, action: 'trigger.delete', owner: trigger.owner, triggerId: id, details: { name: trigger.name } });
    engine.events.emit('trigger:deleted', { trigger, actor });
  }

  async pause(id: string, options: ActorOptions & { reason?: string } = {}): Promise<TriggerRecord> {
    checkId(id, 'trigger');
    const actor = this.actor(options);
    if (options.reason !== undefined && (typeof options.reason !== 'string' || options.reason.length > 500)) {
      throw ValidationError.from([{ path: 'reason', message: 'must be a string of at most 500 characters' }], 'Invalid pause');
    }
    const badReason = textIssue(options.reason, 'reason');
    if (badReason) throw ValidationError.from([badReason], 'Invalid pause');
    const { next, changed } = await this.modify(id, (current) => {
      if (current.status !== 'active') return null;
      return { ...current, status: 'paused', ...(options.reason ? { pausedReason: options.reason } : {}) };
    });
    if (!changed) return next; // already paused (or completed): nothing happened, nothing to record
    await recordAudit(this.engine, { actor, action: 'trigger.pause', owner: next.owner, triggerId: id, details: options.reason ? { reason: options.reason } : {} });
    this.engine.events.emit('trigger:paused', { trigger: next, actor, ...(options.reason ? { reason: options.reason } : {}) });
    return next;
  }

  async resume(id: string, options: ActorOptions = {}): Promise<TriggerRecord> {
    checkId(id, 'trigger');
    const actor = this.actor(options);
    const { next, changed } = await this.modify(id, (current) => {
      if (current.status !== 'paused') return null;
      const { pausedReason: _reason, ...rest } = current;
      return {
        ...rest,
        status: current.nextFireAt === null && isTimed(current) ? 'completed' : 'active',
        // A resumed trigger gets a fresh failure streak.
        ...(current.autoPause ? { autoPause: { ...current.autoPause, consecutiveFailures: 0 } } : {}),
      };
    });
    if (!changed) return next;
    await recordAudit(this.engine, { actor, action: 'trigger.resume', owner: next.owner, triggerId: id });
    this.engine.events.emit('trigger:resumed', { trigger: next, actor });
    return next;
  }

  async runNow(trigger: TriggerRef, options: RunNowOptions = {}): Promise<RunRecord> {
    const { engine } = this;
    const id = checkId(refId(trigger), 'trigger');
    checkOptionKeys(options, RUN_NOW_OPTION_KEYS, 'Invalid run');
    const actor = this.actor(options);
    await engine.ready();
    const stored = await this.load(id);
    const issues: ValidationIssue[] = [];
    const { actor: _actor, ignoreOverlap: _ignore, ...item } = options;
    const checked = await checkRunItem(engine.registry, stored.taskType, item, '', engine.now(), issues);
    throwIfIssues(issues, 'Invalid run');
    const { runs } = await insertManualRuns(engine, stored, [checked], { actor, ignoreOverlap: options.ignoreOverlap === true, audit: 'run' });
    return runs[0] as RunRecord;
  }

  async runMany(trigger: TriggerRef, items: unknown, options: RunManyOptions = {}): Promise<RunRecord[]> {
    const { engine } = this;
    const id = checkId(refId(trigger), 'trigger');
    checkOptionKeys(options, RUN_MANY_OPTION_KEYS, 'Invalid runs');
    const actor = this.actor(options);
    if (!Array.isArray(items) || items.length === 0 || items.length > MAX_RUN_MANY) {
      throw ValidationError.from([{ path: 'items', message: `must be an array of 1 to ${MAX_RUN_MANY} items` }], 'Invalid runs');
    }
    await engine.ready();
    const stored = await this.load(id);
    const issues: ValidationIssue[] = [];
    const now = engine.now();
    const checked = [];
    for (const [i, item] of items.entries()) checked.push(await checkRunItem(engine.registry, stored.taskType, item, `items.${i}.`, now, issues));
    if (issues.length > 0) throw ValidationError.from(issues.slice(0, 100), 'Invalid runs');
    const { created } = await insertManualRuns(engine, stored, checked, { actor, ignoreOverlap: options.ignoreOverlap === true, audit: { details: {} } });
    return created;
  }

  async preview(id: string, count = 10): Promise<Date[]> {
    const trigger = await this.get(id);
    if (!Number.isInteger(count) || count < 1 || count > 1_000) {
      throw ValidationError.from([{ path: 'count', message: `must be a whole number from 1 to 1000, got ${count}` }], 'Invalid preview');
    }
    const times: Date[] = [];
    let next = trigger.nextFireAt;
    let runs = trigger.runCount;
    while (next !== null && times.length < count) {
      times.push(next);
      next = nextSlot(trigger, next, this.engine.options.calendars, ++runs);
    }
    return times;
  }

  async backfill(id: string, range: unknown): Promise<BackfillResult> {
    checkId(id, 'trigger');
    checkOptionKeys(range, ['from', 'to', 'actor'], 'Invalid backfill range');
    const actor = this.actor((range ?? {}) as ActorOptions);
    const checked = checkRange(range, this.engine.now());
    await this.engine.ready();
    return backfillTrigger(this.engine, await this.load(id), checked, actor);
  }

  private actor(options: ActorOptions): string {
    return resolveActor(options, this.scopeOwner);
  }

  private async load(id: string): Promise<TriggerRecord> {
    const trigger = await this.engine.store.getTrigger(id, this.scopeOwner);
    if (!trigger) throw new NotFoundError(`Trigger ${id} not found`);
    return trigger;
  }

  /** Read-modify-write with compare-and-set, retried when the dispatcher advanced the trigger meanwhile. */
  private async modify(
    id: string,
    change: (current: TriggerRecord, now: Date) => TriggerRecord | null | Promise<TriggerRecord | null>,
  ): Promise<{ previous: TriggerRecord; next: TriggerRecord; changed: boolean }> {
    const { engine } = this;
    await engine.ready();
    for (let attempt = 0; attempt < UPDATE_ATTEMPTS; attempt++) {
      const current = await this.load(id);
      const now = engine.now();
      const changed = await change(current, now);
      if (changed === null) return { previous: current, next: current, changed: false };
      const next: TriggerRecord = { ...changed, id, owner: current.owner, createdAt: current.createdAt, updatedAt: now, version: current.version + 1 };
      if (await engine.store.updateTrigger({ id, expectedVersion: current.version, next })) {
        engine.triggerChanged(next, id);
        return { previous: current, next, changed: true };
      }
    }
    throw new ConflictError(`Trigger ${id} kept changing while it was being updated; try again`);
  }
}

/** The id of a trigger reference: the id itself, or the trigger's. */
function refId(trigger: TriggerRef): unknown {
  return typeof trigger === 'object' && trigger !== null ? (trigger as { id?: unknown }).id : trigger;
}
