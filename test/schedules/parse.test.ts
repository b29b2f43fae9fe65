import { describe, it, expect } from 'vitest';
import { parseDurationMs, parseSchedule } from '../../src/schedules/index.js';
import { ValidationError } from '../../src/errors.js';
import type { ScheduleInput } from '../../src/types.js';

const NOW = new Date('2026-01-01T00:00:00Z');

function issuesOf(fn: () => unknown): { path: string; message: string }[] {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).code).toBe('VALIDATION');
    return [...(error as ValidationError).issues];
  }
  throw new Error('expected a ValidationError');
}

// Each bad input, the path of its issue and a fragment the message must contain.
const invalid: [label: string, input: unknown, path: string, says: string][] = [
  ['not an object', 'every 5m', 'schedule', 'exactly one of cron, every, at, manual, event'],
  ['null', null, 'schedule', 'exactly one of'],
  ['no kind', {}, 'schedule', 'got none'],
  ['two kinds', { cron: '* * * * *', every: '5m' }, 'schedule', 'got cron and every'],
  ['unknown key', { cron: '* * * * *', tz: 'UTC' }, 'schedule', 'unknown key "tz"'],
  ['timezone on an interval', { every: '5m', timezone: 'UTC' }, 'schedule', 'takes every, anchor'],
  ['cron not a string', { cron: 5 }, 'schedule.cron', 'got number'],
  ['empty cron', { cron: '  ' }, 'schedule.cron', 'empty'],
  ['4 fields', { cron: '* * * *' }, 'schedule.cron', 'has 4 fields'],
  ['7 fields', { cron: '0 0 0 * * * 2026' }, 'schedule.cron', 'has 7 fields'],
  ['nickname', { cron: '@daily' }, 'schedule.cron', 'nicknames'],
  ['too long', { cron: `${'1,'.repeat(120)}2 * * * *` }, 'schedule.cron', 'at most 200'],
  ['minute out of range', { cron: '60 * * * *' }, 'schedule.cron', '"60 * * * *" is not a valid cron expression'],
  ['bad name', { cron: '0 0 * * FUNDAY' }, 'schedule.cron', 'FUNDAY'],
  ['bad list item', { cron: '0 1,25 * * *' }, 'schedule.cron', 'item "25"'],
  ['nth weekday in a list', { cron: '0 0 * * MON#2,FRI#1' }, 'schedule.cron', 'cannot be combined'],
  ['hashed value', { cron: 'H * * * *' }, 'schedule.cron', 'hashed values (H)'],
  ['W is not supported', { cron: '0 0 15W * *' }, 'schedule.cron', 'nearest weekday (W)'],
  ['L-n is not supported', { cron: '0 0 L-2 * *' }, 'schedule.cron', 'L-n are not supported'],
  ['never fires (Feb 30)', { cron: '0 0 30 2 *' }, 'schedule.cron', 'never fires'],
  ['never fires (31st of 30-day months)', { cron: '0 0 31 4,6 *' }, 'schedule.cron', 'never fires'],
  ['unknown zone', { cron: '0 9 * * *', timezone: 'Mars/Olympus' }, 'schedule.timezone', '"Mars/Olympus" is not an IANA time zone'],
  ['offset as zone', { cron: '0 9 * * *', timezone: '+02:00' }, 'schedule.timezone', 'not an IANA time zone'],
  ['zone not a string', { cron: '0 9 * * *', timezone: 2 }, 'schedule.timezone', 'not an IANA time zone'],
  ['every under 1 s', { every: '500ms' }, 'schedule.every', 'shorter than the minimum of 1s'],
  ['every 0', { every: 0 }, 'schedule.every', 'shorter than the minimum'],
  ['every negative', { every: -5000 }, 'schedule.every', 'shorter than the minimum'],
  ['every fractional ms', { every: 1500.5 }, 'schedule.every', 'whole number'],
  ['every over 366 days', { every: '367d' }, 'schedule.every', 'longer than the maximum of 366d'],
  ['every unknown unit', { every: '5 minutes' }, 'schedule.every', 'units ms, s, m, h, d, w'],
  ['every repeated unit', { every: '1h1h' }, 'schedule.every', 'not a duration'],
  ['every not number/string', { every: true }, 'schedule.every', 'got boolean'],
  ['anchor without zone', { every: '1h', anchor: '2026-01-01T00:00:00' }, 'schedule.anchor', 'with a zone'],
  ['anchor invalid Date', { every: '1h', anchor: new Date('nope') }, 'schedule.anchor', 'invalid Date'],
  ['at without zone', { at: '2026-05-01T09:00:00' }, 'schedule.at', 'with a zone'],
  ['at date only', { at: '2026-05-01' }, 'schedule.at', 'with a zone'],
  ['at impossible date', { at: '2026-02-30T09:00:00Z' }, 'schedule.at', 'not a real date-time'],
  ['at invalid Date', { at: new Date(Number.NaN) }, 'schedule.at', 'invalid Date'],
  ['at a number', { at: 1767225600000 }, 'schedule.at', 'got number'],
  ['manual false', { manual: false }, 'schedule.manual', 'must be true'],
  ['empty event', { event: '' }, 'schedule.event', 'not a valid event name'],
  ['event with spaces', { event: 'user signup' }, 'schedule.event', "letters, digits, '.', '-', '_' or ':'"],
  ['event too long', { event: 'e'.repeat(201) }, 'schedule.event', 'not a valid event name'],
  ['filter not an object', { event: 'a', filter: ['x'] }, 'schedule.filter', 'got an array'],
  ['filter empty key', { event: 'a', filter: { '': 1 } }, 'schedule.filter', 'dotted path'],
  ['filter empty segment', { event: 'a', filter: { 'user..plan': 1 } }, 'schedule.filter', 'dotted path'],
  ['filter key too long', { event: 'a', filter: { ['k'.repeat(201)]: 1 } }, 'schedule.filter', 'dotted path'],
  ['filter object value', { event: 'a', filter: { plan: { in: ['pro'] } } }, 'schedule.filter.plan', 'got object'],
  ['filter NaN', { event: 'a', filter: { n: Number.NaN } }, 'schedule.filter.n', 'finite number'],
  ['filter empty list', { event: 'a', filter: { plan: [] } }, 'schedule.filter.plan', 'at least one value'],
  ['filter list of objects', { event: 'a', filter: { plan: [{}] } }, 'schedule.filter.plan', 'list items'],
  ['filter with 21 keys', { event: 'a', filter: Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`k${i}`, i])) }, 'schedule.filter', 'at most 20'],
];

