import { beforeEach, describe, expect, it } from 'vitest';
import type { Store } from '../../stores/types.js';
import type { RunRecord, TriggerRecord } from '../../types.js';
import {
  fixtureDate as at,
  makeSlotFire as slot,
  makeSlotRun as slotRun,
  makeTrigger,
  makeTriggerWrite as bump,
} from '../fixtures.js';
import { CONFLICT, DAY, eventTrigger, ids, type ContractContext } from './context.js';

/** Triggers: lifecycle, CRUD with compare-and-set, due and event lookups, firing slots. */
export function triggerContract(ctx: ContractContext): void {
  let store: Store;
  beforeEach(() => {
    store = ctx.store;
  });
  const { insertTriggers, insertRuns } = ctx;

  describe('lifecycle', () => {
    it('init is idempotent and ping resolves', async () => {
      await store.init();
      await store.ping();
      expect(typeof store.kind).toBe('string');
    });
  });

  describe('triggers', () => {
    it('inserts and gets a trigger, as a copy both ways', async () => {
      const trigger = makeTrigger({ retry: { maxRetries: 2 }, timeoutMs: 5_000, metadata: { tags: ['a'] } });
      const expected = structuredClone(trigger);
      await store.insertTrigger(trigger);
      trigger.name = 'mutated-input';
      const got = (await store.getTrigger(trigger.id)) as TriggerRecord;
      expect(got).toEqual(expected);
      got.name = 'mutated-output';
      (got.metadata as { tags: string[] }).tags.push('b');
      expect(await store.getTrigger(trigger.id)).toEqual(expected);
    });

    it('round-trips timing, auto-pause, an event schedule with filter and debounce, and every overlap policy', async () => {
      const trigger = eventTrigger('user.signup', {
        schedule: {
          kind: 'event',
          event: 'user.signup',
          filter: { 'user.plan': ['pro', 'team', null], country: 'FR', beta: true, referrer: null, seats: 3 },
          debounceMs: 5_000,
        },
        timing: {
          startAt: at(1_000).toISOString(),
          endAt: at(DAY).toISOString(),
          maxRuns: 10,
          jitterMs: 250,
          calendars: ['holidays', 'weekends'],
        },
        autoPause: { afterFailures: 3, consecutiveFailures: 1 },
        overlap: 'cancel-previous',
      });
      const expected = structuredClone(trigger);
      await store.insertTrigger(trigger);
      (trigger.timing?.calendars as string[]).push('mutated-input');
      const got = (await store.getTrigger(trigger.id)) as TriggerRecord;
      expect(got).toEqual(expected);
      (got.autoPause as { consecutiveFailures: number }).consecutiveFailures = 99;
      expect(await store.getTrigger(trigger.id)).toEqual(expected);
      expect(await store.listTriggers({ sort: 'createdAt', order: 'asc', limit: 50 })).toEqual([expected]);
      expect(await store.findEventTriggers('user.signup', 10, 0)).toEqual([expected]);

      const next = { ...expected, autoPause: { afterFailures: 3, consecutiveFailures: 2 }, version: 2 };
      delete next.timing;
      expect(await store.updateTrigger({ id: trigger.id, expectedVersion: 1, next })).toBe(true);
      const updated = (await store.getTrigger(trigger.id)) as TriggerRecord;
      expect(updated).toEqual(next);
      expect('timing' in updated).toBe(false);
      const bare = makeTrigger();
      await store.insertTrigger(bare);
      const gotBare = (await store.getTrigger(bare.id)) as TriggerRecord;
      expect('timing' in gotBare || 'autoPause' in gotBare).toBe(false);
      for (const overlap of ['queue', 'allow', 'skip'] as const) {
        const other = makeTrigger({ overlap });
        await store.insertTrigger(other);
        expect(await store.getTrigger(other.id)).toEqual(other);
      }
    });

    it('scopes getTrigger by owner and answers null for a missing id', async () => {
      const trigger = makeTrigger({ owner: 'owner-a' });
      await store.insertTrigger(trigger);
      expect(await store.getTrigger(trigger.id, 'owner-a')).toEqual(trigger);
      expect(await store.getTrigger(trigger.id, 'owner-b')).toBeNull();
      expect(await store.getTrigger('missing')).toBeNull();
    });

    it('refuses a duplicate id with ConflictError', async () => {
      const trigger = makeTrigger();
      await store.insertTrigger(trigger);
      await expect(store.insertTrigger({ ...trigger, name: 'other-name' })).rejects.toMatchObject(CONFLICT);
      expect(await store.getTrigger(trigger.id)).toEqual(trigger);
    });

    it('keeps names unique per owner only', async () => {
      await store.insertTrigger(makeTrigger({ owner: 'owner-a', name: 'report' }));
      await expect(store.insertTrigger(makeTrigger({ owner: 'owner-a', name: 'report' }))).rejects.toMatchObject(CONFLICT);
      await store.insertTrigger(makeTrigger({ owner: 'owner-b', name: 'report' }));
      const listed = await store.listTriggers({ name: 'report', sort: 'createdAt', order: 'asc', limit: 50 });
      expect(listed.map((t) => t.owner).sort()).toEqual(['owner-a', 'owner-b']);
    });

    it('updates by compare-and-set on version', async () => {
      const trigger = makeTrigger();
      await store.insertTrigger(trigger);
      const write = bump(trigger, { payload: { v: 2 }, updatedAt: at(1_000) });
      expect(await store.updateTrigger(write)).toBe(true);
      expect(await store.getTrigger(trigger.id)).toEqual(write.next);
      expect(await store.updateTrigger(bump(trigger, { payload: { v: 3 } }))).toBe(false);
      expect(await store.getTrigger(trigger.id)).toEqual(write.next);
      expect(await store.updateTrigger(bump(makeTrigger()))).toBe(false);
      expect(await store.updateTrigger(bump(write.next, { status: 'paused' }))).toBe(true);
      expect(await store.getTrigger(trigger.id)).toMatchObject({ version: 3, status: 'paused', payload: { v: 2 } });
    });

    it('refuses a rename onto a name its owner uses, and frees the old name', async () => {
      const alpha = makeTrigger({ owner: 'owner-a', name: 'alpha' });
      const beta = makeTrigger({ owner: 'owner-a', name: 'beta' });
      await insertTriggers(alpha, beta, makeTrigger({ owner: 'owner-b', name: 'gamma' }));
      await expect(store.updateTrigger(bump(beta, { name: 'alpha' }))).rejects.toMatchObject(CONFLICT);
      expect(await store.getTrigger(beta.id)).toEqual(beta);
      expect(await store.updateTrigger(bump(beta, { name: 'gamma' }))).toBe(true);
      expect(await store.updateTrigger(bump(alpha, { name: 'delta' }))).toBe(true);
      await store.insertTrigger(makeTrigger({ owner: 'owner-a', name: 'alpha' }));
      await expect(store.insertTrigger(makeTrigger({ owner: 'owner-a', name: 'delta' }))).rejects.toMatchObject(CONFLICT);
    });

    it('deletes, optionally only at an expected version, and frees the name', async () => {
      const trigger = makeTrigger({ name: 'to-delete' });
      const other = makeTrigger();
      await insertTriggers(trigger, other);
      expect(await store.deleteTrigger(trigger.id, 2)).toBe(false);
      expect(await store.getTrigger(trigger.id)).toEqual(trigger);
      expect(await store.deleteTrigger(trigger.id, 1)).toBe(true);
      expect(await store.getTrigger(trigger.id)).toBeNull();
      expect(await store.deleteTrigger(trigger.id)).toBe(false);
      expect(await store.deleteTrigger(other.id)).toBe(true);
      await store.insertTrigger(makeTrigger({ name: 'to-delete' }));
      expect(await store.listTriggers({ sort: 'createdAt', order: 'asc', limit: 50 })).toHaveLength(1);
    });
  });

  describe('findDueTriggers', () => {
    it('returns active triggers due by `until`, earliest first, at most `limit`', async () => {
      const early = makeTrigger({ nextFireAt: at(7_000) });
      const middle = makeTrigger({ nextFireAt: at(9_000) });
      const exact = makeTrigger({ nextFireAt: at(10_000) });
      const later = makeTrigger({ nextFireAt: at(10_001) });
      const paused = makeTrigger({ status: 'paused', nextFireAt: at(1_000) });
      const completed = makeTrigger({ status: 'completed', nextFireAt: null });
      const manual = makeTrigger({ schedule: { kind: 'manual' }, nextFireAt: null });
      await insertTriggers(later, exact, paused, middle, completed, early, manual);
      expect(ids(await store.findDueTriggers(at(10_000), 10))).toEqual([early.id, middle.id, exact.id]);
      expect(await store.findDueTriggers(at(10_000), 2)).toEqual([early, middle]);
      expect(ids(await store.findDueTriggers(at(10_000), 10))).toHaveLength(3);
      expect(await store.findDueTriggers(at(6_999), 10)).toEqual([]);
    });

    it('follows updates, fires and deletes', async () => {
      const a = makeTrigger({ nextFireAt: at(1_000) });
      const b = makeTrigger({ nextFireAt: at(2_000) });
      const c = makeTrigger({ nextFireAt: at(3_000) });
      await insertTriggers(a, b, c);
      const movedA = bump(a, { nextFireAt: at(5_000) });
      await store.updateTrigger(movedA);
      expect(ids(await store.findDueTriggers(at(4_000), 10))).toEqual([b.id, c.id]);
      await store.updateTrigger(bump(b, { status: 'paused' }));
      expect(ids(await store.findDueTriggers(at(4_000), 10))).toEqual([c.id]);
      await store.deleteTrigger(c.id);
      expect(await store.findDueTriggers(at(4_000), 10)).toEqual([]);
      expect(ids(await store.findDueTriggers(at(6_000), 10))).toEqual([a.id]);
      expect(await store.fireSlots([slot(movedA.next, slotRun(movedA.next))])).toEqual(['fired']);
      expect(await store.findDueTriggers(at(6_000), 10)).toEqual([]);
      expect(ids(await store.findDueTriggers(at(65_000), 10))).toEqual([a.id]);
    });
  });

  describe('findEventTriggers', () => {
    it('returns only the active triggers of that event, by createdAt then id, paged', async () => {
      const first = eventTrigger('user.signup', { id: 'trg-evt-1', createdAt: at(1_000), owner: 'owner-b' });
      const tieA = eventTrigger('user.signup', { id: 'trg-evt-2a', createdAt: at(2_000) });
      const tieB = eventTrigger('user.signup', {
        id: 'trg-evt-2b',
        createdAt: at(2_000),
        schedule: { kind: 'event', event: 'user.signup', filter: { plan: 'pro' }, debounceMs: 1_000 },
      });
      const last = eventTrigger('user.signup', { id: 'trg-evt-3', createdAt: at(3_000), owner: 'owner-c' });
      const others = [
        eventTrigger('user.signup', { id: 'trg-evt-paused', createdAt: at(0), status: 'paused' }),
        eventTrigger('user.signup', { id: 'trg-evt-completed', createdAt: at(0), status: 'completed' }),
        eventTrigger('user.signup.v2', { id: 'trg-evt-longer', createdAt: at(0) }),
        eventTrigger('user', { id: 'trg-evt-shorter', createdAt: at(0) }),
        eventTrigger('User.Signup', { id: 'trg-evt-case', createdAt: at(0) }),
        makeTrigger({ id: 'trg-evt-interval', createdAt: at(0) }),
        makeTrigger({ id: 'trg-evt-manual', createdAt: at(0), schedule: { kind: 'manual' }, nextFireAt: null }),
      ];
      await insertTriggers(last, others[0] as TriggerRecord, tieB, ...others.slice(1), first, tieA);
      const find = (limit: number, offset: number) => store.findEventTriggers('user.signup', limit, offset);
      expect(await find(10, 0)).toEqual([first, tieA, tieB, last]);
      expect(ids(await find(2, 0))).toEqual([first.id, tieA.id]);
      expect(ids(await find(2, 1))).toEqual([tieA.id, tieB.id]);
      expect(ids(await find(2, 2))).toEqual([tieB.id, last.id]);
      expect(ids(await find(10, 3))).toEqual([last.id]);
      expect(await find(10, 4)).toEqual([]);
      expect(ids(await store.findEventTriggers('user.signup.v2', 10, 0))).toEqual(['trg-evt-longer']);
      expect(ids(await store.findEventTriggers('User.Signup', 10, 0))).toEqual(['trg-evt-case']);
      expect(await store.findEventTriggers('order.paid', 10, 0)).toEqual([]);
      const got = (await find(1, 0))[0] as TriggerRecord;
      got.name = 'mutated-output';
      expect(await find(1, 0)).toEqual([first]);
    });

    it('follows renamed events, pauses, resumes, schedule changes, fires and deletes', async () => {
      const a = eventTrigger('order.paid', { createdAt: at(1_000) });
      const b = eventTrigger('order.paid', { createdAt: at(2_000) });
      const c = eventTrigger('order.paid', { createdAt: at(3_000) });
      const d = eventTrigger('order.paid', { createdAt: at(4_000) });
      const e = makeTrigger({ createdAt: at(5_000) });
      await insertTriggers(a, b, c, d, e);
      const paid = async () => ids(await store.findEventTriggers('order.paid', 10, 0));
      expect(await paid()).toEqual([a.id, b.id, c.id, d.id]);

      const renamed = bump(a, { schedule: { kind: 'event', event: 'order.refunded' } });
      expect(await store.updateTrigger(renamed)).toBe(true);
      expect(await paid()).toEqual([b.id, c.id, d.id]);
      expect(await store.findEventTriggers('order.refunded', 10, 0)).toEqual([renamed.next]);

      const paused = bump(b, { status: 'paused', pausedReason: 'holiday' });
      expect(await store.updateTrigger(paused)).toBe(true);
      expect(await paid()).toEqual([c.id, d.id]);
      const resumed = bump(paused.next, { status: 'active' });
      delete resumed.next.pausedReason;
      expect(await store.updateTrigger(resumed)).toBe(true);
      expect(await paid()).toEqual([b.id, c.id, d.id]);

      expect(await store.updateTrigger(bump(c, { schedule: { kind: 'manual' } }))).toBe(true);
      expect(await paid()).toEqual([b.id, d.id]);
      expect(await store.updateTrigger(bump(e, { schedule: { kind: 'event', event: 'order.paid' }, nextFireAt: null }))).toBe(true);
      expect(await paid()).toEqual([b.id, d.id, e.id]);

      const ending = slot(d, slotRun(d, { source: 'event' }));
      ending.next = { ...ending.next, status: 'completed', nextFireAt: null };
      expect(await store.fireSlots([ending])).toEqual(['fired']);
      expect(await paid()).toEqual([b.id, e.id]);
      const firing = slot(resumed.next, slotRun(resumed.next, { source: 'event' }));
      expect(await store.fireSlots([firing])).toEqual(['fired']);
      expect(await store.findEventTriggers('order.paid', 1, 0)).toEqual([firing.next]);

      expect(await store.deleteTrigger(b.id)).toBe(true);
      expect(await paid()).toEqual([e.id]);
      expect(await store.deleteTrigger(a.id)).toBe(true);
      expect(await store.findEventTriggers('order.refunded', 10, 0)).toEqual([]);
    });
  });

  describe('fireSlots', () => {
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
  });

}
