import type { Pool } from 'pg';
import { ConfigurationError, StoppedError } from '../../errors.js';
import type { LockStore } from '../../locks/types.js';
import type { AuditEntry, RunRecord, TriggerRecord } from '../../types.js';
import type {
  AuditQuery,
  ClaimRequest,
  DueRunCount,
  ExpiredLease,
  ExpiredLeaseClaim,
  LeaseRenewal,
  LeaseRenewalRequest,
  RunFinish,
  RunQuery,
  SlotFire,
  SlotFireResult,
  Store,
  StoreChange,
  TriggerQuery,
  TriggerWrite,
} from '../types.js';
import { toStoreError } from './errors.js';
import { PgExec, type Conflict } from './exec.js';
import { migrate } from './migrations.js';
import { ChangeFeed } from './notifications.js';
import { PostgresLockStore } from './postgres-lock-store.js';
import { decodeAudit, decodeTrigger, encodeAudit, encodeRun, encodeTrigger } from './rows.js';
import { PostgresRuns } from './run-store.js';
import { channelName, DEFAULT_SCHEMA, validateSchemaName } from './schema.js';
import { likePrefix, listStatement, PostgresSql } from './sql.js';

/** Options of {@link postgresStore}. */
export interface PostgresStoreOptions {
  /** Schema holding punctual's tables (created by `init()`). Letters, digits, `_`. Default `punctual`. */
  schema?: string;
  /** Whether `close()` ends the pool. Default false: the host owns the pool. */
  ownsPool?: boolean;
  /** Whether `subscribe()` opens a LISTEN connection. Default true; false: polling only. */
  listen?: boolean;
}

/**
 * A {@link Store} on PostgreSQL: triggers, runs and the audit trail in tables of one schema,
 * migrated by `init()` under an advisory lock. Each operation is one statement, batches
 * included; claims use `FOR UPDATE SKIP LOCKED`; each slot's run is keyed by its deterministic
 * id; wake-ups come through LISTEN/NOTIFY. See docs/postgres.md.
 *
 * The store adds an `error` listener to the pool (removed by `close()`), so an idle connection
 * that breaks while PostgreSQL restarts cannot crash the process; the pool replaces it.
 * @example
 * const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 20 });
 * const scheduler = createScheduler({ store: postgresStore(pool), handlers });
 */
export class PostgresStore implements Store {
  readonly kind = 'postgres';
  readonly schema: string;
  private readonly sql: PostgresSql;
  private readonly db: PgExec;
  private readonly runs: PostgresRuns;
  private readonly ownsPool: boolean;
  private readonly listen: boolean;
  private readonly feeds = new Set<ChangeFeed>();
  private lockStore: PostgresLockStore | undefined;
  private closed = false;

  constructor(
    private readonly pool: Pool,
    options: PostgresStoreOptions = {},
  ) {
    if (typeof pool?.query !== 'function' || typeof pool.connect !== 'function') {
      throw ConfigurationError.from([{ path: 'pool', message: 'must be a pg.Pool (an object with query() and connect())' }], 'Invalid postgresStore options');
    }
    this.schema = validateSchemaName(options.schema ?? DEFAULT_SCHEMA);
    this.ownsPool = options.ownsPool ?? false;
    this.listen = options.listen ?? true;
    this.sql = new PostgresSql(this.schema);
    this.db = new PgExec(pool, (operation) => this.sql.name(operation));
    this.runs = new PostgresRuns(this.schema, this.db);
    pool.on('error', this.onPoolError);
  }

