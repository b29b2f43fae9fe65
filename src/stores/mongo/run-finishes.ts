import type { Collection } from 'mongodb';
import type { AttemptRecord, RunError } from '../../types.js';
import type { RunFinish } from '../types.js';
import type { RunDoc } from './documents.js';
import { describeMongoError } from './errors.js';
import { finishUpdate, heldRun } from './queries.js';

/** Server codes that refuse one document for good: too large (10334, 17419, 17420), rejected by a validator (121). */
export const DOCUMENT_REFUSED_CODES: ReadonlySet<number> = new Set([10334, 17419, 17420, 121]);

/** Whether a write failed because of what the document holds, so the same write will always fail. */
export function isDocumentRefused(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { code, name } = error as { code?: unknown; name?: unknown };
  return (typeof code === 'number' && DOCUMENT_REFUSED_CODES.has(code)) || name === 'BSONError';
}

/**
 * The outcome written instead of one the server refused for good (a result past 16 MB, a
 * validator): the run fails with an error that says why, without the result, progress or error
 * it could not store; a retry (back to pending) keeps its schedule with that error instead.
 */
export function refusedFinish(finish: RunFinish, error: unknown): RunFinish {
  const refused: RunError = { name: 'StoreError', message: `MongoDB refused this run's outcome: ${describeMongoError(error)}` };
  const attemptRecord: AttemptRecord | undefined = finish.attemptRecord && {
    ...finish.attemptRecord,
    outcome: finish.attemptRecord.outcome === 'completed' ? 'failed' : finish.attemptRecord.outcome,
    error: refused,
  };
  const base = { runId: finish.runId, token: finish.token, ...(attemptRecord ? { attemptRecord } : {}) };
  if (finish.status === 'pending') {
    return { ...base, status: 'pending', availableAt: finish.availableAt, error: refused, ...(finish.undoAttempt ? { undoAttempt: true } : {}) };
  }
  return { ...base, status: 'failed', finishedAt: finish.finishedAt, durationMs: finish.durationMs, expiresAt: finish.expiresAt, error: refused };
}

/**
 * Applies each finish on its own (one `updateOne` per run, filtered on its lease token), so one
 * failure never undoes or blocks the others:
 * - a document the server refuses for good is written as {@link refusedFinish};
 * - a finish is stamped with an id kept per `RunFinish` object, so when the caller sends the
 *   same finish again after an error (the finish writer retries its batch), one that was applied
 *   already reports true instead of a lost lease;
 * - any other failure is rethrown once every finish has been tried: the caller retries the batch.
 */
export async function finishRuns(finishes: readonly RunFinish[], runs: Collection<RunDoc>, ids: WeakMap<RunFinish, string>, newId: () => string): Promise<boolean[]> {
  const settled = await Promise.allSettled(finishes.map((finish) => finishOne(finish, runs, ids, newId)));
  const failure = settled.find((item): item is PromiseRejectedResult => item.status === 'rejected');
  if (failure) throw failure.reason;
  return settled.map((item) => (item as PromiseFulfilledResult<boolean>).value);
}

async function finishOne(finish: RunFinish, runs: Collection<RunDoc>, ids: WeakMap<RunFinish, string>, newId: () => string): Promise<boolean> {
  const sentBefore = ids.get(finish);
  const finishId = sentBefore ?? newId();
  ids.set(finish, finishId);
  const apply = async (write: RunFinish): Promise<boolean> => {
    const update = finishUpdate(write);
    const set = { ...(update.$set as Record<string, unknown>), finishId };
    return (await runs.updateOne(heldRun(write.runId, write.token), { ...update, $set: set })).matchedCount === 1;
  };
  let applied: boolean;
  try {
    applied = await apply(finish);
  } catch (error) {
    if (!isDocumentRefused(error)) throw error;
    // The fallback may be refused too (the run's own payload is too large): give the run up to lease expiry.
    applied = await apply(refusedFinish(finish, error)).catch((again: unknown) => (isDocumentRefused(again) ? false : Promise.reject(again)));
  }
  if (applied || sentBefore === undefined) return applied;
  return (await runs.countDocuments({ _id: finish.runId, finishId }, { limit: 1 })) === 1;
}
