import { FINAL_RUN_STATUSES } from '../../types.js';
import type { AuditEntry, RunRecord, RunStatus, TriggerRecord } from '../../types.js';

/** A trigger as stored: the record with `id` kept in `_id`. */
export type TriggerDoc = Omit<TriggerRecord, 'id'> & { _id: string };

/**
 * A run as stored: the record with `id` kept in `_id`, plus `purgeAt`, a copy of `expiresAt`
 * that is set only once the run is final. The retention TTL index is on `purgeAt`, so the TTL
 * monitor can never remove a pending or running run, whatever its `expiresAt` says.
 */
export type RunDoc = Omit<RunRecord, 'id'> & { _id: string; purgeAt?: Date };

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
 * The `_id` of an owner's name reservation. Names never contain NUL (they are letters, digits,
 * `-` and `_`), so the key is unambiguous whatever the owner id holds.
 */
export function nameKey(owner: string, name: string): string {
  return `${owner}\u0000${name}`;
}

/** Whether a run in this status never changes again. */
export function isFinalStatus(status: RunStatus): boolean {
  return FINAL.has(status);
}

/**
 * A deep copy of plain data without `undefined` object properties: the driver would store them
 * as `null` (unless `ignoreUndefined` is set), which would not read back as the record written.
 * Dates, arrays and non-plain objects (BSON values) are kept as they are; arrays keep their length.
 */
export function stripUndefined<T>(value: T): T {
  return strip(value) as T;
}

function strip(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) return value.map(strip);
  if (value instanceof Date) return new Date(value.getTime());
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return value;
  const result: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
    if (item === undefined) continue;
    const stripped = strip(item);
    // An own `__proto__` key (e.g. from JSON.parse) must stay data, not become the prototype.
    if (key === '__proto__') Object.defineProperty(result, key, { value: stripped, enumerable: true, writable: true, configurable: true });
    else result[key] = stripped;
  }
  return result;
}

/** Moves `id` to `_id`, and drops `undefined` fields. */
export function toTriggerDoc(trigger: TriggerRecord): TriggerDoc {
  const { id, ...rest } = stripUndefined(trigger);
  return { _id: id, ...rest };
}

export function fromTriggerDoc(doc: TriggerDoc): TriggerRecord {
  const { _id, ...rest } = doc;
  return { id: _id, ...rest };
}

/** Moves `id` to `_id`, drops `undefined` fields, and sets `purgeAt` on a final run that expires. */
export function toRunDoc(run: RunRecord): RunDoc {
  const { id, ...rest } = stripUndefined(run);
  const doc: RunDoc = { _id: id, ...rest };
  if (isFinalStatus(run.status) && run.expiresAt !== null) doc.purgeAt = new Date(run.expiresAt.getTime());
  return doc;
}

export function fromRunDoc(doc: RunDoc): RunRecord {
  const { _id, purgeAt: _purgeAt, ...rest } = doc;
  return { id: _id, ...rest };
}

export function toAuditDoc(entry: AuditEntry): AuditDoc {
  const { id, ...rest } = stripUndefined(entry);
  return { _id: id, ...rest };
}

export function fromAuditDoc(doc: AuditDoc): AuditEntry {
  const { _id, ...rest } = doc;
  return { id: _id, ...rest };
}

/** A document without its `_id`, as `replaceOne` takes it. */
export function withoutId<T extends { _id: string }>(doc: T): Omit<T, '_id'> {
  const { _id, ...rest } = doc;
  return rest;
}
