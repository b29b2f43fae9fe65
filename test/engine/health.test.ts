/**
 * Health and metrics (R12), and store outages: a fault-injection wrapper over a real memory
 * store makes every call fail for a while; the scheduler reports it, keeps running, and once
 * the store answers again every run completes.
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { memoryStore, type Store } from 'punctual';
import { TestClock } from 'punctual/testing';
import { SECOND, T0, record, sleepOn, testScheduler } from './helpers.js';

/** Wraps a store so that every method rejects while `outage.down` is true. */
function faultyStore(inner: Store): { store: Store; outage: { down: boolean } } {
  const outage = { down: false };
  const store = new Proxy(inner, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        if (outage.down) return Promise.reject(new Error(`store unreachable (${String(property)})`));
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { store, outage };
}

describe('health', () => {
  it('reports the instance, store, queue depth and running count', async () => {
    const clock = new TestClock(T0);
    const { scheduler } = testScheduler({
      clock,
      instanceId: 'api-1',
      handlers: { work: { schema: z.object({}), run: (_p, ctx) => sleepOn(clock, 10 * SECOND, ctx.signal) } },
    });
    expect(await scheduler.health()).toMatchObject({ status: 'stopped', instanceId: 'api-1' });
    await scheduler.start();
    await scheduler.triggers.create({ name: 'soon', owner: 'u1', taskType: 'work', payload: {}, schedule: { every: '3s' } });
    expect(await scheduler.health()).toMatchObject({
      status: 'ok',
      instanceId: 'api-1',
      store: { kind: 'memory', reachable: true },
      wakeups: 'poll',
      queueDepth: 1,
      running: 0,
    });
    await clock.advance(3 * SECOND);
    expect((await scheduler.health()).running).toBe(1);
    await scheduler.stop({ graceMs: 0 });
    expect((await scheduler.health()).status).toBe('stopped');
  });

  it('lists what the store says its deployment lacks, and polls when it cannot notify', async () => {
    const inner = memoryStore();
    const note = 'Standalone server: other instances\' changes are seen at the next poll (pollIntervalMs).';
    const store = new Proxy(inner, {
      get(target, property, receiver) {
        if (property === 'notes') return () => [note];
        if (property === 'subscribe') return () => Promise.resolve(null);
        const value: unknown = Reflect.get(target, property, receiver);
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    }) as Store;
    const { scheduler } = testScheduler({ store, handlers: { work: { schema: z.object({}), run: () => undefined } } });
    await scheduler.start();
    expect(await scheduler.health()).toMatchObject({ status: 'ok', store: { notes: [note] }, wakeups: 'poll' });
    await scheduler.stop();
    const plain = testScheduler({ handlers: { work: { schema: z.object({}), run: () => undefined } } }).scheduler;
    await plain.start();
    expect((await plain.health()).store).not.toHaveProperty('notes');
    await plain.stop();
  });

  it('counts runs and observes dispatch lag and durations in the metrics', async () => {
    const clock = new TestClock(T0);
    const { scheduler } = testScheduler({
      clock,
      maxConcurrentRuns: 1,
      handlers: {
        work: { schema: z.object({}), run: (_p, ctx) => sleepOn(clock, 700, ctx.signal) },
        fail: { schema: z.object({}), run: () => Promise.reject(new Error('no')), retry: { maxRetries: 0 } },
      },
    });
    await scheduler.start();
    const work = await scheduler.triggers.create({ name: 'work', owner: 'u1', taskType: 'work', payload: {}, schedule: { manual: true }, overlap: 'allow' });
    const fail = await scheduler.triggers.create({ name: 'fail', owner: 'u1', taskType: 'fail', payload: {}, schedule: { manual: true } });
    await scheduler.triggers.runNow(work.id);
    await scheduler.triggers.runNow(work.id); // waits 700 ms for the only slot
    await clock.advance(2 * SECOND);
    await scheduler.triggers.runNow(fail.id);
    await clock.advance(SECOND);

    const m = scheduler.metrics();
    expect(m.instanceId).toBe(scheduler.instanceId);
    expect(m.at.getTime()).toBe(T0 + 3 * SECOND);
    expect(m.counters).toMatchObject({ runsScheduled: 3, runsStarted: 3, runsCompleted: 2, runsFailed: 1, runsRetried: 0, storeErrors: 0 });
    expect(m.dispatchLagMs).toMatchObject({ count: 3, sum: 700, max: 700 });
    expect(m.runDurationMs).toMatchObject({ count: 3, sum: 1_400, max: 700 });
    expect(m.dispatchLagMs.counts.reduce((a, b) => a + b, 0)).toBe(3);
    expect(m.gauges).toEqual({ running: 0, queueDepth: 0 });
    expect((await scheduler.health()).dispatchLagMs).toBe(0); // the latest start was on time
    await scheduler.stop();
  });

  it('emits metrics:snapshot every metricsIntervalMs', async () => {
    const { scheduler, clock } = testScheduler({ metricsIntervalMs: 10 * SECOND, handlers: { noop: { schema: z.object({}), run: () => undefined } } });
    const snapshots = record(scheduler, 'metrics:snapshot');
    await scheduler.start();
    await clock.advance(35 * SECOND);
    expect(snapshots.map((s) => s.snapshot.at.getTime() - T0)).toEqual([10 * SECOND, 20 * SECOND, 30 * SECOND]);
    await scheduler.stop();
  });
});

describe('a store outage', () => {
  it('degrades health and reports errors, keeps running, and loses nothing once the store is back', async () => {
    const { store, outage } = faultyStore(memoryStore());
    const clock = new TestClock(T0);
    const { scheduler } = testScheduler({
      clock,
      store,
      handlers: { work: { schema: z.object({}), run: async (_p, ctx) => { await sleepOn(clock, 2 * SECOND, ctx.signal); return ctx.scheduledFor.getTime() - T0; } } },
    });
    const errors = record(scheduler, 'scheduler:error');
    const recovered = record(scheduler, 'scheduler:recovered');
    await scheduler.start();
    const manual = await scheduler.triggers.create({ name: 'manual', owner: 'u1', taskType: 'work', payload: {}, schedule: { manual: true } });
    const ticking = await scheduler.triggers.create({ name: 'ticking', owner: 'u1', taskType: 'work', payload: {}, schedule: { every: '10s' }, misfire: 'all' });
    const run = await scheduler.triggers.runNow(manual.id);
    await clock.advance(SECOND); // the manual run is working

    outage.down = true;
    await clock.advance(20 * SECOND); // its outcome, two slots and every poll hit the outage
    const during = await scheduler.health();
    expect(during.status).toBe('degraded');
    expect(during.store.reachable).toBe(false);
    expect(during.store.error?.message).toMatch(/store unreachable/);
    expect(errors.length).toBeGreaterThan(0);
    expect(new Set(errors.map((e) => e.source))).toEqual(new Set(['store']));
    const operations = new Set(errors.map((e) => e.operation));
    expect(operations).toContain('executor:finishRuns');
    expect(operations).toContain('dispatcher:findDueTriggers');
    expect(operations).toContain('dispatcher:recoverExpiredLeases');
    expect(scheduler.metrics().counters.storeErrors).toBeGreaterThan(0);
    await expect(scheduler.triggers.create({ name: 'x', owner: 'u1', taskType: 'work', payload: {}, schedule: { manual: true } })).rejects.toThrow(/store unreachable/);

    outage.down = false;
    await clock.advance(30 * SECOND);
    expect((await scheduler.health()).status).toBe('ok');
    expect(recovered.length).toBeGreaterThan(0);

    const done = await scheduler.runs.get(run.id);
    expect(done).toMatchObject({ status: 'completed', attempt: 1, result: 0 });
    const slots = (await scheduler.runs.list({ triggerId: ticking.id, limit: 100 })).items;
    const completed = slots.filter((r) => r.status === 'completed').map((r) => r.result).sort((a, b) => (a as number) - (b as number));
    expect(completed).toEqual([10, 20, 30, 40].map((s) => s * SECOND));
    await scheduler.stop({ graceMs: 0 }); // the 50 s slot is still working: it goes back to pending
  });

  it('rejects start() while the store cannot initialize, and starts once it can', async () => {
    const { store, outage } = faultyStore(memoryStore());
    const { scheduler } = testScheduler({ store, handlers: { noop: { schema: z.object({}), run: () => undefined } } });
    outage.down = true;
    await expect(scheduler.start()).rejects.toThrow(/store unreachable \(init\)/);
    outage.down = false;
    await scheduler.start();
    expect((await scheduler.health()).status).toBe('ok');
    await scheduler.stop();
  });
});
