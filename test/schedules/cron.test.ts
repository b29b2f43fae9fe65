import { describe, it, expect } from 'vitest';
import { nextFireTime, parseSchedule, previewSchedule } from '../../src/schedules/index.js';
import { compileCron } from '../../src/schedules/cron.js';

const CREATED = new Date('2026-01-01T00:00:00Z');

function fires(cron: string, after: string, count: number, timezone?: string): string[] {
  const input = timezone === undefined ? { cron } : { cron, timezone };
  return previewSchedule(parseSchedule(input, CREATED), count, new Date(after)).map((d) => d.toISOString());
}

describe('cron expressions', () => {
  it('defaults the zone to UTC and normalizes whitespace', () => {
    expect(parseSchedule({ cron: '  0  9 * *\t1-5 ' }, CREATED)).toEqual({ kind: 'cron', expression: '0 9 * * 1-5', timezone: 'UTC' });
    expect(fires('0 9 * * 1-5', '2026-01-02T09:00:00Z', 2)).toEqual(['2026-01-05T09:00:00.000Z', '2026-01-06T09:00:00.000Z']);
  });

  it('takes 6 fields with seconds first', () => {
    expect(fires('*/20 30 9 * * *', '2026-01-01T09:30:10Z', 3)).toEqual([
      '2026-01-01T09:30:20.000Z',
      '2026-01-01T09:30:40.000Z',
      '2026-01-02T09:30:00.000Z',
    ]);
  });

  it('returns the following slot, strictly after, from an exact fire instant', () => {
    const schedule = parseSchedule({ cron: '0 9 * * *', timezone: 'Europe/Paris' }, CREATED);
    expect(nextFireTime(schedule, new Date('2026-06-01T07:00:00Z'))?.toISOString()).toBe('2026-06-02T07:00:00.000Z');
    expect(nextFireTime(schedule, new Date('2026-06-01T06:59:59.999Z'))?.toISOString()).toBe('2026-06-01T07:00:00.000Z');
    expect(nextFireTime(schedule, new Date('2026-06-01T07:00:00.001Z'))?.toISOString()).toBe('2026-06-02T07:00:00.000Z');
  });

  it.each([
    ['names', '0 12 * JAN,jul MON', '2026-01-01T00:00:00Z', '2026-01-05T12:00:00.000Z'],
    ['last day of month', '0 0 L * *', '2026-02-01T00:00:00Z', '2026-02-28T00:00:00.000Z'],
    ['nth weekday', '0 0 * * 5#3', '2026-01-01T00:00:00Z', '2026-01-16T00:00:00.000Z'],
    ['last weekday of month', '0 0 * * 5L', '2026-01-01T00:00:00Z', '2026-01-30T00:00:00.000Z'],
    ['question mark', '0 0 ? * MON', '2026-01-01T00:00:00Z', '2026-01-05T00:00:00.000Z'],
    ['Sunday as 0 and 7 in one list', '0 0 * * 0,7', '2026-01-01T00:00:00Z', '2026-01-04T00:00:00.000Z'],
    ['overlapping range and value', '1-5,3 0 * * *', '2026-01-01T00:03:30Z', '2026-01-01T00:04:00.000Z'],
    ['list with L', '0 0 1,15,L * *', '2026-02-15T00:00:00Z', '2026-02-28T00:00:00.000Z'],
    ['Feb 29 only', '0 0 29 2 *', '2026-01-01T00:00:00Z', '2028-02-29T00:00:00.000Z'],
  ])('supports %s: %s', (_label, cron, after, expected) => {
    expect(fires(cron, after, 1)).toEqual([expected]);
  });

  it('expands overlapping lists into a union cron-parser accepts', () => {
    expect(compileCron('*/9,*/17 * * * *')).toBe('0 0,9,17,18,27,34,36,45,51,54 * * * *');
    expect(compileCron('0 0 * * SUN,7,MON-TUE,2')).toBe('0 0 0 * * 0,1,2');
    expect(compileCron('30 0 12 * * *')).toBe('30 0 12 * * *');
  });

  it.each([
    // 2026-06: Mondays are 1, 8, 15, 22, 29; odd dates among them: 1, 15, 29.
    ['*/2 in day-of-month ANDs with a restricted day-of-week', '0 0 */2 * 1', '2026-05-31T00:00:00Z', ['2026-06-01', '2026-06-15', '2026-06-29']],
    ['*/2 in day-of-week ANDs with a restricted day-of-month', '0 0 1-10 * */2', '2026-05-31T00:00:00Z', ['2026-06-02', '2026-06-04', '2026-06-06']],
    ['a list starting with * counts as *', '0 0 *,9 * 1', '2026-05-31T00:00:00Z', ['2026-06-01', '2026-06-08', '2026-06-15']],
    ['*/1 counts as *', '0 0 */1 * 1', '2026-05-31T00:00:00Z', ['2026-06-01', '2026-06-08', '2026-06-15']],
    ['1-31/2 does not start with *, so it ORs', '0 0 1-31/2 * 1', '2026-06-04T00:00:00Z', ['2026-06-05', '2026-06-07', '2026-06-08']],
    ['neither field starting with * ORs', '0 0 1,15 * 3', '2026-05-31T00:00:00Z', ['2026-06-01', '2026-06-03', '2026-06-10']],
    ['L with */2 in day-of-week ANDs', '0 0 L * */2', '2026-01-01T00:00:00Z', ['2026-01-31', '2026-02-28', '2026-03-31']],
    ['seconds: the day rule skips whole days', '*/30 0 0 */2 * 1', '2026-05-31T00:00:00Z', ['2026-06-01', '2026-06-01', '2026-06-15']],
  ])('follows the Vixie day rule: %s (%s)', (_label, cron, after, days) => {
    expect(fires(cron, after, 3).map((t) => t.slice(0, 10))).toEqual(days);
  });

  it('rejects day fields that can never agree', () => {
    // The last Friday of February is the 22nd-29th, never the 1st or the 16th.
    expect(() => parseSchedule({ cron: '0 0 */15 2 5L' }, CREATED)).toThrow(/never fires/);
  });

  it('keeps dom/dow OR semantics for expanded lists', () => {
    // Both fields restricted: the 1st of the month or any Monday.
    expect(fires('0 0 1,1 * MON,1', '2026-05-26T00:00:00Z', 3)).toEqual([
      '2026-06-01T00:00:00.000Z',
      '2026-06-08T00:00:00.000Z',
      '2026-06-15T00:00:00.000Z',
    ]);
  });
});
