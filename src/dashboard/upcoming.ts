/**
 * The Upcoming timeline: every fire of every active trigger of a view inside a window, from the
 * triggers' own `preview` (bounds, run caps and calendars applied), with two kinds of marks a
 * person would otherwise miss: a daylight-saving change between two fires of a zoned cron, and a
 * slot that the schedule has but an exclusion calendar skips.
 */
import { DateTime } from 'luxon';
import { previewSchedule } from '../schedules/index.js';
import type { TriggerRecord } from '../types.js';
import { allTriggers } from './listing.js';
import type { View } from './view.js';

export interface UpcomingFire {
  at: string;
  triggerId: string;
  triggerName: string;
  owner: string;
  taskType: string;
  /** Local wall time in the schedule's zone (cron schedules), e.g. `2026-03-29 03:00 +02:00`. */
  local?: string;
  /** The UTC offset changed since this trigger's previous fire (a daylight-saving shift). */
  dstShift?: { from: string; to: string };
  /** A slot the schedule has that an exclusion calendar skips: it will not fire. */
  skipped?: 'calendar';
}

export interface Upcoming {
  from: string;
  to: string;
  fires: UpcomingFire[];
  /** True when a cap cut the list (more triggers or fires than shown). */
  truncated: boolean;
}

const MAX_TRIGGERS = 1_000;
const MAX_FIRES_PER_TRIGGER = 500;
const MAX_FIRES = 5_000;
const FIRST_ASK = 30;

export async function upcoming(view: View, now: Date, hours: number): Promise<Upcoming> {
  const end = new Date(now.getTime() + hours * 3_600_000);
  const triggers = await allTriggers(view, { status: 'active' }, MAX_TRIGGERS);
  let truncated = triggers.length >= MAX_TRIGGERS;
  const fires: UpcomingFire[] = [];
  for (const trigger of triggers) {
    if (trigger.nextFireAt === null || trigger.nextFireAt.getTime() >= end.getTime()) continue;
    // Most triggers fire a few times a window: ask for a few first, for many only when needed.
    let times = await view.triggers.preview(trigger.id, FIRST_ASK);
    if (times.length === FIRST_ASK && times[FIRST_ASK - 1]!.getTime() < end.getTime()) times = await view.triggers.preview(trigger.id, MAX_FIRES_PER_TRIGGER);
    times = times.filter((t) => t.getTime() < end.getTime());
    if (times.length === MAX_FIRES_PER_TRIGGER) truncated = true;
    fires.push(...firesOf(trigger, times, now, end));
  }
  fires.sort((a, b) => a.at.localeCompare(b.at) || a.triggerName.localeCompare(b.triggerName));
  if (fires.length > MAX_FIRES) truncated = true;
  return { from: now.toISOString(), to: end.toISOString(), fires: fires.slice(0, MAX_FIRES), truncated };
}

function firesOf(trigger: TriggerRecord, times: Date[], now: Date, end: Date): UpcomingFire[] {
  const base = { triggerId: trigger.id, triggerName: trigger.name, owner: trigger.owner, taskType: trigger.taskType };
  const zone = trigger.schedule.kind === 'cron' ? trigger.schedule.timezone : undefined;
  const out: UpcomingFire[] = times.map((at) => ({ ...base, at: at.toISOString() }));
  for (const skipped of calendarSkips(trigger, times, now, end)) out.push({ ...base, at: skipped.toISOString(), skipped: 'calendar' });
  out.sort((a, b) => a.at.localeCompare(b.at));
  if (zone === undefined) return out;
  let previous = DateTime.fromJSDate(now, { zone }).toFormat('ZZ');
  for (const fire of out) {
    const local = DateTime.fromISO(fire.at, { zone });
    const offset = local.toFormat('ZZ');
    fire.local = local.toFormat('yyyy-MM-dd HH:mm ZZ');
    if (offset !== previous) fire.dstShift = { from: previous, to: offset };
    previous = offset;
  }
  return out;
}

/** Slots of the bare schedule inside the window and the trigger's bounds that the trigger's preview (calendars applied) leaves out. */
function calendarSkips(trigger: TriggerRecord, times: Date[], now: Date, end: Date): Date[] {
  const calendars = trigger.timing?.calendars ?? [];
  if (calendars.length === 0) return [];
  const firing = new Set(times.map((t) => t.getTime()));
  const startAt = trigger.timing?.startAt ? Date.parse(trigger.timing.startAt) : -Infinity;
  const endAt = trigger.timing?.endAt ? Date.parse(trigger.timing.endAt) : Infinity;
  const last = times.length > 0 ? times[times.length - 1]!.getTime() : end.getTime();
  const horizon = times.length === MAX_FIRES_PER_TRIGGER ? last : end.getTime();
  return previewSchedule(trigger.schedule, MAX_FIRES_PER_TRIGGER, now).filter((t) => {
    const ms = t.getTime();
    return ms < horizon && ms >= startAt && ms <= endAt && !firing.has(ms);
  });
}
