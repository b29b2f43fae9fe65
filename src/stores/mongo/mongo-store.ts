import { randomUUID } from 'node:crypto';
import type { Collection, Db, MongoClient } from 'mongodb';
import { ConfigurationError, ConflictError, StoppedError } from '../../errors.js';
import { preview } from '../../json-limits.js';
import { MongoLockStore } from '../../locks/mongo/mongo-lock-store.js';
import type { LockStore } from '../../locks/types.js';
import type { AuditEntry, RunRecord, TriggerRecord } from '../../types.js';
import type {
  AuditQuery, ClaimRequest, DueRunCount, ExpiredLease, ExpiredLeaseClaim, LeaseRenewal, LeaseRenewalRequest, RunFinish, RunQuery, SlotFire, SlotFireResult, Store, StoreChange, TriggerQuery,
  TriggerWrite,
} from '../types.js';
import { ChangeFeeds, helloReply, supportsChangeStreams } from './change-feed.js';
import { page } from './pages.js';
import {
  fromAuditDoc, fromRunDoc, fromTriggerDoc, toAuditDoc, toRunDoc, toTriggerDoc, withoutId, type AuditDoc, type NameDoc, type RunDoc,
  type TriggerDoc,
} from './documents.js';
import { bulkInsertFailures, insertFailure, isDuplicateKeyError, toStoreError, type BulkInsertFailures } from './errors.js';
import {
  collectionNames, COLLECTION_OPTIONS, DEFAULT_COLLECTION_PREFIX, ensureAllIndexes, isValidCollectionName, LOCK_CLEANUP_INDEX, type CollectionRole,
} from './indexes.js';
import { nameConflict, TriggerNames } from './names.js';
import * as q from './queries.js';
import { claimRuns as claimRunDocs } from './claims.js';
import { DeploymentNotes } from './deployment-notes.js';
import { renewLeases as renewLeaseDocs } from './lease-renewals.js';
import { finishRuns as finishRunDocs } from './run-finishes.js';
import { fireSlots, withdrawRuns } from './slot-fires.js';

/** Options of {@link mongoStore}. */
export interface MongoStoreOptions {
  /** Prefix of the five collection names (`<prefix>triggers`, `runs`, `trigger_names`, `locks`, `audit`). Default `punctual_`. */
  collectionPrefix?: string;
  /** A client this store owns: `close()` (called by `scheduler.stop()`) closes it. Default: none; your client is never closed. */
  ownsClient?: MongoClient;
  /** Create the indexes in `init()`. Default true. Set false when indexes are managed out of band (see `ensureIndexes()`). */
  createIndexes?: boolean;
}

/**
 * The MongoDB {@link Store}. Works on standalone servers, replica sets and sharded clusters:
 * correctness rests only on `_id` uniqueness and single-document atomic updates, never on
 * transactions or unique secondary indexes. Names are unique per owner through reservation
 * documents (`<prefix>trigger_names`), slots fire once through deterministic run ids, runs are
 * claimed by compare-and-set on their status. With a replica set or mongos, `subscribe` wakes
 * the engine through change streams; on a standalone server it resolves null (polling).
 * See docs/mongodb.md for collections, indexes, TTL, versions and sharding.
 * @example
 * const store = mongoStore(client.db('app'));
 * const scheduler = createScheduler({ store, handlers });
 */
export class MongoStore implements Store {
  readonly kind = 'mongodb';
  /** The collection names in use. */
  readonly collections: Readonly<Record<CollectionRole, string>>;
  private readonly triggers: Collection<TriggerDoc>;
  private readonly runs: Collection<RunDoc>;
  private readonly audit: Collection<AuditDoc>;
  private readonly names: TriggerNames;
  private initializing: Promise<void> | null = null;
  private lockStore: MongoLockStore | undefined;
  /** close() closed the client this store owns (`ownsClient`): it cannot be initialized again. */
  private clientClosed = false;
  /** What this deployment lacks (see {@link MongoStore.notes}). */
  private readonly limits = new DeploymentNotes();
  /** The id each finish was stamped with, while the caller holds it (for finishes sent again). */
  private readonly finishIds = new WeakMap<RunFinish, string>();

