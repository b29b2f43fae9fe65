/**
 * Cancelling runs (B6): a pending run is cancelled at once; a running one has its signal
 * aborted with a CancelledError, at once on the instance running it, or at its next lease
 * renewal (leaseMs / 3) when cancelled through another instance.
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { memoryStore, type Store } from 'punctual';
import { TestClock } from 'punctual/testing';
import { SECOND, T0, record, testScheduler, untilAborted } from './helpers.js';

const LEASE_MS = 30 * SECOND;

function waiting(options: { clock?: TestClock; store?: Store; instanceId?: string } = {}) {
  const signals: AbortSignal[] = [];
  const setup = testScheduler({
    ...options,
    leaseMs: LEASE_MS,
    handlers: {
      wait: {
        schema: z.object({}),
        run: (_p, ctx) => {
          signals.push(ctx.signal);
          return untilAborted(ctx.signal);
        },
      },
    },
  });
  return { ...setup, signals };
}

describe('runs.cancel', () => {
  it('cancels a pending run at once; it never starts', async () => {
    const { scheduler, clock, signals } = waiting();
    const cancelled = record(scheduler, 'run:cancelled');
    const trigger = await scheduler.triggers.create({ name: 'w', owner: 'u1', taskType: 'wait', payload: {}, schedule: { manual: true } });
    const run = await scheduler.triggers.runNow(trigger.id);
    const result = await scheduler.runs.cancel(run.id);
    expect(result).toMatchObject({ id: run.id, status: 'cancelled' });
    expect(cancelled.map((e) => e.run.id)).toEqual([run.id]);

    await scheduler.start();
    await clock.advance(10 * SECOND);
    expect(signals).toHaveLength(0);
    expect(await scheduler.runs.get(run.id)).toMatchObject({ status: 'cancelled', attempt: 0, finishedAt: new Date(T0) });
    await expect(scheduler.runs.cancel(run.id)).rejects.toMatchObject({ name: 'ConflictError' });
    await scheduler.stop();
  });

  it('aborts a running handler at once when cancelled through the instance running it', async () => {
    const { scheduler, clock, signals } = waiting();
    const cancelled = record(scheduler, 'run:cancelled');
    await scheduler.start();
    const trigger = await scheduler.triggers.create({ name: 'w', owner: 'u1', taskType: 'wait', payload: {}, schedule: { manual: true } });
    const run = await scheduler.triggers.runNow(trigger.id);
    await clock.advance(2 * SECOND);
    expect(signals).toHaveLength(1);

    const requested = await scheduler.runs.cancel(run.id);
    expect(requested).toMatchObject({ status: 'running', cancelRequested: true });
    await clock.advance(0);
    expect(signals[0]?.aborted).toBe(true);
    expect(signals[0]?.reason).toMatchObject({ name: 'CancelledError' });
    const final = await scheduler.runs.get(run.id);
    expect(final).toMatchObject({ status: 'cancelled', durationMs: 2 * SECOND, error: { name: 'CancelledError' } });
    expect(final.attempts.map((a) => a.outcome)).toEqual(['cancelled']);
    expect(cancelled).toHaveLength(1);

    await clock.advance(60 * SECOND);
    expect(signals).toHaveLength(1); // a cancelled run is not retried
    await scheduler.stop();
  });

  it('aborts a handler running on another instance at its next lease renewal', async () => {
    const clock = new TestClock(T0);
    const store = memoryStore();
    const worker = waiting({ clock, store, instanceId: 'worker' });
    const api = waiting({ clock, store, instanceId: 'api' });
    await worker.scheduler.start(); // only the worker runs handlers; the api instance is never started
    const trigger = await api.scheduler.triggers.create({ name: 'w', owner: 'u1', taskType: 'wait', payload: {}, schedule: { manual: true } });
    const run = await api.scheduler.triggers.runNow(trigger.id);
    await clock.advance(SECOND); // the worker's poll claims it
    expect(worker.signals).toHaveLength(1);
    const signal = worker.signals[0] as AbortSignal;
    const started = clock.now();

    await api.scheduler.runs.cancel(run.id);
    const renewal = LEASE_MS / 3;
    await clock.advance(renewal - (started - T0) - 1);
    expect(signal.aborted).toBe(false);
    await clock.advance(1);
    expect(signal.aborted).toBe(true);
    expect(signal.reason).toMatchObject({ name: 'CancelledError' });
    expect(await api.scheduler.runs.get(run.id)).toMatchObject({ status: 'cancelled', instanceId: 'worker' });
    await worker.scheduler.stop();
  });

  it('scopes cancellation to the owner and audits it', async () => {
    const { scheduler } = waiting();
    const trigger = await scheduler.triggers.create({ name: 'w', owner: 'u1', taskType: 'wait', payload: {}, schedule: { manual: true } });
    const run = await scheduler.triggers.runNow(trigger.id);
    await expect(scheduler.forOwner('u2').runs.cancel(run.id)).rejects.toMatchObject({ name: 'NotFoundError' });
    await scheduler.forOwner('u1').runs.cancel(run.id);
    const [entry] = (await scheduler.audit.list({ action: 'run.cancel' })).items;
    expect(entry).toMatchObject({ actor: 'u1', runId: run.id, triggerId: trigger.id });
  });
});
