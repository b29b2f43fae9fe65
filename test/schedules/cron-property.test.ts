import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { CronExpressionParser } from 'cron-parser';
import { IANAZone } from 'luxon';
import { nextFireTime, parseSchedule, previewSchedule } from '../../src/schedules/index.js';
import { compileCron, cronMatchesWall } from '../../src/schedules/cron.js';

const CREATED = new Date('2026-01-01T00:00:00Z');
const MINUTE = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;

// Zones with DST, including 30-minute changes (Lord_Howe), midnight changes (Havana, Santiago),
// a change at 23:00 local (Nuuk), Ramadan changes (Casablanca), :45 (Chatham) and :30 (St_Johns) offsets.
const DST_ZONES = [
  'America/New_York',
  'America/Los_Angeles',
  'America/Havana',
  'America/Nuuk',
  'America/Santiago',
  'Africa/Casablanca',
  'America/St_Johns',
  'Europe/Paris',
  'Europe/London',
  'Europe/Chisinau',
  'Australia/Lord_Howe',
  'Australia/Sydney',
  'Pacific/Auckland',
  'Pacific/Chatham',
  'Asia/Jerusalem',
] as const;

const item = (min: number, max: number): fc.Arbitrary<string> =>
  fc.oneof(
    fc.integer({ min, max }).map(String),
    fc.tuple(fc.integer({ min, max }), fc.integer({ min, max })).map(([a, b]) => `${Math.min(a, b)}-${Math.max(a, b)}`),
    fc.integer({ min: 1, max: Math.max(1, max - min) }).map((s) => `*/${s}`),
  );
const field = (min: number, max: number): fc.Arbitrary<string> =>
  fc.oneof(fc.constant('*'), item(min, max), fc.array(item(min, max), { minLength: 2, maxLength: 3 }).map((a) => a.join(',')));
const fiveFields = fc
  .tuple(field(0, 59), field(0, 23), field(1, 28), field(1, 12), field(0, 7))
  .map((fields) => fields.join(' '));
const sixFields = fc.tuple(field(0, 59), fiveFields).map(([s, rest]) => `${s} ${rest}`);

/** The first offset change after `from`, to the minute (`from` itself if none within two years). */
function nextTransition(zone: IANAZone, from: number): number {
  const start = zone.offset(from);
  let day = from;
  while (zone.offset(day + DAY) === start) {
    day += DAY;
    if (day - from > 730 * DAY) return from;
  }
  let lo = day;
  let hi = day + DAY;
  while (hi - lo > MINUTE) {
    const mid = lo + Math.floor((hi - lo) / 2 / MINUTE) * MINUTE;
    if (zone.offset(mid) === start) lo = mid;
    else hi = mid;
  }
  return hi;
}

/** A random instant within 30 hours of a random DST change of the zone (2020-2035). */
const nearTransition = (timezone: string): fc.Arbitrary<Date> =>
  fc
    .tuple(fc.date({ min: new Date('2020-01-01T00:00:00Z'), max: new Date('2035-01-01T00:00:00Z'), noInvalidDate: true }), fc.integer({ min: -30 * 60, max: 30 * 60 }))
    .map(([from, minutes]) => new Date(nextTransition(IANAZone.create(timezone), from.getTime()) + minutes * MINUTE + 17_000));

const zoneAndAfter = fc.constantFrom(...DST_ZONES).chain((timezone) => fc.tuple(fc.constant(timezone), nearTransition(timezone)));

/**
 * Independent oracle for minute-level expressions, by scanning every minute: an instant fires when
 * its wall time matches and is later than every wall time seen before (so a repeated range fires
 * on its first pass only), or when the clocks jump over matching wall times (it ends the gap).
 */
