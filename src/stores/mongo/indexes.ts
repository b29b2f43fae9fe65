import type { Db, IndexDirection } from 'mongodb';
import { StoreError } from '../../errors.js';
import { classifyMongoError, toStoreError } from './errors.js';

/** The store's collections, by role; each is named `<prefix><suffix>`. */
export const COLLECTION_SUFFIXES = {
  triggers: 'triggers',
  runs: 'runs',
  names: 'trigger_names',
  locks: 'locks',
  audit: 'audit',
} as const;

export type CollectionRole = keyof typeof COLLECTION_SUFFIXES;

/**
 * How long a write waits for a majority of the replica set before it fails (error 64, which
 * the store treats as "not known to be written": fires and finishes are retried idempotently).
 */
export const MAJORITY_TIMEOUT_MS = 10_000;

/**
 * Options of every collection the store and lock store use, whatever the user's client says:
 * reads from the primary (the compare-and-set checks must see the latest writes), writes
 * acknowledged by a majority of the replica set (a write acknowledged by the primary alone can
 * be rolled back at a failover, and a rolled-back fire, claim or finish makes a run execute
 * twice; the server's default is `w: 1` before 5.0 and on sets with an arbiter), `undefined`
 * fields left out, and numbers read back as JS numbers. On a standalone server `majority` is
 * the server itself.
 */
export const COLLECTION_OPTIONS = {
  readPreference: 'primary',
  writeConcern: { w: 'majority', wtimeoutMS: MAJORITY_TIMEOUT_MS },
  ignoreUndefined: true,
  promoteValues: true,
  promoteLongs: true,
  useBigInt64: false,
  bsonRegExp: false,
  raw: false,
} as const;

/** Default collection name prefix. */
export const DEFAULT_COLLECTION_PREFIX = 'punctual_';

/** Whether `text` may be (part of) a collection name: no `$`, no NUL, not `system.`-prefixed. */
export function isValidCollectionName(text: unknown): text is string {
  return typeof text === 'string' && !text.includes('$') && !text.includes('\u0000') && !text.startsWith('system.');
}

export function collectionNames(prefix: string): Record<CollectionRole, string> {
  return {
    triggers: prefix + COLLECTION_SUFFIXES.triggers,
    runs: prefix + COLLECTION_SUFFIXES.runs,
    names: prefix + COLLECTION_SUFFIXES.names,
    locks: prefix + COLLECTION_SUFFIXES.locks,
    audit: prefix + COLLECTION_SUFFIXES.audit,
  };
}

/** One index the store creates: a fixed name, its keys, TTL when set, and the query it serves. */
export interface IndexSpec {
  collection: CollectionRole;
  name: string;
  key: Readonly<Record<string, IndexDirection & (1 | -1)>>;
  /** TTL index: documents are removed this long after the indexed date (cleanup only). */
  expireAfterSeconds?: number;
  serves: string;
}

/** Index of the lock collection: removes a lock document an hour after its lease expired. */
export const LOCK_CLEANUP_INDEX: IndexSpec = {
  collection: 'locks',
  name: 'punctual_lock_cleanup_ttl',
  key: { expiresAt: 1 },
  expireAfterSeconds: 3_600,
  serves: 'cleanup of locks unused for an hour (TTL)',
};

/**
 * Every index of the store. None is unique and none is needed for correctness: they make the
 * hot queries index scans, and the TTL ones clean up. Key order matters (equality fields
 * first, then the sort), so the sorts of the claim and history queries need no in-memory sort.
 */
