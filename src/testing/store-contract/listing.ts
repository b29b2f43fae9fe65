import { beforeEach, describe, expect, it } from 'vitest';
import type { AuditQuery, RunQuery, Store, TriggerQuery } from '../../stores/types.js';
import type { AuditEntry, RunRecord, TriggerRecord } from '../../types.js';
import { fixtureDate as at, makeAudit, makeRun, makeTrigger } from '../fixtures.js';
import { ids, type ContractContext } from './context.js';

/**
 * Reads a whole listing `size` items at a time, each page starting after the last item of the
 * previous one, as the engine's cursors do.
 */
async function walk<T extends { id: string }, A>(list: (after: A | undefined) => Promise<T[]>, positionOf: (item: T) => A, size: number): Promise<string[][]> {
  const pages: string[][] = [];
  let after: A | undefined;
  for (;;) {
    const page = await list(after);
    expect(page.length).toBeLessThanOrEqual(size);
    if (page.length === 0) return pages;
    pages.push(ids(page));
    after = positionOf(page[page.length - 1] as T);
  }
}

/** Keyset listings of triggers, runs and audit entries: filters, orders, ties broken by id, and positions. */
export function listingContract(ctx: ContractContext): void {
  describe('listTriggers', () => {
    triggerOrderCases(ctx);
    triggerWalkCases(ctx);
  });
  describe('listRuns', () => runListCases(ctx));
  describe('listAudit', () => auditListCases(ctx));
}

/** Triggers by createdAt or name, either way, with filters. */
function triggerOrderCases(ctx: ContractContext): void {
  let store: Store;
  beforeEach(() => {
    store = ctx.store;
  });
  const list = (query: Partial<TriggerQuery>): Promise<TriggerRecord[]> => store.listTriggers({ sort: 'createdAt', order: 'asc', limit: 50, ...query });

  it('orders by createdAt then id, either way, with filters', async () => {
    const a1 = makeTrigger({ id: 'trg-list-a1', owner: 'owner-a', createdAt: at(2_000), taskType: 'task-x' });
    const a2 = makeTrigger({ id: 'trg-list-a2', owner: 'owner-a', createdAt: at(1_000), status: 'paused', nextFireAt: null });
    const a3 = makeTrigger({ id: 'trg-list-a3', owner: 'owner-a', createdAt: at(1_000) });
    const b1 = makeTrigger({ id: 'trg-list-b1', owner: 'owner-b', createdAt: at(0), name: a1.name });
    await ctx.insertTriggers(a3, b1, a1, a2);
    const all = await list({});
    expect(ids(all)).toEqual([b1.id, a2.id, a3.id, a1.id]);
    expect(all[0]).toEqual(b1);
    expect(ids(await list({ order: 'desc' }))).toEqual([a1.id, a3.id, a2.id, b1.id]);
    expect(ids(await list({ owner: 'owner-a' }))).toEqual([a2.id, a3.id, a1.id]);
    expect(ids(await list({ status: 'paused' }))).toEqual([a2.id]);
    expect(ids(await list({ taskType: 'task-x' }))).toEqual([a1.id]);
    expect(ids(await list({ name: a1.name }))).toEqual([b1.id, a1.id]);
    expect(ids(await list({ name: a1.name, owner: 'owner-a' }))).toEqual([a1.id]);
    expect(await list({ owner: 'owner-c' })).toEqual([]);
    expect(ids(await list({ limit: 2 }))).toEqual([b1.id, a2.id]);
    expect(ids(await list({ owner: 'owner-a', after: { value: at(1_000), id: a2.id } }))).toEqual([a3.id, a1.id]);
    expect(ids(await list({ order: 'desc', after: { value: at(1_000), id: a3.id } }))).toEqual([a2.id, b1.id]);
  });

  it('orders by name then id, either way, and filters by a literal name prefix', async () => {
    const t = (id: string, owner: string, name: string): TriggerRecord => makeTrigger({ id, owner, name, createdAt: at(0) });
    const rows = [
      t('trg-n1', 'owner-a', 'report_daily'),
      t('trg-n2', 'owner-b', 'report_daily'),
      t('trg-n3', 'owner-a', 'reportXdaily'),
      t('trg-n4', 'owner-a', 'Report-weekly'),
      t('trg-n5', 'owner-b', 'audit'),
      t('trg-n6', 'owner-a', 'report'),
    ];
    await ctx.insertTriggers(...rows);
    // Binary order: `R` (0x52) before `a` (0x61), and `X` (0x58) before `_` (0x5f).
    expect(ids(await list({ sort: 'name' }))).toEqual(['trg-n4', 'trg-n5', 'trg-n6', 'trg-n3', 'trg-n1', 'trg-n2']);
    expect(ids(await list({ sort: 'name', order: 'desc' }))).toEqual(['trg-n2', 'trg-n1', 'trg-n3', 'trg-n6', 'trg-n5', 'trg-n4']);
    expect(ids(await list({ sort: 'name', namePrefix: 'report_' }))).toEqual(['trg-n1', 'trg-n2']);
    expect(ids(await list({ sort: 'name', namePrefix: 'report' }))).toEqual(['trg-n6', 'trg-n3', 'trg-n1', 'trg-n2']);
    expect(ids(await list({ namePrefix: 'report', owner: 'owner-b' }))).toEqual(['trg-n2']);
    expect(ids(await list({ namePrefix: 'Report' }))).toEqual(['trg-n4']);
    expect(ids(await list({ namePrefix: 'report_', name: 'reportXdaily' }))).toEqual([]);
    expect(ids(await list({ sort: 'name', after: { value: 'report_daily', id: 'trg-n1' } }))).toEqual(['trg-n2']);
    expect(ids(await list({ sort: 'name', order: 'desc', after: { value: 'report_daily', id: 'trg-n2' } }))).toEqual(['trg-n1', 'trg-n3', 'trg-n6', 'trg-n5', 'trg-n4']);
  });
}