/** Day fields of the scan test, as sets written out by hand (1-31 and 0-6, Sunday 0). */
const DOM_SETS: Record<string, (day: number) => boolean> = { '*': () => true, '*/2': (d) => d % 2 === 1, '1-15': (d) => d <= 15, '*,9': () => true };
const DOW_SETS: Record<string, (day: number) => boolean> = { '*': () => true, '1-6': (d) => d >= 1, '*/2': (d) => d % 2 === 0 };

/**
 * An oracle written apart from the scheduler's walk: minute and hour by cron-parser, the days by
 * Vixie cron's rule (a day field starting with `*` makes both fields required, else either).
 */
function vixieMatcher(cron: string): (wall: number) => boolean {
  const [minute, hour, dom, , dow] = cron.split(' ') as [string, string, string, string, string];
  const time = CronExpressionParser.parse(compileCron(`${minute} ${hour} * * *`), { tz: 'UTC' });
  const inDom = DOM_SETS[dom] as (day: number) => boolean;
  const inDow = DOW_SETS[dow] as (day: number) => boolean;
  const both = dom.startsWith('*') || dow.startsWith('*');
  return (wall) => {
    const date = new Date(wall);
    const [a, b] = [inDom(date.getUTCDate()), inDow(date.getUTCDay())];
    return time.includesDate(date) && (both ? a && b : a || b);
  };
}

function bruteForce(cron: string, timezone: string, after: number, end: number): number[] {
  const zone = IANAZone.create(timezone);
  const matches = vixieMatcher(cron);
  const fires: number[] = [];
  let t = Math.floor((after - 4 * HOUR) / MINUTE) * MINUTE;
  let maxWall = t + zone.offset(t) * MINUTE;
  for (t += MINUTE; t <= end; t += MINUTE) {
    const wall = t + zone.offset(t) * MINUTE;
    let fire = wall > maxWall && matches(wall);
    for (let skipped = maxWall + MINUTE; !fire && skipped < wall; skipped += MINUTE) fire = matches(skipped);
    if (fire && t > after) fires.push(t);
    maxWall = Math.max(maxWall, wall);
  }
  return fires;
}

describe('cron properties', () => {
  it('previews move strictly forward and each time matches the expression or ends a gap', () => {
    fc.assert(
      fc.property(fc.oneof(fiveFields, sixFields), zoneAndAfter, (cron, [timezone, after]) => {
        const times = previewSchedule(parseSchedule({ cron, timezone }, CREATED), 8, after);
        expect(times).toHaveLength(8);
        const zone = IANAZone.create(timezone);
        let previous = after.getTime();
        for (const time of times) {
          const t = time.getTime();
          expect(t).toBeGreaterThan(previous);
          const endsGap = zone.offset(t - 1) < zone.offset(t);
          expect(cronMatchesWall(cron, t + zone.offset(t) * MINUTE) || endsGap).toBe(true);
          previous = t;
        }
      }),
      { numRuns: 200, seed: 20260308 },
    );
  });

  it('agrees with a minute-by-minute scan of the day around a DST change', () => {
    const hourly = fc
      .tuple(field(0, 59), fc.oneof(fc.constant('*'), item(0, 23)), fc.constantFrom('*', '*/2', '1-15', '*,9'), fc.constantFrom('*', '1-6', '*/2'))
      .map(([m, h, dom, dow]) => `${m} ${h} ${dom} * ${dow}`);
    fc.assert(
      fc.property(hourly, zoneAndAfter, (cron, [timezone, after]) => {
        const schedule = parseSchedule({ cron, timezone }, CREATED);
        const end = after.getTime() + DAY;
        const ours: number[] = [];
        for (let next = nextFireTime(schedule, after); next !== null && next.getTime() <= end; next = nextFireTime(schedule, next)) {
          ours.push(next.getTime());
        }
        expect(ours.map((t) => new Date(t).toISOString())).toEqual(bruteForce(cron, timezone, after.getTime(), end).map((t) => new Date(t).toISOString()));
      }),
      { numRuns: 40, seed: 20261025 },
    );
  });
});
