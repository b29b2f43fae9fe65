/**
 * Exclusion calendars (B4): whole local days, weekly local windows and one-off absolute
 * windows. A slot inside a referenced calendar is skipped without a run, `preview` shows the
 * slots that remain, and a date entry follows its zone's real day (23 or 25 hours across DST).
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createScheduler, type CalendarDefinition, type ScheduleInput } from 'punctual';
import { TestClock } from 'punctual/testing';
import { HOUR, MINUTE, SLOW_TIME, iso, testScheduler } from './helpers.js';

const calendars: Record<string, CalendarDefinition> = {
  'fr-holidays': { timezone: 'Europe/Paris', dates: ['2026-01-01', '2026-01-03'] },
  maintenance: {
    timezone: 'UTC',
    weekly: [{ days: [0], from: '02:00', to: '04:00' }], // Sundays 02:00-04:00
    windows: [{ start: '2026-01-01T05:00:00Z', end: '2026-01-01T07:00:00Z' }],
  },
  'ny-closed': { timezone: 'America/New_York', dates: ['2026-03-08', '2026-11-01'] },
};

const handlers = { tick: { schema: z.object({}), run: () => undefined } };

function calendarScheduler(start = '2026-01-01T00:00:00Z') {
  return testScheduler({ ...SLOW_TIME, clock: new TestClock(Date.parse(start)), calendars, handlers });
}

const tick = (name: string, schedule: ScheduleInput, names: string[]) =>
  ({ name, owner: 'u1', taskType: 'tick' as const, payload: {}, schedule, timing: { calendars: names } });

/** Every `stepMin` minutes from `from` (inclusive) to `to` (exclusive), as ISO strings. */
function every(stepMin: number, from: string, to: string): string[] {
  const out: string[] = [];
  for (let t = Date.parse(from); t < Date.parse(to); t += stepMin * MINUTE) out.push(new Date(t).toISOString());
  return out;
}

