import type { TimerHandle } from './clock.js';
import type { Engine } from './engine.js';
import { CancelledError, LeaseLostError, NonRetryableError, StoppedError, TimeoutError } from './errors.js';
import { countOutcome } from './auto-pause.js';
import { planOutcome, type FinishWrite, type HandlerOutcome } from './outcome.js';
import { decideOverlap } from './overlap.js';
import { raceAbort, RunAbort, unstorable } from './run-abort.js';
import { FinishWriter } from './finish-writer.js';
import type { Lock } from './locks/types.js';
import { randomId } from './random.js';
import type { TaskContext } from './registry.js';
import type { RunFinish } from './stores/types.js';
import type { RunError, RunRecord } from './types.js';

/** A run executing on this instance. */
interface ActiveRun {
  run: RunRecord;
  token: string;
  controller: RunAbort;
  lock: Lock | null;
  leaseExpiresAt: number;
  /** A lease or lock renewal of this run is in flight: a slow store must not stack them up. */
  renewingLease: boolean;
  renewingLock: boolean;
}

/**
 * Claims runs up to the free capacity (global and per task type, highest priority first), runs
 * their handlers with a timeout and an AbortSignal, renews their leases, and stores each outcome
 * under the lease token so a stale holder cannot overwrite it.
 */
export class Executor {
  private readonly active = new Map<string, ActiveRun>();
  private readonly perType = new Map<string, number>();
  private claiming: Promise<void> | null = null;
  private claimAgain = false;
  private accepting = false;
  private renewTimer: TimerHandle | null = null;
  private readonly wakeTimers = new Map<number, TimerHandle>();
  private readonly settled = new Set<Promise<void>>();
  private readonly writer: FinishWriter;

  constructor(
    private readonly engine: Engine,
    private readonly reportError: (operation: string, error: unknown) => void,
    private readonly reportOk: (operation: string) => void,
  ) {
    this.writer = new FinishWriter(engine, reportError, reportOk);
  }

  get running(): number {
    return this.active.size;
  }

  start(): void {
    this.accepting = true;
    this.armRenewal();
  }

  /** Stops claiming; lets handlers finish for `graceMs`, then aborts the rest and hands their runs back. */
  async stop(graceMs: number): Promise<void> {
    this.accepting = false;
    for (const timer of this.wakeTimers.values()) this.engine.options.clock.clearTimeout(timer);
    this.wakeTimers.clear();
    await this.claiming;
    if (this.settled.size > 0 && graceMs > 0) {
      let graceTimer: TimerHandle | null = null;
      await Promise.race([
        Promise.allSettled([...this.settled]),
        new Promise<void>((resolve) => (graceTimer = this.engine.options.clock.setTimeout(resolve, graceMs))),
      ]);
      if (graceTimer) this.engine.options.clock.clearTimeout(graceTimer);
    }
    for (const active of this.active.values()) active.controller.abort(new StoppedError('the scheduler is stopping'));
    await Promise.allSettled([...this.settled]);
    if (this.renewTimer) this.engine.options.clock.clearTimeout(this.renewTimer);
    this.renewTimer = null;
    // Through a store outage, outcomes cannot be written: wait at most a lease, then leave them;
    // those runs are recovered by another instance once their leases expire.
    let drainTimer: TimerHandle | null = null;
    await Promise.race([
      this.writer.drain(),
      new Promise<void>((resolve) => (drainTimer = this.engine.options.clock.setTimeout(resolve, this.engine.options.leaseMs))),
    ]);
    if (drainTimer) this.engine.options.clock.clearTimeout(drainTimer);
    this.writer.abandon();
  }

  /** Aborts a run executing here (cancel requested through this instance). */
  cancelLocal(runId: string): void {
    this.active.get(runId)?.controller.abort(new CancelledError('the run was cancelled'));
  }

  /** Claims as much work as there is capacity for; calls made during a claim coalesce into one more. */
  wake(): void {
    if (!this.accepting) return;
    if (this.claiming) {
      this.claimAgain = true;
      return;
    }
    this.claiming = this.claimLoop().finally(() => {
      this.claiming = null;
    });
  }

