/**
 * A small schema kit: a field is a runtime check that names the field's path and the bad value
 * in its message, a JSON Schema, and (as phantom types) the TypeScript types it accepts and
 * returns. Tables of fields (trigger-fields.ts, manual-runs.ts, retry.ts) are then the one place
 * a field is declared; options.ts and paging.ts use the same checks, so every "must be an integer
 * from ..." or "must be one of ..." reads the same wherever it comes from.
 *
 * Why not zod (or zod/mini): see the top comment of trigger-fields.ts.
 */
import type { ValidationIssue } from './errors.js';
import { preview } from './json-limits.js';

/** The JSON Schema (2020-12, as OpenAPI 3.1 uses it) of a field. */
export type JsonSchema = { readonly [key: string]: unknown };

/** What a check returns for a value it refused (its issues are already pushed). */
export const INVALID: unique symbol = Symbol('invalid');
export type Checked<T> = T | typeof INVALID;

/**
 * One field. `In` is the type callers write, `Out` the type stored after the check; `C` is the
 * context a check needs beyond the value (the handler registry, the calendars, the time).
 */
export interface Field<In, Out = In, C = unknown> {
  /** Returns the value to keep, or INVALID after pushing one issue (or more) for `path`. */
  readonly check: (value: unknown, path: string, issues: ValidationIssue[], ctx: C) => Checked<Out> | Promise<Checked<Out>>;
  readonly schema: JsonSchema;
  /** Phantom members: they exist only for the types. */
  readonly __in?: In;
  readonly __out?: Out;
}

export type InputOf<F> = F extends Field<infer In, unknown, never> ? In : never;
export type OutputOf<F> = F extends Field<unknown, infer Out, never> ? Out : never;

/** A field from a check and a JSON Schema. */
export function field<In, Out = In, C = unknown>(check: Field<In, Out, C>['check'], schema: JsonSchema): Field<In, Out, C> {
  return { check, schema };
}

/** The message of a value that is not one of `allowed`. */
export function oneOfMessage(allowed: readonly string[], value: unknown): string {
  return `must be one of ${allowed.map((a) => `"${a}"`).join(', ')}, got ${preview(value)}`;
}

/** The message of a number outside its range: `must be an integer from 1 to 10, got 11`. */
export function rangeMessage(min: number, max: number, value: unknown, rule = `an integer from ${min} to ${max}`): string {
  return `must be ${rule}, got ${preview(value)}`;
}

/** True for a number (an integer unless `fraction`) within [min, max]. */
export function inRange(value: unknown, min: number, max: number, fraction = false): value is number {
  return typeof value === 'number' && Number.isFinite(value) && (fraction || Number.isInteger(value)) && value >= min && value <= max;
}

/**
 * An integer (or, with `fraction`, any finite number) from `min` to `max`. `rule` replaces the
 * "an integer from min to max" of the message; `note` is appended to it, e.g. ` (24 h)`.
 */
export function int(min: number, max: number, options: { note?: string; rule?: string; fraction?: boolean } = {}): Field<number> {
  const rule = options.rule ?? `${options.fraction ? 'a number' : 'an integer'} from ${min} to ${max}${options.note ?? ''}`;
  return field(
    (value, path, issues) => {
      if (inRange(value, min, max, options.fraction)) return value;
      issues.push({ path, message: rangeMessage(min, max, value, rule) });
      return INVALID;
    },
    { type: options.fraction ? 'number' : 'integer', minimum: min, maximum: max },
  );
}

/** One of fixed strings. */
export function oneOf<T extends string>(allowed: readonly T[]): Field<T> {
  return field(
    (value, path, issues) => {
      if (typeof value === 'string' && (allowed as readonly string[]).includes(value)) return value as T;
      issues.push({ path, message: oneOfMessage(allowed, value) });
      return INVALID;
    },
    { type: 'string', enum: [...allowed] },
  );
}

