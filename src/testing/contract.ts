/**
 * `punctual/testing/contract`: the contract suites every store and lock store must pass, as
 * vitest suites (vitest is an optional peer dependency: only this entry needs it).
 */
export { storeContract } from './store-contract.js';
export type { StoreFactory, StoreContractOptions } from './store-contract.js';
export { lockStoreContract } from './lock-store-contract.js';
export type { LockStoreFactory } from './lock-store-contract.js';
