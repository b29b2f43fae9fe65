import { describe, expect, it } from 'vitest';
import { legacyNameKey, nameKey } from '../../src/stores/mongo/documents.js';
import { fixtureDate as at, makeTrigger } from '../../src/testing/fixtures.js';
import { cursor, fakeDriver, serverError } from './fake-driver.js';

// Name reservations moved from `owner + NUL + name` to a key without NUL: these tests fake the
// driver's collection calls to hold reservations written by an earlier version.

describe('MongoDB name reservations under the earlier key', () => {
  it('moves a reservation under the earlier key before claiming, so it is still honoured', async () => {
    const { store, names, triggers } = fakeDriver({ createIndexes: false });
    const legacy = { _id: legacyNameKey('o', 'report'), triggerId: 'trg-old', at: at(0) };
    names.findOne.mockImplementation((filter: { _id: string }) =>
      Promise.resolve(filter._id === legacy._id ? legacy : filter._id === nameKey('o', 'report') ? { ...legacy, _id: nameKey('o', 'report') } : null));
    names.deleteOne.mockResolvedValue({ deletedCount: 1 });
    triggers.findOne.mockResolvedValue({ _id: 'trg-old', owner: 'o', name: 'report' });
    // The move writes the new key; our own claim of it then collides with the moved reservation.
    names.insertOne.mockResolvedValueOnce({}).mockRejectedValueOnce(serverError(11000));
    await expect(store.insertTrigger(makeTrigger({ owner: 'o', name: 'report' }))).rejects.toMatchObject({ name: 'ConflictError' });
    expect(names.insertOne.mock.calls[0]?.[0]).toEqual({ _id: nameKey('o', 'report'), triggerId: 'trg-old', at: at(0) });
    expect(names.deleteOne).toHaveBeenCalledWith({ _id: legacy._id, triggerId: 'trg-old' });
  });

  it('moves every reservation under the earlier key at init', async () => {
    const { store, names, triggers, runs, audit, locks } = fakeDriver();
    for (const collection of [names, triggers, runs, audit, locks]) collection.createIndex.mockResolvedValue('ok');
    const legacy = [
      { _id: legacyNameKey('a/b', 'x'), triggerId: 't1', at: at(0) },
      { _id: legacyNameKey('c', 'y'), triggerId: 't2', at: at(1) },
    ];
    names.find.mockReturnValueOnce(cursor(legacy));
    names.insertOne.mockResolvedValueOnce({}).mockRejectedValueOnce(serverError(11000));
    names.deleteOne.mockResolvedValue({ deletedCount: 1 });
    await store.init();
    expect(names.find.mock.calls[0]?.[0]).toEqual({ _id: { $regex: '\\x00' } });
    expect(names.insertOne.mock.calls.map(([doc]) => doc)).toEqual([
      { _id: 'a%2Fb/x', triggerId: 't1', at: at(0) },
      { _id: 'c/y', triggerId: 't2', at: at(1) },
    ]);
    expect(names.deleteOne.mock.calls.map(([filter]) => filter)).toEqual(legacy.map((doc) => ({ _id: doc._id, triggerId: doc.triggerId })));
  });
});
