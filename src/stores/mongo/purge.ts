import type { Collection, Document } from 'mongodb';
import type { RunDoc } from './documents.js';
import { LOCK_CLEANUP_INDEX } from './indexes.js';
import * as q from './queries.js';

/** `Store.purgeExpiredRuns`: deletes up to `limit` final runs past `expiresAt` (what the TTL index also does). */
export async function purgeExpiredRuns(runs: Collection<RunDoc>, now: Date, limit: number): Promise<number> {
  if (limit <= 0) return 0;
  const ids = (await runs.find(q.purgeableFilter(now), { limit, projection: { _id: 1 } }).toArray()).map((doc) => doc._id);
  if (ids.length === 0) return 0;
  return (await runs.deleteMany({ _id: { $in: ids }, ...q.purgeableFilter(now) })).deletedCount;
}

/** Without the lock TTL index: removes locks whose last lease ended over an hour ago, as the index would. */
export async function purgeUnusedLocks(locks: Collection<Document>, now: Date): Promise<void> {
  const cutoff = new Date(now.getTime() - (LOCK_CLEANUP_INDEX.expireAfterSeconds ?? 0) * 1_000);
  await locks.deleteMany({ expiresAt: { $lte: cutoff } });
}
