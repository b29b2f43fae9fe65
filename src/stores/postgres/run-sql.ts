import type { RunStatus } from '../../types.js';
import { RUN_COLUMNS } from './rows.js';
import { listStatement, names, selectList } from './sql-parts.js';
import { quoteIdent } from './schema.js';

/** The columns a claim sets from its parameters: not sent back (see `PostgresRuns.claimRuns`). */
export const CLAIM_SET = new Set(['status', 'started_at', 'instance_id', 'lease_token', 'lease_instance', 'lease_expires_at']);
const CLAIM_RETURNED = RUN_COLUMNS.filter((c) => !CLAIM_SET.has(c.name));
const CLAIM_ORDER = 'priority DESC, available_at, scheduled_for, id';
const LISTING_ORDER = 'r.scheduled_for DESC, r.id DESC';
const FINISH_DEFS = `i integer, run_id text, token text, status text, finished_at timestamptz, duration_ms bigint,
  has_result boolean, result text, error jsonb, expires_at timestamptz, progress jsonb, available_at timestamptz,
  undo_attempt boolean, attempt_record jsonb`;

/**
 * The statements on runs. A run lives in one of two tables of the same columns: `runs`, the hot
 * queue, holds pending and running runs (few rows, few indexes, fillfactor for HOT updates);
 * `run_history` holds final runs, appended when they finish and keyed for listings and
 * retention. A statement that ends runs deletes them from `runs` and inserts them into
 * `run_history` in one statement, so every snapshot sees each run in exactly one table.
 */
export class RunSql {
  readonly runs: string;
  readonly history: string;
  private readonly schema: string;
  readonly runSelect = selectList(RUN_COLUMNS, 'r');

  constructor(schema: string) {
    const s = quoteIdent(schema);
    this.schema = s;
    this.runs = `${s}.runs`;
    this.history = `${s}.run_history`;
  }

  /**
   * $1 JSON array of runs, at most one per id: the schema's `insert_runs` function (see
   * `insert-runs-function.ts`), one round trip. Returns the ids inserted, as `id`.
   */
  get insertRuns(): string {
    return `SELECT id FROM ${this.schema}.insert_runs($1::jsonb) AS id`;
  }

  /** $1 id, $2 owner or null. A run is in one table or the other. */
  get getRun(): string {
    const one = (table: string) => `(SELECT ${this.runSelect} FROM ${table} r WHERE r.id = $1 AND ($2::text IS NULL OR r.owner = $2))`;
    return `${one(this.runs)} UNION ALL ${one(this.history)} LIMIT 1`;
  }

  /**
   * One keyset page of run history: a page from each part that can hold runs of `status`, each
   * from its own listing index (pending runs: `runs_trigger_idx`, `runs_scheduled_idx`; running
   * runs: `runs_running_idx`, or `runs_lease_idx` for all of them; final runs: the history
   * indexes), merged. `filters` as for `listStatement`, on alias `r`.
   */
  listRuns(filters: Record<string, unknown>, status: RunStatus | undefined, limit: number): { text: string; values: unknown[] } {
    const cut = Math.max(0, Math.floor(limit));
    const hot = (s: 'pending' | 'running') => ({ table: this.runs, only: ` r.status = '${s}'` });
    const old = { table: this.history, only: '' };
    const parts = status === undefined ? [hot('pending'), hot('running'), old] : [status === 'pending' || status === 'running' ? hot(status) : old];
    const cols = names(RUN_COLUMNS);
    const from = (where: string): string => {
      const pages = parts.map(({ table, only }) => {
        const cond = only === '' ? where : where === '' ? ` WHERE${only}` : `${where} AND${only}`;
        return `(SELECT ${cols} FROM ${table} r${cond} ORDER BY ${LISTING_ORDER} LIMIT ${cut})`;
      });
      return `(${pages.join(' UNION ALL ')}) r`;
    };
    return listStatement(from, this.runSelect, filters, LISTING_ORDER, cut);
  }

