import type { ActiveRun } from './active-run.js';
import type { TimerHandle } from './clock.js';
import type { Engine } from './engine.js';
import { CancelledError, LeaseLostError, NonRetryableError, StoppedError, TimeoutError } from './errors.js';
import { countOutcome } from './auto-pause.js';
import { planOutcome, type FinishWrite, type HandlerOutcome } from './outcome.js';
import { decideOverlap } from './overlap.js';
import { raceAbort, RunAbort, unstorable } from './run-abort.js';
import { FinishWriter } from './finish-writer.js';
import { LeaseKeeper } from './lease-keeper.js';
import { randomId } from './random.js';
import type { LocalChanges } from './local-changes.js';
import type { Reporter } from './reporter.js';
import { taskContext } from './task-context.js';
import { typesWithCapacity } from './type-capacity.js';
import type { RunFinish } from './stores/types.js';
import type { RunError, RunRecord } from './types.js';

/**
 * Claims runs up to the free capacity (global and per task type, highest priority first; with
 * `prefetch`, that many more, held until a slot frees), runs their handlers with a timeout and
 * an AbortSignal, keeps their leases, and stores each outcome under the lease token so a stale
 * holder cannot overwrite it.
 */
export class Executor {
  private readonly active = new Map<string, ActiveRun>();
  /** Runs claimed ahead of free capacity, in claim order, waiting for a slot (`prefetch`). */
  private held: ActiveRun[] = [];
  private readonly perType = new Map<string, number>();
  /** Slots promised to runs the dispatcher is creating already claimed (see `claimAtFire`). */
  private reserved = 0;
  private claiming: Promise<void> | null = null;
  private claimAgain = false;
  private accepting = false;
  private renewTimer: TimerHandle | null = null;
  private readonly wakeTimers = new Map<number, TimerHandle>();
  private readonly settled = new Set<Promise<void>>();
  private readonly writer: FinishWriter;
  private readonly leases: LeaseKeeper;

  constructor(
    private readonly engine: Engine,
    private readonly reporter: Reporter,
    private readonly changes: LocalChanges,
  ) {
    this.writer = new FinishWriter(engine, reporter);
    this.leases = new LeaseKeeper(engine, reporter);
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
    this.handBack(this.held.splice(0));
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
    const run = this.active.get(runId) ?? this.held.find((held) => held.run.id === runId);
    run?.controller.abort(new CancelledError('the run was cancelled'));
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
    const { maxConcurrentRuns, prefetch } = engine.options;
    do {
      this.claimAgain = false;
      for (;;) {
        if (!this.accepting) return;
        this.startHeld();
        const free = maxConcurrentRuns - this.active.size - this.reserved;
        // With every slot busy, the hold is refilled once half of it has been started.
        if (free <= 0 && this.held.length > prefetch / 2) break;
        const wanted = free + prefetch - this.held.length;
        if (wanted <= 0) break;
        // Only types with a handler here (and room under their caps): never a run it cannot execute.
        const { types: taskTypes, room } = typesWithCapacity(engine.registry, this.perType);
        if (taskTypes.length === 0) break;
        // One claim may return runs of any listed type, so it must fit the tightest per-type cap.
        const limit = Math.min(wanted, room);
        let runs: RunRecord[];
        const token = randomId(engine.options.random, 16);
        try {
          runs = await engine.store.claimRuns({
            now: engine.now(),
            instanceId: engine.options.instanceId,
            token,
            leaseMs: engine.options.leaseMs,
            limit,
            taskTypes,
          });
          this.reporter.succeeded('claimRuns');
        } catch (error) {
          this.reporter.failed('claimRuns', error);
          return;
        }
        for (const run of runs) this.admit(run, token);
        if (runs.length < limit) {
          this.startHeld();
          break;
        }
      }
    } while (this.claimAgain);
  }

  /**
   * A run the dispatcher is about to create, claimed by this instance at creation when a slot is
   * free and its type has a handler here, under its cap: the claimed record to store instead, or null. The slot
   * stays reserved until `adoptFired` or `releaseFired`. Saves the claim round trip between a
   * slot firing and its handler starting.
   */
  claimAtFire(run: RunRecord, now: Date): RunRecord | null {
    const { options } = this.engine;
    if (!this.accepting || run.status !== 'pending' || run.availableAt.getTime() > now.getTime()) return null;
    if (this.active.size + this.held.length + this.reserved >= options.maxConcurrentRuns) return null;
    const handler = this.engine.registry.get(run.taskType);
    // No handler here: the run is stored pending for an instance that has one.
    if (!handler || (handler.concurrency !== undefined && (this.perType.get(run.taskType) ?? 0) >= handler.concurrency)) return null;
    this.reserved++;
    this.count(run.taskType);
    const lease = { token: randomId(options.random, 16), instanceId: options.instanceId, expiresAt: new Date(now.getTime() + options.leaseMs) };
    return { ...run, status: 'running', attempt: run.attempt + 1, startedAt: now, instanceId: options.instanceId, lease };
  }

