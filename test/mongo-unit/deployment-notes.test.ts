import { afterEach, describe, expect, it, vi } from 'vitest';
import { fixtureDate as at } from '../../src/testing/fixtures.js';
import { cursor, fakeDriver, serverError, type FakeDriver } from './fake-driver.js';

// Servers that lack a feature (TTL indexes, change streams): these tests fake the driver's
// collection calls and `db.command` to answer as such a server does.

afterEach(() => {
  vi.restoreAllMocks();
});

/** Every createIndex succeeds, except TTL ones, refused as by a server without TTL support. */
function refuseTtl(driver: FakeDriver): void {
  for (const collection of [driver.triggers, driver.runs, driver.names, driver.locks, driver.audit]) {
    collection.createIndex.mockImplementation((_key: unknown, options: { expireAfterSeconds?: number }) =>
      options.expireAfterSeconds === undefined ? Promise.resolve('ok') : Promise.reject(serverError(67, { message: 'TTL not supported' })));
  }
  driver.names.find.mockReturnValue(cursor([]));
}

describe('MongoDB store on a server without TTL indexes', () => {
  it('creates the TTL indexes without expiry, starts anyway, and says so once in the log and in notes()', async () => {
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    const driver = fakeDriver();
    refuseTtl(driver);
    await driver.store.init();
    await driver.store.ensureIndexes();
    const plainRetention = driver.runs.createIndex.mock.calls.find(([key, options]) => 'purgeAt' in (key as object) && options.expireAfterSeconds === undefined);
    expect(plainRetention?.[1]).toEqual({ name: 'punctual_retention_ttl' });
    expect(driver.store.notes()).toHaveLength(1);
    expect(driver.store.notes()[0]).toMatch(/refused TTL indexes \((punctual_retention_ttl, punctual_lock_cleanup_ttl|punctual_lock_cleanup_ttl, punctual_retention_ttl) were made/);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn.mock.calls[0]?.[1]).toEqual({ code: 'PUNCTUAL_MONGODB_NO_TTL' });
  });

  it('purges unused locks by query in the periodic purge', async () => {
    vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    const driver = fakeDriver();
    refuseTtl(driver);
    await driver.store.init();
    driver.locks.deleteMany.mockResolvedValue({ deletedCount: 2 });
    driver.runs.find.mockReturnValue(cursor([]));
    expect(await driver.store.purgeExpiredRuns(at(7_200_000), 100)).toBe(0);
    expect(driver.locks.deleteMany).toHaveBeenCalledWith({ expiresAt: { $lte: at(3_600_000) } });
  });

  it('still fails init on an index conflict, TTL or not', async () => {
    const driver = fakeDriver();
    for (const collection of [driver.triggers, driver.runs, driver.names, driver.locks, driver.audit]) {
      collection.createIndex.mockImplementation((_key: unknown, options: { expireAfterSeconds?: number }) =>
        options.expireAfterSeconds === undefined ? Promise.resolve('ok') : Promise.reject(serverError(85)));
    }
    await expect(driver.store.init()).rejects.toMatchObject({ name: 'StoreError', message: expect.stringContaining('other options') });
    expect(driver.store.notes()).toEqual([]);
  });
});

describe('MongoDB store on a standalone server', () => {
  it('answers subscribe with null (the scheduler polls) and says why in notes()', async () => {
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    const driver = fakeDriver();
    driver.command.mockResolvedValue({ isWritablePrimary: true, maxWireVersion: 21 });
    expect(await driver.store.subscribe(() => undefined)).toBeNull();
    expect(driver.store.notes()).toEqual([expect.stringContaining('Standalone server')]);
    expect(warn.mock.calls[0]?.[1]).toEqual({ code: 'PUNCTUAL_MONGODB_POLLING' });
    expect(driver.command).toHaveBeenCalledWith({ hello: 1 });
  });
});
