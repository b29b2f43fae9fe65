import { retryPolicyFor, type RetryPolicyContext } from './engine.js';
import type { EventBus } from './events.js';
import type { Metrics } from './metrics.js';
import type { ResolvedOptions } from './options.js';
import { describeError, isPunctualError, LeaseLostError } from './errors.js';
import type { ExpiredLease, RunFinish } from './stores/types.js';
import type { AttemptRecord, RunError, RunRecord } from './types.js';

/** How a handler ended: its value, or what it threw (or why it was aborted). */
export type HandlerOutcome = { ok: true; value: unknown } | { ok: false; error: unknown };

/** A run's finish without the ids the executor adds. */
export type FinishWrite = DistributiveOmit<RunFinish, 'runId' | 'token'>;
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** What the executor writes for an outcome, and what to do once the store accepted it. */
export interface PlannedOutcome {
  /** Null: nothing to write (the lease is gone). */
  finish: FinishWrite | null;
  after?: () => void;
}

/** What planning an outcome reads: the retry policies, the events and counters it reports, and this instance's settings. */
export interface OutcomeContext extends RetryPolicyContext {
  readonly events: EventBus;
  readonly metrics: Pick<Metrics, 'increment'>;
  readonly options: Pick<ResolvedOptions, 'instanceId' | 'retentionMs' | 'random' | 'retry'>;
}

export interface OutcomeHooks {
  countForAutoPause(run: RunRecord, failed: boolean): void;
  wakeAt(at: number): void;
}

/** The record of the attempt that just ended. */
function attemptOf(ctx: OutcomeContext, run: RunRecord, times: { startedAt: Date; finishedAt: Date }, kind: AttemptRecord['outcome'], error?: RunError): AttemptRecord {
  const record: AttemptRecord = { attempt: run.attempt, instanceId: ctx.options.instanceId, startedAt: times.startedAt, finishedAt: times.finishedAt, outcome: kind };
  if (error) record.error = error;
  return record;
}

/** A final write keeps the run's last progress. */
function withProgress(finish: FinishWrite, run: RunRecord): FinishWrite {
  if (run.progress) (finish as { progress?: RunRecord['progress'] }).progress = run.progress;
  return finish;
}

function plan(finish: FinishWrite, after?: () => void): PlannedOutcome {
  return after ? { finish, after } : { finish };
}

/**
 * Turns a handler's outcome into the run's next state: completed; retried after the policy's
 * delay; failed or timed out for good; cancelled; handed back (shutdown, lost trigger lock); or
 * nothing at all when the lease was lost.
 */
export function planOutcome(ctx: OutcomeContext, run: RunRecord, outcome: HandlerOutcome, times: { startedAt: Date; finishedAt: Date; durationMs: number }, hooks: OutcomeHooks): PlannedOutcome {
  const { finishedAt, durationMs } = times;
  const attempt = (kind: AttemptRecord['outcome'], error?: RunError): AttemptRecord => attemptOf(ctx, run, times, kind, error);
  const expiresAt = new Date(finishedAt.getTime() + ctx.options.retentionMs);
  if (outcome.ok) {
    return plan(withProgress({ status: 'completed', finishedAt, durationMs, result: outcome.value, expiresAt, attemptRecord: attempt('completed') }, run), () => {
      hooks.countForAutoPause(run, false);
      ctx.metrics.increment('runsCompleted');
      // Copying the run for the event is a large part of a short run's cost: only with listeners.
      if (ctx.events.has('run:completed')) ctx.events.emit('run:completed', { run: { ...run, status: 'completed', finishedAt, durationMs }, result: outcome.value, durationMs });
    });
  }
  const error = describeError(outcome.error);
  if (isPunctualError(outcome.error, 'LeaseLostError')) {
    const after = (): void => {
      ctx.metrics.increment('leasesLost');
      ctx.events.emit('run:lease-lost', { runId: run.id, instanceId: ctx.options.instanceId });
    };
    return { finish: null, after };
  }
  if (isPunctualError(outcome.error, 'StoppedError')) {
    return plan({ status: 'pending', availableAt: finishedAt, undoAttempt: true });
  }
  if (isPunctualError(outcome.error, 'CancelledError')) {
    return plan(withProgress({ status: 'cancelled', finishedAt, durationMs, error, expiresAt, attemptRecord: attempt('cancelled', error) }, run), () => {
      ctx.metrics.increment('runsCancelled');
      ctx.events.emit('run:cancelled', { run: { ...run, status: 'cancelled', error }, reason: error.message });
    });
  }
  const timedOut = isPunctualError(outcome.error, 'TimeoutError');
  const retryAt = retryTime(ctx, run, outcome.error, finishedAt);
  if (retryAt) {
    return plan({ status: 'pending', availableAt: retryAt, error, attemptRecord: attempt(timedOut ? 'timed_out' : 'retry', error) }, () => {
      ctx.metrics.increment('runsRetried');
      ctx.events.emit('run:retrying', { run: { ...run, status: 'pending', error }, error, nextAttempt: run.attempt + 1, retryAt });
      hooks.wakeAt(retryAt.getTime());
    });
  }
  const status = timedOut ? 'timed_out' : 'failed';
  return plan(withProgress({ status, finishedAt, durationMs, error, expiresAt, attemptRecord: attempt(status, error) }, run), () => {
    const final = { ...run, status, error, finishedAt, durationMs } as RunRecord;
    hooks.countForAutoPause(run, true);
    if (timedOut) {
      ctx.metrics.increment('runsTimedOut');
      ctx.events.emit('run:timed-out', { run: final, error });
    } else {
      ctx.metrics.increment('runsFailed');
      ctx.events.emit('run:failed', { run: final, error });
    }
  });
}

