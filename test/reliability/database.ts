/**
 * The parent's view of one scenario's schema: created fresh (store migrations plus the
 * `observed` table), read back for the checks, dropped at the end. Triggers are created and
 * paused through an admin scheduler that is never started (it only writes), so they go through
 * the same validation and compare-and-set as any host's calls.
 */
import { randomBytes } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import pg from 'pg';
import { createScheduler, type AttemptRecord, type RunError, type Scheduler, type Store, type TriggerRecord } from 'punctual';
import { postgresStore } from 'punctual/postgres';
import { TASK, TASK_V2, observedTableSql, taskSchemas } from './tasks.js';

/** A run as the checks need it (epoch ms for instants). */
export interface RunRow {
  id: string;
  triggerId: string;
  source: string;
  status: string;
  overlap: string;
  attempt: number;
  attempts: AttemptRecord[];
  scheduledFor: number;
  createdAt: number;
  startedAt: number | null;
  finishedAt: number | null;
  instanceId: string | null;
  leaseToken: string | null;
  error: RunError | null;
}

/** One execution recorded by a handler. */
export interface ObservedRow {
  runId: string;
  triggerId: string;
  attempt: number;
  pid: number;
  instance: string;
  startedAt: number;
  /** When the handler really ended (aborted ones included); null when that write failed. */
  endedAt: number | null;
  sleepMs: number;
}

const ms = (value: unknown): number => (value as Date).getTime();
const msOrNull = (value: unknown): number | null => (value === null ? null : ms(value));

export class Database {
  readonly admin: Scheduler<typeof taskSchemas>;

  private constructor(
    readonly pool: pg.Pool,
    readonly schema: string,
    readonly store: Store,
  ) {
    this.admin = createScheduler({
      store,
      metricsIntervalMs: 0,
      misfire: 'all',
      handlers: { [TASK]: { schema: taskSchemas[TASK], run: async () => undefined }, [TASK_V2]: { schema: taskSchemas[TASK_V2], run: async () => undefined } },
    });
  }

  /**
   * A new schema `punctual_rel_<random>`, migrated, with the `observed` table. Kept short: the
   * store's prepared-statement names embed the schema (see repro/long-schema-statement-names.ts).
   */
  static async create(databaseUrl: string): Promise<Database> {
    const pool = new pg.Pool({ connectionString: databaseUrl, max: 4, connectionTimeoutMillis: 2_000 });
    // The outage scenarios break this pool's idle connections too; the pool replaces them.
    pool.on('error', () => undefined);
    const schema = `punctual_rel_${randomBytes(4).toString('hex')}`;
    const store = postgresStore(pool, { schema, listen: false });
    try {
      await store.init();
      await pool.query(observedTableSql(schema));
    } catch (error) {
      await pool.end();
      throw error;
    }
    return new Database(pool, schema, store);
  }

  private table(name: string): string {
    return `"${this.schema}".${name}`;
  }

  /** Every run: the queue (pending, running) and the history (final runs), which hold the same columns. */
  private allRuns(): string {
    return `(SELECT * FROM ${this.table('runs')} UNION ALL SELECT * FROM ${this.table('run_history')})`;
  }

  async runs(): Promise<RunRow[]> {
    const { rows } = await this.pool.query(
      `SELECT id, trigger_id, source, status, overlap, attempt, attempts::text AS attempts, scheduled_for, created_at,
         started_at, finished_at, instance_id, lease_token, error::text AS error
       FROM ${this.allRuns()} r`,
    );
    return rows.map((r) => ({
      id: r.id,
      triggerId: r.trigger_id,
      source: r.source,
      status: r.status,
      overlap: r.overlap,
      attempt: r.attempt,
      attempts: JSON.parse(r.attempts) as AttemptRecord[],
      scheduledFor: ms(r.scheduled_for),
      createdAt: ms(r.created_at),
      startedAt: msOrNull(r.started_at),
      finishedAt: msOrNull(r.finished_at),
      instanceId: r.instance_id,
      leaseToken: r.lease_token,
      error: r.error === null ? null : (JSON.parse(r.error) as RunError),
    }));
  }

  async observed(): Promise<ObservedRow[]> {
    const { rows } = await this.pool.query(`SELECT run_id, trigger_id, attempt, pid, instance, started_at, ended_at, sleep_ms FROM ${this.table('observed')}`);
    return rows.map((r) => ({
      runId: r.run_id,
      triggerId: r.trigger_id,
      attempt: r.attempt,
      pid: r.pid,
      instance: r.instance,
      startedAt: ms(r.started_at),
      endedAt: msOrNull(r.ended_at),
      sleepMs: r.sleep_ms,
    }));
  }

  /**
   * The full row of a run as text, to prove a refused write changed nothing. `ignoreLeaseExpiry`:
   * leave out `lease_expires_at`, which a live holder's renewals move on meanwhile.
   */
  async runSnapshot(id: string, options: { ignoreLeaseExpiry?: boolean } = {}): Promise<string> {
    const row = options.ignoreLeaseExpiry ? `to_jsonb(r) - 'lease_expires_at'` : 'to_jsonb(r)';
    const { rows } = await this.pool.query(`SELECT (${row})::text AS row FROM ${this.allRuns()} r WHERE id = $1`, [id]);
    return (rows[0]?.row as string | undefined) ?? 'missing';
  }

  async countRuns(filter: 'schedule' | 'open'): Promise<number> {
    const where = filter === 'schedule' ? `source = 'schedule'` : `status IN ('pending', 'running')`;
    const { rows } = await this.pool.query(`SELECT count(*)::integer AS n FROM ${this.allRuns()} r WHERE ${where}`);
    return rows[0].n as number;
  }

  async triggers(): Promise<TriggerRecord[]> {
    const all: TriggerRecord[] = [];
    for (let cursor: string | undefined; ; ) {
      const page = await this.admin.triggers.list({ limit: 500, ...(cursor ? { cursor } : {}) });
      all.push(...page.items);
      if (page.nextCursor === null) return all;
      cursor = page.nextCursor;
    }
  }

  /** Waits until no run is pending or running; resolves false after `ms`. Store errors (an outage) count as "not yet". */
  async drained(timeoutMs: number): Promise<boolean> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const open = await this.countRuns('open').catch(() => -1);
      if (open === 0) return true;
      if (Date.now() > end) return false;
      await delay(250);
    }
  }

  /** Polls `check` (store errors count as false) every 100 ms until it holds; false after `ms`. */
  async until(check: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      if (await check().catch(() => false)) return true;
      if (Date.now() > end) return false;
      await delay(100);
    }
  }

  /** Drops the schema and closes the pool. Never throws. */
  async drop(): Promise<void> {
    await this.admin.stop().catch(() => undefined);
    await this.pool.query(`DROP SCHEMA IF EXISTS "${this.schema}" CASCADE`).catch((error: unknown) => {
      console.error(`could not drop schema ${this.schema}: ${String(error)}`);
    });
    await this.pool.end().catch(() => undefined);
  }
}
