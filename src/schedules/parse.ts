import { DateTime } from 'luxon';
import { ValidationError } from '../errors.js';
import type { ValidationIssue } from '../errors.js';
import type { Schedule, ScheduleInput } from '../types.js';
import { CronSyntaxError, compileCron, isValidZone, nextCronTime, normalizeCron } from './cron.js';
import { parseDurationMs } from './duration.js';
import { checkEventFilter, checkEventName } from './event.js';

const KINDS = ['cron', 'every', 'at', 'manual', 'event'] as const;
type Kind = (typeof KINDS)[number];
const ALLOWED_KEYS: Record<Kind, readonly string[]> = {
  cron: ['cron', 'timezone'],
  every: ['every', 'anchor'],
  at: ['at'],
  manual: ['manual'],
  event: ['event', 'filter', 'debounceMs'],
};
const SUBJECT = 'Invalid schedule';
/** Date, time and an explicit zone: `Z` or `+hh:mm` / `+hhmm` / `+hh`. */
const ISO_WITH_ZONE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:[.,]\d{1,9})?)?(?:Z|[+-]\d{2}(?::?\d{2})?)$/i;

/**
 * Validates a schedule as written by users and normalizes it into a {@link Schedule}.
 * `now` is the default interval anchor. Throws a {@link ValidationError} listing every problem,
 * with paths such as `schedule.cron` or `schedule.timezone`.
 * @example parseSchedule({ cron: '0 9 * * 1-5', timezone: 'Europe/Paris' }, now)
 * // { kind: 'cron', expression: '0 9 * * 1-5', timezone: 'Europe/Paris' }
 */
export function parseSchedule(input: ScheduleInput, now: Date): Schedule {
  const issues: ValidationIssue[] = [];
  const schedule = parse(input as unknown, now, issues);
  if (schedule === null || issues.length > 0) throw ValidationError.from(issues, SUBJECT);
  return schedule;
}

function parse(input: unknown, now: Date, issues: ValidationIssue[]): Schedule | null {
  const choices = `exactly one of ${KINDS.join(', ')}`;
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    issues.push({ path: 'schedule', message: `expected an object with ${choices}, e.g. { cron: '0 9 * * *' }` });
    return null;
  }
  const record = input as Record<string, unknown>;
  const present = KINDS.filter((k) => record[k] !== undefined);
  const kind = present[0];
  if (kind === undefined || present.length > 1) {
    const got = present.length === 0 ? 'none' : present.join(' and ');
    issues.push({ path: 'schedule', message: `needs ${choices}; got ${got}` });
    return null;
  }
  const unknown = Object.keys(record).filter((k) => !ALLOWED_KEYS[kind].includes(k) && record[k] !== undefined);
  if (unknown.length > 0) {
    const list = unknown.map((k) => `"${k}"`).join(', ');
    issues.push({ path: 'schedule', message: `unknown key ${list}; a ${kind} schedule takes ${ALLOWED_KEYS[kind].join(', ')}` });
    return null;
  }
  switch (kind) {
    case 'cron':
      return parseCron(record.cron, record.timezone, now, issues);
    case 'every':
      return parseInterval(record.every, record.anchor, now, issues);
    case 'at': {
      const at = parseInstant(record.at, 'schedule.at', issues);
      return at === null ? null : { kind: 'once', at };
    }
    case 'manual':
      if (record.manual !== true) issues.push({ path: 'schedule.manual', message: `must be true, got ${JSON.stringify(record.manual)}` });
      return { kind: 'manual' };
    case 'event':
      return parseEvent(record.event, record.filter, record.debounceMs, issues);
  }
}

