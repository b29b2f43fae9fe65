/**
 * A slot's run is created already claimed by the instance that fires it when that instance has
 * a free slot: it starts without a claim round trip. Without room, it is stored pending and
 * claimed like any other run.
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { memoryStore, type RunRecord, type Store } from 'punctual';
import { Gate, MINUTE, SECOND, testScheduler } from './helpers.js';

/** The memory store, counting the runs each claimRuns call hands out. */
function countingStore(): { store: Store; claimed: RunRecord[] } {
  const inner = memoryStore();
  const claimed: RunRecord[] = [];
  const store = new Proxy(inner, {
    get(target, key, receiver) {
      if (key === 'claimRuns') {
        return async (...args: Parameters<Store['claimRuns']>) => {
          const runs = await target.claimRuns(...args);
          claimed.push(...runs);
          return runs;
        };
      }
      const value: unknown = Reflect.get(target, key, receiver);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
  return { store, claimed };
}

describe('claim at fire', () => {
  it('starts a fired slot on the firing instance without claiming it', async () => {
    const { store, claimed } = countingStore();
    const started: Date[] = [];
    const { scheduler, clock } = testScheduler({
      store,
      handlers: { tick: { schema: z.object({}), run: (_p, ctx) => void started.push(ctx.scheduledFor) } },
    });
    await scheduler.start();
    const trigger = await scheduler.triggers.create({ name: 't', owner: 'u1', taskType: 'tick', payload: {}, schedule: { cron: '* * * * *' } });
    await clock.advance(MINUTE);
    expect(started).toHaveLength(1);
    expect(claimed).toHaveLength(0);
    const [run] = (await scheduler.runs.list({ triggerId: trigger.id })).items;
    expect(run).toMatchObject({ status: 'completed', attempt: 1, instanceId: scheduler.instanceId, source: 'schedule' });
    expect(run?.attempts.map((a) => a.outcome)).toEqual(['completed']);
    await scheduler.stop();
  });

  it('stores the run pending when no slot is free, and claims it once one frees', async () => {
    const { store, claimed } = countingStore();
    const gate = new Gate();
    const { scheduler, clock } = testScheduler({
      store,
      maxConcurrentRuns: 1,
      handlers: { block: { schema: z.object({}), run: (_p, ctx) => gate.wait(ctx.signal) } },
    });
    await scheduler.start();
    const manual = await scheduler.triggers.create({ name: 'm', owner: 'u1', taskType: 'block', payload: {}, schedule: { manual: true } });
    await scheduler.triggers.runNow(manual.id);
    await clock.advance(SECOND);
    expect(gate.inside).toBe(1);
    const cron = await scheduler.triggers.create({ name: 'c', owner: 'u1', taskType: 'block', payload: {}, schedule: { cron: '* * * * *' } });
    await clock.advance(MINUTE);
    expect((await scheduler.runs.list({ triggerId: cron.id })).items).toEqual([expect.objectContaining({ status: 'pending', attempt: 0 })]);

    await gate.release();
    expect(gate.inside).toBe(1);
    expect(claimed.map((r) => r.triggerId)).toEqual([manual.id, cron.id]);
    await gate.releaseAll();
    expect((await scheduler.runs.list({ triggerId: cron.id })).items).toEqual([expect.objectContaining({ status: 'completed', attempt: 1 })]);
    await scheduler.stop();
  });
});
