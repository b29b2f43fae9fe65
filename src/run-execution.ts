import type { ActiveRun } from './active-run.js';
import type { TimerHandle } from './clock.js';
import { NonRetryableError, TimeoutError } from './errors.js';
import type { FinishWriter } from './finish-writer.js';
import type { Lock } from './locks/types.js';
import type { Metrics } from './metrics.js';
import { planOutcome, type FinishWrite, type HandlerOutcome, type OutcomeContext, type OutcomeHooks } from './outcome.js';
import type { ResolvedOptions } from './options.js';
import type { OverlapDecision } from './overlap.js';
import type { HandlerRegistry, TaskContext } from './registry.js';
import type { Reporter } from './reporter.js';
import { raceAbort, unstorable } from './run-abort.js';
import type { RunFinish } from './stores/types.js';
import type { RunError, RunRecord } from './types.js';
import type { Wakeups } from './wake-timers.js';

/** What running a run reads: the outcome planner's context, the handlers, and its timing options. */
export type RunExecutionContext = OutcomeContext & {
  readonly registry: Pick<HandlerRegistry, 'get' | 'validate'>;
  readonly metrics: Metrics;
  readonly options: Pick<ResolvedOptions, 'clock' | 'pollIntervalMs'>;
};

/** What running a run draws on besides its context: locks, the handler's context, auto-pause, wake-ups. Built by `createScheduler`. */
export interface RunParts {
  /** Takes the trigger's lock, or applies the overlap policy (`decideOverlap`). */
  decideOverlap(run: RunRecord, token: string, now: Date): Promise<OverlapDecision>;
  releaseLock(lock: Lock): Promise<unknown>;
  /** What the handler gets besides its payload (`taskContext`). */
  taskContext(active: ActiveRun): TaskContext;
  /** Counts an outcome toward the trigger's auto-pause (`countOutcome`), in the background. */
  countForAutoPause(run: RunRecord, failed: boolean): void;
  readonly wakeups: Pick<Wakeups, 'at'>;
}

/**
 * Runs one claimed run: takes its trigger lock (overlap policies other than `allow`), calls the
 * handler with a timeout and an abort signal, plans the outcome and queues its write under the
 * run's lease token. Runs whose outcome is queued but not yet written are in `writing`: their
 * leases are kept until it is.
 */
export class RunExecution {
  readonly writing = new Set<ActiveRun>();
  private readonly hooks: OutcomeHooks;

  constructor(
    private readonly ctx: RunExecutionContext,
    private readonly parts: RunParts,
    private readonly writer: FinishWriter,
    private readonly reporter: Reporter,
  ) {
    this.hooks = { countForAutoPause: (run, failed) => parts.countForAutoPause(run, failed), wakeAt: (at) => parts.wakeups.at(at) };
  }

  async execute(active: ActiveRun): Promise<void> {
    if (active.run.overlap !== 'allow' && !(await this.takeTriggerLock(active))) return;
    try {
      await this.runHandler(active);
    } finally {
      if (active.lock) {
        const lock = active.lock;
        active.lock = null;
        this.parts.releaseLock(lock).catch((error: unknown) => this.reporter.failed('lock.release', error));
      }
    }
  }

  /** Queues the write; `after` runs once the store accepted it under our lease. */
  finish(active: ActiveRun, finish: FinishWrite, after?: () => void): void {
    // `finish` is a fresh object from the caller: completing it avoids copying it.
    const entry = finish as RunFinish;
    entry.runId = active.run.id;
    entry.token = active.token;
    this.writing.add(active);
    this.writer.write(entry, (held) => {
      this.writing.delete(active);
      if (held) after?.();
      else {
        const { events, metrics, options } = this.ctx;
        metrics.increment('leasesLost');
        events.emit('run:lease-lost', { runId: active.run.id, instanceId: options.instanceId });
      }
    });
  }

  /** Takes the trigger's lock; when another run holds it, applies the overlap policy and returns false. */
  private async takeTriggerLock(active: ActiveRun): Promise<boolean> {
    const { events, metrics, options } = this.ctx;
    const { run } = active;
    const now = new Date(options.clock.now());
    const decision = await this.parts.decideOverlap(run, active.token, now);
    if (decision.kind === 'run') {
      active.lock = decision.lock;
      return true;
    }
    if (decision.kind === 'skip') {
      const error: RunError = { name: 'Skipped', message: decision.reason };
      const expiresAt = new Date(now.getTime() + options.retentionMs);
      this.finish(active, { status: 'skipped', finishedAt: now, durationMs: 0, error, expiresAt }, () => {
        metrics.increment('runsSkipped');
        events.emit('run:skipped', { run: { ...run, status: 'skipped', error }, reason: decision.reason });
      });
      return false;
    }
    const availableAt = now.getTime() + options.pollIntervalMs;
    this.finish(active, { status: 'pending', availableAt: new Date(availableAt), undoAttempt: true });
    this.parts.wakeups.at(availableAt);
    return false;
  }

  private async runHandler(active: ActiveRun): Promise<void> {
    const { events, metrics, options, registry } = this.ctx;
    const { run, controller } = active;
    const startedAt = new Date(options.clock.now());
    const lag = startedAt.getTime() - run.availableAt.getTime();
    metrics.dispatchLag.observe(lag);
    metrics.lastDispatchLagMs = lag;
    metrics.increment('runsStarted');
    if (events.has('run:started')) events.emit('run:started', { run });

    const timeout: TimerHandle = options.clock.setTimeout(
      () => controller.abort(new TimeoutError(`the run exceeded its ${run.timeoutMs} ms limit`)),
      run.timeoutMs,
    );
    let outcome: HandlerOutcome;
    try {
      // Aborted while held or while taking the trigger lock (cancelled, lease lost): not started.
      if (controller.aborted) throw controller.reason;
      const payload = await registry.validate(run.taskType, run.payload);
      const value = await raceAbort(Promise.resolve().then(() => this.invoke(active, payload)), controller);
      const problem = unstorable(value);
      // A result no store can keep would make every write of this outcome fail, forever.
      outcome = problem ? { ok: false, error: new NonRetryableError(`the handler's result cannot be stored (${problem}); return plain JSON-like data`) } : { ok: true, value };
    } catch (error) {
      outcome = { ok: false, error: controller.aborted ? controller.reason : error };
    } finally {
      options.clock.clearTimeout(timeout);
    }
    const finishedAt = new Date(options.clock.now());
    const durationMs = finishedAt.getTime() - startedAt.getTime();
    metrics.runDuration.observe(durationMs);
    const planned = planOutcome(this.ctx, run, outcome, { startedAt, finishedAt, durationMs }, this.hooks);
    if (planned.finish) this.finish(active, planned.finish, planned.after);
    else planned.after?.();
  }

  private invoke(active: ActiveRun, payload: unknown): unknown {
    const handler = this.ctx.registry.get(active.run.taskType);
    if (!handler) throw new TypeError(`no handler registered for task type ${JSON.stringify(active.run.taskType)}`);
    return handler.run(payload, this.parts.taskContext(active));
  }
}
