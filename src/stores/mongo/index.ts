export { MongoStore, mongoStore } from './mongo-store.js';
export type { MongoStoreOptions } from './mongo-store.js';
export { classifyMongoError } from './errors.js';
export type { MongoErrorClass } from './errors.js';
export { INDEXES, DEFAULT_COLLECTION_PREFIX, collectionNames } from './indexes.js';
export type { IndexSpec, CollectionRole } from './indexes.js';
