import { createHash } from 'node:crypto';
import { FINAL_RUN_STATUSES } from '../../types.js';
import { AUDIT_COLUMNS, RUN_COLUMNS, TRIGGER_COLUMNS, type Column } from './rows.js';
import { quoteIdent } from './schema.js';

/** Column definitions for `jsonb_to_record(set)`: jsonb columns arrive as JSON text. */
function recordDefs(cols: readonly Column[]): string {
  return cols.map((c) => `${c.name} ${c.type === 'jsonb' ? 'text' : c.type}`).join(', ');
}

/** Values to write from a `jsonb_to_record(set)` alias. */
function recordValues(cols: readonly Column[], alias: string): string {
  return cols.map((c) => (c.type === 'jsonb' ? `${alias}.${c.name}::jsonb` : `${alias}.${c.name}`)).join(', ');
}

/** Columns to read: jsonb as text, so JSON `null` and SQL NULL stay apart. */
function selectList(cols: readonly Column[], alias: string): string {
  return cols.map((c) => (c.type === 'jsonb' ? `${alias}.${c.name}::text AS ${c.name}` : `${alias}.${c.name}`)).join(', ');
}

function names(cols: readonly Column[]): string {
  return cols.map((c) => c.name).join(', ');
}

/** An instant as the ISO-8601 text JavaScript writes (`2026-01-01T00:00:00.000Z`). */
function iso(expression: string): string {
  return `to_char((${expression}) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
}

const FINAL = FINAL_RUN_STATUSES.map((s) => `'${s}'`).join(', ');
const CLAIM_ORDER = 'priority DESC, available_at, scheduled_for, id';

/**
 * Every statement of the PostgreSQL store, built once per schema. Hot statements carry a
 * `name` so each connection prepares them once. Parameters are documented per statement.
 */
export class PostgresSql {
  readonly triggers: string;
  readonly runs: string;
  readonly audit: string;
  readonly locks: string;
  readonly triggerSelect = selectList(TRIGGER_COLUMNS, 't');
  readonly runSelect = selectList(RUN_COLUMNS, 'r');
  readonly auditSelect = selectList(AUDIT_COLUMNS, 'a');

  constructor(readonly schema: string) {
    const s = quoteIdent(schema);
    this.triggers = `${s}.triggers`;
    this.runs = `${s}.runs`;
    this.audit = `${s}.audit`;
    this.locks = `${s}.locks`;
  }

  /**
   * A statement name unique to this schema, for prepared statements. PostgreSQL truncates names
   * to 63 bytes, so the schema is represented by a hash, not spelled out.
   */
  name(statement: string): string {
    return `punctual:${this.schemaKey}:${statement}`;
  }

  private get schemaKey(): string {
    return (this.cachedKey ??= createHash('sha256').update(this.schema).digest('hex').slice(0, 16));
  }

  private cachedKey: string | undefined;

  /** $1 trigger JSON. */
  get insertTrigger(): string {
    return `INSERT INTO ${this.triggers} (${names(TRIGGER_COLUMNS)})
      SELECT ${recordValues(TRIGGER_COLUMNS, 'x')} FROM jsonb_to_record($1::jsonb) AS x(${recordDefs(TRIGGER_COLUMNS)})`;
  }

  /** $1 id, $2 owner or null. */
  get getTrigger(): string {
    return `SELECT ${this.triggerSelect} FROM ${this.triggers} t WHERE t.id = $1 AND ($2::text IS NULL OR t.owner = $2)`;
  }

  /** $1 id, $2 trigger JSON, $3 expected version. The id is kept whatever the JSON says. */
  get updateTrigger(): string {
    const cols = TRIGGER_COLUMNS.filter((c) => c.name !== 'id');
    return `UPDATE ${this.triggers} t SET (${names(cols)}) = (${recordValues(cols, 'x')})
      FROM jsonb_to_record($2::jsonb) AS x(${recordDefs(TRIGGER_COLUMNS)})
      WHERE t.id = $1 AND t.version = $3`;
  }

  /** $1 id, $2 expected version or null. */
  get deleteTrigger(): string {
    return `DELETE FROM ${this.triggers} WHERE id = $1 AND ($2::integer IS NULL OR version = $2)`;
  }

  /** $1 until, $2 limit. Served by `triggers_due_idx`. */
  get findDueTriggers(): string {
    return `SELECT ${this.triggerSelect} FROM ${this.triggers} t
      WHERE t.status = 'active' AND t.next_fire_at <= $1 ORDER BY t.next_fire_at, t.id LIMIT $2`;
  }

  /**
   * $1 event name, $2 limit, $3 offset. Served by `triggers_event_idx`, whose predicate the
   * WHERE clause repeats word for word so the planner can use it.
   */
  get findEventTriggers(): string {
    return `SELECT ${this.triggerSelect} FROM ${this.triggers} t
      WHERE t.status = 'active' AND t.schedule->>'kind' = 'event' AND t.schedule->>'event' = $1
      ORDER BY t.created_at, t.id LIMIT $2 OFFSET $3`;
  }

  /**
   * $1 JSON array of `{ i, trigger_id, expected_version, run_id, trg, run }`. One statement:
   * lock the triggers still at their expected version (first item per trigger, in id order so
   * concurrent batches cannot deadlock), insert their runs (`ON CONFLICT (id) DO NOTHING`: the
   * deterministic slot id makes a second firing a no-op), advance them, and answer per item
   * whether it advanced, inserted its run, or (when not advanced) found the run already there,
   * and whether it is a retry of a fire already written (`retried`: its run held under the
   * fire's lease token and the trigger at the fire's `next`).
   */
  get fireSlots(): string {
    const triggerCols = TRIGGER_COLUMNS.filter((c) => c.name !== 'id');
    return `WITH input AS MATERIALIZED (
        SELECT * FROM jsonb_to_recordset($1::jsonb)
          AS x(i integer, trigger_id text, expected_version integer, run_id text, trg jsonb, run jsonb)
      ), candidates AS MATERIALIZED (
        SELECT DISTINCT ON (trigger_id) i, trigger_id, expected_version FROM input ORDER BY trigger_id, i
      ), locked AS MATERIALIZED (
        SELECT c.i, t.id FROM ${this.triggers} t JOIN candidates c ON t.id = c.trigger_id AND t.version = c.expected_version
        ORDER BY t.id FOR UPDATE OF t
      ), inserted AS (
        INSERT INTO ${this.runs} (${names(RUN_COLUMNS)})
        SELECT ${recordValues(RUN_COLUMNS, 'n')}
        FROM input JOIN locked USING (i), jsonb_to_record(input.run) AS n(${recordDefs(RUN_COLUMNS)})
        WHERE input.run IS NOT NULL
        ON CONFLICT (id) DO NOTHING
        RETURNING id
      ), advanced AS (
        UPDATE ${this.triggers} t SET (${names(triggerCols)}) = (${recordValues(triggerCols, 'n')})
        FROM input JOIN locked USING (i), jsonb_to_record(input.trg) AS n(${recordDefs(TRIGGER_COLUMNS)})
        WHERE t.id = locked.id
        RETURNING t.id
      )
      SELECT input.i,
        locked.i IS NOT NULL AS advanced,
        EXISTS (SELECT 1 FROM inserted WHERE inserted.id = input.run_id) AS inserted,
        locked.i IS NULL AND EXISTS (SELECT 1 FROM ${this.runs} r WHERE r.id = input.run_id) AS run_existed,
        locked.i IS NULL AND EXISTS (
          SELECT 1 FROM ${this.runs} r WHERE r.id = input.run_id AND r.status = 'running' AND r.lease_token = input.run->>'lease_token'
        ) AND EXISTS (
          SELECT 1 FROM ${this.triggers} t WHERE t.id = input.trigger_id AND t.version = (input.trg->>'version')::integer
            AND t.run_count = (input.trg->>'run_count')::integer AND t.status = input.trg->>'status'
            AND t.next_fire_at IS NOT DISTINCT FROM (input.trg->>'next_fire_at')::timestamptz
        ) AS retried
      FROM input LEFT JOIN locked USING (i)
      ORDER BY input.i`;
  }

  /** $1 JSON array of runs. Returns the ids inserted. */
  get insertRuns(): string {
    return `INSERT INTO ${this.runs} (${names(RUN_COLUMNS)})
      SELECT ${recordValues(RUN_COLUMNS, 'x')} FROM jsonb_to_recordset($1::jsonb) AS x(${recordDefs(RUN_COLUMNS)})
      ON CONFLICT (id) DO NOTHING
      RETURNING id`;
  }

  /** $1 id, $2 owner or null. */
  get getRun(): string {
    return `SELECT ${this.runSelect} FROM ${this.runs} r WHERE r.id = $1 AND ($2::text IS NULL OR r.owner = $2)`;
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
   * and believing "few" makes a custom plan read and sort every pending run on each claim
   * (tens of ms at 20,000 pending). So the limit is hidden behind a sub-select, which the
   * planner cannot read and costs as a small fraction of the rows: walking the index in
   * order always wins. The claimed rows are then updated by tuple id (a TID scan, no second
   * primary-key descent and no join for the planner to turn into a hash join over the whole
   * table); the ids are stable because this statement holds the rows' locks.
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
      RETURNING ${this.runSelect}`;
  }

  /** $1 id, $2 token, $3 new expiry. */
  get renewLease(): string {
    return `UPDATE ${this.runs} SET lease_expires_at = $3
      WHERE id = $1 AND status = 'running' AND lease_token = $2 RETURNING cancel_requested`;
  }

  /**
   * $1 JSON array of finishes (see `encodeFinish`: the result as JSON text, the attempt
   * record, error and progress as nested JSON), at most one per run and token. Each applies
   * only while its token holds the run. A completion clears the error of an earlier attempt;
   * a retry without an error keeps it.
   * One run has one `lease_token`, so of finishes of one run with different tokens at most
   * one can match; the store sends only the first finish per run and token (a later one
   * would find the lease gone, as if applied one after the other). So each run is updated by
   * at most one input row, and no first pass over the table is needed to pick it.
   * A run's `lease_token` is set only while it is `running` (every way out of `running` clears
   * it), so matching the token is the status check; leaving `status = 'running'` out of the
   * join keeps the planner on the primary key: with it, the planner may walk every running
   * run in `runs_lease_idx` once per finish (quadratic with thousands of runs in flight).
   */
  get finishRuns(): string {
    const pending = `x.status = 'pending'`;
    return `UPDATE ${this.runs} r SET
        status = x.status,
        lease_token = NULL, lease_instance = NULL, lease_expires_at = NULL,
        attempts = CASE WHEN x.attempt_record IS NULL THEN r.attempts ELSE r.attempts || jsonb_build_array(x.attempt_record) END,
        error = CASE WHEN x.status = 'completed' THEN NULL ELSE COALESCE(x.error, r.error) END,
        available_at = CASE WHEN ${pending} THEN x.available_at ELSE r.available_at END,
        attempt = CASE WHEN ${pending} AND x.undo_attempt THEN GREATEST(0, r.attempt - 1) ELSE r.attempt END,
        finished_at = CASE WHEN ${pending} THEN r.finished_at ELSE x.finished_at END,
        duration_ms = CASE WHEN ${pending} THEN r.duration_ms ELSE x.duration_ms END,
        expires_at = CASE WHEN ${pending} THEN r.expires_at ELSE x.expires_at END,
        result = CASE WHEN x.has_result THEN x.result::jsonb ELSE r.result END,
        progress = COALESCE(x.progress, r.progress)
      FROM jsonb_to_recordset($1::jsonb) AS x(i integer, run_id text, token text,
        status text, finished_at timestamptz, duration_ms bigint, has_result boolean, result text, error jsonb,
        expires_at timestamptz, progress jsonb, available_at timestamptz, undo_attempt boolean, attempt_record jsonb)
      WHERE r.id = x.run_id AND r.lease_token = x.token
      RETURNING x.i`;
  }

  /** $1 id, $2 token, $3 progress JSON. */
  get setProgress(): string {
    return `UPDATE ${this.runs} SET progress = $3::jsonb WHERE id = $1 AND status = 'running' AND lease_token = $2`;
  }

  /**
   * $1 now, $2 limit, $3 expiry of runs failed for good. One statement over
   * `runs_lease_idx`, skipping rows another instance is recovering. `expired_at`: the old
   * lease expiry, to return runs in that order.
   */
  get recoverExpiredLeases(): string {
    const now = '$1::timestamptz';
    const exhausted = 'r.attempt >= r.max_attempts';
    const error = `jsonb_build_object('name', 'LeaseLostError', 'message',
      format('The lease of instance "%s" expired at %s.', r.lease_instance, ${iso('r.lease_expires_at')}))`;
    return `WITH c AS MATERIALIZED (
        SELECT id, lease_expires_at AS expired_at FROM ${this.runs} WHERE status = 'running' AND lease_expires_at <= ${now}
        ORDER BY lease_expires_at, id LIMIT $2 FOR UPDATE SKIP LOCKED
      )
      UPDATE ${this.runs} r SET
        status = CASE WHEN ${exhausted} THEN 'failed' ELSE 'pending' END,
        lease_token = NULL, lease_instance = NULL, lease_expires_at = NULL,
        attempts = r.attempts || jsonb_build_array(jsonb_build_object(
          'attempt', r.attempt, 'instanceId', r.lease_instance, 'startedAt', ${iso(`COALESCE(r.started_at, ${now})`)},
          'finishedAt', ${iso(now)}, 'outcome', 'lease_expired', 'error', ${error})),
        available_at = CASE WHEN ${exhausted} THEN r.available_at ELSE ${now} END,
        finished_at = CASE WHEN ${exhausted} THEN ${now} ELSE r.finished_at END,
        duration_ms = CASE WHEN ${exhausted}
          THEN GREATEST(0, round(extract(epoch FROM ${now} - r.started_at) * 1000))::bigint ELSE r.duration_ms END,
        expires_at = CASE WHEN ${exhausted} THEN $3::timestamptz ELSE r.expires_at END,
        error = CASE WHEN ${exhausted} THEN ${error} ELSE r.error END
      FROM c
      WHERE r.id = c.id AND r.status = 'running'
      RETURNING ${this.runSelect}, c.expired_at`;
  }

  /** $1 id, $2 now, $3 expiry, $4 owner or null. Pending: cancelled; running: cancel requested. */
  get cancelRun(): string {
    return `UPDATE ${this.runs} r SET
        status = CASE WHEN r.status = 'pending' THEN 'cancelled' ELSE r.status END,
        finished_at = CASE WHEN r.status = 'pending' THEN $2::timestamptz ELSE r.finished_at END,
        expires_at = CASE WHEN r.status = 'pending' THEN $3::timestamptz ELSE r.expires_at END,
        cancel_requested = r.cancel_requested OR r.status = 'running'
      WHERE r.id = $1 AND r.status IN ('pending', 'running') AND ($4::text IS NULL OR r.owner = $4)
      RETURNING ${this.runSelect}`;
  }

  /** $1 trigger id, $2 statuses. */
  get countRuns(): string {
    return `SELECT count(*)::integer AS n FROM ${this.runs} WHERE trigger_id = $1 AND status = ANY($2::text[])`;
  }

  /** $1 now, $2 task types left out. Reads the due part of `runs_claim_idx` (pending runs only). */
  get countDueRunsByType(): string {
    return `SELECT task_type, count(*)::integer AS n, min(available_at) AS oldest FROM ${this.runs}
      WHERE status = 'pending' AND available_at <= $1 AND task_type <> ALL($2::text[]) GROUP BY task_type`;
  }

  /** $1 now, $2 limit. Served by `runs_expiry_idx`. */
  get purgeExpiredRuns(): string {
    return `WITH c AS MATERIALIZED (
        SELECT id FROM ${this.runs} WHERE expires_at <= $1 AND status IN (${FINAL})
        ORDER BY expires_at LIMIT $2 FOR UPDATE SKIP LOCKED
      )
      DELETE FROM ${this.runs} r USING c WHERE r.id = c.id`;
  }

  /** $1 entry JSON. A retried append (same id) is ignored. */
  get appendAudit(): string {
    return `INSERT INTO ${this.audit} (${names(AUDIT_COLUMNS)})
      SELECT ${recordValues(AUDIT_COLUMNS, 'x')} FROM jsonb_to_record($1::jsonb) AS x(${recordDefs(AUDIT_COLUMNS)})
      ON CONFLICT (id) DO NOTHING`;
  }
}

