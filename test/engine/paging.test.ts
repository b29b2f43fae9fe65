/**
 * Cursor paging of triggers.list, runs.list and audit.list through the public API, on the memory
 * store and on PostgreSQL: pages stay exact while items with identical timestamps are inserted
 * between them, cursors are bound to their query and view, and sort and prefix options hold.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { memoryStore, type Page, type Store } from 'punctual';
import { postgresStore } from 'punctual/postgres';
import { connectPostgres, dropSchema, randomSchema } from '../postgres/harness.js';
import { testScheduler } from './helpers.js';

const handlers = { job: { schema: z.object({ n: z.number() }), run: () => undefined } };
const INVALID = { name: 'ValidationError', issues: [expect.objectContaining({ path: 'cursor' })] };

const pool = await connectPostgres();
afterAll(async () => {
  await pool?.end();
});

interface StoreCase {
  name: string;
  make: () => Promise<{ store: Store; cleanup: () => Promise<void> }>;
}

const stores: StoreCase[] = [{ name: 'memory', make: async () => ({ store: memoryStore(), cleanup: async () => undefined }) }];
if (pool) {
  stores.push({
    name: 'postgres',
    make: async () => {
      const schema = randomSchema();
      return { store: postgresStore(pool, { schema }), cleanup: () => dropSchema(pool, schema) };
    },
  });
}

/**
 * Walks a listing to its end, calling `between` after each page (to insert more items), and
 * returns the ids in the order they came.
 */
async function walk<T extends { id: string }>(list: (cursor?: string) => Promise<Page<T>>, between: (page: number) => Promise<void> = async () => undefined): Promise<string[]> {
  const seen: string[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < 1_000; page++) {
    const result = await list(cursor);
    seen.push(...result.items.map((item) => item.id));
    if (result.nextCursor === null) return seen;
    cursor = result.nextCursor;
    await between(page);
  }
  throw new Error('the listing never ended');
}

