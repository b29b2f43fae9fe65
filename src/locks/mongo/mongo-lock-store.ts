import type { Collection, Db } from 'mongodb';
import { ConfigurationError } from '../../errors.js';
import { preview } from '../../json-limits.js';
import { isDuplicateKeyError, toStoreError } from '../../stores/mongo/errors.js';
import { COLLECTION_OPTIONS, createIndex, isValidCollectionName, LOCK_CLEANUP_INDEX } from '../../stores/mongo/indexes.js';
import type { AcquireRequest, Lock, LockStore } from '../types.js';
import { acquireWrite, isFree, RELEASE_UPDATE, releaseFilter, renewFilter, renewUpdate, toLock, type LockDoc } from './lock-queries.js';

/** Read-and-set rounds of an acquire racing other acquirers. */
const ACQUIRE_ATTEMPTS = 4;

export interface MongoLockStoreOptions {
  /** The collection holding one document per resource. Default `punctual_locks`. */
  collection?: string;
}

/**
 * The MongoDB {@link LockStore}: one document per resource, `_id` = resource. Acquiring
 * reads the lock and, when it is free, takes it with a compare-and-set upsert on its fence
 * (see {@link acquireWrite}); against a lock taken meanwhile the upsert's insert collides on
 * `_id` (duplicate key), which means "someone else got there first". Renew and release present the token. Correctness rests on `_id` uniqueness and
 * single-document atomicity only; the TTL index (created by `ensureIndexes()`, or by the
 * MongoDB store's `init()`) removes locks an hour after their last lease ended, for cleanup.
 * Uses plain update operators only (no pipeline updates). Never closes the client.
 * @example
 * const locks = mongoLockStore(db);
 * const lock = await locks.acquire({ resource: 'report', owner: 'instance-1', token: 't1', ttlMs: 30_000, now: new Date(clock.now()) });
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

  /**
   * Reads the lock, and if it is free (or absent) takes it with {@link acquireWrite}'s
   * compare-and-set upsert. A duplicate key or a miss means another acquirer moved first: read
   * again, a few times, and give up (null) once the lock is held.
   */
  async acquire(request: AcquireRequest): Promise<Lock | null> {
    try {
      for (let attempt = 0; attempt < ACQUIRE_ATTEMPTS; attempt++) {
        const current = await this.locks.findOne({ _id: request.resource }, { projection: { token: 1, expiresAt: 1, fence: 1 } });
        if (current && !isFree(current, request.now)) return null;
        const write = acquireWrite(request, current);
        try {
          const { matchedCount, upsertedCount } = await this.locks.updateOne(write.filter, write.update, { upsert: true });
          if (matchedCount === 1 || upsertedCount === 1) return write.lock;
        } catch (error) {
          if (!isDuplicateKeyError(error)) throw error;
        }
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
