import { listAudit, type AuditListQuery } from './audit-list.js';
import { composeScheduler, type SchedulerParts, type StopOptions } from './composition.js';
import type { ApiContext } from './engine.js';
import { enqueue, enqueueMany, type EnqueueApi } from './enqueue.js';
import { ConfigurationError, ValidationError } from './errors.js';
import type { SchedulerEventName, SchedulerListener } from './events.js';
import type { HealthReport } from './health.js';
import type { MetricsSnapshot } from './metrics.js';
import { checkOptionKeys } from './option-keys.js';
import { resolveOptions, type SchedulerOptions } from './options.js';
import { publishEvent, type PublishOptions, type PublishResult } from './publish.js';
import type { SchemaMap } from './registry.js';
import { RunService, type RunsApi } from './runs.js';
import { parseSchedule, previewSchedule } from './schedules/index.js';
import { OWNER_PATTERN } from './trigger-input.js';
import { TriggerService, type TriggersApi } from './triggers.js';
import type { AuditEntry, Page, ScheduleInput } from './types.js';

export type { StopOptions };

/** One owner's view: sees and changes only that owner's triggers and runs. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export interface ScopedScheduler<S extends SchemaMap = any> extends EnqueueApi<S> {
  /** The owner this view is limited to. */
  readonly owner: string;
  /** This owner's triggers: created with this owner; another owner's trigger is a NotFoundError, as a missing one. */
  readonly triggers: TriggersApi<S, true>;
  /** This owner's run history, and cancellation of this owner's runs. */
  readonly runs: RunsApi;
  /** Fires this owner's event triggers listening for `name` (see `Scheduler.publish`). */
  publish(name: string, data?: unknown, options?: PublishOptions): Promise<PublishResult>;
}

/**
 * A scheduler instance: start it, register triggers, listen to events. Unscoped `triggers`,
 * `runs` and `audit` are the admin view; `forOwner(owner)` gives a scoped view. Without a type
 * argument, `Scheduler` is any scheduler (its payloads untyped), so host code such as an HTTP
 * layer can accept every `Scheduler<S>`.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export interface Scheduler<S extends SchemaMap = any> extends EnqueueApi<S> {
  /** This instance's name in run history, locks and `health()` (option `instanceId`). */
  readonly instanceId: string;
  /**
   * Starts dispatching and executing. Idempotent; concurrent calls share one promise. Works again
   * after `stop()` (same instance id). Calls to `start` and `stop` settle in call order. While
   * started, the scheduler keeps the Node process alive until `stop()` resolves, unless
   * `keepAlive: false`.
   */
  start(): Promise<void>;
  /**
   * Stops claiming, waits up to `graceMs` for running handlers, aborts the rest and hands their
   * runs back, then closes the store and lock store (connections they own only). Idempotent.
   */
  stop(options?: StopOptions): Promise<void>;
  /** `await using scheduler = createScheduler(...)` stops it at scope exit. */
  [Symbol.asyncDispose](): Promise<void>;
  /** Create, upsert, sync, change, pause, run and delete triggers of every owner (the admin view). */
  readonly triggers: TriggersApi<S>;
  /** Run history of every owner, and cancellation. */
  readonly runs: RunsApi;
  /** The audit trail: who changed what, newest first, cursor-paged. */
  readonly audit: { list(query?: AuditListQuery): Promise<Page<AuditEntry>> };
  /** A view limited to one owner's triggers, runs and events; throws ValidationError for an invalid owner. */
  forOwner(owner: string): ScopedScheduler<S>;
  /**
   * Publishes an event: every active event trigger listening for `name` whose filter matches
   * `data` gets a run, stored before this resolves (durable), one per (trigger, event id). Works
   * from any instance; `options.id` makes a retried publish idempotent.
   * @example await scheduler.publish('user.signup', { userId: 'u1', plan: 'pro' });
   */
  publish(name: string, data?: unknown, options?: PublishOptions): Promise<PublishResult>;
  /** Listens to a lifecycle event (see docs/events.md); returns a function that removes the listener. */
  on<E extends SchedulerEventName>(event: E, listener: SchedulerListener<E>): () => void;
  /** Like `on`, for the next occurrence only. */
  once<E extends SchedulerEventName>(event: E, listener: SchedulerListener<E>): () => void;
  /** Removes a listener added with `on` or `once`. */
  off<E extends SchedulerEventName>(event: E, listener: SchedulerListener<E>): void;
  /** The next `count` fire times of any schedule, without creating anything. */
  preview(schedule: ScheduleInput, count?: number, from?: Date): Date[];
  /** Store reachability, dispatch lag, queue depth, running count. */
  health(): Promise<HealthReport>;
  /** Counters and histograms of this instance. */
  metrics(): MetricsSnapshot;
}

