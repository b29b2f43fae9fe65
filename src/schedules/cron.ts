/**
 * Cron schedules. cron-parser parses the expression and walks it over wall-clock time in UTC,
 * where no day has a gap or a repeated hour; this module maps each wall time to an instant in
 * the trigger's zone (see wall-time.ts and docs/scheduling.md, "Cron and daylight saving time").
 */
import { CronExpressionParser } from 'cron-parser';
import type { CronExpression } from 'cron-parser';
import { IANAZone } from 'luxon';
import { resolveWall, wallOf, zoneOf } from './wall-time.js';

export const MAX_CRON_LENGTH = 200;

const FIELD_NAMES = ['second', 'minute', 'hour', 'dayOfMonth', 'month', 'dayOfWeek'] as const;
type FieldName = (typeof FIELD_NAMES)[number];
const FIELD_LABELS: Record<FieldName, string> = {
  second: 'second',
  minute: 'minute',
  hour: 'hour',
  dayOfMonth: 'day-of-month',
  month: 'month',
  dayOfWeek: 'day-of-week',
};
/** A neutral expression to parse one list item in; each item replaces one field. */
const PROBE = ['0', '0', '0', '*', '*', '*'];
const FORMAT_HINT = 'use 5 fields (minute hour day-of-month month day-of-week) or 6 with seconds first, e.g. "0 9 * * 1-5"';

/** An unusable cron expression; the message is written for users. */
export class CronSyntaxError extends Error {
  override name = 'CronSyntaxError';
}

/** Whitespace-normalized expression, 5 or 6 fields; throws {@link CronSyntaxError} with a user-facing message. */
export function normalizeCron(expression: string): string {
  const trimmed = expression.trim();
  if (trimmed === '') throw new CronSyntaxError(`the expression is empty; ${FORMAT_HINT}`);
  if (trimmed.length > MAX_CRON_LENGTH) {
    throw new CronSyntaxError(`the expression is ${trimmed.length} characters long; at most ${MAX_CRON_LENGTH} are allowed`);
  }
  const fields = trimmed.split(/\s+/);
  if (trimmed.startsWith('@')) {
    throw new CronSyntaxError(`"${trimmed}": nicknames such as @daily are not supported; ${FORMAT_HINT}`);
  }
  if (fields.length !== 5 && fields.length !== 6) {
    throw new CronSyntaxError(`"${trimmed}" has ${fields.length} field${fields.length === 1 ? '' : 's'}; ${FORMAT_HINT}`);
  }
  return fields.join(' ');
}

// Parsing costs ~60 us and resetting ~5 us, so iterators are kept per expression. They are
// stateful: every use starts with reset(), and nothing runs between reset() and the last next().
const iterators = new Map<string, CompiledCron>();

interface CompiledCron {
  compiled: string;
  cron: CronExpression;
  /** Set when a day must match both day fields (see vixieDayRule); cron-parser alone would accept either. */
  bothDays: { dayOfMonth: CronExpression; dayOfWeek: CronExpression } | null;
}

const DAY_MS = 86_400_000;
const CACHE_SIZE = 500;

/**
 * The 6-field expression handed to cron-parser. Lists are expanded into the sorted union of
 * their values, because cron-parser rejects lists whose items overlap (steps 9 and 17 in one
 * list, `*,22`, `0,7` for Sunday) while classic cron accepts them. Throws {@link CronSyntaxError}.
 */
export function compileCron(expression: string): string {
  return iteratorFor(expression).compiled;
}

function iteratorFor(expression: string): CompiledCron {
  const normalized = normalizeCron(expression);
  const cached = iterators.get(normalized);
  if (cached !== undefined) return cached;

  const raw = normalized.split(' ');
  const fields = raw.length === 5 ? ['0', ...raw] : raw;
  const out = fields.map((field, index) => {
    const name = FIELD_NAMES[index] as FieldName;
    if (usesHash(name, field)) {
      throw new CronSyntaxError(`${FIELD_LABELS[name]} field "${field}": hashed values (H) are not supported; give explicit values`);
    }
    if (name === 'dayOfMonth' && /W|L-/i.test(field)) {
      throw new CronSyntaxError(`day-of-month field "${field}": nearest weekday (W) and L-n are not supported; use numbers, ranges, steps or L`);
    }
    return field.includes(',') ? expandList(name, index, field) : field;
  });
  const compiled = out.join(' ');
  let cron: CronExpression;
  try {
    cron = CronExpressionParser.parse(compiled, { tz: 'UTC' });
  } catch (error) {
    throw new CronSyntaxError(describeParserError(normalized, error));
  }
  if (iterators.size >= CACHE_SIZE) iterators.clear();
  const bothDays = vixieDayRule(fields[3] as string, fields[5] as string)
    ? { dayOfMonth: CronExpressionParser.parse(`0 0 0 ${out[3]} * *`, { tz: 'UTC' }), dayOfWeek: CronExpressionParser.parse(`0 0 0 * * ${out[5]}`, { tz: 'UTC' }) }
    : null;
  const entry = { compiled, cron, bothDays };
  iterators.set(normalized, entry);
  return entry;
}

// Vixie cron's day rule: a day field whose text starts with `*` counts as unrestricted, and then
// a day must match both day fields (`0 0 */2 * 1`: Mondays that fall on an odd date); when
// neither starts with `*`, either may match (`0 0 1,15 * 1`: the 1st, the 15th and every
// Monday). cron-parser ANDs only when a field is exactly `*` or `?`, so the other cases (`*/2`,
// `*/1`, `*,5` in one field with the other restricted) are true here and filtered per day.
// (Line comments: a block comment would end at the first step of `*/2`.)
function vixieDayRule(dayOfMonth: string, dayOfWeek: string): boolean {
  const bare = (field: string): boolean => field === '*' || field === '?';
  return (dayOfMonth.startsWith('*') || dayOfWeek.startsWith('*')) && !bare(dayOfMonth) && !bare(dayOfWeek);
}

