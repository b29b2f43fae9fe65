import type { Engine } from './engine.js';
import { ValidationError } from './errors.js';
import { firstSlot } from './slots.js';
import { storedFields, type StoredTriggerFields } from './trigger-fields.js';
import { validateTriggerFields, type ValidTriggerFields } from './trigger-input.js';
import type { TriggerRecord } from './types.js';

/**
 * The create input a scoped view stores: the view's owner filled in. Throws ValidationError
 * when the input names another owner.
 */
export function withScopeOwner(input: unknown, scopeOwner: string | undefined, path = 'owner'): unknown {
  if (scopeOwner === undefined || typeof input !== 'object' || input === null || Array.isArray(input)) return input;
  const given = (input as { owner?: unknown }).owner;
  if (given !== undefined && given !== scopeOwner) {
    throw ValidationError.from([{ path, message: 'must be the owner of this view (or omitted)' }], 'Invalid trigger');
  }
  return { ...input, owner: scopeOwner };
}

/** Validates a full create input (owner included); throws ValidationError listing every problem. */
export async function validateCreateInput(engine: Engine, input: unknown, now: Date): Promise<ValidTriggerFields & { owner: string }> {
  const fields = await validateTriggerFields(input, engine.registry, calendarNames(engine), now, { partial: false });
  return fields as ValidTriggerFields & { owner: string };
}

/** A new trigger from validated fields, defaults applied and its first slot computed. */
export function newTriggerRecord(engine: Engine, valid: ValidTriggerFields & { owner: string }, now: Date): TriggerRecord {
  const trigger: TriggerRecord = {
    id: engine.newId(),
    ...declaredSettings(engine, valid),
    status: valid.paused ? 'paused' : 'active',
    nextFireAt: null,
    runCount: 0,
    createdAt: now,
    updatedAt: now,
    version: 1,
  };
  trigger.nextFireAt = firstSlot(trigger, now, engine.options.calendars);
  if (trigger.nextFireAt === null && isTimed(trigger)) trigger.status = 'completed';
  return trigger;
}

/**
 * The fields a declaration decides, defaults applied (the table's fallbacks: the handler's
 * priority, the scheduler's misfire and overlap policies): what `upsert` compares and writes.
 */
export function declaredSettings(engine: Engine, valid: ValidTriggerFields & { owner: string }): StoredTriggerFields & Pick<TriggerRecord, 'autoPause'> {
  const { misfire, misfireGraceMs, overlap } = engine.options;
  const stored = storedFields(valid, { handlerPriority: engine.registry.get(valid.taskType)?.priority, misfire, misfireGraceMs, overlap });
  stored.payload = structuredClone(stored.payload);
  return {
    ...stored,
    ...(valid.pauseAfterFailures ? { autoPause: { afterFailures: valid.pauseAfterFailures, consecutiveFailures: 0 } } : {}),
  };
}

/** Time-based schedules end; manual and event triggers never complete. */
export function isTimed(trigger: Pick<TriggerRecord, 'schedule'>): boolean {
  return trigger.schedule.kind === 'cron' || trigger.schedule.kind === 'interval' || trigger.schedule.kind === 'once';
}

export function calendarNames(engine: Engine): ReadonlySet<string> {
  return new Set(engine.options.calendars.keys());
}
