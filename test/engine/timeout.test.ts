/**
 * Execution limits (R4): a handler past its `timeoutMs` has its signal aborted with a
 * TimeoutError and the run ends `timed_out`.
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { untilAborted, record, testScheduler } from './helpers.js';

function waitsOnSignal(timeoutMs = 5_000) {
  const signals: AbortSignal[] = [];
  const setup = testScheduler({
    handlers: {
      wait: {
        schema: z.object({}),
        timeoutMs,
        run: (_p, ctx) => {
          signals.push(ctx.signal);
          return untilAborted(ctx.signal);
        },
      },
    },
  });
  return { ...setup, signals };
}

describe('timeout', () => {
  it('aborts the signal with a TimeoutError after timeoutMs and ends the run timed_out', async () => {
    const { scheduler, clock, signals } = waitsOnSignal();
    const timedOut = record(scheduler, 'run:timed-out');
    const failed = record(scheduler, 'run:failed');
    await scheduler.start();
    const trigger = await scheduler.triggers.create({
      name: 'slow', owner: 'u1', taskType: 'wait', payload: {}, schedule: { manual: true }, retry: { maxRetries: 0 },
    });
    const run = await scheduler.triggers.runNow(trigger.id);
    await clock.advance(4_999);
    expect(signals).toHaveLength(1);
    const signal = signals[0] as AbortSignal;
    expect(signal.aborted).toBe(false);
    expect((await scheduler.runs.get(run.id)).status).toBe('running');

    await clock.advance(1);
    expect(signal.aborted).toBe(true);
    expect(signal.reason).toMatchObject({ name: 'TimeoutError' });
    const final = await scheduler.runs.get(run.id);
    expect(final.status).toBe('timed_out');
    expect(final.error?.name).toBe('TimeoutError');
    expect(final.durationMs).toBe(5_000);
    expect(final.attempts.map((a) => a.outcome)).toEqual(['timed_out']);
    expect(timedOut.map((e) => e.run.id)).toEqual([run.id]);
    expect(timedOut[0]?.error.name).toBe('TimeoutError');
    expect(failed).toHaveLength(0);
    expect(scheduler.metrics().counters.runsTimedOut).toBe(1);
    await scheduler.stop();
  });

  it('retries a timed-out attempt like a failure and ends timed_out when attempts run out', async () => {
    const { scheduler, clock, signals } = waitsOnSignal(1_000);
    const timedOut = record(scheduler, 'run:timed-out');
    await scheduler.start();
    const trigger = await scheduler.triggers.create({
      name: 'slow', owner: 'u1', taskType: 'wait', payload: {}, schedule: { manual: true },
      retry: { maxRetries: 1, initialDelayMs: 500, jitter: 0 },
    });
    const run = await scheduler.triggers.runNow(trigger.id);
    await clock.advance(1_000 + 500 + 1_000);
    expect(signals).toHaveLength(2);
    const final = await scheduler.runs.get(run.id);
    expect(final.status).toBe('timed_out');
    expect(final.attempts.map((a) => a.outcome)).toEqual(['timed_out', 'timed_out']);
    expect(timedOut).toHaveLength(1);
    await scheduler.stop();
  });

  it('uses the trigger timeout over the handler timeout', async () => {
    const { scheduler, clock, signals } = waitsOnSignal(60_000);
    await scheduler.start();
    const trigger = await scheduler.triggers.create({
      name: 'slow', owner: 'u1', taskType: 'wait', payload: {}, schedule: { manual: true }, timeoutMs: 2_000, retry: { maxRetries: 0 },
    });
    const run = await scheduler.triggers.runNow(trigger.id);
    expect(run.timeoutMs).toBe(2_000);
    await clock.advance(2_000);
    expect(signals[0]?.reason).toMatchObject({ name: 'TimeoutError' });
    expect((await scheduler.runs.get(run.id)).status).toBe('timed_out');
    await scheduler.stop();
  });
});
