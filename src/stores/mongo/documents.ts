import { FINAL_RUN_STATUSES } from '../../types.js';
import type { AuditEntry, RunRecord, RunStatus, TriggerRecord } from '../../types.js';

/** A trigger as stored: the record with `id` kept in `_id`. */
export type TriggerDoc = Omit<TriggerRecord, 'id'> & { _id: string };

/**
 * A run as stored: the record with `id` kept in `_id`, plus `purgeAt`, a copy of `expiresAt`
 * that is set only once the run is final. The retention TTL index is on `purgeAt`, so the TTL
 * monitor can never remove a pending or running run, whatever its `expiresAt` says.
 * `finishId` marks the last finish applied, so a finish sent again is recognised (see run-finishes.ts).
 */
export type RunDoc = Omit<RunRecord, 'id'> & { _id: string; purgeAt?: Date; finishId?: string };

/** An audit entry as stored. */
export type AuditDoc = Omit<AuditEntry, 'id'> & { _id: string };

/**
 * Reserves a trigger name for one owner: `_id` is {@link nameKey}, `triggerId` the holder.
 * `at` is the time of the write that claimed it (the trigger's `updatedAt`), used to tell a
 * claim still in flight from an orphan left by a crash.
 */
export interface NameDoc {
  _id: string;
  triggerId: string;
  at: Date;
}

const FINAL = new Set<RunStatus>(FINAL_RUN_STATUSES);

/**
 * The `_id` of an owner's name reservation: the owner percent-encoded (`encodeURIComponent`,
 * which turns `/` into `%2F`), `/`, the name. The first `/` ends the owner, so no two (owner,
 * name) pairs share a key, and the key holds no NUL (which stores backed by PostgreSQL jsonb,
 * such as FerretDB, refuse in strings).
 */
export function nameKey(owner: string, name: string): string {
  return `${encodeURIComponent(owner)}/${name}`;
}

/** The key earlier versions used, `owner + NUL + name`: read, and moved to {@link nameKey}. */
export function legacyNameKey(owner: string, name: string): string {
  return `${owner}\u0000${name}`;
}

/** Whether a run in this status never changes again. */
export function isFinalStatus(status: RunStatus): boolean {
  return FINAL.has(status);
}

/**
 * Plain data as stored: a deep copy without `undefined` object properties (the driver would
 * store them as `null`), and with every object key that MongoDB cannot take as it is escaped:
 * `.` (a path separator in updates), `$` (operators), NUL (ends a BSON key) and the escape
 * character `%` itself become `%2E`, `%24`, `%00`, `%25`. User data such as payloads, results
 * and event filters (`{ 'user.plan': ... }`) may hold such keys; the store's own field names
 * never do, so they are unchanged and queries on them work as written. Dates are copied;
 * arrays keep their length; non-plain objects (BSON values) are kept as they are.
 */
export function toStorable<T>(value: T): T {
  return transform(value, escapeKey, true) as T;
}

/** The inverse of {@link toStorable}: keys unescaped, into fresh objects. */
export function fromStorable<T>(value: T): T {
  return transform(value, unescapeKey, false) as T;
}

const ESCAPES: Record<string, string> = { '%': '%25', '.': '%2E', $: '%24' };
const UNESCAPES: Record<string, string> = { '%25': '%', '%2E': '.', '%24': '$', '%00': '\u0000' };
const NUL = '\u0000';

export function escapeKey(key: string): string {
  if (!/[%.$]/.test(key) && !key.includes(NUL)) return key;
  return key.replace(/[%.$]/g, (c) => ESCAPES[c] as string).split(NUL).join('%00');
}

export function unescapeKey(key: string): string {
  return key.includes('%') ? key.replace(/%(?:25|2E|24|00)/g, (code) => UNESCAPES[code] as string) : key;
}

function transform(value: unknown, mapKey: (key: string) => string, copyDates: boolean): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) return value.map((item: unknown) => transform(item, mapKey, copyDates));
  if (value instanceof Date) return copyDates ? new Date(value.getTime()) : value;
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return value;
  const result: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
    if (item === undefined) continue;
    const mapped = mapKey(key);
    const copied = transform(item, mapKey, copyDates);
    // An own `__proto__` key (e.g. from JSON.parse) must stay data, not become the prototype.
    if (mapped === '__proto__') Object.defineProperty(result, mapped, { value: copied, enumerable: true, writable: true, configurable: true });
    else result[mapped] = copied;
  }
  return result;
}

/** Moves `id` to `_id`, and makes the rest storable ({@link toStorable}). */
export function toTriggerDoc(trigger: TriggerRecord): TriggerDoc {
  const { id, ...rest } = toStorable(trigger);
  return { _id: id, ...rest };
}

export function fromTriggerDoc(doc: TriggerDoc): TriggerRecord {
  const { _id, ...rest } = fromStorable(doc);
  return { id: _id, ...rest };
}

/** Moves `id` to `_id`, makes the rest storable, and sets `purgeAt` on a final run that expires. */
export function toRunDoc(run: RunRecord): RunDoc {
  const { id, ...rest } = toStorable(run);
  const doc: RunDoc = { _id: id, ...rest };
  if (isFinalStatus(run.status) && run.expiresAt !== null) doc.purgeAt = new Date(run.expiresAt.getTime());
  return doc;
}

export function fromRunDoc(doc: RunDoc): RunRecord {
  const { _id, purgeAt: _purgeAt, finishId: _finishId, ...rest } = fromStorable(doc);
  return { id: _id, ...rest };
}

export function toAuditDoc(entry: AuditEntry): AuditDoc {
  const { id, ...rest } = toStorable(entry);
  return { _id: id, ...rest };
}

export function fromAuditDoc(doc: AuditDoc): AuditEntry {
  const { _id, ...rest } = fromStorable(doc);
  return { id: _id, ...rest };
}

/** A document without its `_id`, as `replaceOne` takes it. */
export function withoutId<T extends { _id: string }>(doc: T): Omit<T, '_id'> {
  const { _id, ...rest } = doc;
  return rest;
}