  /** Wakes at `at` (a retry or a deferral coming due), at most one timer per instant. */
  wakeAt(at: number): void {
    if (!this.accepting || this.wakeTimers.has(at)) return;
    const timer = this.engine.options.clock.setTimeout(() => {
      this.wakeTimers.delete(at);
      // Node timers may fire a millisecond before the wall clock reaches `at`.
      if (this.engine.now().getTime() < at) this.wakeAt(at);
      else this.wake();
    }, at - this.engine.now().getTime());
    this.wakeTimers.set(at, timer);
  }

  private async claimLoop(): Promise<void> {
    const { engine } = this;
    // Handlers that finish together each call wake(): let the others of this round of
    // microtasks free their slots first, so one claim fills them all instead of claiming one
    // run, then the rest.
    await Promise.resolve();
    do {
      this.claimAgain = false;
      for (;;) {
        if (!this.accepting) return;
        const free = engine.options.maxConcurrentRuns - this.active.size;
        if (free <= 0) break;
        const capacity = this.typesWithCapacity();
        if (capacity && capacity.types.length === 0) break;
        const taskTypes = capacity?.types;
        // One claim may return runs of any listed type, so it must fit the tightest per-type cap.
        const limit = Math.min(free, capacity?.room ?? free);
        let runs: RunRecord[];
        const token = randomId(engine.options.random, 16);
        try {
          runs = await engine.store.claimRuns({
            now: engine.now(),
            instanceId: engine.options.instanceId,
            token,
            leaseMs: engine.options.leaseMs,
            limit,
            ...(taskTypes ? { taskTypes } : {}),
          });
          this.reportOk('claimRuns');
        } catch (error) {
          this.reportError('claimRuns', error);
          return;
        }
        for (const run of runs) this.launch(run, token);
        if (runs.length < limit) break;
      }
    } while (this.claimAgain);
  }

  /**
   * Task types with free per-type capacity and the smallest free room among the capped ones,
   * or undefined when no type is capped.
   */
  private typesWithCapacity(): { types: string[]; room: number } | undefined {
    const { registry } = this.engine;
    let capped = false;
    let room = Number.POSITIVE_INFINITY;
    const types: string[] = [];
    for (const type of registry.types) {
      const limit = registry.get(type)?.concurrency;
      if (limit === undefined) types.push(type);
      else {
        capped = true;
        const left = limit - (this.perType.get(type) ?? 0);
        if (left > 0) {
          types.push(type);
          room = Math.min(room, left);
        }
      }
    }
    return capped ? { types, room } : undefined;
  }

  private launch(run: RunRecord, token: string): void {
    const active: ActiveRun = {
      run,
      token,
      controller: new RunAbort(),
      lock: null,
      leaseExpiresAt: (run.lease?.expiresAt ?? this.engine.now()).getTime(),
      renewingLease: false,
      renewingLock: false,
    };
    // The run may still be executing here under an older lease that expired (and was recovered):
    // that execution lost its lease, so it stops and its outcome is discarded.
    this.active.get(run.id)?.controller.abort(new LeaseLostError('the run was claimed again after its lease expired'));
    this.active.set(run.id, active);
    this.perType.set(run.taskType, (this.perType.get(run.taskType) ?? 0) + 1);
    const done: Promise<void> = this.execute(active)
      .catch((error: unknown) => this.reportError('execute', error))
      .finally(() => {
        if (this.active.get(run.id) === active) this.active.delete(run.id);
        this.perType.set(run.taskType, (this.perType.get(run.taskType) ?? 1) - 1);
        this.settled.delete(done);
        this.wake();
      });
    this.settled.add(done);
  }

  private async execute(active: ActiveRun): Promise<void> {
    const { engine } = this;
    const { run } = active;
    if (run.overlap !== 'allow' && !(await this.takeTriggerLock(active))) return;
    try {
      await this.runHandler(active);
    } finally {
      if (active.lock) {
        const lock = active.lock;
        active.lock = null;
        engine.locks.release(lock).catch((error: unknown) => this.reportError('lock.release', error));
      }
    }
  }

