import { beforeEach, describe, expect, it } from 'vitest';
import type { Store } from '../../stores/types.js';
import type { RunRecord, TriggerRecord } from '../../types.js';
import { fixtureDate as at, makeSlotFire as slot, makeSlotRun as slotRun, makeTrigger, makeTriggerWrite as bump } from '../fixtures.js';
import { DAY, type ContractContext } from './context.js';

/** fireSlots: a slot's run created and its trigger advanced exactly once, whatever races or retries. */
export function fireSlotContract(ctx: ContractContext): void {
  describe('fireSlots', () => {
    fireCases(ctx);
    fireOutcomeCases(ctx);
    fireBatchCases(ctx);
  });
}

/** Firing: the run created (pending, or held at fire) and the trigger advanced; a retried fire. */
function fireCases(ctx: ContractContext): void {
  let store: Store;
  beforeEach(() => {
    store = ctx.store;
  });

  it('fires a slot: creates its run and advances the trigger', async () => {
    const trigger = makeTrigger({ nextFireAt: at(0) });
    await store.insertTrigger(trigger);
    const fire = slot(trigger, slotRun(trigger));
    expect(await store.fireSlots([fire])).toEqual(['fired']);
    expect(await store.getTrigger(trigger.id)).toEqual(fire.next);
    expect(await store.getRun((fire.run as RunRecord).id)).toEqual(fire.run);
  });

  it('creates a run already claimed by the firing instance, as given, and holds it under that lease', async () => {
    const trigger = makeTrigger({ nextFireAt: at(0) });
    await store.insertTrigger(trigger);
    const pending = slotRun(trigger);
    const lease = { token: 'fire-token', instanceId: 'firing-instance', expiresAt: at(30_000) };
    const claimed: RunRecord = { ...pending, status: 'running', attempt: 1, startedAt: at(0), instanceId: 'firing-instance', lease };
    expect(await store.fireSlots([slot(trigger, claimed)])).toEqual(['fired']);
    expect(await store.getRun(claimed.id)).toEqual(claimed);
    // Nobody else can claim it, its lease renews and its outcome is written under the token.
    expect(await store.claimRuns({ now: at(1_000), instanceId: 'other', token: 'other-token', leaseMs: 30_000, limit: 10 })).toEqual([]);
    expect(await ctx.renew(claimed.id, 'fire-token', at(40_000))).toEqual({ held: true, cancelRequested: false });
    expect(await store.finishRuns([{ runId: claimed.id, token: 'fire-token', status: 'completed', finishedAt: at(2_000), durationMs: 2_000, expiresAt: at(DAY) }])).toEqual([true]);
    expect(await store.getRun(claimed.id)).toMatchObject({ status: 'completed', attempt: 1, lease: null });
  });

  it('reports fired for a retry of a fire already written: its run held under the fire\'s token, the trigger at next', async () => {
    const trigger = makeTrigger({ nextFireAt: at(0) });
    await store.insertTrigger(trigger);
    const lease = { token: 'fire-token', instanceId: 'firing-instance', expiresAt: at(30_000) };
    const claimed: RunRecord = { ...slotRun(trigger), status: 'running', attempt: 1, startedAt: at(0), instanceId: 'firing-instance', lease };
    const fire = slot(trigger, claimed);
    expect(await store.fireSlots([fire])).toEqual(['fired']);
    // The same fire again (its first answer lost): still fired, nothing written twice.
    expect(await store.fireSlots([fire])).toEqual(['fired']);
    expect(await store.getTrigger(trigger.id)).toEqual(fire.next);
    expect(await ctx.countOf(trigger.id, 'running')).toBe(1);
    // Another instance's fire of the same slot, under another token, is a duplicate.
    const other: RunRecord = { ...claimed, lease: { ...lease, token: 'other-token' } };
    expect(await store.fireSlots([slot(trigger, other)])).toEqual(['duplicate']);
  });
}

