/**
 * The composition root: builds a scheduler's parts in dependency order, each from the parts
 * before it, so nothing needs a reference back. First the engine context (store, locks,
 * registry, events, clock), then the run side (finish writer, capacity, execution, leases,
 * executor), then the slot side (claim at fire, dispatcher, lease recovery), then the
 * maintenance loop and the lifecycle. `createScheduler` (scheduler.ts) puts the facade on top.
 */
import type { Db } from 'mongodb';
import { countOutcome } from './auto-pause.js';
import { Capacity } from './capacity.js';
import { ClaimAtFire } from './claim-at-fire.js';
import { Dispatcher } from './dispatcher.js';
import type { ApiContext, Engine } from './engine.js';
import { EventBus } from './events.js';
import { Executor } from './executor.js';
import { FinishWriter } from './finish-writer.js';
import { FireRetries } from './fire-retries.js';
import { Health } from './health.js';
import { LeaseKeeper } from './lease-keeper.js';
import { LeaseRecovery } from './lease-recovery.js';
import { Lifecycle } from './lifecycle.js';
import { LocalChanges } from './local-changes.js';
import { memoryLockStore } from './locks/memory/index.js';
import type { LockStore } from './locks/types.js';
import { MaintenanceLoop } from './maintenance-loop.js';
import { Metrics, type MetricsSnapshot } from './metrics.js';
import type { ResolvedOptions, SchedulerOptions } from './options.js';
import { decideOverlap } from './overlap.js';
import { randomId } from './random.js';
import { HandlerRegistry, type SchemaMap } from './registry.js';
import { loopReporter, watchedReporter, type Reporter, type ReportingLoop } from './reporter.js';
import { RunExecution, type RunParts } from './run-execution.js';
import { StoreWatch } from './store-watch.js';
import { memoryStore } from './stores/memory/index.js';
import { mongoStore } from './stores/mongo/index.js';
import type { Store } from './stores/types.js';
import { taskContext } from './task-context.js';
import { WaitingRunsCounter } from './waiting-runs.js';
import { Wakeups } from './wake-timers.js';

/** Options of `scheduler.stop()`. */
export interface StopOptions {
  /** How long running handlers may take to finish before their signals are aborted, ms. Default 10,000. */
  graceMs?: number;
}

/** What the facade reads: the engine, the API context and the running parts. */
export interface SchedulerParts {
  engine: Engine;
  api: ApiContext;
  lifecycle: Lifecycle<StopOptions>;
  executor: Executor;
  dispatcher: Dispatcher;
  health: Health;
  waiting: WaitingRunsCounter;
  snapshot: () => MetricsSnapshot;
  /** Aborts a run executing on this instance (after its cancellation was stored). */
  cancelLocal: (runId: string) => void;
}

/** The engine context, and a way to make the next start initialize the store again. */
interface Core {
  engine: Engine;
  resetInit: () => void;
}

/** Store, locks, registry, events and clock: what every part reads. */
function buildCore(options: SchedulerOptions<SchemaMap>, resolved: ResolvedOptions): Core {
  // `db` was checked to be a driver `Db` (it has `collection`); its type is structural only so the
  // public declarations need no `mongodb` types.
  const store: Store = options.store ?? (options.db ? mongoStore(options.db as Db) : memoryStore());
  const locks: LockStore = options.lockStore ?? store.createLockStore?.() ?? memoryLockStore();
  const { clock } = resolved;
  // Initialized lazily, once per start (stop() closes the store; a restart initializes it again).
  let initPromise: Promise<void> | null = null;
  const engine: Engine = {
    store,
    locks,
    registry: new HandlerRegistry(options.handlers as never),
    events: new EventBus(),
    metrics: new Metrics(),
    options: resolved,
    ready: () => (initPromise ??= store.init()),
    now: () => new Date(clock.now()),
    newId: () => randomId(resolved.random),
  };
  return { engine, resetInit: () => (initPromise = null) };
}

/** Builds every part in dependency order. */
export function composeScheduler(options: SchedulerOptions<SchemaMap>, resolved: ResolvedOptions): SchedulerParts {
  const { engine, resetInit } = buildCore(options, resolved);
  const { clock } = resolved;
  const health = new Health(engine);
  const changes = new LocalChanges();
  const storeWatch = new StoreWatch(clock);
  const reporter = (loop: ReportingLoop): Reporter => watchedReporter(loopReporter(loop, health, engine.events), storeWatch);
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
  const dispatcher = new Dispatcher(engine, reporter('dispatcher'), new ClaimAtFire(engine, executor, retries), retries, wakeups, changes);
  const recovery = new LeaseRecovery(engine, writer, reporter('dispatcher'), storeWatch, (at) => wakeups.at(at));
  const waiting = new WaitingRunsCounter(engine);
  const snapshot = (): MetricsSnapshot =>
    engine.metrics.snapshot(engine.now(), resolved.instanceId, { running: executor.running, queueDepth: dispatcher.depth }, waiting.counts());
  // The maintenance loop reports as the dispatcher, as it always has (`dispatcher:claimExpiredLeases`).
  const loop = new MaintenanceLoop(engine, reporter('dispatcher'), { dispatcher, executor, recovery }, waiting, { set: (active) => (health.notifications = active) }, snapshot);
  const api: ApiContext = {
    ...engine,
    wake: (at) => (at && at.getTime() > clock.now() ? wakeups.at(at.getTime()) : wakeups.now()),
    triggerChanged: (trigger, id) => changes.triggerChanged(trigger, id),
  };
  const lifecycle = lifecycleOf(engine, { storeWatch, dispatcher, executor, loop }, resetInit);
  return { engine, api, lifecycle, executor, dispatcher, health, waiting, snapshot, cancelLocal: (id) => capacity.cancel(id) };
}

/** Start and stop, in the order the parts depend on each other. */
function lifecycleOf(
  engine: Engine,
  parts: { storeWatch: StoreWatch; dispatcher: Dispatcher; executor: Executor; loop: MaintenanceLoop },
  resetInit: () => void,
): Lifecycle<StopOptions> {
  const { storeWatch, dispatcher, executor, loop } = parts;
  const { instanceId } = engine.options;
  return new Lifecycle<StopOptions>(
    {
      async start() {
        try {
          await engine.ready();
        } catch (error) {
          resetInit();
          throw error;
        }
        storeWatch.reset();
        dispatcher.start();
        executor.start();
        await loop.start();
        engine.events.emit('scheduler:started', { instanceId });
      },
      async stop(stopOptions, wasStarted) {
        await loop.stop();
        await dispatcher.stop();
        await executor.stop(stopOptions.graceMs ?? 10_000);
        await engine.locks.close();
        await engine.store.close();
        resetInit();
        if (wasStarted) engine.events.emit('scheduler:stopped', { instanceId });
      },
    },
    engine.options.keepAlive,
  );
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