  /** A run from `claimAtFire` was stored: it starts here (or, while stopping, goes back to the store). */
  adoptFired(run: RunRecord): void {
    this.reserved--;
    if (!run.lease) return this.release(run.taskType);
    // The reserved slot (and its count against the type's cap) passes to the run: it starts now.
    const active = this.track(run, run.lease.token);
    if (!this.accepting) return this.handBack([active]);
    this.launch(active);
  }

  /** A run from `claimAtFire` was not stored (another instance fired the slot, or the write failed). */
  releaseFired(run: RunRecord): void {
    this.reserved--;
    this.release(run.taskType);
    this.wake();
  }

  /** Takes a claimed run in: it counts against its type's cap from now, and waits in the hold for a slot. */
  private admit(run: RunRecord, token: string): void {
    this.held.push(this.track(run, token));
    this.count(run.taskType);
  }

  private track(run: RunRecord, token: string): ActiveRun {
    const claimedAt = this.engine.now().getTime();
    return {
      run,
      token,
      controller: new RunAbort(),
      lock: null,
      leaseExpiresAt: run.lease?.expiresAt.getTime() ?? claimedAt,
      claimedAt,
      renewingLease: false,
      renewingLock: false,
    };
  }

  /** Starts held runs, oldest first, while slots are free (slots reserved by `claimAtFire` are not). */
  private startHeld(): void {
    const free = this.engine.options.maxConcurrentRuns - this.active.size - this.reserved;
    if (this.held.length === 0 || free <= 0) return;
    const count = Math.min(this.held.length, free);
    const starting = count === this.held.length ? this.held : this.held.slice(0, count);
    this.held = count === this.held.length ? [] : this.held.slice(count);
    for (const active of starting) this.launch(active);
  }

  private launch(active: ActiveRun): void {
    const { run } = active;
    // The run may still be executing here under an older lease that expired (and was recovered):
    // that execution lost its lease, so it stops and its outcome is discarded.
    this.active.get(run.id)?.controller.abort(new LeaseLostError('the run was claimed again after its lease expired'));
    this.active.set(run.id, active);
    const done: Promise<void> = this.execute(active)
      .catch((error: unknown) => this.reporter.failed('execute', error))
      .finally(() => {
        if (this.active.get(run.id) === active) this.active.delete(run.id);
        this.release(run.taskType);
        this.settled.delete(done);
        this.startHeld();
        this.wake();
      });
    this.settled.add(done);
  }

  private count(taskType: string): void {
    this.perType.set(taskType, (this.perType.get(taskType) ?? 0) + 1);
  }

  private release(taskType: string): void {
    this.perType.set(taskType, (this.perType.get(taskType) ?? 1) - 1);
  }

  /** Gives held runs back to the store, as if never claimed (their attempt is undone). */
  private handBack(runs: ActiveRun[]): void {
    const now = this.engine.now();
    for (const active of runs) {
      this.release(active.run.taskType);
      this.finish(active, { status: 'pending', availableAt: now, undoAttempt: true });
    }
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
        engine.locks.release(lock).catch((error: unknown) => this.reporter.failed('lock.release', error));
      }
    }
  }

  /** Takes the trigger's lock; when another run holds it, applies the overlap policy and returns false. */
  private async takeTriggerLock(active: ActiveRun): Promise<boolean> {
    const { engine } = this;
    const { run } = active;
    const now = engine.now();
    const decision = await decideOverlap(engine, run, active.token, now, { reporter: this.reporter, cancelLocal: (runId) => this.cancelLocal(runId) });
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
      // Aborted while held or while taking the trigger lock (cancelled, lease lost): not started.
      if (controller.aborted) throw controller.reason;
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
    const handler = this.engine.registry.get(active.run.taskType);
    if (!handler) throw new TypeError(`no handler registered for task type ${JSON.stringify(active.run.taskType)}`);
    return handler.run(payload, taskContext(this.engine, active));
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
    countOutcome(this.engine, run, failed, this.changes).catch((error: unknown) => this.reporter.failed('autoPause', error));
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
   * Every third of the lease: hands back runs held since the previous round, then renews the
   * leases and trigger locks of every run this instance holds. The timer re-arms at once.
   */
  private armRenewal(): void {
    const interval = Math.max(100, Math.floor(this.engine.options.leaseMs / 3));
    this.renewTimer = this.engine.options.clock.setTimeout(() => {
      this.renewTimer = null;
      const now = this.engine.now();
      const heldSince = now.getTime() - interval;
      if (this.held.some((held) => held.claimedAt <= heldSince)) {
        const stale = this.held.filter((held) => held.claimedAt <= heldSince);
        this.held = this.held.filter((held) => held.claimedAt > heldSince);
        this.handBack(stale);
      }
      this.leases.renewAll([...this.active.values(), ...this.held], now);
      if (this.accepting || this.active.size > 0) this.armRenewal();
    }, interval);
  }
}
