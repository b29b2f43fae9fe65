/**
 * A trigger's fields, declared once. From this table come the input types (`TriggerSettings`),
 * the checked fields (`ValidTriggerFields`), the stored fields of `TriggerRecord`, the keys a
 * create or an update accepts, the runtime checks (in table order, each issue naming its field
 * path), the defaults of a new trigger, and the JSON Schema of the Express example's OpenAPI
 * document (scripts/openapi.ts). Add a field here and the compiler lists what else must change.
 *
 * Why a small in-house kit (field-kit.ts) rather than zod or zod/mini, measured when the table
 * was introduced (esbuild --minify, gzip -9): the table in zod/mini weighed 26.0 KB (8.3 KB
 * gzipped) and 29.1 KB (9.4 KB) with the English messages, about +10% on the 98 KB gzipped
 * root entry; classic zod 100 KB (29 KB). zod would also be a runtime dependency of 6.3 MB
 * unpacked, next to the user's own zod (or valibot) for payload schemas. Its messages are
 * "Invalid input" (zod/mini without a locale) or "Too big: expected number to be <=1000",
 * where punctual's name the bad value and the rule ("must be an integer from -1000 to 1000,
 * got 5000"); keeping them meant a custom message on every check, and half the fields need
 * punctual's own context anyway (registry, calendars, the clock). The in-house table and kit
 * cost +0.7 KB minified (+0.55 KB gzipped) on the root entry, with the same messages.
 */
import { ValidationError } from './errors.js';
import { bool, field, INVALID, int, named, oneOf, text, type Field, type InputOf, type OutputOf } from './field-kit.js';
import { jsonIssue, preview } from './json-limits.js';
import { MAX_TIMEOUT_MS, type HandlerRegistry } from './registry.js';
import { retryField } from './retry.js';
import { parseSchedule } from './schedules/index.js';
import { timingField, type TimingContext } from './timing-fields.js';
import { MISFIRE_POLICIES, OVERLAP_POLICIES, type MisfirePolicy, type OverlapPolicy, type Schedule, type ScheduleInput } from './types.js';

export const NAME_PATTERN = /^[A-Za-z0-9_-]{1,100}$/;
/** 1-200 printable characters, no whitespace. */
export const OWNER_PATTERN = /^[\p{L}\p{N}\p{P}\p{S}]{1,200}$/u;
const MAX_METADATA_BYTES = 16_384;

/** What the checks of a trigger's fields need. `taskType` is the task type the payload is checked against. */
export interface TriggerFieldContext extends TimingContext {
  registry: HandlerRegistry;
  now: Date;
  /** An update: only the given fields are checked. */
  partial: boolean;
  given: Record<string, unknown>;
  /** Set by the `taskType` check (or, in an update, the stored one) for the `payload` check. */
  taskType: string | undefined;
}

/** Where a stored trigger's default comes from when the input leaves the field out. */
export interface TriggerDefaults {
  handlerPriority: number | undefined;
  misfire: MisfirePolicy;
  misfireGraceMs: number;
  overlap: OverlapPolicy;
}

/** How the engine treats a field beyond its check. */
interface FieldRules {
  /** A create must give it. */
  readonly required?: true;
  /** Only a create may give it (`update` refuses it as unknown). */
  readonly createOnly?: true;
  /** Checked even when absent from a create (the payload's schema decides). */
  readonly checkAbsent?: true;
  /** Not a stored field of `TriggerRecord` as such (`paused` sets the status). */
  readonly stored?: false;
  /** The stored value when the input leaves the field out. */
  readonly fallback?: (defaults: TriggerDefaults) => unknown;
}

type TriggerField = Field<unknown, unknown, TriggerFieldContext> & FieldRules;

function rule<F extends Field<unknown, unknown, never>, R extends FieldRules>(f: F, rules: R): F & R {
  return { ...f, ...rules };
}

const schedule = field<ScheduleInput, Schedule, TriggerFieldContext>(
  (value, _path, issues, ctx) => {
    try {
      return parseSchedule(value as ScheduleInput, ctx.now);
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      issues.push(...error.issues);
      return INVALID;
    }
  },
  { $ref: '#/components/schemas/ScheduleInput' },
);

const taskType = field<string, string, TriggerFieldContext>(
  (value, path, issues, ctx) => {
    if (typeof value === 'string' && ctx.registry.has(value)) {
      ctx.taskType = value;
      if (ctx.partial && ctx.given.payload === undefined) issues.push({ path: 'payload', message: 'is required when taskType changes' });
      return value;
    }
    ctx.taskType = undefined;
    issues.push({ path, message: `unknown task type ${preview(value)}; registered: ${ctx.registry.types.join(', ') || '(none)'}` });
    return INVALID;
  },
  { type: 'string' },
);

const payload = field<unknown, unknown, TriggerFieldContext>(
  async (value, _path, issues, ctx) => {
    if (ctx.taskType === undefined) return INVALID; // the taskType issue says why
    try {
      await ctx.registry.validate(ctx.taskType, value);
      return value;
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      issues.push(...error.issues);
      return INVALID;
    }
  },
  { $ref: '#/components/schemas/Payload' },
);

const metadata = field<Record<string, unknown>>(
  (value, path, issues) => {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      issues.push({ path, message: 'must be a plain object' });
      return INVALID;
    }
    // JSON.stringify is safe once the limits hold: plain data, bounded depth.
    const problem = jsonIssue(value, path) ?? (Buffer.byteLength(JSON.stringify(value)) > MAX_METADATA_BYTES ? { path, message: `must serialize to at most ${MAX_METADATA_BYTES} bytes of JSON` } : null);
    if (problem === null) return structuredClone(value as Record<string, unknown>);
    issues.push(problem);
    return INVALID;
  },
  { type: 'object', description: `Free-form JSON, at most ${MAX_METADATA_BYTES / 1024} KB.` },
);

