import { resolveActor, type ActorOptions } from './actor.js';
import { buildRun, recordAudit, slotRunId, type ApiContext } from './engine.js';
import { ConflictError, NotFoundError, ValidationError, type ValidationIssue } from './errors.js';
import { checkRunItem, insertManualRuns, RUN_MANY_OPTION_KEYS, RUN_NOW_OPTION_KEYS, type RunManyItem, type RunManyOptions, type RunNowOptions } from './manual-runs.js';
import { checkOptionKeys } from './option-keys.js';
import { decodeCursor, pageOf } from './cursor.js';
import { textIssue } from './json-limits.js';
import type { TriggerQuery } from './stores/types.js';
import { checkChoice, checkPage, checkText, throwIfIssues } from './paging.js';
import type { SchemaMap } from './registry.js';
import { firstSlot, nextSlot, slotsBetween } from './slots.js';
import type { PayloadFor, TriggerInputFor, TriggerRef, TypedTrigger, UpsertResult } from './trigger-handle.js';
import { checkId, NAME_PATTERN, validateTriggerFields, type CreateTriggerInput, type UpdateTriggerInput } from './trigger-input.js';
import { calendarNames, isTimed, newTriggerRecord, validateCreateInput, withScopeOwner } from './trigger-record.js';
import { syncTriggers, type SyncOptions, type SyncResult } from './trigger-sync.js';
import { upsertTrigger } from './trigger-upsert.js';
import {
  SORT_ORDERS,
  TRIGGER_SORTS,
  TRIGGER_STATUSES,
  type Page,
  type PageQuery,
  type RunRecord,
  type SortOrder,
  type TriggerRecord,
  type TriggerSort,
  type TriggerStatus,
} from './types.js';

/**
 * Filters, sort and paging of `triggers.list`. Pages follow each other through `cursor`, which
 * belongs to the filters, sort and view it was listed with.
 */
export interface TriggerListQuery extends PageQuery {
  /** Admin view only: one owner's triggers. */
  owner?: string;
  status?: TriggerStatus;
  taskType?: string;
  /** Exact name. */
  name?: string;
  /** Names that start with this text (case-sensitive). */
  namePrefix?: string;
  /**
   * Sort key, then id. Default `createdAt`. With `name`, a trigger renamed between two pages
   * moves in the order, so it can be seen twice or not at all; `createdAt` never changes.
   */
  sort?: TriggerSort;
  /** Default `asc`. */
  order?: SortOrder;
}

export type { RunManyItem, RunManyOptions, RunNowOptions };
// `offset` is known so checkPage can say what replaced it.
const LIST_KEYS = ['owner', 'status', 'taskType', 'name', 'namePrefix', 'sort', 'order', 'limit', 'cursor', 'offset'];

/** Most runs one `runMany` call creates. */
export const MAX_RUN_MANY = 10_000;

/**
 * Trigger management. In a scoped view (`Scoped` true) every call is limited to one
 * owner, and create inputs may omit `owner`.
 */