/** Whether the wall-clock day holding `wall` matches both day fields. */
function matchesBothDays(rule: NonNullable<CompiledCron['bothDays']>, wall: number): boolean {
  const midnight = new Date(Math.floor(wall / DAY_MS) * DAY_MS);
  return rule.dayOfMonth.includesDate(midnight) && rule.dayOfWeek.includesDate(midnight);
}

/**
 * Whether a wall-clock time (epoch ms read as UTC wall time) matches the expression, with the
 * day rule above. For tests and tools; the scheduler walks the expression instead.
 */
export function cronMatchesWall(expression: string, wall: number): boolean {
  const { compiled, bothDays } = iteratorFor(expression);
  const matcher = CronExpressionParser.parse(compiled, { tz: 'UTC' });
  return matcher.includesDate(new Date(wall)) && (bothDays === null || matchesBothDays(bothDays, wall));
}

function usesHash(name: FieldName, field: string): boolean {
  // Month and weekday names (THU) may contain an H; cron-parser replaces them first too.
  const bare = name === 'month' || name === 'dayOfWeek' ? field.replace(/[a-z]{3}/gi, '') : field;
  return bare.includes('H');
}

function expandList(name: FieldName, index: number, field: string): string {
  const numbers = new Set<number>();
  const specials: string[] = [];
  for (const item of field.split(',')) {
    if (item === '') throw new CronSyntaxError(`${FIELD_LABELS[name]} field "${field}" has an empty list item`);
    if (item.includes('#')) {
      throw new CronSyntaxError(`${FIELD_LABELS[name]} field "${field}": "${item}" (nth weekday) cannot be combined with other values in a list`);
    }
    const probe = [...PROBE];
    probe[index] = item;
    let values: readonly (number | string)[];
    try {
      values = CronExpressionParser.parse(probe.join(' '), { tz: 'UTC' }).fields[name].values;
    } catch (error) {
      throw new CronSyntaxError(`${FIELD_LABELS[name]} field "${field}": item "${item}" is invalid (${messageOf(error)})`);
    }
    for (const value of values) {
      if (typeof value === 'number') numbers.add(name === 'dayOfWeek' ? value % 7 : value);
      else if (!specials.includes(value)) specials.push(value);
    }
  }
  return [...[...numbers].sort((a, b) => a - b).map(String), ...specials].join(',');
}

function describeParserError(expression: string, error: unknown): string {
  const message = messageOf(error);
  if (message.includes('Invalid explicit day of month')) {
    return `"${expression}" never fires: no month it allows has that day of the month (e.g. 30 2 is February 30)`;
  }
  return `"${expression}" is not a valid cron expression (${message}); ${FORMAT_HINT}`;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Zone names checked so far (luxon builds an Intl.DateTimeFormat per check), bounded. */
const zoneValidity = new Map<string, boolean>();

export function isValidZone(name: string): boolean {
  let valid = zoneValidity.get(name);
  if (valid === undefined) {
    valid = IANAZone.isValidZone(name);
    if (zoneValidity.size < 1_000) zoneValidity.set(name, valid);
  }
  return valid;
}

/**
 * Recent answers of {@link nextCronTime}, oldest first. Triggers sharing a schedule fire at the
 * same slots, so the dispatcher asks the same question once per trigger of a fan-out in a row.
 */
const recentAnswers = new Map<string, number>();
const RECENT_ANSWERS_MAX = 4_096;

/** Each candidate either fires or jumps past a gap or repeated range; this only guards the loop. */
const MAX_CANDIDATES = 10_000;

/**
 * First fire instant strictly after `after` for a cron expression in a zone. Wall times that
 * do not exist fire when the gap ends; wall times that occur twice fire at the first occurrence.
 */
export function nextCronTime(expression: string, timezone: string, after: Date): Date {
  const key = `${after.getTime()} ${timezone} ${expression}`;
  let instant = recentAnswers.get(key);
  if (instant === undefined) {
    instant = computeNextCronTime(expression, timezone, after);
    if (recentAnswers.size >= RECENT_ANSWERS_MAX) recentAnswers.delete(recentAnswers.keys().next().value as string);
    recentAnswers.set(key, instant);
  }
  return new Date(instant);
}

function computeNextCronTime(expression: string, timezone: string, after: Date): number {
  const zone = zoneOf(timezone);
  if (!zone.isValid) throw new Error(`cron schedule has an unknown time zone "${timezone}"`);
  const afterMs = after.getTime();
  const { cron, bothDays } = iteratorFor(expression);
  cron.reset(new Date(wallOf(zone, afterMs)));
  for (let i = 0; i < MAX_CANDIDATES; i++) {
    const wall = cron.next().getTime();
    if (bothDays !== null && !matchesBothDays(bothDays, wall)) {
      // The whole day fails the day rule: go on from its last second.
      cron.reset(new Date(Math.floor(wall / DAY_MS) * DAY_MS + DAY_MS - 1_000));
      continue;
    }
    const fire = resolveWall(zone, wall);
    if (fire.instant > afterMs) return fire.instant;
    // Inside a repeated hour, or just after a gap: every candidate until resumeWall maps to an
    // instant already passed, so skip them at once (a seconds expression has 3,600 per hour).
    if (fire.resumeWall !== undefined && fire.resumeWall - 1_000 > wall) cron.reset(new Date(fire.resumeWall - 1_000));
  }
  throw new Error(`cron "${expression}" in ${timezone}: no fire time found after ${after.toISOString()}`);
}