  constructor(
    private readonly db: Db,
    private readonly options: MongoStoreOptions = {},
  ) {
    if (!db || typeof (db as Partial<Db>).collection !== 'function') throw ConfigurationError.from([{ path: 'db', message: 'must be a MongoDB Db (client.db(name))' }], 'Invalid mongoStore options');
    const prefix = options.collectionPrefix ?? DEFAULT_COLLECTION_PREFIX;
    if (!isValidCollectionName(prefix)) {
      throw new ConfigurationError(`mongoStore: collectionPrefix must be a string without "$" or NUL, not starting with "system.", got ${preview(prefix)}`);
    }
    this.collections = collectionNames(prefix);
    this.triggers = db.collection<TriggerDoc>(this.collections.triggers, COLLECTION_OPTIONS);
    this.runs = db.collection<RunDoc>(this.collections.runs, COLLECTION_OPTIONS);
    this.audit = db.collection<AuditDoc>(this.collections.audit, COLLECTION_OPTIONS);
    this.names = new TriggerNames(db.collection<NameDoc>(this.collections.names, COLLECTION_OPTIONS), this.triggers);
  }

  /**
   * Creates the indexes and moves name reservations left under the key of earlier versions
   * (neither with `createIndexes: false`: a claim moves its own name's reservation anyway).
   * Idempotent; concurrent calls share one attempt.
   */
  init(): Promise<void> {
    if (this.clientClosed) return Promise.reject(new StoppedError('mongoStore: init() after close(), which closed its client (ownsClient); create a new store to start again'));
    if (this.options.createIndexes === false) return Promise.resolve();
    this.initializing ??= this.prepare().catch((error: unknown) => {
      this.initializing = null;
      throw error;
    });
    return this.initializing;
  }

  private async prepare(): Promise<void> {
    await this.ensureIndexes();
    await this.op('init', () => this.names.migrateLegacyKeys());
  }

  /** Creates every index the store uses (see docs/mongodb.md); for deployments that manage indexes out of band. */
  async ensureIndexes(): Promise<void> {
    const withoutTtl = await ensureAllIndexes(this.db, this.collections);
    if (withoutTtl.length > 0) {
      this.limits.note('ttl', `The server refused TTL indexes (${withoutTtl.join(', ')} were made without expiry): final runs past retention and unused locks are removed by the scheduler's periodic purge query instead.`);
    }
  }

  /**
   * What this deployment lacks and what the store does instead: TTL indexes the server refused
   * (purged by query), change streams on a standalone server (polling). Shown in `health()`.
   */
  notes(): readonly string[] {
    return this.limits.list();
  }

  async close(): Promise<void> {
    if (!this.options.ownsClient || this.clientClosed) return;
    this.clientClosed = true;
    await this.options.ownsClient.close();
  }

  ping(): Promise<void> {
    return this.op('ping', async () => {
      await this.db.command({ ping: 1 });
    });
  }

  insertTrigger(trigger: TriggerRecord): Promise<void> {
    return this.op('insertTrigger', async () => {
      const claim = await this.names.claim(trigger.owner, trigger.name, trigger.id, trigger.updatedAt);
      try {
        await this.triggers.insertOne(toTriggerDoc(trigger));
      } catch (error) {
        if (!isDuplicateKeyError(error)) throw error;
        if (claim === 'created') await this.names.release(trigger.owner, trigger.name, trigger.id);
        throw new ConflictError(`A trigger with id "${trigger.id}" already exists.`);
      }
      // A claimer that took the name over from a stalled claim of ours wins: undo the insert.
      if (!(await this.names.isHeldBy(trigger.owner, trigger.name, trigger.id))) {
        await this.triggers.deleteOne(q.triggerAtVersion(trigger.id, trigger.version));
        throw nameConflict(trigger.owner, trigger.name);
      }
    });
  }

  getTrigger(id: string, owner?: string): Promise<TriggerRecord | null> {
    return this.op('getTrigger', async () => {
      const doc = await this.triggers.findOne(owner === undefined ? { _id: id } : { _id: id, owner });
      return doc ? fromTriggerDoc(doc) : null;
    });
  }

