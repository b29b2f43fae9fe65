/**
 * Lifecycle events (R10): the documented payloads, in order, and listeners that throw or
 * reject never disturb the engine (they are reported as `scheduler:error`, source `listener`).
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { SchedulerEventName } from 'punctual';
import { T0, record, sleepOn, testScheduler } from './helpers.js';

function echoScheduler() {
  const setup = testScheduler({
    handlers: {
      echo: {
        schema: z.object({ msg: z.string() }),
        run: async (payload, ctx) => {
          await ctx.progress(50, 'half way');
          await sleepOn(setup.clock, 250);
          return { echoed: payload.msg };
        },
      },
    },
  });
  return setup;
}

describe('events', () => {
  it('emits the run lifecycle with its documented payloads, in order', async () => {
    const { scheduler, clock } = echoScheduler();
    const order: SchedulerEventName[] = [];
    for (const name of ['trigger:created', 'run:scheduled', 'run:started', 'run:progress', 'run:completed', 'audit:recorded'] as const) {
      scheduler.on(name, () => void order.push(name));
    }
    const started = record(scheduler, 'run:started');
    const progress = record(scheduler, 'run:progress');
    const completed = record(scheduler, 'run:completed');
    const created = record(scheduler, 'trigger:created');
    await scheduler.start();
    const trigger = await scheduler.triggers.create({ name: 'echo', owner: 'u1', taskType: 'echo', payload: { msg: 'hi' }, schedule: { manual: true } }, { actor: 'alice' });
    const run = await scheduler.triggers.runNow(trigger.id);
    await clock.advance(1_000);

    expect(order).toEqual(['audit:recorded', 'trigger:created', 'audit:recorded', 'run:scheduled', 'run:started', 'run:progress', 'run:completed']);
    expect(created[0]).toMatchObject({ actor: 'alice', trigger: { id: trigger.id, name: 'echo', owner: 'u1' } });
    expect(started[0]?.run).toMatchObject({ id: run.id, status: 'running', attempt: 1, triggerId: trigger.id, instanceId: scheduler.instanceId });
    expect(progress[0]).toMatchObject({ percent: 50, note: 'half way', run: { id: run.id } });
    expect(completed).toHaveLength(1);
    const done = completed[0];
    expect(done?.result).toEqual({ echoed: 'hi' });
    expect(done?.durationMs).toBe(250);
    expect(done?.run).toMatchObject({ id: run.id, status: 'completed', durationMs: 250 });
    expect(done?.run.finishedAt?.getTime()).toBe(T0 + 250);

    const stored = await scheduler.runs.get(run.id);
    expect(stored).toMatchObject({ status: 'completed', result: { echoed: 'hi' }, durationMs: 250, progress: { percent: 50, note: 'half way' } });
    await scheduler.stop();
  });

  it('keeps running when listeners throw or reject, and reports them as scheduler:error', async () => {
    const { scheduler, clock } = echoScheduler();
    const errors = record(scheduler, 'scheduler:error');
    scheduler.on('run:started', () => {
      throw new Error('listener threw');
    });
    scheduler.on('run:completed', async () => {
      throw new Error('listener rejected');
    });
    scheduler.on('trigger:created', () => Promise.reject(new Error('create listener rejected')));
    const completed = record(scheduler, 'run:completed');
    await scheduler.start();
    const trigger = await scheduler.triggers.create({ name: 'echo', owner: 'u1', taskType: 'echo', payload: { msg: 'hi' }, schedule: { manual: true } });
    const runs = [await scheduler.triggers.runNow(trigger.id), await scheduler.triggers.runNow(trigger.id)];
    await clock.advance(5_000);

    expect(completed.map((e) => e.run.id).sort()).toEqual(runs.map((r) => r.id).sort());
    for (const run of runs) expect((await scheduler.runs.get(run.id)).status).toBe('completed');
    expect(errors.every((e) => e.source === 'listener')).toBe(true);
    expect(errors.map((e) => [e.operation, (e.error as Error).message]).sort()).toEqual([
      ['run:completed', 'listener rejected'],
      ['run:completed', 'listener rejected'],
      ['run:started', 'listener threw'],
      ['run:started', 'listener threw'],
      ['trigger:created', 'create listener rejected'],
    ]);
    expect((await scheduler.health()).status).toBe('ok');
    await scheduler.stop();
  });

  it('never loops on a failing scheduler:error listener', async () => {
    const { scheduler, clock } = echoScheduler();
    let calls = 0;
    scheduler.on('scheduler:error', () => {
      calls++;
      throw new Error('error listener fails too');
    });
    scheduler.on('run:started', () => {
      throw new Error('listener threw');
    });
    await scheduler.start();
    const trigger = await scheduler.triggers.create({ name: 'echo', owner: 'u1', taskType: 'echo', payload: { msg: 'hi' }, schedule: { manual: true } });
    const run = await scheduler.triggers.runNow(trigger.id);
    await clock.advance(1_000);
    expect(calls).toBe(1);
    expect((await scheduler.runs.get(run.id)).status).toBe('completed');
    await scheduler.stop();
  });

  it('unsubscribes with the function on() returns, with off(), and after once()', async () => {
    const { scheduler, clock } = echoScheduler();
    let viaReturn = 0;
    let viaOff = 0;
    let viaOnce = 0;
    const unsubscribe = scheduler.on('run:completed', () => void viaReturn++);
    const listener = (): void => void viaOff++;
    scheduler.on('run:completed', listener);
    scheduler.once('run:completed', () => void viaOnce++);
    await scheduler.start();
    const trigger = await scheduler.triggers.create({ name: 'echo', owner: 'u1', taskType: 'echo', payload: { msg: 'hi' }, schedule: { manual: true } });
    await scheduler.triggers.runNow(trigger.id);
    await clock.advance(1_000);
    unsubscribe();
    scheduler.off('run:completed', listener);
    await scheduler.triggers.runNow(trigger.id);
    await clock.advance(1_000);
    expect([viaReturn, viaOff, viaOnce]).toEqual([1, 1, 1]);
    await scheduler.stop();
  });
});
