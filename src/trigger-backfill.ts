/** `triggers.backfill`: the runs of the past slots of a range that have none yet. */
import { buildRun, recordAudit, slotRunId, type ApiContext } from './engine.js';
import { ValidationError, type ValidationIssue } from './errors.js';
import { instantMs } from './instants.js';
import { slotsBetween } from './slots.js';
import { isTimed } from './trigger-record.js';
import type { RunRecord, TriggerRecord } from './types.js';

export interface BackfillRange {
  /** Start of the range, inclusive: a Date or an ISO-8601 string with an offset. */
  from: Date | string;
  /** End of the range, exclusive, not in the future. */
  to: Date | string;
  /** Who did it, for the audit trail. Default: the scoped owner, else `system`. */
  actor?: string;
}

export interface BackfillResult {
  /** Slots in the range (after bounds and calendars). */
  slots: number;
  /** The runs created. */
  created: RunRecord[];
  /** Slots that already had a run. */
  alreadyRun: number;
}

const MAX_BACKFILL_SLOTS = 10_000;

/** Checks a range (its keys checked already): `from` before `to`, `to` not after now. */
export function checkRange(range: unknown, now: Date): { from: Date; to: Date } {
  const { from: fromGiven, to: toGiven } = (range ?? {}) as Partial<BackfillRange>;
  const from = new Date(instantMs(fromGiven));
  const to = new Date(instantMs(toGiven));
  const issues: ValidationIssue[] = [];
  if (Number.isNaN(from.getTime())) issues.push({ path: 'from', message: 'must be a Date or an ISO-8601 string with an offset' });
  if (Number.isNaN(to.getTime())) issues.push({ path: 'to', message: 'must be a Date or an ISO-8601 string with an offset' });
  else if (to.getTime() > now.getTime()) issues.push({ path: 'to', message: 'must not be in the future: backfill replays past slots' });
  if (issues.length === 0 && from.getTime() >= to.getTime()) issues.push({ path: 'to', message: 'must be after from' });
  if (issues.length > 0) throw ValidationError.from(issues, 'Invalid backfill range');
  return { from, to };
}

/** Creates the missing runs of `trigger`'s slots in `[from, to)`, marked `source: 'backfill'`. */
export async function backfillTrigger(engine: ApiContext, trigger: TriggerRecord, range: { from: Date; to: Date }, actor: string): Promise<BackfillResult> {
  const { from, to } = range;
  const now = engine.now();
  if (!isTimed(trigger)) throw ValidationError.from([{ path: 'id', message: `a ${trigger.schedule.kind} trigger has no slots to backfill` }], 'Invalid backfill');
  const slots = slotsBetween(trigger, from, to, MAX_BACKFILL_SLOTS, engine.options.calendars);
  if (slots.length > MAX_BACKFILL_SLOTS) {
    throw ValidationError.from([{ path: 'from', message: `the range holds more than ${MAX_BACKFILL_SLOTS} slots; backfill it in smaller ranges` }], 'Invalid backfill range');
  }
  const runs = slots.map((slot) => buildRun(engine, trigger, { id: slotRunId(trigger.id, slot), source: 'backfill', scheduledFor: slot, availableAt: now }));
  const inserted = runs.length > 0 ? await engine.store.insertRuns(runs) : [];
  const created = runs.filter((_, i) => inserted[i]);
  await recordAudit(engine, { actor, action: 'trigger.backfill', owner: trigger.owner, triggerId: trigger.id, details: { from: from.toISOString(), to: to.toISOString(), slots: slots.length, created: created.length } });
  for (const run of created) {
    engine.metrics.increment('runsScheduled');
    engine.events.emit('run:scheduled', { run });
  }
  if (created.length > 0) engine.wake();
  return { slots: slots.length, created, alreadyRun: slots.length - created.length };
}
