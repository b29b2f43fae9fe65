import type { Collection } from 'mongodb';
import type { RunRecord } from '../../types.js';
import type { ClaimRequest } from '../types.js';
import { fromRunDoc, type RunDoc } from './documents.js';
import { CLAIM_SORT, claimCandidatesFilter, claimedFilter, claimFilter, claimUpdate } from './queries.js';

/**
 * Claims up to `limit` runs in claim order. First the cheap path: read the top `limit`
 * candidates and `updateMany` them to `running` (each document re-checked atomically, so each
 * run goes to one claimer). When other instances took some of them (many instances read the
 * same top candidates), the rest is not read again and fought over: each missing run is taken
 * by its own `findOneAndUpdate` sorted in claim order, which atomically takes the next free
 * run (the server re-evaluates it after a write conflict), so concurrent claimers spread over
 * the queue and a claim does not come back short while runs are waiting.
 * A claim whose writes failed part way hands out what its token won (looked up by token) rather
 * than leaving those runs to lease expiry.
 */
export async function claimRuns(runs: Collection<RunDoc>, request: ClaimRequest): Promise<RunRecord[]> {
  if (request.taskTypes?.length === 0 || request.limit <= 0) return [];
  const candidates = await runs.find(claimCandidatesFilter(request), { sort: CLAIM_SORT, limit: request.limit, projection: { _id: 1 } }).toArray();
  const ids = candidates.map((doc) => doc._id);
  if (ids.length === 0) return [];
  let matched: number;
  try {
    ({ matchedCount: matched } = await runs.updateMany(claimFilter(ids, request), claimUpdate(request)));
  } catch (error) {
    // A multi-document update is not retried by the driver and may have applied in part.
    const won = await heldUnder(runs, request.token).catch(() => []);
    if (won.length === 0) throw error;
    return won;
  }
  const won = matched > 0 ? (await runs.find(claimedFilter(ids, request.token)).toArray()).map(fromRunDoc) : [];
  // Fewer candidates than asked: the queue had no more, nothing to take one by one.
  const missing = ids.length < request.limit ? 0 : request.limit - won.length;
  if (missing === 0) return sortInClaimOrder(won);
  const singles = await Promise.allSettled(
    Array.from({ length: missing }, () => runs.findOneAndUpdate(claimCandidatesFilter(request), claimUpdate(request), { sort: CLAIM_SORT, returnDocument: 'after' })),
  );
  if (singles.some((item) => item.status === 'rejected')) {
    const all = await heldUnder(runs, request.token).catch(() => null);
    if (all) return sortInClaimOrder(all);
  }
  const more = singles.flatMap((item) => (item.status === 'fulfilled' && item.value ? [fromRunDoc(item.value)] : []));
  return sortInClaimOrder([...won, ...more]);
}

/** Every run held under `token` (a claim's token is its own). */
async function heldUnder(runs: Collection<RunDoc>, token: string): Promise<RunRecord[]> {
  return (await runs.find({ status: 'running', 'lease.token': token }).toArray()).map(fromRunDoc);
}

/** Priority desc, then availableAt, scheduledFor and id ascending (as {@link CLAIM_SORT}). */
export function sortInClaimOrder(claimed: RunRecord[]): RunRecord[] {
  return claimed.sort(
    (a, b) =>
      b.priority - a.priority ||
      a.availableAt.getTime() - b.availableAt.getTime() ||
      a.scheduledFor.getTime() - b.scheduledFor.getTime() ||
      (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
  );
}
