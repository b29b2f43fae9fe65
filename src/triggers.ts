import { buildRun, recordAudit, type Engine } from './engine.js';
import { ConflictError, NotFoundError, ValidationError } from './errors.js';
import { checkPage } from './paging.js';
import type { SchemaMap } from './registry.js';
import { nextFireTime, previewSchedule } from './schedules/index.js';
import {
  checkId,
  resolveActor,
  validateTriggerFields,
  type AnyPayload,
  type CreateTriggerInput,
  type UpdateTriggerInput,
  type ValidTriggerFields,
} from './trigger-input.js';
import type { Page, PageQuery, RunRecord, TriggerRecord, TriggerStatus } from './types.js';

/** Who did it, for the audit trail. Default: the scoped owner, else `system`. */
export interface ActorOptions {
  actor?: string;
}

export interface TriggerListQuery extends PageQuery {
  /** Admin view only: one owner's triggers. */
  owner?: string;
  status?: TriggerStatus;
  taskType?: string;
  /** Exact name. */
  name?: string;
}

/** Options of `runNow`. */
export interface RunNowOptions<P = unknown> extends ActorOptions {
  /** Use this payload instead of the trigger's (validated against the schema). */
  payload?: P;
  /** Priority of this run. Default: the trigger's. */
  priority?: number;
}

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
  /** The trigger's next `count` fire times (default 10). */
  preview(id: string, count?: number): Promise<Date[]>;
}

/** Create input of a scoped view: `owner` is the view's and may be omitted. */
export type ScopedCreateTriggerInput<S extends SchemaMap> = {
  [K in keyof S & string]: Omit<Extract<CreateTriggerInput<S>, { taskType: K }>, 'owner'> & { owner?: string };
}[keyof S & string];

const UPDATE_ATTEMPTS = 8;

export class TriggerService<S extends SchemaMap> implements TriggersApi<S, CreateTriggerInput<S> | ScopedCreateTriggerInput<S>> {
  constructor(
    private readonly engine: Engine,
    private readonly scopeOwner?: string,
  ) {}

  async create(input: CreateTriggerInput<S> | ScopedCreateTriggerInput<S>, options: ActorOptions = {}): Promise<TriggerRecord> {
    const { engine } = this;
    const actor = this.actor(options);
    await engine.ready();
    let candidate: unknown = input;
    if (this.scopeOwner !== undefined && typeof input === 'object' && input !== null) {
      const given = (input as { owner?: unknown }).owner;
      if (given !== undefined && given !== this.scopeOwner) {
        throw ValidationError.from([{ path: 'owner', message: 'must be the owner of this view (or omitted)' }], 'Invalid trigger');
      }
      candidate = { ...input, owner: this.scopeOwner };
    }
    const now = engine.now();
    const fields = await validateTriggerFields(candidate, engine.registry, now, { partial: false });
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
      ...(valid.metadata ? { metadata: valid.metadata } : {}),
      createdAt: now,
      updatedAt: now,
      version: 1,
    };
    trigger.nextFireAt = firstFireAt(trigger, now);
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
    await this.engine.ready();
    const { limit, offset } = checkPage(query);
    const owner = this.scopeOwner ?? query.owner;
    return this.engine.store.listTriggers({
      limit,
      offset,
      ...(owner !== undefined ? { owner } : {}),
      ...(query.status !== undefined ? { status: query.status } : {}),
      ...(query.taskType !== undefined ? { taskType: query.taskType } : {}),
      ...(query.name !== undefined ? { name: query.name } : {}),
    });
  }

  async update(id: string, patch: UpdateTriggerInput<S>, options: ActorOptions = {}): Promise<TriggerRecord> {
    checkId(id, 'trigger');
    const actor = this.actor(options);
    let changed: string[] = [];
    const { previous, next } = await this.modify(id, async (current, now) => {
      const fields = await validateTriggerFields(patch, this.engine.registry, now, { partial: true, currentTaskType: current.taskType });
      changed = Object.keys(fields);
      const next: TriggerRecord = { ...current, ...fields } as TriggerRecord;
      if (fields.schedule && next.status !== 'paused') {
        next.nextFireAt = firstFireAt(next, now);
        next.status = next.nextFireAt === null && isTimed(next) ? 'completed' : 'active';
      } else if (fields.schedule) {
        next.nextFireAt = firstFireAt(next, now);
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
    const now = engine.now();
    for (;;) {
      const pending = await engine.store.listRuns({ triggerId: id, status: 'pending', limit: 500, offset: 0 });
      for (const run of pending.items) await engine.store.cancelRun(run.id, now, engine.options.retentionMs);
      if (pending.items.length < 500) break;
    }
    await recordAudit(engine, { actor, action: 'trigger.delete', owner: trigger.owner, triggerId: id, details: { name: trigger.name } });
    engine.events.emit('trigger:deleted', { trigger, actor });
  }

  async pause(id: string, options: ActorOptions & { reason?: string } = {}): Promise<TriggerRecord> {
    checkId(id, 'trigger');
    const actor = this.actor(options);
    if (options.reason !== undefined && (typeof options.reason !== 'string' || options.reason.length > 500)) {
      throw ValidationError.from([{ path: 'reason', message: 'must be a string of at most 500 characters' }], 'Invalid pause');
    }
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
      return { ...rest, status: current.nextFireAt === null && isTimed(current) ? 'completed' : 'active' };
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
    if (options.priority !== undefined && !(Number.isInteger(options.priority) && Math.abs(options.priority) <= 1_000)) {
      throw ValidationError.from([{ path: 'priority', message: 'must be an integer from -1000 to 1000' }], 'Invalid run');
    }
    const now = engine.now();
    const run = buildRun(engine, trigger, {
      source: 'manual',
      scheduledFor: now,
      ...(options.payload !== undefined ? { payload: structuredClone(options.payload) } : {}),
      ...(options.priority !== undefined ? { priority: options.priority } : {}),
    });
    const [inserted] = await engine.store.insertRuns([run]);
    if (!inserted) throw new ConflictError(`Run ${run.id} already exists`);
    await recordAudit(engine, { actor, action: 'trigger.run', owner: trigger.owner, triggerId: id, runId: run.id });
    engine.metrics.increment('runsScheduled');
    engine.events.emit('run:scheduled', { run });
    engine.wake();
    return run;
  }

  async preview(id: string, count = 10): Promise<Date[]> {
    const trigger = await this.get(id);
    if (trigger.nextFireAt === null) return [];
    const first = trigger.nextFireAt;
    return [first, ...previewSchedule(trigger.schedule, count - 1 > 0 ? count - 1 : 1, first)].slice(0, count);
  }

  /** Validated before anything is written, so a bad actor leaves no partial change. */
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

/** First slot of a new or rescheduled trigger: a `once` keeps its instant even if past (the misfire policy decides). */
function firstFireAt(trigger: TriggerRecord, now: Date): Date | null {
  if (trigger.schedule.kind === 'once') return new Date(trigger.schedule.at);
  return nextFireTime(trigger.schedule, now);
}
