import { beforeEach, describe, expect, it } from 'vitest';
import type { Store } from '../../stores/types.js';
import type { TriggerRecord } from '../../types.js';
import { fixtureDate as at, makeTrigger, makeTriggerWrite as bump } from '../fixtures.js';
import { CONFLICT, DAY, eventTrigger, type ContractContext } from './context.js';
import { fireSlotContract } from './fire-slots.js';
import { triggerLookupContract } from './trigger-lookups.js';

/** Triggers: lifecycle, CRUD with compare-and-set, due and event lookups, firing slots. */
export function triggerContract(ctx: ContractContext): void {
  describe('lifecycle', () => lifecycleCases(ctx));
  describe('triggers', () => {
    triggerRecordCases(ctx);
    roundTripCases(ctx);
    triggerWriteCases(ctx);
  });
  triggerLookupContract(ctx);
  fireSlotContract(ctx);
}

/** init and ping. */
function lifecycleCases(ctx: ContractContext): void {
  let store: Store;
  beforeEach(() => {
    store = ctx.store;
  });

  it('init is idempotent and ping resolves', async () => {
    await store.init();
    await store.ping();
    expect(typeof store.kind).toBe('string');
  });
}

/** Inserting and reading triggers: copies, owners, ids and names. */
function triggerRecordCases(ctx: ContractContext): void {
  let store: Store;
  beforeEach(() => {
    store = ctx.store;
  });

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
}

/** Every optional field comes back as stored. */
function roundTripCases(ctx: ContractContext): void {
  let store: Store;
  beforeEach(() => {
    store = ctx.store;
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
}

/** Compare-and-set updates, renames and deletes. */
function triggerWriteCases(ctx: ContractContext): void {
  let store: Store;
  beforeEach(() => {
    store = ctx.store;
  });
  const { insertTriggers } = ctx;

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
}
