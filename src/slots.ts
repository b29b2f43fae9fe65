import type { Calendar } from './calendars.js';
import { nextFireTime } from './schedules/index.js';
import type { Schedule, TriggerTiming } from './types.js';

/** How far ahead a slot search looks past excluded slots before deciding there is none. */
const SEARCH_HORIZON_MS = 5 * 366 * 86_400_000;
/** Bound on slots examined in one search (an every-second schedule inside a week-long blackout is 604,800). */
const MAX_SLOTS_EXAMINED = 1_000_000;

/** What a slot search needs to know about a trigger. */
export interface SlotSource {
  schedule: Schedule;
  timing?: TriggerTiming;
  runCount: number;
}

/**
 * The trigger's next slot strictly after `after`: the schedule's next fire time that is not
 * before `startAt`, not after `endAt`, not inside an exclusion calendar, and while fewer than
 * `maxRuns` runs were created. Null when there is none.
 */
export function nextSlot(source: SlotSource, after: Date, calendars: ReadonlyMap<string, Calendar>, runCount = source.runCount): Date | null {
  const timing = source.timing;
  if (timing?.maxRuns !== undefined && runCount >= timing.maxRuns) return null;
  const startAt = timing?.startAt ? Date.parse(timing.startAt) : null;
  const endAt = timing?.endAt ? Date.parse(timing.endAt) : null;
  let from = startAt !== null && after.getTime() < startAt ? new Date(startAt - 1) : after;
  const excluded = (timing?.calendars ?? []).map((name) => calendars.get(name)).filter((c): c is Calendar => c !== undefined);
  const horizon = from.getTime() + SEARCH_HORIZON_MS;
  for (let examined = 0; examined < MAX_SLOTS_EXAMINED; examined++) {
    const slot = nextFireTime(source.schedule, from);
    if (slot === null) return null;
    const t = slot.getTime();
    if (endAt !== null && t > endAt) return null;
    if (t > horizon) return null;
    if (!excluded.some((c) => c.excludes(t))) return slot;
    from = slot;
  }
  return null;
}

/** The first slot of a new or rescheduled trigger: a `once` keeps its instant even when it is past (the misfire policy decides). */
export function firstSlot(source: SlotSource, now: Date, calendars: ReadonlyMap<string, Calendar>): Date | null {
  if (source.schedule.kind === 'once') {
    return nextSlot(source, new Date(Date.parse(source.schedule.at) - 1), calendars);
  }
  return nextSlot(source, now, calendars);
}

/** The last slot at or before `now`, starting from the due slot `from` (itself <= now and valid). */
export function latestSlotAtOrBefore(source: SlotSource, from: Date, now: Date, calendars: ReadonlyMap<string, Calendar>): Date {
  const schedule = source.schedule;
  const plain = !source.timing?.calendars?.length && !source.timing?.maxRuns;
  if (schedule.kind === 'interval' && plain) {
    const anchor = Date.parse(schedule.anchor);
    const k = Math.floor((now.getTime() - anchor) / schedule.everyMs);
    let latest = Math.max(from.getTime(), anchor + k * schedule.everyMs);
    const endAt = source.timing?.endAt ? Date.parse(source.timing.endAt) : null;
    if (endAt !== null && latest > endAt) latest = Math.max(from.getTime(), anchor + Math.floor((endAt - anchor) / schedule.everyMs) * schedule.everyMs);
    return new Date(latest);
  }
  let slot = from;
  for (let i = 0; i < MAX_SLOTS_EXAMINED; i++) {
    const next = nextSlot(source, slot, calendars, source.runCount);
    if (next === null || next.getTime() > now.getTime()) return slot;
    slot = next;
  }
  return slot;
}

/** Every slot in `[from, to)`, at most `limit` (+1 so callers can tell the range was too large). */
export function slotsBetween(source: SlotSource, from: Date, to: Date, limit: number, calendars: ReadonlyMap<string, Calendar>): Date[] {
  const unbounded: SlotSource = { ...source, runCount: 0, ...(source.timing ? { timing: { ...source.timing, maxRuns: undefined } } : {}) };
  const slots: Date[] = [];
  let after = new Date(from.getTime() - 1);
  while (slots.length <= limit) {
    const slot = nextSlot(unbounded, after, calendars);
    if (slot === null || slot.getTime() >= to.getTime()) break;
    slots.push(slot);
    after = slot;
  }
  return slots;
}
