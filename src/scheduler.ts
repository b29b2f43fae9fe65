import { Dispatcher } from './dispatcher.js';
import { listAudit, type AuditListQuery } from './audit-list.js';
import type { ApiContext, Engine } from './engine.js';
import { ConfigurationError, ValidationError } from './errors.js';
import { EventBus, type SchedulerEventName, type SchedulerListener } from './events.js';
import { countOutcome } from './auto-pause.js';
import { Capacity } from './capacity.js';
import { ClaimAtFire } from './claim-at-fire.js';
import { Executor } from './executor.js';
import { FireRetries } from './fire-retries.js';
import { LeaseKeeper } from './lease-keeper.js';
import { decideOverlap } from './overlap.js';
import { RunExecution, type RunParts } from './run-execution.js';
import { taskContext } from './task-context.js';
import { Wakeups } from './wake-timers.js';
import { FinishWriter } from './finish-writer.js';
import { Health, type HealthReport } from './health.js';
import { LeaseRecovery } from './lease-recovery.js';
import { Lifecycle } from './lifecycle.js';
import { LocalChanges } from './local-changes.js';
import { memoryLockStore } from './locks/memory/index.js';
import type { LockStore } from './locks/types.js';
import { MaintenanceLoop } from './maintenance-loop.js';
import { Metrics, type MetricsSnapshot } from './metrics.js';
import { resolveOptions, type SchedulerOptions } from './options.js';
import { publishEvent, type PublishOptions, type PublishResult } from './publish.js';
import { randomId } from './random.js';
import { HandlerRegistry, type SchemaMap } from './registry.js';
import { loopReporter, watchedReporter, type Reporter, type ReportingLoop } from './reporter.js';
import { StoreWatch } from './store-watch.js';
import { RunService, type RunsApi } from './runs.js';
import { parseSchedule, previewSchedule } from './schedules/index.js';
import { memoryStore } from './stores/memory/index.js';
import { mongoStore } from './stores/mongo/index.js';
import type { Db } from 'mongodb';
import type { Store } from './stores/types.js';
import { OWNER_PATTERN } from './trigger-input.js';
import { TriggerService, type TriggersApi } from './triggers.js';
import { enqueue, enqueueMany, type EnqueueApi } from './enqueue.js';
import { checkOptionKeys } from './option-keys.js';
import type { AuditEntry, Page, ScheduleInput } from './types.js';
import { WaitingRunsCounter } from './waiting-runs.js';

export interface StopOptions {
  /** How long running handlers may take to finish before their signals are aborted, ms. Default 10,000. */
  graceMs?: number;
}

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
 * listing all problems. The composition root: builds the pieces in dependency order (engine
 * context, health, executor, dispatcher, maintenance loop, API services) and returns the facade.
 * Longer than 60 lines on purpose: it is a flat list of constructions, each line one piece, and
 * reads best in one place.
 * @example
 * const scheduler = createScheduler({ handlers: { ping: { schema: z.object({}), run: async () => {} } } });
 * await scheduler.start();
 */
