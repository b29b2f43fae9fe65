import { createHash } from 'node:crypto';
import { AUDIT_COLUMNS, RUN_COLUMNS, TRIGGER_COLUMNS } from './rows.js';
import { names, recordDefs, recordValues, selectList } from './sql-parts.js';
import { quoteIdent } from './schema.js';

export { likePrefix, listStatement } from './sql-parts.js';

/**
 * The statements on triggers and the audit trail, built once per schema (those on runs are in
 * `RunSql`). Hot statements carry a `name` so each connection prepares them once. Parameters
 * are documented per statement.
 */
export class PostgresSql {
  readonly triggers: string;
  readonly runs: string;
  readonly history: string;
  readonly audit: string;
  readonly locks: string;
  readonly triggerSelect = selectList(TRIGGER_COLUMNS, 't');
  readonly auditSelect = selectList(AUDIT_COLUMNS, 'a');

  constructor(readonly schema: string) {
    const s = quoteIdent(schema);
    this.triggers = `${s}.triggers`;
    this.runs = `${s}.runs`;
    this.history = `${s}.run_history`;
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
   * A slot's run may have finished already (it is then in `run_history`, checked too). The
   * trigger row lock at the expected version is what keeps two fires of one slot apart: the
   * fire that wrote a slot's run also moved the trigger past that version.
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
        WHERE input.run IS NOT NULL AND NOT EXISTS (SELECT 1 FROM ${this.history} h WHERE h.id = input.run_id)
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
        locked.i IS NULL AND (EXISTS (SELECT 1 FROM ${this.runs} r WHERE r.id = input.run_id)
          OR EXISTS (SELECT 1 FROM ${this.history} h WHERE h.id = input.run_id)) AS run_existed,
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

  /** $1 entry JSON. A retried append (same id) is ignored. */
  get appendAudit(): string {
    return `INSERT INTO ${this.audit} (${names(AUDIT_COLUMNS)})
      SELECT ${recordValues(AUDIT_COLUMNS, 'x')} FROM jsonb_to_record($1::jsonb) AS x(${recordDefs(AUDIT_COLUMNS)})
      ON CONFLICT (id) DO NOTHING`;
  }
}
