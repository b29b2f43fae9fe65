/**
 * Crash recovery (R8): a run claimed by an instance that then died (simulated by claiming it
 * straight through the Store interface and never finishing it) is taken over once its lease
 * expires, as a new attempt of the same run; the dead holder's token is refused afterwards.
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { memoryStore, type TaskContext } from 'punctual';
import { TestClock } from 'punctual/testing';
import { SECOND, T0, record, sleepOn, testScheduler } from './helpers.js';

const LEASE_MS = 30 * SECOND;
const POLL_MS = SECOND;

function liveScheduler() {
  const contexts: TaskContext[] = [];
  const setup = testScheduler({
    leaseMs: LEASE_MS,
    pollIntervalMs: POLL_MS,
    handlers: { job: { schema: z.object({}), run: (_p, ctx) => void contexts.push(ctx) } },
  });
  return { ...setup, contexts };
}

describe('crash recovery', () => {
  it('recovers a dead instance’s run after its lease expires, as attempt 2 of the same run', async () => {
    const { scheduler, clock, store, contexts } = liveScheduler();
    const recovered = record(scheduler, 'run:recovered');
    const trigger = await scheduler.triggers.create({ name: 'job', owner: 'u1', taskType: 'job', payload: {}, schedule: { manual: true } });
    const run = await scheduler.triggers.runNow(trigger.id); // not started yet: the run waits

    const [claimed] = await store.claimRuns({ now: new Date(clock.now()), instanceId: 'dead', token: 'dead-token', leaseMs: LEASE_MS, limit: 10 });
    expect(claimed?.id).toBe(run.id);
    expect(claimed?.attempt).toBe(1);

    await scheduler.start();
    await clock.advance(LEASE_MS - 1);
    expect(contexts).toHaveLength(0); // the lease still holds
    expect((await scheduler.runs.get(run.id)).status).toBe('running');

    await clock.advance(1); // the poll at the lease's expiry takes it over
    expect(recovered.map((e) => [e.run.id, e.outcome])).toEqual([[run.id, 'pending']]);
    // The lapsed attempt is a failed attempt: retried after the retry policy's backoff (1 s +-20%).
    const retryIn = (recovered[0]?.run.availableAt.getTime() ?? 0) - clock.now();
    expect(retryIn).toBeGreaterThanOrEqual(800);
    expect(retryIn).toBeLessThanOrEqual(1_200);
    expect(await scheduler.runs.get(run.id)).toMatchObject({ status: 'pending', error: { name: 'LeaseLostError' } });
    await clock.advance(retryIn - 1);
    expect(contexts).toHaveLength(0);
    await clock.advance(1);
    expect(contexts.map((c) => [c.runId, c.attempt])).toEqual([[run.id, 2]]);

    const final = await scheduler.runs.get(run.id);
    expect(final.status).toBe('completed');
    expect(final.attempt).toBe(2);
    expect(final.instanceId).toBe(scheduler.instanceId);
    expect(final.attempts.map((a) => [a.attempt, a.instanceId, a.outcome])).toEqual([
      [1, 'dead', 'lease_expired'],
      [2, scheduler.instanceId, 'completed'],
    ]);

    // The dead instance wakes up and tries to write its outcome: refused, nothing changes.
    const stale = await store.finishRuns([
      { runId: run.id, token: 'dead-token', status: 'failed', finishedAt: new Date(clock.now()), durationMs: 1, error: { name: 'Error', message: 'late' }, expiresAt: new Date(clock.now() + 1) },
    ]);
    expect(stale).toEqual([false]);
    expect((await scheduler.runs.get(run.id)).status).toBe('completed');
    expect(scheduler.metrics().counters.runsRecovered).toBe(1);
    await scheduler.stop();
  });

  it('fails a recovered run that had used all its attempts', async () => {
    const { scheduler, clock, store, contexts } = liveScheduler();
    const failed = record(scheduler, 'run:failed');
    const recovered = record(scheduler, 'run:recovered');
    const trigger = await scheduler.triggers.create({
      name: 'job', owner: 'u1', taskType: 'job', payload: {}, schedule: { manual: true }, retry: { maxRetries: 0 },
    });
    const run = await scheduler.triggers.runNow(trigger.id);
    await store.claimRuns({ now: new Date(clock.now()), instanceId: 'dead', token: 'dead-token', leaseMs: LEASE_MS, limit: 10 });
    await scheduler.start();
    await clock.advance(LEASE_MS + POLL_MS);

    expect(recovered.map((e) => e.outcome)).toEqual(['failed']);
    expect(failed.map((e) => e.run.id)).toEqual([run.id]);
    expect(contexts).toHaveLength(0);
    const final = await scheduler.runs.get(run.id);
    expect(final.status).toBe('failed');
    expect(final.attempts.map((a) => a.outcome)).toEqual(['lease_expired']);
    await scheduler.stop();
  });

  it('keeps renewing the lease of a handler that runs longer than leaseMs, so no instance takes it over', async () => {
    const clock = new TestClock(T0);
    const store = memoryStore();
    const runs: string[] = [];
    const make = (instanceId: string) =>
      testScheduler({
        clock,
        store,
        instanceId,
        leaseMs: LEASE_MS,
        handlers: { long: { schema: z.object({}), run: async (_p, ctx) => { runs.push(`${instanceId}#${ctx.attempt}`); await sleepOn(clock, 5 * LEASE_MS, ctx.signal); } } },
      }).scheduler;
    const a = make('a');
    const b = make('b');
    const recovered = record(b, 'run:recovered');
    await a.start();
    const trigger = await a.triggers.create({ name: 'long', owner: 'u1', taskType: 'long', payload: {}, schedule: { manual: true } });
    const run = await a.triggers.runNow(trigger.id);
    await clock.advance(0);
    await b.start();
    await clock.advance(6 * LEASE_MS);
    expect(runs).toEqual(['a#1']);
    expect(recovered).toHaveLength(0);
    expect(await a.runs.get(run.id)).toMatchObject({ status: 'completed', attempt: 1, instanceId: 'a' });
    await Promise.all([a.stop(), b.stop()]);
  });

  it('aborts a handler whose lease was taken over, and discards its outcome', async () => {
    const signals: AbortSignal[] = [];
    const { scheduler, clock, store } = testScheduler({
      leaseMs: LEASE_MS,
      handlers: {
        job: {
          schema: z.object({}),
          run: (_p, ctx) =>
            new Promise((_resolve, reject) => {
              signals.push(ctx.signal);
              ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason));
            }),
        },
      },
    });
    const leaseLost = record(scheduler, 'run:lease-lost');
    await scheduler.start();
    const trigger = await scheduler.triggers.create({ name: 'job', owner: 'u1', taskType: 'job', payload: {}, schedule: { manual: true } });
    const run = await scheduler.triggers.runNow(trigger.id);
    await clock.advance(0);
    expect(signals).toHaveLength(1);

    // Another process decides the lease is gone (e.g. a long GC pause here) and recovers the run.
    await store.claimExpiredLeases({ now: new Date(clock.now() + LEASE_MS), instanceId: 'other', token: 'other-token', leaseMs: LEASE_MS, limit: 10 });
    await clock.advance(LEASE_MS / 3);
    expect(signals[0]?.aborted).toBe(true);
    expect(signals[0]?.reason).toMatchObject({ name: 'LeaseLostError' });
    expect(leaseLost.map((e) => e.runId)).toEqual([run.id]);
    await scheduler.stop({ graceMs: 0 });
  });
});
