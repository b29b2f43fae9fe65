import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { Store, StoreChange } from '../../stores/types.js';
import {
  fixtureDate as at,
  makeAudit,
  makeRun,
  makeTrigger,
} from '../fixtures.js';
import { ids, type ContractContext } from './context.js';
import type { StoreContractOptions } from '../store-contract.js';

/** The audit trail, and optional capabilities such as change notifications. */
export function auditAndCapabilityContract(ctx: ContractContext, options: StoreContractOptions): void {
  let store: Store;
  beforeEach(() => {
    store = ctx.store;
  });

  describe('audit', () => {
    it('lists entries newest first, with filters, paging and totals', async () => {
      const e1 = makeAudit({ at: at(1_000), action: 'trigger.create', triggerId: 'trg-1', owner: 'owner-a' });
      const e2 = makeAudit({
        at: at(2_000), action: 'trigger.pause', triggerId: 'trg-1', owner: 'owner-a', details: { reason: 'holiday' },
      });
      const e3 = makeAudit({ at: at(3_000), action: 'trigger.create', triggerId: 'trg-2', owner: 'owner-b', actor: 'user-2' });
      const e4 = makeAudit({ at: at(4_000), action: 'run.cancel', triggerId: 'trg-1', owner: 'owner-a', runId: 'run-1' });
      for (const entry of [e2, e4, e1, e3]) await store.appendAudit(entry);
      const list = (query: Partial<Parameters<Store['listAudit']>[0]>) => store.listAudit({ limit: 50, offset: 0, ...query });
      const all = await list({});
      expect(all).toEqual({ items: [e4, e3, e2, e1], total: 4, limit: 50, offset: 0 });
      expect(ids((await list({ owner: 'owner-a' })).items)).toEqual([e4.id, e2.id, e1.id]);
      expect(ids((await list({ triggerId: 'trg-2' })).items)).toEqual([e3.id]);
      expect(ids((await list({ action: 'trigger.create' })).items)).toEqual([e3.id, e1.id]);
      expect(ids((await list({ owner: 'owner-a', action: 'run.cancel' })).items)).toEqual([e4.id]);
      expect(await list({ limit: 2, offset: 1 })).toMatchObject({ items: [e3, e2], total: 4, limit: 2, offset: 1 });
      expect(await list({ offset: 10 })).toEqual({ items: [], total: 4, limit: 50, offset: 10 });
    });

    it('stores every action, trigger.backfill included, and ignores a retried append', async () => {
      const actions = [
        'trigger.create', 'trigger.update', 'trigger.delete', 'trigger.pause', 'trigger.resume', 'trigger.run',
        'trigger.backfill', 'run.cancel',
      ] as const;
      const entries = actions.map((action, i) => makeAudit({ action, at: at(i * 1_000), details: { i } }));
      for (const entry of entries) await store.appendAudit(entry);
      const backfill = entries[6] as (typeof entries)[number];
      await store.appendAudit({ ...backfill, actor: 'someone-else' });
      expect((await store.listAudit({ limit: 50, offset: 0 })).items).toEqual([...entries].reverse());
      expect(await store.listAudit({ action: 'trigger.backfill', limit: 50, offset: 0 })).toEqual({
        items: [backfill], total: 1, limit: 50, offset: 0,
      });
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
