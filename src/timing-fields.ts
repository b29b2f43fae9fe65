/** `timing`: a trigger's start and end dates, run cap, jitter and exclusion calendars, as one table. */
import { field, INVALID, int, named, objectOf, type InputsOf, type OutputsOf } from './field-kit.js';
import { preview } from './json-limits.js';
import { instantMs } from './instants.js';

/** What a check of `timing` needs to know: the calendars the scheduler defines. */
export interface TimingContext {
  calendarNames: ReadonlySet<string>;
}

const MAX_CALENDARS = 20;

const instant = field<Date | string, string>(
  (value, path, issues) => {
    const ms = instantMs(value);
    if (!Number.isNaN(ms)) return new Date(ms).toISOString();
    issues.push({ path, message: `must be a Date or an ISO-8601 string with an offset, got ${preview(value)}` });
    return INVALID;
  },
  { $ref: '#/components/schemas/DateTime' },
);

const calendars = field<string[], string[], TimingContext>(
  (value, path, issues, ctx) => {
    if (!Array.isArray(value) || value.length > MAX_CALENDARS || !value.every((c) => typeof c === 'string')) {
      issues.push({ path, message: `must be an array of at most ${MAX_CALENDARS} calendar names` });
      return INVALID;
    }
    const unknown = value.filter((c: string) => !ctx.calendarNames.has(c));
    if (unknown.length === 0) return [...new Set(value as string[])];
    const defined = [...ctx.calendarNames].join(', ') || '(none; see the scheduler option calendars)';
    issues.push({ path, message: `unknown calendar ${unknown.map((c) => preview(c)).join(', ')}; defined: ${defined}` });
    return INVALID;
  },
  { type: 'array', maxItems: MAX_CALENDARS, items: { type: 'string' }, description: 'Names of the calendars configured on the scheduler.' },
);

/** The fields of `timing`; their doc comments are those of {@link TimingInput}. */
export const TIMING_FIELDS = {
  /** No slot before this instant (Date or ISO-8601 with an offset). */
  startAt: instant,
  /** No slot after this instant; the trigger then completes. */
  endAt: instant,
  /** Complete after this many scheduled runs (1..1,000,000,000). */
  maxRuns: int(1, 1_000_000_000),
  /** Delay each scheduled run by a random 0..jitterMs ms, at most 86,400,000; the slot (and its run id) is unchanged. */
  jitterMs: int(0, 86_400_000),
  /** Exclusion calendars (scheduler option `calendars`) whose days and windows are skipped. */
  calendars,
};

/**
 * Refinements of a trigger's schedule.
 * @example { startAt: '2026-12-01T00:00:00Z', endAt: '2027-01-01T00:00:00Z', maxRuns: 20, jitterMs: 30_000, calendars: ['fr-holidays'] }
 */
export type TimingInput = InputsOf<typeof TIMING_FIELDS>;

/** Refinements of a trigger's schedule as stored: plain JSON, instants as ISO strings. */
export type TriggerTiming = OutputsOf<typeof TIMING_FIELDS>;

const known = Object.keys(TIMING_FIELDS);

/** The `timing` field of a trigger. */
export const timingField = named(
  'TimingInput',
  objectOf<typeof TIMING_FIELDS, TimingContext>(
    TIMING_FIELDS,
    {
      notObject: `must be an object like { ${known.join(', ')} }`,
      unknownKey: () => `is not a known field; valid: ${known.join(', ')}`,
      description: 'Start and end dates, a run cap, jitter and exclusion calendars.',
    },
    (out, path, issues) => {
      if (out.startAt && out.endAt && out.startAt >= out.endAt) issues.push({ path: `${path}.endAt`, message: `must be after ${path}.startAt` });
    },
  ),
);