/**
 * When a failed attempt is tried again: the retry policy's delay after `finishedAt`, or null when
 * the run fails for good (no attempts left, an error that must not be retried, or the policy
 * says stop).
 */
function retryTime(ctx: OutcomeContext, run: RunRecord, error: unknown, finishedAt: Date): Date | null {
  const retryable = !isPunctualError(error, 'NonRetryableError') && !isPunctualError(error, 'ValidationError');
  if (!retryable || run.attempt >= run.maxAttempts) return null;
  const delay = retryPolicyFor(ctx, run.taskType, run.retry)({ attempt: run.attempt, error, random: ctx.options.random });
  return delay === null ? null : new Date(finishedAt.getTime() + delay);
}

/**
 * The fate of a run whose lease expired (its holder died, hung, or lost the store for longer
 * than the lease), taken over at `now`: the lapsed attempt is recorded as `lease_expired`, then
 * the run is retried after the retry policy's backoff like any failed attempt, or failed for
 * good when it has no attempts left. `run:recovered` (and `run:failed`) follow the write.
 */
export function planLeaseExpiry(ctx: OutcomeContext, lease: ExpiredLease, now: Date, hooks: Pick<OutcomeHooks, 'wakeAt'>): PlannedOutcome {
  const { run, expired } = lease;
  const lost = new LeaseLostError(`The lease of instance "${expired.instanceId}" expired at ${expired.expiresAt.toISOString()}.`);
  const error = describeError(lost);
  const startedAt = run.startedAt ?? now;
  const attemptRecord: AttemptRecord = { attempt: run.attempt, instanceId: expired.instanceId, startedAt, finishedAt: now, outcome: 'lease_expired', error };
  const settled = { ...run, lease: null, attempts: [...run.attempts, attemptRecord], error };
  const retryAt = retryTime(ctx, run, lost, now);
  if (retryAt) {
    return plan({ status: 'pending', availableAt: retryAt, error, attemptRecord }, () => {
      ctx.metrics.increment('runsRecovered');
      ctx.events.emit('run:recovered', { run: { ...settled, status: 'pending', availableAt: retryAt }, outcome: 'pending' });
      hooks.wakeAt(retryAt.getTime());
    });
  }
  const durationMs = Math.max(0, now.getTime() - startedAt.getTime());
  const expiresAt = new Date(now.getTime() + ctx.options.retentionMs);
  return plan({ status: 'failed', finishedAt: now, durationMs, error, expiresAt, attemptRecord }, () => {
    const final: RunRecord = { ...settled, status: 'failed', finishedAt: now, durationMs, expiresAt };
    ctx.metrics.increment('runsRecovered');
    ctx.events.emit('run:recovered', { run: final, outcome: 'failed' });
    ctx.events.emit('run:failed', { run: final, error });
  });
}
