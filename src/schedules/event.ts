import type { ValidationIssue } from '../errors.js';
import { hasUnstorableText, preview, TEXT_RULE } from '../json-limits.js';
import type { EventFilter } from '../types.js';

const EVENT_NAME = /^[A-Za-z0-9._:-]{1,200}$/;
export const MAX_FILTER_KEYS = 20;
const MAX_PATH_LENGTH = 200;

type FilterScalar = string | number | boolean | null;

/** Issues with an event name; empty when valid. */
export function checkEventName(name: unknown, path: string): ValidationIssue[] {
  if (typeof name !== 'string') return [{ path, message: `expected an event name string, got ${typeOf(name)}` }];
  if (!EVENT_NAME.test(name)) {
    return [{ path, message: `${preview(name)} is not a valid event name; use 1-200 letters, digits, '.', '-', '_' or ':'` }];
  }
  return [];
}

/** Validates a filter and returns a copy that shares nothing with the input. */
export function checkEventFilter(filter: unknown, path: string): { filter?: EventFilter; issues: ValidationIssue[] } {
  if (typeof filter !== 'object' || filter === null || Array.isArray(filter)) {
    return { issues: [{ path, message: `expected an object of dotted path -> value, got ${typeOf(filter)}` }] };
  }
  const entries = Object.entries(filter);
  if (entries.length > MAX_FILTER_KEYS) {
    return { issues: [{ path, message: `has ${entries.length} keys; at most ${MAX_FILTER_KEYS} are allowed` }] };
  }
  const issues: ValidationIssue[] = [];
  const copy: Record<string, FilterScalar | FilterScalar[]> = {};
  for (const [key, value] of entries) {
    const keyPath = `${path}.${key}`;
    if (key.length === 0 || key.length > MAX_PATH_LENGTH || key.split('.').some((s) => s === '') || hasUnstorableText(key)) {
      issues.push({ path, message: `key ${preview(key)} must be a dotted path of 1-${MAX_PATH_LENGTH} characters without empty segments, NUL or unpaired surrogates, e.g. "user.plan"` });
    } else if (Array.isArray(value)) {
      if (value.length === 0) issues.push({ path: keyPath, message: 'an empty list matches nothing; give at least one value' });
      else if (!value.every(isScalar)) issues.push({ path: keyPath, message: 'list items must be strings, finite numbers, booleans or null' });
      else if (value.some(isUnstorable)) issues.push({ path: keyPath, message: `list items ${TEXT_RULE}` });
      else define(copy, key, [...value]);
    } else if (isUnstorable(value)) {
      issues.push({ path: keyPath, message: TEXT_RULE });
    } else if (isScalar(value)) {
      define(copy, key, value);
    } else {
      issues.push({ path: keyPath, message: `expected a string, finite number, boolean, null or a list of them, got ${typeOf(value)}` });
    }
  }
  return issues.length > 0 ? { issues } : { filter: copy, issues };
}

/**
 * True when every filter key, a dotted path into `data`, holds the given value (===) or one of
 * the values of a list. No filter matches everything; a missing path matches nothing.
 * @example eventMatches({ 'user.plan': ['pro', 'team'] }, { user: { plan: 'pro' } }) // true
 */
export function eventMatches(filter: EventFilter | undefined, data: unknown): boolean {
  if (filter === undefined) return true;
  for (const [path, expected] of Object.entries(filter)) {
    const actual = valueAt(data, path);
    if (isList(expected) ? !expected.includes(actual as FilterScalar) : actual !== expected) return false;
  }
  return true;
}

function isList(value: EventFilter[string]): value is readonly FilterScalar[] {
  return Array.isArray(value);
}

function valueAt(data: unknown, path: string): unknown {
  let current = data;
  for (const segment of path.split('.')) {
    // Own properties only, so paths like "constructor" or "__proto__" never reach prototypes.
    if (typeof current !== 'object' || current === null || !Object.hasOwn(current, segment)) return undefined;
    current = (current as Record<string, unknown>)[segment];
  }
  return current;
}

/** Sets a key as data, even `__proto__` (which plain assignment would turn into the prototype). */
function define(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

function isUnstorable(value: unknown): boolean {
  return typeof value === 'string' && hasUnstorableText(value);
}

function isScalar(value: unknown): value is FilterScalar {
  return value === null || typeof value === 'string' || typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value));
}

function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value;
}
