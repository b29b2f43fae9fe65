import type { AnyBulkWriteOperation, Collection, Filter } from 'mongodb';
import { renewEachLeaseOnce } from '../first-per-lease.js';
import type { LeaseRenewal, LeaseRenewalRequest } from '../types.js';
import type { RunDoc } from './documents.js';
import { heldRun, renewUpdate } from './queries.js';

function renewals(first: readonly LeaseRenewalRequest[], filter: (r: LeaseRenewalRequest) => Filter<RunDoc>): AnyBulkWriteOperation<RunDoc>[] {
  return first.map((r) => ({ updateOne: { filter: filter(r), update: renewUpdate(r.expiresAt) } }));
}

/**
 * Renews a batch of leases. A bulk write's result counts the documents matched but does not say
 * which operations matched, so the usual case is made the cheap one: one unordered `bulkWrite`
 * renews every run still held without a cancel request, and when it matched them all, that is
 * the whole answer (one round trip). Otherwise a second `bulkWrite` renews whatever each token
 * still holds (setting the same expiry again is harmless), and one `find` reads which runs each
 * token holds and their cancel requests: held afterwards means renewed, since a token never
 * comes back to a run it lost. Plain updates, not findAndModify with a projection, which some
 * MongoDB-compatible servers ignore.
 */
export function renewLeases(requests: readonly LeaseRenewalRequest[], runs: Collection<RunDoc>): Promise<LeaseRenewal[]> {
  return renewEachLeaseOnce(requests, async (first) => {
    const quick = await runs.bulkWrite(renewals(first, (r) => ({ ...heldRun(r.runId, r.token), cancelRequested: { $ne: true } })), { ordered: false });
    if (quick.matchedCount === first.length) return first.map(() => ({ held: true, cancelRequested: false }));
    await runs.bulkWrite(renewals(first, (r) => heldRun(r.runId, r.token)), { ordered: false });
    const ids = [...new Set(first.map((r) => r.runId))];
    const docs = await runs.find({ _id: { $in: ids } }, { projection: { status: 1, lease: 1, cancelRequested: 1 } }).toArray();
    const byId = new Map(docs.map((doc) => [doc._id, doc]));
    return first.map((r) => {
      const doc = byId.get(r.runId);
      const held = doc?.status === 'running' && doc.lease?.token === r.token;
      return held ? { held: true, cancelRequested: doc.cancelRequested === true } : { held: false, cancelRequested: false };
    });
  });
}
