/**
 * Timing refinements (B3): jitter delays a run, never its slot; `startAt`, `endAt` and
 * `maxRuns` bound the slots, and a trigger past them completes (`trigger:completed`), which
 * `preview` shows in advance.
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { seededRandom } from 'punctual';
import { HOUR, MINUTE, SECOND, SLOW_TIME, T0, iso, record, testScheduler } from './helpers.js';

/** Polls only every 5 minutes (SLOW_TIME): slots and jittered runs must start by their own timers. */
function tickScheduler(seed?: number) {
  const starts: { slot: number; at: number; runId: string }[] = [];
  const setup = testScheduler({
    ...SLOW_TIME,
    ...(seed !== undefined ? { random: seededRandom(seed) } : {}),
    handlers: {
      tick: {
        schema: z.object({}),
        run: (_p, ctx) => void starts.push({ slot: ctx.scheduledFor.getTime(), at: setup.clock.now(), runId: ctx.runId }),
      },
    },
  });
  return { ...setup, starts };
}

const at = (ms: number): string => new Date(T0 + ms).toISOString();

describe('jitter', () => {
  it('starts each run within [slot, slot + jitterMs), keeping run ids, scheduledFor and the next slots', async () => {
    const jitterMs = 30 * SECOND;
    const { scheduler, clock, starts } = tickScheduler(7);
    await scheduler.start();
    const trigger = await scheduler.triggers.create({ name: 'j', owner: 'u1', taskType: 'tick', payload: {}, schedule: { every: '1m' }, timing: { jitterMs } });
    await clock.advance(10 * MINUTE + jitterMs);

    expect(starts.map((s) => s.slot)).toEqual(Array.from({ length: 10 }, (_, i) => T0 + (i + 1) * MINUTE));
    for (const s of starts) {
      expect(s.runId).toBe(`${trigger.id}@${new Date(s.slot).toISOString()}`);
      expect(s.at - s.slot).toBeGreaterThanOrEqual(0);
      expect(s.at - s.slot).toBeLessThan(jitterMs);
    }
    const delays = starts.map((s) => s.at - s.slot);
    expect(new Set(delays).size).toBeGreaterThan(5); // random per slot, not one fixed delay

    const runs = (await scheduler.runs.list({ triggerId: trigger.id })).items.reverse();
    expect(runs.map((r) => r.scheduledFor.getTime())).toEqual(starts.map((s) => s.slot));
    // Each run became available at its jittered instant and started then.
    expect(runs.map((r) => r.availableAt.getTime() - r.scheduledFor.getTime())).toEqual(delays);
    expect((await scheduler.triggers.get(trigger.id)).nextFireAt?.toISOString()).toBe(at(11 * MINUTE));
    await scheduler.stop();
  });

  it('draws the same delays from the same seed', async () => {
    const delays = async (seed: number) => {
      const { scheduler, clock, starts } = tickScheduler(seed);
      await scheduler.start();
      await scheduler.triggers.create({ name: 'j', owner: 'u1', taskType: 'tick', payload: {}, schedule: { every: '1m' }, timing: { jitterMs: 20 * SECOND } });
      await clock.advance(5 * MINUTE + 20 * SECOND);
      await scheduler.stop();
      return starts.map((s) => s.at - s.slot);
    };
    const first = await delays(99);
    expect(first).toHaveLength(5);
    expect(await delays(99)).toEqual(first);
  });
});

