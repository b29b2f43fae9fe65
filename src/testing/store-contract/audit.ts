import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { Store, StoreChange } from '../../stores/types.js';
import {
  fixtureDate as at,
  makeAudit,
  makeRun,
  makeTrigger,
} from '../fixtures.js';
import type { ContractContext } from './context.js';
import type { StoreContractOptions } from '../store-contract.js';

/** The audit trail, and optional capabilities such as change notifications. */
export function auditAndCapabilityContract(ctx: ContractContext, options: StoreContractOptions): void {
  let store: Store;
  beforeEach(() => {
    store = ctx.store;
  });

  describe('audit', () => {
    it('stores every action, trigger.backfill included, and ignores a retried append', async () => {
      const actions = [
        'trigger.create', 'trigger.update', 'trigger.delete', 'trigger.pause', 'trigger.resume', 'trigger.run',
        'trigger.backfill', 'run.cancel',
      ] as const;
      const entries = actions.map((action, i) => makeAudit({ action, at: at(i * 1_000), details: { i } }));
      for (const entry of entries) await store.appendAudit(entry);
      const backfill = entries[6] as (typeof entries)[number];
      await store.appendAudit({ ...backfill, actor: 'someone-else' });
      expect(await store.listAudit({ limit: 50 })).toEqual([...entries].reverse());
      expect(await store.listAudit({ action: 'trigger.backfill', limit: 50 })).toEqual([backfill]);
    });
  });

  describe('capabilities', () => {
    it.runIf(options.capabilities?.notify === true)('notify: subscribers hear of trigger and run changes', async () => {
      const changes: StoreChange[] = [];
      const subscribe = store.subscribe?.bind(store);
      if (!subscribe) throw new Error('a store with the notify capability must implement subscribe()');
      const unsubscribe = await subscribe((change) => changes.push(change));
      expect(unsubscribe, 'subscribe() resolved to null: this deployment cannot notify').toBeTypeOf('function');
      try {
        await store.insertTrigger(makeTrigger());
        await vi.waitFor(() => expect(changes.some((c) => c.kind === 'trigger')).toBe(true), { timeout: 10_000, interval: 20 });
        await store.insertRuns([makeRun()]);
        await vi.waitFor(() => expect(changes.some((c) => c.kind === 'run')).toBe(true), { timeout: 10_000, interval: 20 });
      } finally {
        await unsubscribe?.();
      }
    });
  });
}
