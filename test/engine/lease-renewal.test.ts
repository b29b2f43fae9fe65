/**
 * Lease renewal: every lease an instance holds is renewed in one store call per renewal tick
 * (leaseMs / 3); each run then learns its own answer: renewed, cancelled, or lost.
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { memoryStore, type Store } from 'punctual';
import type { LeaseRenewalRequest } from 'punctual/store';
import { TestClock } from 'punctual/testing';
import { SECOND, T0, testScheduler, untilAborted } from './helpers.js';

const LEASE_MS = 30 * SECOND;

/** A memory store that records each `renewLeases` batch. */
function countingStore(): { store: Store; batches: LeaseRenewalRequest[][] } {
  const store = memoryStore();
  const batches: LeaseRenewalRequest[][] = [];
  const renew = store.renewLeases.bind(store);
  store.renewLeases = (renewals) => {
    batches.push([...renewals]);
    return renew(renewals);
  };
  return { store, batches };
}

describe('lease renewal', () => {
  it('renews the leases of all running runs in one call, and aborts only the run cancelled elsewhere', async () => {
    const clock = new TestClock(T0);
    const { store, batches } = countingStore();
    const signals: AbortSignal[] = [];
    const handlers = { wait: { schema: z.object({}), run: (_p: object, ctx: { signal: AbortSignal }) => (signals.push(ctx.signal), untilAborted(ctx.signal)) } };
    const { scheduler: worker } = testScheduler({ clock, store, instanceId: 'worker', leaseMs: LEASE_MS, handlers });
    const { scheduler: api } = testScheduler({ clock, store, instanceId: 'api', leaseMs: LEASE_MS, handlers });
    await worker.start();
    try {
      const trigger = await api.triggers.create({ name: 'w', owner: 'u1', taskType: 'wait', payload: {}, schedule: { manual: true }, overlap: 'allow' });
      const runs = [];
      for (let i = 0; i < 3; i++) runs.push(await api.triggers.runNow(trigger.id));
      await clock.advance(SECOND);
      expect(signals).toHaveLength(3);
      await api.runs.cancel(runs[1]!.id);

      await clock.advance(LEASE_MS / 3);
      expect(batches).toHaveLength(1);
      expect(batches[0]!.map((r) => r.runId).sort()).toEqual(runs.map((r) => r.id).sort());
      // One expiry for the batch: the renewal tick plus leaseMs.
      const expiries = new Set(batches[0]!.map((r) => r.expiresAt.getTime()));
      expect(expiries.size).toBe(1);
      expect([...expiries][0]! - clock.now()).toBeGreaterThan(LEASE_MS / 2);
      expect(signals.map((s) => s.aborted).sort()).toEqual([false, false, true]);

      // The two still running keep their leases: no other instance can take them over.
      await clock.advance(LEASE_MS);
      expect(batches.length).toBeGreaterThanOrEqual(3);
      expect(batches.at(-1)).toHaveLength(2);
      expect(signals.filter((s) => s.aborted)).toHaveLength(1);
      for (const run of runs) {
        const stored = await api.runs.get(run.id);
        expect(stored.status).toBe(run.id === runs[1]!.id ? 'cancelled' : 'running');
      }
    } finally {
      await worker.stop({ graceMs: 0 });
    }
  });
});
