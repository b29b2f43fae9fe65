import { describe, expect, it } from 'vitest';
import { isDocumentRefused, refusedFinish } from '../../src/stores/mongo/run-finishes.js';
import type { RunFinish } from '../../src/stores/types.js';
import { fixtureDate as at } from '../../src/testing/fixtures.js';
import { fakeDriver, networkError, serverError } from './fake-driver.js';

// finishRuns is one updateOne per run: these tests fake the driver's collection calls to fail
// some of them, as a server would for a document past 16 MB or a dropped connection.

const DAY = 86_400_000;
const completion = (runId: string, result: unknown = { ok: true }): RunFinish => ({
  runId, token: `token-${runId}`, status: 'completed', finishedAt: at(2_000), durationMs: 2_000, result, expiresAt: at(DAY),
  attemptRecord: { attempt: 1, instanceId: 'i1', startedAt: at(0), finishedAt: at(2_000), outcome: 'completed' },
});
type Update = { $set: Record<string, unknown> };
const idOf = (filter: unknown) => (filter as { _id: string })._id;

describe('MongoDB finishRuns, one run at a time', () => {
  it('writes a finish the server refuses for good as failed, without the result, and applies the others', async () => {
    const { store, runs } = fakeDriver();
    runs.updateOne.mockImplementation((filter: unknown, update: Update) => {
      if (idOf(filter) === 'a' && update.$set.status === 'completed') return Promise.reject(serverError(17419));
      return Promise.resolve({ matchedCount: 1 });
    });
    expect(await store.finishRuns([completion('a', 'x'.repeat(100)), completion('b')])).toEqual([true, true]);
    const writesOfA = runs.updateOne.mock.calls.filter(([filter]) => idOf(filter) === 'a').map(([, update]) => (update as Update).$set);
    expect(writesOfA).toHaveLength(2);
    expect(writesOfA[1]).toMatchObject({ status: 'failed', error: { name: 'StoreError', message: expect.stringContaining('code 17419') } });
    expect(writesOfA[1]).not.toHaveProperty('result');
    expect(writesOfA[1]?.finishedAt).toEqual(at(2_000));
  });

  it('gives the run up (false) when even the fallback is refused, without failing the batch', async () => {
    const { store, runs } = fakeDriver();
    runs.updateOne.mockImplementation((filter: unknown) => (idOf(filter) === 'a' ? Promise.reject(serverError(10334)) : Promise.resolve({ matchedCount: 1 })));
    expect(await store.finishRuns([completion('a'), completion('b')])).toEqual([false, true]);
  });

  it('reports true for a finish sent again that was applied before the error, and false for another finish under the same token', async () => {
    const { store, runs } = fakeDriver();
    const stamped = new Map<string, unknown>();
    runs.updateOne.mockImplementation((filter: unknown, update: Update) => {
      if (idOf(filter) === 'a' && !stamped.has('a-failed')) {
        stamped.set('a-failed', true);
        return Promise.reject(networkError());
      }
      if (stamped.has(idOf(filter))) return Promise.resolve({ matchedCount: 0 }); // lease cleared by the first write
      stamped.set(idOf(filter), update.$set.finishId);
      return Promise.resolve({ matchedCount: 1 });
    });
    runs.countDocuments.mockImplementation((filter: { _id: string; finishId: string }) => Promise.resolve(stamped.get(filter._id) === filter.finishId ? 1 : 0));
    const batch = [completion('a'), completion('b')];
    await expect(store.finishRuns(batch)).rejects.toMatchObject({ name: 'StoreError', message: expect.stringContaining('(transient)') });
    expect(await store.finishRuns(batch)).toEqual([true, true]);
    expect(await store.finishRuns([completion('b')])).toEqual([false]);
  });

  it('never looks a first finish up: a lease already gone is false at once', async () => {
    const { store, runs } = fakeDriver();
    runs.updateOne.mockResolvedValue({ matchedCount: 0 });
    expect(await store.finishRuns([completion('a')])).toEqual([false]);
    expect(runs.countDocuments).not.toHaveBeenCalled();
  });

  it('knows which errors refuse a document for good', () => {
    for (const code of [10334, 17419, 17420, 121]) expect(isDocumentRefused(serverError(code))).toBe(true);
    expect(isDocumentRefused(Object.assign(new Error('too big'), { name: 'BSONError' }))).toBe(true);
    expect(isDocumentRefused(serverError(11600))).toBe(false);
    expect(isDocumentRefused(networkError())).toBe(false);
  });

  it('keeps a refused retry pending, with the reason as its error', () => {
    const retry: RunFinish = { runId: 'r', token: 't', status: 'pending', availableAt: at(5), error: { name: 'E', message: 'x'.repeat(50) }, undoAttempt: true };
    expect(refusedFinish(retry, serverError(17419))).toEqual({
      runId: 'r', token: 't', status: 'pending', availableAt: at(5), undoAttempt: true,
      error: { name: 'StoreError', message: "MongoDB refused this run's outcome: server error 17419 (code 17419)" },
    });
  });
});
