import type { AttemptRecord, RunRecord } from '../../types.js';

/**
 * A deep copy, so callers never share objects with what the memory store holds. Records are
 * plain data (objects, arrays, Dates, primitives), copied here directly, which is several
 * times faster than `structuredClone`; anything else (Map, Set, typed arrays...) goes
 * through `structuredClone`.
 */
export function copy<T>(value: T): T {
  return copyValue(value) as T;
}

function copyValue(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) return value.map(copyValue);
  if (value instanceof Date) return new Date(value.getTime());
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return structuredClone(value);
  const source = value as Record<string, unknown>;
  if (proto !== null) {
    // Spread, then replace the nested objects: a copy built key by key turns into a hash table
    // in V8 past a dozen fields (as a run record does), and every later read and spread of it
    // is then several times slower. Spread defines an own `__proto__` key as data.
    const result: Record<string, unknown> = { ...source };
    // Like the key-by-key copy, a copy carries no symbol keys (rare: only then is it slow).
    for (const symbol of Object.getOwnPropertySymbols(result)) delete result[symbol as unknown as string];
    for (const key of Object.keys(result)) {
      const item = result[key];
      if (typeof item !== 'object' || item === null) continue;
      if (key === '__proto__') Object.defineProperty(result, key, { value: copyValue(item), enumerable: true, writable: true, configurable: true });
      else result[key] = copyValue(item);
    }
    return result;
  }
  const result: Record<string, unknown> = Object.create(null);
  for (const key of Object.keys(source)) {
    const item = copyValue(source[key]);
    // An own `__proto__` key (e.g. from JSON.parse) must stay data, not become the prototype.
    if (key === '__proto__') Object.defineProperty(result, key, { value: item, enumerable: true, writable: true, configurable: true });
    else result[key] = item;
  }
  return result;
}

function copyDate(date: Date): Date;
function copyDate(date: Date | null): Date | null;
function copyDate(date: Date | null): Date | null {
  return date === null ? null : new Date(date.getTime());
}

export function copyAttempt(attempt: AttemptRecord): AttemptRecord {
  const next = { ...attempt, startedAt: copyDate(attempt.startedAt), finishedAt: copyDate(attempt.finishedAt) };
  if (attempt.error) next.error = copy(attempt.error);
  return next;
}

/**
 * A deep copy of a run record, the same as {@link copy} gives, built field by field from the
 * record's known shape: runs are copied on every claim and read, and walking their keys
 * generically costs a large part of a claim.
 */
export function copyRun(run: RunRecord): RunRecord {
  const next: RunRecord = {
    ...run,
    scheduledFor: copyDate(run.scheduledFor),
    availableAt: copyDate(run.availableAt),
    createdAt: copyDate(run.createdAt),
    startedAt: copyDate(run.startedAt),
    finishedAt: copyDate(run.finishedAt),
    expiresAt: copyDate(run.expiresAt),
    lease: run.lease && { ...run.lease, expiresAt: copyDate(run.lease.expiresAt) },
    attempts: run.attempts.length === 0 ? [] : run.attempts.map(copyAttempt),
  };
  if (typeof run.payload === 'object' && run.payload !== null) next.payload = copy(run.payload);
  if (typeof run.result === 'object' && run.result !== null) next.result = copy(run.result);
  if (run.retry) next.retry = copy(run.retry);
  if (run.error) next.error = copy(run.error);
  if (run.progress) next.progress = { ...run.progress, at: copyDate(run.progress.at) };
  if (run.event) next.event = { ...run.event, data: copy(run.event.data), publishedAt: copyDate(run.event.publishedAt) };
  return next;
}

/** Orders strings by UTF-16 code units (stable, locale-free), like a binary database collation. */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A listing's sort position: the sort key (epoch ms or text) and the id that breaks ties. */
export type SortPosition = readonly [key: number | string, id: string];

/** Compares two positions in ascending order (key, then id); `desc` reverses both. */
export function comparePositions(a: SortPosition, b: SortPosition, desc: boolean): number {
  const byKey = typeof a[0] === 'number' ? (a[0] as number) - (b[0] as number) : compareStrings(a[0] as string, b[0] as string);
  const order = byKey || compareStrings(a[1], b[1]);
  return desc ? -order : order;
}

/**
 * One keyset page: the first `limit` of `items` in position order that come strictly after
 * `after`, copied.
 */
export function keysetPage<T>(
  items: readonly T[],
  positionOf: (item: T) => SortPosition,
  desc: boolean,
  after: SortPosition | undefined,
  limit: number,
  copyItem: (item: T) => T = copy,
): T[] {
  const keyed = items.map((item) => ({ item, position: positionOf(item) }));
  const rest = after ? keyed.filter((k) => comparePositions(k.position, after, desc) > 0) : keyed;
  rest.sort((a, b) => comparePositions(a.position, b.position, desc));
  return rest.slice(0, Math.max(0, limit)).map((k) => copyItem(k.item));
}
