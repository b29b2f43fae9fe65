/**
 * Retries (R5): backoff measured from each failure, the final failure, jitter bounds,
 * non-retryable errors, and which retry settings win.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { z } from 'zod';
import { NonRetryableError, exponentialBackoff, seededRandom, type RandomSource, type RetryOptions, type TaskContext } from 'punctual';
import { TestClock } from 'punctual/testing';
import { MINUTE, T0, advanceUntil, record, sleepOn, testScheduler, waitForEvent } from './helpers.js';

interface Attempt {
  runId: string;
  attempt: number;
  startedAt: number;
}

/** A scheduler whose `flaky` handler works 500 ms on the test clock, then throws `error()`. */
function failing(options: { retry?: RetryOptions; handlerRetry?: RetryOptions; error?: () => Error; random?: RandomSource } = {}) {
  const attempts: Attempt[] = [];
  const clock = new TestClock(T0);
  const setup = testScheduler({
    clock,
    ...(options.retry ? { retry: options.retry } : {}),
    ...(options.random ? { random: options.random } : {}),
    handlers: {
      flaky: {
        schema: z.object({}),
        ...(options.handlerRetry ? { retry: options.handlerRetry } : {}),
        run: async (_payload: unknown, ctx: TaskContext) => {
          attempts.push({ runId: ctx.runId, attempt: ctx.attempt, startedAt: clock.now() });
          await sleepOn(clock, 500);
          throw (options.error ?? (() => new Error('boom')))();
        },
      },
    },
  });
  return { ...setup, attempts };
}

