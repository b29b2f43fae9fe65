import type { Collection } from 'mongodb';
import type { ExpiredLease, ExpiredLeaseClaim } from '../types.js';
import { fromRunDoc, type RunDoc } from './documents.js';
import * as q from './queries.js';

/**
 * `Store.claimExpiredLeases`: reads the lapsed leases, oldest expiry first, then takes each over
 * with its own compare-and-set on the lapsed lease (a renewal that landed first wins). One failed
 * takeover does not hide the others; it is tried again next pass.
 */
export async function claimExpiredLeases(runs: Collection<RunDoc>, request: ExpiredLeaseClaim): Promise<ExpiredLease[]> {
  if (request.limit <= 0 || request.taskTypes?.length === 0) return [];
  const expired = await runs.find(q.expiredLeasesFilter(request), { sort: q.EXPIRED_LEASES_SORT, limit: request.limit }).toArray();
  const settled = await Promise.allSettled(
    expired.map(async (doc): Promise<ExpiredLease | null> => {
      const run = fromRunDoc(doc);
      if (!run.lease) return null;
      const write = q.expiredLeaseClaim({ ...run, lease: run.lease }, request);
      const after = await runs.findOneAndUpdate(write.filter, write.update, { returnDocument: 'after' });
      return after ? { run: fromRunDoc(after), expired: { instanceId: run.lease.instanceId, expiresAt: run.lease.expiresAt } } : null;
    }),
  );
  const claimed = settled.flatMap((item) => (item.status === 'fulfilled' && item.value ? [item.value] : []));
  const failure = settled.find((item): item is PromiseRejectedResult => item.status === 'rejected');
  if (failure && claimed.length === 0) throw failure.reason;
  return claimed;
}
