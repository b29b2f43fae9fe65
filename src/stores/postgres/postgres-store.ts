import type { Pool, QueryResult, QueryResultRow } from 'pg';
import { ConfigurationError, StoppedError } from '../../errors.js';
import type { LockStore } from '../../locks/types.js';
import type { AuditEntry, RunRecord, TriggerRecord } from '../../types.js';
import type {
  AuditQuery,
  ClaimRequest,
  DueRunCount,
  LeaseRenewal,
  ExpiredLease,
  ExpiredLeaseClaim,
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
import { migrate } from './migrations.js';
import { ChangeFeed } from './notifications.js';
import { STORE_TYPES } from './parsers.js';
import { PostgresLockStore } from './postgres-lock-store.js';
import { decodeAudit, decodeRun, decodeTrigger, encodeAudit, encodeFinish, encodeRun, encodeTrigger, jsonParam } from './rows.js';
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

type Conflict = (constraint: string | undefined) => string;

/** Claim order: priority desc, availableAt, scheduledFor, id (code units, as `COLLATE "C"` sorts ASCII). */
function claimOrder(a: RunRecord, b: RunRecord): number {
  return (
    b.priority - a.priority ||
    a.availableAt.getTime() - b.availableAt.getTime() ||
    a.scheduledFor.getTime() - b.scheduledFor.getTime() ||
    (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)
  );
}

/**
 * The finishes worth sending, with their positions: the first per run and token. A repeat
 * could never apply (if the first applied, it cleared the lease; if not, the token does not
 * hold the run), and leaving it out lets `finishRuns` update each run from one input row.
 */
function firstPerLease(finishes: readonly RunFinish[]): { finish: RunFinish; i: number }[] {
  const seen = new Set<string>();
  const first: { finish: RunFinish; i: number }[] = [];
  finishes.forEach((finish, i) => {
    const key = `${finish.runId}\u0000${finish.token}`;
    if (seen.has(key)) return;
    seen.add(key);
    first.push({ finish, i });
  });
  return first;
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
    await this.query('ping', 'SELECT 1');
  }

  async insertTrigger(trigger: TriggerRecord): Promise<void> {
    const conflict: Conflict = (constraint) =>
      constraint === 'triggers_owner_name_key'
        ? `Owner "${trigger.owner}" already has a trigger named "${trigger.name}"; choose another name.`
        : `A trigger with id "${trigger.id}" already exists.`;
    await this.query('insertTrigger', this.sql.insertTrigger, [JSON.stringify(encodeTrigger(trigger))], conflict);
  }

  async getTrigger(id: string, owner?: string): Promise<TriggerRecord | null> {
    const { rows } = await this.query('getTrigger', this.sql.getTrigger, [id, owner ?? null]);
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
    const result = await this.query('updateTrigger', this.sql.updateTrigger, params, conflict);
    return result.rowCount === 1;
  }

  async deleteTrigger(id: string, expectedVersion?: number): Promise<boolean> {
    const result = await this.query('deleteTrigger', this.sql.deleteTrigger, [id, expectedVersion ?? null]);
    return result.rowCount === 1;
  }

  async findDueTriggers(until: Date, limit: number): Promise<TriggerRecord[]> {
    const { rows } = await this.named('findDueTriggers', this.sql.findDueTriggers, [until, limit]);
    return rows.map(decodeTrigger);
  }

  async findEventTriggers(event: string, limit: number, offset: number): Promise<TriggerRecord[]> {
    const paging = [Math.max(0, Math.floor(limit)), Math.max(0, Math.floor(offset))];
    if (paging[0] === 0) return [];
    const { rows } = await this.named('findEventTriggers', this.sql.findEventTriggers, [event, ...paging]);
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
    const { rows } = await this.named<{ i: number; advanced: boolean; inserted: boolean; run_existed: boolean; retried: boolean }>(
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

  async insertRuns(runs: readonly RunRecord[]): Promise<boolean[]> {
    if (runs.length === 0) return [];
    const { rows } = await this.named<{ id: string }>('insertRuns', this.sql.insertRuns, [JSON.stringify(runs.map(encodeRun))]);
    const inserted = new Set(rows.map((row) => row.id));
    // A repeated id within the batch: only its first occurrence can have been written.
    return runs.map((run) => inserted.delete(run.id));
  }

  async getRun(id: string, owner?: string): Promise<RunRecord | null> {
    const { rows } = await this.query('getRun', this.sql.getRun, [id, owner ?? null]);
    return rows[0] ? decodeRun(rows[0]) : null;
  }

  async listRuns(query: RunQuery): Promise<RunRecord[]> {
    const filters = {
      'r.owner': query.owner,
      'r.trigger_id': query.triggerId,
      'r.status': query.status,
      'r.task_type': query.taskType,
      'r.source': query.source,
      'r.scheduled_for >=': query.from,
      'r.scheduled_for <': query.to,
      '(r.scheduled_for, r.id) <': query.after ? [query.after.scheduledFor, query.after.id] : undefined,
    };
    return this.list('listRuns', `${this.sql.runs} r`, this.sql.runSelect, filters, 'r.scheduled_for DESC, r.id DESC', query.limit, decodeRun);
  }

  async claimRuns(request: ClaimRequest): Promise<RunRecord[]> {
    if (request.limit <= 0 || request.taskTypes?.length === 0) return [];
    const byType = request.taskTypes !== undefined;
    const expiresAt = new Date(request.now.getTime() + request.leaseMs);
    const params: unknown[] = [request.now, request.instanceId, request.token, expiresAt, request.limit];
    if (byType) params.push([...new Set(request.taskTypes)]);
    const { rows } = await this.named(byType ? 'claimRunsByType' : 'claimRuns', this.sql.claimRuns(byType), params);
    return rows.map(decodeRun).sort(claimOrder);
  }

  async countDueRunsByType(now: Date, exceptTypes: readonly string[]): Promise<DueRunCount[]> {
    const { rows } = await this.named<{ task_type: string; n: number; oldest: Date }>('countDueRunsByType', this.sql.countDueRunsByType, [now, [...new Set(exceptTypes)]]);
    return rows.map((row) => ({ taskType: row.task_type, count: row.n, oldestAvailableAt: row.oldest }));
  }

  async renewLease(runId: string, token: string, expiresAt: Date): Promise<LeaseRenewal> {
    const { rows } = await this.named<{ cancel_requested: boolean }>('renewLease', this.sql.renewLease, [runId, token, expiresAt]);
    return rows[0] ? { held: true, cancelRequested: rows[0].cancel_requested } : { held: false, cancelRequested: false };
  }

  async finishRuns(finishes: readonly RunFinish[]): Promise<boolean[]> {
    if (finishes.length === 0) return [];
    const input = JSON.stringify(firstPerLease(finishes).map(({ finish, i }) => encodeFinish(finish, i)));
    const { rows } = await this.named<{ i: number }>('finishRuns', this.sql.finishRuns, [input]);
    const applied = new Set(rows.map((row) => row.i));
    return finishes.map((_, i) => applied.has(i));
  }

  async setProgress(runId: string, token: string, progress: NonNullable<RunRecord['progress']>): Promise<boolean> {
    const result = await this.named('setProgress', this.sql.setProgress, [runId, token, jsonParam(progress)]);
    return result.rowCount === 1;
  }

  async claimExpiredLeases(request: ExpiredLeaseClaim): Promise<ExpiredLease[]> {
    if (request.limit <= 0 || request.taskTypes?.length === 0) return [];
    const byType = request.taskTypes !== undefined;
    const expiresAt = new Date(request.now.getTime() + request.leaseMs);
    const params: unknown[] = [request.now, request.instanceId, request.token, expiresAt, request.limit];
    if (byType) params.push([...new Set(request.taskTypes)]);
    const { rows } = await this.named(byType ? 'claimExpiredLeasesByType' : 'claimExpiredLeases', this.sql.claimExpiredLeases(byType), params);
    // In the order the leases expired (then id), as the rows come back in no particular order.
    return rows
      .map((row) => ({ run: decodeRun(row), expired: { instanceId: row.expired_instance as string, expiresAt: row.expired_at as Date } }))
      .sort((a, b) => a.expired.expiresAt.getTime() - b.expired.expiresAt.getTime() || (a.run.id < b.run.id ? -1 : a.run.id > b.run.id ? 1 : 0));
  }

  async cancelRun(id: string, now: Date, retentionMs: number, owner?: string): Promise<RunRecord | null> {
    const params = [id, now, new Date(now.getTime() + retentionMs), owner ?? null];
    const { rows } = await this.query('cancelRun', this.sql.cancelRun, params);
    return rows[0] ? decodeRun(rows[0]) : null;
  }

  async cancelPendingRuns(triggerId: string, now: Date, retentionMs: number): Promise<number> {
    const result = await this.query('cancelPendingRuns', this.sql.cancelPendingRuns, [triggerId, now, new Date(now.getTime() + retentionMs)]);
    return result.rowCount ?? 0;
  }

  async purgeExpiredRuns(now: Date, limit: number): Promise<number> {
    if (limit <= 0) return 0;
    const result = await this.query('purgeExpiredRuns', this.sql.purgeExpiredRuns, [now, limit]);
    return result.rowCount ?? 0;
  }

  async appendAudit(entry: AuditEntry): Promise<void> {
    await this.query('appendAudit', this.sql.appendAudit, [JSON.stringify(encodeAudit(entry))]);
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

  private async query<R extends QueryResultRow = Record<string, unknown>>(
    operation: string,
    text: string,
    values: unknown[] = [],
    conflict?: Conflict,
  ): Promise<QueryResult<R>> {
    try {
      return await this.pool.query<R>({ text, values, types: STORE_TYPES });
    } catch (error) {
      throw toStoreError(operation, error, conflict);
    }
  }

  /** A hot statement, prepared once per connection. */
  private async named<R extends QueryResultRow = Record<string, unknown>>(
    operation: string,
    text: string,
    values: unknown[],
    conflict?: Conflict,
  ): Promise<QueryResult<R>> {
    try {
      return await this.pool.query<R>({ name: this.sql.name(operation), text, values, types: STORE_TYPES });
    } catch (error) {
      throw toStoreError(operation, error, conflict);
    }
  }

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
    const { rows } = await this.query<Record<string, unknown>>(operation, statement.text, statement.values);
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
