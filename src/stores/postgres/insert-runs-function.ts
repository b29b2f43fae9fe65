/**
 * The `insert_runs` function that migration 6 creates. Its text is part of that schema version:
 * the column lists are frozen here, not taken from `rows.ts`, so a later migration that adds a
 * run column replaces the function (CREATE OR REPLACE) with its own text.
 */

/** The final statuses as of version 6 (also the history table's check in migration 6). */
export const FINAL_STATUS_LIST = `'completed', 'failed', 'cancelled', 'timed_out', 'skipped'`;

/** The run columns as of version 6, in table order. */
const RUN_COLUMNS_V6 = `id, trigger_id, trigger_name, owner, task_type, payload, source, status, priority, scheduled_for,
  available_at, attempt, max_attempts, timeout_ms, retry, overlap, lease_token, lease_instance, lease_expires_at, started_at,
  finished_at, duration_ms, instance_id, result, error, progress, cancel_requested, attempts, event, created_at, expires_at,
  pause_after_failures`;

/** The same columns as read from a JSON record (jsonb columns arrive as JSON text). */
const RUN_RECORD_V6 = `id text, trigger_id text, trigger_name text, owner text, task_type text, payload text, source text,
  status text, priority integer, scheduled_for timestamptz, available_at timestamptz, attempt integer, max_attempts integer,
  timeout_ms integer, retry text, overlap text, lease_token text, lease_instance text, lease_expires_at timestamptz,
  started_at timestamptz, finished_at timestamptz, duration_ms bigint, instance_id text, result text, error text,
  progress text, cancel_requested boolean, attempts text, event text, created_at timestamptz, expires_at timestamptz,
  pause_after_failures integer`;

const JSONB_V6 = new Set(['payload', 'retry', 'result', 'error', 'progress', 'attempts', 'event']);
const RUN_VALUES_V6 = RUN_COLUMNS_V6.split(',').map((c) => c.trim()).map((c) => (JSONB_V6.has(c) ? `x.${c}::jsonb` : `x.${c}`)).join(', ');

/**
 * `insert_runs(batch jsonb)`: inserts a JSON array of runs (at most one per id) and returns the
 * ids inserted. Pending and running runs go to `runs`, final ones to `run_history`, each only
 * when its id is in neither table. One call, one round trip, one transaction (the caller's).
 *
 * Why two statements: a finish that moves run X to history may commit while our insert of X
 * waits on X's row in `runs` (ON CONFLICT waits for the deleting transaction); once the delete
 * commits the row is gone and the insert goes through, although X is now in history, which the
 * insert's snapshot (taken before the finish committed) cannot see. The second statement takes
 * such inserts back. It sees the finish because a VOLATILE function run under READ COMMITTED
 * takes a fresh snapshot for each statement it executes (PostgreSQL, "Function Volatility
 * Categories"), and a commit that our insert waited for happened before that statement
 * started. Both statements commit or roll back with the call.
 */
export function insertRunsFunction(s: string): string {
  return `CREATE FUNCTION ${s}.insert_runs(batch jsonb) RETURNS SETOF text LANGUAGE plpgsql VOLATILE AS $fn$
      DECLARE
        inserted text[];
      BEGIN
        WITH x AS MATERIALIZED (
          SELECT * FROM jsonb_to_recordset(batch) AS x(${RUN_RECORD_V6})
          WHERE NOT EXISTS (SELECT 1 FROM ${s}.run_history h WHERE h.id = x.id)
        ), hot AS (
          INSERT INTO ${s}.runs (${RUN_COLUMNS_V6}) SELECT ${RUN_VALUES_V6} FROM x
          WHERE x.status NOT IN (${FINAL_STATUS_LIST})
          ON CONFLICT (id) DO NOTHING RETURNING runs.id
        ), done AS (
          INSERT INTO ${s}.run_history (${RUN_COLUMNS_V6}) SELECT ${RUN_VALUES_V6} FROM x
          WHERE x.status IN (${FINAL_STATUS_LIST}) AND NOT EXISTS (SELECT 1 FROM ${s}.runs r WHERE r.id = x.id)
          ON CONFLICT (id) DO NOTHING RETURNING run_history.id
        )
        SELECT array_agg(n.id) INTO inserted FROM (SELECT hot.id FROM hot UNION ALL SELECT done.id FROM done) n;
        IF inserted IS NULL THEN
          RETURN;
        END IF;
        -- A new snapshot: takes back inserts of ids a finish moved to history meanwhile.
        RETURN QUERY WITH taken AS (
          DELETE FROM ${s}.runs r WHERE r.id = ANY (inserted)
            AND EXISTS (SELECT 1 FROM ${s}.run_history h WHERE h.id = r.id)
          RETURNING r.id
        )
        SELECT u.id FROM unnest(inserted) AS u(id) WHERE NOT EXISTS (SELECT 1 FROM taken WHERE taken.id = u.id);
      END $fn$;`;
}
