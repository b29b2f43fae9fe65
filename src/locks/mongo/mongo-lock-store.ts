import type { Collection, Db } from 'mongodb';
import { ConfigurationError } from '../../errors.js';
import { preview } from '../../json-limits.js';
import { isDuplicateKeyError, toStoreError } from '../../stores/mongo/errors.js';
import { COLLECTION_OPTIONS, createIndex, isValidCollectionName, LOCK_CLEANUP_INDEX } from '../../stores/mongo/indexes.js';
import type { AcquireRequest, Lock, LockStore } from '../types.js';
import { acquireFilter, acquireUpdate, isFree, RELEASE_UPDATE, releaseFilter, renewFilter, renewUpdate, toLock, type LockDoc } from './lock-queries.js';

export interface MongoLockStoreOptions {
  /** The collection holding one document per resource. Default `punctual_locks`. */
  collection?: string;
}

/**
 * The MongoDB {@link LockStore} (R7): one document per resource, `_id` = resource. Acquiring is
 * one atomic upsert whose filter matches only a free lock (expired or released); against a held
 * lock the upsert's insert collides on `_id` (duplicate key), which means "held by someone
 * else". Renew and release present the token. Correctness rests on `_id` uniqueness and
 * single-document atomicity only; the TTL index (created by `ensureIndexes()`, or by the
 * MongoDB store's `init()`) removes locks an hour after their last lease ended, for cleanup.
 * Needs MongoDB 4.2+ (pipeline updates). Never closes the client.
 * @example
 * const locks = mongoLockStore(db);
 * const lock = await locks.acquire({ resource: 'report', owner: 'instance-1', token: 't1', ttlMs: 30_000, now: new Date() });
 */
export class MongoLockStore implements LockStore {
  readonly kind = 'mongodb';
  /** The name of the lock collection. */
  readonly collectionName: string;
  private readonly locks: Collection<LockDoc>;

  constructor(
    private readonly db: Db,
    options: MongoLockStoreOptions = {},
  ) {
    const name = options.collection ?? 'punctual_locks';
    if (!isValidCollectionName(name) || name.length === 0) {
      throw new ConfigurationError(`mongoLockStore: collection must be a non-empty name without "$" or NUL, not starting with "system.", got ${preview(name)}`);
    }
    this.collectionName = name;
    this.locks = db.collection<LockDoc>(name, COLLECTION_OPTIONS);
  }

  async acquire(request: AcquireRequest): Promise<Lock | null> {
    try {
      // An upsert race with another acquirer can also end in a duplicate key: try once more
      // when the stored lock turns out to be free after all.
      for (let attempt = 0; attempt < 2; attempt++) {
        try {
          const doc = await this.locks.findOneAndUpdate(acquireFilter(request.resource, request.now), acquireUpdate(request), {
            upsert: true,
            returnDocument: 'after',
          });
          return doc ? toLock(doc) : null;
        } catch (error) {
          if (!isDuplicateKeyError(error)) throw error;
        }
        const current = await this.locks.findOne({ _id: request.resource });
        if (current && !isFree(current, request.now)) return null;
      }
      return null;
    } catch (error) {
      throw toStoreError('lock acquire', error);
    }
  }

  async renew(lock: Lock, ttlMs: number, now: Date): Promise<Lock | null> {
    try {
      const doc = await this.locks.findOneAndUpdate(renewFilter(lock, now), renewUpdate(ttlMs, now), { returnDocument: 'after' });
      return doc ? toLock(doc) : null;
    } catch (error) {
      throw toStoreError('lock renew', error);
    }
  }

  async release(lock: Lock): Promise<boolean> {
    try {
      return (await this.locks.updateOne(releaseFilter(lock), RELEASE_UPDATE)).matchedCount === 1;
    } catch (error) {
      throw toStoreError('lock release', error);
    }
  }

  /** Creates the TTL cleanup index (idempotent). The MongoDB store's `init()` does it too. */
  async ensureIndexes(): Promise<void> {
    await createIndex(this.db, this.collectionName, LOCK_CLEANUP_INDEX);
  }

  /** Nothing to release: the client belongs to the caller (or to the MongoDB store). */
  async close(): Promise<void> {}
}

/**
 * Creates the MongoDB {@link LockStore} on `db`. `createScheduler({ db })` uses it by default,
 * on the store's `<prefix>locks` collection.
 * @example
 * createScheduler({ store: postgresStore(pool), lockStore: mongoLockStore(db), handlers });
 */
export function mongoLockStore(db: Db, options: MongoLockStoreOptions = {}): LockStore {
  return new MongoLockStore(db, options);
}
