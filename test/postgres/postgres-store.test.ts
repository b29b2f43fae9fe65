import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type pg from 'pg';
import { LATEST_VERSION, MIGRATIONS, PostgresStore, postgresStore } from '../../src/stores/postgres/index.js';
import { RunSql } from '../../src/stores/postgres/run-sql.js';
import { likePrefix, listStatement, PostgresSql } from '../../src/stores/postgres/sql.js';
import type { StoreChange } from '../../src/stores/types.js';
import type { RunRecord, TriggerRecord } from '../../src/types.js';
import { fixtureDate as at, makeRun, makeSlotFire, makeSlotRun, makeTrigger, makeTriggerWrite } from '../../src/testing/fixtures.js';
import { lockStoreContract } from '../../src/testing/lock-store-contract.js';
import { storeContract } from '../../src/testing/store-contract.js';
import { connectPostgres, dropSchema, randomSchema, within } from './harness.js';

const pool = await connectPostgres();

afterAll(async () => {
  await pool?.end();
});

describe.skipIf(!pool)('PostgreSQL store', () => {
  const db = pool as pg.Pool;

  storeContract(
    'postgres',
    async () => {
      const schema = randomSchema();
      const store = postgresStore(db, { schema });
      return {
        store,
        cleanup: async () => {
          await store.close();
          await dropSchema(db, schema);
        },
      };
    },
    { capabilities: { notify: true } },
  );

  lockStoreContract('postgres', async () => {
    const schema = randomSchema();
    const store = new PostgresStore(db, { schema });
    await store.init();
    return {
      store: store.createLockStore(),
      cleanup: async () => {
        await store.close();
        await dropSchema(db, schema);
      },
    };
  });

  describe('PostgreSQL specifics', () => {
    let schema: string;
    let store: PostgresStore;
    beforeEach(() => {
      schema = randomSchema();
      store = new PostgresStore(db, { schema });
    });
    afterEach(async () => {
      await store.close();
      await dropSchema(db, schema);
    });

    it('applies each migration once when four instances start together on a fresh schema', async () => {
      const stores = Array.from({ length: 4 }, () => new PostgresStore(db, { schema }));
      await Promise.all(stores.map((s) => s.init()));
      const { rows } = await db.query<{ version: number; name: string }>(`SELECT version, name FROM "${schema}".migrations ORDER BY version`);
      expect(rows).toEqual(MIGRATIONS.map((m) => ({ version: m.version, name: m.name })));
      expect(rows.at(-1)?.version).toBe(LATEST_VERSION);
      await Promise.all(stores.map((s) => s.init()));
      const tables = await db.query<{ table_name: string }>(
        'SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name', [schema],
      );
      expect(tables.rows.map((r) => r.table_name)).toEqual(['audit', 'locks', 'migrations', 'run_history', 'runs', 'triggers']);
      await Promise.all(stores.map((s) => s.close()));
    });

    it('applies only the first finish that holds a run when a batch repeats it', async () => {
      await store.init();
      await store.insertRuns([makeRun({ id: 'run-a' }), makeRun({ id: 'run-b' })]);
      const claim = { now: at(0), instanceId: 'i', leaseMs: 30_000, limit: 2 };
      expect(await store.claimRuns({ ...claim, token: 'tok' })).toHaveLength(2);
      const done = { status: 'completed', finishedAt: at(1), durationMs: 1, expiresAt: at(2) } as const;
      const failed = { status: 'failed', finishedAt: at(1), durationMs: 1, expiresAt: at(2), error: { name: 'E', message: 'm' } } as const;
      const results = await store.finishRuns([
        { runId: 'run-a', token: 'tok', ...done, result: 1 },
        { runId: 'run-b', token: 'stale', ...failed },
        { runId: 'run-a', token: 'tok', ...failed },
        { runId: 'run-b', token: 'tok', ...done, result: 2 },
        { runId: 'run-b', token: 'tok', ...done, result: 3 },
      ]);
      expect(results).toEqual([true, false, false, true, false]);
      expect(await store.getRun('run-a')).toMatchObject({ status: 'completed', result: 1, lease: null });
      expect(await store.getRun('run-b')).toMatchObject({ status: 'completed', result: 2, lease: null });
    });

    it('takes back an insert of a run that a finish moved to history while the insert waited on it', async () => {
      await store.init();
      await store.insertRuns([makeRun({ id: 'run-race' })]);
      expect(await store.claimRuns({ now: at(0), instanceId: 'i', token: 'tok', leaseMs: 30_000, limit: 1 })).toHaveLength(1);
      // The finish holds run-race's row in `runs` (deleted, not yet committed) ...
      const finisher = await db.connect();
      try {
        await finisher.query('BEGIN');
        const finish = JSON.stringify([{ i: 0, run_id: 'run-race', token: 'tok', status: 'completed', finished_at: at(1), duration_ms: 1, expires_at: at(2) }]);
        await finisher.query(new RunSql(schema).finishRuns, [finish]);
        // ... so an insert of the same id waits for it, before it can see the history row.
        const inserting = store.insertRuns([makeRun({ id: 'run-race' })]);
        const waiting = async (): Promise<void> => {
          for (;;) {
            const { rows } = await db.query(`SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%insert_runs%'`);
            if (rows.length > 0) return;
            await new Promise((resolve) => setTimeout(resolve, 10));
          }
        };
        await within(waiting(), 5_000, 'the insert waiting on the finish');
        await finisher.query('COMMIT');
        expect(await inserting).toEqual([false]);
      } finally {
        finisher.release();
      }
      const { rows } = await db.query(`SELECT (SELECT count(*) FROM "${schema}".runs)::int AS queue, (SELECT count(*) FROM "${schema}".run_history)::int AS history`);
      expect(rows[0]).toEqual({ queue: 0, history: 1 });
      expect(await store.getRun('run-race')).toMatchObject({ status: 'completed' });
    });

    it('refuses a schema migrated by a newer version', async () => {
      await store.init();
      await db.query(`INSERT INTO "${schema}".migrations (version, name) VALUES ($1, 'from the future')`, [LATEST_VERSION + 1]);
      await expect(store.init()).rejects.toMatchObject({ name: 'StoreError', message: expect.stringMatching(/newer than this punctual/) });
    });

    it('upgrades a version-3 schema holding data: old rows read back without the new fields', async () => {
      const s = `"${schema}"`;
      await db.query(`CREATE SCHEMA ${s}`);
      await db.query(`CREATE TABLE ${s}.migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
      for (const migration of MIGRATIONS.filter((m) => m.version <= 3)) {
        await db.query(migration.sql(s));
        await db.query(`INSERT INTO ${s}.migrations (version, name) VALUES ($1, $2)`, [migration.version, migration.name]);
      }
      await db.query(
        `INSERT INTO ${s}.triggers (id, owner, name, task_type, payload, schedule, status, next_fire_at, priority,
           misfire, misfire_grace_ms, overlap, run_count, created_at, updated_at, version)
         VALUES ('trg-old', 'o', 'old', 'task-a', '{}', '{"kind":"event","event":"user.signup"}', 'active', NULL, 0,
           'once', 60000, 'queue', 0, $1, $1, 1)`,
        [at(0)],
      );
      await db.query(
        `INSERT INTO ${s}.runs (id, trigger_id, trigger_name, owner, task_type, payload, source, status, priority,
           scheduled_for, available_at, attempt, max_attempts, timeout_ms, overlap, created_at)
         VALUES ('run-old', 'trg-old', 'old', 'o', 'task-a', '{}', 'event', 'pending', 0, $1, $1, 0, 1, 1000, 'queue', $1)`,
        [at(0)],
      );
      await store.init();
      const { rows } = await db.query<{ version: number }>(`SELECT version FROM ${s}.migrations ORDER BY version`);
      expect(rows.map((r) => r.version)).toEqual(MIGRATIONS.map((m) => m.version));
      const trigger = (await store.getTrigger('trg-old')) as TriggerRecord;
      expect(trigger).toMatchObject({ id: 'trg-old', schedule: { kind: 'event', event: 'user.signup' } });
      expect('timing' in trigger || 'autoPause' in trigger).toBe(false);
      expect((await store.findEventTriggers('user.signup', 10, 0)).map((t) => t.id)).toEqual(['trg-old']);
      const run = (await store.getRun('run-old')) as RunRecord;
      expect(run).toMatchObject({ id: 'run-old', status: 'pending' });
      expect('pauseAfterFailures' in run).toBe(false);
      const updated = makeTriggerWrite(trigger, { autoPause: { afterFailures: 2, consecutiveFailures: 0 } });
      expect(await store.updateTrigger(updated)).toBe(true);
      expect(await store.getTrigger('trg-old')).toEqual(updated.next);
    });

    it('keeps the new fields in their own columns, and answers an empty page without a query', async () => {
      await store.init();
      const trigger = makeTrigger({
        schedule: { kind: 'event', event: 'e', debounceMs: 100 }, nextFireAt: null,
        timing: { maxRuns: 2 }, autoPause: { afterFailures: 1, consecutiveFailures: 0 },
      });
      await store.insertTrigger(trigger);
      await store.insertRuns([makeRun({ id: 'run-paf', pauseAfterFailures: 4 })]);
      const row = await db.query(`SELECT timing, auto_pause FROM "${schema}".triggers WHERE id = $1`, [trigger.id]);
      expect(row.rows[0]).toEqual({ timing: { maxRuns: 2 }, auto_pause: { afterFailures: 1, consecutiveFailures: 0 } });
      const run = await db.query(`SELECT pause_after_failures FROM "${schema}".runs WHERE id = 'run-paf'`);
      expect(run.rows[0]).toEqual({ pause_after_failures: 4 });
      expect(await store.findEventTriggers('e', 0, 0)).toEqual([]);
      expect(await store.findEventTriggers('e', -5, -1)).toEqual([]);
      expect(await store.findEventTriggers('e', 5, -1)).toEqual([trigger]);
    });

    it('keeps JSON null apart from absent values, and stores Dates inside JSON as Dates again', async () => {
      await store.init();
      const run = makeRun({
        payload: null, result: null, progress: { percent: 5, at: at(7) },
        event: { name: 'user.signup', data: { userId: 'u1', n: null }, publishedAt: at(-1) },
        attempts: [{ attempt: 1, instanceId: 'i', startedAt: at(1), finishedAt: at(2), outcome: 'retry', error: { name: 'E', message: 'm' } }],
      });
      const bare = makeRun();
      delete (bare as { retry?: unknown }).retry;
      await store.insertRuns([run, bare]);
      expect(await store.getRun(run.id)).toEqual(run);
      const got = await store.getRun(bare.id);
      expect(got).toEqual(bare);
      expect(got && 'retry' in got).toBe(false);
      expect(got && 'result' in got).toBe(false);
      const trigger = makeTrigger({ payload: null, pausedReason: 'holiday', metadata: { nested: { list: [1, null] } } });
      await store.insertTrigger(trigger);
      expect(await store.getTrigger(trigger.id)).toEqual(trigger);
    });

    it('turns a rename conflict inside fireSlots into ConflictError, writing nothing', async () => {
      await store.init();
      const a = makeTrigger({ owner: 'o', name: 'a', nextFireAt: at(0) });
      const b = makeTrigger({ owner: 'o', name: 'b', nextFireAt: at(0) });
      await store.insertTrigger(a);
      await store.insertTrigger(b);
      const fireA = makeSlotFire(a, makeSlotRun(a));
      const renaming = makeSlotFire(b, makeSlotRun(b));
      renaming.next.name = 'a';
      await expect(store.fireSlots([fireA, renaming])).rejects.toMatchObject({ name: 'ConflictError', code: 'CONFLICT' });
      expect(await store.getTrigger(a.id)).toEqual(a);
      expect(await store.getRun((fireA.run as RunRecord).id)).toBeNull();
    });

    it('wraps driver errors in StoreError with the cause', async () => {
      await expect(store.getTrigger('x')).rejects.toMatchObject({ name: 'StoreError', code: 'STORE', cause: { code: '42P01' } });
      const { Pool } = (await import('pg')).default;
      const nowhere = new Pool({ connectionString: 'postgres://postgres@127.0.0.1:1/test', connectionTimeoutMillis: 500 });
      const offline = postgresStore(nowhere, { schema, ownsPool: true });
      const error = await offline.ping().catch((e: unknown) => e);
      expect(error).toMatchObject({ name: 'StoreError', message: expect.stringMatching(/retries/) });
      expect((error as Error).cause).toMatchObject({ code: 'ECONNREFUSED' });
      await offline.close();
      expect(nowhere.ended).toBe(true);
      expect(() => postgresStore(db, { schema: 'bad-name' })).toThrow(/schema must be/);
    });

    it('wakes a listener when another store object changes triggers or runs, and not for claims', async () => {
      await store.init();
      const writer = new PostgresStore(db, { schema });
      const changes: StoreChange[] = [];
      let heard: (kind: StoreChange['kind']) => void = () => undefined;
      const unsubscribe = await store.subscribe((change) => {
        changes.push(change);
        heard(change.kind);
      });
      const next = (kind: StoreChange['kind']) => new Promise<void>((resolve) => (heard = (k) => k === kind && resolve()));
      try {
        let waiting = next('trigger');
        const trigger = makeTrigger();
        await writer.insertTrigger(trigger);
        await within(waiting, 5_000, 'trigger notification');
        waiting = next('run');
        await writer.insertRuns([makeRun()]);
        await within(waiting, 5_000, 'run notification');
        // A claim only takes work: nobody needs waking. A trigger write afterwards proves delivery went on.
        changes.length = 0;
        await writer.claimRuns({ now: at(10), instanceId: 'i', token: 't', leaseMs: 1_000, limit: 10 });
        waiting = next('trigger');
        await writer.updateTrigger(makeTriggerWrite(trigger, { status: 'paused' }));
        await within(waiting, 5_000, 'trigger notification after the claim');
        expect(changes.map((c) => c.kind)).toEqual(['trigger']);
      } finally {
        await unsubscribe?.();
        await writer.close();
      }
      expect(await postgresStore(db, { schema, listen: false }).subscribe?.(() => undefined)).toBeNull();
    });

    it('reconnects the feed when its connection is killed, reporting the outage', async () => {
      await store.init();
      const states: boolean[] = [];
      let stateChanged: () => void = () => undefined;
      const kinds: string[] = [];
      const unsubscribe = await store.subscribe(
        (change) => kinds.push(change.kind),
        (active) => {
          states.push(active);
          stateChanged();
        },
      );
      try {
        const back = new Promise<void>((resolve) => (stateChanged = () => states.at(-1) === true && resolve()));
        const killed = await db.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query = $1', [`LISTEN "${schema}_changes"`]);
        expect(killed.rowCount).toBe(1);
        await within(back, 5_000, 'reconnection');
        expect(states).toEqual([false, true]);
        expect(kinds).toEqual(['trigger', 'run']);
        await store.insertTrigger(makeTrigger());
        await vi.waitFor(() => expect(kinds).toHaveLength(3), { timeout: 5_000, interval: 10 });
      } finally {
        await unsubscribe?.();
      }
    });
  });

  /** Every node of an EXPLAIN (FORMAT JSON) plan. */
  const nodes = (plan: Record<string, unknown>): Record<string, unknown>[] => [
    plan,
    ...((plan.Plans as Record<string, unknown>[] | undefined) ?? []).flatMap(nodes),
  ];
  /** The plan PostgreSQL picks for `text` with these parameter values (a custom plan). */
  const explain = async (text: string, values: unknown[]) => {
    const { rows } = await db.query<{ 'QUERY PLAN': [{ Plan: Record<string, unknown> }] }>(`EXPLAIN (FORMAT JSON) ${text}`, values);
    const all = nodes((rows[0] as { 'QUERY PLAN': [{ Plan: Record<string, unknown> }] })['QUERY PLAN'][0].Plan);
    return {
      seqScans: all.filter((n) => n['Node Type'] === 'Seq Scan').map((n) => n['Relation Name']),
      sorts: all.filter((n) => n['Node Type'] === 'Sort').length,
      indexes: all.map((n) => n['Index Name']).filter(Boolean),
    };
  };

  describe('query plans at 20,000 rows', () => {
    const schema = randomSchema();
    const sql = new PostgresSql(schema);
    const runSql = new RunSql(schema);
    const ROWS = 20_000;
    let store: PostgresStore;

    beforeAll(() => {
      store = new PostgresStore(db, { schema });
    });
    afterAll(async () => {
      await store.close();
      await dropSchema(db, schema);
    });

    it('fills the tables through the store', { timeout: 60_000 }, async () => {
      await store.init();
      for (let start = 0; start < ROWS; start += 2_000) {
        const runs = Array.from({ length: 2_000 }, (_, k) => {
          const i = start + k;
          const kind = i % 20;
          const scheduledFor = at(i * 1_000);
          if (kind === 0) return makeRun({ scheduledFor, triggerId: `trg-${i % 300}`, availableAt: at(i * 1_000) });
          if (kind === 1) {
            const lease = { token: `t${i}`, instanceId: 'i', expiresAt: at(i * 1_000 + 30_000) };
            return makeRun({ scheduledFor, triggerId: `trg-${i % 300}`, status: 'running', attempt: 1, startedAt: scheduledFor, lease });
          }
          return makeRun({
            scheduledFor, triggerId: `trg-${i % 300}`, status: 'completed', attempt: 1, startedAt: scheduledFor,
            finishedAt: scheduledFor, durationMs: 10, expiresAt: at(90 * 86_400_000 + i * 1_000),
          });
        });
        expect(await store.insertRuns(runs)).not.toContain(false);
      }
      await db.query(
        `INSERT INTO "${schema}".triggers (id, owner, name, task_type, payload, schedule, status, next_fire_at, priority,
           misfire, misfire_grace_ms, overlap, run_count, created_at, updated_at, version)
         SELECT 'trg-bulk-' || i, 'owner-' || (i % 50), 'name-' || i, 'task-a', '{}',
           CASE WHEN i % 4 = 0 THEN jsonb_build_object('kind', 'event', 'event', 'evt-' || (i % 199)) ELSE '{"kind":"manual"}' END,
           CASE WHEN i % 10 = 0 THEN 'paused' ELSE 'active' END, $1::timestamptz + i * interval '997 ms', 0,
           'once', 60000, 'queue', 0, $1, $1, 1
         FROM generate_series(1, ${ROWS}) AS i`,
        [at(3_600_000)],
      );
      await db.query(`ANALYZE "${schema}".runs; ANALYZE "${schema}".run_history; ANALYZE "${schema}".triggers`);
      const counts = await db.query(`SELECT (SELECT count(*) FROM "${schema}".runs)::int AS queue,
        (SELECT count(*) FROM "${schema}".run_history)::int AS history, (SELECT count(*) FROM "${schema}".triggers)::int AS triggers`);
      // Pending and running runs (2 in 20) are in the queue, finished ones in history.
      expect(counts.rows[0]).toEqual({ queue: ROWS / 10, history: ROWS - ROWS / 10, triggers: ROWS });
      // Every 4th trigger has an event schedule, ~25 per name; those with i % 10 = 0 are paused.
      const active = Array.from({ length: ROWS }, (_, k) => k + 1).filter((i) => i % 4 === 0 && i % 199 === 8 && i % 10 !== 0);
      expect(active.length).toBeGreaterThan(10);
      const events = await store.findEventTriggers('evt-8', 100, 0);
      expect(events.map((t) => t.id)).toEqual(active.map((i) => `trg-bulk-${i}`).sort());
    });

    it.each([
      ['claim', () => runSql.claimRuns(false), () => [at(5_000_000), 'i', 't', at(5_030_000), 50], 'runs_claim_idx'],
      ['claim by task type', () => runSql.claimRuns(true), () => [at(5_000_000), 'i', 't', at(5_030_000), 50, ['task-a']], 'runs_claim_idx'],
      ['due triggers', () => sql.findDueTriggers, () => [at(3_700_000), 500], 'triggers_due_idx'],
      ['finish', () => runSql.finishRuns, () => [JSON.stringify([{ i: 0, run_id: 'run-x', token: 't1', status: 'completed', finished_at: at(0), duration_ms: 1, has_result: false, expires_at: at(1) }])], 'runs_pkey'],
      ['expired leases', () => runSql.claimExpiredLeases(false), () => [at(2_000_000), 'i', 't', at(2_030_000), 100], 'runs_lease_idx'],
      ['expired leases by task type', () => runSql.claimExpiredLeases(true), () => [at(2_000_000), 'i', 't', at(2_030_000), 100, ['task-a']], 'runs_lease_idx'],
      ['retention', () => runSql.purgeExpiredRuns, () => [at(90 * 86_400_000 + 100_000), 1_000], 'run_history_expiry_idx'],
      ['cancel pending runs of a trigger', () => runSql.cancelPendingRuns, () => ['trg-7', at(0), at(1)], 'runs_trigger_idx'],
      ['renew leases', () => runSql.renewLeases, () => [JSON.stringify([{ i: 0, run_id: 'run-x', token: 't1', expires_at: at(1) }])], 'runs_pkey'],
      ['get a run (queue)', () => runSql.getRun, () => ['run-x', null], 'runs_pkey'],
      ['get a run (history)', () => runSql.getRun, () => ['run-x', null], 'run_history_pkey'],
      ['event triggers', () => sql.findEventTriggers, () => ['evt-8', 100, 0], 'triggers_event_idx'],
      ['event triggers, a later page', () => sql.findEventTriggers, () => ['evt-12', 10, 20], 'triggers_event_idx'],
    ] as const)('%s uses its index, with no sequential scan', async (_name, text, values, index) => {
      const plan = await explain(text(), [...values()]);
      expect(plan.seqScans).toEqual([]);
      expect(plan.indexes).toContain(index);
    });

    // Keyset pages of the listings: an index from the position, never a scan of the table. Where
    // the filter selects many rows, no sort either (one owner's triggers, one trigger's runs are
    // few here, and reading them through the index then sorting is the cheaper plan).
    const triggers = () => [`${sql.triggers} t`, sql.triggerSelect] as const;
    it.each([
      ['triggers of one owner by createdAt', triggers, { 't.owner': 'owner-7', '(t.created_at, t.id) >': [at(3_600_000), 'trg-bulk-9000'] }, 't.created_at ASC, t.id ASC', /^triggers_(owner_)?created_idx$/, false],
      ['all triggers by createdAt', triggers, { '(t.created_at, t.id) >': [at(3_600_000), 'trg-bulk-9000'] }, 't.created_at ASC, t.id ASC', /^triggers_created_idx$/, true],
      ['all triggers by name, descending', triggers, { '(t.name, t.id) <': ['name-5000', 'trg-bulk-5000'] }, 't.name DESC, t.id DESC', /^triggers_name_idx$/, true],
      ['all triggers by name prefix', triggers, { 't.name LIKE': likePrefix('name-123') }, 't.name ASC, t.id ASC', /^triggers_name_idx$/, true],
    ] as const)('listing %s reads an index from the position', async (_name, table, filters, orderBy, index, sortFree) => {
      const [from, select] = table();
      const statement = listStatement(from, select, filters, orderBy, 51);
      const plan = await explain(statement.text, statement.values);
      expect(plan.seqScans).toEqual([]);
      if (sortFree) expect(plan.sorts).toBe(0);
      expect(plan.indexes).toEqual(expect.arrayContaining([expect.stringMatching(index)]));
    });

    // Run listings read a page from the queue and one from history, each through its own index,
    // then merge them. One owner's page may read the queue (pending and running runs only, no
    // owner index there: it would cost two index writes per run) but never scans history. The
    // queue's listing indexes hold pending runs only; running runs have `runs_running_idx`.
    it.each([
      ['runs of one trigger', { 'r.trigger_id': 'trg-7', '(r.scheduled_for, r.id) <': [at(10_000_000), 'run-x'] }, undefined, ['runs_trigger_idx', 'run_history_trigger_idx'], []],
      ['runs of one owner', { 'r.owner': 'owner-1', '(r.scheduled_for, r.id) <': [at(10_000_000), 'run-x'] }, undefined, ['run_history_owner_idx'], ['runs']],
      // Running runs (at most the instances' concurrency) have no index in listing order: here
      // they are half of a 2,000-row queue, so reading the queue is the planner's right choice.
      ['all runs', { '(r.scheduled_for, r.id) <': [at(10_000_000), 'run-x'] }, undefined, ['runs_scheduled_idx', 'run_history_scheduled_idx'], ['runs']],
      ['finished runs of one trigger', { 'r.trigger_id': 'trg-7', 'r.status': 'completed' }, 'completed', ['run_history_trigger_idx'], []],
      ['running runs of one trigger', { 'r.trigger_id': 'trg-7', 'r.status': 'running' }, 'running', ['runs_running_idx'], []],
    ] as const)('listing %s reads an index from the position', async (_name, filters, status, indexes, queueScan) => {
      const statement = runSql.listRuns(filters, status, 51);
      const plan = await explain(statement.text, statement.values);
      expect(plan.seqScans.filter((table) => !(queueScan as readonly string[]).includes(table as string))).toEqual([]);
      expect(plan.indexes).toEqual(expect.arrayContaining([...indexes]));
    });
  });

  describe('claim plans whatever the statistics say', () => {
    const schema = randomSchema();
    const sql = new RunSql(schema);
    const PENDING = 5_000;
    let store: PostgresStore;

    beforeAll(async () => {
      store = new PostgresStore(db, { schema });
      await store.init();
    });
    afterAll(async () => {
      await store.close();
      await dropSchema(db, schema);
    });

    const insertPending = async (): Promise<void> => {
      for (let start = 0; start < PENDING; start += 1_000) {
        await store.insertRuns(Array.from({ length: 1_000 }, (_, k) => makeRun({ scheduledFor: at((start + k) * 1_000) })));
      }
    };
    const claims = [
      ['claim', () => sql.claimRuns(false), [at(9e9), 'i', 't', at(9e9 + 30_000), 50]],
      ['claim by task type', () => sql.claimRuns(true), [at(9e9), 'i', 't', at(9e9 + 30_000), 50, ['task-a']]],
    ] as const;
    /** Claims walk runs_claim_idx in order: no sort of every pending run, no scan of the table. */
    const expectIndexWalk = async (text: string, values: readonly unknown[]): Promise<void> => {
      const plan = await explain(text, [...values]);
      expect(plan.seqScans).toEqual([]);
      expect(plan.sorts).toBe(0);
      expect(plan.indexes).toContain('runs_claim_idx');
    };

    // A fresh table has no statistics: the planner guesses a handful of pending runs, and a
    // plan that fits a handful (read them all, sort) costs tens of ms per claim at thousands.
    // (Not by task type: there the guess drops to one row, and with one row the sort still wins.)
    it('claim: before the table was ever analyzed', async () => {
      await insertPending();
      const [, text, values] = claims[0];
      await expectIndexWalk(text(), values);
    });

    // Statistics taken while the queue was empty, then a burst of work: the same wrong guess.
    it.each(claims)('%s: with statistics from when nothing was pending', async (_name, text, values) => {
      await db.query(`DELETE FROM "${schema}".runs`);
      await db.query(`ANALYZE "${schema}".runs`);
      await insertPending();
      await expectIndexWalk(text(), values);
    });
  });
});