describe('startAt, endAt and maxRuns', () => {
  it('fires no slot before startAt', async () => {
    const { scheduler, clock, starts } = tickScheduler();
    await scheduler.start();
    const trigger = await scheduler.triggers.create({
      name: 's', owner: 'u1', taskType: 'tick', payload: {},
      schedule: { every: '1h' }, timing: { startAt: new Date(T0 + 150 * MINUTE) },
    });
    expect(trigger.nextFireAt?.toISOString()).toBe(at(3 * HOUR));
    expect(iso(await scheduler.triggers.preview(trigger.id, 3))).toEqual([at(3 * HOUR), at(4 * HOUR), at(5 * HOUR)]);
    await clock.advance(4 * HOUR);
    expect(starts.map((s) => s.slot)).toEqual([T0 + 3 * HOUR, T0 + 4 * HOUR]);
    await scheduler.stop();
  });

  it('completes after endAt, with trigger:completed, and preview stops there', async () => {
    const { scheduler, clock, starts } = tickScheduler();
    const completed = record(scheduler, 'trigger:completed');
    await scheduler.start();
    const trigger = await scheduler.triggers.create({
      name: 'e', owner: 'u1', taskType: 'tick', payload: {},
      schedule: { cron: '0 * * * *' }, timing: { endAt: '2026-01-01T03:00:00Z' },
    });
    // endAt is inclusive: a slot exactly at it still fires.
    expect(iso(await scheduler.triggers.preview(trigger.id, 10))).toEqual([at(HOUR), at(2 * HOUR), at(3 * HOUR)]);
    await clock.advance(2 * HOUR);
    expect(completed).toHaveLength(0);
    await clock.advance(HOUR);
    expect(completed.map((e) => [e.trigger.id, e.trigger.status, e.trigger.nextFireAt])).toEqual([[trigger.id, 'completed', null]]);
    await clock.advance(3 * HOUR);
    expect(starts.map((s) => s.slot)).toEqual([T0 + HOUR, T0 + 2 * HOUR, T0 + 3 * HOUR]);
    expect(await scheduler.triggers.get(trigger.id)).toMatchObject({ status: 'completed', nextFireAt: null, runCount: 3 });
    expect(await scheduler.triggers.preview(trigger.id, 5)).toEqual([]);
    await scheduler.stop();
  });

  it('completes after maxRuns scheduled runs; manual runs do not count', async () => {
    const { scheduler, clock, starts } = tickScheduler();
    const completed = record(scheduler, 'trigger:completed');
    await scheduler.start();
    const trigger = await scheduler.triggers.create({ name: 'm', owner: 'u1', taskType: 'tick', payload: {}, schedule: { every: '10m' }, timing: { maxRuns: 3 } });
    expect(iso(await scheduler.triggers.preview(trigger.id, 10))).toEqual([at(10 * MINUTE), at(20 * MINUTE), at(30 * MINUTE)]);
    await clock.advance(10 * MINUTE);
    await scheduler.triggers.runNow(trigger.id);
    await clock.advance(SECOND);
    expect(iso(await scheduler.triggers.preview(trigger.id, 10))).toEqual([at(20 * MINUTE), at(30 * MINUTE)]);
    await clock.advance(HOUR);
    expect(starts.filter((s) => s.runId.includes('@2026')).map((s) => s.slot)).toEqual([T0 + 10 * MINUTE, T0 + 20 * MINUTE, T0 + 30 * MINUTE]);
    expect(starts).toHaveLength(4);
    expect(completed.map((e) => e.trigger.id)).toEqual([trigger.id]);
    expect(await scheduler.triggers.get(trigger.id)).toMatchObject({ status: 'completed', runCount: 3, nextFireAt: null });
    await scheduler.stop();
  });

  it('creates a trigger whose endAt is already past as completed, firing nothing', async () => {
    const { scheduler, clock, starts } = tickScheduler();
    await scheduler.start();
    await clock.advance(HOUR);
    const trigger = await scheduler.triggers.create({ name: 'late', owner: 'u1', taskType: 'tick', payload: {}, schedule: { every: '1m' }, timing: { endAt: new Date(T0) } });
    expect(trigger).toMatchObject({ status: 'completed', nextFireAt: null });
    expect(await scheduler.triggers.preview(trigger.id)).toEqual([]);
    await clock.advance(5 * MINUTE);
    expect(starts).toHaveLength(0);
    await scheduler.stop();
  });

  it('scheduler.preview applies no timing; triggers.preview applies startAt, endAt and maxRuns together', async () => {
    const { scheduler } = tickScheduler();
    const trigger = await scheduler.triggers.create({
      name: 'all', owner: 'u1', taskType: 'tick', payload: {}, schedule: { every: '1h' },
      timing: { startAt: new Date(T0 + 2 * HOUR), endAt: new Date(T0 + 10 * HOUR), maxRuns: 4 },
    });
    expect(iso(await scheduler.triggers.preview(trigger.id, 10))).toEqual([at(2 * HOUR), at(3 * HOUR), at(4 * HOUR), at(5 * HOUR)]);
    expect(scheduler.preview({ every: '1h', anchor: new Date(T0) }, 3)).toHaveLength(3);
  });
});
