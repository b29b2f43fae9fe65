import { describe, expect, it } from 'vitest';
import { fixtureDate as at } from '../../src/testing/fixtures.js';
import { fakeDriver, serverError } from './fake-driver.js';

// The lock acquire is a read then a compare-and-set upsert: these tests fake the driver's
// collection calls to put another acquirer between the two.

const request = { resource: 'res', owner: 'i1', token: 'tok', ttlMs: 30_000, now: at(1_000) };

describe('MongoDB lock acquire without pipeline updates', () => {
  it('takes a free lock with one updateOne of plain operators', async () => {
    const { store, locks } = fakeDriver();
    locks.findOne.mockResolvedValue({ _id: 'res', owner: 'old', expiresAt: at(0), fence: 5 });
    locks.updateOne.mockResolvedValue({ matchedCount: 1, upsertedCount: 0 });
    const lock = await store.createLockStore().acquire(request);
    expect(lock).toEqual({ resource: 'res', owner: 'i1', token: 'tok', expiresAt: at(31_000), fence: at(1_000).getTime() });
    const [filter, update, options] = locks.updateOne.mock.calls[0] ?? [];
    expect(filter).toMatchObject({ _id: 'res', fence: 5 });
    expect(Array.isArray(update)).toBe(false);
    expect(options).toEqual({ upsert: true });
    expect(locks.findOneAndUpdate).not.toHaveBeenCalled();
  });

  it('reads again after losing a race (duplicate key), and answers null once the lock is held', async () => {
    const { store, locks } = fakeDriver();
    locks.findOne.mockResolvedValueOnce(null).mockResolvedValueOnce({ _id: 'res', owner: 'i2', token: 'other', expiresAt: at(20_000), fence: 9 });
    locks.updateOne.mockRejectedValueOnce(serverError(11000));
    expect(await store.createLockStore().acquire(request)).toBeNull();
    expect(locks.updateOne).toHaveBeenCalledTimes(1);
  });

  it('creates a missing lock by upsert', async () => {
    const { store, locks } = fakeDriver();
    locks.findOne.mockResolvedValue(null);
    locks.updateOne.mockResolvedValue({ matchedCount: 0, upsertedCount: 1 });
    expect(await store.createLockStore().acquire(request)).toMatchObject({ token: 'tok', fence: at(1_000).getTime() });
  });
});
