/**
 * The lock store's filters and updates, built by pure functions so they can be read and tested
 * without a server.
 */
import type { Document, Filter, UpdateFilter } from 'mongodb';
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
 * A lock that may be taken at `now`: expired, or released (no token). Against a held lock this
 * matches nothing, so the upsert tries to insert `_id: resource` and fails with a duplicate key.
 */
export function acquireFilter(resource: string, now: Date): Filter<LockDoc> {
  return { _id: resource, $or: [{ expiresAt: { $lte: now } }, { token: { $exists: false } }] };
}

/**
 * The pipeline update of an acquire (MongoDB 4.2+). The fence is one more than before, and at
 * least the acquire time in ms: if the TTL index removed the document (an hour after its last
 * lease ended), the next fence still exceeds every earlier one, as long as the instances' clocks
 * agree to within that hour. Strings go through `$literal`, so an owner or token starting with
 * `$` is never read as a field path.
 */
export function acquireUpdate(request: AcquireRequest): Document[] {
  return [
    {
      $set: {
        owner: { $literal: request.owner },
        token: { $literal: request.token },
        expiresAt: new Date(request.now.getTime() + request.ttlMs),
        fence: { $max: [{ $add: [{ $ifNull: ['$fence', 0] }, 1] }, request.now.getTime()] },
      },
    },
  ];
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

/** Whether a stored lock is free at `now` (what {@link acquireFilter} matches). */
export function isFree(doc: Pick<LockDoc, 'token' | 'expiresAt'>, now: Date): boolean {
  return doc.token === undefined || doc.token === null || doc.expiresAt.getTime() <= now.getTime();
}

export function toLock(doc: LockDoc): Lock {
  return { resource: doc._id, owner: doc.owner, token: doc.token ?? '', fence: doc.fence, expiresAt: doc.expiresAt };
}