/** Paging through triggers that tie on createdAt. */
function triggerWalkCases(ctx: ContractContext): void {
  let store: Store;
  beforeEach(() => {
    store = ctx.store;
  });
  const list = (query: Partial<TriggerQuery>): Promise<TriggerRecord[]> => store.listTriggers({ sort: 'createdAt', order: 'asc', limit: 50, ...query });

  it('walks many triggers with equal createdAt page by page, each once, in id order', async () => {
    const triggers = Array.from({ length: 23 }, (_, i) => makeTrigger({ id: `trg-tie-${String(i).padStart(2, '0')}`, createdAt: at(5_000) }));
    await ctx.insertTriggers(...[...triggers].reverse());
    const pages = await walk<TriggerRecord, NonNullable<TriggerQuery['after']>>((after) => list({ limit: 5, ...(after ? { after } : {}) }), (t) => ({ value: t.createdAt, id: t.id }), 5);
    expect(pages.map((p) => p.length)).toEqual([5, 5, 5, 5, 3]);
    expect(pages.flat()).toEqual(ids(triggers));
    const byName = await walk<TriggerRecord, NonNullable<TriggerQuery['after']>>((after) => list({ sort: 'name', order: 'desc', limit: 4, ...(after ? { after } : {}) }), (t) => ({ value: t.name, id: t.id }), 4);
    expect(byName.flat()).toEqual(ids([...triggers].sort((x, y) => (x.name < y.name ? 1 : -1))));
  });
}

