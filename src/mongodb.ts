/**
 * `punctual/mongodb`: the MongoDB store and lock store, for callers who build them themselves
 * (`createScheduler({ store: mongoStore(db, options) })`). `createScheduler({ db })` needs no
 * import from here. Kept apart from the root entry so that the root type declarations do not
 * depend on the `mongodb` package: users of other stores need not install it.
 */
export { mongoStore, MongoStore, classifyMongoError, INDEXES, DEFAULT_COLLECTION_PREFIX, collectionNames } from './stores/mongo/index.js';
export type { MongoStoreOptions, MongoErrorClass, IndexSpec, CollectionRole } from './stores/mongo/index.js';
export { mongoLockStore, MongoLockStore } from './locks/mongo/index.js';
export type { MongoLockStoreOptions } from './locks/mongo/index.js';
