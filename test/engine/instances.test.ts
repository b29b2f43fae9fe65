/**
 * Several instances on one store (R7, R9): two schedulers sharing a memory store, a memory
 * lock store and a test clock behave like two processes on one database. Each slot fires once.
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { memoryLockStore, memoryStore } from 'punctual';
import { TestClock } from 'punctual/testing';
import { MINUTE, T0, sleepOn, testScheduler } from './helpers.js';

type Handler = (slot: string, triggerName: string) => void | Promise<void>;

function twoInstances(handler: Handler, { clock = new TestClock(T0), maxConcurrentRuns = 100 } = {}) {
  const store = memoryStore();
  const lockStore = memoryLockStore();
  const make = (instanceId: string) =>
    testScheduler({
      clock,
      store,
      lockStore,
      instanceId,
      pollIntervalMs: 5_000,
      maxConcurrentRuns,
      handlers: { tick: { schema: z.object({}), run: (_p, ctx) => handler(ctx.scheduledFor.toISOString(), ctx.triggerName) } },
    }).scheduler;
  return { clock, store, a: make('instance-a'), b: make('instance-b') };
}

describe('two instances sharing a store', () => {
  it('runs an every-minute trigger exactly once per slot over an hour', async () => {
    const calls = new Map<string, number>();
    const { clock, a, b } = twoInstances((slot) => void calls.set(slot, (calls.get(slot) ?? 0) + 1));
    await Promise.all([a.start(), b.start()]);
    const trigger = await a.triggers.create({ name: 'tick', owner: 'u1', taskType: 'tick', payload: {}, schedule: { every: '1m' } });
    await clock.advance(60 * MINUTE);

    const expected = Array.from({ length: 60 }, (_, i) => new Date(T0 + (i + 1) * MINUTE).toISOString());
    expect([...calls.keys()].sort()).toEqual(expected);
    expect([...calls.values()].every((n) => n === 1)).toBe(true);

    const runs = await b.runs.list({ triggerId: trigger.id, limit: 500 });
    expect(runs.items).toHaveLength(60);
    expect(runs.items.every((r) => r.status === 'completed' && r.attempt === 1)).toBe(true);
    expect(runs.items.every((r) => r.instanceId === 'instance-a' || r.instanceId === 'instance-b')).toBe(true);
    // Both instances raced for every slot; the store let exactly one of them fire it.
    const [ca, cb] = [a.metrics().counters, b.metrics().counters];
    expect(ca.slotsFired + cb.slotsFired).toBe(60);
    expect(ca.slotsTakenElsewhere + cb.slotsTakenElsewhere).toBe(60);
    expect((await a.triggers.get(trigger.id)).runCount).toBe(60);
    await Promise.all([a.stop(), b.stop()]);
  });

  it('shares the work when one instance is full, still running each slot once', async () => {
    const calls = new Map<string, number>();
    const clock = new TestClock(T0);
    const work: Handler = async (slot, name) => {
      const key = `${name}@${slot}`;
      calls.set(key, (calls.get(key) ?? 0) + 1);
      await sleepOn(clock, 20_000);
    };
    const { a, b } = twoInstances(work, { clock, maxConcurrentRuns: 3 });
    await Promise.all([a.start(), b.start()]);
    for (let i = 0; i < 5; i++) {
      await a.triggers.create({ name: `t${i}`, owner: 'u1', taskType: 'tick', payload: {}, schedule: { every: '1m' } });
    }
    await clock.advance(10 * MINUTE + 30_000);
    expect(calls.size).toBe(50);
    expect([...calls.values()].every((n) => n === 1)).toBe(true);
    const runs = await a.runs.list({ limit: 500 });
    expect(runs.items).toHaveLength(50);
    expect(runs.items.every((r) => r.status === 'completed')).toBe(true);
    expect(new Set(runs.items.map((r) => r.instanceId))).toEqual(new Set(['instance-a', 'instance-b']));
    await Promise.all([a.stop(), b.stop()]);
  });

  it('stops firing a trigger on every instance once another instance pauses it', async () => {
    const calls: string[] = [];
    const { clock, a, b } = twoInstances((slot) => void calls.push(slot));
    await Promise.all([a.start(), b.start()]);
    const trigger = await a.triggers.create({ name: 'tick', owner: 'u1', taskType: 'tick', payload: {}, schedule: { every: '1m' } });
    await clock.advance(MINUTE);
    expect(calls).toHaveLength(1);
    await b.triggers.pause(trigger.id); // a still holds the trigger in its window
    await clock.advance(5 * MINUTE);
    expect(calls).toHaveLength(1);
    expect((await a.runs.list({ triggerId: trigger.id })).items.length).toBe(1);
    await Promise.all([a.stop(), b.stop()]);
  });

  it('lets the instance that did not fire a slot claim its run', async () => {
    const { clock, a, b } = twoInstances(() => undefined);
    await a.start();
    const trigger = await a.triggers.create({ name: 'tick', owner: 'u1', taskType: 'tick', payload: {}, schedule: { manual: true } });
    await a.stop();
    // a is gone; the manual run it created is picked up by b's poll.
    const run = await a.triggers.runNow(trigger.id);
    await b.start();
    await clock.advance(5_000);
    const done = await b.runs.get(run.id);
    expect(done.status).toBe('completed');
    expect(done.instanceId).toBe('instance-b');
    await b.stop();
  });

  it('never runs one trigger on both instances at once (overlap queue)', async () => {
    let inside = 0;
    let maxInside = 0;
    const clock = new TestClock(T0);
    const { a, b } = twoInstances(
      async () => {
        inside++;
        maxInside = Math.max(maxInside, inside);
        await sleepOn(clock, 90_000);
        inside--;
      },
      { clock },
    );
    await Promise.all([a.start(), b.start()]);
    const trigger = await a.triggers.create({ name: 'slow', owner: 'u1', taskType: 'tick', payload: {}, schedule: { every: '1m' } });
    await clock.advance(10 * MINUTE);
    expect(maxInside).toBe(1);
    const completed = await a.runs.list({ triggerId: trigger.id, status: 'completed', limit: 500 });
    expect(completed.items.length).toBeGreaterThanOrEqual(5);
    await Promise.all([a.stop({ graceMs: 0 }), b.stop({ graceMs: 0 })]);
  });
});
