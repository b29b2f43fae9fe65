/** Trigger input: the types of `create`/`update` input, its validation, ids and actors. */
import { ValidationError } from './errors.js';
import { INVALID, isRecord, unknownKeys } from './field-kit.js';
import { preview } from './json-limits.js';
import type { HandlerRegistry, PayloadOf, SchemaMap } from './registry.js';
import { CREATE_KEYS, triggerFieldEntries, UPDATE_KEYS, type TriggerFieldContext, type TriggerSettings, type ValidTriggerFields } from './trigger-fields.js';

export { NAME_PATTERN, OWNER_PATTERN, type TriggerSettings, type ValidTriggerFields } from './trigger-fields.js';
export type { TimingInput } from './timing-fields.js';

/**
 * Input of `triggers.create`: the payload's type follows from the task type's schema.
 * @example
 * { name: 'weekday-report', owner: 'user-42', taskType: 'send-report',
 *   payload: { to: 'a@example.com' }, schedule: { cron: '0 9 * * 1-5', timezone: 'Europe/Paris' } }
 */
export type CreateTriggerInput<S extends SchemaMap> = {
  [K in keyof S & string]: TriggerSettings & { owner: string; taskType: K; payload: PayloadOf<S, K> };
}[keyof S & string];

/** Any payload of any registered task type. */
export type AnyPayload<S extends SchemaMap> = { [K in keyof S & string]: PayloadOf<S, K> }[keyof S & string];

/** Fields `triggers.update` may change. Changing `taskType` requires a `payload` valid for it. */
export type UpdateTriggerInput<S extends SchemaMap> = Partial<Omit<TriggerSettings, 'paused'>> &
  (
    | { [K in keyof S & string]: { taskType: K; payload: PayloadOf<S, K> } }[keyof S & string]
    | { taskType?: undefined; payload?: AnyPayload<S> }
  );

/**
 * Validates a create (all fields) or an update (`partial`: only the given fields; the payload
 * is checked against `taskType` or, when absent, `currentTaskType`), field by field in the order
 * of TRIGGER_FIELDS. Collects every issue and throws one ValidationError; returns only the
 * fields that were given.
 */
export async function validateTriggerFields(
  input: unknown,
  registry: HandlerRegistry,
  calendarNames: ReadonlySet<string>,
  now: Date,
  mode: { partial: false } | { partial: true; currentTaskType: string },
): Promise<Partial<ValidTriggerFields> & { owner?: string }> {
  const subject = mode.partial ? 'Invalid trigger update' : 'Invalid trigger';
  if (!isRecord(input)) throw ValidationError.from([{ path: '', message: 'must be an object' }], subject);
  const issues = unknownKeys(input, mode.partial ? UPDATE_KEYS : CREATE_KEYS, '', 'is not a known field');
  const ctx: TriggerFieldContext = { registry, calendarNames, now, partial: mode.partial, given: input, taskType: mode.partial ? mode.currentTaskType : undefined };
  const out: Record<string, unknown> = {};
  for (const [key, f] of triggerFieldEntries()) {
    if (mode.partial && f.createOnly) continue; // refused above as an unknown field
    const value = input[key];
    if (value === undefined && (mode.partial || !f.checkAbsent)) {
      if (!mode.partial && f.required) issues.push({ path: key, message: 'is required' });
      continue;
    }
    const checked = await f.check(value, key, issues, ctx);
    if (checked !== INVALID) out[key] = checked;
  }
  if (issues.length > 0) throw ValidationError.from(issues, subject);
  return out as Partial<ValidTriggerFields> & { owner?: string };
}

/** Ids are 1-200 characters of letters, digits and `_ - . : @`. */
export const ID_PATTERN = /^[A-Za-z0-9_.:@-]{1,200}$/;

export function checkId(id: unknown, what: 'trigger' | 'run'): string {
  if (typeof id === 'string' && ID_PATTERN.test(id)) return id;
  throw ValidationError.from([{ path: 'id', message: `must be a ${what} id (1-200 letters, digits, "_-.:@"), got ${preview(id)}` }], `Invalid ${what} id`);
}
