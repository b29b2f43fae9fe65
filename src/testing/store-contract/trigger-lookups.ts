import { beforeEach, describe, expect, it } from 'vitest';
import type { Store } from '../../stores/types.js';
import type { TriggerRecord } from '../../types.js';
import { fixtureDate as at, makeSlotFire as slot, makeSlotRun as slotRun, makeTrigger, makeTriggerWrite as bump } from '../fixtures.js';
import { eventTrigger, ids, type ContractContext } from './context.js';

/** findDueTriggers and findEventTriggers: what they return, in which order, and that they follow every write. */
export function triggerLookupContract(ctx: ContractContext): void {
  describe('findDueTriggers', () => dueCases(ctx));
  describe('findEventTriggers', () => {
    eventListCases(ctx);
    eventFollowCases(ctx);
  });
}

/** Due triggers by `until`, and the lookup after updates, fires and deletes. */
function dueCases(ctx: ContractContext): void {
  let store: Store;
  beforeEach(() => {
    store = ctx.store;
  });
  const { insertTriggers } = ctx;

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
}

/** The active triggers of one event, ordered and paged. */
function eventListCases(ctx: ContractContext): void {
  let store: Store;
  beforeEach(() => {
    store = ctx.store;
  });
  const { insertTriggers } = ctx;

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
}

/** The event lookup after every kind of write. */
function eventFollowCases(ctx: ContractContext): void {
  let store: Store;
  beforeEach(() => {
    store = ctx.store;
  });
  const { insertTriggers } = ctx;

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
}