describe('parseSchedule validation', () => {
  it.each(invalid)('rejects %s', (_label, input, path, says) => {
    const issues = issuesOf(() => parseSchedule(input as ScheduleInput, NOW));
    expect(issues.map((i) => i.path)).toContain(path);
    expect(issues.find((i) => i.path === path)?.message).toContain(says);
  });

  it('reports every problem of a cron schedule at once, in the error message too', () => {
    try {
      parseSchedule({ cron: '61 * * * *', timezone: 'Nowhere/Special' }, NOW);
      expect.unreachable();
    } catch (error) {
      expect((error as ValidationError).issues.map((i) => i.path)).toEqual(['schedule.cron', 'schedule.timezone']);
      expect((error as Error).message).toMatch(/^Invalid schedule: schedule\.cron: .*; schedule\.timezone: /);
    }
  });
});

describe('parseSchedule normalization', () => {
  it.each<[ScheduleInput, unknown]>([
    [{ cron: '0 9 * * MON-FRI', timezone: 'America/Nuuk' }, { kind: 'cron', expression: '0 9 * * MON-FRI', timezone: 'America/Nuuk' }],
    [{ cron: '*/9,*/17 * * * *' }, { kind: 'cron', expression: '*/9,*/17 * * * *', timezone: 'UTC' }],
    [{ every: '1h30m', anchor: '2026-01-01T10:00:00+01:00' }, { kind: 'interval', everyMs: 5_400_000, anchor: '2026-01-01T09:00:00.000Z' }],
    [{ every: 1_000 }, { kind: 'interval', everyMs: 1_000, anchor: '2026-01-01T00:00:00.000Z' }],
    [{ at: '2026-05-01T09:00:00.123456Z' }, { kind: 'once', at: '2026-05-01T09:00:00.123Z' }],
    [{ manual: true }, { kind: 'manual' }],
    [{ event: 'billing:invoice.paid_v2' }, { kind: 'event', event: 'billing:invoice.paid_v2' }],
    [
      { event: 'user.signup', filter: { 'user.plan': ['pro', 'team'], country: 'FR', trial: false, ref: null } },
      { kind: 'event', event: 'user.signup', filter: { 'user.plan': ['pro', 'team'], country: 'FR', trial: false, ref: null } },
    ],
  ])('%j', (input, expected) => {
    expect(parseSchedule(input, NOW)).toEqual(expected);
  });

  it('copies the filter so later changes to the input do not leak in', () => {
    const plans = ['pro'];
    const schedule = parseSchedule({ event: 'e', filter: { plan: plans } }, NOW);
    plans.push('free');
    expect(schedule).toEqual({ kind: 'event', event: 'e', filter: { plan: ['pro'] } });
  });
});

describe('parseDurationMs', () => {
  it.each<[number | string, number]>([
    [1_000, 1_000],
    ['1s', 1_000],
    ['30s', 30_000],
    ['5m', 300_000],
    ['2h', 7_200_000],
    ['1d', 86_400_000],
    ['2w', 1_209_600_000],
    ['1h30m', 5_400_000],
    ['1h 30m', 5_400_000],
    ['1m500ms', 60_500],
    ['1.5h', 5_400_000],
    ['366d', 31_622_400_000],
  ])('%j -> %i ms', (value, ms) => {
    expect(parseDurationMs(value, 'x')).toBe(ms);
  });

  it('puts the given path on its issue and honours custom bounds', () => {
    expect(issuesOf(() => parseDurationMs('500ms', 'retry.delay'))).toEqual([
      { path: 'retry.delay', message: '"500ms" is shorter than the minimum of 1s' },
    ]);
    expect(parseDurationMs('500ms', 'x', { minMs: 1 })).toBe(500);
    expect(issuesOf(() => parseDurationMs('2d', 'x', { maxMs: 86_400_000 }))[0]?.message).toContain('maximum of 1d');
  });

  it.each(['', 'm', '5', '5M', '1.0001ms', '-5m', '5m-', 'h1'])('rejects %j', (value) => {
    expect(() => parseDurationMs(value, 'x')).toThrow(ValidationError);
  });
});