describe('retries', () => {
  it('retries 1 s, 2 s, 4 s after each failure, then fails once for good', async () => {
    const { scheduler, clock, attempts } = failing({ retry: { maxRetries: 3, initialDelayMs: 1_000, multiplier: 2, jitter: 0 } });
    const failed = record(scheduler, 'run:failed');
    const retrying = record(scheduler, 'run:retrying');
    await scheduler.start();
    const slot = T0 + MINUTE;
    const trigger = await scheduler.triggers.create({ name: 'flaky', owner: 'u1', taskType: 'flaky', payload: {}, schedule: { at: new Date(slot) } });
    const done = waitForEvent(scheduler, 'run:failed', undefined, clock);
    const { run } = await advanceUntil(clock, done);
    await clock.advance(60_000);

    // Each attempt fails 500 ms after it starts; the next one starts `delay` after that failure.
    expect(attempts.map((a) => a.startedAt - slot)).toEqual([0, 500 + 1_000, 1_500 + 500 + 2_000, 4_000 + 500 + 4_000]);
    expect(attempts.map((a) => a.attempt)).toEqual([1, 2, 3, 4]);
    expect(new Set(attempts.map((a) => a.runId))).toEqual(new Set([run.id]));
    expect(run.scheduledFor.getTime()).toBe(slot);
    expect(retrying.map((e) => [e.nextAttempt, e.retryAt.getTime() - slot])).toEqual([[2, 1_500], [3, 4_000], [4, 8_500]]);
    expect(failed).toHaveLength(1);
    expect(failed[0]?.error).toEqual({ name: 'Error', message: 'boom' });

    const final = await scheduler.runs.get(run.id);
    expect(final.status).toBe('failed');
    expect(final.attempt).toBe(4);
    expect(final.attempts.map((a) => [a.attempt, a.outcome])).toEqual([[1, 'retry'], [2, 'retry'], [3, 'retry'], [4, 'failed']]);
    expect(final.error).toEqual({ name: 'Error', message: 'boom' });
    expect((await scheduler.runs.list({ triggerId: trigger.id })).items.length).toBe(1);
    await scheduler.stop();
  });

  it('keeps jittered delays within +-20% of the backoff, reproducibly for a seed', async () => {
    const retry = { maxRetries: 5, initialDelayMs: 1_000, multiplier: 2, jitter: 0.2 };
    const delaysOf = async (seed: number): Promise<number[]> => {
      const { scheduler, clock, attempts } = failing({ retry, random: seededRandom(seed) });
      await scheduler.start();
      const trigger = await scheduler.triggers.create({ name: 'flaky', owner: 'u1', taskType: 'flaky', payload: {}, schedule: { manual: true } });
      const done = waitForEvent(scheduler, 'run:failed', undefined, clock);
      await scheduler.triggers.runNow(trigger.id);
      await advanceUntil(clock, done);
      await scheduler.stop();
      return attempts.slice(1).map((a, i) => a.startedAt - ((attempts[i] as Attempt).startedAt + 500));
    };
    const delays = await delaysOf(42);
    expect(delays).toHaveLength(5);
    delays.forEach((delay, i) => {
      const base = 1_000 * 2 ** i;
      expect(delay).toBeGreaterThanOrEqual(base * 0.8);
      expect(delay).toBeLessThanOrEqual(base * 1.2);
    });
    expect(new Set(delays.map((d, i) => d / 2 ** i)).size).toBeGreaterThan(1); // really jittered
    expect(await delaysOf(42)).toEqual(delays);
  });

  it('exponentialBackoff stays within +-jitter of the base for any seed and attempt', () => {
    fc.assert(
      fc.property(fc.integer(), fc.integer({ min: 1, max: 10 }), fc.double({ min: 0, max: 0.2, noNaN: true }), (seed, attempt, jitter) => {
        const policy = exponentialBackoff({ maxRetries: 10, initialDelayMs: 1_000, multiplier: 2, maxDelayMs: 60_000, jitter });
        const base = Math.min(60_000, 1_000 * 2 ** (attempt - 1));
        const delay = policy({ attempt, error: new Error('x'), random: seededRandom(seed) });
        expect(delay).not.toBeNull();
        expect(Math.abs((delay as number) - base)).toBeLessThanOrEqual(base * jitter + 0.5);
      }),
    );
  });

  it('fails at once on a NonRetryableError', async () => {
    const { scheduler, clock, attempts } = failing({ retry: { maxRetries: 3, jitter: 0 }, error: () => new NonRetryableError('template is gone') });
    const retrying = record(scheduler, 'run:retrying');
    await scheduler.start();
    const trigger = await scheduler.triggers.create({ name: 'flaky', owner: 'u1', taskType: 'flaky', payload: {}, schedule: { manual: true } });
    const failed = waitForEvent(scheduler, 'run:failed', undefined, clock);
    const run = await scheduler.triggers.runNow(trigger.id);
    const event = await advanceUntil(clock, failed);
    await clock.advance(60_000);
    expect(event.error).toEqual({ name: 'NonRetryableError', message: 'template is gone' });
    expect(attempts).toHaveLength(1);
    expect(retrying).toHaveLength(0);
    const final = await scheduler.runs.get(run.id);
    expect(final.status).toBe('failed');
    expect(final.attempts.map((a) => a.outcome)).toEqual(['failed']);
    await scheduler.stop();
  });

  it('fails a run whose result cannot be stored, at once, without blocking other outcomes', async () => {
    let calls = 0;
    const { scheduler, clock } = testScheduler({
      handlers: {
        circular: {
          schema: z.object({}),
          run: () => {
            calls++;
            const result: Record<string, unknown> = {};
            result.self = result;
            return result;
          },
        },
        fine: { schema: z.object({}), run: () => ({ ok: true }) },
      },
    });
    await scheduler.start();
    const bad = await scheduler.triggers.create({ name: 'bad', owner: 'u1', taskType: 'circular', payload: {}, schedule: { manual: true } });
    const good = await scheduler.triggers.create({ name: 'good', owner: 'u1', taskType: 'fine', payload: {}, schedule: { manual: true } });
    const badRun = await scheduler.triggers.runNow(bad.id);
    const goodRun = await scheduler.triggers.runNow(good.id);
    await clock.advance(2 * MINUTE);
    expect(await scheduler.runs.get(goodRun.id)).toMatchObject({ status: 'completed', result: { ok: true } });
    const failed = await scheduler.runs.get(badRun.id);
    expect(failed).toMatchObject({ status: 'failed', attempt: 1, error: { name: 'NonRetryableError' } });
    expect(failed.error?.message).toMatch(/cannot be stored/);
    expect(calls).toBe(1);
    expect(scheduler.metrics().counters.storeErrors).toBe(0);
    await scheduler.stop();
  });

  it('uses the trigger override over the handler and scheduler settings, and the handler over the scheduler', async () => {
    const { scheduler, clock, attempts } = failing({
      retry: { maxRetries: 5, initialDelayMs: 10_000, jitter: 0 },
      handlerRetry: { maxRetries: 2, initialDelayMs: 3_000, multiplier: 1, jitter: 0 },
    });
    await scheduler.start();
    const overridden = await scheduler.triggers.create({
      name: 'override', owner: 'u1', taskType: 'flaky', payload: {}, schedule: { manual: true },
      retry: { maxRetries: 1, initialDelayMs: 200, jitter: 0 },
    });
    const plain = await scheduler.triggers.create({ name: 'plain', owner: 'u1', taskType: 'flaky', payload: {}, schedule: { manual: true } });

    const first = waitForEvent(scheduler, 'run:failed', (e) => e.run.triggerId === overridden.id, clock);
    const a = await scheduler.triggers.runNow(overridden.id);
    expect(a.maxAttempts).toBe(2);
    await advanceUntil(clock, first);
    expect(attempts.map((x) => x.startedAt - T0)).toEqual([0, 700]);

    attempts.length = 0;
    const start = clock.now();
    const second = waitForEvent(scheduler, 'run:failed', (e) => e.run.triggerId === plain.id, clock);
    const b = await scheduler.triggers.runNow(plain.id);
    expect(b.maxAttempts).toBe(3);
    await advanceUntil(clock, second);
    expect(attempts.map((x) => x.startedAt - start)).toEqual([0, 3_500, 7_000]);
    await scheduler.stop();
  });

  it('rejects maxRetries above 10 on triggers, handlers and the scheduler', async () => {
    const { scheduler } = failing();
    await expect(
      scheduler.triggers.create({ name: 'x', owner: 'u1', taskType: 'flaky', payload: {}, schedule: { manual: true }, retry: { maxRetries: 11 } }),
    ).rejects.toMatchObject({ name: 'ValidationError', issues: [{ path: 'retry.maxRetries' }] });
    expect((await scheduler.triggers.list()).items.length).toBe(0);
    expect(() => failing({ retry: { maxRetries: 11 } })).toThrow(expect.objectContaining({ name: 'ConfigurationError' }));
    expect(() => failing({ handlerRetry: { maxRetries: 11 } })).toThrow(expect.objectContaining({ name: 'ConfigurationError' }));
    expect(() => exponentialBackoff({ maxRetries: 11 })).toThrow(expect.objectContaining({ name: 'ValidationError' }));
  });
});
