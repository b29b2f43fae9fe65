/**
 * Upgrading a database written by the schema before the run queue was split from its history
 * (migrations 1-5): rows written in that layout, then `init()` applies the later migrations,
 * and every record reads back unchanged and goes on through the store (claim, finish, lease
 * takeover, cancel, retention).
 */
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import type pg from 'pg';
import { LATEST_VERSION, MIGRATIONS, PostgresStore } from '../../src/stores/postgres/index.js';
import { AUDIT_COLUMNS, encodeAudit, encodeRun, encodeTrigger, RUN_COLUMNS, TRIGGER_COLUMNS, type Column } from '../../src/stores/postgres/rows.js';
import { names, recordDefs, recordValues } from '../../src/stores/postgres/sql-parts.js';
import { fixtureDate as at, makeAudit, makeRun, makeTrigger } from '../../src/testing/fixtures.js';
import type { RunRecord } from '../../src/types.js';
import { connectPostgres, dropSchema, randomSchema } from './harness.js';

const pool = await connectPostgres();
const DAY = 86_400_000;
/** The last version with finished runs kept in `runs`. */
const BEFORE_SPLIT = 5;

afterAll(async () => {
  await pool?.end();
});

describe.skipIf(!pool)('PostgreSQL: upgrading a schema written before the run queue was split from history', () => {
  const db = pool as pg.Pool;
  let schema: string;
  let s: string;
  beforeEach(() => {
    schema = randomSchema();
    s = `"${schema}"`;
  });
  afterEach(async () => {
    await dropSchema(db, schema);
  });

  /** Writes rows as the old schema's store did: one JSON document per row through jsonb_to_recordset. */
  const write = async (table: string, cols: readonly Column[], rows: Record<string, unknown>[]): Promise<void> => {
    await db.query(
      `INSERT INTO ${s}.${table} (${names(cols)}) SELECT ${recordValues(cols, 'x')} FROM jsonb_to_recordset($1::jsonb) AS x(${recordDefs(cols)})`,
      [JSON.stringify(rows)],
    );
  };

  const trigger = makeTrigger({ id: 'trg-old', nextFireAt: at(60_000) });
  const lease = { token: 'old-token', instanceId: 'old-instance', expiresAt: at(30_000) };
  const runs: Record<string, RunRecord> = {
    pending: makeRun({ id: 'run-pending', triggerId: trigger.id, scheduledFor: at(1_000), availableAt: at(1_000) }),
    waiting: makeRun({ id: 'run-waiting', triggerId: trigger.id, scheduledFor: at(2_000), availableAt: at(500_000) }),
    running: makeRun({ id: 'run-running', triggerId: trigger.id, scheduledFor: at(3_000), status: 'running', attempt: 1, startedAt: at(3_000), instanceId: 'old-instance', lease, progress: { percent: 40, at: at(4_000) } }),
    completed: makeRun({
      id: 'run-completed', triggerId: trigger.id, scheduledFor: at(4_000), status: 'completed', attempt: 1, startedAt: at(4_000),
      finishedAt: at(5_000), durationMs: 1_000, result: { sent: 3 }, expiresAt: at(DAY), instanceId: 'old-instance',
      attempts: [{ attempt: 1, instanceId: 'old-instance', startedAt: at(4_000), finishedAt: at(5_000), outcome: 'completed' }],
    }),
    failed: makeRun({
      id: 'run-failed', scheduledFor: at(5_000), status: 'failed', attempt: 2, startedAt: at(5_000), finishedAt: at(6_000),
      durationMs: 1_000, error: { name: 'Error', message: 'boom' }, expiresAt: at(2 * DAY), owner: 'owner-b',
    }),
    cancelled: makeRun({ id: 'run-cancelled', scheduledFor: at(6_000), status: 'cancelled', finishedAt: at(6_500), expiresAt: at(3 * DAY) }),
  };
  const audit = makeAudit({ id: 'audit-old', triggerId: trigger.id, at: at(100) });

  /** A schema at version 5 holding a trigger, an audit entry and runs in every state. */
  const oldSchema = async (): Promise<void> => {
    await db.query(`CREATE SCHEMA ${s}`);
    await db.query(`CREATE TABLE ${s}.migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
    for (const migration of MIGRATIONS.filter((m) => m.version <= BEFORE_SPLIT)) {
      await db.query(migration.sql(s));
      await db.query(`INSERT INTO ${s}.migrations (version, name) VALUES ($1, $2)`, [migration.version, migration.name]);
    }
    await write('triggers', TRIGGER_COLUMNS, [encodeTrigger(trigger)]);
    await write('runs', RUN_COLUMNS, Object.values(runs).map(encodeRun));
    await write('audit', AUDIT_COLUMNS, [encodeAudit(audit)]);
  };

  it('moves the finished runs to history and reads every record back unchanged', async () => {
    await oldSchema();
    const store = new PostgresStore(db, { schema });
    await store.init();
    const versions = await db.query<{ version: number }>(`SELECT version FROM ${s}.migrations ORDER BY version`);
    expect(versions.rows.map((r) => r.version)).toEqual(MIGRATIONS.map((m) => m.version));
    expect(LATEST_VERSION).toBeGreaterThan(BEFORE_SPLIT);
    const queue = await db.query<{ id: string }>(`SELECT id FROM ${s}.runs ORDER BY id`);
    expect(queue.rows.map((r) => r.id)).toEqual(['run-pending', 'run-running', 'run-waiting']);
    const history = await db.query<{ id: string }>(`SELECT id FROM ${s}.run_history ORDER BY id`);
    expect(history.rows.map((r) => r.id)).toEqual(['run-cancelled', 'run-completed', 'run-failed']);

    for (const run of Object.values(runs)) expect(await store.getRun(run.id)).toEqual(run);
    const newestFirst = Object.values(runs).sort((a, b) => b.scheduledFor.getTime() - a.scheduledFor.getTime());
    expect(await store.listRuns({ limit: 50 })).toEqual(newestFirst);
    const page = await store.listRuns({ limit: 2 });
    const last = page.at(-1) as RunRecord;
    expect([...page, ...(await store.listRuns({ limit: 50, after: { scheduledFor: last.scheduledFor, id: last.id } }))]).toEqual(newestFirst);
    expect(await store.listRuns({ triggerId: trigger.id, status: 'completed', limit: 10 })).toEqual([runs.completed]);
    expect(await store.listRuns({ owner: 'owner-b', limit: 10 })).toEqual([runs.failed]);
    expect(await store.getTrigger(trigger.id)).toEqual(trigger);
    expect(await store.listAudit({ limit: 10 })).toEqual([audit]);
    await store.close();
  });

  it('claims, finishes, takes over, cancels and purges the upgraded runs through the store', async () => {
    await oldSchema();
    const store = new PostgresStore(db, { schema });
    await store.init();
    // The pending run is claimable; the waiting one only when due.
    const claimed = await store.claimRuns({ now: at(10_000), instanceId: 'new', token: 'new-token', leaseMs: 30_000, limit: 10 });
    expect(claimed.map((r) => r.id)).toEqual(['run-pending']);
    // The old holder's lease still renews, and its outcome is written and moved to history.
    expect(await store.renewLeases([{ runId: 'run-running', token: 'old-token', expiresAt: at(31_000) }])).toEqual([{ held: true, cancelRequested: false }]);
    const finish = { status: 'completed' as const, finishedAt: at(20_000), durationMs: 10_000, expiresAt: at(DAY) };
    expect(await store.finishRuns([{ runId: 'run-pending', token: 'new-token', ...finish }])).toEqual([true]);
    expect(await store.getRun('run-pending')).toMatchObject({ status: 'completed', attempt: 1, lease: null });
    // A lapsed lease of an upgraded run is taken over.
    const [taken, ...none] = await store.claimExpiredLeases({ now: at(31_000), instanceId: 'new', token: 'takeover', leaseMs: 30_000, limit: 10 });
    expect(none).toEqual([]);
    expect(taken?.run).toEqual({ ...runs.running, lease: { token: 'takeover', instanceId: 'new', expiresAt: at(61_000) } });
    expect(await store.finishRuns([{ runId: 'run-running', token: 'takeover', ...finish }])).toEqual([true]);
    // Cancelling the trigger's pending runs reaches the waiting one; a finished run is no longer cancellable.
    expect(await store.cancelPendingRuns(trigger.id, at(40_000), DAY)).toBe(1);
    expect(await store.getRun('run-waiting')).toMatchObject({ status: 'cancelled', finishedAt: at(40_000) });
    expect(await store.cancelRun('run-completed', at(40_000), DAY)).toBeNull();
    // The same ids cannot be inserted again, wherever they are now.
    expect(await store.insertRuns([runs.pending as RunRecord, runs.completed as RunRecord])).toEqual([false, false]);
    // Retention: the runs expired by then go (the old completed one, the three ended now).
    expect(await store.purgeExpiredRuns(at(DAY + 40_000), 100)).toBe(4);
    expect((await store.listRuns({ limit: 50 })).map((r) => r.id).sort()).toEqual(['run-cancelled', 'run-failed']);
    const queue = await db.query(`SELECT count(*)::integer AS n FROM ${s}.runs`);
    expect(queue.rows[0]).toEqual({ n: 0 });
    await store.close();
  });
});