export interface TriggersApi<S extends SchemaMap, Scoped extends boolean = false> {
  /**
   * Validates and stores a trigger; throws ValidationError (nothing written) or ConflictError
   * (name taken). Returns a typed handle: `runNow(handle, { payload })` checks the payload type.
   */
  create<K extends keyof S & string>(input: TriggerInputFor<S, K, Scoped>, options?: ActorOptions): Promise<TypedTrigger<S, K>>;
  /**
   * Creates the trigger, or changes the stored one with the same (owner, name) to match `input`,
   * writing nothing when it already does (no new version, no audit entry). Safe when many
   * instances call it at once. A changed schedule recomputes the next fire; a slot already due
   * fires once. `paused` applies only when creating: a paused trigger stays paused.
   * @example const { trigger, action } = await scheduler.triggers.upsert({ name: 'nightly', owner: 'ops', taskType: 'cleanup', payload: {}, schedule: { cron: '0 3 * * *' } });
   */
  upsert<K extends keyof S & string>(input: TriggerInputFor<S, K, Scoped>, options?: ActorOptions): Promise<UpsertResult<TypedTrigger<S, K>>>;
  /**
   * Makes one owner's stored triggers equal the declared ones: upserts each, then pauses
   * (default), deletes or keeps the owner's other triggers (within `namePrefix`). Every
   * declaration is validated before anything is written.
   */
  sync(inputs: readonly (Scoped extends true ? ScopedCreateTriggerInput<S> : CreateTriggerInput<S>)[], options?: SyncOptions): Promise<SyncResult>;
  /** Throws NotFoundError when missing or owned by someone else. */
  get(id: string): Promise<TriggerRecord>;
  list(query?: TriggerListQuery): Promise<Page<TriggerRecord>>;
  /** Changes the given fields; a new schedule restarts from now. */
  update(id: string, patch: UpdateTriggerInput<S>, options?: ActorOptions): Promise<TriggerRecord>;
  /** Deletes the trigger and cancels its pending runs (running ones finish). */
  delete(id: string, options?: ActorOptions): Promise<void>;
  /** Stops new slots from firing; missed slots are handled by the misfire policy on resume. */
  pause(id: string, options?: ActorOptions & { reason?: string }): Promise<TriggerRecord>;
  resume(id: string, options?: ActorOptions): Promise<TriggerRecord>;
  /**
   * Runs the trigger now (or at `runAt`, or after `delayMs`), whatever its schedule or status
   *. Given a typed handle from `create`/`upsert`, the payload override is typed by its task type.
   */
  runNow<T extends TriggerRef>(trigger: T, options?: RunNowOptions<PayloadFor<S, T>>): Promise<RunRecord>;
  /**
   * Runs the trigger once per item, in one store write (a bulk enqueue): each item may bring its
   * own payload (validated against the schema) and priority. Bad items throw one
   * ValidationError naming each (`items.3.payload.email`) and nothing is written. At most
   * 10,000 items per call; one audit entry for the batch.
   */
  runMany<T extends TriggerRef>(trigger: T, items: readonly RunManyItem<PayloadFor<S, T>>[], options?: RunManyOptions): Promise<RunRecord[]>;
  /** The trigger's next `count` fire times (default 10), with its bounds and calendars applied. */
  preview(id: string, count?: number): Promise<Date[]>;
  /**
   * Creates the runs of every slot in a past range `[from, to)` that has no run yet, marked
   * `source: 'backfill'`. Slots that already ran keep their run (a slot has one run id), so a
   * backfill can be repeated safely. At most 10,000 slots per call.
   */
  backfill(id: string, range: BackfillRange): Promise<BackfillResult>;
}

export interface BackfillRange extends ActorOptions {
  /** Start of the range, inclusive: a Date or an ISO-8601 string with an offset. */
  from: Date | string;
  /** End of the range, exclusive, not in the future. */
  to: Date | string;
}

export interface BackfillResult {
  /** Slots in the range (after bounds and calendars). */
  slots: number;
  /** The runs created. */
  created: RunRecord[];
  /** Slots that already had a run. */
  alreadyRun: number;
}

const MAX_BACKFILL_SLOTS = 10_000;

