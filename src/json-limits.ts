/**
 * The limits every stored JSON value (payload, metadata, event data, results) obeys, checked
 * before any store sees it, so every store gives the same answer:
 * - at most {@link MAX_JSON_DEPTH} nested objects and arrays;
 * - at most {@link MAX_JSON_VALUES} values in all (the walk counts shared references each time);
 * - strings and keys without NUL (`\u0000`) or lone surrogates: PostgreSQL `jsonb` cannot hold
 *   them, so they are refused everywhere rather than stored by some stores only;
 * - only JSON data: plain objects, arrays, strings, finite numbers, booleans and null
 *   (`undefined` object properties are left out, as JSON does). Dates are refused in input
 *   (send ISO-8601 strings: stores would keep them differently) and allowed where the value
 *   goes through JSON first (event data) or comes from a handler (results).
 * Checks walk iteratively (no recursion), so no input can exhaust the stack.
 */
import type { ValidationIssue } from './errors.js';

/** Deepest nesting of objects and arrays in a stored JSON value. */
export const MAX_JSON_DEPTH = 64;
/** Most values (containers, keys' values and items) in one stored JSON value. */
export const MAX_JSON_VALUES = 1_000_000;

/** NUL, or a surrogate code unit that is not half of a pair. */
// eslint-disable-next-line no-control-regex -- NUL is exactly what this looks for
const UNSTORABLE_TEXT = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** True when a string contains NUL or a lone surrogate, which no store can hold alike. */
export function hasUnstorableText(text: string): boolean {
  return UNSTORABLE_TEXT.test(text);
}

export const TEXT_RULE = 'must not contain NUL (\\u0000) or unpaired surrogate characters';

/** The issue with a free-text field (a pause reason, an actor, a filter), if it holds unstorable characters. */
export function textIssue(value: unknown, path: string): ValidationIssue | null {
  return typeof value === 'string' && hasUnstorableText(value) ? { path, message: TEXT_RULE } : null;
}

/** Handler-made text (error messages, progress notes): NUL and lone surrogates become U+FFFD. */
export function storableText(text: string): string {
  return hasUnstorableText(text) ? text.replace(new RegExp(UNSTORABLE_TEXT.source, 'g'), '\ufffd') : text;
}

interface Pending {
  value: unknown;
  path: string;
  depth: number;
}

/**
 * The first problem with `value` as stored JSON, with the path of the offending part under
 * `path` (e.g. `payload.items.3`), or null when every store can hold it exactly.
 * @example jsonIssue({ note: 'a\u0000b' }, 'metadata') // { path: 'metadata.note', message: 'must not contain NUL ...' }
 */
export function jsonIssue(value: unknown, path: string, options: { dates?: boolean } = {}): ValidationIssue | null {
  const stack: Pending[] = [{ value, path, depth: 0 }];
  let seen = 0;
  while (stack.length > 0) {
    const item = stack.pop() as Pending;
    if (++seen > MAX_JSON_VALUES) return { path, message: `must hold at most ${MAX_JSON_VALUES} values` };
    const problem = leafProblem(item.value, options.dates === true);
    if (problem !== undefined) {
      if (problem !== null) return { path: item.path, message: problem };
      continue;
    }
    if (item.depth >= MAX_JSON_DEPTH) return { path, message: `must not nest objects and arrays more than ${MAX_JSON_DEPTH} levels deep` };
    const depth = item.depth + 1;
    if (Array.isArray(item.value)) {
      for (let i = item.value.length - 1; i >= 0; i--) {
        const child: unknown = item.value[i];
        if (child === undefined) return { path: `${item.path}.${i}`, message: 'must not be undefined (use null)' };
        stack.push({ value: child, path: `${item.path}.${i}`, depth });
      }
      continue;
    }
    const record = item.value as Record<string, unknown>;
    const keys = Object.keys(record);
    for (let i = keys.length - 1; i >= 0; i--) {
      const key = keys[i] as string;
      const childPath = `${item.path}.${pathSegment(key)}`;
      if (hasUnstorableText(key)) return { path: childPath, message: `has a key that ${TEXT_RULE}` };
      const child = record[key];
      if (child !== undefined) stack.push({ value: child, path: childPath, depth });
    }
  }
  return null;
}

/**
 * For a value that is not a container: null when it is fine, else what is wrong with it.
 * Undefined for a plain object or an array, which the caller walks.
 */
function leafProblem(value: unknown, dates: boolean): string | null | undefined {
  switch (typeof value) {
    case 'string':
      return hasUnstorableText(value) ? TEXT_RULE : null;
    case 'number':
      return Number.isFinite(value) ? null : `must be a finite number, got ${preview(value)}`;
    case 'boolean':
      return null;
    case 'object': {
      if (value === null) return null;
      if (Array.isArray(value)) return undefined;
      if (value instanceof Date) {
        if (!dates) return 'must be JSON data: give dates as ISO-8601 strings';
        return Number.isNaN(value.getTime()) ? 'must be a valid Date' : null;
      }
      const proto: unknown = Object.getPrototypeOf(value);
      return proto === Object.prototype || proto === null ? undefined : `must be JSON data (plain objects and arrays), got ${preview(value)}`;
    }
    default:
      return `must be JSON data, got ${preview(value)}`;
  }
}

/** A key as a path segment: bounded, with unstorable characters shown as escapes. */
function pathSegment(key: string): string {
  const clipped = key.length > 40 ? `${key.slice(0, 40)}…` : key;
  return clipped.replace(new RegExp(UNSTORABLE_TEXT.source, 'g'), (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

const PREVIEW_CHARS = 60;

/**
 * A short description of any value for an error message: strings quoted and clipped, numbers
 * and booleans as they are, containers by kind and size. Never recursive, never throws, never
 * long, whatever the value (deep, cyclic, huge, hostile getters or proxies aside from `typeof`).
 * @example preview('x'.repeat(500)) // '"xxxxxxxx…" (500 characters)'
 */
export function preview(value: unknown): string {
  switch (typeof value) {
    case 'string': {
      const clipped = value.length > PREVIEW_CHARS ? value.slice(0, PREVIEW_CHARS) : value;
      const quoted = JSON.stringify(storableText(clipped));
      return value.length > PREVIEW_CHARS ? `${quoted.slice(0, -1)}…" (${value.length} characters)` : quoted;
    }
    case 'number':
    case 'boolean':
      return String(value);
    case 'bigint':
      return 'a BigInt';
    case 'undefined':
      return 'undefined';
    case 'symbol':
      return 'a symbol';
    case 'function':
      return 'a function';
    default:
      if (value === null) return 'null';
      if (Array.isArray(value)) return `an array of ${value.length} items`;
      if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'an invalid Date' : value.toISOString();
      return 'an object';
  }
}
