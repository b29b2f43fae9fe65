/**
 * Capacity (R4): the global cap on concurrent runs, the per-task-type cap, and priorities
 * when capacity is short. Handlers block on a Gate, which counts how many run at once.
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { settle } from 'punctual/testing';
import { Gate, testScheduler } from './helpers.js';

describe('capacity', () => {
  it('never runs more than maxConcurrentRuns at once, and runs every run eventually', async () => {
    const gate = new Gate();
    const { scheduler } = testScheduler({
      maxConcurrentRuns: 3,
      handlers: { block: { schema: z.object({}), run: (_p, ctx) => gate.wait(ctx.signal) } },
    });
    await scheduler.start();
    const trigger = await scheduler.triggers.create({ name: 'blocker', owner: 'u1', taskType: 'block', payload: {}, schedule: { manual: true }, overlap: 'allow' });
    for (let i = 0; i < 10; i++) await scheduler.triggers.runNow(trigger.id);
    await settle();
    expect(gate.inside).toBe(3);
    expect((await scheduler.runs.list({ status: 'pending' })).items.length).toBe(7);
    expect((await scheduler.health()).running).toBe(3);

    for (let released = 0; released < 10; released++) {
      await gate.release();
      expect(gate.inside).toBe(Math.min(3, 10 - released - 1));
    }
    expect(gate.maxInside).toBe(3);
    expect((await scheduler.runs.list({ status: 'completed' })).items.length).toBe(10);
    await scheduler.stop();
  });

  it('keeps a task type under its concurrency while other types use the free capacity', async () => {
    const capped = new Gate();
    const free = new Gate();
    const { scheduler } = testScheduler({
      maxConcurrentRuns: 10,
      handlers: {
        capped: { schema: z.object({}), concurrency: 2, run: (_p, ctx) => capped.wait(ctx.signal) },
        free: { schema: z.object({}), run: (_p, ctx) => free.wait(ctx.signal) },
      },
    });
    await scheduler.start();
    const c = await scheduler.triggers.create({ name: 'c', owner: 'u1', taskType: 'capped', payload: {}, schedule: { manual: true }, overlap: 'allow' });
    const f = await scheduler.triggers.create({ name: 'f', owner: 'u1', taskType: 'free', payload: {}, schedule: { manual: true }, overlap: 'allow' });
    for (let i = 0; i < 5; i++) await scheduler.triggers.runNow(c.id);
    for (let i = 0; i < 4; i++) await scheduler.triggers.runNow(f.id);
    await settle();
    expect(capped.inside).toBe(2);
    expect(free.inside).toBe(4);

    for (let i = 0; i < 5; i++) {
      await capped.release();
      expect(capped.inside).toBeLessThanOrEqual(2);
      expect(free.inside).toBe(4); // the other type keeps running meanwhile
    }
    expect(capped.maxInside).toBe(2);
    await free.releaseAll();
    expect((await scheduler.runs.list({ status: 'completed' })).items.length).toBe(9);
    await scheduler.stop();
  });

  it('starts higher-priority pending runs first when capacity is short', async () => {
    const gate = new Gate();
    const started: number[] = [];
    const { scheduler, clock } = testScheduler({
      maxConcurrentRuns: 1,
      handlers: {
        job: {
          schema: z.object({ n: z.number() }),
          run: async (payload, ctx) => {
            started.push(payload.n);
            await gate.wait(ctx.signal);
          },
        },
      },
    });
    await scheduler.start();
    const trigger = await scheduler.triggers.create({ name: 'jobs', owner: 'u1', taskType: 'job', payload: { n: 0 }, schedule: { manual: true }, overlap: 'allow' });
    await scheduler.triggers.runNow(trigger.id, { payload: { n: -1 } }); // takes the only slot
    await settle();
    for (const [n, priority] of [[1, 0], [2, 5], [3, -3], [4, 10], [5, 5]] as const) {
      await scheduler.triggers.runNow(trigger.id, { payload: { n }, priority });
      await clock.advance(1);
    }
    for (let i = 0; i < 6; i++) await gate.release();
    // Equal priorities: the run available first goes first.
    expect(started).toEqual([-1, 4, 2, 5, 1, 3]);
    expect(gate.maxInside).toBe(1);
    await scheduler.stop();
  });

  it('orders runs by the trigger priority, defaulting to the handler priority', async () => {
    const gate = new Gate();
    const started: string[] = [];
    const { scheduler } = testScheduler({
      maxConcurrentRuns: 1,
      handlers: {
        low: { schema: z.object({}), priority: -5, run: async (_p, ctx) => { started.push(ctx.triggerName); await gate.wait(ctx.signal); } },
        high: { schema: z.object({}), priority: 5, run: async (_p, ctx) => { started.push(ctx.triggerName); await gate.wait(ctx.signal); } },
      },
    });
    await scheduler.start();
    const first = await scheduler.triggers.create({ name: 'first', owner: 'u1', taskType: 'low', payload: {}, schedule: { manual: true } });
    const low = await scheduler.triggers.create({ name: 'low', owner: 'u1', taskType: 'low', payload: {}, schedule: { manual: true } });
    const high = await scheduler.triggers.create({ name: 'high', owner: 'u1', taskType: 'high', payload: {}, schedule: { manual: true } });
    const boosted = await scheduler.triggers.create({ name: 'boosted', owner: 'u1', taskType: 'low', payload: {}, schedule: { manual: true }, priority: 50 });
    expect([low.priority, high.priority, boosted.priority]).toEqual([-5, 5, 50]);
    await scheduler.triggers.runNow(first.id);
    await settle();
    for (const t of [low, high, boosted]) await scheduler.triggers.runNow(t.id);
    for (let i = 0; i < 4; i++) await gate.release();
    expect(started).toEqual(['first', 'boosted', 'high', 'low']);
    await scheduler.stop();
  });
});
