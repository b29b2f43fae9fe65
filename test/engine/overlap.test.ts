/**
 * Overlap policy (B2): what a slot does when the previous run of its trigger is still running.
 * The handler takes 90 s of test-clock time; the trigger fires every minute, so the slot at
 * 2 min comes due while the 1 min run still runs (until 2:30).
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { OverlapPolicy } from 'punctual';
import { MINUTE, SECOND, T0, record, sleepOn, testScheduler } from './helpers.js';

interface Span {
  slot: number;
  start: number;
  end: number;
}

async function slowEveryMinute(overlap: OverlapPolicy, untilMs: number) {
  const spans: Span[] = [];
  let inside = 0;
  let maxInside = 0;
  const { scheduler, clock } = testScheduler({
    handlers: {
      slow: {
        schema: z.object({}),
        run: async (_p, ctx) => {
          const span = { slot: (ctx.scheduledFor.getTime() - T0) / MINUTE, start: clock.now() - T0, end: -1 };
          inside++;
          maxInside = Math.max(maxInside, inside);
          await sleepOn(clock, 90 * SECOND, ctx.signal);
          inside--;
          span.end = clock.now() - T0;
          spans.push(span);
        },
      },
    },
  });
  const skipped = record(scheduler, 'run:skipped');
  await scheduler.start();
  const trigger = await scheduler.triggers.create({ name: 'slow', owner: 'u1', taskType: 'slow', payload: {}, schedule: { every: '1m' }, overlap });
  await clock.advance(untilMs);
  const runs = (await scheduler.runs.list({ triggerId: trigger.id })).items.sort((a, b) => a.scheduledFor.getTime() - b.scheduledFor.getTime());
  await scheduler.stop({ graceMs: 0 });
  return { spans, maxInside, skipped, runs: runs.map((r) => [(r.scheduledFor.getTime() - T0) / MINUTE, r.status]) };
}

describe('overlap policy', () => {
  it('skip: records the overlapping slot as skipped and runs the next free one', async () => {
    const { spans, maxInside, skipped, runs } = await slowEveryMinute('skip', 4 * MINUTE + 40 * SECOND);
    // 1:00-2:30 runs; 2:00 is skipped; 3:00-4:30 runs; 4:00 is skipped.
    expect(runs).toEqual([[1, 'completed'], [2, 'skipped'], [3, 'completed'], [4, 'skipped']]);
    expect(spans).toEqual([
      { slot: 1, start: 1 * MINUTE, end: 2.5 * MINUTE },
      { slot: 3, start: 3 * MINUTE, end: 4.5 * MINUTE },
    ]);
    expect(maxInside).toBe(1);
    expect(skipped.map((e) => e.run.status)).toEqual(['skipped', 'skipped']);
    expect(skipped[0]?.run.scheduledFor.getTime()).toBe(T0 + 2 * MINUTE);
  });

  it('queue (default): the overlapping slot waits and runs after the previous one', async () => {
    const { spans, maxInside, runs } = await slowEveryMinute('queue', 4 * MINUTE + 5 * SECOND);
    expect(maxInside).toBe(1);
    expect(spans.map((s) => s.slot)).toEqual([1, 2]);
    const [first, second] = spans as [Span, Span];
    expect(second.start).toBeGreaterThanOrEqual(first.end);
    expect(second.start).toBeLessThanOrEqual(first.end + SECOND); // picked up at the next deferral check
    expect(runs.slice(0, 2)).toEqual([[1, 'completed'], [2, 'completed']]);
    expect(runs.some(([, status]) => status === 'skipped')).toBe(false);
  });

  it('allow: the overlapping slot runs at the same time', async () => {
    const { spans, maxInside, runs } = await slowEveryMinute('allow', 3 * MINUTE + 40 * SECOND);
    expect(maxInside).toBe(2);
    expect(spans.slice(0, 2)).toEqual([
      { slot: 1, start: 1 * MINUTE, end: 2.5 * MINUTE },
      { slot: 2, start: 2 * MINUTE, end: 3.5 * MINUTE },
    ]);
    expect(runs.slice(0, 2)).toEqual([[1, 'completed'], [2, 'completed']]);
  });
});