export function createScheduler<S extends SchemaMap>(options: SchedulerOptions<S>): Scheduler<S> {
  const resolved = resolveOptions(options as unknown as SchedulerOptions<SchemaMap>);
  if (!options.handlers) throw ConfigurationError.from([{ path: 'handlers', message: 'is required' }]);
  // `db` was checked to be a driver `Db` (it has `collection`); its type is structural only so the
  // public declarations need no `mongodb` types.
  const store: Store = options.store ?? (options.db ? mongoStore(options.db as Db) : memoryStore());
  const locks: LockStore = options.lockStore ?? store.createLockStore?.() ?? memoryLockStore();
  const events = new EventBus();
  const metrics = new Metrics();
  const { clock } = resolved;
  // Initialized lazily, once per start (stop() closes the store; a restart initializes it again).
  let initPromise: Promise<void> | null = null;
  const engine: Engine = {
    store,
    locks,
    registry: new HandlerRegistry(options.handlers as never),
    events,
    metrics,
    options: resolved,
    ready: () => (initPromise ??= store.init()),
    now: () => new Date(clock.now()),
    newId: () => randomId(resolved.random),
  };
  const health = new Health(engine);
  const changes = new LocalChanges();
  const storeWatch = new StoreWatch(clock);
  const reporter = (loop: ReportingLoop): Reporter => watchedReporter(loopReporter(loop, health, events), storeWatch);
  const executorReporter = reporter('executor');
  const writer = new FinishWriter(engine, executorReporter);
  // Outcomes held through an outage go as soon as the store answers anything.
  storeWatch.onAnswer(() => writer.retryNow());
  const wakeups = new Wakeups(clock);
  const capacity = new Capacity(engine);
  const execution = new RunExecution(engine, runParts(engine, executorReporter, capacity, changes, wakeups), writer, executorReporter);
  const leases = new LeaseKeeper(engine, executorReporter);
  const executor = new Executor(engine, { capacity, execution, leases, writer, wakeups }, executorReporter);
  const retries = new FireRetries();
  const claims = new ClaimAtFire(engine, executor, retries);
  const dispatcher = new Dispatcher(engine, reporter('dispatcher'), claims, retries, wakeups, changes);
  const recovery = new LeaseRecovery(engine, writer, reporter('dispatcher'), storeWatch, (at) => wakeups.at(at));
  const waiting = new WaitingRunsCounter(engine);
  const snapshot = (): MetricsSnapshot => metrics.snapshot(engine.now(), resolved.instanceId, { running: executor.running, queueDepth: dispatcher.depth }, waiting.counts());
  // The maintenance loop reports as the dispatcher, as it always has (`dispatcher:claimExpiredLeases`).
  const loop = new MaintenanceLoop(engine, reporter('dispatcher'), { dispatcher, executor, recovery }, waiting, { set: (active) => (health.notifications = active) }, snapshot);
  const api: ApiContext = {
    ...engine,
    wake: (at) => (at && at.getTime() > clock.now() ? wakeups.at(at.getTime()) : wakeups.now()),
    triggerChanged: (trigger, id) => changes.triggerChanged(trigger, id),
  };

  const lifecycle = new Lifecycle<StopOptions>(
    {
      async start() {
        try {
          await engine.ready();
        } catch (error) {
          initPromise = null;
          throw error;
        }
        storeWatch.reset();
        dispatcher.start();
        executor.start();
        await loop.start();
        events.emit('scheduler:started', { instanceId: resolved.instanceId });
      },
      async stop(stopOptions, wasStarted) {
        await loop.stop();
        await dispatcher.stop();
        await executor.stop(stopOptions.graceMs ?? 10_000);
        await locks.close();
        await store.close();
        initPromise = null;
        if (wasStarted) events.emit('scheduler:stopped', { instanceId: resolved.instanceId });
      },
    },
    resolved.keepAlive,
  );

  const cancelLocal = (id: string): void => capacity.cancel(id);
  const forOwner = (owner: string): ScopedScheduler<S> => scopedView<S>(api, cancelLocal, owner);

  return {
    instanceId: resolved.instanceId,
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
    forOwner,
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

/** What running a run draws on besides its context: each part bound to the engine here, so the runner sees only these. */
function runParts(engine: Engine, reporter: Reporter, capacity: Capacity, changes: LocalChanges, wakeups: Wakeups): RunParts {
  const cancelLocal = (runId: string): void => capacity.cancel(runId);
  return {
    decideOverlap: (run, token, now) => decideOverlap(engine, run, token, now, { reporter, cancelLocal }),
    releaseLock: (lock) => engine.locks.release(lock),
    taskContext: (active) => taskContext(engine, active),
    countForAutoPause(run, failed) {
      if (run.pauseAfterFailures === undefined) return;
      countOutcome(engine, run, failed, changes).catch((error: unknown) => reporter.failed('autoPause', error));
    },
    wakeups,
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