describe.each(stores)('cursor paging on the $name store', ({ make }) => {
  async function setup() {
    const { store, cleanup } = await make();
    // The test clock never moves: every trigger, run and audit entry gets the same timestamp.
    const { scheduler } = testScheduler({ store, handlers });
    return { scheduler, cleanup };
  }

  it('lists every trigger exactly once while more are created in the same millisecond between pages', async () => {
    const { scheduler, cleanup } = await setup();
    try {
      let made = 0;
      const create = async (owner = 'u1') => scheduler.triggers.create({ name: `job-${made++}`, owner, taskType: 'job', payload: { n: 1 }, schedule: { manual: true } });
      const before = [];
      for (let i = 0; i < 20; i++) before.push((await create()).id);
      for (const order of ['asc', 'desc'] as const) {
        const seen = await walk(
          (cursor) => scheduler.triggers.list({ limit: 6, order, ...(cursor ? { cursor } : {}) }),
          async () => {
            for (let i = 0; i < 3; i++) await create();
          },
        );
        expect(new Set(seen).size).toBe(seen.length);
        expect(seen).toEqual(expect.arrayContaining(before));
      }
      // Nothing changes between two walks: they agree with one big page.
      const all = await scheduler.triggers.list({ limit: 500 });
      expect(await walk((cursor) => scheduler.triggers.list({ limit: 7, ...(cursor ? { cursor } : {}) }))).toEqual(all.items.map((t) => t.id));
    } finally {
      await cleanup();
    }
  });

  it('lists every run and audit entry exactly once while more are added in the same millisecond between pages', async () => {
    const { scheduler, cleanup } = await setup();
    try {
      const trigger = await scheduler.triggers.create({ name: 'batch', owner: 'u1', taskType: 'job', payload: { n: 1 }, schedule: { manual: true } });
      const before = (await scheduler.triggers.runMany(trigger.id, Array.from({ length: 25 }, (_, n) => ({ payload: { n } })))).map((r) => r.id);
      const runs = await walk(
        (cursor) => scheduler.runs.list({ triggerId: trigger.id, limit: 4, ...(cursor ? { cursor } : {}) }),
        async () => {
          await scheduler.triggers.runMany(trigger.id, [{}, {}]);
        },
      );
      expect(new Set(runs).size).toBe(runs.length);
      expect(runs).toEqual(expect.arrayContaining(before));

      const auditBefore = (await scheduler.audit.list({ limit: 500 })).items.map((e) => e.id);
      expect(auditBefore.length).toBeGreaterThan(6);
      const entries = await walk(
        (cursor) => scheduler.audit.list({ limit: 3, ...(cursor ? { cursor } : {}) }),
        async () => {
          await scheduler.triggers.pause(trigger.id);
          await scheduler.triggers.resume(trigger.id);
        },
      );
      expect(new Set(entries).size).toBe(entries.length);
      expect(entries).toEqual(expect.arrayContaining(auditBefore));
    } finally {
      await cleanup();
    }
  });

  it('sorts triggers by name either way, filters by name prefix, and keeps a cursor across page sizes', async () => {
    const { scheduler, cleanup } = await setup();
    try {
      for (const name of ['report_b', 'reportXa', 'audit', 'report_a', 'Report']) {
        await scheduler.triggers.create({ name, owner: 'u1', taskType: 'job', payload: { n: 1 }, schedule: { manual: true } });
      }
      const names = async (query: Parameters<typeof scheduler.triggers.list>[0]) => (await scheduler.triggers.list(query)).items.map((t) => t.name);
      expect(await names({ sort: 'name' })).toEqual(['Report', 'audit', 'reportXa', 'report_a', 'report_b']);
      expect(await names({ sort: 'name', order: 'desc' })).toEqual(['report_b', 'report_a', 'reportXa', 'audit', 'Report']);
      expect(await names({ sort: 'name', namePrefix: 'report_' })).toEqual(['report_a', 'report_b']);
      const first = await scheduler.triggers.list({ sort: 'name', order: 'desc', limit: 2 });
      expect(first.items.map((t) => t.name)).toEqual(['report_b', 'report_a']);
      const rest = await scheduler.triggers.list({ sort: 'name', order: 'desc', limit: 10, cursor: first.nextCursor ?? '' });
      expect(rest).toMatchObject({ nextCursor: null });
      expect(rest.items.map((t) => t.name)).toEqual(['reportXa', 'audit', 'Report']);
      await expect(scheduler.triggers.list({ namePrefix: 'report%' })).rejects.toMatchObject({ issues: [expect.objectContaining({ path: 'namePrefix' })] });
      await expect(scheduler.triggers.list({ sort: 'updatedAt' as never })).rejects.toMatchObject({ issues: [expect.objectContaining({ path: 'sort' })] });
      await expect(scheduler.triggers.list({ order: 'up' as never })).rejects.toMatchObject({ issues: [expect.objectContaining({ path: 'order' })] });
    } finally {
      await cleanup();
    }
  });

  it('rejects an altered cursor, a cursor of another query, and offset', async () => {
    const { scheduler, cleanup } = await setup();
    try {
      for (let i = 0; i < 3; i++) await scheduler.triggers.create({ name: `t${i}`, owner: 'u1', taskType: 'job', payload: { n: i }, schedule: { manual: true } });
      const first = await scheduler.triggers.list({ limit: 1 });
      const cursor = first.nextCursor as string;
      expect(cursor).toEqual(expect.any(String));
      const flip = (text: string, at: number) => text.slice(0, at) + (text[at] === 'A' ? 'B' : 'A') + text.slice(at + 1);
      for (const at of [0, 3, Math.floor(cursor.length / 2), cursor.length - 1]) {
        await expect(scheduler.triggers.list({ limit: 1, cursor: flip(cursor, at) })).rejects.toMatchObject(INVALID);
      }
      for (const bad of ['x', 'c1..', 'c1.e30.AAAA', `${cursor}.extra`]) {
        await expect(scheduler.triggers.list({ cursor: bad })).rejects.toMatchObject(INVALID);
      }
      await expect(scheduler.triggers.list({ cursor: 42 as never })).rejects.toMatchObject(INVALID);
      // Bound to its query: another sort, order, filter or listing refuses it.
      await expect(scheduler.triggers.list({ cursor, sort: 'name' })).rejects.toMatchObject(INVALID);
      await expect(scheduler.triggers.list({ cursor, order: 'desc' })).rejects.toMatchObject(INVALID);
      await expect(scheduler.triggers.list({ cursor, status: 'active' })).rejects.toMatchObject(INVALID);
      await expect(scheduler.runs.list({ cursor })).rejects.toMatchObject(INVALID);
      await expect(scheduler.audit.list({ cursor })).rejects.toMatchObject(INVALID);
      // The same query with another page size accepts it.
      const rest = await scheduler.triggers.list({ cursor, limit: 5 });
      expect([...first.items, ...rest.items].map((t) => t.name).sort()).toEqual(['t0', 't1', 't2']);
      await expect(scheduler.triggers.list({ offset: 10 } as never)).rejects.toMatchObject({
        name: 'ValidationError',
        issues: [expect.objectContaining({ path: 'offset', message: expect.stringContaining('cursor') })],
      });
    } finally {
      await cleanup();
    }
  });

  it('never lets a cursor from one owner\'s view page another owner\'s data', async () => {
    const { scheduler, cleanup } = await setup();
    try {
      for (const owner of ['alice', 'bob']) {
        for (let i = 0; i < 3; i++) {
          const t = await scheduler.triggers.create({ name: `t${i}`, owner, taskType: 'job', payload: { n: i }, schedule: { manual: true } });
          await scheduler.triggers.runNow(t.id);
        }
      }
      const alice = scheduler.forOwner('alice');
      const bob = scheduler.forOwner('bob');
      const triggersCursor = (await alice.triggers.list({ limit: 1 })).nextCursor as string;
      const runsCursor = (await alice.runs.list({ limit: 1 })).nextCursor as string;
      await expect(bob.triggers.list({ cursor: triggersCursor })).rejects.toMatchObject(INVALID);
      await expect(bob.runs.list({ cursor: runsCursor })).rejects.toMatchObject(INVALID);
      // The admin view without the same owner filter refuses it too; with it, it is the same query.
      await expect(scheduler.triggers.list({ cursor: triggersCursor })).rejects.toMatchObject(INVALID);
      const next = await scheduler.triggers.list({ owner: 'alice', cursor: triggersCursor });
      expect(next.items.map((t) => t.owner)).toEqual(['alice', 'alice']);
      const bobsWalk = await walk((cursor) => bob.runs.list({ limit: 1, ...(cursor ? { cursor } : {}) }));
      expect(bobsWalk).toHaveLength(3);
      for (const id of bobsWalk) expect((await scheduler.runs.get(id)).owner).toBe('bob');
    } finally {
      await cleanup();
    }
  });
});