  /** Creates or migrates the schema. After close(), opens the store again (unless it ended its own pool). */
  async init(): Promise<void> {
    if (this.closed) {
      if (this.ownsPool) throw new StoppedError('postgresStore: init() after close(), which ended its pool (ownsPool); create a new store to start again');
      this.closed = false;
      this.pool.on('error', this.onPoolError);
    }
    let client;
    try {
      client = await this.pool.connect();
    } catch (error) {
      throw toStoreError('init', error);
    }
    try {
      await migrate(client, this.schema);
      client.release();
    } catch (error) {
      client.release(error instanceof Error ? error : true);
      throw toStoreError('init (migrations)', error);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.feeds].map((feed) => feed.close()));
    this.feeds.clear();
    if (this.ownsPool) await this.pool.end();
    this.pool.removeListener('error', this.onPoolError);
  }

  async ping(): Promise<void> {
    await this.db.query('ping', 'SELECT 1');
  }

  async insertTrigger(trigger: TriggerRecord): Promise<void> {
    const conflict: Conflict = (constraint) =>
      constraint === 'triggers_owner_name_key'
        ? `Owner "${trigger.owner}" already has a trigger named "${trigger.name}"; choose another name.`
        : `A trigger with id "${trigger.id}" already exists.`;
    await this.db.query('insertTrigger', this.sql.insertTrigger, [JSON.stringify(encodeTrigger(trigger))], conflict);
  }

  async getTrigger(id: string, owner?: string): Promise<TriggerRecord | null> {
    const { rows } = await this.db.query('getTrigger', this.sql.getTrigger, [id, owner ?? null]);
    return rows[0] ? decodeTrigger(rows[0]) : null;
  }

  async listTriggers(query: TriggerQuery): Promise<TriggerRecord[]> {
    const column = query.sort === 'name' ? 't.name' : 't.created_at';
    const direction = query.order === 'desc' ? 'DESC' : 'ASC';
    const filters = {
      't.owner': query.owner,
      't.status': query.status,
      't.task_type': query.taskType,
      't.name': query.name,
      't.name LIKE': query.namePrefix === undefined ? undefined : likePrefix(query.namePrefix),
      [`(${column}, t.id) ${direction === 'ASC' ? '>' : '<'}`]: query.after ? [query.after.value, query.after.id] : undefined,
    };
    const orderBy = `${column} ${direction}, t.id ${direction}`;
    return this.list('listTriggers', `${this.sql.triggers} t`, this.sql.triggerSelect, filters, orderBy, query.limit, decodeTrigger);
  }

  async updateTrigger(write: TriggerWrite): Promise<boolean> {
    const conflict: Conflict = () => `Owner "${write.next.owner}" already has a trigger named "${write.next.name}"; choose another name.`;
    const params = [write.id, JSON.stringify(encodeTrigger(write.next)), write.expectedVersion];
    const result = await this.db.query('updateTrigger', this.sql.updateTrigger, params, conflict);
    return result.rowCount === 1;
  }

  async deleteTrigger(id: string, expectedVersion?: number): Promise<boolean> {
    const result = await this.db.query('deleteTrigger', this.sql.deleteTrigger, [id, expectedVersion ?? null]);
    return result.rowCount === 1;
  }

  async findDueTriggers(until: Date, limit: number): Promise<TriggerRecord[]> {
    const { rows } = await this.db.named('findDueTriggers', this.sql.findDueTriggers, [until, limit]);
    return rows.map(decodeTrigger);
  }

  async findEventTriggers(event: string, limit: number, offset: number): Promise<TriggerRecord[]> {
    const paging = [Math.max(0, Math.floor(limit)), Math.max(0, Math.floor(offset))];
    if (paging[0] === 0) return [];
    const { rows } = await this.db.named('findEventTriggers', this.sql.findEventTriggers, [event, ...paging]);
    return rows.map(decodeTrigger);
  }

  async fireSlots(fires: readonly SlotFire[]): Promise<SlotFireResult[]> {
    if (fires.length === 0) return [];
    const input = fires.map((fire, i) => ({
      i,
      trigger_id: fire.triggerId,
      expected_version: fire.expectedVersion,
      run_id: fire.run?.id ?? null,
      trg: encodeTrigger(fire.next),
      run: fire.run ? encodeRun(fire.run) : null,
    }));
    const conflict: Conflict = (constraint) => `A fired trigger's new name is already used by its owner (${constraint ?? 'unique constraint'}).`;
    const { rows } = await this.db.named<{ i: number; advanced: boolean; inserted: boolean; run_existed: boolean; retried: boolean }>(
      'fireSlots', this.sql.fireSlots, [JSON.stringify(input)], conflict,
    );
    const results = new Array<SlotFireResult>(fires.length).fill('stale');
    for (const row of rows) {
      const hasRun = fires[row.i]?.run != null;
      if (row.advanced) results[row.i] = !hasRun || row.inserted ? 'fired' : 'duplicate';
      // A retry of a fire that was committed but whose answer was lost.
      else if (row.retried) results[row.i] = 'fired';
      else results[row.i] = row.run_existed ? 'duplicate' : 'stale';
    }
    return results;
  }

  // Runs: see PostgresRuns (the hot queue `runs` and the history `run_history`).
  insertRuns(runs: readonly RunRecord[]): Promise<boolean[]> { return this.runs.insertRuns(runs); }
  getRun(id: string, owner?: string): Promise<RunRecord | null> { return this.runs.getRun(id, owner); }
  listRuns(query: RunQuery): Promise<RunRecord[]> { return this.runs.listRuns(query); }
  claimRuns(request: ClaimRequest): Promise<RunRecord[]> { return this.runs.claimRuns(request); }
  countDueRunsByType(now: Date, exceptTypes: readonly string[]): Promise<DueRunCount[]> { return this.runs.countDueRunsByType(now, exceptTypes); }
  renewLeases(renewals: readonly LeaseRenewalRequest[]): Promise<LeaseRenewal[]> { return this.runs.renewLeases(renewals); }
  finishRuns(finishes: readonly RunFinish[]): Promise<boolean[]> { return this.runs.finishRuns(finishes); }
  setProgress(runId: string, token: string, progress: NonNullable<RunRecord['progress']>): Promise<boolean> { return this.runs.setProgress(runId, token, progress); }
  claimExpiredLeases(request: ExpiredLeaseClaim): Promise<ExpiredLease[]> { return this.runs.claimExpiredLeases(request); }
  cancelRun(id: string, now: Date, retentionMs: number, owner?: string): Promise<RunRecord | null> { return this.runs.cancelRun(id, now, retentionMs, owner); }
  cancelPendingRuns(triggerId: string, now: Date, retentionMs: number): Promise<number> { return this.runs.cancelPendingRuns(triggerId, now, retentionMs); }
  purgeExpiredRuns(now: Date, limit: number): Promise<number> { return this.runs.purgeExpiredRuns(now, limit); }

  async appendAudit(entry: AuditEntry): Promise<void> {
    await this.db.query('appendAudit', this.sql.appendAudit, [JSON.stringify(encodeAudit(entry))]);
  }

  async listAudit(query: AuditQuery): Promise<AuditEntry[]> {
    const filters = {
      'a.owner': query.owner,
      'a.trigger_id': query.triggerId,
      'a.action': query.action,
      '(a.at, a.id) <': query.after ? [query.after.at, query.after.id] : undefined,
    };
    return this.list('listAudit', `${this.sql.audit} a`, this.sql.auditSelect, filters, 'a.at DESC, a.id DESC', query.limit, decodeAudit);
  }

  /**
   * The PostgreSQL lock store in this schema (table `locks`, created by `init()`): the same
   * object on every call. It never closes the pool.
   */
  createLockStore(): LockStore {
    this.lockStore ??= new PostgresLockStore(this.pool, { schema: this.schema });
    return this.lockStore;
  }

  /**
   * LISTEN on `<schema>_changes` through a connection of its own, taken from the pool. Null
   * when the store was created with `listen: false`.
   */
  async subscribe(listener: (change: StoreChange) => void, onState?: (active: boolean) => void): Promise<(() => Promise<void>) | null> {
    if (!this.listen) return null;
    const feed = new ChangeFeed(this.pool, channelName(this.schema), listener, onState);
    await feed.start();
    this.feeds.add(feed);
    return async () => {
      this.feeds.delete(feed);
      await feed.close();
    };
  }

  private readonly onPoolError = (): void => {
    // An idle connection broke (e.g. PostgreSQL restarted). The pool drops it; the next query
    // opens a new one, and failures there surface as StoreErrors.
  };

  private async list<T>(
    operation: string,
    from: string,
    select: string,
    filters: Record<string, unknown>,
    orderBy: string,
    limit: number,
    decode: (row: Record<string, unknown>) => T,
  ): Promise<T[]> {
    if (limit <= 0) return [];
    const statement = listStatement(from, select, filters, orderBy, limit);
    const { rows } = await this.db.query(operation, statement.text, statement.values);
    return rows.map(decode);
  }
}

/**
 * Creates a PostgreSQL {@link Store} over a `pg` pool. Call `scheduler.start()` (or
 * `store.init()`) to create or migrate its schema.
 * @example
 * import pg from 'pg';
 * const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL });
 * const scheduler = createScheduler({ store: postgresStore(pool, { schema: 'jobs' }), handlers });
 */
export function postgresStore(pool: Pool, options: PostgresStoreOptions = {}): Store {
  return new PostgresStore(pool, options);
}