/** No run, duplicate and stale outcomes. */
function fireOutcomeCases(ctx: ContractContext): void {
  let store: Store;
  beforeEach(() => {
    store = ctx.store;
  });
  const { insertRuns } = ctx;

  it('advances the trigger without a run when run is null', async () => {
    const trigger = makeTrigger({ nextFireAt: at(0) });
    await store.insertTrigger(trigger);
    const fire = slot(trigger, null);
    expect(await store.fireSlots([fire])).toEqual(['fired']);
    expect(await store.getTrigger(trigger.id)).toEqual(fire.next);
    expect(await ctx.countOf(trigger.id, 'pending')).toBe(0);
    expect(await ctx.countOf(trigger.id, 'skipped')).toBe(0);
  });

  it('reports duplicate when the run exists, still advancing a trigger at the expected version', async () => {
    const trigger = makeTrigger({ nextFireAt: at(0) });
    await store.insertTrigger(trigger);
    const existing = slotRun(trigger, { payload: { first: true } });
    await insertRuns(existing);
    const fire = slot(trigger, slotRun(trigger, { payload: { first: false } }));
    expect(await store.fireSlots([fire])).toEqual(['duplicate']);
    expect(await store.getTrigger(trigger.id)).toEqual(fire.next);
    expect(await store.getRun(existing.id)).toEqual(existing);
  });

  it('reports stale when the trigger moved on or is gone, writing nothing', async () => {
    const trigger = makeTrigger({ nextFireAt: at(0) });
    await store.insertTrigger(trigger);
    const edited = bump(trigger, { payload: { edited: true } });
    await store.updateTrigger(edited);
    const fire = slot(trigger, slotRun(trigger));
    expect(await store.fireSlots([fire])).toEqual(['stale']);
    expect(await store.getTrigger(trigger.id)).toEqual(edited.next);
    expect(await store.getRun((fire.run as RunRecord).id)).toBeNull();
    const ghost = makeTrigger({ nextFireAt: at(0) });
    const ghostFire = slot(ghost, slotRun(ghost));
    expect(await store.fireSlots([ghostFire])).toEqual(['stale']);
    expect(await store.getRun((ghostFire.run as RunRecord).id)).toBeNull();
    expect(await store.getTrigger(ghost.id)).toBeNull();
  });

  it('reports duplicate when the trigger moved on but the run exists', async () => {
    const trigger = makeTrigger({ nextFireAt: at(0) });
    await store.insertTrigger(trigger);
    const fire = slot(trigger, slotRun(trigger));
    expect(await store.fireSlots([fire])).toEqual(['fired']);
    expect(await store.fireSlots([fire])).toEqual(['duplicate']);
    expect(await store.getTrigger(trigger.id)).toEqual(fire.next);
    expect(await ctx.countOf(trigger.id, 'pending')).toBe(1);
  });
}

/** Batches in input order, and racing instances. */
function fireBatchCases(ctx: ContractContext): void {
  let store: Store;
  beforeEach(() => {
    store = ctx.store;
  });
  const { insertTriggers, insertRuns } = ctx;

  it('answers a batch in input order', async () => {
    const [t1, t2, t3] = [0, 1, 2].map(() => makeTrigger({ nextFireAt: at(0) })) as [TriggerRecord, TriggerRecord, TriggerRecord];
    await insertTriggers(t1, t2, t3);
    await store.updateTrigger(bump(t3));
    await insertRuns(slotRun(t3));
    const ghost = makeTrigger({ nextFireAt: at(0) });
    const fires = [slot(t1, slotRun(t1)), slot(ghost, slotRun(ghost)), slot(t2, null), slot(t3, slotRun(t3))];
    expect(await store.fireSlots(fires)).toEqual(['fired', 'stale', 'fired', 'duplicate']);
    expect((await store.getTrigger(t2.id))?.version).toBe(2);
    expect(await store.fireSlots([])).toEqual([]);
  });

  it('fires each slot exactly once when instances race', async () => {
    let trigger = makeTrigger({ nextFireAt: at(0) });
    await store.insertTrigger(trigger);
    for (let round = 1; round <= 3; round++) {
      const attempts = Array.from({ length: 8 }, () => store.fireSlots([slot(trigger, slotRun(trigger))]));
      const results = (await Promise.all(attempts)).flat();
      expect(results.filter((r) => r === 'fired')).toHaveLength(1);
      expect(results.every((r) => r === 'fired' || r === 'duplicate' || r === 'stale')).toBe(true);
      expect(await ctx.countOf(trigger.id, 'pending')).toBe(round);
      trigger = (await store.getTrigger(trigger.id)) as TriggerRecord;
      expect(trigger).toMatchObject({ version: round + 1, runCount: round });
    }
  });
}
