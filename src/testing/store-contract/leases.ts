import { beforeEach, describe, expect, it } from 'vitest';
import type { Store } from '../../stores/types.js';
import { fixtureDate as at, makeRun } from '../fixtures.js';
import { DAY, tokenOf, type ContractContext } from './context.js';

/** Lease renewal in batches: `renewLeases`. */
export function leaseContract(ctx: ContractContext): void {
  let store: Store;
  beforeEach(() => {
    store = ctx.store;
  });
  const { claim, completion } = ctx;

  describe('renewLeases', () => {
    it('renews every lease of a batch its token holds, answering each in input order', async () => {
      await ctx.insertRuns(...['a', 'b', 'c', 'd'].map((id) => makeRun({ id: `run-${id}` })));
      const [a, b, c, d] = await claim(at(0), 4);
      if (!a || !b || !c || !d) throw new Error('expected four claimed runs');
      expect(await store.finishRuns([completion(c, tokenOf(c))])).toEqual([true]);
      expect(await store.cancelRun(d.id, at(1_000), DAY)).toMatchObject({ cancelRequested: true });
      const answers = await store.renewLeases([
        { runId: a.id, token: tokenOf(a), expiresAt: at(60_000) },
        { runId: b.id, token: 'wrong-token', expiresAt: at(60_000) },
        { runId: c.id, token: tokenOf(c), expiresAt: at(60_000) },
        { runId: 'missing', token: tokenOf(a), expiresAt: at(60_000) },
        { runId: d.id, token: tokenOf(d), expiresAt: at(70_000) },
      ]);
      expect(answers).toEqual([
        { held: true, cancelRequested: false },
        { held: false, cancelRequested: false },
        { held: false, cancelRequested: false },
        { held: false, cancelRequested: false },
        { held: true, cancelRequested: true },
      ]);
      expect((await store.getRun(a.id))?.lease?.expiresAt).toEqual(at(60_000));
      expect(await store.getRun(b.id)).toEqual(b);
      expect((await store.getRun(c.id))?.lease).toBeNull();
      expect((await store.getRun(d.id))?.lease?.expiresAt).toEqual(at(70_000));
    });

    it('answers an empty batch with nothing, and a repeat as its first occurrence', async () => {
      expect(await store.renewLeases([])).toEqual([]);
      const run = await ctx.claimed();
      const renewal = { runId: run.id, token: tokenOf(run), expiresAt: at(60_000) };
      expect(await store.renewLeases([renewal, { ...renewal, expiresAt: at(90_000) }, { ...renewal, token: 'other' }])).toEqual([
        { held: true, cancelRequested: false },
        { held: true, cancelRequested: false },
        { held: false, cancelRequested: false },
      ]);
      expect((await store.getRun(run.id))?.lease?.expiresAt).toEqual(at(60_000));
    });

    it('keeps a renewed lease from being taken over until the new expiry', async () => {
      const run = await ctx.claimed();
      await store.renewLeases([{ runId: run.id, token: tokenOf(run), expiresAt: at(60_000) }]);
      const takeOver = (now: Date) => store.claimExpiredLeases({ now, instanceId: 'instance-2', token: 'takeover', leaseMs: 30_000, limit: 10 });
      expect(await takeOver(at(59_999))).toEqual([]);
      expect(await takeOver(at(60_000))).toHaveLength(1);
      expect(await store.renewLeases([{ runId: run.id, token: tokenOf(run), expiresAt: at(90_000) }])).toEqual([{ held: false, cancelRequested: false }]);
    });
  });
}
