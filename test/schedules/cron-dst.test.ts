import { describe, it, expect } from 'vitest';
import { DateTime } from 'luxon';
import { nextFireTime, parseSchedule, previewSchedule } from '../../src/schedules/index.js';

const CREATED = new Date('2026-01-01T00:00:00Z');

function fires(cron: string, timezone: string, after: string, count: number): string[] {
  const schedule = parseSchedule({ cron, timezone }, CREATED);
  return previewSchedule(schedule, count, new Date(after)).map((d) => d.toISOString());
}

function local(iso: string, zone: string): string {
  return DateTime.fromISO(iso, { zone }).toFormat("yyyy-MM-dd'T'HH:mm:ssZZ");
}

interface Row {
  name: string;
  cron: string;
  tz: string;
  after: string;
  /** Exact UTC instants, each with its local wall time in the comment of the row. */
  expected: string[];
}

// The days SPEC.md lists as cron-parser pitfalls, under our two rules: a wall time that does
// not exist fires when the gap ends; a wall time that occurs twice fires once, the first time.
const pitfalls: Row[] = [
  {
    name: 'Nuuk: 02:15 and 03:15 on March 28, the day whose change is at 23:00 local',
    cron: '15 2,3 * * *',
    tz: 'America/Nuuk',
    after: '2026-03-28T01:00:00Z', // 2026-03-27 23:00 -02:00
    // 02:15 -02, 03:15 -02, then 02:15 -01 and 03:15 -01 on March 29
    expected: ['2026-03-28T04:15:00.000Z', '2026-03-28T05:15:00.000Z', '2026-03-29T03:15:00.000Z', '2026-03-29T04:15:00.000Z'],
  },
  {
    name: 'Nuuk: 23:30 on March 28 is in the gap (23:00 -> 00:00) and fires at midnight',
    cron: '30 23 * * *',
    tz: 'America/Nuuk',
    after: '2026-03-27T12:00:00Z',
    // 27th 23:30 -02, 29th 00:00 -01 (gap end), 29th 23:30 -01
    expected: ['2026-03-28T01:30:00.000Z', '2026-03-29T01:00:00.000Z', '2026-03-30T00:30:00.000Z'],
  },
  {
    name: 'Lord Howe: 02:00 is in a 30-minute gap and fires at its end, 02:30',
    cron: '0 2 * * *',
    tz: 'Australia/Lord_Howe',
    after: '2027-10-02T00:00:00Z',
    // 3rd 02:30 +11 (gap end), 4th 02:00 +11
    expected: ['2027-10-02T15:30:00.000Z', '2027-10-03T15:00:00.000Z'],
  },
  {
    name: 'New York: the whole 02:xx hour is in the gap and fires once, at 03:00',
    cron: '* 2 * * *',
    tz: 'America/New_York',
    after: '2026-03-08T06:00:00Z', // 01:00 EST
    // 8th 03:00 EDT, then 9th 02:00 and 02:01 EDT
    expected: ['2026-03-08T07:00:00.000Z', '2026-03-09T06:00:00.000Z', '2026-03-09T06:01:00.000Z'],
  },
  {
    name: 'New York: every minute goes 01:59 EST -> 03:00 EDT -> 03:01 EDT',
    cron: '* * * * *',
    tz: 'America/New_York',
    after: '2026-03-08T06:58:00Z',
    expected: ['2026-03-08T06:59:00.000Z', '2026-03-08T07:00:00.000Z', '2026-03-08T07:01:00.000Z'],
  },
  {
    name: 'New York: 02:30 fires at 03:00 EDT on the change day',
    cron: '30 2 * * *',
    tz: 'America/New_York',
    after: '2026-03-07T12:00:00Z',
    // 7th 02:30 EST happened already; 8th 03:00 EDT; 9th 02:30 EDT
    expected: ['2026-03-08T07:00:00.000Z', '2026-03-09T06:30:00.000Z'],
  },
  {
    name: 'Havana: Sunday midnight is repeated (01:00 -> 00:00) and fires once, the first time',
    cron: '0 0 * * 0',
    tz: 'America/Havana',
    after: '2027-11-06T12:00:00Z',
    // 7th 00:00 -04, 14th 00:00 -05
    expected: ['2027-11-07T04:00:00.000Z', '2027-11-14T05:00:00.000Z'],
  },
  {
    name: 'Havana: hourly fires at 00:00 once that night (first pass), then 01:00 -05',
    cron: '0 * * * *',
    tz: 'America/Havana',
    after: '2027-11-07T02:30:00Z',
    // 6th 23:00 -04, 7th 00:00 -04, 01:00 -05, 02:00 -05
    expected: ['2027-11-07T03:00:00.000Z', '2027-11-07T04:00:00.000Z', '2027-11-07T06:00:00.000Z', '2027-11-07T07:00:00.000Z'],
  },
  {
    name: 'Havana: midnight is in the spring gap (00:00 -> 01:00) and fires at 01:00',
    cron: '0 0 * * *',
    tz: 'America/Havana',
    after: '2027-03-13T12:00:00Z',
    // 14th 01:00 -04 (gap end), 15th 00:00 -04
    expected: ['2027-03-14T05:00:00.000Z', '2027-03-15T04:00:00.000Z'],
  },
  {
    name: 'overlapping list */9,*/17 fires at the union of both steps',
    cron: '*/9,*/17 * * * *',
    tz: 'UTC',
    after: '2026-01-01T00:00:00Z',
    expected: ['09', '17', '18', '27', '34', '36', '45', '51', '54'].map((m) => `2026-01-01T00:${m}:00.000Z`),
  },
  {
    name: 'overlapping list *,22 fires every minute',
    cron: '*,22 * * * *',
    tz: 'UTC',
    after: '2026-01-01T00:20:30Z',
    expected: ['2026-01-01T00:21:00.000Z', '2026-01-01T00:22:00.000Z', '2026-01-01T00:23:00.000Z'],
  },
];

