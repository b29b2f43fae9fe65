/**
 * Backfill (B7): `triggers.backfill(id, { from, to })` creates a run, `source: 'backfill'`, for
 * every slot of a past range that has none yet. Slots keep their usual run ids, so slots that
 * ran are left alone and a repeated backfill creates nothing. Backfilled runs obey the overlap
 * policy and are audited.
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { HOUR, MINUTE, SECOND, T0, iso, record, sleepOn, testScheduler } from './helpers.js';

function backfillScheduler(workMs = 0, pollIntervalMs = 1_000) {
  const handled: { slot: string; source: string; start: number; end: number }[] = [];
  let inside = 0;
  let maxInside = 0;
  const setup = testScheduler({
    pollIntervalMs,
    handlers: {
      report: {
        schema: z.object({}),
        run: async (_p, ctx) => {
          const start = setup.clock.now();
          inside++;
          maxInside = Math.max(maxInside, inside);
          if (workMs > 0) await sleepOn(setup.clock, workMs, ctx.signal);
          inside--;
          handled.push({ slot: ctx.scheduledFor.toISOString(), source: ctx.source, start, end: setup.clock.now() });
        },
      },
    },
  });
  return { ...setup, handled, maxInside: () => maxInside };
}

const hour = (h: number): string => new Date(T0 + h * HOUR).toISOString();
const hourly = (name = 'hourly') => ({ name, owner: 'u1', taskType: 'report' as const, payload: {}, schedule: { every: '1h' } });

describe('backfill', () => {
  it('creates the 7 missing runs of 10 past slots where 3 ran, then nothing on a repeat', async () => {
    const { scheduler, clock, handled } = backfillScheduler(0, MINUTE);
    const scheduled = record(scheduler, 'run:scheduled');
    await scheduler.start();
    const trigger = await scheduler.triggers.create(hourly());
    await clock.advance(3 * HOUR + 30 * MINUTE); // slots 1h, 2h, 3h run
    await scheduler.triggers.pause(trigger.id); // 4h .. 10h never fire
    await clock.advance(8 * HOUR);
    expect(handled.map((h) => h.slot)).toEqual([hour(1), hour(2), hour(3)]);

    scheduled.length = 0;
    const result = await scheduler.triggers.backfill(trigger.id, { from: new Date(T0 + HOUR), to: new Date(T0 + 11 * HOUR), actor: 'ops' });
    const missing = [4, 5, 6, 7, 8, 9, 10].map(hour);
    expect(result.slots).toBe(10);
    expect(result.alreadyRun).toBe(3);
    expect(iso(result.created.map((r) => r.scheduledFor))).toEqual(missing);
    expect(result.created.every((r) => r.source === 'backfill' && r.id === `${trigger.id}@${r.scheduledFor.toISOString()}`)).toBe(true);
    expect(scheduled.map((e) => e.run.id)).toEqual(result.created.map((r) => r.id));

    await clock.advance(10 * MINUTE); // one at a time (overlap queue), rechecked every poll
    expect(handled.slice(3).map((h) => [h.slot, h.source])).toEqual(missing.map((slot) => [slot, 'backfill']));
    const history = await scheduler.runs.list({ triggerId: trigger.id, source: 'backfill' });
    expect(history.items).toHaveLength(7);
    expect(history.items.every((r) => r.status === 'completed')).toBe(true);

    const again = await scheduler.triggers.backfill(trigger.id, { from: new Date(T0 + HOUR), to: new Date(T0 + 11 * HOUR) });
    expect(again).toEqual({ slots: 10, created: [], alreadyRun: 10 });
    expect((await scheduler.runs.list({ triggerId: trigger.id })).items.length).toBe(10);

    const audit = (await scheduler.audit.list({ triggerId: trigger.id, action: 'trigger.backfill' })).items.reverse();
    expect(audit.map((e) => [e.actor, e.details])).toEqual([
      ['ops', { from: hour(1), to: hour(11), slots: 10, created: 7 }],
      ['system', { from: hour(1), to: hour(11), slots: 10, created: 0 }],
    ]);
    await scheduler.stop();
  });

  it('takes the range as [from, to) and applies the trigger\'s bounds', async () => {
    const { scheduler, clock } = backfillScheduler();
    await clock.advance(10 * HOUR);
    const trigger = await scheduler.triggers.create({ ...hourly(), schedule: { every: '1h', anchor: new Date(T0) }, timing: { startAt: new Date(T0 + 3 * HOUR) }, paused: true });
    const result = await scheduler.triggers.backfill(trigger.id, { from: new Date(T0), to: new Date(T0 + 6 * HOUR) });
    // 0h .. 2h are before startAt; 6h is the range's open end.
    expect(iso(result.created.map((r) => r.scheduledFor))).toEqual([hour(3), hour(4), hour(5)]);
  });

  it('runs backfilled runs one at a time under overlap queue', async () => {
    const { scheduler, clock, handled, maxInside } = backfillScheduler(30 * SECOND);
    await clock.advance(6 * HOUR);
    const trigger = await scheduler.triggers.create({ ...hourly(), schedule: { every: '1h', anchor: new Date(T0) }, overlap: 'queue', paused: true });
    await scheduler.start();
    const { created } = await scheduler.triggers.backfill(trigger.id, { from: new Date(T0), to: new Date(T0 + 5 * HOUR) });
    expect(created).toHaveLength(5);
    await clock.advance(5 * MINUTE);

    expect(maxInside()).toBe(1);
    expect(handled.map((h) => h.slot).sort()).toEqual([0, 1, 2, 3, 4].map(hour));
    const spans = [...handled].sort((a, b) => a.start - b.start);
    for (let i = 1; i < spans.length; i++) expect(spans[i]!.start).toBeGreaterThanOrEqual(spans[i - 1]!.end);
    expect((await scheduler.runs.list({ triggerId: trigger.id, status: 'completed' })).items.length).toBe(5);
    await scheduler.stop();
  });

  it('rejects bad ranges and triggers without slots with a ValidationError, writing nothing', async () => {
    const { scheduler, clock } = backfillScheduler();
    await clock.advance(30 * 24 * HOUR);
    const now = clock.now();
    const minutely = await scheduler.triggers.create({ ...hourly('minutely'), schedule: { every: '1m', anchor: new Date(T0) } });
    const manual = await scheduler.triggers.create({ ...hourly('manual'), schedule: { manual: true } });
    const onEvent = await scheduler.triggers.create({ ...hourly('on-event'), schedule: { event: 'x' } });
    const cases: [string, { from: Date; to: Date }, string][] = [
      // 7 days of minutes: 10,080 slots.
      [minutely.id, { from: new Date(T0), to: new Date(T0 + 7 * 24 * HOUR) }, 'from'],
      [minutely.id, { from: new Date(now - HOUR), to: new Date(now + MINUTE) }, 'to'],
      [minutely.id, { from: new Date(now - HOUR), to: new Date(now - 2 * HOUR) }, 'to'],
      [minutely.id, { from: new Date(Number.NaN), to: new Date(now) }, 'from'],
      [manual.id, { from: new Date(T0), to: new Date(T0 + HOUR) }, 'id'],
      [onEvent.id, { from: new Date(T0), to: new Date(T0 + HOUR) }, 'id'],
    ];
    for (const [id, range, path] of cases) {
      await expect(scheduler.triggers.backfill(id, range), `${id} ${path}`).rejects.toMatchObject({ name: 'ValidationError', issues: [{ path }] });
    }
    // 10,000 slots exactly is allowed.
    const ok = await scheduler.triggers.backfill(minutely.id, { from: new Date(T0 + MINUTE), to: new Date(T0 + 10_001 * MINUTE) });
    expect(ok.slots).toBe(10_000);
    expect((await scheduler.runs.list({ triggerId: manual.id })).items.length + (await scheduler.runs.list({ triggerId: onEvent.id })).items.length).toBe(0);
    expect((await scheduler.audit.list({ action: 'trigger.backfill' })).items.length).toBe(1);
    await expect(scheduler.forOwner('u2').triggers.backfill(minutely.id, { from: new Date(T0), to: new Date(T0 + HOUR) })).rejects.toMatchObject({ name: 'NotFoundError' });
  });
});
