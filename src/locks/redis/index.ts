export { RedisLockStore, redisLockStore } from './redis-lock-store.js';
export type { RedisLockStoreOptions } from './redis-lock-store.js';
