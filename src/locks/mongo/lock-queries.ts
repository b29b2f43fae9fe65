/**
 * The lock store's filters and updates, built by pure functions so they can be read and tested
 * without a server.
 */
import type { Filter, UpdateFilter } from 'mongodb';
import type { AcquireRequest, Lock } from '../types.js';

/**
 * A lock as stored: `_id` is the resource. `token` is present while held; `expiresAt` is the
 * end of the lease (kept on release, so the TTL index removes a lock an hour after its last
 * lease ended); `fence` only ever grows.
 */
export interface LockDoc {
  _id: string;
  owner: string;
  token?: string;
  expiresAt: Date;
  fence: number;
}

/**
 * The fence of the next acquire: one more than the stored one, and at least the acquire time in
 * ms, so that if the TTL index removed the document (an hour after its last lease ended) the
 * next fence still exceeds every earlier one, as long as the instances' clocks agree to within
 * that hour.
 */
export function nextFence(current: Pick<LockDoc, 'fence'> | null, now: Date): number {
  return Math.max((current?.fence ?? 0) + 1, now.getTime());
}

/**
 * An acquire as a compare-and-set with plain update operators (no aggregation-pipeline update,
 * which some MongoDB-compatible servers refuse): given the lock as just read (or null), the
 * filter matches only that same document, still free at `now` and still at the fence read
 * (every acquire moves the fence, so a competing acquire in between makes it miss). It is an
 * upsert: when it matches nothing, the server tries to insert `_id: resource`, which collides
 * with the existing document (duplicate key, 11000) unless the lock does not exist, so `_id`
 * uniqueness decides between racing acquirers. Values under `$set` are stored as they are,
 * even strings starting with `$`.
 */
export function acquireWrite(request: AcquireRequest, current: Pick<LockDoc, 'fence'> | null): { filter: Filter<LockDoc>; update: UpdateFilter<LockDoc>; lock: Lock } {
  const fence = nextFence(current, request.now);
  const expiresAt = new Date(request.now.getTime() + request.ttlMs);
  const filter: Filter<LockDoc> = current
    ? { _id: request.resource, fence: current.fence, $or: [{ expiresAt: { $lte: request.now } }, { token: { $exists: false } }] }
    : { _id: request.resource, fence: { $exists: false } };
  const update: UpdateFilter<LockDoc> = { $set: { owner: request.owner, token: request.token, expiresAt, fence } };
  return { filter, update, lock: { resource: request.resource, owner: request.owner, token: request.token, fence, expiresAt } };
}

/** The lock, only while `token` holds it and it has not expired at `now`. */
export function renewFilter(lock: Pick<Lock, 'resource' | 'token'>, now: Date): Filter<LockDoc> {
  return { _id: lock.resource, token: lock.token, expiresAt: { $gt: now } };
}

export function renewUpdate(ttlMs: number, now: Date): UpdateFilter<LockDoc> {
  return { $set: { expiresAt: new Date(now.getTime() + ttlMs) } };
}

/** The lock, only while `token` holds it (expired or not, as the memory lock store). */
export function releaseFilter(lock: Pick<Lock, 'resource' | 'token'>): Filter<LockDoc> {
  return { _id: lock.resource, token: lock.token };
}

/** Release drops the token and keeps the document, so its fence carries on. */
export const RELEASE_UPDATE: UpdateFilter<LockDoc> = { $unset: { token: '' } };

/** Whether a stored lock is free at `now` (what {@link acquireWrite} matches). */
export function isFree(doc: Pick<LockDoc, 'token' | 'expiresAt'>, now: Date): boolean {
  return doc.token === undefined || doc.token === null || doc.expiresAt.getTime() <= now.getTime();
}

export function toLock(doc: LockDoc): Lock {
  return { resource: doc._id, owner: doc.owner, token: doc.token ?? '', fence: doc.fence, expiresAt: doc.expiresAt };
}
