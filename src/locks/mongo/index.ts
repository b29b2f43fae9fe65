export { MongoLockStore, mongoLockStore } from './mongo-lock-store.js';
export type { MongoLockStoreOptions } from './mongo-lock-store.js';
