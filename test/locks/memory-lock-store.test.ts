import { memoryLockStore } from '../../src/locks/memory/memory-lock-store.js';
import { lockStoreContract } from '../../src/testing/lock-store-contract.js';

lockStoreContract('memory', async () => ({ store: memoryLockStore() }));
