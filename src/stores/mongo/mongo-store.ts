import { randomUUID } from 'node:crypto';
import type { Collection, Db, MongoClient } from 'mongodb';
import { ConfigurationError, StoppedError } from '../../errors.js';
import { preview } from '../../json-limits.js';
import { MongoLockStore } from '../../locks/mongo/mongo-lock-store.js';
import type { LockStore } from '../../locks/types.js';
import type { AuditEntry, RunRecord, TriggerRecord } from '../../types.js';
import type {
  AuditQuery, ClaimRequest, DueRunCount, ExpiredLease, ExpiredLeaseClaim, LeaseRenewal, LeaseRenewalRequest, RunFinish, RunQuery, SlotFire, SlotFireResult, Store, StoreChange, TriggerQuery,
  TriggerWrite,
} from '../types.js';
import { cancelPendingRuns as cancelPendingRunDocs, cancelRun as cancelRunDoc } from './cancels.js';
import { appendAudit as appendAuditDoc, listAudit as listAuditDocs } from './audit.js';
import { openChangeFeeds } from './change-feed.js';
import { claimRuns as claimRunDocs } from './claims.js';
import { DeploymentNotes } from './deployment-notes.js';
import { renewLeases as renewLeaseDocs } from './lease-renewals.js';
import { fromRunDoc, type AuditDoc, type NameDoc, type RunDoc, type TriggerDoc } from './documents.js';
import { toStoreError } from './errors.js';
import { claimExpiredLeases as claimExpiredLeaseDocs } from './expired-leases.js';
import {
  collectionNames, COLLECTION_OPTIONS, DEFAULT_COLLECTION_PREFIX, ensureAllIndexes, isValidCollectionName, type CollectionRole,
} from './indexes.js';
import { TriggerNames } from './names.js';
import { page } from './pages.js';
import { purgeExpiredRuns as purgeExpiredRunDocs, purgeUnusedLocks } from './purge.js';
import * as q from './queries.js';
import { finishRuns as finishRunDocs } from './run-finishes.js';
import { insertRunDocs, insertRuns as insertRunsDocs } from './run-inserts.js';
import { fireSlots } from './slot-fires.js';
import { TriggerTable } from './trigger-table.js';

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
  private readonly names: TriggerNames;
  private readonly runs: Collection<RunDoc>;
  private readonly audit: Collection<AuditDoc>;
  private readonly table: TriggerTable;
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
    this.table = new TriggerTable(this.triggers, this.names);
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
    return this.op('insertTrigger', () => this.table.insert(trigger));
  }

  getTrigger(id: string, owner?: string): Promise<TriggerRecord | null> {
    return this.op('getTrigger', () => this.table.get(id, owner));
  }

  listTriggers(query: TriggerQuery): Promise<TriggerRecord[]> {
    return this.op('listTriggers', () => this.table.list(query));
  }

  updateTrigger(write: TriggerWrite): Promise<boolean> {
    return this.op('updateTrigger', () => this.table.update(write));
  }

  deleteTrigger(id: string, expectedVersion?: number): Promise<boolean> {
    return this.op('deleteTrigger', () => this.table.delete(id, expectedVersion));
  }

  findDueTriggers(until: Date, limit: number): Promise<TriggerRecord[]> {
    return this.op('findDueTriggers', () => this.table.findDue(until, limit));
  }

  findEventTriggers(event: string, limit: number, offset: number): Promise<TriggerRecord[]> {
    return this.op('findEventTriggers', () => this.table.findByEvent(event, limit, offset));
  }

  fireSlots(fires: readonly SlotFire[]): Promise<SlotFireResult[]> {
    return this.op('fireSlots', () =>
      fireSlots(fires, {
        triggers: this.triggers,
        names: this.names,
        runs: this.runs,
        insertRuns: (docs) => insertRunDocs(this.runs, docs),
        replaceTrigger: (id, version, next) => this.table.replace(id, version, next),
      }),
    );
  }

  /** Unordered; a batch the server refuses in part writes nothing (see {@link insertRunsDocs}). */
  insertRuns(runs: readonly RunRecord[]): Promise<boolean[]> {
    return this.op('insertRuns', () => insertRunsDocs(this.runs, runs));
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

  /** See {@link claimExpiredLeaseDocs}: one compare-and-set per lapsed lease. */
  claimExpiredLeases(request: ExpiredLeaseClaim): Promise<ExpiredLease[]> {
    return this.op('claimExpiredLeases', () => claimExpiredLeaseDocs(this.runs, request));
  }

  cancelRun(id: string, now: Date, retentionMs: number, owner?: string): Promise<RunRecord | null> {
    return this.op('cancelRun', () => cancelRunDoc(this.runs, id, now, retentionMs, owner));
  }

  cancelPendingRuns(triggerId: string, now: Date, retentionMs: number): Promise<number> {
    return this.op('cancelPendingRuns', () => cancelPendingRunDocs(this.runs, triggerId, now, retentionMs));
  }

  /** Final runs past retention; without TTL indexes also unused locks (see purge.ts). */
  purgeExpiredRuns(now: Date, limit: number): Promise<number> {
    return this.op('purgeExpiredRuns', async () => {
      if (limit > 0 && this.limits.has('ttl')) await purgeUnusedLocks(this.db.collection(this.collections.locks, COLLECTION_OPTIONS), now);
      return purgeExpiredRunDocs(this.runs, now, limit);
    });
  }

  appendAudit(entry: AuditEntry): Promise<void> {
    return this.op('appendAudit', () => appendAuditDoc(this.audit, entry));
  }

  listAudit(query: AuditQuery): Promise<AuditEntry[]> {
    return this.op('listAudit', () => listAuditDocs(this.audit, query));
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
      const feeds = await openChangeFeeds(this.db, this.collections, listener, onState);
      if (!feeds) this.limits.note('changeStreams', 'Standalone server: change streams need a replica set, so other instances\' changes are seen at the next poll (pollIntervalMs).');
      return feeds ? () => feeds.close() : null;
    });
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
