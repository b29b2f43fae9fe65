/* eslint-disable max-lines-per-function -- each migration is the DDL text of one schema version, kept whole and never edited once released; splitting it would hide what a version created. */
import type { PoolClient } from 'pg';
import { StoreError } from '../../errors.js';
import { FINAL_STATUS_LIST, insertRunsFunction } from './insert-runs-function.js';
import { advisoryLockKey, quoteIdent } from './schema.js';

/** One step of the schema. Versions only grow; an applied migration is never edited. */
export interface Migration {
  version: number;
  name: string;
  /** The DDL, given the quoted schema name. Runs inside the migration transaction. */
  sql: (schema: string) => string;
}

const RUN_STATUS_LIST = `'pending', 'running', 'completed', 'failed', 'cancelled', 'timed_out', 'skipped'`;

/** Every migration, oldest first. */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'triggers, runs and audit',
    sql: (s) => `
      CREATE TABLE ${s}.triggers (
        id text COLLATE "C" PRIMARY KEY,
        owner text COLLATE "C" NOT NULL,
        name text COLLATE "C" NOT NULL,
        task_type text COLLATE "C" NOT NULL,
        payload jsonb,
        schedule jsonb NOT NULL,
        status text NOT NULL CHECK (status IN ('active', 'paused', 'completed')),
        next_fire_at timestamptz,
        priority integer NOT NULL,
        timeout_ms integer,
        retry jsonb,
        misfire text NOT NULL,
        misfire_grace_ms integer NOT NULL,
        overlap text NOT NULL,
        run_count integer NOT NULL,
        paused_reason text,
        metadata jsonb,
        created_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL,
        version integer NOT NULL,
        CONSTRAINT triggers_owner_name_key UNIQUE (owner, name)
      );
      -- findDueTriggers: active triggers by next slot.
      CREATE INDEX triggers_due_idx ON ${s}.triggers (next_fire_at, id) WHERE status = 'active';
      -- listTriggers, all owners and one owner.
      CREATE INDEX triggers_created_idx ON ${s}.triggers (created_at, id);
      CREATE INDEX triggers_owner_created_idx ON ${s}.triggers (owner, created_at, id);

      CREATE TABLE ${s}.runs (
        id text COLLATE "C" PRIMARY KEY,
        trigger_id text COLLATE "C" NOT NULL,
        trigger_name text NOT NULL,
        owner text COLLATE "C" NOT NULL,
        task_type text COLLATE "C" NOT NULL,
        payload jsonb,
        source text NOT NULL,
        status text NOT NULL CHECK (status IN (${RUN_STATUS_LIST})),
        priority integer NOT NULL,
        scheduled_for timestamptz NOT NULL,
        available_at timestamptz NOT NULL,
        attempt integer NOT NULL,
        max_attempts integer NOT NULL,
        timeout_ms integer NOT NULL,
        retry jsonb,
        overlap text NOT NULL,
        lease_token text,
        lease_instance text,
        lease_expires_at timestamptz,
        started_at timestamptz,
        finished_at timestamptz,
        duration_ms bigint,
        instance_id text,
        result jsonb,
        error jsonb,
        progress jsonb,
        cancel_requested boolean NOT NULL DEFAULT false,
        attempts jsonb NOT NULL DEFAULT '[]',
        event jsonb,
        created_at timestamptz NOT NULL,
        expires_at timestamptz
      );
      -- claimRuns: pending runs in claim order.
      CREATE INDEX runs_claim_idx ON ${s}.runs (priority DESC, available_at, scheduled_for, id) WHERE status = 'pending';
      -- claimExpiredLeases: running runs by lease expiry.
      CREATE INDEX runs_lease_idx ON ${s}.runs (lease_expires_at, id) WHERE status = 'running';
      -- listRuns and cancelPendingRuns by trigger; listRuns by owner; listRuns of everyone.
      CREATE INDEX runs_trigger_idx ON ${s}.runs (trigger_id, scheduled_for DESC, id DESC);
      CREATE INDEX runs_owner_idx ON ${s}.runs (owner, scheduled_for DESC, id DESC);
      CREATE INDEX runs_scheduled_idx ON ${s}.runs (scheduled_for DESC, id DESC);
      -- purgeExpiredRuns: retention.
      CREATE INDEX runs_expiry_idx ON ${s}.runs (expires_at) WHERE expires_at IS NOT NULL;

      CREATE TABLE ${s}.audit (
        id text COLLATE "C" PRIMARY KEY,
        at timestamptz NOT NULL,
        actor text NOT NULL,
        action text NOT NULL,
        owner text COLLATE "C" NOT NULL,
        trigger_id text COLLATE "C" NOT NULL,
        run_id text,
        details jsonb
      );
      CREATE INDEX audit_at_idx ON ${s}.audit (at DESC, id DESC);
      CREATE INDEX audit_owner_idx ON ${s}.audit (owner, at DESC, id DESC);
      CREATE INDEX audit_trigger_idx ON ${s}.audit (trigger_id, at DESC, id DESC);
    `,
  },
  {
    version: 2,
    name: 'change notifications',
    // Statement-level triggers: one NOTIFY per statement at most, and PostgreSQL folds equal
    // notifications of one transaction into one. Runs notify only when a run became claimable.
    sql: (s) => `
      CREATE FUNCTION ${s}.notify_trigger_changes() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF EXISTS (SELECT 1 FROM changed) THEN
          PERFORM pg_notify(TG_TABLE_SCHEMA || '_changes', 'trigger');
        END IF;
        RETURN NULL;
      END $$;
      CREATE FUNCTION ${s}.notify_run_changes() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF EXISTS (SELECT 1 FROM changed WHERE status = 'pending') THEN
          PERFORM pg_notify(TG_TABLE_SCHEMA || '_changes', 'run');
        END IF;
        RETURN NULL;
      END $$;
      CREATE TRIGGER triggers_notify_insert AFTER INSERT ON ${s}.triggers
        REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION ${s}.notify_trigger_changes();
      CREATE TRIGGER triggers_notify_update AFTER UPDATE ON ${s}.triggers
        REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION ${s}.notify_trigger_changes();
      CREATE TRIGGER triggers_notify_delete AFTER DELETE ON ${s}.triggers
        REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION ${s}.notify_trigger_changes();
      CREATE TRIGGER runs_notify_insert AFTER INSERT ON ${s}.runs
        REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION ${s}.notify_run_changes();
      CREATE TRIGGER runs_notify_update AFTER UPDATE ON ${s}.runs
        REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION ${s}.notify_run_changes();
    `,
  },
  {
    version: 3,
    name: 'locks',
    // Rows are never deleted: a released or expired lock keeps its fence, so fences only grow.
    sql: (s) => `
      CREATE TABLE ${s}.locks (
        resource text COLLATE "C" PRIMARY KEY,
        owner text,
        token text,
        fence bigint NOT NULL,
        expires_at timestamptz NOT NULL
      );
    `,
  },
  {
    version: 4,
    name: 'timing, auto-pause and event lookups',
    // Nullable columns without defaults: adding them rewrites nothing. Existing rows read back
    // with the fields absent. The index holds only active event triggers, keyed by event name.
    sql: (s) => `
      ALTER TABLE ${s}.triggers ADD COLUMN timing jsonb, ADD COLUMN auto_pause jsonb;
      ALTER TABLE ${s}.runs ADD COLUMN pause_after_failures integer;
      -- findEventTriggers: active triggers of one event name, in creation order.
      CREATE INDEX triggers_event_idx ON ${s}.triggers ((schedule->>'event'), created_at, id)
        WHERE status = 'active' AND schedule->>'kind' = 'event';
    `,
  },
  {
    version: 5,
    name: 'trigger listing by name',
    // One owner's listing by name (or name prefix, a LIKE range scan under the "C" collation) is
    // served by the (owner, name) unique index; the admin view's by this one.
    sql: (s) => `
      CREATE INDEX triggers_name_idx ON ${s}.triggers (name, id);
    `,
  },
  {
    version: 6,
    name: 'hot run queue and run history',
    // `runs` keeps pending and running runs only: the claim, lease, per-trigger and listing
    // indexes, and free space on each page so updates that touch no indexed column (progress,
    // cancel requests) stay on the page (HOT). Final runs move to `run_history` (same columns,
    // same order), which carries the owner and retention indexes. Existing final runs move now.
    sql: (s) => `
      CREATE TABLE ${s}.run_history (LIKE ${s}.runs INCLUDING DEFAULTS INCLUDING CONSTRAINTS);
      ALTER TABLE ${s}.run_history ADD CONSTRAINT run_history_pkey PRIMARY KEY (id),
        ADD CONSTRAINT run_history_final_check CHECK (status IN (${FINAL_STATUS_LIST}));
      INSERT INTO ${s}.run_history SELECT * FROM ${s}.runs WHERE status IN (${FINAL_STATUS_LIST});
      DELETE FROM ${s}.runs WHERE status IN (${FINAL_STATUS_LIST});
      -- listRuns by trigger, by owner, of everyone; purgeExpiredRuns.
      CREATE INDEX run_history_trigger_idx ON ${s}.run_history (trigger_id, scheduled_for DESC, id DESC);
      CREATE INDEX run_history_owner_idx ON ${s}.run_history (owner, scheduled_for DESC, id DESC);
      CREATE INDEX run_history_scheduled_idx ON ${s}.run_history (scheduled_for DESC, id DESC);
      CREATE INDEX run_history_expiry_idx ON ${s}.run_history (expires_at) WHERE expires_at IS NOT NULL;
      -- The hot queue. Its listing indexes hold pending runs only, and running runs have their
      -- own small one: a claim (pending to running) then adds no entry to the big indexes, where
      -- each entry of an updated row costs an insert and its cleanup.
      DROP INDEX ${s}.runs_owner_idx;
      DROP INDEX ${s}.runs_expiry_idx;
      DROP INDEX ${s}.runs_trigger_idx;
      DROP INDEX ${s}.runs_scheduled_idx;
      CREATE INDEX runs_trigger_idx ON ${s}.runs (trigger_id, scheduled_for DESC, id DESC) WHERE status = 'pending';
      CREATE INDEX runs_scheduled_idx ON ${s}.runs (scheduled_for DESC, id DESC) WHERE status = 'pending';
      CREATE INDEX runs_running_idx ON ${s}.runs (trigger_id, scheduled_for DESC, id DESC) WHERE status = 'running';
      ALTER TABLE ${s}.runs SET (fillfactor = 70),
        ADD CONSTRAINT runs_hot_check CHECK (status IN ('pending', 'running'));
      -- Only a retry makes an updated run claimable: a row trigger whose WHEN clause the executor
      -- checks per row, instead of a statement trigger copying every claimed or renewed row into
      -- a transition table to look for one.
      DROP TRIGGER runs_notify_update ON ${s}.runs;
      CREATE FUNCTION ${s}.notify_run_pending() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM pg_notify(TG_TABLE_SCHEMA || '_changes', 'run');
        RETURN NULL;
      END $$;
      CREATE TRIGGER runs_notify_pending AFTER UPDATE OF status ON ${s}.runs FOR EACH ROW
        WHEN (NEW.status = 'pending' AND OLD.status <> 'pending') EXECUTE FUNCTION ${s}.notify_run_pending();
      ${insertRunsFunction(s)}
    `,
  },
];

