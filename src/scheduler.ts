import type { TimerHandle } from './clock.js';
import { Dispatcher } from './dispatcher.js';
import { listAudit, type AuditListQuery } from './audit-list.js';
import type { Engine } from './engine.js';
import { ConfigurationError, StoppedError, ValidationError } from './errors.js';
import { EventBus, type SchedulerEventName, type SchedulerListener } from './events.js';
import { Executor } from './executor.js';
import { Health, type HealthReport } from './health.js';
import { memoryLockStore } from './locks/memory/index.js';
import type { LockStore } from './locks/types.js';
import { Metrics, type MetricsSnapshot } from './metrics.js';
import { resolveOptions, type SchedulerOptions } from './options.js';
import { randomId } from './random.js';
import { HandlerRegistry, type SchemaMap } from './registry.js';
import { RunService, type RunsApi } from './runs.js';
import { publishEvent, type PublishOptions, type PublishResult } from './publish.js';
import { parseSchedule, previewSchedule } from './schedules/index.js';
import { memoryStore } from './stores/memory/index.js';
import { mongoStore } from './stores/mongo/index.js';
import type { Db } from 'mongodb';
import type { Store } from './stores/types.js';
import { OWNER_PATTERN, type ActorOptionsLike } from './trigger-input.js';
import { TriggerService, type TriggersApi } from './triggers.js';
import { enqueue, enqueueMany, type EnqueueApi } from './enqueue.js';
import { checkOptionKeys } from './option-keys.js';
import type { AuditEntry, Page, ScheduleInput } from './types.js';

/** Expired leases recovered per poll. */
const RECOVERY_BATCH = 500;
/** Retention purge runs every this many polls. */
const PURGE_EVERY_POLLS = 60;

export interface StopOptions {
  /** How long running handlers may take to finish before their signals are aborted, ms. Default 10,000. */
  graceMs?: number;
}

/** One owner's view (R15): sees and changes only that owner's triggers and runs. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export interface ScopedScheduler<S extends SchemaMap = any> extends EnqueueApi<S> {
  readonly owner: string;
  readonly triggers: TriggersApi<S, true>;
  readonly runs: RunsApi;
  /** Fires this owner's event triggers listening for `name` (see `Scheduler.publish`). */
  publish(name: string, data?: unknown, options?: PublishOptions): Promise<PublishResult>;
}

/**
 * A scheduler instance: start it, register triggers, listen to events. Unscoped `triggers`,
 * `runs` and `audit` are the admin view; `forOwner(owner)` gives a scoped view.
 */
/**
 * Without a type argument, `Scheduler` is any scheduler (its payloads untyped), so host code such
 * as an HTTP layer can accept every `Scheduler<S>`.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export interface Scheduler<S extends SchemaMap = any> extends EnqueueApi<S> {
  readonly instanceId: string;
  /** Starts dispatching and executing. Idempotent; concurrent calls share one promise. */
  start(): Promise<void>;
  /** Stops claiming, waits up to `graceMs` for running handlers, aborts the rest and hands their runs back. Idempotent. */
  stop(options?: StopOptions): Promise<void>;
  /** `await using scheduler = createScheduler(...)` stops it at scope exit. */
  [Symbol.asyncDispose](): Promise<void>;
  readonly triggers: TriggersApi<S>;
  readonly runs: RunsApi;
  readonly audit: { list(query?: AuditListQuery): Promise<Page<AuditEntry>> };
  forOwner(owner: string): ScopedScheduler<S>;
  /**
   * Publishes an event (R2): every active event trigger listening for `name` whose filter matches
   * `data` gets a run, stored before this resolves (durable), one per (trigger, event id). Works
   * from any instance; `options.id` makes a retried publish idempotent.
   * @example await scheduler.publish('user.signup', { userId: 'u1', plan: 'pro' });
   */
  publish(name: string, data?: unknown, options?: PublishOptions): Promise<PublishResult>;
  on<E extends SchedulerEventName>(event: E, listener: SchedulerListener<E>): () => void;
  once<E extends SchedulerEventName>(event: E, listener: SchedulerListener<E>): () => void;
  off<E extends SchedulerEventName>(event: E, listener: SchedulerListener<E>): void;
  /** The next `count` fire times of any schedule (B8), without creating anything. */
  preview(schedule: ScheduleInput, count?: number, from?: Date): Date[];
  /** Store reachability, dispatch lag, queue depth, running count (R12). */
  health(): Promise<HealthReport>;
  /** Counters and histograms of this instance (R12). */
  metrics(): MetricsSnapshot;
}

