import type { Calendar } from './calendars.js';
import { buildRun, slotRunId, type RunBuildContext } from './engine.js';
import type { ResolvedOptions } from './options.js';
import { latestSlotAtOrBefore, nextSlot } from './slots.js';
import type { SlotFire } from './stores/types.js';
import type { RunRecord, TriggerRecord } from './types.js';

/** Misfire policy `all` replays at most this far back. */
export const CATCH_UP_WINDOW_MS = 86_400_000;

/**
 * Next slots computed during one firing pass, by schedule, timing and instant: triggers that
 * share a schedule and came due together (a fan-out) compute their next slot once. A cron's
 * next slot costs tens of microseconds; the key, one string.
 */
export type SlotMemo = Map<string, number | null>;

function memoizedNextSlot(memo: SlotMemo | undefined, trigger: TriggerRecord, after: Date, calendars: ReadonlyMap<string, Calendar>, runCount: number): Date | null {
  const s = trigger.schedule;
  const schedule = s.kind === 'cron' ? `c ${s.expression} ${s.timezone}` : s.kind === 'interval' ? `i ${s.everyMs} ${s.anchor}` : s.kind === 'once' ? `o ${s.at}` : null;
  if (!memo || schedule === null) return nextSlot(trigger, after, calendars, runCount);
  // nextSlot reads the schedule, the timing (bounds, calendars, maxRuns) and, with maxRuns, the count.
  const timing = trigger.timing ? `${JSON.stringify(trigger.timing)} ${trigger.timing.maxRuns !== undefined ? runCount : ''}` : '';
  const key = `${schedule}\u0000${timing}\u0000${after.getTime()}`;
  let at = memo.get(key);
  if (at === undefined) {
    at = nextSlot(trigger, after, calendars, runCount)?.getTime() ?? null;
    memo.set(key, at);
  }
  return at === null ? null : new Date(at);
}

/** A due slot's write for `fireSlots`, planned: the trigger's next state and the slot's run (pending), if any. */
export interface Plan {
  fire: SlotFire;
  /** The due slot, when it was missed beyond the misfire grace (the misfire policy applied). */
  missedFrom: Date | null;
}

/** What planning a slot reads: the calendars and the random source (jitter), and what building its run needs. */
export type SlotPlanContext = RunBuildContext & { readonly options: Pick<ResolvedOptions, 'calendars'> };

/**
 * Decides the run (if any) and the next slot for a due trigger, applying its misfire policy,
 * bounds, calendars and jitter. Pure: it reads the trigger and the time and changes nothing
 * (claiming the run at fire is a later step, see claim-at-fire.ts).
 */
export function planSlot(ctx: SlotPlanContext, trigger: TriggerRecord, now: Date, memo?: SlotMemo): Plan {
  const { calendars, random } = ctx.options;
  const due = trigger.nextFireAt as Date;
  const missed = now.getTime() - due.getTime() > trigger.misfireGraceMs;
  let slot: Date | null = due;
  if (missed && trigger.misfire === 'skip') {
    // Only the missed slots are skipped: the latest one still fires if it is within the grace.
    const latest = latestSlotAtOrBefore(trigger, due, now, calendars);
    slot = now.getTime() - latest.getTime() <= trigger.misfireGraceMs ? latest : null;
  } else if (missed && trigger.misfire === 'once') {
    slot = latestSlotAtOrBefore(trigger, due, now, calendars);
  } else if (missed && now.getTime() - due.getTime() > CATCH_UP_WINDOW_MS) {
    // `all` replays the missed slots of the last day at most; older ones are skipped.
    const first = nextSlot(trigger, new Date(now.getTime() - CATCH_UP_WINDOW_MS - 1), calendars);
    slot = first !== null && first.getTime() <= now.getTime() ? first : null;
  }
  const runCount = trigger.runCount + (slot ? 1 : 0);
  const next = memoizedNextSlot(memo, trigger, slot ?? now, calendars, runCount);
  const jitterMs = trigger.timing?.jitterMs ?? 0;
  const run: RunRecord | null = slot
    ? buildRun(ctx, trigger, {
        id: slotRunId(trigger.id, slot),
        source: 'schedule',
        scheduledFor: slot,
        now,
        ...(jitterMs > 0 ? { availableAt: new Date(slot.getTime() + Math.floor(random() * jitterMs)) } : {}),
      })
    : null;
  const nextTrigger: TriggerRecord = {
    ...trigger,
    nextFireAt: next,
    status: next === null ? 'completed' : trigger.status,
    runCount,
    updatedAt: now,
    version: trigger.version + 1,
  };
  return { fire: { triggerId: trigger.id, expectedVersion: trigger.version, next: nextTrigger, run }, missedFrom: missed ? due : null };
}
