/**
 * `prefetch`: runs claimed ahead of free capacity and held on the instance until a slot frees.
 * Held runs are leased (their attempt has begun), start in claim order as slots free, are
 * handed back to the store when held longer than a renewal interval or when the scheduler
 * stops, and never start once cancelled.
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { memoryStore, type Store } from 'punctual';
import { settle, TestClock } from 'punctual/testing';
import { Gate, SECOND, T0, testScheduler } from './helpers.js';

const LEASE_MS = 30 * SECOND;

interface PrefetchSetup {
  maxConcurrentRuns: number;
  prefetch: number;
  concurrency?: number;
  clock?: TestClock;
  store?: Store;
  pollIntervalMs?: number;
}

function prefetching({ concurrency, ...options }: PrefetchSetup) {
  const gate = new Gate();
  const started: number[] = [];
  const setup = testScheduler({
    ...options,
    leaseMs: LEASE_MS,
    handlers: {
      block: {
        schema: z.object({ n: z.number() }),
        ...(concurrency !== undefined ? { concurrency } : {}),
        run: (payload, ctx) => {
          started.push(payload.n);
          return gate.wait(ctx.signal);
        },
      },
    },
  });
  return { ...setup, gate, started };
}

/** `count` manual runs, one per millisecond, so claim order (oldest first) is their order. */
async function enqueue({ scheduler, clock }: ReturnType<typeof prefetching>, count: number): Promise<string[]> {
  const trigger = await scheduler.triggers.create({ name: 'b', owner: 'u1', taskType: 'block', payload: { n: 0 }, schedule: { manual: true }, overlap: 'allow' });
  const ids: string[] = [];
  for (let n = 1; n <= count; n++) {
    ids.push((await scheduler.triggers.runNow(trigger.id, { payload: { n } })).id);
    await clock.advance(1);
  }
  return ids;
}

async function statusCounts(scheduler: ReturnType<typeof prefetching>['scheduler']) {
  const count = async (status: 'pending' | 'running' | 'completed' | 'cancelled') => (await scheduler.runs.list({ status })).items.length;
  return { pending: await count('pending'), running: await count('running'), completed: await count('completed'), cancelled: await count('cancelled') };
}

describe('prefetch', () => {
  it('claims up to maxConcurrentRuns + prefetch runs and starts the held ones in order as slots free', async () => {
    const setup = prefetching({ maxConcurrentRuns: 2, prefetch: 3 });
    const { scheduler, gate, started } = setup;
    await enqueue(setup, 10);
    await scheduler.start();
    await settle();
    expect(gate.inside).toBe(2);
    expect(await statusCounts(scheduler)).toMatchObject({ running: 5, pending: 5 });

    for (let finished = 1; finished <= 10; finished++) {
      await gate.release();
      expect(gate.inside).toBe(Math.min(2, 10 - finished));
    }
    expect(gate.maxInside).toBe(2);
    expect(started).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(await statusCounts(scheduler)).toMatchObject({ completed: 10, running: 0, pending: 0 });
    await scheduler.stop();
  });

  it('hands back runs held longer than a lease renewal interval, so another instance can run them', async () => {
    const clock = new TestClock(T0);
    const store = memoryStore();
    // A polls rarely, so only B's polls pick up what A hands back.
    const a = prefetching({ maxConcurrentRuns: 1, prefetch: 4, clock, store, pollIntervalMs: 300_000 });
    const b = prefetching({ maxConcurrentRuns: 10, prefetch: 0, clock, store, pollIntervalMs: SECOND });
    const ids = await enqueue(a, 5);
    await a.scheduler.start();
    await settle();
    await b.scheduler.start();
    await clock.advance(LEASE_MS / 3 - 10); // just before the first renewal round
    expect(a.gate.inside).toBe(1);
    expect(b.gate.inside).toBe(0); // all five are leased to A

    await clock.advance(SECOND);
    expect(b.gate.inside).toBe(4);
    expect(b.started).toEqual([2, 3, 4, 5]);
    await b.gate.releaseAll();
    await a.gate.releaseAll();
    for (const id of ids.slice(1)) expect(await a.scheduler.runs.get(id)).toMatchObject({ status: 'completed', attempt: 1, instanceId: b.scheduler.instanceId });
    await a.scheduler.stop();
    await b.scheduler.stop();
  });

  it('gives held runs back to the store when the scheduler stops', async () => {
    const setup = prefetching({ maxConcurrentRuns: 1, prefetch: 3 });
    const { scheduler, gate } = setup;
    const ids = await enqueue(setup, 4);
    await scheduler.start();
    await settle();
    expect(gate.inside).toBe(1);
    await scheduler.stop({ graceMs: 0 });
    for (const id of ids) expect(await scheduler.runs.get(id)).toMatchObject({ status: 'pending', attempt: 0, lease: null });
  });

  it('never starts a held run cancelled through this instance', async () => {
    const setup = prefetching({ maxConcurrentRuns: 1, prefetch: 2 });
    const { scheduler, gate, started } = setup;
    const ids = await enqueue(setup, 3);
    await scheduler.start();
    await settle();
    const held = ids[1] as string;
    expect(await scheduler.runs.cancel(held)).toMatchObject({ status: 'running', cancelRequested: true });
    await gate.release();
    await gate.release();
    expect(started).toEqual([1, 3]);
    expect(await scheduler.runs.get(held)).toMatchObject({ status: 'cancelled', error: { name: 'CancelledError' } });
    expect(await statusCounts(scheduler)).toMatchObject({ completed: 2, cancelled: 1 });
    await scheduler.stop();
  });

  it('counts held runs against their task type cap', async () => {
    const setup = prefetching({ maxConcurrentRuns: 5, prefetch: 5, concurrency: 2 });
    const { scheduler, gate } = setup;
    await enqueue(setup, 6);
    await scheduler.start();
    await settle();
    expect(gate.inside).toBe(2);
    expect(await statusCounts(scheduler)).toMatchObject({ running: 2, pending: 4 });
    await gate.releaseAll();
    await gate.releaseAll();
    await gate.releaseAll();
    expect(gate.maxInside).toBe(2);
    expect(await statusCounts(scheduler)).toMatchObject({ completed: 6 });
    await scheduler.stop();
  });

  it('rejects a prefetch outside 0..10,000', () => {
    expect(() => prefetching({ maxConcurrentRuns: 1, prefetch: -1 })).toThrow(/prefetch: must be an integer from 0 to 10000/);
  });
});
