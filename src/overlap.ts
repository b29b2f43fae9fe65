import type { Lock, LockStore } from './locks/types.js';
import type { ResolvedOptions } from './options.js';
import type { Store } from './stores/types.js';
import type { Reporter } from './reporter.js';
import type { RunRecord } from './types.js';

/** What to do with a claimed run, given its trigger's lock and overlap policy. */
export type OverlapDecision =
  | { kind: 'run'; lock: Lock }
  /** Record the run as skipped. */
  | { kind: 'skip'; reason: string }
  /** Hand the run back to the queue for a later try. */
  | { kind: 'defer' };

/** What the overlap policies need: the lock store, the runs of a trigger, the lease settings. */
export interface OverlapContext {
  readonly locks: Pick<LockStore, 'acquire'>;
  readonly store: Pick<Store, 'listRuns' | 'cancelRun'>;
  readonly options: Pick<ResolvedOptions, 'clock' | 'instanceId' | 'leaseMs' | 'misfireGraceMs' | 'retentionMs'>;
}

export interface OverlapHooks {
  reporter: Reporter;
  /** Aborts a run executing on this instance. */
  cancelLocal: (runId: string) => void;
}

/**
 * Takes the lock `trigger:<id>` for a run (policies other than `allow`); when another run of the
 * trigger holds it, applies the run's overlap policy across instances.
 */
export async function decideOverlap(ctx: OverlapContext, run: RunRecord, token: string, now: Date, hooks: OverlapHooks): Promise<OverlapDecision> {
  let lock: Lock | null;
  try {
    lock = await ctx.locks.acquire({ resource: `trigger:${run.triggerId}`, owner: ctx.options.instanceId, token, ttlMs: ctx.options.leaseMs, now });
  } catch (error) {
    hooks.reporter.failed('lock.acquire', error);
    return { kind: 'defer' };
  }
  hooks.reporter.succeeded('lock.acquire');
  if (lock) return { kind: 'run', lock };
  if (run.overlap === 'skip') return { kind: 'skip', reason: 'the previous run of this trigger was still running' };
  if (run.overlap === 'queue' && (await anotherWaits(ctx, run, now, hooks))) return { kind: 'skip', reason: 'a run of this trigger is already waiting' };
  if (run.overlap === 'cancel-previous') await cancelPrevious(ctx, run, hooks);
  return { kind: 'defer' };
}

/**
 * Overlap `queue` keeps at most one run waiting: a fresh scheduled run is skipped when an older
 * run of the trigger was already waiting when its slot came due. Catch-up runs, manual runs,
 * events and backfills all wait their turn.
 */
async function anotherWaits(ctx: OverlapContext, run: RunRecord, now: Date, hooks: OverlapHooks): Promise<boolean> {
  // Only a fresh slot can be turned away: never a run taken over after a lost lease or retried.
  if (run.source !== 'schedule' || run.attempts.length > 0 || now.getTime() - run.scheduledFor.getTime() > ctx.options.misfireGraceMs) return false;
  try {
    // An older run waits already if it existed before this slot came due (catch-up runs are all
    // created at once, after their slots, and do not count). A waiting run is pending, or
    // `running` for a moment while some instance claims it to recheck the lock: only one run
    // holds the lock, so two older running ones mean one of them waits.
    const older = (status: 'pending' | 'running') => ctx.store.listRuns({ triggerId: run.triggerId, status, to: run.scheduledFor, limit: 10 });
    const [pending, running] = await Promise.all([older('pending'), older('running')]);
    const queued = (r: RunRecord): boolean => r.id !== run.id && r.overlap !== 'allow' && r.createdAt.getTime() <= run.scheduledFor.getTime();
    return pending.some(queued) || running.filter(queued).length >= 2;
  } catch (error) {
    hooks.reporter.failed('listRuns', error);
    return false;
  }
}

/** Overlap `cancel-previous`: asks every running run of the trigger to abort (here at once, elsewhere at its next lease renewal). */
async function cancelPrevious(ctx: OverlapContext, run: RunRecord, hooks: OverlapHooks): Promise<void> {
  try {
    const running = await ctx.store.listRuns({ triggerId: run.triggerId, status: 'running', limit: 100 });
    for (const other of running) {
      if (other.id === run.id) continue;
      await ctx.store.cancelRun(other.id, new Date(ctx.options.clock.now()), ctx.options.retentionMs);
      hooks.cancelLocal(other.id);
    }
  } catch (error) {
    hooks.reporter.failed('cancelRun', error);
  }
}
