export { TestClock, settle } from './test-clock.js';
export { storeContract } from './store-contract.js';
export type { StoreFactory, StoreContractOptions } from './store-contract.js';
export { lockStoreContract } from './lock-store-contract.js';
export type { LockStoreFactory } from './lock-store-contract.js';
export { makeTrigger, makeRun, makeAudit, makeTriggerWrite, makeSlotRun, makeSlotFire, fixtureDate, fixtureId } from './fixtures.js';
