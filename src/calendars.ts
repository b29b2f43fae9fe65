import { ConfigurationError } from './errors.js';
import { preview } from './json-limits.js';
import { isValidZone } from './schedules/cron.js';
import { wallOf, zoneOf } from './schedules/wall-time.js';

/**
 * An exclusion calendar: instants inside it are not fired by triggers that reference it.
 * Days and weekly windows are read in the calendar's time zone.
 * @example
 * {
 *   timezone: 'Europe/Paris',
 *   dates: ['2026-12-25', '2027-01-01'],                       // whole local days
 *   weekly: [{ days: [0], from: '02:00', to: '04:00' }],      // every Sunday 02:00-04:00 local
 *   windows: [{ start: '2026-11-30T22:00:00Z', end: '2026-12-01T02:00:00Z' }], // one-off blackout
 * }
 */
export interface CalendarDefinition {
  /** IANA zone for `dates` and `weekly`. Default `UTC`. */
  timezone?: string;
  /** Local days to skip, `YYYY-MM-DD`. */
  dates?: readonly string[];
  /** Recurring local windows: `days` 0 (Sunday) .. 6, `from` inclusive and `to` exclusive, `HH:mm`; `to` of `24:00` means midnight. */
  weekly?: readonly { days: readonly number[]; from: string; to: string }[];
  /** Absolute windows, ISO-8601 instants with an offset: `start` inclusive, `end` exclusive. */
  windows?: readonly { start: string | Date; end: string | Date }[];
}

/** A checked calendar, ready to answer `excludes(instant)`. */
export class Calendar {
  private readonly zone;
  private readonly dates: Set<string>;
  private readonly weekly: { days: Set<number>; from: number; to: number }[];
  private readonly windows: { start: number; end: number }[];

  constructor(
    readonly name: string,
    definition: CalendarDefinition,
  ) {
    const problems: string[] = [];
    const timezone = definition.timezone ?? 'UTC';
    if (!isValidZone(timezone)) problems.push(`timezone ${preview(timezone)} is not an IANA zone`);
    this.zone = zoneOf(isValidZone(timezone) ? timezone : 'UTC');
    this.dates = new Set();
    for (const date of definition.dates ?? []) {
      if (isCalendarDate(date)) this.dates.add(date);
      else problems.push(`dates: ${preview(date)} is not a YYYY-MM-DD date`);
    }
    this.weekly = [];
    for (const w of definition.weekly ?? []) {
      const from = minutesOf(w?.from);
      const to = minutesOf(w?.to);
      const days = Array.isArray(w?.days) ? w.days : [];
      if (from === null || to === null || from >= to) problems.push(`weekly: from/to must be HH:mm with from before to, got from ${preview(w?.from)}, to ${preview(w?.to)}`);
      else if (days.length === 0 || !days.every((d) => Number.isInteger(d) && d >= 0 && d <= 6)) problems.push(`weekly: days must be 0 (Sunday) to 6, got ${preview(w.days)}`);
      else this.weekly.push({ days: new Set(days), from, to });
    }
    this.windows = [];
    for (const w of definition.windows ?? []) {
      const start = instantOf(w?.start);
      const end = instantOf(w?.end);
      if (start === null || end === null || start >= end) problems.push(`windows: start/end must be ISO instants with an offset, start before end, got start ${preview(w?.start)}, end ${preview(w?.end)}`);
      else this.windows.push({ start, end });
    }
    if (problems.length > 0) throw ConfigurationError.from(problems.map((message) => ({ path: `calendars.${name}`, message })), `Invalid calendar ${JSON.stringify(name)}`);
  }

  /** Whether the instant (epoch ms) falls inside the calendar. */
  excludes(instant: number): boolean {
    for (const w of this.windows) if (instant >= w.start && instant < w.end) return true;
    if (this.dates.size === 0 && this.weekly.length === 0) return false;
    const wall = new Date(wallOf(this.zone, instant));
    if (this.dates.has(wall.toISOString().slice(0, 10))) return true;
    const minute = wall.getUTCHours() * 60 + wall.getUTCMinutes();
    const day = wall.getUTCDay();
    return this.weekly.some((w) => w.days.has(day) && minute >= w.from && minute < w.to);
  }
}

/** Builds the calendars of the scheduler options; throws ConfigurationError on a bad one. */
export function buildCalendars(definitions: Record<string, CalendarDefinition> | undefined): Map<string, Calendar> {
  const calendars = new Map<string, Calendar>();
  if (definitions === undefined) return calendars;
  if (typeof definitions !== 'object' || definitions === null) throw ConfigurationError.from([{ path: 'calendars', message: 'must be an object: name -> { timezone?, dates?, weekly?, windows? }' }]);
  for (const [name, definition] of Object.entries(definitions)) {
    if (!/^[A-Za-z0-9_-]{1,100}$/.test(name)) throw ConfigurationError.from([{ path: `calendars.${name}`, message: 'the calendar name must be 1-100 letters, digits, "-" or "_"' }]);
    calendars.set(name, new Calendar(name, definition ?? {}));
  }
  return calendars;
}

/** A real `YYYY-MM-DD` day: V8's Date.parse rolls `2026-02-30` over to March 2, so the round trip is checked. */
function isCalendarDate(value: unknown): value is string {
  if (typeof value !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(value)) return false;
  const t = Date.parse(`${value}T00:00:00Z`);
  return !Number.isNaN(t) && new Date(t).toISOString().slice(0, 10) === value;
}

function minutesOf(value: unknown): number | null {
  if (typeof value !== 'string') return null;
  const m = /^(\d{2}):(\d{2})$/.exec(value);
  if (!m) return null;
  const minutes = Number(m[1]) * 60 + Number(m[2]);
  return Number(m[2]) < 60 && minutes <= 24 * 60 ? minutes : null;
}

function instantOf(value: unknown): number | null {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.getTime();
  if (typeof value !== 'string' || !/(Z|[+-]\d{2}:?\d{2})$/.test(value)) return null;
  const t = Date.parse(value);
  return Number.isNaN(t) ? null : t;
}