/**
 * Builds one keyset page of a listing. `filters` maps a column expression to a value; undefined
 * values are left out. A key may end in an operator (`scheduled_for >=`, `name LIKE`); the
 * default is `=`. A key that is a row (`(created_at, id) >`) takes an array of values, compared
 * as a row, which an index on those columns serves in the same order.
 */
export function listStatement(
  from: string,
  select: string,
  filters: Record<string, unknown>,
  orderBy: string,
  limit: number,
): { text: string; values: unknown[] } {
  const values: unknown[] = [];
  const where: string[] = [];
  const param = (value: unknown): string => {
    values.push(value);
    return `$${values.length}`;
  };
  for (const [key, value] of Object.entries(filters)) {
    if (value === undefined) continue;
    const operator = /(<=|>=|<|>|=|LIKE)$/.test(key) ? '' : ' =';
    const operand = Array.isArray(value) ? `(${value.map(param).join(', ')})` : param(value);
    where.push(`${key}${operator} ${operand}`);
  }
  const clause = where.length > 0 ? ` WHERE ${where.join(' AND ')}` : '';
  return { text: `SELECT ${select} FROM ${from}${clause} ORDER BY ${orderBy} LIMIT ${Math.max(0, Math.floor(limit))}`, values };
}

/** A LIKE pattern matching every text that starts with `prefix` (its `%`, `_` and backslash taken literally). */
export function likePrefix(prefix: string): string {
  return `${prefix.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}
