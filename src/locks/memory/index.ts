export { MemoryLockStore, memoryLockStore } from './memory-lock-store.js';