  /** Takes the trigger's lock; when another run holds it, applies the overlap policy and returns false. */
  private async takeTriggerLock(active: ActiveRun): Promise<boolean> {
    const { engine } = this;
    const { run } = active;
    const now = engine.now();
    const decision = await decideOverlap(engine, run, active.token, now, {
      reportError: this.reportError,
      reportOk: this.reportOk,
      cancelLocal: (runId) => this.cancelLocal(runId),
    });
    if (decision.kind === 'run') {
      active.lock = decision.lock;
      return true;
    }
    if (decision.kind === 'skip') {
      const error: RunError = { name: 'Skipped', message: decision.reason };
      this.finish(active, { status: 'skipped', finishedAt: now, durationMs: 0, error, expiresAt: this.expiry(now) }, () => {
        engine.metrics.increment('runsSkipped');
        engine.events.emit('run:skipped', { run: { ...run, status: 'skipped', error }, reason: decision.reason });
      });
      return false;
    }
    const availableAt = now.getTime() + engine.options.pollIntervalMs;
    this.finish(active, { status: 'pending', availableAt: new Date(availableAt), undoAttempt: true });
    this.wakeAt(availableAt);
    return false;
  }

  private async runHandler(active: ActiveRun): Promise<void> {
    const { engine } = this;
    const { run, controller } = active;
    const startedAt = engine.now();
    const lag = startedAt.getTime() - run.availableAt.getTime();
    engine.metrics.dispatchLag.observe(lag);
    engine.metrics.lastDispatchLagMs = lag;
    engine.metrics.increment('runsStarted');
    engine.events.emit('run:started', { run });

    const timeout = engine.options.clock.setTimeout(
      () => controller.abort(new TimeoutError(`the run exceeded its ${run.timeoutMs} ms limit`)),
      run.timeoutMs,
    );
    let outcome: { ok: true; value: unknown } | { ok: false; error: unknown };
    try {
      const payload = await engine.registry.validate(run.taskType, run.payload);
      const value = await raceAbort(Promise.resolve().then(() => this.invoke(active, payload)), controller);
      const problem = unstorable(value);
      // A result no store can keep would make every write of this outcome fail, forever.
      outcome = problem ? { ok: false, error: new NonRetryableError(`the handler's result cannot be stored (${problem}); return plain JSON-like data`) } : { ok: true, value };
    } catch (error) {
      outcome = { ok: false, error: controller.aborted ? controller.reason : error };
    } finally {
      engine.options.clock.clearTimeout(timeout);
    }
    const finishedAt = engine.now();
    const durationMs = finishedAt.getTime() - startedAt.getTime();
    engine.metrics.runDuration.observe(durationMs);
    this.settle(active, outcome, startedAt, finishedAt, durationMs);
  }

  private invoke(active: ActiveRun, payload: unknown): unknown {
    const { engine } = this;
    const { run, controller, token } = active;
    const handler = engine.registry.get(run.taskType);
    if (!handler) throw new TypeError(`no handler registered for task type ${JSON.stringify(run.taskType)}`);
    const ctx: TaskContext = {
      runId: run.id,
      triggerId: run.triggerId,
      triggerName: run.triggerName,
      owner: run.owner,
      taskType: run.taskType,
      attempt: run.attempt,
      maxAttempts: run.maxAttempts,
      scheduledFor: run.scheduledFor,
      source: run.source,
      get signal() {
        return controller.signal;
      },
      ...(run.event ? { event: run.event } : {}),
      progress: async (percent: number, note?: string) => {
        if (!(typeof percent === 'number' && percent >= 0 && percent <= 100)) throw new RangeError('progress must be a number from 0 to 100');
        const progress = { percent, ...(note !== undefined ? { note: String(note).slice(0, 500) } : {}), at: engine.now() };
        run.progress = progress;
        await engine.store.setProgress(run.id, token, progress);
        engine.events.emit('run:progress', { run, percent, ...(note !== undefined ? { note } : {}) });
      },
    };
    return handler.run(payload, ctx);
  }