/** Runs newest first, filtered, and paged through ties. */
function runListCases(ctx: ContractContext): void {
  let store: Store;
  beforeEach(() => {
    store = ctx.store;
  });
  const list = (query: Partial<RunQuery>): Promise<RunRecord[]> => store.listRuns({ limit: 50, ...query });

  it('orders newest scheduledFor first, then id descending, with filters', async () => {
    const base = { triggerId: 'trg-l1', owner: 'owner-a' };
    const r1 = makeRun({ ...base, id: 'run-list-1', scheduledFor: at(1_000) });
    const r2 = makeRun({ ...base, id: 'run-list-2', scheduledFor: at(3_000), status: 'completed', source: 'manual' });
    const r3 = makeRun({ ...base, id: 'run-list-3', scheduledFor: at(3_000), status: 'failed' });
    const r4 = makeRun({
      id: 'run-list-4', triggerId: 'trg-l2', owner: 'owner-b', scheduledFor: at(2_000), source: 'event', taskType: 'task-b',
    });
    await ctx.insertRuns(r2, r4, r1, r3);
    const all = await list({});
    expect(ids(all)).toEqual([r3.id, r2.id, r4.id, r1.id]);
    expect(all[2]).toEqual(r4);
    expect(ids(await list({ owner: 'owner-a' }))).toEqual([r3.id, r2.id, r1.id]);
    expect(ids(await list({ triggerId: 'trg-l1' }))).toEqual([r3.id, r2.id, r1.id]);
    expect(await list({ triggerId: 'trg-l1', owner: 'owner-b' })).toEqual([]);
    expect(ids(await list({ status: 'pending' }))).toEqual([r4.id, r1.id]);
    expect(ids(await list({ taskType: 'task-b' }))).toEqual([r4.id]);
    expect(ids(await list({ source: 'manual' }))).toEqual([r2.id]);
    expect(ids(await list({ from: at(2_000) }))).toEqual([r3.id, r2.id, r4.id]);
    expect(ids(await list({ to: at(3_000) }))).toEqual([r4.id, r1.id]);
    expect(ids(await list({ from: at(2_000), to: at(3_000) }))).toEqual([r4.id]);
    expect(ids(await list({ limit: 1 }))).toEqual([r3.id]);
    expect(ids(await list({ after: { scheduledFor: at(3_000), id: r3.id } }))).toEqual([r2.id, r4.id, r1.id]);
    expect(ids(await list({ owner: 'owner-a', after: { scheduledFor: at(3_000), id: r2.id } }))).toEqual([r1.id]);
  });

  it('walks many runs with equal scheduledFor page by page, each once', async () => {
    const runs = Array.from({ length: 17 }, (_, i) => makeRun({ id: `run-tie-${String(i).padStart(2, '0')}`, scheduledFor: at(7_000) }));
    await ctx.insertRuns(...runs);
    const pages = await walk<RunRecord, NonNullable<RunQuery['after']>>((after) => list({ limit: 4, ...(after ? { after } : {}) }), (r) => ({ scheduledFor: r.scheduledFor, id: r.id }), 4);
    expect(pages.flat()).toEqual(ids(runs).reverse());
  });
}

/** Audit entries newest first, filtered, and paged through ties. */
function auditListCases(ctx: ContractContext): void {
  let store: Store;
  beforeEach(() => {
    store = ctx.store;
  });
  const list = (query: Partial<AuditQuery>): Promise<AuditEntry[]> => store.listAudit({ limit: 50, ...query });

  it('orders newest first, then id descending, with filters', async () => {
    const e1 = makeAudit({ id: 'aud-1', at: at(1_000), action: 'trigger.create', triggerId: 'trg-1', owner: 'owner-a' });
    const e2 = makeAudit({ id: 'aud-2', at: at(2_000), action: 'trigger.pause', triggerId: 'trg-1', owner: 'owner-a', details: { reason: 'holiday' } });
    const e3 = makeAudit({ id: 'aud-3', at: at(2_000), action: 'trigger.create', triggerId: 'trg-2', owner: 'owner-b', actor: 'user-2' });
    const e4 = makeAudit({ id: 'aud-4', at: at(4_000), action: 'run.cancel', triggerId: 'trg-1', owner: 'owner-a', runId: 'run-1' });
    for (const entry of [e2, e4, e1, e3]) await store.appendAudit(entry);
    expect(await list({})).toEqual([e4, e3, e2, e1]);
    expect(ids(await list({ owner: 'owner-a' }))).toEqual([e4.id, e2.id, e1.id]);
    expect(ids(await list({ triggerId: 'trg-2' }))).toEqual([e3.id]);
    expect(ids(await list({ action: 'trigger.create' }))).toEqual([e3.id, e1.id]);
    expect(ids(await list({ owner: 'owner-a', action: 'run.cancel' }))).toEqual([e4.id]);
    expect(ids(await list({ limit: 2 }))).toEqual([e4.id, e3.id]);
    expect(ids(await list({ after: { at: at(2_000), id: e3.id } }))).toEqual([e2.id, e1.id]);
    expect(ids(await list({ owner: 'owner-a', after: { at: at(4_000), id: e4.id }, limit: 1 }))).toEqual([e2.id]);
    expect(await list({ owner: 'owner-c' })).toEqual([]);
  });

  it('walks many entries with equal times page by page, each once', async () => {
    const entries = Array.from({ length: 11 }, (_, i) => makeAudit({ id: `aud-tie-${String(i).padStart(2, '0')}`, at: at(9_000) }));
    for (const entry of entries) await store.appendAudit(entry);
    const pages = await walk<AuditEntry, NonNullable<AuditQuery['after']>>((after) => list({ limit: 3, ...(after ? { after } : {}) }), (e) => ({ at: e.at, id: e.id }), 3);
    expect(pages.flat()).toEqual(ids(entries).reverse());
  });
}