/** true or false. */
export function bool(): Field<boolean> {
  return field(
    (value, path, issues) => {
      if (typeof value === 'boolean') return value;
      issues.push({ path, message: `must be true or false, got ${preview(value)}` });
      return INVALID;
    },
    { type: 'boolean' },
  );
}

/** A string matching `pattern`; `rule` says what it must be (the message adds the value given unless `showValue` is false). */
export function text(pattern: RegExp, rule: string, options: { showValue?: boolean; schema?: JsonSchema } = {}): Field<string> {
  return field(
    (value, path, issues) => {
      if (typeof value === 'string' && pattern.test(value)) return value;
      issues.push({ path, message: options.showValue === false ? rule : `${rule}, got ${preview(value)}` });
      return INVALID;
    },
    options.schema ?? { type: 'string', pattern: pattern.source },
  );
}

/**
 * A field written in JSON Schema as a reference to a named component
 * (`#/components/schemas/<name>`), whose own schema the document generator emits once.
 */
export function named<F extends Field<unknown, unknown, never>>(name: string, f: F): F & { readonly component: { name: string; schema: JsonSchema } } {
  return { ...f, schema: { $ref: `#/components/schemas/${name}` }, component: { name, schema: f.schema } };
}

/** Fields by name. */
export type Table<C = unknown> = { readonly [key: string]: Field<unknown, unknown, C> };
/** The input type of a table: every field optional (a field's doc comment carries over). */
export type InputsOf<T> = { -readonly [K in keyof T]?: InputOf<T[K]> };
/** The checked type of a table: every field optional. */
export type OutputsOf<T> = { -readonly [K in keyof T]?: OutputOf<T[K]> };

/**
 * A nested object of fields, such as `retry` or `timing`: unknown keys are refused with
 * `unknownKey(known)`, each given field is checked under `<path>.`, and `refine` may add issues
 * that involve several fields. Any issue refuses the whole object.
 */
export function objectOf<T extends Table<C>, C = unknown>(
  table: T,
  messages: { notObject: string; unknownKey: (known: readonly string[]) => string; description?: string },
  refine?: (out: OutputsOf<T>, path: string, issues: ValidationIssue[]) => void,
): Field<InputsOf<T>, OutputsOf<T>, C> {
  const known = Object.keys(table);
  const properties = Object.fromEntries(Object.entries(table).map(([key, f]) => [key, f.schema]));
  return field(
    (value, path, issues, ctx) => {
      if (!isRecord(value)) {
        issues.push({ path, message: messages.notObject });
        return INVALID;
      }
      const before = issues.length;
      issues.push(...unknownKeys(value, known, `${path}.`, messages.unknownKey(known)));
      const out = checkSync(table, value, `${path}.`, issues, ctx);
      refine?.(out, path, issues);
      return issues.length > before ? INVALID : out;
    },
    { type: 'object', additionalProperties: false, ...(messages.description ? { description: messages.description } : {}), properties },
  );
}

/** Checks the given (not undefined) fields of `value` in table order; returns those that passed. */
export function checkSync<T extends Table<C>, C>(table: T, value: Record<string, unknown>, prefix: string, issues: ValidationIssue[], ctx: C): OutputsOf<T> {
  const out: Record<string, unknown> = {};
  for (const [key, f] of Object.entries(table)) {
    if (value[key] === undefined) continue;
    const checked = f.check(value[key], `${prefix}${key}`, issues, ctx);
    if (checked instanceof Promise) throw new TypeError(`field ${key} is asynchronous`);
    if (checked !== INVALID) out[key] = checked;
  }
  return out as OutputsOf<T>;
}

/** Issues for the keys of `value` that are not in `known`, each with `message`. */
export function unknownKeys(value: object, known: readonly string[], prefix: string, message: string): ValidationIssue[] {
  return Object.keys(value)
    .filter((key) => !known.includes(key))
    .map((key) => ({ path: `${prefix}${key}`, message }));
}

/** True for a plain object (not null, not an array). */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