/**
 * The fields, in the order they are checked (and their issues listed). The doc comments are
 * those of {@link TriggerSettings} and `TriggerRecord`.
 */
export const TRIGGER_FIELDS = {
  /** Whose trigger it is: 1-200 characters without spaces. A scoped view fills it in. */
  owner: rule(text(OWNER_PATTERN, 'must be a string of 1-200 characters without spaces or control characters', { showValue: false, schema: { type: 'string', minLength: 1, maxLength: 200 } }), { required: true, createOnly: true }),
  /** 1-100 letters, digits, `-` and `_`; unique per owner. */
  name: rule(named('Name', text(NAME_PATTERN, 'must be 1-100 letters, digits, "-" or "_"', { schema: { type: 'string', pattern: NAME_PATTERN.source, description: 'Unique per owner.' } })), { required: true }),
  /** When it fires: `{ cron }`, `{ every }`, `{ at }`, `{ manual: true }` or `{ event }`. Stored normalized. */
  schedule: rule(schedule, { required: true }),
  /** The registered task type its runs execute. */
  taskType: rule(taskType, { required: true }),
  /** Checked against the task type's schema at create time and before each run. */
  payload: rule(payload, { checkAbsent: true }),
  /** Higher runs first when capacity is short, -1000..1000. Default: the handler's priority or 0. */
  priority: rule(int(-1_000, 1_000), { fallback: (d) => d.handlerPriority ?? 0 }),
  /** Execution limit, ms, 1..86,400,000. Default: the handler's, else the scheduler's `defaultTimeoutMs`. */
  timeoutMs: int(1, MAX_TIMEOUT_MS, { note: ' (24 h)' }),
  /** How late a slot may start before it counts as missed, ms. Default: the scheduler's `misfireGraceMs`. */
  misfireGraceMs: rule(int(0, 86_400_000), { fallback: (d) => d.misfireGraceMs }),
  /** Retry override for this trigger's runs. */
  retry: retryField,
  /** Missed-slot policy. Default: the scheduler's `misfire` (`once`). */
  misfire: rule(named('MisfirePolicy', oneOf(MISFIRE_POLICIES)), { fallback: (d) => d.misfire }),
  /** What a due run does while the previous one still runs. Default: the scheduler's `overlap` (`queue`). */
  overlap: rule(named('OverlapPolicy', oneOf(OVERLAP_POLICIES)), { fallback: (d) => d.overlap }),
  /** Pause the trigger automatically after this many consecutive failed runs (1..1000). Off by default. */
  pauseAfterFailures: rule(int(1, 1_000), { stored: false }),
  /** Start and end dates, a run cap, jitter and exclusion calendars. */
  timing: timingField,
  /** Create paused. Default false. */
  paused: rule(bool(), { createOnly: true, stored: false }),
  /** Free-form JSON for the host, at most 16 KB. */
  metadata,
} satisfies Record<string, TriggerField>;

type Fields = typeof TRIGGER_FIELDS;
type Inputs = { [K in keyof Fields]: InputOf<Fields[K]> };
type Outputs = { [K in keyof Fields]: OutputOf<Fields[K]> };
type KeysWhere<R> = { [K in keyof Fields]: Fields[K] extends R ? K : never }[keyof Fields];
type RequiredKey = KeysWhere<{ required: true }>;
type IdentityKey = 'owner' | 'taskType' | 'payload';
type SettingKey = Exclude<keyof Fields, IdentityKey>;
type StoredKey = Exclude<keyof Fields, KeysWhere<{ stored: false }>>;
type AlwaysStoredKey = RequiredKey | 'payload' | KeysWhere<{ fallback: unknown }>;

/** Settings every trigger has, whatever its task type. */
export interface TriggerSettings extends Pick<Inputs, RequiredKey & SettingKey>, Partial<Pick<Inputs, Exclude<SettingKey, RequiredKey>>> {}

/** A trigger's fields after validation, ready to store. */
export interface ValidTriggerFields extends Pick<Outputs, Exclude<RequiredKey, 'owner'> | 'payload'>, Partial<Pick<Outputs, Exclude<keyof Fields, RequiredKey | 'payload'>>> {}

/** The fields a trigger stores as they were declared (or defaulted). */
export interface StoredTriggerFields extends Pick<Outputs, StoredKey & AlwaysStoredKey>, Partial<Pick<Outputs, Exclude<StoredKey, AlwaysStoredKey>>> {}

const entries = Object.entries(TRIGGER_FIELDS) as [keyof Fields, TriggerField][];

/** The fields a create accepts, an update accepts, and a trigger stores from its declaration. */
export const CREATE_KEYS: readonly string[] = entries.map(([key]) => key);
export const UPDATE_KEYS: readonly string[] = entries.filter(([, f]) => !f.createOnly).map(([key]) => key);
export const STORED_KEYS = entries.filter(([, f]) => f.stored !== false).map(([key]) => key) as readonly StoredKey[];

/** The table's fields with their rules, in check order. */
export function triggerFieldEntries(): readonly [keyof Fields, TriggerField][] {
  return entries;
}

/** The stored settings of a declaration: the given fields, and the defaults of those left out. */
export function storedFields(valid: ValidTriggerFields & { owner: string }, defaults: TriggerDefaults): StoredTriggerFields {
  const out: Record<string, unknown> = {};
  for (const [key, f] of entries) {
    if (f.stored === false) continue;
    const value = (valid as unknown as Record<string, unknown>)[key] ?? f.fallback?.(defaults);
    if (value !== undefined) out[key] = value;
  }
  return out as unknown as StoredTriggerFields;
}
