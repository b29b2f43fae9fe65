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

describe('MongoDB claimExpiredLeases', () => {
  it('returns the runs it took over even when another takeover failed', async () => {
    const { store, runs } = fakeDriver();
    const lease = { token: 'old', instanceId: 'gone', expiresAt: at(0) };
    const [a, b] = ['a', 'b'].map((id) => ({ ...makeRun({ id, maxAttempts: 3 }), status: 'running' as const, attempt: 1, lease }));
    const taken = { token: 'new', instanceId: 'i2', expiresAt: at(31_000) };
    runs.find.mockReturnValueOnce(cursor([toRunDoc(a!), toRunDoc(b!)]));
    runs.findOneAndUpdate.mockRejectedValueOnce(networkError()).mockResolvedValueOnce(toRunDoc({ ...b!, lease: taken }));
    const claimed = await store.claimExpiredLeases({ now: at(1_000), instanceId: 'i2', token: 'new', leaseMs: 30_000, limit: 10, taskTypes: ['task-a'] });
    expect(claimed.map((item) => [item.run.id, item.run.lease?.token, item.expired.instanceId])).toEqual([['b', 'new', 'gone']]);
  });
});

describe('MongoDB renewLeases: one bulk write in the usual case', () => {
  const held = (id: string, token: string) => ({ _id: id, status: 'running', 'lease.token': token });
  const renewals = [
    { runId: 'a', token: 'ta', expiresAt: at(9) },
    { runId: 'b', token: 'tb', expiresAt: at(9) },
    { runId: 'a', token: 'ta', expiresAt: at(10) },
  ];

  it('renews every lease in one unordered bulkWrite when all are held without a cancel request', async () => {
    const { store, runs } = fakeDriver();
    runs.bulkWrite.mockResolvedValueOnce({ matchedCount: 2 });
    expect(await store.renewLeases(renewals)).toEqual([
      { held: true, cancelRequested: false }, { held: true, cancelRequested: false }, { held: true, cancelRequested: false },
    ]);
    expect(runs.bulkWrite).toHaveBeenCalledTimes(1);
    const [operations, options] = runs.bulkWrite.mock.calls[0] as [unknown[], unknown];
    expect(operations).toEqual([
      { updateOne: { filter: { ...held('a', 'ta'), cancelRequested: { $ne: true } }, update: { $set: { 'lease.expiresAt': at(9) } } } },
      { updateOne: { filter: { ...held('b', 'tb'), cancelRequested: { $ne: true } }, update: { $set: { 'lease.expiresAt': at(9) } } } },
    ]);
    expect(options).toEqual({ ordered: false });
    expect(runs.find).not.toHaveBeenCalled();
    expect(await store.renewLeases([])).toEqual([]);
  });

  it('tells a cancel request and a lost lease apart with one more bulkWrite and one find', async () => {
    const { store, runs } = fakeDriver();
    runs.bulkWrite.mockResolvedValueOnce({ matchedCount: 0 }).mockResolvedValueOnce({ matchedCount: 1 });
    runs.find.mockReturnValueOnce(cursor([
      { _id: 'a', status: 'running', lease: { token: 'ta' }, cancelRequested: true },
      { _id: 'b', status: 'running', lease: { token: 'someone-else' }, cancelRequested: false },
    ]));
    expect(await store.renewLeases(renewals)).toEqual([
      { held: true, cancelRequested: true }, { held: false, cancelRequested: false }, { held: true, cancelRequested: true },
    ]);
    expect((runs.bulkWrite.mock.calls[1] as [unknown[]])[0]).toEqual([
      { updateOne: { filter: held('a', 'ta'), update: { $set: { 'lease.expiresAt': at(9) } } } },
      { updateOne: { filter: held('b', 'tb'), update: { $set: { 'lease.expiresAt': at(9) } } } },
    ]);
    expect(runs.find.mock.calls[0]?.[0]).toEqual({ _id: { $in: ['a', 'b'] } });
  });

  it('answers a missing run as not held, and a failed write as a StoreError', async () => {
    const { store, runs } = fakeDriver();
    runs.bulkWrite.mockResolvedValue({ matchedCount: 0 });
    runs.find.mockReturnValueOnce(cursor([]));
    expect(await store.renewLeases([{ runId: 'gone', token: 't', expiresAt: at(9) }])).toEqual([{ held: false, cancelRequested: false }]);
    runs.bulkWrite.mockRejectedValueOnce(networkError());
    await expect(store.renewLeases([{ runId: 'a', token: 't', expiresAt: at(9) }])).rejects.toMatchObject({ name: 'StoreError' });
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