export const INDEXES: readonly IndexSpec[] = [
  { collection: 'triggers', name: 'punctual_due', key: { status: 1, nextFireAt: 1, _id: 1 }, serves: 'findDueTriggers' },
  {
    collection: 'triggers',
    name: 'punctual_event',
    key: { status: 1, 'schedule.event': 1, createdAt: 1, _id: 1 },
    serves: 'findEventTriggers (publish)',
  },
  { collection: 'triggers', name: 'punctual_owner_created', key: { owner: 1, createdAt: 1, _id: 1 }, serves: 'listTriggers by owner' },
  { collection: 'triggers', name: 'punctual_created', key: { createdAt: 1, _id: 1 }, serves: 'listTriggers (admin view)' },
  { collection: 'triggers', name: 'punctual_owner_name', key: { owner: 1, name: 1, _id: 1 }, serves: 'listTriggers by owner, by name or name prefix' },
  { collection: 'triggers', name: 'punctual_name', key: { name: 1, _id: 1 }, serves: 'listTriggers by name or name prefix (admin view)' },
  {
    collection: 'runs',
    name: 'punctual_claim',
    key: { status: 1, priority: -1, availableAt: 1, scheduledFor: 1, _id: 1 },
    serves: 'claimRuns (filter and order)',
  },
  { collection: 'runs', name: 'punctual_lease_expiry', key: { status: 1, 'lease.expiresAt': 1, _id: 1 }, serves: 'recoverExpiredLeases' },
  {
    collection: 'runs',
    name: 'punctual_trigger_history',
    key: { triggerId: 1, scheduledFor: -1, _id: -1 },
    serves: 'listRuns by trigger, countRuns',
  },
  { collection: 'runs', name: 'punctual_owner_history', key: { owner: 1, scheduledFor: -1, _id: -1 }, serves: 'listRuns by owner' },
  { collection: 'runs', name: 'punctual_history', key: { scheduledFor: -1, _id: -1 }, serves: 'listRuns (admin view)' },
  {
    collection: 'runs',
    name: 'punctual_retention_ttl',
    key: { purgeAt: 1 },
    expireAfterSeconds: 0,
    serves: 'purgeExpiredRuns; TTL removal of final runs past retention',
  },
  LOCK_CLEANUP_INDEX,
  { collection: 'audit', name: 'punctual_audit_owner', key: { owner: 1, at: -1, _id: -1 }, serves: 'listAudit by owner' },
  { collection: 'audit', name: 'punctual_audit_trigger', key: { triggerId: 1, at: -1, _id: -1 }, serves: 'listAudit by trigger' },
  { collection: 'audit', name: 'punctual_audit_at', key: { at: -1, _id: -1 }, serves: 'listAudit (admin view)' },
];

const NAMESPACE_EXISTS = 48;

/** IndexOptionsConflict (85) and IndexKeySpecsConflict (86). */
const INDEX_CONFLICT_CODES = new Set([85, 86]);

/** How an index was made: as specified, or (a TTL index the server refused) as a plain index without expiry. */
export type IndexOutcome = 'created' | 'without-ttl';

/**
 * Creates one index; `createIndex` with the same name, keys and options is a no-op. A TTL
 * index the server refuses for a reason other than a conflict or an outage (some
 * MongoDB-compatible services take `expireAfterSeconds` on one field only, or not at all) is
 * created without expiry: TTL is cleanup only, and the store purges by query instead.
 */
export async function createIndex(db: Db, collection: string, spec: IndexSpec): Promise<IndexOutcome> {
  try {
    await createExactIndex(db, collection, spec);
    return 'created';
  } catch (error) {
    const cause = error instanceof StoreError ? error.cause : error;
    if (spec.expireAfterSeconds === undefined || isIndexConflict(cause) || classifyMongoError(cause) !== 'fatal') throw error;
    const { expireAfterSeconds: _ttl, ...plain } = spec;
    await createExactIndex(db, collection, plain);
    return 'without-ttl';
  }
}

function isIndexConflict(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'number' && INDEX_CONFLICT_CODES.has(code);
}

async function createExactIndex(db: Db, collection: string, spec: IndexSpec): Promise<void> {
  const options = { name: spec.name, ...(spec.expireAfterSeconds !== undefined ? { expireAfterSeconds: spec.expireAfterSeconds } : {}) };
  try {
    try {
      await db.collection(collection).createIndex({ ...spec.key }, options);
    } catch (error) {
      // Another process created the collection at the same moment (NamespaceExists): once more.
      if ((error as { code?: unknown } | null)?.code !== NAMESPACE_EXISTS) throw error;
      await db.collection(collection).createIndex({ ...spec.key }, options);
    }
  } catch (error) {
    if (isIndexConflict(error)) {
      const detail = error instanceof Error ? error.message : String(error);
      throw new StoreError(
        `Cannot create index "${spec.name}" on "${collection}": an index with the same name or keys but other options exists ` +
          `(${detail}). It was probably made by another punctual version or by hand: drop it ` +
          `(db.getCollection('${collection}').dropIndex('${spec.name}'), or the conflicting index the message names) and start again, ` +
          'or pass createIndexes: false and manage the indexes yourself (docs/mongodb.md lists them).',
        { cause: error },
      );
    }
    throw toStoreError(`createIndex ${spec.name} on ${collection}`, error);
  }
}

/**
 * Creates every index of {@link INDEXES} on the collections named by `names`. Idempotent. One
 * collection's indexes are created one after another (the first may create the collection);
 * collections in parallel. Returns the names of the TTL indexes made without expiry.
 */
export async function ensureAllIndexes(db: Db, names: Record<CollectionRole, string>): Promise<string[]> {
  const roles = Object.keys(COLLECTION_SUFFIXES) as CollectionRole[];
  const withoutTtl: string[] = [];
  await Promise.all(
    roles.map(async (role) => {
      for (const spec of INDEXES) {
        if (spec.collection === role && (await createIndex(db, names[role], spec)) === 'without-ttl') withoutTtl.push(spec.name);
      }
    }),
  );
  return withoutTtl;
}