/** Create input of a scoped view: `owner` is the view's and may be omitted. */
export type ScopedCreateTriggerInput<S extends SchemaMap> = {
  [K in keyof S & string]: Omit<Extract<CreateTriggerInput<S>, { taskType: K }>, 'owner'> & { owner?: string };
}[keyof S & string];

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

  async list(query: TriggerListQuery = {}): Promise<Page<TriggerRecord>> {
    checkOptionKeys(query, LIST_KEYS, 'Invalid trigger query');
    const { limit, cursor } = checkPage(query);
    const issues: ValidationIssue[] = [];
    checkChoice(query.status, TRIGGER_STATUSES, 'status', issues);
    checkChoice(query.sort, TRIGGER_SORTS, 'sort', issues);
    checkChoice(query.order, SORT_ORDERS, 'order', issues);
    checkText(query.taskType, 'taskType', issues);
    checkText(query.name, 'name', issues);
    checkText(query.owner, 'owner', issues);
    if (query.namePrefix !== undefined && (typeof query.namePrefix !== 'string' || !NAME_PATTERN.test(query.namePrefix))) {
      issues.push({ path: 'namePrefix', message: 'must be 1-100 letters, digits, "-" or "_" (the start of a trigger name)' });
    }
    throwIfIssues(issues, 'Invalid trigger query');
    const sort = query.sort ?? 'createdAt';
    const order = query.order ?? 'asc';
    const filters = {
      owner: this.scopeOwner ?? query.owner,
      status: query.status,
      taskType: query.taskType,
      name: query.name,
      namePrefix: query.namePrefix,
    };
    const binding = { list: 'triggers', sort, order, ...filters };
    const position = cursor === undefined ? undefined : decodeCursor(cursor, binding, sort === 'name' ? 'text' : 'time');
    await this.engine.ready();
    const defined = Object.fromEntries(Object.entries(filters).filter(([, v]) => v !== undefined));
    const rows = await this.engine.store.listTriggers({
      ...(defined as Omit<TriggerQuery, 'sort' | 'order' | 'limit'>),
      sort,
      order,
      limit: limit + 1,
      ...(position ? { after: { value: typeof position.key === 'string' ? position.key : new Date(position.key), id: position.id } } : {}),
    });
    return pageOf(rows, limit, binding, (t) => (sort === 'name' ? t.name : t.createdAt.getTime()));
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

  async runMany(trigger: TriggerRef, items: readonly RunManyItem[], options: RunManyOptions = {}): Promise<RunRecord[]> {
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

  async backfill(id: string, range: BackfillRange): Promise<BackfillResult> {
    const { engine } = this;
    checkId(id, 'trigger');
    checkOptionKeys(range, ['from', 'to', 'actor'], 'Invalid backfill range');
    const actor = this.actor(range ?? {});
    const now = engine.now();
    const from = instantOf(range?.from);
    const to = instantOf(range?.to);
    const issues: ValidationIssue[] = [];
    if (Number.isNaN(from.getTime())) issues.push({ path: 'from', message: 'must be a Date or an ISO-8601 string with an offset' });
    if (Number.isNaN(to.getTime())) issues.push({ path: 'to', message: 'must be a Date or an ISO-8601 string with an offset' });
    else if (to.getTime() > now.getTime()) issues.push({ path: 'to', message: 'must not be in the future: backfill replays past slots' });
    if (issues.length === 0 && from.getTime() >= to.getTime()) issues.push({ path: 'to', message: 'must be after from' });
    if (issues.length > 0) throw ValidationError.from(issues, 'Invalid backfill range');
    await engine.ready();
    const trigger = await this.load(id);
    if (!isTimed(trigger)) throw ValidationError.from([{ path: 'id', message: `a ${trigger.schedule.kind} trigger has no slots to backfill` }], 'Invalid backfill');
    const slots = slotsBetween(trigger, from, to, MAX_BACKFILL_SLOTS, engine.options.calendars);
    if (slots.length > MAX_BACKFILL_SLOTS) {
      throw ValidationError.from([{ path: 'from', message: `the range holds more than ${MAX_BACKFILL_SLOTS} slots; backfill it in smaller ranges` }], 'Invalid backfill range');
    }
    const runs = slots.map((slot) => buildRun(engine, trigger, { id: slotRunId(trigger.id, slot), source: 'backfill', scheduledFor: slot, availableAt: now }));
    const inserted = runs.length > 0 ? await engine.store.insertRuns(runs) : [];
    const created = runs.filter((_, i) => inserted[i]);
    await recordAudit(engine, { actor, action: 'trigger.backfill', owner: trigger.owner, triggerId: id, details: { from: from.toISOString(), to: to.toISOString(), slots: slots.length, created: created.length } });
    for (const run of created) {
      engine.metrics.increment('runsScheduled');
      engine.events.emit('run:scheduled', { run });
    }
    if (created.length > 0) engine.wake();
    return { slots: slots.length, created, alreadyRun: slots.length - created.length };
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

function instantOf(value: unknown): Date {
  if (value instanceof Date) return value;
  if (typeof value === 'string' && /(Z|[+-]\d{2}:?\d{2})$/i.test(value)) return new Date(Date.parse(value));
  return new Date(Number.NaN);
}

/** The id of a trigger reference: the id itself, or the trigger's. */
function refId(trigger: TriggerRef): unknown {
  return typeof trigger === 'object' && trigger !== null ? (trigger as { id?: unknown }).id : trigger;
}