describe('exclusion calendars', () => {
  it('skips the holidays of a daily 09:00 Europe/Paris trigger, in preview and in runs', async () => {
    const { scheduler, clock } = calendarScheduler();
    await scheduler.start();
    const trigger = await scheduler.triggers.create(tick('daily', { cron: '0 9 * * *', timezone: 'Europe/Paris' }, ['fr-holidays']));
    // 09:00 in Paris is 08:00Z in winter; January 1st and 3rd are holidays.
    const expected = ['2026-01-02T08:00:00.000Z', '2026-01-04T08:00:00.000Z', '2026-01-05T08:00:00.000Z'];
    expect(iso(await scheduler.triggers.preview(trigger.id, 3))).toEqual(expected);
    // The schedule alone would fire on every day.
    expect(iso(scheduler.preview({ cron: '0 9 * * *', timezone: 'Europe/Paris' }, 2))).toEqual(['2026-01-01T08:00:00.000Z', '2026-01-02T08:00:00.000Z']);

    await clock.advance(5 * 24 * HOUR);
    const runs = await scheduler.runs.list({ triggerId: trigger.id });
    expect(iso(runs.items.map((r) => r.scheduledFor)).reverse()).toEqual(expected);
    await scheduler.stop();
  });

  it('skips the slots inside a weekly maintenance window and a one-off window', async () => {
    const { scheduler, clock } = calendarScheduler();
    await scheduler.start();
    const trigger = await scheduler.triggers.create(tick('hourly', { cron: '0 * * * *' }, ['maintenance']));
    const preview = iso(await scheduler.triggers.preview(trigger.id, 200));
    // One-off window [05:00, 07:00) on Jan 1: 05:00 and 06:00 skipped, 07:00 fires (end exclusive).
    expect(preview.slice(0, 6)).toEqual(['01', '02', '03', '04', '07', '08'].map((h) => `2026-01-01T${h}:00:00.000Z`));
    // Sunday Jan 4, 02:00-04:00: 02:00 and 03:00 skipped, 04:00 fires.
    const sunday = preview.filter((s) => s.startsWith('2026-01-04T0'));
    expect(sunday).toEqual(['00', '01', '04', '05', '06', '07', '08', '09'].map((h) => `2026-01-04T${h}:00:00.000Z`));
    // Saturday is not in the window.
    expect(preview).toContain('2026-01-03T02:00:00.000Z');

    await clock.advance(4 * 24 * HOUR + 5 * HOUR);
    const ran = iso((await scheduler.runs.list({ triggerId: trigger.id, limit: 500 })).items.map((r) => r.scheduledFor)).reverse();
    expect(ran).toEqual(preview.filter((s) => s <= '2026-01-05T05:00:00.000Z'));
    expect(ran).toHaveLength(4 * 24 + 5 - 4);
    await scheduler.stop();
  });

  it('reads a date in America/New_York as the local day: 23 hours on 2026-03-08', async () => {
    const { scheduler, clock } = calendarScheduler('2026-03-07T23:50:00Z');
    await scheduler.start();
    const trigger = await scheduler.triggers.create(tick('quarter', { every: '15m', anchor: '2026-03-01T00:00:00Z' }, ['ny-closed']));
    const preview = iso(await scheduler.triggers.preview(trigger.id, 22));
    // Midnight EST (05:00Z) to midnight EDT on the 9th (04:00Z): 23 hours without a slot.
    expect(preview).toEqual([...every(15, '2026-03-08T00:00:00Z', '2026-03-08T05:00:00Z'), ...every(15, '2026-03-09T04:00:00Z', '2026-03-09T04:30:00Z')]);

    await clock.advanceTo(Date.parse('2026-03-09T05:00:00Z'));
    const ran = iso((await scheduler.runs.list({ triggerId: trigger.id, limit: 500 })).items.map((r) => r.scheduledFor)).reverse();
    expect(ran).toEqual([...every(15, '2026-03-08T00:00:00Z', '2026-03-08T05:00:00Z'), ...every(15, '2026-03-09T04:00:00Z', '2026-03-09T05:01:00Z')]);
    await scheduler.stop();
  });

  it('reads a date in America/New_York as the local day: 25 hours on 2026-11-01', async () => {
    const { scheduler } = calendarScheduler('2026-11-01T00:00:00Z');
    const trigger = await scheduler.triggers.create(tick('hourly', { cron: '0 * * * *' }, ['ny-closed']));
    // Midnight EDT (04:00Z) to midnight EST on the 2nd (05:00Z): 25 hourly slots skipped.
    expect(iso(await scheduler.triggers.preview(trigger.id, 5))).toEqual([
      '2026-11-01T01:00:00.000Z', '2026-11-01T02:00:00.000Z', '2026-11-01T03:00:00.000Z',
      '2026-11-02T05:00:00.000Z', '2026-11-02T06:00:00.000Z',
    ]);
  });

  it('applies calendars to event triggers by publish time', async () => {
    const { scheduler, clock } = calendarScheduler();
    await scheduler.triggers.create(tick('on-deploy', { event: 'deploy' }, ['maintenance']));
    await clock.advanceTo(Date.parse('2026-01-01T05:30:00Z'));
    expect((await scheduler.publish('deploy', {})).runs).toHaveLength(0);
    await clock.advanceTo(Date.parse('2026-01-01T07:00:00Z'));
    expect((await scheduler.publish('deploy', {})).runs).toHaveLength(1);
  });

  it('rejects an unknown calendar name with a ValidationError, on create and update', async () => {
    const { scheduler } = calendarScheduler();
    const error = await scheduler.triggers.create(tick('x', { every: '1h' }, ['fr-holidays', 'nope'])).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'ValidationError', issues: [{ path: 'timing.calendars' }] });
    expect((error as Error).message).toContain('"nope"');
    expect((await scheduler.triggers.list()).items.length).toBe(0);

    const trigger = await scheduler.triggers.create(tick('y', { every: '1h' }, ['fr-holidays']));
    await expect(scheduler.triggers.update(trigger.id, { timing: { calendars: ['missing'] } })).rejects.toMatchObject({ name: 'ValidationError' });
    expect((await scheduler.triggers.get(trigger.id)).timing?.calendars).toEqual(['fr-holidays']);
  });

  it('rejects a bad calendar definition with a ConfigurationError at createScheduler', () => {
    const bad: Record<string, CalendarDefinition>[] = [
      { c: { timezone: 'Mars/Olympus' } },
      { c: { dates: ['2026-1-5'] } },
      { c: { dates: ['2026-02-30'] } },
      { c: { weekly: [{ days: [7], from: '02:00', to: '04:00' }] } },
      { c: { weekly: [{ days: [1], from: '04:00', to: '02:00' }] } },
      { c: { weekly: [{ days: [1], from: '2:00', to: '04:00' }] } },
      { c: { windows: [{ start: '2026-01-01T05:00:00', end: '2026-01-01T07:00:00Z' }] } },
      { c: { windows: [{ start: '2026-01-01T07:00:00Z', end: '2026-01-01T05:00:00Z' }] } },
      { 'bad name': {} },
    ];
    for (const definitions of bad) {
      expect(() => createScheduler({ handlers, calendars: definitions }), JSON.stringify(definitions)).toThrow(expect.objectContaining({ name: 'ConfigurationError' }));
    }
  });
});
