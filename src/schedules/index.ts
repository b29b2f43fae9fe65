/**
 * Schedules are plain values ({@link Schedule}), parsed once by `parseSchedule`, and these pure
 * functions of them. Nothing here reads the clock: `now` and `after` are always passed in.
 */
import { ValidationError } from '../errors.js';
import type { Schedule } from '../types.js';
import { nextCronTime } from './cron.js';

export { parseSchedule } from './parse.js';
export { parseDurationMs } from './duration.js';
export type { DurationBounds } from './duration.js';
export { eventMatches } from './event.js';

/** Most fire times one preview returns. */
const MAX_PREVIEW = 1_000;

/**
 * The first instant strictly after `after` at which the schedule fires, or null when it never
 * fires by itself again: `manual` and `event` schedules, and a `once` whose time is not after
 * `after`. Cron times follow the zone's wall clock (docs/scheduling.md, "Cron and daylight
 * saving time"); interval slots are `anchor + k * everyMs` for whole k >= 0.
 * @example nextFireTime({ kind: 'interval', everyMs: 60_000, anchor: '2026-01-01T00:00:00Z' },
 *   new Date('2026-01-01T00:00:30Z')) // 2026-01-01T00:01:00Z
 */
export function nextFireTime(schedule: Schedule, after: Date): Date | null {
  const afterMs = after.getTime();
  if (Number.isNaN(afterMs)) throw new TypeError('nextFireTime: `after` is an invalid Date');
  switch (schedule.kind) {
    case 'cron':
      return nextCronTime(schedule.expression, schedule.timezone, after);
    case 'interval': {
      const anchor = Date.parse(schedule.anchor);
      if (afterMs < anchor) return new Date(anchor);
      const k = Math.floor((afterMs - anchor) / schedule.everyMs) + 1;
      return new Date(anchor + k * schedule.everyMs);
    }
    case 'once': {
      const at = Date.parse(schedule.at);
      return at > afterMs ? new Date(at) : null;
    }
    case 'manual':
    case 'event':
      return null;
  }
}

/**
 * The next `count` (1..1000) fire times after `after`, each found from the previous one; fewer
 * when the schedule ends (a `once`), none for `manual` and `event`. For UIs and validation.
 */
export function previewSchedule(schedule: Schedule, count: number, after: Date): Date[] {
  if (!Number.isInteger(count) || count < 1 || count > MAX_PREVIEW) {
    throw ValidationError.from([{ path: 'count', message: `must be a whole number from 1 to ${MAX_PREVIEW}, got ${count}` }], 'Invalid preview');
  }
  const times: Date[] = [];
  let from = after;
  while (times.length < count) {
    const next = nextFireTime(schedule, from);
    if (next === null) break;
    times.push(next);
    from = next;
  }
  return times;
}