/**
 * Creates a scheduler. Validates every option and handler now and throws ConfigurationError
 * listing all problems. The pieces are built in dependency order by `composeScheduler`
 * (composition.ts); this is the public facade over them.
 * @example
 * const scheduler = createScheduler({ handlers: { ping: { schema: z.object({}), run: async () => {} } } });
 * await scheduler.start();
 */
export function createScheduler<S extends SchemaMap>(options: SchedulerOptions<S>): Scheduler<S> {
  const resolved = resolveOptions(options as unknown as SchedulerOptions<SchemaMap>);
  if (!options.handlers) throw ConfigurationError.from([{ path: 'handlers', message: 'is required' }]);
  return facade<S>(composeScheduler(options as unknown as SchedulerOptions<SchemaMap>, resolved));
}

/** The public object over the composed parts. */
function facade<S extends SchemaMap>(parts: SchedulerParts): Scheduler<S> {
  const { engine, api, lifecycle, executor, dispatcher, health, waiting, snapshot, cancelLocal } = parts;
  const { events } = engine;
  return {
    instanceId: engine.options.instanceId,
    start: () => lifecycle.start(),
    stop: (stopOptions = {}) => {
      try {
        checkOptionKeys(stopOptions, ['graceMs'], 'Invalid stop options');
      } catch (error) {
        return Promise.reject(error as Error);
      }
      return lifecycle.stop(stopOptions);
    },
    [Symbol.asyncDispose]: () => lifecycle.stop({}),
    triggers: new TriggerService(api) as unknown as TriggersApi<S>,
    runs: new RunService(api, cancelLocal),
    audit: { list: (query) => listAudit(engine, query) },
    forOwner: (owner) => scopedView<S>(api, cancelLocal, owner),
    publish: (name, data, publishOptions = {}) => publishEvent(api, name, data, publishOptions),
    enqueue: (taskType, payload, enqueueOptions = {}) => enqueue(api, taskType, payload, enqueueOptions),
    enqueueMany: (jobs, enqueueOptions = {}) => enqueueMany(api, jobs, enqueueOptions),
    on: (event, listener) => events.on(event, listener),
    once: (event, listener) => events.once(event, listener),
    off: (event, listener) => events.off(event, listener),
    preview(schedule, count = 10, from) {
      const now = from ?? engine.now();
      return previewSchedule(parseSchedule(schedule, now), count, now);
    },
    health: () => health.report({ running: executor.running, queueDepth: dispatcher.depth, started: lifecycle.started, waitingForHandler: waiting.byType }),
    metrics: snapshot,
  };
}

/** One owner's view of the API (`forOwner`). */
function scopedView<S extends SchemaMap>(api: ApiContext, cancelLocal: (runId: string) => void, owner: string): ScopedScheduler<S> {
  if (typeof owner !== 'string' || !OWNER_PATTERN.test(owner)) {
    throw ValidationError.from([{ path: 'owner', message: 'must be 1-200 printable characters without spaces' }], 'Invalid owner');
  }
  return {
    owner,
    triggers: new TriggerService(api, owner) as unknown as TriggersApi<S, true>,
    runs: new RunService(api, cancelLocal, owner),
    publish: (name, data, publishOptions = {}) => publishEvent(api, name, data, publishOptions, owner),
    enqueue: (taskType, payload, enqueueOptions = {}) => enqueue(api, taskType, payload, enqueueOptions, owner),
    enqueueMany: (jobs, enqueueOptions = {}) => enqueueMany(api, jobs, enqueueOptions, owner),
  };
}

export type { AuditListQuery };