  /** Writes the outcome of an attempt (see `planOutcome`). */
  private settle(active: ActiveRun, outcome: HandlerOutcome, startedAt: Date, finishedAt: Date, durationMs: number): void {
    const planned = planOutcome(this.engine, active.run, outcome, { startedAt, finishedAt, durationMs }, {
      countForAutoPause: (run, failed) => this.countForAutoPause(run, failed),
      wakeAt: (at) => this.wakeAt(at),
    });
    if (planned.finish) this.finish(active, planned.finish, planned.after);
    else planned.after?.();
  }

  private countForAutoPause(run: RunRecord, failed: boolean): void {
    if (run.pauseAfterFailures === undefined) return;
    countOutcome(this.engine, run, failed).catch((error: unknown) => this.reportError('autoPause', error));
  }

  private expiry(at: Date): Date {
    return new Date(at.getTime() + this.engine.options.retentionMs);
  }

  /** Queues the write; `after` runs once the store accepted it under our lease. */
  private finish(active: ActiveRun, finish: FinishWrite, after?: () => void): void {
    // `finish` is a fresh object from the caller: completing it avoids copying it.
    const entry = finish as RunFinish;
    entry.runId = active.run.id;
    entry.token = active.token;
    this.writer.write(entry, (held) => {
      if (held) after?.();
      else {
        this.engine.metrics.increment('leasesLost');
        this.engine.events.emit('run:lease-lost', { runId: active.run.id, instanceId: this.engine.options.instanceId });
      }
    });
  }

  /**
   * Renews every held lease and trigger lock at a third of the lease time. The timer re-arms at
   * once, and lease and lock renewals run apart, so a slow lock store cannot hold up leases.
   */
  private armRenewal(): void {
    const interval = Math.max(100, Math.floor(this.engine.options.leaseMs / 3));
    this.renewTimer = this.engine.options.clock.setTimeout(() => {
      this.renewTimer = null;
      this.renewAll();
      if (this.accepting || this.active.size > 0) this.armRenewal();
    }, interval);
  }

  private renewAll(): void {
    const now = this.engine.now();
    for (const active of this.active.values()) {
      if (now.getTime() >= active.leaseExpiresAt) {
        active.controller.abort(new LeaseLostError('the lease expired before it could be renewed'));
        continue;
      }
      if (!active.renewingLease) void this.renewLease(active, now);
      if (active.lock && !active.renewingLock) void this.renewLock(active, now);
    }
  }

  private async renewLease(active: ActiveRun, now: Date): Promise<void> {
    const { engine } = this;
    const expiresAt = new Date(now.getTime() + engine.options.leaseMs);
    active.renewingLease = true;
    try {
      const renewal = await engine.store.renewLease(active.run.id, active.token, expiresAt);
      this.reportOk('renewLease');
      if (!renewal.held) return active.controller.abort(new LeaseLostError('another instance holds this run now'));
      active.leaseExpiresAt = expiresAt.getTime();
      if (renewal.cancelRequested) active.controller.abort(new CancelledError('the run was cancelled'));
    } catch (error) {
      this.reportError('renewLease', error);
    } finally {
      active.renewingLease = false;
    }
  }

  /**
   * Keeps the trigger lock. If it was lost (expired, or the lock store forgot it), it is taken
   * again; if another run holds it now, this run stops (as with a lost lease), so two runs of the
   * trigger never go on side by side.
   */
  private async renewLock(active: ActiveRun, now: Date): Promise<void> {
    const { engine } = this;
    const lock = active.lock;
    if (!lock) return;
    active.renewingLock = true;
    try {
      let held = await engine.locks.renew(lock, engine.options.leaseMs, now);
      held ??= await engine.locks.acquire({ resource: lock.resource, owner: lock.owner, token: lock.token, ttlMs: engine.options.leaseMs, now });
      this.reportOk('lock.renew');
      if (held) active.lock = held;
      else {
        // Another run of the trigger holds the lock now: this one stops, and its attempt counts
        // as lost, like a lost lease (the run is retried as its next attempt once the lease lapses).
        active.lock = null;
        active.controller.abort(new LeaseLostError('the trigger lock was lost to another run'));
      }
    } catch (error) {
      this.reportError('lock.renew', error);
    } finally {
      active.renewingLock = false;
    }
  }
}