// Europe/Paris: spring forward 2026-03-29 02:00 CET -> 03:00 CEST (01:00Z),
// fall back 2026-10-25 03:00 CEST -> 02:00 CET (01:00Z).
const paris: Row[] = [
  {
    name: 'spring: 02:30 fires at 03:00 CEST',
    cron: '30 2 * * *',
    tz: 'Europe/Paris',
    after: '2026-03-28T12:00:00Z',
    expected: ['2026-03-29T01:00:00.000Z', '2026-03-30T00:30:00.000Z'],
  },
  {
    name: 'spring: hourly goes 01:00 CET, 03:00 CEST (02:00 collapsed into it), 04:00 CEST',
    cron: '0 * * * *',
    tz: 'Europe/Paris',
    after: '2026-03-28T23:30:00Z',
    expected: ['2026-03-29T00:00:00.000Z', '2026-03-29T01:00:00.000Z', '2026-03-29T02:00:00.000Z'],
  },
  {
    name: 'fall: 02:30 fires once, at 02:30 CEST',
    cron: '30 2 * * *',
    tz: 'Europe/Paris',
    after: '2026-10-24T12:00:00Z',
    expected: ['2026-10-25T00:30:00.000Z', '2026-10-26T01:30:00.000Z'],
  },
  {
    name: 'fall: hourly fires 02:00 CEST then 03:00 CET, not 02:00 CET',
    cron: '0 * * * *',
    tz: 'Europe/Paris',
    after: '2026-10-24T22:30:00Z',
    expected: ['2026-10-24T23:00:00.000Z', '2026-10-25T00:00:00.000Z', '2026-10-25T02:00:00.000Z', '2026-10-25T03:00:00.000Z'],
  },
  {
    name: 'fall: from inside the second pass, */15 waits for 03:00 CET',
    cron: '*/15 * * * *',
    tz: 'Europe/Paris',
    after: '2026-10-25T01:10:00Z', // 02:10 CET, second pass
    expected: ['2026-10-25T02:00:00.000Z', '2026-10-25T02:15:00.000Z'],
  },
  {
    name: 'fall: every second skips the whole second pass in one step',
    cron: '* * * * * *',
    tz: 'Europe/Paris',
    after: '2026-10-25T00:59:58Z', // 02:59:58 CEST
    expected: ['2026-10-25T00:59:59.000Z', '2026-10-25T02:00:00.000Z', '2026-10-25T02:00:01.000Z'],
  },
];

describe('cron across DST changes', () => {
  describe.each([
    ['SPEC pitfall days', pitfalls],
    ['Europe/Paris', paris],
  ])('%s', (_title, rows) => {
    it.each(rows)('$name', ({ cron, tz, after, expected }) => {
      expect(fires(cron, tz, after, expected.length)).toEqual(expected);
    });
  });

  it('shows the Lord Howe gap end in local time as 02:30', () => {
    const [first] = fires('0 2 * * *', 'Australia/Lord_Howe', '2027-10-02T00:00:00Z', 1);
    expect(local(first ?? '', 'Australia/Lord_Howe')).toBe('2027-10-03T02:30:00+11:00');
  });

  it('runs * 2 */3 * * through the Lord Howe April change without throwing', () => {
    // 2027-04-04 02:00 +11:00 -> 01:30 +10:30; the 4th is a */3 day, hour 2 is after the repeat.
    const times = fires('* 2 */3 * *', 'Australia/Lord_Howe', '2027-04-03T12:00:00Z', 61);
    expect(times[0]).toBe('2027-04-03T15:30:00.000Z');
    expect(local(times[59] ?? '', 'Australia/Lord_Howe')).toBe('2027-04-04T02:59:00+10:30');
    expect(local(times[60] ?? '', 'Australia/Lord_Howe')).toBe('2027-04-07T02:00:00+10:30');
  });

  it('fires once in a repeated hour whether the hour is fixed or a wildcard', () => {
    const repeatedHourUtc = (t: string) => t >= '2026-11-01T05:00:00.000Z' && t < '2026-11-01T07:00:00.000Z';
    for (const cron of ['*/15 1 * * *', '*/15 * * * *']) {
      const times = fires(cron, 'America/New_York', '2026-11-01T04:00:00Z', 12).filter(repeatedHourUtc);
      // 01:00..01:45 EDT only (05:xxZ); none at 01:xx EST (06:xxZ).
      expect(times).toEqual(['00', '15', '30', '45'].map((m) => `2026-11-01T05:${m}:00.000Z`));
    }
  });

  it('returns the gap end from just before it and the next slot from the gap end itself', () => {
    const schedule = parseSchedule({ cron: '30 2 * * *', timezone: 'America/New_York' }, CREATED);
    expect(nextFireTime(schedule, new Date('2026-03-08T06:59:59.999Z'))?.toISOString()).toBe('2026-03-08T07:00:00.000Z');
    expect(nextFireTime(schedule, new Date('2026-03-08T07:00:00Z'))?.toISOString()).toBe('2026-03-09T06:30:00.000Z');
  });
});
