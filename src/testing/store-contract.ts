import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ClaimRequest, RunFinish, Store, StoreChange } from '../stores/types.js';
import type { AttemptRecord, RunRecord, TriggerRecord } from '../types.js';
import {
  fixtureDate as at,
  makeAudit,
  makeRun,
  makeSlotFire as slot,
  makeSlotRun as slotRun,
  makeTrigger,
  makeTriggerWrite as bump,
} from './fixtures.js';

/** Makes a fresh, empty store for one test; `cleanup` (if any) runs after the test. */
export type StoreFactory = () => Promise<{ store: Store; cleanup?: () => Promise<void> }>;

export interface StoreContractOptions {
  /** What the store can do beyond the required methods; tests of missing capabilities are skipped. */
  capabilities?: {
    /** `subscribe` delivers changes (made through any store object on the same data, this one included). */
    notify?: boolean;
  };
}

const DAY = 86_400_000;
const CONFLICT = { name: 'ConflictError', code: 'CONFLICT' };

const ids = (records: readonly { id: string }[]): string[] => records.map((r) => r.id);

/** An active trigger fired by the event `event` (no next slot). */
const eventTrigger = (event: string, overrides: Partial<TriggerRecord> = {}): TriggerRecord =>
  makeTrigger({ schedule: { kind: 'event', event }, nextFireAt: null, ...overrides });