  listTriggers(query: TriggerQuery): Promise<TriggerRecord[]> {
    return this.op('listTriggers', () => page(this.triggers, q.triggerListFilter(query), q.triggerListSort(query), query.limit, fromTriggerDoc));
  }

  updateTrigger(write: TriggerWrite): Promise<boolean> {
    return this.op('updateTrigger', async () => {
      const current = await this.triggers.findOne({ _id: write.id });
      if (!current || current.version !== write.expectedVersion) return false;
      const { next } = write;
      const renamed = current.owner !== next.owner || current.name !== next.name;
      if (!renamed) return this.replaceTrigger(write.id, write.expectedVersion, next);
      const claim = await this.names.claim(next.owner, next.name, write.id, next.updatedAt);
      if (!(await this.replaceTrigger(write.id, write.expectedVersion, next))) {
        if (claim === 'created') await this.names.release(next.owner, next.name, write.id);
        return false;
      }
      if (!(await this.names.isHeldBy(next.owner, next.name, write.id))) {
        // Taken over while our claim stalled: put the previous record back (one version later).
        await this.triggers.replaceOne(q.triggerAtVersion(write.id, next.version), { ...withoutId(current), version: next.version + 1 });
        throw nameConflict(next.owner, next.name);
      }
      await this.names.release(current.owner, current.name, write.id);
      return true;
    });
  }

  deleteTrigger(id: string, expectedVersion?: number): Promise<boolean> {
    return this.op('deleteTrigger', async () => {
      const deleted = await this.triggers.findOneAndDelete(q.triggerAtVersion(id, expectedVersion));
      if (!deleted) return false;
      await this.names.release(deleted.owner, deleted.name, id);
      return true;
    });
  }

  findDueTriggers(until: Date, limit: number): Promise<TriggerRecord[]> {
    return this.op('findDueTriggers', async () => {
      if (limit <= 0) return [];
      const docs = await this.triggers.find(q.dueTriggersFilter(until), { sort: q.DUE_TRIGGERS_SORT, limit }).toArray();
      return docs.map(fromTriggerDoc);
    });
  }

  findEventTriggers(event: string, limit: number, offset: number): Promise<TriggerRecord[]> {
    return this.op('findEventTriggers', async () => {
      const window = q.pageWindow({ limit, offset });
      if (!window) return [];
      const docs = await this.triggers.find(q.eventTriggersFilter(event), { sort: q.TRIGGER_LIST_SORT, ...window }).toArray();
      return docs.map(fromTriggerDoc);
    });
  }

  fireSlots(fires: readonly SlotFire[]): Promise<SlotFireResult[]> {
    return this.op('fireSlots', () =>
      fireSlots(fires, {
        triggers: this.triggers,
        names: this.names,
        runs: this.runs,
        insertRuns: (docs) => this.insertRunDocs(docs),
        replaceTrigger: (id, version, next) => this.replaceTrigger(id, version, next),
      }),
    );
  }

  /**
   * Unordered insert. When the server refuses some runs (too large, a validator), the runs this
   * call wrote are withdrawn while untouched and the call throws, so, as on the other stores,
   * a refused batch writes nothing (the error names any run already claimed elsewhere).
   */
  insertRuns(runs: readonly RunRecord[]): Promise<boolean[]> {
    return this.op('insertRuns', async () => {
      const { duplicates, failed } = await this.insertRunDocs(runs.map(toRunDoc));
      if (failed.size > 0) {
        const written = runs.filter((_, i) => !duplicates.has(i) && !failed.has(i));
        const kept = await withdrawRuns(this.runs, written);
        throw insertFailure(runs, failed, kept);
      }
      return runs.map((_, i) => !duplicates.has(i));
    });
  }

  getRun(id: string, owner?: string): Promise<RunRecord | null> {
    return this.op('getRun', async () => {
      const doc = await this.runs.findOne(q.runById(id, owner));
      return doc ? fromRunDoc(doc) : null;
    });
  }

  listRuns(query: RunQuery): Promise<RunRecord[]> {
    return this.op('listRuns', () => page(this.runs, q.runListFilter(query), q.RUN_LIST_SORT, query.limit, fromRunDoc));
  }

