import type { Collection } from 'mongodb';
import type { RunRecord } from '../../types.js';
import { fromRunDoc, type RunDoc } from './documents.js';
import * as q from './queries.js';

/**
 * `Store.cancelRun`: a pending run becomes `cancelled`, a running one gets a cancel request.
 * A run may move between pending and running while this tries: a few rounds settle it.
 */
export async function cancelRun(runs: Collection<RunDoc>, id: string, now: Date, retentionMs: number, owner?: string): Promise<RunRecord | null> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const cancelled = await runs.findOneAndUpdate(q.cancelPendingFilter(id, owner), q.cancelPendingUpdate(now, retentionMs), { returnDocument: 'after' });
    if (cancelled) return fromRunDoc(cancelled);
    const requested = await runs.findOneAndUpdate(q.cancelRunningFilter(id, owner), q.CANCEL_REQUEST_UPDATE, { returnDocument: 'after' });
    if (requested) return fromRunDoc(requested);
    const current = await runs.findOne(q.runById(id, owner), { projection: { status: 1 } });
    if (!current || (current.status !== 'pending' && current.status !== 'running')) return null;
  }
  return null;
}

/** `Store.cancelPendingRuns`: every pending run of a trigger, in one update. */
export async function cancelPendingRuns(runs: Collection<RunDoc>, triggerId: string, now: Date, retentionMs: number): Promise<number> {
  return (await runs.updateMany(q.pendingOfTriggerFilter(triggerId), q.cancelPendingUpdate(now, retentionMs))).modifiedCount;
}
