import { buildRun, recordAudit, slotRunId, type ApiContext, type Engine } from './engine.js';
import { ConflictError, NotFoundError, ValidationError, type ValidationIssue } from './errors.js';
import { decodeCursor, pageOf } from './cursor.js';
import { textIssue } from './json-limits.js';
import type { TriggerQuery } from './stores/types.js';
import { checkChoice, checkPage, checkText, throwIfIssues } from './paging.js';
import type { SchemaMap } from './registry.js';
import { firstSlot, nextSlot, slotsBetween } from './slots.js';
import {
  checkId,
  NAME_PATTERN,
  resolveActor,
  priorityIssue,
  runItemIssues,
  validateTriggerFields,
  type AnyPayload,
  type CreateTriggerInput,
  type UpdateTriggerInput,
  type ValidTriggerFields,
} from './trigger-input.js';
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

/** Who did it, for the audit trail. Default: the scoped owner, else `system`. */
export interface ActorOptions {
  actor?: string;
}

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

/** One run of `runMany`: its own payload and priority, else the trigger's. */
export interface RunManyItem<P = unknown> {
  /** Use this payload instead of the trigger's (validated against the schema). */
  payload?: P;
  /** Priority of this run. Default: the trigger's. */
  priority?: number;
}

/** Options of `runMany`. */
export interface RunManyOptions extends ActorOptions {
  /** Run even while another run of the trigger is running, whatever its overlap policy. Default false. */
  ignoreOverlap?: boolean;
}

/** Options of `runNow`: one run's payload and priority, and the options of `runMany`. */
export interface RunNowOptions<P = unknown> extends RunManyItem<P>, RunManyOptions {}

/** Most runs one `runMany` call creates. */
export const MAX_RUN_MANY = 10_000;

