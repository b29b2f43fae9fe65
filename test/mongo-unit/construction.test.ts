import { MongoClient } from 'mongodb';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { MongoLockStore, mongoLockStore } from '../../src/locks/mongo/index.js';
import { MongoStore, mongoStore } from '../../src/stores/mongo/index.js';
import { COLLECTION_OPTIONS } from '../../src/stores/mongo/indexes.js';

// A real client that is never connected: constructing stores performs no I/O. Nothing listens
// on port 1, so the one operation below fails fast as an unreachable server would.
const client = new MongoClient('mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=200&connectTimeoutMS=200');
const db = client.db('punctual_unit');

afterAll(async () => {
  await client.close();
});

describe('MongoDB store construction (no server)', () => {
  it('is a mongodb store with the default collection names', () => {
    const store = mongoStore(db);
    expect(store).toBeInstanceOf(MongoStore);
    expect(store.kind).toBe('mongodb');
    expect(store.collections).toEqual({
      triggers: 'punctual_triggers', runs: 'punctual_runs', names: 'punctual_trigger_names', locks: 'punctual_locks', audit: 'punctual_audit',
    });
  });

  it('gives one MongoDB lock store on <prefix>locks', () => {
    const store = mongoStore(db, { collectionPrefix: 'jobs_' });
    const locks = store.createLockStore();
    expect(locks).toBeInstanceOf(MongoLockStore);
    expect(locks.kind).toBe('mongodb');
    expect((locks as MongoLockStore).collectionName).toBe('jobs_locks');
    expect(store.createLockStore()).toBe(locks);
    expect((mongoLockStore(db) as MongoLockStore).collectionName).toBe('punctual_locks');
  });

  it('opens every collection with majority writes and primary reads, whatever the client says', () => {
    const lax = new MongoClient('mongodb://127.0.0.1:1/?w=1&readPreference=secondaryPreferred');
    const laxDb = lax.db('punctual_unit');
    const opened = vi.spyOn(laxDb, 'collection');
    const store = mongoStore(laxDb);
    store.createLockStore();
    expect(opened.mock.calls.map(([name]) => name).sort()).toEqual(Object.values(store.collections).sort());
    for (const [name, options] of [...opened.mock.calls]) {
      const collection = laxDb.collection(name, options);
      expect(collection.writeConcern).toMatchObject({ w: 'majority', wtimeoutMS: 10_000 });
      expect(collection.readPreference?.mode).toBe('primary');
    }
    expect(COLLECTION_OPTIONS.writeConcern.w).toBe('majority');
  });

  it('rejects bad options with a ConfigurationError', () => {
    expect(() => mongoStore(db, { collectionPrefix: 'a$' })).toThrow(expect.objectContaining({ name: 'ConfigurationError' }));
    expect(() => mongoStore({} as never)).toThrow(expect.objectContaining({ name: 'ConfigurationError' }));
    expect(() => mongoLockStore(db, { collection: '' })).toThrow(expect.objectContaining({ name: 'ConfigurationError' }));
  });

  it('does nothing in init with createIndexes: false, and never closes a client it does not own', async () => {
    const store = mongoStore(db, { createIndexes: false });
    await store.init();
    await store.close();
    await store.createLockStore().close();
  });

  it('reports an unreachable server as a transient StoreError with the driver error as cause', async () => {
    const error: unknown = await mongoStore(db).ping().catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'StoreError', code: 'STORE' });
    expect((error as Error).message).toMatch(/^MongoDB ping failed \(transient\): /);
    expect((error as Error).cause).toMatchObject({ name: 'MongoServerSelectionError' });
  });
});