  /** See {@link claimRunDocs}: one `updateMany` of the top candidates, the rest one by one when others took some. */
  claimRuns(request: ClaimRequest): Promise<RunRecord[]> {
    return this.op('claimRuns', () => claimRunDocs(this.runs, request));
  }

  countDueRunsByType(now: Date, exceptTypes: readonly string[]): Promise<DueRunCount[]> {
    return this.op('countDueRunsByType', async () => {
      const groups = await this.runs.aggregate<{ _id: string; count: number; oldest: Date }>(q.dueRunsByTypePipeline(now, exceptTypes)).toArray();
      return groups.map((g) => ({ taskType: g._id, count: g.count, oldestAvailableAt: g.oldest }));
    });
  }

  /** One bulk write in the usual case; see {@link renewLeaseDocs}. */
  renewLeases(renewals: readonly LeaseRenewalRequest[]): Promise<LeaseRenewal[]> {
    return this.op('renewLeases', () => renewLeaseDocs(renewals, this.runs));
  }

  /** Each finish on its own; see {@link finishRunDocs} for refused documents and finishes sent again. */
  finishRuns(finishes: readonly RunFinish[]): Promise<boolean[]> {
    return this.op('finishRuns', () => finishRunDocs(finishes, this.runs, this.finishIds, () => randomUUID()));
  }

  setProgress(runId: string, token: string, progress: NonNullable<RunRecord['progress']>): Promise<boolean> {
    return this.op('setProgress', async () => (await this.runs.updateOne(q.heldRun(runId, token), q.progressUpdate(progress))).matchedCount === 1);
  }

  claimExpiredLeases(request: ExpiredLeaseClaim): Promise<ExpiredLease[]> {
    return this.op('claimExpiredLeases', async () => {
      if (request.limit <= 0 || request.taskTypes?.length === 0) return [];
      const expired = await this.runs.find(q.expiredLeasesFilter(request), { sort: q.EXPIRED_LEASES_SORT, limit: request.limit }).toArray();
      const settled = await Promise.allSettled(
        expired.map(async (doc): Promise<ExpiredLease | null> => {
          const run = fromRunDoc(doc);
          if (!run.lease) return null;
          const write = q.expiredLeaseClaim({ ...run, lease: run.lease }, request);
          const after = await this.runs.findOneAndUpdate(write.filter, write.update, { returnDocument: 'after' });
          return after ? { run: fromRunDoc(after), expired: { instanceId: run.lease.instanceId, expiresAt: run.lease.expiresAt } } : null;
        }),
      );
      // One failed takeover does not hide the others; it is tried again next pass.
      const claimed = settled.flatMap((item) => (item.status === 'fulfilled' && item.value ? [item.value] : []));
      const failure = settled.find((item): item is PromiseRejectedResult => item.status === 'rejected');
      if (failure && claimed.length === 0) throw failure.reason;
      return claimed;
    });
  }

  cancelRun(id: string, now: Date, retentionMs: number, owner?: string): Promise<RunRecord | null> {
    return this.op('cancelRun', async () => {
      // A run may move between pending and running while we try: a few rounds settle it.
      for (let attempt = 0; attempt < 3; attempt++) {
        const cancelled = await this.runs.findOneAndUpdate(q.cancelPendingFilter(id, owner), q.cancelPendingUpdate(now, retentionMs), {
          returnDocument: 'after',
        });
        if (cancelled) return fromRunDoc(cancelled);
        const requested = await this.runs.findOneAndUpdate(q.cancelRunningFilter(id, owner), q.CANCEL_REQUEST_UPDATE, { returnDocument: 'after' });
        if (requested) return fromRunDoc(requested);
        const current = await this.runs.findOne(q.runById(id, owner), { projection: { status: 1 } });
        if (!current || (current.status !== 'pending' && current.status !== 'running')) return null;
      }
      return null;
    });
  }

  cancelPendingRuns(triggerId: string, now: Date, retentionMs: number): Promise<number> {
    return this.op('cancelPendingRuns', async () => (await this.runs.updateMany(q.pendingOfTriggerFilter(triggerId), q.cancelPendingUpdate(now, retentionMs))).modifiedCount);
  }

