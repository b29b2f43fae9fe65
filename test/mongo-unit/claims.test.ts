import { describe, expect, it } from 'vitest';
import { toRunDoc } from '../../src/stores/mongo/documents.js';
import type { ClaimRequest } from '../../src/stores/types.js';
import { fixtureDate as at, makeRun } from '../../src/testing/fixtures.js';
import type { RunRecord } from '../../src/types.js';
import { cursor, fakeDriver, networkError } from './fake-driver.js';

// Claims race other instances: these tests fake the driver's collection calls to play the
// other claimers' part (they take some of the candidates between our read and our update).

const request: ClaimRequest = { now: at(1_000), instanceId: 'i1', token: 'tok', leaseMs: 30_000, limit: 3 };
const running = (run: RunRecord): RunRecord => ({
  ...run, status: 'running', attempt: 1, startedAt: at(1_000), instanceId: 'i1', lease: { token: 'tok', instanceId: 'i1', expiresAt: at(31_000) },
});

describe('MongoDB claimRuns against other claimers', () => {
  it('takes the runs others left one by one, in claim order, instead of coming back short', async () => {
    const { store, runs } = fakeDriver();
    const [a, b, c, d, e] = ['a', 'b', 'c', 'd', 'e'].map((id, i) => makeRun({ id, priority: 10 - i }));
    runs.find
      .mockReturnValueOnce(cursor([a, b, c].map((r) => ({ _id: r!.id }))))
      .mockReturnValueOnce(cursor([toRunDoc(running(b!))]));
    runs.updateMany.mockResolvedValue({ matchedCount: 1 });
    runs.findOneAndUpdate.mockResolvedValueOnce(toRunDoc(running(e!))).mockResolvedValueOnce(toRunDoc(running(d!)));
    const claimed = await store.claimRuns(request);
    expect(claimed.map((r) => r.id)).toEqual(['b', 'd', 'e']);
    expect(runs.find).toHaveBeenCalledTimes(2);
    expect(runs.findOneAndUpdate.mock.calls[0]?.[2]).toMatchObject({ sort: { priority: -1, availableAt: 1, scheduledFor: 1, _id: 1 }, returnDocument: 'after' });
  });

  it('does not take one by one when the queue held fewer runs than asked', async () => {
    const { store, runs } = fakeDriver();
    runs.find.mockReturnValueOnce(cursor([{ _id: 'a' }])).mockReturnValueOnce(cursor([]));
    runs.updateMany.mockResolvedValue({ matchedCount: 0 });
    expect(await store.claimRuns({ ...request, limit: 3 })).toEqual([]);
    expect(runs.findOneAndUpdate).not.toHaveBeenCalled();
  });

  it('hands out what its token won when a one-by-one claim failed after applying', async () => {
    const { store, runs } = fakeDriver();
    const [a, b, c] = ['a', 'b', 'c'].map((id) => makeRun({ id }));
    runs.find
      .mockReturnValueOnce(cursor([a, b, c].map((r) => ({ _id: r!.id }))))
      .mockReturnValueOnce(cursor([toRunDoc(running(a!))]))
      .mockReturnValueOnce(cursor([a, b, c].map((r) => toRunDoc(running(r!)))));
    runs.updateMany.mockResolvedValue({ matchedCount: 1 });
    runs.findOneAndUpdate.mockRejectedValueOnce(networkError()).mockResolvedValueOnce(toRunDoc(running(c!)));
    expect((await store.claimRuns(request)).map((r) => r.id)).toEqual(['a', 'b', 'c']);
    expect(runs.find.mock.calls[2]?.[0]).toEqual({ status: 'running', 'lease.token': 'tok' });
  });
});

describe('MongoDB recoverExpiredLeases', () => {
  it('returns the runs it took over even when another takeover failed', async () => {
    const { store, runs } = fakeDriver();
    const lease = { token: 'old', instanceId: 'gone', expiresAt: at(0) };
    const [a, b] = ['a', 'b'].map((id) => ({ ...makeRun({ id, maxAttempts: 3 }), status: 'running' as const, attempt: 1, lease }));
    runs.find.mockReturnValueOnce(cursor([toRunDoc(a!), toRunDoc(b!)]));
    runs.findOneAndUpdate.mockRejectedValueOnce(networkError()).mockResolvedValueOnce(toRunDoc({ ...b!, status: 'pending', lease: null }));
    const recovered = await store.recoverExpiredLeases(at(1_000), 10, 86_400_000);
    expect(recovered.map((item) => [item.run.id, item.outcome])).toEqual([['b', 'pending']]);
  });
});

describe('MongoDB renewLease without a findAndModify projection', () => {
  it('renews in one updateOne when no cancel was requested', async () => {
    const { store, runs } = fakeDriver();
    runs.updateOne.mockResolvedValueOnce({ matchedCount: 1 });
    expect(await store.renewLease('r', 'tok', at(9))).toEqual({ held: true, cancelRequested: false });
    expect(runs.updateOne.mock.calls[0]?.[0]).toEqual({ _id: 'r', status: 'running', 'lease.token': 'tok', cancelRequested: { $ne: true } });
    expect(runs.findOneAndUpdate).not.toHaveBeenCalled();
  });

  it('reports a cancel request, and a lease lost', async () => {
    const { store, runs } = fakeDriver();
    runs.updateOne.mockResolvedValueOnce({ matchedCount: 0 }).mockResolvedValueOnce({ matchedCount: 1 });
    expect(await store.renewLease('r', 'tok', at(9))).toEqual({ held: true, cancelRequested: true });
    runs.updateOne.mockResolvedValue({ matchedCount: 0 });
    expect(await store.renewLease('r', 'tok', at(9))).toEqual({ held: false, cancelRequested: false });
  });
});

describe('MongoDB insertRuns when the server refuses some runs', () => {
  it('withdraws the runs it wrote and throws, so a refused batch writes nothing', async () => {
    const { store, runs } = fakeDriver();
    const [a, b, c] = ['a', 'b', 'c'].map((id) => makeRun({ id }));
    runs.insertMany.mockRejectedValue(Object.assign(new Error('bulk'), { name: 'MongoBulkWriteError', writeErrors: [{ index: 1, code: 10334, errmsg: 'too large' }, { index: 2, code: 11000 }] }));
    runs.deleteOne.mockResolvedValue({ deletedCount: 1 });
    await expect(store.insertRuns([a!, b!, c!])).rejects.toMatchObject({ name: 'StoreError', message: expect.stringContaining('Nothing was written') });
    expect(runs.deleteOne.mock.calls.map(([filter]) => filter)).toEqual([{ _id: 'a', status: 'pending', startedAt: null }]);
  });
});