function parseCron(expression: unknown, timezone: unknown, now: Date, issues: ValidationIssue[]): Schedule | null {
  let normalized: string | null = null;
  if (typeof expression !== 'string') {
    issues.push({ path: 'schedule.cron', message: `expected a cron expression string, got ${typeof expression}` });
  } else {
    try {
      compileCron(expression);
      normalized = normalizeCron(expression);
    } catch (error) {
      if (!(error instanceof CronSyntaxError)) throw error;
      issues.push({ path: 'schedule.cron', message: error.message });
    }
  }
  const zone = timezone === undefined ? 'UTC' : timezone;
  if (typeof zone !== 'string' || !isValidZone(zone)) {
    issues.push({
      path: 'schedule.timezone',
      message: `${JSON.stringify(zone)} is not an IANA time zone; use a name such as "UTC", "Europe/Paris" or "America/New_York"`,
    });
    return null;
  }
  if (normalized === null) return null;
  try {
    nextCronTime(normalized, zone, now);
  } catch {
    issues.push({ path: 'schedule.cron', message: `"${normalized}" never fires; check the day-of-month, month and day-of-week fields` });
    return null;
  }
  return { kind: 'cron', expression: normalized, timezone: zone };
}

function parseInterval(every: unknown, anchor: unknown, now: Date, issues: ValidationIssue[]): Schedule | null {
  let everyMs: number | null = null;
  if (typeof every !== 'number' && typeof every !== 'string') {
    issues.push({ path: 'schedule.every', message: `expected milliseconds or a duration string such as '5m', got ${typeof every}` });
  } else {
    try {
      everyMs = parseDurationMs(every, 'schedule.every');
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      issues.push(...error.issues);
    }
  }
  const anchorIso = anchor === undefined ? isoOf(now, 'now', issues) : parseInstant(anchor, 'schedule.anchor', issues);
  if (everyMs === null || anchorIso === null) return null;
  return { kind: 'interval', everyMs, anchor: anchorIso };
}

function parseEvent(event: unknown, filter: unknown, debounceMs: unknown, issues: ValidationIssue[]): Schedule | null {
  const nameIssues = checkEventName(event, 'schedule.event');
  issues.push(...nameIssues);
  const checked = filter === undefined ? { issues: [] } : checkEventFilter(filter, 'schedule.filter');
  issues.push(...checked.issues);
  let debounce: number | undefined;
  if (debounceMs !== undefined) {
    if (typeof debounceMs === 'number' && Number.isInteger(debounceMs) && debounceMs >= 1 && debounceMs <= 86_400_000) debounce = debounceMs;
    else issues.push({ path: 'schedule.debounceMs', message: `must be an integer of ms from 1 to 86400000, got ${JSON.stringify(debounceMs)}` });
  }
  if (nameIssues.length > 0 || checked.issues.length > 0 || (debounceMs !== undefined && debounce === undefined)) return null;
  return {
    kind: 'event',
    event: event as string,
    ...('filter' in checked && checked.filter !== undefined ? { filter: checked.filter } : {}),
    ...(debounce !== undefined ? { debounceMs: debounce } : {}),
  };
}

/** A Date, or an ISO-8601 string with an explicit offset or Z, as `toISOString()`. */
function parseInstant(value: unknown, path: string, issues: ValidationIssue[]): string | null {
  if (value instanceof Date) return isoOf(value, path, issues);
  if (typeof value !== 'string') {
    issues.push({ path, message: `expected a Date or an ISO-8601 string such as "2026-05-01T09:00:00Z", got ${typeof value}` });
    return null;
  }
  if (!ISO_WITH_ZONE.test(value)) {
    issues.push({
      path,
      message: `"${value.slice(0, 60)}" is not an ISO-8601 date-time with a zone; write e.g. "2026-05-01T09:00:00Z" or "2026-05-01T11:00:00+02:00"`,
    });
    return null;
  }
  const parsed = DateTime.fromISO(value, { setZone: true });
  if (!parsed.isValid) {
    issues.push({ path, message: `"${value}" is not a real date-time (${parsed.invalidExplanation ?? parsed.invalidReason ?? 'invalid'})` });
    return null;
  }
  return isoOf(parsed.toJSDate(), path, issues);
}

function isoOf(date: Date, path: string, issues: ValidationIssue[]): string | null {
  if (Number.isNaN(date.getTime())) {
    issues.push({ path, message: 'is an invalid Date' });
    return null;
  }
  return date.toISOString();
}