  purgeExpiredRuns(now: Date, limit: number): Promise<number> {
    return this.op('purgeExpiredRuns', async () => {
      if (limit <= 0) return 0;
      if (this.limits.has('ttl')) await this.purgeUnusedLocks(now);
      const ids = (await this.runs.find(q.purgeableFilter(now), { limit, projection: { _id: 1 } }).toArray()).map((doc) => doc._id);
      if (ids.length === 0) return 0;
      return (await this.runs.deleteMany({ _id: { $in: ids }, ...q.purgeableFilter(now) })).deletedCount;
    });
  }

  appendAudit(entry: AuditEntry): Promise<void> {
    return this.op('appendAudit', async () => {
      try {
        await this.audit.insertOne(toAuditDoc(entry));
      } catch (error) {
        // The same entry appended twice (a retry): keep the first.
        if (!isDuplicateKeyError(error)) throw error;
      }
    });
  }

  listAudit(query: AuditQuery): Promise<AuditEntry[]> {
    return this.op('listAudit', () => page(this.audit, q.auditListFilter(query), q.AUDIT_LIST_SORT, query.limit, fromAuditDoc));
  }

  /** Without the lock TTL index: removes locks whose last lease ended over an hour ago, as the index would. */
  private async purgeUnusedLocks(now: Date): Promise<void> {
    const cutoff = new Date(now.getTime() - (LOCK_CLEANUP_INDEX.expireAfterSeconds ?? 0) * 1_000);
    await this.db.collection(this.collections.locks, COLLECTION_OPTIONS).deleteMany({ expiresAt: { $lte: cutoff } });
  }

  /** The MongoDB lock store on `<prefix>locks` (one per store). */
  createLockStore(): LockStore {
    this.lockStore ??= new MongoLockStore(this.db, { collection: this.collections.locks });
    return this.lockStore;
  }

  /**
   * Change streams on triggers and runs when the server is a replica set member or a
   * mongos; null on a standalone server (polling does the job). Rejects when the streams cannot
   * be opened (e.g. no `changeStream` privilege): the engine then polls.
   */
  subscribe(listener: (change: StoreChange) => void, onState?: (active: boolean) => void): Promise<(() => Promise<void>) | null> {
    return this.op('subscribe', async () => {
      if (!supportsChangeStreams(await helloReply(this.db))) {
        this.limits.note('changeStreams', 'Standalone server: change streams need a replica set, so other instances\' changes are seen at the next poll (pollIntervalMs).');
        return null;
      }
      const collection = (name: string) => this.db.collection(name, COLLECTION_OPTIONS);
      const feeds = new ChangeFeeds(collection(this.collections.triggers), collection(this.collections.runs), listener, onState);
      await feeds.start();
      return () => feeds.close();
    });
  }

  private async replaceTrigger(id: string, expectedVersion: number, next: TriggerRecord): Promise<boolean> {
    const result = await this.triggers.replaceOne(q.triggerAtVersion(id, expectedVersion), withoutId(toTriggerDoc({ ...next, id })));
    return result.matchedCount === 1;
  }

  /** Inserts runs, unordered: one failure does not stop the others. Returns what was not written. */
  private async insertRunDocs(docs: readonly RunDoc[]): Promise<BulkInsertFailures> {
    if (docs.length > 0) {
      try {
        await this.runs.insertMany([...docs], { ordered: false });
      } catch (error) {
        const failures = bulkInsertFailures(error);
        if (failures) return failures;
        throw error;
      }
    }
    return { duplicates: new Set(), failed: new Map() };
  }

  private async op<T>(operation: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      throw toStoreError(operation, error);
    }
  }
}

/**
 * Creates the MongoDB {@link Store} on `db`. Collections are `<prefix>triggers`, `runs`,
 * `trigger_names`, `locks` and `audit`; indexes are created by `init()` (called by
 * `scheduler.start()`) unless `createIndexes: false`.
 * @example
 * const client = new MongoClient(uri);
 * const scheduler = createScheduler({ store: mongoStore(client.db('app'), { ownsClient: client }), handlers });
 */
export function mongoStore(db: Db, options: MongoStoreOptions = {}): MongoStore {
  return new MongoStore(db, options);
}
