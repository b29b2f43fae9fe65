/**
 * Starting and stopping: idempotent calls that share one promise, calls settled in call order,
 * starting again after a stop, no timers left behind, `await using`, and a graceful stop that
 * finishes short handlers and hands long ones back.
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { memoryStore, type TaskContext } from 'punctual';
import { TestClock } from 'punctual/testing';
import { SECOND, T0, record, sleepOn, testScheduler, waitForEvent } from './helpers.js';

const noop = { schema: z.object({}), run: () => undefined };

describe('start and stop', () => {
  it('shares one promise between concurrent start calls, and between concurrent stop calls', async () => {
    const { scheduler } = testScheduler({ handlers: { noop } });
    const started = record(scheduler, 'scheduler:started');
    const stopped = record(scheduler, 'scheduler:stopped');
    const first = scheduler.start();
    expect(scheduler.start()).toBe(first);
    await first;
    await scheduler.start(); // already started: resolves at once
    expect(started).toHaveLength(1);

    const stopping = scheduler.stop();
    expect(scheduler.stop()).toBe(stopping);
    await stopping;
    await scheduler.stop();
    expect(stopped).toHaveLength(1);
  });

  it('starts again after stop, with the same instance id, and leaves no timer behind each time', async () => {
    const executed: { instanceId: string; at: number }[] = [];
    const { scheduler, clock, store } = testScheduler({
      handlers: { tick: { schema: z.object({}), run: () => void executed.push({ instanceId: scheduler.instanceId, at: clock.now() }) } },
    });
    const trigger = await scheduler.triggers.create({ name: 't', owner: 'u1', taskType: 'tick', payload: {}, schedule: { every: '1s' }, misfire: 'skip' });
    for (let round = 0; round < 3; round++) {
      await scheduler.start();
      const before = executed.length;
      await clock.advance(3 * SECOND);
      expect(executed.length).toBeGreaterThanOrEqual(before + 2);
      expect((await scheduler.health()).status).toBe('ok');
      await scheduler.stop();
      expect(clock.pendingTimers).toBe(0);
      expect((await scheduler.health()).status).toBe('stopped');
      // Stopped: nothing runs while time passes.
      const stoppedAt = executed.length;
      await clock.advance(5 * SECOND);
      expect(executed.length).toBe(stoppedAt);
    }
    expect(new Set(executed.map((e) => e.instanceId))).toEqual(new Set([scheduler.instanceId]));
    const runs = await store.listRuns({ triggerId: trigger.id, limit: 100 });
    expect(runs.every((r) => r.status === 'completed' && r.instanceId === scheduler.instanceId)).toBe(true);
  });

  it('settles start and stop calls in call order', async () => {
    const { scheduler, clock } = testScheduler({ handlers: { noop } });
    const order: string[] = [];
    scheduler.on('scheduler:started', () => void order.push('started'));
    scheduler.on('scheduler:stopped', () => void order.push('stopped'));
    const settled: string[] = [];
    const calls = [
      scheduler.start().then(() => settled.push('start 1')),
      scheduler.stop().then(() => settled.push('stop 1')),
      scheduler.start().then(() => settled.push('start 2')),
      scheduler.stop().then(() => settled.push('stop 2')),
      scheduler.start().then(() => settled.push('start 3')),
    ];
    await Promise.all(calls);
    expect(order).toEqual(['started', 'stopped', 'started', 'stopped', 'started']);
    expect(settled).toEqual(['start 1', 'stop 1', 'start 2', 'stop 2', 'start 3']);
    expect((await scheduler.health()).status).toBe('ok');
    await scheduler.stop();
    expect(clock.pendingTimers).toBe(0);
  });

  it('starts after a failed start once the store answers', async () => {
    let failures = 1;
    const store = memoryStore();
    const init = store.init.bind(store);
    store.init = () => (failures-- > 0 ? Promise.reject(new Error('store down')) : init());
    const { scheduler, clock } = testScheduler({ store, handlers: { noop } });
    await expect(scheduler.start()).rejects.toThrow('store down');
    expect((await scheduler.health()).status).toBe('stopped');
    await scheduler.start();
    expect((await scheduler.health()).status).toBe('ok');
    await scheduler.stop();
    expect(clock.pendingTimers).toBe(0);
  });

  it('can be stopped while starting, and stopped without ever starting', async () => {
    const { scheduler } = testScheduler({ handlers: { noop } });
    const starting = scheduler.start();
    const stopping = scheduler.stop();
    await Promise.all([starting, stopping]);
    expect((await scheduler.health()).status).toBe('stopped');

    const { scheduler: idle, clock } = testScheduler({ handlers: { noop } });
    await idle.stop();
    await idle.stop();
    expect(clock.pendingTimers).toBe(0);
  });

  it('leaves no timer behind once stopped, even with triggers and retries pending', async () => {
    const { scheduler, clock } = testScheduler({
      handlers: { fail: { schema: z.object({}), run: () => Promise.reject(new Error('again')) } },
    });
    await scheduler.start();
    const trigger = await scheduler.triggers.create({ name: 'f', owner: 'u1', taskType: 'fail', payload: {}, schedule: { every: '1m' } });
    await scheduler.triggers.runNow(trigger.id); // fails, a retry timer is armed
    await clock.advance(100);
    expect(clock.pendingTimers).toBeGreaterThan(0);
    await scheduler.stop();
    expect(clock.pendingTimers).toBe(0);
  });

  it('stops at the end of an `await using` block', async () => {
    const clock = new TestClock(T0);
    let stopped = false;
    {
      await using scheduler = testScheduler({ clock, handlers: { noop } }).scheduler;
      scheduler.on('scheduler:stopped', () => void (stopped = true));
      await scheduler.start();
      expect(clock.pendingTimers).toBeGreaterThan(0);
    }
    expect(stopped).toBe(true);
    expect(clock.pendingTimers).toBe(0);
  });
});

describe('stop({ graceMs })', () => {
  /** A handler that works `ms` of test-clock time per its payload, honouring its signal. */
  function worker(clock: TestClock, signals: AbortSignal[]) {
    return {
      schema: z.object({ ms: z.number() }),
      run: async (payload: { ms: number }, ctx: TaskContext) => {
        signals.push(ctx.signal);
        await sleepOn(clock, payload.ms, ctx.signal);
        return 'done';
      },
    };
  }

  it('lets a handler finish within the grace period', async () => {
    const signals: AbortSignal[] = [];
    const clock = new TestClock(T0);
    const { scheduler } = testScheduler({ clock, handlers: { work: worker(clock, signals) } });
    await scheduler.start();
    const trigger = await scheduler.triggers.create({ name: 'w', owner: 'u1', taskType: 'work', payload: { ms: 2 * SECOND }, schedule: { manual: true } });
    const run = await scheduler.triggers.runNow(trigger.id);
    await clock.advance(0);
    expect(signals).toHaveLength(1);

    const stopped = scheduler.stop({ graceMs: 5 * SECOND });
    await clock.advance(2 * SECOND);
    await stopped;
    expect(signals[0]?.aborted).toBe(false);
    expect((await scheduler.runs.get(run.id)).status).toBe('completed');
    expect(clock.pendingTimers).toBe(0);
  });

  it('aborts a handler that runs past the grace period and hands its run back for another instance', async () => {
    const signals: AbortSignal[] = [];
    const clock = new TestClock(T0);
    const store = memoryStore();
    const { scheduler: first } = testScheduler({ clock, store, handlers: { work: worker(clock, signals) } });
    await first.start();
    const trigger = await first.triggers.create({ name: 'w', owner: 'u1', taskType: 'work', payload: { ms: 60 * SECOND }, schedule: { manual: true } });
    const run = await first.triggers.runNow(trigger.id);
    await clock.advance(0);

    const stopped = first.stop({ graceMs: 5 * SECOND });
    await clock.advance(5 * SECOND);
    await stopped;
    expect(signals[0]?.aborted).toBe(true);
    expect(signals[0]?.reason).toMatchObject({ name: 'StoppedError' });
    const handedBack = await first.runs.get(run.id);
    expect(handedBack.status).toBe('pending');
    expect(handedBack.attempt).toBe(0); // the interrupted attempt does not count
    expect(handedBack.lease).toBeNull();
    expect(clock.pendingTimers).toBe(0);

    const { scheduler: second } = testScheduler({ clock, store, handlers: { work: worker(clock, signals) } });
    const completed = waitForEvent(second, 'run:completed', (e) => e.run.id === run.id, clock);
    await second.start();
    await clock.advance(60 * SECOND);
    expect((await completed).result).toBe('done');
    const final = await second.runs.get(run.id);
    expect(final.status).toBe('completed');
    expect(final.instanceId).toBe(second.instanceId);
    await second.stop();
  });
});
