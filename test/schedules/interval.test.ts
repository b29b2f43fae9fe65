import { describe, it, expect } from 'vitest';
import { nextFireTime, parseSchedule, previewSchedule } from '../../src/schedules/index.js';
import type { Schedule } from '../../src/types.js';
import { ValidationError } from '../../src/errors.js';

const NOW = new Date('2026-01-01T00:00:00Z');
const iso = (d: Date | null): string | null => (d === null ? null : d.toISOString());

describe('interval schedules', () => {
  const everyMinute: Schedule = { kind: 'interval', everyMs: 60_000, anchor: '2026-01-01T00:00:30.000Z' };

  it.each([
    ['before the anchor: the anchor', '2025-12-31T12:00:00Z', '2026-01-01T00:00:30.000Z'],
    ['1 ms before the anchor', '2026-01-01T00:00:29.999Z', '2026-01-01T00:00:30.000Z'],
    ['exactly the anchor: the next slot', '2026-01-01T00:00:30Z', '2026-01-01T00:01:30.000Z'],
    ['between slots', '2026-01-01T00:01:00Z', '2026-01-01T00:01:30.000Z'],
    ['exactly a slot', '2026-01-01T00:05:30Z', '2026-01-01T00:06:30.000Z'],
    ['1 ms after a slot', '2026-01-01T00:05:30.001Z', '2026-01-01T00:06:30.000Z'],
    ['1 ms before a slot', '2026-01-01T00:06:29.999Z', '2026-01-01T00:06:30.000Z'],
    ['far later (k ~ 10^8)', '2216-01-01T00:00:00Z', '2216-01-01T00:00:30.000Z'],
  ])('after %s', (_label, after, expected) => {
    expect(iso(nextFireTime(everyMinute, new Date(after)))).toBe(expected);
  });

  it('keeps elapsed-time spacing across DST changes (it ignores zones)', () => {
    const hourly: Schedule = { kind: 'interval', everyMs: 3_600_000, anchor: '2026-03-08T05:00:00.000Z' };
    expect(previewSchedule(hourly, 3, new Date('2026-03-08T05:00:00Z')).map(iso)).toEqual([
      '2026-03-08T06:00:00.000Z',
      '2026-03-08T07:00:00.000Z',
      '2026-03-08T08:00:00.000Z',
    ]);
  });

  it('handles the longest interval and an odd one far from the anchor without looping', () => {
    const yearly = parseSchedule({ every: '366d', anchor: '2000-01-01T00:00:00Z' }, NOW);
    // 2000-01-01 .. 2026-01-01 is 9,497 days; 26 * 366 = 9,516 days is 19 days later.
    expect(iso(nextFireTime(yearly, NOW))).toBe('2026-01-20T00:00:00.000Z');
    const odd: Schedule = { kind: 'interval', everyMs: 1_001, anchor: '1970-01-01T00:00:00.000Z' };
    const after = new Date('2026-01-01T00:00:00Z');
    const next = nextFireTime(odd, after);
    expect(next).not.toBeNull();
    const ms = next?.getTime() ?? 0;
    expect(ms % 1_001).toBe(0);
    expect(ms).toBeGreaterThan(after.getTime());
    expect(ms - 1_001).toBeLessThanOrEqual(after.getTime());
  });

  it('anchors at now by default and at a future anchor when given', () => {
    expect(parseSchedule({ every: '5m' }, NOW)).toEqual({ kind: 'interval', everyMs: 300_000, anchor: '2026-01-01T00:00:00.000Z' });
    const future = parseSchedule({ every: 90_000, anchor: new Date('2026-02-01T00:00:00Z') }, NOW);
    expect(previewSchedule(future, 2, NOW).map(iso)).toEqual(['2026-02-01T00:00:00.000Z', '2026-02-01T00:01:30.000Z']);
  });
});

describe('once, manual and event schedules', () => {
  const once: Schedule = { kind: 'once', at: '2026-05-01T09:00:00.000Z' };

  it('fires once, strictly after `after`', () => {
    expect(iso(nextFireTime(once, new Date('2026-04-30T00:00:00Z')))).toBe('2026-05-01T09:00:00.000Z');
    expect(nextFireTime(once, new Date('2026-05-01T09:00:00Z'))).toBeNull();
    expect(nextFireTime(once, new Date('2026-06-01T00:00:00Z'))).toBeNull();
    expect(previewSchedule(once, 5, new Date('2026-01-01T00:00:00Z')).map(iso)).toEqual(['2026-05-01T09:00:00.000Z']);
  });

  it('normalizes at to an ISO instant and accepts one in the past', () => {
    expect(parseSchedule({ at: '2026-05-01T11:00:00+02:00' }, NOW)).toEqual(once);
    expect(parseSchedule({ at: new Date('2020-01-01T00:00:00Z') }, NOW)).toEqual({ kind: 'once', at: '2020-01-01T00:00:00.000Z' });
  });

  it('never fires manual and event schedules by themselves', () => {
    for (const schedule of [parseSchedule({ manual: true }, NOW), parseSchedule({ event: 'user.signup' }, NOW)]) {
      expect(nextFireTime(schedule, NOW)).toBeNull();
      expect(previewSchedule(schedule, 10, NOW)).toEqual([]);
    }
  });
});

describe('previewSchedule', () => {
  const cron = parseSchedule({ cron: '*/10 * * * *', timezone: 'Asia/Tokyo' }, NOW);

  it('returns exactly count increasing times, each after the previous one', () => {
    const times = previewSchedule(cron, 1_000, NOW);
    expect(times).toHaveLength(1_000);
    expect(times[0]?.toISOString()).toBe('2026-01-01T00:10:00.000Z');
    for (let i = 1; i < times.length; i++) expect(times[i]!.getTime() - times[i - 1]!.getTime()).toBe(600_000);
    expect(previewSchedule(cron, 1, NOW)).toHaveLength(1);
  });

  it.each([0, -1, 1_001, 2.5, Number.NaN])('rejects count %s', (count) => {
    expect(() => previewSchedule(cron, count, NOW)).toThrow(ValidationError);
  });
});
