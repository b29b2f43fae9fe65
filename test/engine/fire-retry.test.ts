/**
 * A store that writes a batch of slot fires in several steps (MongoDB) may fail part way: it
 * throws after writing, or answers `failed` for the fires it could not finish. The dispatcher
 * retries those fires alone, with the lease token of their first attempt, so a run already
 * written under it is recognised as this instance's and started, not left to lease expiry.
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { memoryStore, type Store } from 'punctual';
import type { SlotFire, SlotFireResult } from 'punctual/store';
import { MINUTE, SECOND, SLOW_TIME, testScheduler } from './helpers.js';

/** The memory store with `fireSlots` replaced by `fire(inner, fires)`. */
function storeWithFire(fire: (inner: Store, fires: readonly SlotFire[]) => Promise<SlotFireResult[]>): Store {
  const inner = memoryStore();
  return new Proxy(inner, {
    get(target, key, receiver) {
      if (key === 'fireSlots') return (fires: readonly SlotFire[]) => fire(target, fires);
      const value: unknown = Reflect.get(target, key, receiver);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

const handlers = { tick: { schema: z.object({}), run: () => undefined } };
const cron = (name: string) => ({ name, owner: 'u1', taskType: 'tick' as const, payload: {}, schedule: { cron: '* * * * *' } });

describe('slot fires the store could not finish', () => {
  it('retries a batch written but whose answer was lost with the same token, and runs it once', async () => {
    const tokens: (string | undefined)[] = [];
    let calls = 0;
    const store = storeWithFire(async (inner, fires) => {
      tokens.push(...fires.map((f) => f.run?.lease?.token));
      const results = await inner.fireSlots(fires);
      if (++calls === 1) throw new Error('connection reset after the write');
      return results;
    });
    const { scheduler, clock } = testScheduler({ store, handlers, ...SLOW_TIME, pollIntervalMs: 5 * SECOND });
    await scheduler.start();
    const trigger = await scheduler.triggers.create(cron('t'));
    await clock.advance(MINUTE + 5 * SECOND);
    expect(tokens).toHaveLength(2);
    expect(tokens[0]).toBeDefined();
    expect(tokens[1]).toBe(tokens[0]);
    const runs = (await scheduler.runs.list({ triggerId: trigger.id })).items;
    expect(runs).toEqual([expect.objectContaining({ status: 'completed', attempt: 1 })]);
    expect(runs[0]?.attempts.map((a) => a.outcome)).toEqual(['completed']);
    await scheduler.stop();
  });

  it('retries only the fires answered failed, backing off, while the others fire on time', async () => {
    let failing = '';
    const attempts: number[] = [];
    const store = storeWithFire(async (inner, fires) => {
      const results = await inner.fireSlots(fires.filter((f) => f.triggerId !== failing));
      return fires.map((f) => {
        if (f.triggerId !== failing) return results.shift() as SlotFireResult;
        attempts.push(attempts.length);
        return 'failed';
      });
    });
    const { scheduler, clock } = testScheduler({ store, handlers, ...SLOW_TIME, pollIntervalMs: 5 * SECOND });
    const errors: string[] = [];
    scheduler.on('scheduler:error', (event) => void errors.push(event.operation));
    await scheduler.start();
    const bad = await scheduler.triggers.create(cron('bad'));
    const good = await scheduler.triggers.create(cron('good'));
    failing = bad.id;
    await clock.advance(3 * MINUTE);
    expect((await scheduler.runs.list({ triggerId: good.id })).items.map((r) => r.status)).toEqual(['completed', 'completed', 'completed']);
    // 100 ms, 200 ms ... up to the poll interval: about 40 attempts in three minutes, not a hot loop.
    expect(attempts.length).toBeGreaterThan(10);
    expect(attempts.length).toBeLessThan(60);
    expect(errors).toContain('dispatcher:fireSlots');
    failing = '';
    await clock.advance(5 * SECOND);
    expect((await scheduler.runs.list({ triggerId: bad.id })).items.map((r) => r.status)).toEqual(['completed']);
    await scheduler.stop();
  });
});