  /**
   * $1 now, $2 instance id, $3 token, $4 lease expiry, $5 limit, [$6 task types]. One
   * statement; the locking SELECT is served by `runs_claim_idx` and skips rows other claimers
   * hold. It is a MATERIALIZED CTE so it runs exactly once: as a subquery the planner may
   * rescan it, and a rescan skips the rows this statement already updated and takes more.
   * Rows come back in no particular order: the store sorts them.
   *
   * The plan must not depend on how many pending runs the planner believes there are: a queue
   * swings from empty to thousands between two ANALYZEs (and a fresh table has no statistics),
   * and believing "few" makes a custom plan read and sort every pending run on each claim.
   * So the limit is hidden behind a sub-select, which the planner cannot read and costs as a
   * small fraction of the rows: walking the index in order always wins. The claimed rows are
   * then updated by tuple id (a TID scan, no second primary-key descent). Only the columns the
   * claim did not set come back (see {@link CLAIM_SET}): the store knows the rest.
   */
  claimRuns(byTaskType: boolean): string {
    return `WITH c AS MATERIALIZED (
        SELECT ctid FROM ${this.runs}
        WHERE status = 'pending' AND available_at <= $1${byTaskType ? ' AND task_type = ANY($6::text[])' : ''}
        ORDER BY ${CLAIM_ORDER} LIMIT (SELECT $5::integer) FOR UPDATE SKIP LOCKED
      )
      UPDATE ${this.runs} r SET status = 'running', attempt = r.attempt + 1, started_at = $1, instance_id = $2,
        lease_token = $3, lease_instance = $2, lease_expires_at = $4
      WHERE r.ctid = ANY (ARRAY (SELECT ctid FROM c)) AND r.status = 'pending'
      RETURNING ${selectList(CLAIM_RETURNED, 'r')}`;
  }

  /**
   * $1 JSON array of `{ i, run_id, token, expires_at }`, at most one per run and token. Renews
   * each lease its token still holds; returns `i` and the cancel request of each renewed run.
   * A run's `lease_token` is set only while it is running, so the token is the status check.
   */
  get renewLeases(): string {
    return `UPDATE ${this.runs} r SET lease_expires_at = x.expires_at
      FROM jsonb_to_recordset($1::jsonb) AS x(i integer, run_id text, token text, expires_at timestamptz)
      WHERE r.id = ANY (ARRAY (SELECT x.run_id FROM jsonb_to_recordset($1::jsonb) AS x(run_id text)))
        AND r.id = x.run_id AND r.lease_token = x.token
      RETURNING x.i, r.cancel_requested`;
  }

  /**
   * $1 JSON array of finishes (see `encodeFinish`), at most one per run and token; each applies
   * only while its token holds the run (`lease_token` is set only while running, so matching it
   * is the status check and keeps the planner on the primary key). A retry (`pending`) updates
   * the run in place; a final outcome moves it: deleted from `runs`, its final row appended to
   * `run_history`, in this one statement. A completion clears the error of an earlier attempt;
   * a retry without an error keeps it. Returns the `i` of each finish applied.
   * The queue is small, so a planner left to itself would read all of it to join the batch;
   * the ids as an array make each run one probe of the primary key, as the batch is small too.
   */
  get finishRuns(): string {
    const attempts = `CASE WHEN x.attempt_record IS NULL THEN r.attempts ELSE r.attempts || jsonb_build_array(x.attempt_record) END`;
    const final: Record<string, string> = {
      status: 'x.status', lease_token: 'NULL', lease_instance: 'NULL', lease_expires_at: 'NULL::timestamptz', attempts,
      error: `CASE WHEN x.status = 'completed' THEN NULL ELSE COALESCE(x.error, r.error) END`,
      finished_at: 'x.finished_at', duration_ms: 'x.duration_ms', expires_at: 'x.expires_at',
      result: 'CASE WHEN x.has_result THEN x.result::jsonb ELSE r.result END', progress: 'COALESCE(x.progress, r.progress)',
    };
    const returning = RUN_COLUMNS.map((c) => `${final[c.name] ?? `r.${c.name}`} AS ${c.name}`).join(', ');
    return `WITH x AS MATERIALIZED (
        SELECT * FROM jsonb_to_recordset($1::jsonb) AS x(${FINISH_DEFS})
      ), retried AS (
        UPDATE ${this.runs} r SET status = 'pending', lease_token = NULL, lease_instance = NULL, lease_expires_at = NULL,
          attempts = ${attempts}, error = COALESCE(x.error, r.error), available_at = x.available_at,
          attempt = CASE WHEN x.undo_attempt THEN GREATEST(0, r.attempt - 1) ELSE r.attempt END
        FROM x WHERE r.id = ANY (ARRAY (SELECT run_id FROM x WHERE x.status = 'pending'))
          AND x.status = 'pending' AND r.id = x.run_id AND r.lease_token = x.token
        RETURNING x.i
      ), ended AS (
        DELETE FROM ${this.runs} r USING x WHERE r.id = ANY (ARRAY (SELECT run_id FROM x WHERE x.status <> 'pending'))
          AND x.status <> 'pending' AND r.id = x.run_id AND r.lease_token = x.token
        RETURNING x.i, ${returning}
      ), archived AS (
        INSERT INTO ${this.history} (${names(RUN_COLUMNS)}) SELECT ${names(RUN_COLUMNS)} FROM ended
        ON CONFLICT (id) DO NOTHING
      )
      SELECT i FROM retried UNION ALL SELECT i FROM ended`;
  }

