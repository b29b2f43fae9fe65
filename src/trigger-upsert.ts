/**
 * `triggers.upsert`: create a trigger, or bring the stored one with the same (owner, name) in
 * line with a declaration, writing only when something differs. Safe when every instance of a
 * service declares the same triggers at once: inserts race on the name's uniqueness, updates
 * on the trigger's version, and the losers re-read and find nothing left to do.
 */
import { recordAudit, type ApiContext } from './engine.js';
import { ConflictError, isPunctualError } from './errors.js';
import { firstSlot } from './slots.js';
import { declaredSettings, isTimed, newTriggerRecord, validateCreateInput } from './trigger-record.js';
import type { UpsertResult } from './trigger-handle.js';
import { STORED_KEYS } from './trigger-fields.js';
import type { ValidTriggerFields } from './trigger-input.js';
import type { Schedule, TriggerRecord } from './types.js';

const UPSERT_ATTEMPTS = 8;

/** The fields a declaration decides; everything else (status, runCount, nextFireAt...) is the trigger's own state. */
const DECLARED_FIELDS = [...STORED_KEYS.filter((key) => key !== 'owner' && key !== 'name'), 'autoPause'] as const;
type DeclaredField = (typeof DECLARED_FIELDS)[number];

/** Upserts one trigger; `input` is a full create input (a scoped view has filled in its owner). */
export async function upsertTrigger(engine: ApiContext, input: unknown, actor: string): Promise<UpsertResult> {
  await engine.ready();
  const valid = await validateCreateInput(engine, input, engine.now());
  const anchorGiven = typeof input === 'object' && input !== null && hasAnchor((input as { schedule?: unknown }).schedule);
  for (let attempt = 0; attempt < UPSERT_ATTEMPTS; attempt++) {
    const now = engine.now();
    const current = await findTriggerByName(engine, valid.owner, valid.name);
    if (!current) {
      const trigger = newTriggerRecord(engine, valid, now);
      try {
        await engine.store.insertTrigger(trigger);
      } catch (error) {
        if (isPunctualError(error, 'ConflictError')) continue; // another instance created it: compare with theirs
        throw error;
      }
      await recordAudit(engine, { actor, action: 'trigger.create', owner: trigger.owner, triggerId: trigger.id, details: { name: trigger.name, upsert: true } });
      engine.events.emit('trigger:created', { trigger, actor });
      engine.triggerChanged(trigger, trigger.id);
      return { trigger, action: 'created' };
    }
    const change = declaredChange(engine, current, valid, anchorGiven, now);
    if (change === null) return { trigger: current, action: 'unchanged' };
    const next: TriggerRecord = { ...change.next, updatedAt: now, version: current.version + 1 };
    if (await engine.store.updateTrigger({ id: current.id, expectedVersion: current.version, next })) {
      engine.triggerChanged(next, next.id);
      await recordAudit(engine, { actor, action: 'trigger.update', owner: next.owner, triggerId: next.id, details: { fields: change.fields, upsert: true } });
      engine.events.emit('trigger:updated', { trigger: next, previous: current, actor });
      return { trigger: next, action: 'updated' };
    }
    // The version moved on (a slot fired, another instance upserted): compare again.
  }
  throw new ConflictError(`Trigger ${JSON.stringify(valid.name)} kept changing while it was being upserted; try again`);
}

/** The owner's trigger named `name`, if any. */
export async function findTriggerByName(engine: ApiContext, owner: string, name: string): Promise<TriggerRecord | null> {
  const [found] = await engine.store.listTriggers({ owner, name, sort: 'createdAt', order: 'asc', limit: 1 });
  return found ?? null;
}

/**
 * The stored trigger with the declared settings, and the names of the fields that differ; null
 * when none does. A changed schedule or timing recomputes the next fire from now, except that a
 * slot already due and not yet fired keeps its place: it fires once, under the new settings.
 */
function declaredChange(engine: ApiContext, current: TriggerRecord, valid: ValidTriggerFields & { owner: string }, anchorGiven: boolean, now: Date): { next: TriggerRecord; fields: DeclaredField[] } | null {
  const settings = declaredSettings(engine, valid);
  const desired: Partial<Record<DeclaredField, unknown>> = {
    ...settings,
    taskType: valid.taskType,
    payload: valid.payload,
    schedule: anchorGiven ? valid.schedule : keepAnchor(valid.schedule, current.schedule),
    autoPause: settings.autoPause ? { afterFailures: settings.autoPause.afterFailures, consecutiveFailures: current.autoPause?.consecutiveFailures ?? 0 } : undefined,
  };
  const fields = DECLARED_FIELDS.filter((field) => canonical(current[field]) !== canonical(desired[field]));
  if (fields.length === 0) return null;
  const next = { ...current } as Record<string, unknown>;
  for (const field of fields) {
    if (desired[field] === undefined) delete next[field];
    else next[field] = structuredClone(desired[field]);
  }
  const record = next as unknown as TriggerRecord;
  if (fields.includes('schedule') || fields.includes('timing')) {
    const due = current.status === 'active' && current.nextFireAt !== null && current.nextFireAt.getTime() <= now.getTime();
    record.nextFireAt = due ? current.nextFireAt : firstSlot(record, now, engine.options.calendars);
    if (record.status !== 'paused') record.status = record.nextFireAt === null && isTimed(record) ? 'completed' : 'active';
  }
  return { next: record, fields };
}

/** An interval declared without an anchor keeps the stored anchor, so each boot does not shift its slots. */
function keepAnchor(declared: Schedule, stored: Schedule): Schedule {
  if (declared.kind === 'interval' && stored.kind === 'interval' && declared.everyMs === stored.everyMs) return { ...declared, anchor: stored.anchor };
  return declared;
}

function hasAnchor(schedule: unknown): boolean {
  return typeof schedule === 'object' && schedule !== null && (schedule as { anchor?: unknown }).anchor !== undefined;
}

/** JSON with sorted keys and Dates as ISO strings: equal for equal values whatever the key order. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (typeof v !== 'object' || v === null || Array.isArray(v) || v instanceof Date) return v;
    return Object.fromEntries(Object.keys(v).sort().map((k) => [k, (v as Record<string, unknown>)[k]]));
  }) ?? 'undefined';
}
