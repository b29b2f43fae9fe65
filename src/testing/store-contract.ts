import { afterEach, beforeEach, describe } from 'vitest';
import type { Store } from '../stores/types.js';
import { auditAndCapabilityContract } from './store-contract/audit.js';
import { makeContext } from './store-contract/context.js';
import { jsonContract } from './store-contract/json.js';
import { leaseContract } from './store-contract/leases.js';
import { listingContract } from './store-contract/listing.js';
import { deployContract } from './store-contract/deploys.js';
import { runContract } from './store-contract/runs.js';
import { triggerContract } from './store-contract/triggers.js';

/** Makes a fresh, empty store for one test; `cleanup` (if any) runs after the test. */
export type StoreFactory = () => Promise<{ store: Store; cleanup?: () => Promise<void> }>;

export interface StoreContractOptions {
  /** What the store can do beyond the required methods; tests of missing capabilities are skipped. */
  capabilities?: {
    /** `subscribe` delivers changes (made through any store object on the same data, this one included). */
    notify?: boolean;
  };
}

/**
 * Registers the vitest suite every {@link Store} must pass. Each test gets a fresh store from
 * `factory`, calls `init()`, and runs `cleanup` afterwards. Only the `Store` interface is used,
 * so the suite runs unchanged against any implementation.
 * @example
 * // test/stores/my-store.test.ts
 * storeContract('my-store', async () => {
 *   const db = await createTestDatabase();
 *   return { store: myStore({ db }), cleanup: () => db.drop() };
 * }, { capabilities: { notify: true } });
 */
export function storeContract(name: string, factory: StoreFactory, options: StoreContractOptions = {}): void {
  describe(`Store contract: ${name}`, () => {
    let store: Store;
    let cleanup: (() => Promise<void>) | undefined;

    beforeEach(async () => {
      const made = await factory();
      store = made.store;
      cleanup = made.cleanup;
      await store.init();
    });

    afterEach(async () => {
      await cleanup?.();
      cleanup = undefined;
    });

    const ctx = makeContext(() => store);
    triggerContract(ctx);
    runContract(ctx);
    leaseContract(ctx);
    listingContract(ctx);
    auditAndCapabilityContract(ctx, options);
    deployContract(ctx);
    jsonContract(ctx);
  });
}