function tokenOf(run: RunRecord | undefined): string {
  if (!run?.lease) throw new Error(`expected a leased run, got ${JSON.stringify(run)}`);
  return run.lease.token;
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
    let tokens = 0;

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

    const insertTriggers = async (...triggers: TriggerRecord[]): Promise<void> => {
      for (const trigger of triggers) await store.insertTrigger(trigger);
    };
    const insertRuns = async (...runs: RunRecord[]): Promise<void> => {
      expect(await store.insertRuns(runs)).toEqual(runs.map(() => true));
    };
    const claim = (now: Date, limit = 10, extra: Partial<ClaimRequest> = {}): Promise<RunRecord[]> =>
      store.claimRuns({ now, instanceId: 'instance-1', token: `token-${++tokens}`, leaseMs: 30_000, limit, ...extra });
    /** Inserts a run and claims it at its availableAt; the test must have no other claimable run. */
    const claimed = async (overrides: Partial<RunRecord> = {}): Promise<RunRecord> => {
      const run = makeRun(overrides);
      await insertRuns(run);
      const got = await claim(run.availableAt, 1);
      expect(ids(got)).toEqual([run.id]);
      return got[0] as RunRecord;
    };
    const completion = (run: RunRecord, token: string): Extract<RunFinish, { status: 'completed' }> => ({
      runId: run.id,
      token,
      status: 'completed',
      finishedAt: at(5_000),
      durationMs: 5_000,
      result: { sent: 3 },
      expiresAt: at(DAY),
    });

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
        expect((await store.listTriggers({ limit: 50, offset: 0 })).items).toEqual([expected]);
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
        const page = await store.listTriggers({ name: 'report', limit: 50, offset: 0 });
        expect(page.items.map((t) => t.owner).sort()).toEqual(['owner-a', 'owner-b']);
      });

      it('lists by createdAt then id, with filters, paging and totals', async () => {
        const a1 = makeTrigger({ id: 'trg-list-a1', owner: 'owner-a', createdAt: at(2_000), taskType: 'task-x' });
        const a2 = makeTrigger({ id: 'trg-list-a2', owner: 'owner-a', createdAt: at(1_000), status: 'paused', nextFireAt: null });
        const a3 = makeTrigger({ id: 'trg-list-a3', owner: 'owner-a', createdAt: at(1_000) });
        const b1 = makeTrigger({ id: 'trg-list-b1', owner: 'owner-b', createdAt: at(0), name: a1.name });
        await insertTriggers(a3, b1, a1, a2);
        const list = (query: Partial<Parameters<Store['listTriggers']>[0]>) =>
          store.listTriggers({ limit: 50, offset: 0, ...query });
        const all = await list({});
        expect(ids(all.items)).toEqual([b1.id, a2.id, a3.id, a1.id]);
        expect(all).toMatchObject({ total: 4, limit: 50, offset: 0 });
        expect(all.items[0]).toEqual(b1);
        expect(ids((await list({ owner: 'owner-a' })).items)).toEqual([a2.id, a3.id, a1.id]);
        expect(ids((await list({ status: 'paused' })).items)).toEqual([a2.id]);
        expect(ids((await list({ taskType: 'task-x' })).items)).toEqual([a1.id]);
        expect(ids((await list({ name: a1.name })).items)).toEqual([b1.id, a1.id]);
        expect(ids((await list({ name: a1.name, owner: 'owner-a' })).items)).toEqual([a1.id]);
        expect(await list({ owner: 'owner-c' })).toEqual({ items: [], total: 0, limit: 50, offset: 0 });
        const second = await list({ owner: 'owner-a', limit: 1, offset: 1 });
        expect(ids(second.items)).toEqual([a3.id]);
        expect(second).toMatchObject({ total: 3, limit: 1, offset: 1 });
        expect(await list({ owner: 'owner-a', limit: 2, offset: 2 })).toMatchObject({ items: [a1], total: 3 });
        expect(await list({ owner: 'owner-a', offset: 10 })).toEqual({ items: [], total: 3, limit: 50, offset: 10 });
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
        expect((await store.listTriggers({ limit: 50, offset: 0 })).total).toBe(1);
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

      it('advances the trigger without a run when run is null', async () => {
        const trigger = makeTrigger({ nextFireAt: at(0) });
        await store.insertTrigger(trigger);
        const fire = slot(trigger, null);
        expect(await store.fireSlots([fire])).toEqual(['fired']);
        expect(await store.getTrigger(trigger.id)).toEqual(fire.next);
        expect(await store.countRuns(trigger.id, ['pending', 'skipped'])).toBe(0);
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
        expect(await store.countRuns(trigger.id, ['pending'])).toBe(1);
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
          expect(await store.countRuns(trigger.id, ['pending'])).toBe(round);
          trigger = (await store.getTrigger(trigger.id)) as TriggerRecord;
          expect(trigger).toMatchObject({ version: round + 1, runCount: round });
        }
      });
    });

    describe('runs', () => {
      it('inserts runs, reporting existing ids as false without overwriting them', async () => {
        const a = makeRun();
        const b = makeRun();
        expect(await store.insertRuns([a])).toEqual([true]);
        expect(await store.insertRuns([{ ...a, payload: { changed: true } }, b])).toEqual([false, true]);
        expect(await store.getRun(a.id)).toEqual(a);
        expect(await store.getRun(b.id)).toEqual(b);
        expect(await store.insertRuns([])).toEqual([]);
      });

      it('gets a run scoped by owner, as a copy both ways', async () => {
        const run = makeRun({
          owner: 'owner-a',
          source: 'event',
          event: { name: 'user.signup', data: { userId: 'u1' }, publishedAt: at(-1_000) },
        });
        const expected = structuredClone(run);
        await insertRuns(run);
        run.priority = 99;
        const got = (await store.getRun(run.id, 'owner-a')) as RunRecord;
        expect(got).toEqual(expected);
        got.status = 'completed';
        got.attempts.push({ attempt: 1, instanceId: 'x', startedAt: at(), finishedAt: at(), outcome: 'completed' });
        expect(await store.getRun(run.id)).toEqual(expected);
        expect(await store.getRun(run.id, 'owner-b')).toBeNull();
        expect(await store.getRun('missing')).toBeNull();
      });

      it('keeps pauseAfterFailures and the cancel-previous policy through claims and finishes', async () => {
        const run = makeRun({ pauseAfterFailures: 3, overlap: 'cancel-previous' });
        await insertRuns(run);
        expect(await store.getRun(run.id)).toEqual(run);
        const [held] = await claim(run.availableAt, 1);
        expect(held).toMatchObject({ id: run.id, pauseAfterFailures: 3, overlap: 'cancel-previous' });
        expect(await store.finishRuns([completion(held as RunRecord, tokenOf(held))])).toEqual([true]);
        expect(await store.getRun(run.id)).toMatchObject({ status: 'completed', pauseAfterFailures: 3, overlap: 'cancel-previous' });
        const bare = makeRun();
        await insertRuns(bare);
        expect('pauseAfterFailures' in ((await store.getRun(bare.id)) as RunRecord)).toBe(false);
      });

      it('lists newest scheduledFor first, then id descending, with filters, paging and totals', async () => {
        const base = { triggerId: 'trg-l1', owner: 'owner-a' };
        const r1 = makeRun({ ...base, id: 'run-list-1', scheduledFor: at(1_000) });
        const r2 = makeRun({ ...base, id: 'run-list-2', scheduledFor: at(3_000), status: 'completed', source: 'manual' });
        const r3 = makeRun({ ...base, id: 'run-list-3', scheduledFor: at(3_000), status: 'failed' });
        const r4 = makeRun({
          id: 'run-list-4', triggerId: 'trg-l2', owner: 'owner-b', scheduledFor: at(2_000), source: 'event', taskType: 'task-b',
        });
        await insertRuns(r2, r4, r1, r3);
        const list = (query: Partial<Parameters<Store['listRuns']>[0]>) => store.listRuns({ limit: 50, offset: 0, ...query });
        const all = await list({});
        expect(ids(all.items)).toEqual([r3.id, r2.id, r4.id, r1.id]);
        expect(all).toMatchObject({ total: 4, limit: 50, offset: 0 });
        expect(all.items[2]).toEqual(r4);
        expect(ids((await list({ owner: 'owner-a' })).items)).toEqual([r3.id, r2.id, r1.id]);
        expect(ids((await list({ triggerId: 'trg-l1' })).items)).toEqual([r3.id, r2.id, r1.id]);
        expect((await list({ triggerId: 'trg-l1', owner: 'owner-b' })).total).toBe(0);
        expect(ids((await list({ status: 'pending' })).items)).toEqual([r4.id, r1.id]);
        expect(ids((await list({ taskType: 'task-b' })).items)).toEqual([r4.id]);
        expect(ids((await list({ source: 'manual' })).items)).toEqual([r2.id]);
        expect(ids((await list({ from: at(2_000) })).items)).toEqual([r3.id, r2.id, r4.id]);
        expect(ids((await list({ to: at(3_000) })).items)).toEqual([r4.id, r1.id]);
        expect(ids((await list({ from: at(2_000), to: at(3_000) })).items)).toEqual([r4.id]);
        expect(await list({ limit: 1, offset: 1 })).toMatchObject({ items: [r2], total: 4, limit: 1, offset: 1 });
        expect(ids((await list({ limit: 2, offset: 3 })).items)).toEqual([r1.id]);
        expect(await list({ offset: 4 })).toEqual({ items: [], total: 4, limit: 50, offset: 4 });
      });
    });

    describe('claimRuns', () => {
      it('claims the highest priority first, then the earliest availableAt, under a new lease', async () => {
        const low = makeRun({ priority: 0, availableAt: at(1_000) });
        const highLate = makeRun({ priority: 5, availableAt: at(9_000) });
        const highEarly = makeRun({ priority: 5, availableAt: at(2_000) });
        const middle = makeRun({ priority: 1, availableAt: at(5_000) });
        await insertRuns(low, highLate, highEarly, middle);
        const now = at(10_000);
        const got = await store.claimRuns({ now, instanceId: 'instance-1', token: 'token-a', leaseMs: 30_000, limit: 10 });
        expect(ids(got)).toEqual([highEarly.id, highLate.id, middle.id, low.id]);
        const first = got[0] as RunRecord;
        expect(first).toMatchObject({ status: 'running', attempt: 1, instanceId: 'instance-1', cancelRequested: false });
        expect(first.startedAt?.getTime()).toBe(now.getTime());
        expect(first.lease).toMatchObject({ token: 'token-a', instanceId: 'instance-1' });
        expect(first.lease?.expiresAt.getTime()).toBe(at(40_000).getTime());
        expect(await store.getRun(first.id)).toEqual(first);
        expect(await claim(at(20_000))).toEqual([]);
      });

      it('never claims a run before availableAt, nor lets it block available ones', async () => {
        const future = makeRun({ priority: 9, availableAt: at(20_000) });
        const ready = makeRun({ priority: 0, availableAt: at(5_000) });
        await insertRuns(future, ready);
        expect(ids(await claim(at(10_000)))).toEqual([ready.id]);
        expect(await claim(at(19_999))).toEqual([]);
        expect(ids(await claim(at(20_000)))).toEqual([future.id]);
      });

      it('takes at most `limit` runs, of the given task types only', async () => {
        const a = [1, 2, 3, 4, 5].map((i) => makeRun({ taskType: 'task-a', availableAt: at(i) }));
        const b = [6, 7, 8].map((i) => makeRun({ taskType: 'task-b', availableAt: at(i) }));
        const c = [9, 10].map((i) => makeRun({ taskType: 'task-c', availableAt: at(i), priority: 9 }));
        await insertRuns(...c, ...b, ...a);
        const now = at(1_000);
        expect(ids(await claim(now, 4, { taskTypes: ['task-a', 'task-b'] }))).toEqual(ids(a.slice(0, 4)));
        expect(await claim(now, 10, { taskTypes: [] })).toEqual([]);
        expect(ids(await claim(now, 10, { taskTypes: ['task-b'] }))).toEqual(ids(b));
        expect(ids(await claim(now, 10))).toEqual([...ids(c), a[4]?.id]);
      });

      it('claims only pending runs', async () => {
        const lease = { token: 'other-token', instanceId: 'instance-2', expiresAt: at(60_000) };
        await insertRuns(
          makeRun({ status: 'running', attempt: 1, startedAt: at(0), instanceId: 'instance-2', lease }),
          makeRun({ status: 'completed', attempt: 1, finishedAt: at(1), durationMs: 1, expiresAt: at(DAY) }),
          makeRun({ status: 'cancelled', finishedAt: at(1), expiresAt: at(DAY) }),
          makeRun({ status: 'skipped', expiresAt: at(DAY) }),
        );
        const pending = makeRun();
        await insertRuns(pending);
        expect(ids(await claim(at(1_000)))).toEqual([pending.id]);
      });

      it('hands every run to exactly one of many concurrent claimers', async () => {
        const runs = Array.from({ length: 200 }, (_, i) =>
          makeRun({ priority: i % 5, availableAt: at(i), taskType: i % 2 ? 'task-a' : 'task-b' }),
        );
        for (let i = 0; i < runs.length; i += 50) await insertRuns(...runs.slice(i, i + 50));
        const seen: string[] = [];
        const claimer = async (n: number): Promise<void> => {
          for (;;) {
            const got = await claim(at(1_000), 10, n % 3 === 0 ? { taskTypes: ['task-a', 'task-b'] } : {});
            if (got.length === 0) return;
            seen.push(...ids(got));
          }
        };
        await Promise.all(Array.from({ length: 8 }, (_, n) => claimer(n)));
        expect(seen).toHaveLength(200);
        expect(new Set(seen).size).toBe(200);
        expect((await store.listRuns({ status: 'running', limit: 1, offset: 0 })).total).toBe(200);
      });
    });

    describe('leases and finishing', () => {
      it('renews a lease only with its token', async () => {
        const run = await claimed();
        expect((await store.renewLease(run.id, 'wrong-token', at(90_000))).held).toBe(false);
        expect(await store.getRun(run.id)).toEqual(run);
        expect(await store.renewLease(run.id, tokenOf(run), at(90_000))).toEqual({ held: true, cancelRequested: false });
        const renewed = await store.getRun(run.id);
        expect(renewed?.lease?.expiresAt.getTime()).toBe(at(90_000).getTime());
        expect(renewed?.lease).toMatchObject({ token: tokenOf(run), instanceId: 'instance-1' });
        expect((await store.renewLease('missing', tokenOf(run), at(90_000))).held).toBe(false);
      });

      it('completes a run only with its token, clearing the lease', async () => {
        const run = await claimed();
        expect(await store.finishRuns([completion(run, 'wrong-token')])).toEqual([false]);
        expect(await store.getRun(run.id)).toEqual(run);
        const attemptRecord: AttemptRecord = {
          attempt: 1, instanceId: 'instance-1', startedAt: at(), finishedAt: at(5_000), outcome: 'completed',
        };
        const progress = { percent: 100, note: 'done', at: at(5_000) };
        expect(await store.finishRuns([{ ...completion(run, tokenOf(run)), attemptRecord, progress }])).toEqual([true]);
        const done = (await store.getRun(run.id)) as RunRecord;
        expect(done).toMatchObject({ status: 'completed', durationMs: 5_000, result: { sent: 3 }, lease: null, attempt: 1, progress });
        expect(done.finishedAt?.getTime()).toBe(at(5_000).getTime());
        expect(done.expiresAt?.getTime()).toBe(at(DAY).getTime());
        expect(done.attempts).toEqual([attemptRecord]);
        expect(await store.finishRuns([completion(run, tokenOf(run))])).toEqual([false]);
        expect((await store.renewLease(run.id, tokenOf(run), at(90_000))).held).toBe(false);
      });

      it.each(['failed', 'timed_out', 'cancelled', 'skipped'] as const)('finishes as %s with its error', async (status) => {
        const run = await claimed();
        const error = { name: 'Error', message: `boom: ${status}` };
        const finish: RunFinish = {
          runId: run.id, token: tokenOf(run), status, finishedAt: at(2_000), durationMs: 2_000, error, expiresAt: at(DAY),
        };
        expect(await store.finishRuns([finish])).toEqual([true]);
        const done = (await store.getRun(run.id)) as RunRecord;
        expect(done).toMatchObject({ status, error, durationMs: 2_000, lease: null, attempts: [] });
        expect(done.finishedAt?.getTime()).toBe(at(2_000).getTime());
        expect(done.expiresAt?.getTime()).toBe(at(DAY).getTime());
      });

      it('puts a retry back to pending, claimable again at availableAt', async () => {
        const run = await claimed();
        const error = { name: 'TypeError', message: 'flaky' };
        const attemptRecord: AttemptRecord = {
          attempt: 1, instanceId: 'instance-1', startedAt: at(), finishedAt: at(1_000), outcome: 'retry', error,
        };
        const retry: RunFinish = { runId: run.id, token: tokenOf(run), status: 'pending', availableAt: at(10_000), error, attemptRecord };
        expect(await store.finishRuns([retry])).toEqual([true]);
        const waiting = (await store.getRun(run.id)) as RunRecord;
        expect(waiting).toMatchObject({ status: 'pending', lease: null, attempt: 1, error, attempts: [attemptRecord] });
        expect(waiting.availableAt.getTime()).toBe(at(10_000).getTime());
        expect(await claim(at(9_999))).toEqual([]);
        const [again] = await claim(at(10_000));
        expect(again).toMatchObject({ id: run.id, status: 'running', attempt: 2 });
        expect(tokenOf(again)).not.toBe(tokenOf(run));
        expect(await store.finishRuns([completion(run, tokenOf(run))])).toEqual([false]);
      });

      it('clears the error of an earlier attempt on completion, and keeps it through a retry without one', async () => {
        const run = await claimed();
        const error = { name: 'TypeError', message: 'flaky' };
        const retry: RunFinish = { runId: run.id, token: tokenOf(run), status: 'pending', availableAt: at(1_000), error };
        expect(await store.finishRuns([retry])).toEqual([true]);
        const [second] = await claim(at(1_000));
        expect(second).toMatchObject({ id: run.id, attempt: 2, error });
        const deferral: RunFinish = { runId: run.id, token: tokenOf(second), status: 'pending', availableAt: at(2_000), undoAttempt: true };
        expect(await store.finishRuns([deferral])).toEqual([true]);
        expect(await store.getRun(run.id)).toMatchObject({ status: 'pending', attempt: 1, error });
        const [third] = await claim(at(2_000));
        expect(await store.finishRuns([completion(third as RunRecord, tokenOf(third))])).toEqual([true]);
        const done = (await store.getRun(run.id)) as RunRecord;
        expect(done).toMatchObject({ status: 'completed', result: { sent: 3 }, attempt: 2 });
        expect('error' in done).toBe(false);
      });

      it('undoes the attempt of a deferral', async () => {
        const run = await claimed();
        const defer: RunFinish = { runId: run.id, token: tokenOf(run), status: 'pending', availableAt: at(5_000), undoAttempt: true };
        expect(await store.finishRuns([defer])).toEqual([true]);
        expect(await store.getRun(run.id)).toMatchObject({ status: 'pending', attempt: 0, attempts: [], lease: null });
        expect(await claim(at(5_000))).toMatchObject([{ id: run.id, attempt: 1 }]);
      });

      it('applies each finish of a batch on its own, in input order', async () => {
        const a = await claimed();
        const b = await claimed();
        const retryA: RunFinish = { runId: a.id, token: tokenOf(a), status: 'pending', availableAt: at(50_000) };
        const results = await store.finishRuns([completion(a, 'wrong-token'), completion(b, tokenOf(b)), retryA]);
        expect(results).toEqual([false, true, true]);
        expect(await store.getRun(a.id)).toMatchObject({ status: 'pending' });
        expect(await store.getRun(b.id)).toMatchObject({ status: 'completed' });
        expect(await store.finishRuns([])).toEqual([]);
      });

      it('stores progress only with the holder token', async () => {
        const run = await claimed();
        const progress = { percent: 40, note: 'page 4 of 10', at: at(3_000) };
        expect(await store.setProgress(run.id, 'wrong-token', progress)).toBe(false);
        expect((await store.getRun(run.id))?.progress).toBeUndefined();
        expect(await store.setProgress(run.id, tokenOf(run), progress)).toBe(true);
        expect((await store.getRun(run.id))?.progress).toEqual(progress);
        expect(await store.setProgress('missing', tokenOf(run), progress)).toBe(false);
      });
    });

    describe('recoverExpiredLeases', () => {
      it('leaves leases alone until they expire, renewals included', async () => {
        const run = await claimed();
        expect(await store.recoverExpiredLeases(at(29_999), 10, DAY)).toEqual([]);
        await store.renewLease(run.id, tokenOf(run), at(60_000));
        expect(await store.recoverExpiredLeases(at(59_999), 10, DAY)).toEqual([]);
        expect(await store.getRun(run.id)).toMatchObject({ status: 'running' });
        expect(await store.recoverExpiredLeases(at(60_000), 10, DAY)).toHaveLength(1);
      });

      it('returns an expired run to pending with a lease_expired attempt', async () => {
        const run = await claimed();
        const [recovered, ...rest] = await store.recoverExpiredLeases(at(30_000), 10, DAY);
        expect(rest).toEqual([]);
        expect(recovered?.outcome).toBe('pending');
        const back = recovered?.run as RunRecord;
        expect(back).toMatchObject({ id: run.id, status: 'pending', lease: null, attempt: 1 });
        expect(back.availableAt.getTime()).toBe(at(30_000).getTime());
        expect(back.attempts).toHaveLength(1);
        expect(back.attempts[0]).toMatchObject({ attempt: 1, instanceId: 'instance-1', outcome: 'lease_expired' });
        expect(back.attempts[0]?.finishedAt.getTime()).toBe(at(30_000).getTime());
        expect(await store.getRun(run.id)).toEqual(back);
        expect((await store.renewLease(run.id, tokenOf(run), at(90_000))).held).toBe(false);
        expect(await store.finishRuns([completion(run, tokenOf(run))])).toEqual([false]);
        expect(await claim(at(30_000))).toMatchObject([{ id: run.id, attempt: 2 }]);
      });

      it('fails a run that used all its attempts', async () => {
        const run = await claimed({ maxAttempts: 1 });
        const [recovered] = await store.recoverExpiredLeases(at(40_000), 10, 1_000);
        expect(recovered?.outcome).toBe('failed');
        const failed = recovered?.run as RunRecord;
        expect(failed).toMatchObject({ id: run.id, status: 'failed', lease: null, attempt: 1 });
        expect(failed.finishedAt?.getTime()).toBe(at(40_000).getTime());
        expect(failed.expiresAt?.getTime()).toBe(at(41_000).getTime());
        expect(failed.attempts.at(-1)?.outcome).toBe('lease_expired');
        expect(await store.getRun(run.id)).toEqual(failed);
        expect(await claim(at(50_000))).toEqual([]);
      });

      it('recovers at most `limit` runs per call', async () => {
        for (let i = 0; i < 3; i++) await claimed();
        expect(await store.recoverExpiredLeases(at(60_000), 2, DAY)).toHaveLength(2);
        expect(await store.recoverExpiredLeases(at(60_000), 2, DAY)).toHaveLength(1);
        expect(await store.recoverExpiredLeases(at(60_000), 2, DAY)).toEqual([]);
      });
    });

    describe('cancelRun', () => {
      it('cancels a pending run at once', async () => {
        const run = makeRun();
        await insertRuns(run);
        const cancelled = (await store.cancelRun(run.id, at(1_000), DAY)) as RunRecord;
        expect(cancelled).toMatchObject({ id: run.id, status: 'cancelled' });
        expect(cancelled.finishedAt?.getTime()).toBe(at(1_000).getTime());
        expect(cancelled.expiresAt?.getTime()).toBe(at(1_000 + DAY).getTime());
        expect(await store.getRun(run.id)).toEqual(cancelled);
        expect(await claim(at(2_000))).toEqual([]);
      });

      it('asks the holder of a running run to stop, through renewLease', async () => {
        const run = await claimed({ owner: 'owner-a' });
        const requested = await store.cancelRun(run.id, at(1_000), DAY, 'owner-a');
        expect(requested).toMatchObject({ id: run.id, status: 'running', cancelRequested: true });
        expect(await store.renewLease(run.id, tokenOf(run), at(60_000))).toEqual({ held: true, cancelRequested: true });
        const finish: RunFinish = {
          runId: run.id, token: tokenOf(run), status: 'cancelled', finishedAt: at(2_000), durationMs: 2_000,
          error: { name: 'CancelledError', message: 'cancelled' }, expiresAt: at(DAY),
        };
        expect(await store.finishRuns([finish])).toEqual([true]);
        expect(await store.cancelRun(run.id, at(3_000), DAY)).toBeNull();
      });

      it("answers null for a missing run, another owner's run or a final run", async () => {
        const run = makeRun({ owner: 'owner-a' });
        const done = makeRun({ status: 'completed', finishedAt: at(1), durationMs: 1, expiresAt: at(DAY) });
        await insertRuns(run, done);
        expect(await store.cancelRun(run.id, at(1_000), DAY, 'owner-b')).toBeNull();
        expect(await store.getRun(run.id)).toEqual(run);
        expect(await store.cancelRun('missing', at(1_000), DAY)).toBeNull();
        expect(await store.cancelRun(done.id, at(1_000), DAY)).toBeNull();
        expect(await store.getRun(done.id)).toEqual(done);
      });
    });

    describe('countRuns and purgeExpiredRuns', () => {
      it('counts the runs of one trigger in the given statuses', async () => {
        const t1 = { triggerId: 'trg-count-1', taskType: 'task-a' };
        await insertRuns(
          makeRun(t1), makeRun(t1), makeRun({ ...t1, status: 'completed', expiresAt: at(DAY) }),
          makeRun({ triggerId: 'trg-count-2', taskType: 'task-b' }),
        );
        expect(await store.countRuns('trg-count-1', ['pending'])).toBe(2);
        expect(await store.countRuns('trg-count-1', ['pending', 'completed'])).toBe(3);
        expect(await store.countRuns('trg-count-1', ['failed'])).toBe(0);
        expect(await store.countRuns('trg-count-2', ['pending'])).toBe(1);
        expect(await store.countRuns('trg-none', ['pending'])).toBe(0);
        await claim(at(1_000), 1, { taskTypes: ['task-a'] });
        expect(await store.countRuns('trg-count-1', ['pending'])).toBe(1);
        expect(await store.countRuns('trg-count-1', ['running'])).toBe(1);
      });

      it('purges only final runs whose expiresAt has passed, at most `limit`', async () => {
        const final = (status: RunRecord['status'], expiresAt: Date | null) => makeRun({ status, finishedAt: at(0), expiresAt });
        const completed = final('completed', at(1_000));
        const failed = final('failed', at(2_000));
        const cancelled = final('cancelled', at(5_000));
        const kept = final('timed_out', null);
        const pending = makeRun({ expiresAt: at(0), availableAt: at(2 * DAY) });
        await insertRuns(completed, failed, cancelled, kept, pending);
        const running = await claimed({ expiresAt: at(0) });
        expect(await store.purgeExpiredRuns(at(2_000), 1)).toBe(1);
        expect(await store.purgeExpiredRuns(at(2_000), 10)).toBe(1);
        expect(await store.purgeExpiredRuns(at(2_000), 10)).toBe(0);
        expect(await store.getRun(completed.id)).toBeNull();
        expect(await store.getRun(failed.id)).toBeNull();
        expect(await store.purgeExpiredRuns(at(DAY), 10)).toBe(1);
        expect(await store.getRun(cancelled.id)).toBeNull();
        for (const run of [kept, pending, running]) expect(await store.getRun(run.id)).not.toBeNull();
      });
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
  });
}
