/**
 * Trigger management (R1-R3) as the running engine sees it: paused triggers do not fire,
 * resumed ones apply their misfire policy, a new schedule restarts from now, deleting cancels
 * pending runs, `once` triggers complete, and runNow works whatever the schedule or status.
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { HOUR, MINUTE, SECOND, T0, iso, record, testScheduler } from './helpers.js';

function ticking() {
  const slots: string[] = [];
  const setup = testScheduler({
    handlers: { tick: { schema: z.object({ n: z.number().default(0) }), run: (p, ctx) => void slots.push(`${ctx.source}:${p.n}@${ctx.scheduledFor.toISOString()}`) } },
  });
  return { ...setup, slots };
}

const at = (ms: number): string => new Date(T0 + ms).toISOString();

describe('triggers on a running scheduler', () => {
  it('does not fire while paused, and applies the misfire policy on resume', async () => {
    const { scheduler, clock, slots } = ticking();
    await scheduler.start();
    const trigger = await scheduler.triggers.create({ name: 't', owner: 'u1', taskType: 'tick', payload: {}, schedule: { every: '1m' } });
    await clock.advance(MINUTE);
    const paused = await scheduler.triggers.pause(trigger.id, { reason: 'deploy' });
    expect(paused).toMatchObject({ status: 'paused', pausedReason: 'deploy' });
    await clock.advance(HOUR);
    expect(slots).toEqual([`schedule:0@${at(MINUTE)}`]);

    const resumed = await scheduler.triggers.resume(trigger.id);
    expect(resumed.status).toBe('active');
    expect(resumed.pausedReason).toBeUndefined();
    await clock.advance(0);
    // Default misfire `once`: the latest slot missed during the pause runs once, then the schedule goes on.
    expect(slots).toEqual([`schedule:0@${at(MINUTE)}`, `schedule:0@${at(HOUR + MINUTE)}`]);
    await clock.advance(MINUTE);
    expect(slots.at(-1)).toBe(`schedule:0@${at(HOUR + 2 * MINUTE)}`);
    await scheduler.stop();
  });

  it('restarts a changed schedule from now', async () => {
    const { scheduler, clock, slots } = ticking();
    await scheduler.start();
    const trigger = await scheduler.triggers.create({ name: 't', owner: 'u1', taskType: 'tick', payload: {}, schedule: { every: '1h' } });
    await clock.advance(10 * MINUTE);
    const updated = await scheduler.triggers.update(trigger.id, { schedule: { every: '15m' }, payload: { n: 7 } });
    expect(updated.nextFireAt?.toISOString()).toBe(at(25 * MINUTE));
    expect(updated.version).toBe(trigger.version + 1);
    await clock.advance(40 * MINUTE);
    expect(slots).toEqual([`schedule:7@${at(25 * MINUTE)}`, `schedule:7@${at(40 * MINUTE)}`]);
    await scheduler.stop();
  });

  it('cancels pending runs of a deleted trigger and fires it no more', async () => {
    const { scheduler, clock, slots } = ticking();
    const trigger = await scheduler.triggers.create({ name: 't', owner: 'u1', taskType: 'tick', payload: {}, schedule: { every: '1m' } });
    const pending = [await scheduler.triggers.runNow(trigger.id), await scheduler.triggers.runNow(trigger.id)];
    const deleted = record(scheduler, 'trigger:deleted');
    await scheduler.triggers.delete(trigger.id);
    expect(deleted).toHaveLength(1);
    await expect(scheduler.triggers.get(trigger.id)).rejects.toMatchObject({ name: 'NotFoundError' });
    for (const run of pending) expect((await scheduler.runs.get(run.id)).status).toBe('cancelled');
    await scheduler.start();
    await clock.advance(5 * MINUTE);
    expect(slots).toEqual([]);
    expect((await scheduler.runs.list({ triggerId: trigger.id })).items.length).toBe(2);
    await scheduler.stop();
  });

  it('completes a once trigger after its run, and runs it again on demand', async () => {
    const { scheduler, clock, slots } = ticking();
    const completed = record(scheduler, 'trigger:completed');
    await scheduler.start();
    const trigger = await scheduler.triggers.create({ name: 't', owner: 'u1', taskType: 'tick', payload: { n: 1 }, schedule: { at: at(30 * SECOND) } });
    expect(await scheduler.triggers.preview(trigger.id, 3)).toEqual([new Date(at(30 * SECOND))]);
    await clock.advance(MINUTE);
    expect(completed.map((e) => e.trigger.id)).toEqual([trigger.id]);
    expect(await scheduler.triggers.get(trigger.id)).toMatchObject({ status: 'completed', nextFireAt: null, runCount: 1 });

    await scheduler.triggers.runNow(trigger.id, { payload: { n: 2 } });
    await clock.advance(0);
    expect(slots).toEqual([`schedule:1@${at(30 * SECOND)}`, `manual:2@${at(MINUTE)}`]);
    await expect(scheduler.triggers.runNow(trigger.id, { payload: { n: 'x' } as never })).rejects.toMatchObject({ name: 'ValidationError' });
    await scheduler.stop();
  });

  it('creates a paused trigger that only runs on demand until resumed', async () => {
    const { scheduler, clock, slots } = ticking();
    await scheduler.start();
    const trigger = await scheduler.triggers.create({
      name: 't', owner: 'u1', taskType: 'tick', payload: {}, schedule: { every: '1m' }, paused: true, misfire: 'skip', misfireGraceMs: 10 * SECOND,
    });
    expect(trigger.status).toBe('paused');
    await clock.advance(3 * MINUTE + 30 * SECOND);
    expect(slots).toEqual([]);
    await scheduler.triggers.runNow(trigger.id);
    await clock.advance(0);
    expect(slots).toEqual([`manual:0@${at(3.5 * MINUTE)}`]);
    await scheduler.triggers.resume(trigger.id); // the slots missed while paused are skipped
    await clock.advance(MINUTE);
    expect(slots).toEqual([`manual:0@${at(3.5 * MINUTE)}`, `schedule:0@${at(4 * MINUTE)}`]);
    await scheduler.stop();
  });

  it('previews schedules without creating anything', async () => {
    const { scheduler } = ticking();
    expect(iso(scheduler.preview({ cron: '0 9 * * 1-5', timezone: 'Europe/Paris' }, 3))).toEqual([
      '2026-01-01T08:00:00.000Z', // Thursday
      '2026-01-02T08:00:00.000Z',
      '2026-01-05T08:00:00.000Z', // Monday
    ]);
    expect(iso(scheduler.preview({ every: '90m' }, 2))).toEqual([at(90 * MINUTE), at(180 * MINUTE)]);
    expect(() => scheduler.preview({ cron: 'nope' })).toThrow(expect.objectContaining({ name: 'ValidationError' }));
    expect((await scheduler.triggers.list()).items.length).toBe(0);
  });
});
