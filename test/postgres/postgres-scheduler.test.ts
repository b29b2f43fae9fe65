/**
 * End to end on a real PostgreSQL with the real clock: two schedulers (as two service
 * instances would) share one schema through their own store objects.
 */
import { afterAll, describe, expect, it, vi } from 'vitest';
import pg from 'pg';
import { z } from 'zod';
import { createScheduler, type RunRecord } from 'punctual';
import { postgresStore } from '../../src/stores/postgres/index.js';
import { connectPostgres, dropSchema, randomSchema, within } from './harness.js';

const pool = await connectPostgres();

afterAll(async () => {
  await pool?.end();
});

interface Execution {
  runId: string;
  scheduledFor: number;
  source: string;
  instance: string;
}

describe.skipIf(!pool)('two schedulers on one PostgreSQL schema', () => {
  const db = pool as pg.Pool;

  it('runs every interval slot and every manual run exactly once', { timeout: 30_000 }, async () => {
    const schema = randomSchema();
    const executions: Execution[] = [];
    let slotsDone: () => void = () => undefined;
    const enoughSlots = new Promise<void>((resolve) => (slotsDone = resolve));
    const make = (instance: string) =>
      createScheduler({
        instanceId: instance,
        store: postgresStore(db, { schema }),
        pollIntervalMs: 250,
        metricsIntervalMs: 0,
        handlers: {
          tick: {
            schema: z.object({ n: z.number().optional() }),
            run: async (_payload, ctx) => {
              executions.push({ runId: ctx.runId, scheduledFor: ctx.scheduledFor.getTime(), source: ctx.source, instance });
              if (executions.filter((e) => e.source === 'schedule').length >= 5) slotsDone();
            },
          },
        },
      });
    const a = make('pg-a');
    const b = make('pg-b');
    let runs: RunRecord[];
    const manual: string[] = [];
    try {
      await Promise.all([a.start(), b.start()]);
      const trigger = await a.triggers.create({ name: 'tick', owner: 'u1', taskType: 'tick', payload: {}, schedule: { every: 1_000 } });
      for (const [i, scheduler] of [a, b, a, b, b].entries()) {
        manual.push((await scheduler.triggers.runNow(trigger.id, { payload: { n: i } })).id);
      }
      await within(enoughSlots, 15_000, 'five interval slots');
      await b.triggers.pause(trigger.id);
      await vi.waitFor(
        async () => {
          const open = await a.runs.list({ triggerId: trigger.id, limit: 1, status: 'pending' });
          const running = await a.runs.list({ triggerId: trigger.id, limit: 1, status: 'running' });
          expect(open.items.length + running.items.length).toBe(0);
        },
        { timeout: 10_000, interval: 100 },
      );
      runs = (await a.runs.list({ triggerId: trigger.id, limit: 500 })).items;
    } finally {
      await Promise.all([a.stop(), b.stop()]);
      await dropSchema(db, schema);
    }

    const perRun = new Map<string, number>();
    for (const e of executions) perRun.set(e.runId, (perRun.get(e.runId) ?? 0) + 1);
    expect([...perRun.values()].every((n) => n === 1)).toBe(true);
    expect(new Set(runs.map((r) => r.id))).toEqual(new Set(perRun.keys()));
    expect(runs.every((r) => r.status === 'completed' && r.attempt === 1)).toBe(true);

    expect(runs.filter((r) => r.source === 'manual').map((r) => r.id).sort()).toEqual([...manual].sort());
    const slots = runs.filter((r) => r.source === 'schedule').map((r) => r.scheduledFor.getTime()).sort((x, y) => x - y);
    expect(slots.length).toBeGreaterThanOrEqual(5);
    expect(new Set(slots).size).toBe(slots.length);
    // No slot lost between the first and the last: consecutive, one second apart.
    expect(slots.slice(1).map((slot, i) => slot - (slots[i] as number))).toEqual(slots.slice(1).map(() => 1_000));
  });
  it('starts again after stop on the same store and pool, leaving no connection or pool listener behind', { timeout: 30_000 }, async () => {
    const schema = randomSchema();
    const ran: string[] = [];
    const errorListeners = db.listenerCount('error');
    const scheduler = createScheduler({
      instanceId: 'pg-restart',
      store: postgresStore(db, { schema }),
      pollIntervalMs: 250,
      metricsIntervalMs: 0,
      handlers: { tick: { schema: z.object({}), run: (_payload, ctx) => void ran.push(ctx.runId) } },
    });
    try {
      const trigger = await scheduler.triggers.create({ name: 'tick', owner: 'u1', taskType: 'tick', payload: {}, schedule: { manual: true } });
      for (let round = 0; round < 3; round++) {
        await scheduler.start();
        expect((await scheduler.health()).wakeups).toBe('notify');
        const run = await scheduler.triggers.runNow(trigger.id);
        await vi.waitFor(() => expect(ran).toContain(run.id), { timeout: 10_000, interval: 50 });
        await scheduler.stop();
        // The pool is the host's: still open, every client back in it (the LISTEN one included), no listener of ours left.
        expect(db.listenerCount('error')).toBe(errorListeners);
        expect(db.totalCount - db.idleCount).toBe(0);
        expect(db.ended).toBe(false);
      }
      expect(ran).toHaveLength(3);
    } finally {
      await scheduler.stop();
      await dropSchema(db, schema);
    }
  });
  it('refuses to start again when stop() ended the pool the store owned', { timeout: 30_000 }, async () => {
    const schema = randomSchema();
    const owned = new pg.Pool({ connectionString: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test', max: 2 });
    const scheduler = createScheduler({ store: postgresStore(owned, { schema, ownsPool: true }), metricsIntervalMs: 0, handlers: { tick: { schema: z.object({}), run: () => undefined } } });
    try {
      await scheduler.start();
      await scheduler.stop();
      expect(owned.ended).toBe(true);
      await expect(scheduler.start()).rejects.toMatchObject({ name: 'StoppedError', message: expect.stringContaining('ownsPool') });
      expect((await scheduler.health()).status).toBe('stopped');
    } finally {
      await scheduler.stop();
      await dropSchema(db, schema);
    }
  });
});