  /** $1 id, $2 token, $3 progress JSON. An update that can stay on the page (HOT): no index covers progress. */
  get setProgress(): string {
    return `UPDATE ${this.runs} SET progress = $3::jsonb WHERE id = $1 AND status = 'running' AND lease_token = $2`;
  }

  /**
   * $1 now, $2 instance id, $3 token, $4 new lease expiry, $5 limit, [$6 task types]. One
   * statement over `runs_lease_idx`, skipping rows another instance is taking over; only the
   * lease changes. `expired_instance`/`expired_at`: the lapsed lease, returned with the run.
   * The limit is hidden from the planner for the reason given at {@link claimRuns}.
   */
  claimExpiredLeases(byTaskType: boolean): string {
    return `WITH c AS MATERIALIZED (
        SELECT id, lease_instance AS expired_instance, lease_expires_at AS expired_at FROM ${this.runs}
        WHERE status = 'running' AND lease_expires_at <= $1${byTaskType ? ' AND task_type = ANY($6::text[])' : ''}
        ORDER BY lease_expires_at, id LIMIT (SELECT $5::integer) FOR UPDATE SKIP LOCKED
      )
      UPDATE ${this.runs} r SET lease_token = $3, lease_instance = $2, lease_expires_at = $4
      FROM c
      WHERE r.id = c.id AND r.status = 'running'
      RETURNING ${this.runSelect}, c.expired_instance, c.expired_at`;
  }

  /**
   * Moves the pending runs `where` selects (a condition on alias `r`) to `run_history` as
   * cancelled at `$<now>`, expiring at `$<expiry>`; the CTE `moved` returns them.
   */
  private cancelMove(where: string, now: string, expiry: string): string {
    const set: Record<string, string> = { status: `'cancelled'`, finished_at: `${now}::timestamptz`, expires_at: `${expiry}::timestamptz` };
    const returning = RUN_COLUMNS.map((c) => `${set[c.name] ?? `r.${c.name}`} AS ${c.name}`).join(', ');
    return `moved AS (
        DELETE FROM ${this.runs} r WHERE ${where} AND r.status = 'pending' RETURNING ${returning}
      ), archived AS (
        INSERT INTO ${this.history} (${names(RUN_COLUMNS)}) SELECT ${names(RUN_COLUMNS)} FROM moved ON CONFLICT (id) DO NOTHING
      )`;
  }

  /**
   * $1 id, $2 now, $3 expiry, $4 owner or null. A pending run is cancelled (moved to history);
   * a running one gets its cancel request. Returns the run as it is now, or nothing.
   */
  get cancelRun(): string {
    const mine = `r.id = $1 AND ($4::text IS NULL OR r.owner = $4)`;
    return `WITH ${this.cancelMove(mine, '$2', '$3')}, requested AS (
        UPDATE ${this.runs} r SET cancel_requested = true WHERE ${mine} AND r.status = 'running'
        RETURNING ${this.runSelect}
      )
      SELECT ${selectList(RUN_COLUMNS, 'moved')} FROM moved UNION ALL SELECT * FROM requested`;
  }

  /** $1 trigger id, $2 now, $3 expiry. Served by `runs_trigger_idx`. Returns how many were cancelled. */
  get cancelPendingRuns(): string {
    return `WITH ${this.cancelMove('r.trigger_id = $1', '$2', '$3')} SELECT count(*)::integer AS n FROM moved`;
  }

  /** $1 now, $2 task types left out. Reads the due part of `runs_claim_idx` (pending runs only). */
  get countDueRunsByType(): string {
    return `SELECT task_type, count(*)::integer AS n, min(available_at) AS oldest FROM ${this.runs}
      WHERE status = 'pending' AND available_at <= $1 AND task_type <> ALL($2::text[]) GROUP BY task_type`;
  }

  /** $1 now, $2 limit. Final runs are all in history: served by `run_history_expiry_idx`. */
  get purgeExpiredRuns(): string {
    return `WITH c AS MATERIALIZED (
        SELECT id FROM ${this.history} WHERE expires_at <= $1
        ORDER BY expires_at LIMIT $2 FOR UPDATE SKIP LOCKED
      )
      DELETE FROM ${this.history} r USING c WHERE r.id = c.id`;
  }
}