/** The newest schema version this code knows. */
export const LATEST_VERSION = MIGRATIONS.reduce((max, m) => Math.max(max, m.version), 0);

type Client = Pick<PoolClient, 'query'>;

/** The highest applied version, or 0 when the schema or its migrations table is missing. */
async function appliedVersion(client: Client, schema: string): Promise<number> {
  const table = `${quoteIdent(schema)}.migrations`;
  const found = await client.query<{ present: boolean }>('SELECT to_regclass($1) IS NOT NULL AS present', [table]);
  if (!found.rows[0]?.present) return 0;
  const max = await client.query<{ version: number | null }>(`SELECT max(version) AS version FROM ${table}`);
  return max.rows[0]?.version ?? 0;
}

/**
 * Brings `schema` to {@link LATEST_VERSION}. A schema already there costs two reads. Otherwise
 * one transaction holds `pg_advisory_xact_lock(<key of the schema>)`, so instances starting
 * together apply each migration once: the others wait, then find nothing left to do.
 */
export async function migrate(client: Client, schema: string): Promise<void> {
  const current = await appliedVersion(client, schema);
  if (current > LATEST_VERSION) {
    throw new StoreError(
      `PostgreSQL schema "${schema}" is at version ${current}, newer than this punctual (${LATEST_VERSION}); upgrade punctual`,
    );
  }
  if (current === LATEST_VERSION) return;
  const s = quoteIdent(schema);
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock($1::bigint)', [advisoryLockKey(schema)]);
    const exists = await client.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema]);
    if (exists.rowCount === 0) await client.query(`CREATE SCHEMA ${s}`);
    await client.query(`CREATE TABLE IF NOT EXISTS ${s}.migrations (
      version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
    const applied = await client.query<{ version: number }>(`SELECT version FROM ${s}.migrations`);
    const done = new Set(applied.rows.map((row) => row.version));
    for (const migration of MIGRATIONS) {
      if (done.has(migration.version)) continue;
      await client.query(migration.sql(s));
      await client.query(`INSERT INTO ${s}.migrations (version, name) VALUES ($1, $2)`, [migration.version, migration.name]);
    }
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}
