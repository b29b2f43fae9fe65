/**
 * The trigger management API as TypeScript sees it. On a typed scheduler every input is typed by
 * the handler schemas; on `Scheduler` without a type argument (host code) inputs are `unknown`
 * (see {@link HostInput}). Both are checked at run time by the same code (triggers.ts).
 */
import type { RunManyItem, RunManyOptions, RunNowOptions } from './manual-runs.js';
import type { SchemaMap } from './registry.js';
import type { BackfillRange, BackfillResult } from './trigger-backfill.js';
import type { HostInput, PayloadFor, TriggerInputFor, TriggerRef, TypedTrigger, UpsertResult } from './trigger-handle.js';
import type { CreateTriggerInput, UpdateTriggerInput } from './trigger-input.js';
import type { TriggerListQuery } from './trigger-list.js';
import type { SyncOptions, SyncResult } from './trigger-sync.js';
import type { Page, RunRecord, TriggerRecord } from './types.js';
import type { ActorOptions } from './actor.js';

export type { ActorOptions };

/** Create input of a scoped view: `owner` is the view's and may be omitted. */
export type ScopedCreateTriggerInput<S extends SchemaMap> = {
  [K in keyof S & string]: Omit<Extract<CreateTriggerInput<S>, { taskType: K }>, 'owner'> & { owner?: string };
}[keyof S & string];

/**
 * Trigger management. In a scoped view (`Scoped` true) every call is limited to one
 * owner, and create inputs may omit `owner`.
 */
export interface TriggersApi<S extends SchemaMap, Scoped extends boolean = false> {
  /**
   * Validates and stores a trigger; throws ValidationError (nothing written) or ConflictError
   * (name taken). Returns a typed handle: `runNow(handle, { payload })` checks the payload type.
   */
  create<K extends keyof S & string>(input: HostInput<S, TriggerInputFor<S, K, Scoped>>, options?: ActorOptions): Promise<TypedTrigger<S, K>>;
  /**
   * Creates the trigger, or changes the stored one with the same (owner, name) to match `input`,
   * writing nothing when it already does (no new version, no audit entry). Safe when many
   * instances call it at once. A changed schedule recomputes the next fire; a slot already due
   * fires once. `paused` applies only when creating: a paused trigger stays paused.
   * @example const { trigger, action } = await scheduler.triggers.upsert({ name: 'nightly', owner: 'ops', taskType: 'cleanup', payload: {}, schedule: { cron: '0 3 * * *' } });
   */
  upsert<K extends keyof S & string>(input: HostInput<S, TriggerInputFor<S, K, Scoped>>, options?: ActorOptions): Promise<UpsertResult<TypedTrigger<S, K>>>;
  /**
   * Makes one owner's stored triggers equal the declared ones: upserts each, then pauses
   * (default), deletes or keeps the owner's other triggers (within `namePrefix`). Every
   * declaration is validated before anything is written.
   */
  sync(inputs: HostInput<S, readonly (Scoped extends true ? ScopedCreateTriggerInput<S> : CreateTriggerInput<S>)[]>, options?: SyncOptions): Promise<SyncResult>;
  /** Throws NotFoundError when missing or owned by someone else. */
  get(id: string): Promise<TriggerRecord>;
  list(query?: HostInput<S, TriggerListQuery>): Promise<Page<TriggerRecord>>;
  /** Changes the given fields; a new schedule restarts from now. */
  update(id: string, patch: HostInput<S, UpdateTriggerInput<S>>, options?: ActorOptions): Promise<TriggerRecord>;
  /** Deletes the trigger and cancels its pending runs (running ones finish). */
  delete(id: string, options?: ActorOptions): Promise<void>;
  /** Stops new slots from firing; missed slots are handled by the misfire policy on resume. */
  pause(id: string, options?: HostInput<S, ActorOptions & { reason?: string }>): Promise<TriggerRecord>;
  resume(id: string, options?: ActorOptions): Promise<TriggerRecord>;
  /**
   * Runs the trigger now (or at `runAt`, or after `delayMs`), whatever its schedule or status.
   * Given a typed handle from `create`/`upsert`, the payload override is typed by its task type.
   */
  runNow<T extends TriggerRef>(trigger: T, options?: HostInput<S, RunNowOptions<PayloadFor<S, T>>>): Promise<RunRecord>;
  /**
   * Runs the trigger once per item, in one store write (a bulk enqueue): each item may bring its
   * own payload (validated against the schema) and priority. Bad items throw one
   * ValidationError naming each (`items.3.payload.email`) and nothing is written. At most
   * 10,000 items per call; one audit entry for the batch.
   */
  runMany<T extends TriggerRef>(trigger: T, items: HostInput<S, readonly RunManyItem<PayloadFor<S, T>>[]>, options?: HostInput<S, RunManyOptions>): Promise<RunRecord[]>;
  /** The trigger's next `count` fire times (default 10), with its bounds and calendars applied. */
  preview(id: string, count?: number): Promise<Date[]>;
  /**
   * Creates the runs of every slot in a past range `[from, to)` that has no run yet, marked
   * `source: 'backfill'`. Slots that already ran keep their run (a slot has one run id), so a
   * backfill can be repeated safely. At most 10,000 slots per call.
   */
  backfill(id: string, range: HostInput<S, BackfillRange>): Promise<BackfillResult>;
}
