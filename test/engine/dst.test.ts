/**
 * Cron triggers across daylight-saving changes, end to end: the runs the scheduler creates
 * while the test clock crosses the change. The documented rule: a wall time the clocks jump
 * over fires once, when the jump happens (03:00 local); a wall time that occurs twice fires
 * once, at its first occurrence.
 *
 * America/New_York 2026: clocks go 02:00 EST -> 03:00 EDT on 2026-03-08 (07:00Z) and
 * 02:00 EDT -> 01:00 EST on 2026-11-01 (06:00Z).
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { TestClock } from 'punctual/testing';
import { SLOW_TIME, iso, testScheduler } from './helpers.js';

const NY = 'America/New_York';

/** Runs a cron trigger from `from` to `to` and returns the `scheduledFor` of every run created. */
async function slotsBetween(cron: string, timezone: string, from: string, to: string): Promise<string[]> {
  const clock = new TestClock(Date.parse(from));
  const fired: Date[] = [];
  const { scheduler } = testScheduler({
    clock,
    ...SLOW_TIME,
    handlers: { tick: { schema: z.object({}), run: (_p, ctx) => void fired.push(ctx.scheduledFor) } },
  });
  await scheduler.start();
  const trigger = await scheduler.triggers.create({ name: 'dst', owner: 'u1', taskType: 'tick', payload: {}, schedule: { cron, timezone } });
  await clock.advanceTo(Date.parse(to));
  const runs = await scheduler.runs.list({ triggerId: trigger.id, limit: 500 });
  await scheduler.stop();
  expect(runs.items.every((r) => r.status === 'completed')).toBe(true);
  const created = iso(runs.items.map((r) => r.scheduledFor)).sort();
  // Every run created was also executed once, for that slot.
  expect(iso(fired)).toEqual(created);
  return created;
}

describe('cron across the spring-forward day (2026-03-08, New York)', () => {
  it('fires a time inside the gap once, when the clocks jump to 03:00', async () => {
    const slots = await slotsBetween('30 2 * * *', NY, '2026-03-06T12:00:00Z', '2026-03-10T12:00:00Z');
    expect(slots).toEqual([
      '2026-03-07T07:30:00.000Z', // 02:30 EST
      '2026-03-08T07:00:00.000Z', // 02:30 does not exist: 03:00 EDT, the instant of the jump
      '2026-03-09T06:30:00.000Z', // 02:30 EDT
      '2026-03-10T06:30:00.000Z',
    ]);
  });

  it('fires every hour of the short day once, 02:00 and 03:00 sharing the jump instant', async () => {
    const slots = await slotsBetween('0 * * * *', NY, '2026-03-08T04:30:00Z', '2026-03-08T10:30:00Z');
    expect(slots).toEqual([
      '2026-03-08T05:00:00.000Z', // 00:00 EST
      '2026-03-08T06:00:00.000Z', // 01:00 EST
      '2026-03-08T07:00:00.000Z', // 02:00 (skipped over) and 03:00 EDT: one run
      '2026-03-08T08:00:00.000Z', // 04:00 EDT
      '2026-03-08T09:00:00.000Z',
      '2026-03-08T10:00:00.000Z',
    ]);
  });

  it('creates 23 hourly runs on the 23-hour day', async () => {
    const slots = await slotsBetween('0 * * * *', NY, '2026-03-08T04:59:00Z', '2026-03-09T03:59:00Z');
    expect(slots).toHaveLength(23);
    expect(slots[0]).toBe('2026-03-08T05:00:00.000Z');
    expect(slots[22]).toBe('2026-03-09T03:00:00.000Z'); // 23:00 EDT
  });
});

describe('cron across the fall-back day (2026-11-01, New York)', () => {
  it('fires a repeated wall time once, at its first occurrence (EDT)', async () => {
    const slots = await slotsBetween('30 1 * * *', NY, '2026-10-30T12:00:00Z', '2026-11-03T12:00:00Z');
    expect(slots).toEqual([
      '2026-10-31T05:30:00.000Z', // 01:30 EDT
      '2026-11-01T05:30:00.000Z', // 01:30 EDT, not again at 01:30 EST (06:30Z)
      '2026-11-02T06:30:00.000Z', // 01:30 EST
      '2026-11-03T06:30:00.000Z',
    ]);
  });

  it('fires 02:30, after the repeated hour, once at its only instant', async () => {
    const slots = await slotsBetween('30 2 * * *', NY, '2026-10-31T00:00:00Z', '2026-11-02T12:00:00Z');
    expect(slots).toEqual(['2026-10-31T06:30:00.000Z', '2026-11-01T07:30:00.000Z', '2026-11-02T07:30:00.000Z']);
  });

  it('fires the repeated 01:00 once: no run at 01:00 EST (06:00Z)', async () => {
    const slots = await slotsBetween('0 * * * *', NY, '2026-11-01T03:30:00Z', '2026-11-01T08:30:00Z');
    expect(slots).toEqual([
      '2026-11-01T04:00:00.000Z', // 00:00 EDT
      '2026-11-01T05:00:00.000Z', // 01:00 EDT (first occurrence)
      '2026-11-01T07:00:00.000Z', // 02:00 EST
      '2026-11-01T08:00:00.000Z', // 03:00 EST
    ]);
  });

  it('creates 24 hourly runs on the 25-hour day, one per wall hour', async () => {
    const slots = await slotsBetween('0 * * * *', NY, '2026-11-01T03:59:00Z', '2026-11-02T04:59:00Z');
    expect(slots).toHaveLength(24);
    expect(slots[0]).toBe('2026-11-01T04:00:00.000Z');
    expect(slots[23]).toBe('2026-11-02T04:00:00.000Z'); // 23:00 EST
  });
});

describe('cron in Europe/Paris (2026-03-29 and 2026-10-25)', () => {
  it('moves 02:30 to 03:00 CEST in spring and fires 02:30 once (CEST) in autumn', async () => {
    const spring = await slotsBetween('30 2 * * *', 'Europe/Paris', '2026-03-28T12:00:00Z', '2026-03-30T12:00:00Z');
    expect(spring).toEqual(['2026-03-29T01:00:00.000Z', '2026-03-30T00:30:00.000Z']);
    const autumn = await slotsBetween('30 2 * * *', 'Europe/Paris', '2026-10-24T12:00:00Z', '2026-10-26T12:00:00Z');
    expect(autumn).toEqual(['2026-10-25T00:30:00.000Z', '2026-10-26T01:30:00.000Z']);
  });
});
