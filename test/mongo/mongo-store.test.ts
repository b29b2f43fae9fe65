import type { Db } from 'mongodb';
import { describe, expect, it } from 'vitest';
import { mongoLockStore } from '../../src/locks/mongo/index.js';
import { nameKey, type NameDoc } from '../../src/stores/mongo/documents.js';
import { mongoStore } from '../../src/stores/mongo/index.js';
import { INDEXES } from '../../src/stores/mongo/indexes.js';
import { NAME_CLAIM_GRACE_MS } from '../../src/stores/mongo/names.js';
import { fixtureDate as at, makeRun, makeTrigger, makeTriggerWrite } from '../../src/testing/fixtures.js';
import { lockStoreContract } from '../../src/testing/lock-store-contract.js';
import { storeContract } from '../../src/testing/store-contract.js';
import { mongoTarget, useDatabases } from './databases.js';

const target = mongoTarget();
const CONFLICT = { name: 'ConflictError', code: 'CONFLICT' };

describe.skipIf(!target)('MongoDB store', () => {
  const dbs = useDatabases(target);

  /** Runs `body` on a fresh database, dropped afterwards. */
  const withDb = async (body: (db: Db) => Promise<void>): Promise<void> => {
    const db = dbs.fresh();
    try {
      await body(db);
    } finally {
      await dbs.drop(db);
    }
  };

  // The contract runs without the indexes: its fixtures are dated 2026-01-01, so the TTL
  // monitor could remove their finished runs in the middle of a test. No index is needed for
  // correctness; the indexes are checked below and in explain.test.ts.
  storeContract(
    'mongodb',
    async () => {
      const db = dbs.fresh();
      return { store: mongoStore(db, { createIndexes: false }), cleanup: () => dbs.drop(db) };
    },
    { capabilities: { notify: target?.changeStreams === true } },
  );

  lockStoreContract('mongodb', async () => {
    const db = dbs.fresh();
    return { store: mongoLockStore(db), cleanup: () => dbs.drop(db) };
  });

  describe('indexes', () => {
    it('init creates every index under its name, with its TTL, idempotently', () =>
      withDb(async (db) => {
        const store = mongoStore(db);
        await Promise.all([store.init(), store.init()]);
        await store.ensureIndexes();
        await mongoStore(db).init();
        for (const spec of INDEXES) {
          const indexes = await db.collection(store.collections[spec.collection]).indexes();
          const found = indexes.find((index) => index.name === spec.name);
          expect(found?.key, spec.name).toEqual(spec.key);
          expect(found?.expireAfterSeconds, spec.name).toBe(spec.expireAfterSeconds);
          expect(found?.unique, spec.name).toBeUndefined();
        }
      }));

    it('says which index to drop when an existing one conflicts', () =>
      withDb(async (db) => {
        await db.collection('punctual_runs').createIndex({ purgeAt: 1 }, { name: 'punctual_retention_ttl', expireAfterSeconds: 60 });
        await expect(mongoStore(db).init()).rejects.toMatchObject({
          name: 'StoreError',
          message: expect.stringContaining("dropIndex('punctual_retention_ttl')"),
        });
      }));

    it('creates nothing with createIndexes: false', () =>
      withDb(async (db) => {
        await mongoStore(db, { createIndexes: false }).init();
        expect(await db.listCollections().toArray()).toEqual([]);
      }));

    it('uses the collection prefix', () =>
      withDb(async (db) => {
        const store = mongoStore(db, { collectionPrefix: 'jobs_' });
        await store.init();
        await store.insertTrigger(makeTrigger());
        const names = (await db.listCollections().toArray()).map((c) => c.name).sort();
        expect(names).toEqual(['jobs_audit', 'jobs_locks', 'jobs_runs', 'jobs_trigger_names', 'jobs_triggers']);
      }));
  });

  describe('user data', () => {
    it('stores keys with dots, dollars, percent signs through inserts, replacements and updates', () =>
      withDb(async (db) => {
        const store = mongoStore(db, { createIndexes: false });
        const odd = { 'a.b': 1, $ref: '#/x', '50%': { '$nested.key': [{ 'x.y': true }] } };
        const trigger = makeTrigger({ payload: odd, metadata: { 'ui.color': 'red' } });
        await store.insertTrigger(trigger);
        expect(await store.getTrigger(trigger.id)).toEqual(trigger);
        const write = makeTriggerWrite(trigger, { payload: { ...odd, 'c.d': 2 } });
        expect(await store.updateTrigger(write)).toBe(true);
        expect(await store.getTrigger(trigger.id)).toEqual(write.next);
        const run = makeRun({ payload: odd });
        await store.insertRuns([run]);
        const [claimed] = await store.claimRuns({ now: run.availableAt, instanceId: 'i1', token: 'tok', leaseMs: 30_000, limit: 1 });
        expect(claimed?.payload).toEqual(odd);
        const finish = { runId: run.id, token: 'tok', status: 'completed' as const, finishedAt: at(1), durationMs: 1, result: odd, expiresAt: at(DAY) };
        expect(await store.finishRuns([finish])).toEqual([true]);
        expect((await store.getRun(run.id))?.result).toEqual(odd);
      }));
  });

  describe('name reservations', () => {
    const reservations = (db: Db) => db.collection<NameDoc>('punctual_trigger_names');

    it('takes over an orphan reservation (its trigger never written) once older than the grace period', () =>
      withDb(async (db) => {
        const store = mongoStore(db, { createIndexes: false });
        await reservations(db).insertOne({ _id: nameKey('owner-a', 'report'), triggerId: 'trg-never-written', at: at(0) });
        const late = makeTrigger({ owner: 'owner-a', name: 'report', createdAt: at(NAME_CLAIM_GRACE_MS), updatedAt: at(NAME_CLAIM_GRACE_MS) });
        await store.insertTrigger(late);
        expect(await reservations(db).findOne({ _id: nameKey('owner-a', 'report') })).toMatchObject({ triggerId: late.id });
      }));

    it('refuses a reservation younger than the grace period: its create may be in flight', () =>
      withDb(async (db) => {
        const store = mongoStore(db, { createIndexes: false });
        await reservations(db).insertOne({ _id: nameKey('owner-a', 'report'), triggerId: 'trg-in-flight', at: at(0) });
        const early = makeTrigger({ owner: 'owner-a', name: 'report', createdAt: at(1_000), updatedAt: at(1_000) });
        await expect(store.insertTrigger(early)).rejects.toMatchObject(CONFLICT);
        expect(await store.getTrigger(early.id)).toBeNull();
      }));

    it('takes over the old name of a trigger renamed away (a crash before releasing it)', () =>
      withDb(async (db) => {
        const store = mongoStore(db, { createIndexes: false });
        const trigger = makeTrigger({ owner: 'owner-a', name: 'old-name' });
        await store.insertTrigger(trigger);
        expect(await store.updateTrigger(makeTriggerWrite(trigger, { name: 'new-name', updatedAt: at(1_000) }))).toBe(true);
        // Simulate the crash: the old reservation is back, still pointing to the trigger.
        await reservations(db).insertOne({ _id: nameKey('owner-a', 'old-name'), triggerId: trigger.id, at: at(0) });
        await store.insertTrigger(makeTrigger({ owner: 'owner-a', name: 'old-name', updatedAt: at(NAME_CLAIM_GRACE_MS) }));
        await expect(store.insertTrigger(makeTrigger({ owner: 'owner-a', name: 'new-name', updatedAt: at(DAY) }))).rejects.toMatchObject(CONFLICT);
      }));

    it('gives a name to exactly one of many concurrent creates', () =>
      withDb(async (db) => {
        const store = mongoStore(db, { createIndexes: false });
        const attempts = Array.from({ length: 10 }, () => store.insertTrigger(makeTrigger({ owner: 'owner-a', name: 'contended' })));
        const results = await Promise.allSettled(attempts);
        expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
        for (const r of results) if (r.status === 'rejected') expect(r.reason).toMatchObject(CONFLICT);
        expect(await store.listTriggers({ name: 'contended', sort: 'createdAt', order: 'asc', limit: 50 })).toHaveLength(1);
      }));
  });

  describe('wake-ups', () => {
    it.runIf(target?.changeStreams === false)('resolves subscribe to null on a standalone server (polling)', () =>
      withDb(async (db) => {
        expect(await mongoStore(db).subscribe(() => undefined)).toBeNull();
      }));

    it.runIf(target?.changeStreams === true)('reports the feed as active and stops delivering after unsubscribe', () =>
      withDb(async (db) => {
        const store = mongoStore(db, { createIndexes: false });
        const states: boolean[] = [];
        const changes: string[] = [];
        const unsubscribe = await store.subscribe((change) => changes.push(change.kind), (active) => states.push(active));
        expect(unsubscribe).toBeTypeOf('function');
        expect(states).toEqual([true]);
        await unsubscribe?.();
        await store.insertTrigger(makeTrigger());
        await new Promise((resolve) => setTimeout(resolve, 300));
        expect(changes).toEqual([]);
      }));
  });
});

const DAY = 86_400_000;