type Lifecycle = 'idle' | 'starting' | 'started' | 'stopping' | 'stopped';

/**
 * Creates a scheduler. Validates every option and handler now and throws ConfigurationError
 * listing all problems.
 * @example
 * const scheduler = createScheduler({ handlers: { ping: { schema: z.object({}), run: async () => {} } } });
 * await scheduler.start();
 */
export function createScheduler<S extends SchemaMap>(options: SchedulerOptions<S>): Scheduler<S> {
  const resolved = resolveOptions(options as unknown as SchedulerOptions<SchemaMap>);
  if (!options.handlers) throw ConfigurationError.from([{ path: 'handlers', message: 'is required' }]);
  const registry = new HandlerRegistry(options.handlers as never);
  // `db` was checked to be a driver `Db` (it has `collection`); its type is structural only so the
  // public declarations need no `mongodb` types.
  const store: Store = options.store ?? (options.db ? mongoStore(options.db as Db) : memoryStore());
  const locks: LockStore = options.lockStore ?? store.createLockStore?.() ?? memoryLockStore();
  const events = new EventBus();
  const metrics = new Metrics();
  const clock = resolved.clock;
  let initPromise: Promise<void> | null = null;
  // The engine's callbacks reach these two, which are built from the engine below.
  const parts: { dispatcher?: Dispatcher; executor?: Executor } = {};

  const engine: Engine = {
    store,
    locks,
    registry,
    events,
    metrics,
    options: resolved,
    ready: () => (initPromise ??= store.init()),
    now: () => new Date(clock.now()),
    newId: () => randomId(resolved.random),
    wake: (at) => (at && at.getTime() > clock.now() ? parts.executor?.wakeAt(at.getTime()) : parts.executor?.wake()),
    triggerChanged: (trigger, id) => parts.dispatcher?.triggerChanged(trigger, id),
  };
  const health = new Health(engine);
  const reportError = (source: 'dispatcher' | 'executor') => (operation: string, error: unknown) => {
    health.failed(operation, error);
    events.emit('scheduler:error', { error, source: operation.startsWith('lock') ? 'lock-store' : 'store', operation: `${source}:${operation}` });
  };
  const executor = (parts.executor = new Executor(engine, reportError('executor'), (op) => health.succeeded(op)));
  const dispatcher = (parts.dispatcher = new Dispatcher(engine, () => executor.wake(), reportError('dispatcher'), (op) => health.succeeded(op), executor));

  let state: Lifecycle = 'idle';
  let starting: Promise<void> | null = null;
  let stopping: Promise<void> | null = null;
  let pollTimer: TimerHandle | null = null;
  let metricsTimer: TimerHandle | null = null;
  let unsubscribe: (() => Promise<void>) | null = null;
  let polls = 0;

  const poll = async (): Promise<void> => {
    pollTimer = null;
    polls++;
    if (!subscribed) await subscribe();
    await recoverExpired();
    if (polls % PURGE_EVERY_POLLS === 0) await purge();
    await dispatcher.refresh();
    executor.wake();
    if (state === 'started') pollTimer = clock.setTimeout(() => void poll(), resolved.pollIntervalMs);
  };

  /** Opens the store's change feed (B5); a failed attempt is retried at the next poll. */
  let subscribed = false;
  const subscribe = async (): Promise<void> => {
    if (!store.subscribe || subscribed) return;
    try {
      unsubscribe = await store.subscribe(
        (change) => {
          if (change.kind === 'trigger') dispatcher.requestRefresh();
          else executor.wake();
        },
        (active) => {
          health.notifications = active;
        },
      );
      subscribed = true;
      health.notifications = unsubscribe !== null;
    } catch (error) {
      reportError('dispatcher')('subscribe', error);
    }
  };

  const recoverExpired = async (): Promise<void> => {
    try {
      const recovered = await store.recoverExpiredLeases(engine.now(), RECOVERY_BATCH, resolved.retentionMs);
      health.succeeded('recoverExpiredLeases');
      for (const { run, outcome } of recovered) {
        metrics.increment('runsRecovered');
        events.emit('run:recovered', { run, outcome });
        if (outcome === 'failed') events.emit('run:failed', { run, error: run.error ?? { name: 'LeaseExpired', message: 'the run used all its attempts' } });
      }
    } catch (error) {
      reportError('dispatcher')('recoverExpiredLeases', error);
    }
  };

  const purge = async (): Promise<void> => {
    try {
      await store.purgeExpiredRuns(engine.now(), 10_000);
    } catch (error) {
      reportError('dispatcher')('purgeExpiredRuns', error);
    }
  };

  const emitMetrics = (): void => {
    metricsTimer = null;
    events.emit('metrics:snapshot', { snapshot: snapshot() });
    if (state === 'started' && resolved.metricsIntervalMs > 0) metricsTimer = clock.setTimeout(emitMetrics, resolved.metricsIntervalMs);
  };

  const snapshot = (): MetricsSnapshot =>
    metrics.snapshot(engine.now(), resolved.instanceId, { running: executor.running, queueDepth: dispatcher.depth });

  const start = (): Promise<void> => {
    if (state === 'started') return Promise.resolve();
    if (starting) return starting;
    if (state === 'stopping' || state === 'stopped') return Promise.reject(new StoppedError('a stopped scheduler cannot be restarted; create a new one'));
    state = 'starting';
    starting = (async () => {
      try {
        await engine.ready();
      } catch (error) {
        state = 'idle';
        initPromise = null;
        throw error;
      }
      await subscribe();
      state = 'started';
      dispatcher.start();
      executor.start();
      await poll();
      if (resolved.metricsIntervalMs > 0) metricsTimer = clock.setTimeout(emitMetrics, resolved.metricsIntervalMs);
      events.emit('scheduler:started', { instanceId: resolved.instanceId });
    })().finally(() => {
      starting = null;
    });
    return starting;
  };

  const stop = (stopOptions: StopOptions = {}): Promise<void> => {
    if (stopping) return stopping;
    try {
      checkOptionKeys(stopOptions, ['graceMs'], 'Invalid stop options');
    } catch (error) {
      return Promise.reject(error as Error);
    }
    if (state === 'stopped') return Promise.resolve();
    const graceMs = stopOptions.graceMs ?? 10_000;
    stopping = (async () => {
      await starting?.catch(() => undefined);
      const wasStarted = state === 'started';
      state = 'stopping';
      if (pollTimer) clock.clearTimeout(pollTimer);
      if (metricsTimer) clock.clearTimeout(metricsTimer);
      pollTimer = metricsTimer = null;
      await dispatcher.stop();
      await executor.stop(graceMs);
      if (unsubscribe) await unsubscribe().catch((error: unknown) => reportError('dispatcher')('unsubscribe', error));
      await locks.close();
      await store.close();
      state = 'stopped';
      if (wasStarted) events.emit('scheduler:stopped', { instanceId: resolved.instanceId });
    })();
    return stopping;
  };

  const forOwner = (owner: string): ScopedScheduler<S> => {
    if (typeof owner !== 'string' || !OWNER_PATTERN.test(owner)) {
      throw ValidationError.from([{ path: 'owner', message: 'must be 1-200 printable characters without spaces' }], 'Invalid owner');
    }
    return {
      owner,
      triggers: new TriggerService(engine, owner) as unknown as TriggersApi<S, true>,
      runs: new RunService(engine, (id) => executor.cancelLocal(id), owner),
      publish: (name, data, publishOptions = {}) => publishEvent(engine, name, data, publishOptions, owner),
      enqueue: (taskType, payload, enqueueOptions = {}) => enqueue(engine, taskType, payload, enqueueOptions, owner),
      enqueueMany: (jobs, enqueueOptions = {}) => enqueueMany(engine, jobs, enqueueOptions, owner),
    };
  };

  return {
    instanceId: resolved.instanceId,
    start,
    stop,
    [Symbol.asyncDispose]: () => stop(),
    triggers: new TriggerService(engine) as unknown as TriggersApi<S>,
    runs: new RunService(engine, (id) => executor.cancelLocal(id)),
    audit: { list: (query) => listAudit(engine, query) },
    forOwner,
    publish: (name, data, publishOptions = {}) => publishEvent(engine, name, data, publishOptions),
    enqueue: (taskType, payload, enqueueOptions = {}) => enqueue(engine, taskType, payload, enqueueOptions),
    enqueueMany: (jobs, enqueueOptions = {}) => enqueueMany(engine, jobs, enqueueOptions),
    on: (event, listener) => events.on(event, listener),
    once: (event, listener) => events.once(event, listener),
    off: (event, listener) => events.off(event, listener),
    preview(schedule, count = 10, from) {
      const now = from ?? engine.now();
      return previewSchedule(parseSchedule(schedule, now), count, now);
    },
    health: () => health.report({ running: executor.running, queueDepth: dispatcher.depth, started: state === 'started' }),
    metrics: snapshot,
  };
}

export type { ActorOptionsLike };