/** Trigger management (R1, R3). In a scoped view every call is limited to one owner. */
export interface TriggersApi<S extends SchemaMap, CreateInput = CreateTriggerInput<S>> {
  /** Validates and stores a trigger; throws ValidationError (nothing written) or ConflictError (name taken). */
  create(input: CreateInput, options?: ActorOptions): Promise<TriggerRecord>;
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
  /** Runs the trigger now, whatever its schedule or status (R3). */
  runNow(id: string, options?: RunNowOptions<AnyPayload<S>>): Promise<RunRecord>;
  /**
   * Runs the trigger once per item, in one store write (a bulk enqueue): each item may bring its
   * own payload (validated against the schema) and priority. Bad items throw one
   * ValidationError naming each (`items.3.payload.email`) and nothing is written. At most
   * 10,000 items per call; one audit entry for the batch.
   */
  runMany(id: string, items: readonly RunManyItem<AnyPayload<S>>[], options?: RunManyOptions): Promise<RunRecord[]>;
  /** The trigger's next `count` fire times (default 10), with its bounds and calendars applied. */
  preview(id: string, count?: number): Promise<Date[]>;
  /**
   * Creates the runs of every slot in a past range `[from, to)` (B7) that has no run yet, marked
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

export class TriggerService<S extends SchemaMap> implements TriggersApi<S, CreateTriggerInput<S> | ScopedCreateTriggerInput<S>> {
  constructor(
    private readonly engine: ApiContext,
    private readonly scopeOwner?: string,
  ) {}

  async create(input: CreateTriggerInput<S> | ScopedCreateTriggerInput<S>, options: ActorOptions = {}): Promise<TriggerRecord> {
    const { engine } = this;
    const actor = this.actor(options);
    await engine.ready();
    let candidate: unknown = input;
    if (this.scopeOwner !== undefined && typeof input === 'object' && input !== null && !Array.isArray(input)) {
      const given = (input as { owner?: unknown }).owner;
      if (given !== undefined && given !== this.scopeOwner) {
        throw ValidationError.from([{ path: 'owner', message: 'must be the owner of this view (or omitted)' }], 'Invalid trigger');
      }
      candidate = { ...input, owner: this.scopeOwner };
    }
    const now = engine.now();
    const fields = await validateTriggerFields(candidate, engine.registry, calendarNames(engine), now, { partial: false });
    const valid = fields as ValidTriggerFields & { owner: string };
    const handler = engine.registry.get(valid.taskType);
    const trigger: TriggerRecord = {
      id: engine.newId(),
      owner: valid.owner,
      name: valid.name,
      taskType: valid.taskType,
      payload: structuredClone(valid.payload),
      schedule: valid.schedule,
      status: valid.paused ? 'paused' : 'active',
      nextFireAt: null,
      priority: valid.priority ?? handler?.priority ?? 0,
      ...(valid.timeoutMs !== undefined ? { timeoutMs: valid.timeoutMs } : {}),
      ...(valid.retry ? { retry: valid.retry } : {}),
      misfire: valid.misfire ?? engine.options.misfire,
      misfireGraceMs: valid.misfireGraceMs ?? engine.options.misfireGraceMs,
      overlap: valid.overlap ?? engine.options.overlap,
      runCount: 0,
      ...(valid.timing ? { timing: valid.timing } : {}),
      ...(valid.pauseAfterFailures ? { autoPause: { afterFailures: valid.pauseAfterFailures, consecutiveFailures: 0 } } : {}),
      ...(valid.metadata ? { metadata: valid.metadata } : {}),
      createdAt: now,
      updatedAt: now,
      version: 1,
    };
    trigger.nextFireAt = firstSlot(trigger, now, engine.options.calendars);
    if (trigger.nextFireAt === null && isTimed(trigger)) trigger.status = 'completed';
    await engine.store.insertTrigger(trigger);
    await recordAudit(engine, { actor, action: 'trigger.create', owner: trigger.owner, triggerId: trigger.id, details: { name: trigger.name } });
    engine.events.emit('trigger:created', { trigger, actor });
    engine.triggerChanged(trigger, trigger.id);
    return trigger;
  }

  async get(id: string): Promise<TriggerRecord> {
    await this.engine.ready();
    return this.load(checkId(id, 'trigger'));
  }

  async list(query: TriggerListQuery = {}): Promise<Page<TriggerRecord>> {
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

  async update(id: string, patch: UpdateTriggerInput<S>, options: ActorOptions = {}): Promise<TriggerRecord> {
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

  async runNow(id: string, options: RunNowOptions<AnyPayload<S>> = {}): Promise<RunRecord> {
    const { engine } = this;
    checkId(id, 'trigger');
    const actor = this.actor(options);
    await engine.ready();
    const trigger = await this.load(id);
    if (options.payload !== undefined) await engine.registry.validate(trigger.taskType, options.payload);
    const priority = priorityIssue('priority', options.priority);
    if (priority) throw ValidationError.from([priority], 'Invalid run');
    const now = engine.now();
    const run = buildRun(engine, trigger, {
      source: 'manual',
      scheduledFor: now,
      ...(options.payload !== undefined ? { payload: structuredClone(options.payload) } : {}),
      ...(options.priority !== undefined ? { priority: options.priority } : {}),
      ...(options.ignoreOverlap === true ? { overlap: 'allow' as const } : {}),
    });
    const [inserted] = await engine.store.insertRuns([run]);
    if (!inserted) throw new ConflictError(`Run ${run.id} already exists`);
    await recordAudit(engine, { actor, action: 'trigger.run', owner: trigger.owner, triggerId: id, runId: run.id });
    engine.metrics.increment('runsScheduled');
    engine.events.emit('run:scheduled', { run });
    engine.wake();
    return run;
  }

  async runMany(id: string, items: readonly RunManyItem<AnyPayload<S>>[], options: RunManyOptions = {}): Promise<RunRecord[]> {
    const { engine } = this;
    checkId(id, 'trigger');
    const actor = this.actor(options);
    if (!Array.isArray(items) || items.length === 0 || items.length > MAX_RUN_MANY) {
      throw ValidationError.from([{ path: 'items', message: `must be an array of 1 to ${MAX_RUN_MANY} items` }], 'Invalid runs');
    }
    await engine.ready();
    const trigger = await this.load(id);
    const issues = await runItemIssues(engine.registry, trigger.taskType, items);
    if (issues.length > 0) throw ValidationError.from(issues.slice(0, 100), 'Invalid runs');
    const now = engine.now();
    const runs = items.map((item) =>
      buildRun(engine, trigger, {
        source: 'manual',
        scheduledFor: now,
        ...(item.payload !== undefined ? { payload: structuredClone(item.payload) } : {}),
        ...(item.priority !== undefined ? { priority: item.priority } : {}),
        ...(options.ignoreOverlap === true ? { overlap: 'allow' as const } : {}),
      }),
    );
    const inserted = await engine.store.insertRuns(runs);
    const created = runs.filter((_, i) => inserted[i]);
    await recordAudit(engine, { actor, action: 'trigger.run', owner: trigger.owner, triggerId: id, details: { runs: created.length } });
    for (const run of created) {
      engine.metrics.increment('runsScheduled');
      engine.events.emit('run:scheduled', { run });
    }
    engine.wake();
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

/** Time-based schedules end; manual and event triggers never complete. */
function isTimed(trigger: TriggerRecord): boolean {
  return trigger.schedule.kind === 'cron' || trigger.schedule.kind === 'interval' || trigger.schedule.kind === 'once';
}

function instantOf(value: unknown): Date {
  if (value instanceof Date) return value;
  if (typeof value === 'string' && /(Z|[+-]\d{2}:?\d{2})$/i.test(value)) return new Date(Date.parse(value));
  return new Date(Number.NaN);
}

function calendarNames(engine: Engine): ReadonlySet<string> {
  return new Set(engine.options.calendars.keys());
}
