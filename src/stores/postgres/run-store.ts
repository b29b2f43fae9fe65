import type { RunRecord } from '../../types.js';
import type {
  ClaimRequest,
  DueRunCount,
  ExpiredLease,
  ExpiredLeaseClaim,
  LeaseRenewal,
  LeaseRenewalRequest,
  RunFinish,
  RunQuery,
} from '../types.js';
import { firstPerLease, renewEachLeaseOnce } from '../first-per-lease.js';
import type { PgExec } from './exec.js';
import { decodeRun, encodeFinish, encodeRun, jsonParam } from './rows.js';
import { RunSql } from './run-sql.js';

/** Claim order: priority desc, availableAt, scheduledFor, id (code units, as `COLLATE "C"` sorts ASCII). */
function claimOrder(a: RunRecord, b: RunRecord): number {
  return (
    b.priority - a.priority ||
    a.availableAt.getTime() - b.availableAt.getTime() ||
    a.scheduledFor.getTime() - b.scheduledFor.getTime() ||
    (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)
  );
}

/** The run half of the PostgreSQL store (see {@link RunSql} for the two tables). */
export class PostgresRuns {
  readonly sql: RunSql;

  constructor(
    schema: string,
    private readonly db: PgExec,
  ) {
    this.sql = new RunSql(schema);
  }

  /** One call of the schema's `insert_runs` function (see `RunSql.insertRuns`). */
  async insertRuns(runs: readonly RunRecord[]): Promise<boolean[]> {
    if (runs.length === 0) return [];
    const unique = new Map<string, RunRecord>();
    for (const run of runs) if (!unique.has(run.id)) unique.set(run.id, run);
    const { rows } = await this.db.named<{ id: string }>('insertRuns', this.sql.insertRuns, [JSON.stringify([...unique.values()].map(encodeRun))]);
    const inserted = new Set(rows.map((row) => row.id));
    // A repeated id within the batch: only its first occurrence can have been written.
    return runs.map((run) => inserted.delete(run.id));
  }

  async getRun(id: string, owner?: string): Promise<RunRecord | null> {
    const { rows } = await this.db.named('getRun', this.sql.getRun, [id, owner ?? null]);
    return rows[0] ? decodeRun(rows[0]) : null;
  }

  async listRuns(query: RunQuery): Promise<RunRecord[]> {
    if (query.limit <= 0) return [];
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
    const statement = this.sql.listRuns(filters, query.status, query.limit);
    const { rows } = await this.db.query('listRuns', statement.text, statement.values);
    return rows.map(decodeRun);
  }

  async claimRuns(request: ClaimRequest): Promise<RunRecord[]> {
    if (request.limit <= 0 || request.taskTypes?.length === 0) return [];
    const byType = request.taskTypes !== undefined;
    const expiresAt = new Date(request.now.getTime() + request.leaseMs);
    const params: unknown[] = [request.now, request.instanceId, request.token, expiresAt, request.limit];
    if (byType) params.push([...new Set(request.taskTypes)]);
    const { rows } = await this.db.named(byType ? 'claimRunsByType' : 'claimRuns', this.sql.claimRuns(byType), params);
    // The columns the claim set (`CLAIM_SET`) are not sent back: they are the request's.
    const { now, instanceId, token } = request;
    const runs = rows.map((row) => {
      row.status = 'running';
      row.started_at = new Date(now.getTime());
      row.instance_id = instanceId;
      row.lease_token = token;
      row.lease_instance = instanceId;
      row.lease_expires_at = new Date(expiresAt.getTime());
      return decodeRun(row);
    });
    return runs.sort(claimOrder);
  }

  async countDueRunsByType(now: Date, exceptTypes: readonly string[]): Promise<DueRunCount[]> {
    const { rows } = await this.db.named<{ task_type: string; n: number; oldest: Date }>('countDueRunsByType', this.sql.countDueRunsByType, [now, [...new Set(exceptTypes)]]);
    return rows.map((row) => ({ taskType: row.task_type, count: row.n, oldestAvailableAt: row.oldest }));
  }

  /** One statement for the whole batch. */
  renewLeases(renewals: readonly LeaseRenewalRequest[]): Promise<LeaseRenewal[]> {
    return renewEachLeaseOnce(renewals, async (first) => {
      const input = JSON.stringify(first.map((r, i) => ({ i, run_id: r.runId, token: r.token, expires_at: r.expiresAt })));
      const { rows } = await this.db.named<{ i: number; cancel_requested: boolean }>('renewLeases', this.sql.renewLeases, [input]);
      const renewed = new Map(rows.map((row) => [row.i, row.cancel_requested]));
      return first.map((_, i) => {
        const cancelRequested = renewed.get(i);
        return cancelRequested === undefined ? { held: false, cancelRequested: false } : { held: true, cancelRequested };
      });
    });
  }

  async finishRuns(finishes: readonly RunFinish[]): Promise<boolean[]> {
    if (finishes.length === 0) return [];
    const input = JSON.stringify(firstPerLease(finishes).map(({ item, i }) => encodeFinish(item, i)));
    const { rows } = await this.db.named<{ i: number }>('finishRuns', this.sql.finishRuns, [input]);
    const applied = new Set(rows.map((row) => row.i));
    return finishes.map((_, i) => applied.has(i));
  }

  async setProgress(runId: string, token: string, progress: NonNullable<RunRecord['progress']>): Promise<boolean> {
    const result = await this.db.named('setProgress', this.sql.setProgress, [runId, token, jsonParam(progress)]);
    return result.rowCount === 1;
  }

  async claimExpiredLeases(request: ExpiredLeaseClaim): Promise<ExpiredLease[]> {
    if (request.limit <= 0 || request.taskTypes?.length === 0) return [];
    const byType = request.taskTypes !== undefined;
    const expiresAt = new Date(request.now.getTime() + request.leaseMs);
    const params: unknown[] = [request.now, request.instanceId, request.token, expiresAt, request.limit];
    if (byType) params.push([...new Set(request.taskTypes)]);
    const { rows } = await this.db.named(byType ? 'claimExpiredLeasesByType' : 'claimExpiredLeases', this.sql.claimExpiredLeases(byType), params);
    // In the order the leases expired (then id), as the rows come back in no particular order.
    return rows
      .map((row) => ({ run: decodeRun(row), expired: { instanceId: row.expired_instance as string, expiresAt: row.expired_at as Date } }))
      .sort((a, b) => a.expired.expiresAt.getTime() - b.expired.expiresAt.getTime() || (a.run.id < b.run.id ? -1 : a.run.id > b.run.id ? 1 : 0));
  }

  async cancelRun(id: string, now: Date, retentionMs: number, owner?: string): Promise<RunRecord | null> {
    const params = [id, now, new Date(now.getTime() + retentionMs), owner ?? null];
    const { rows } = await this.db.query('cancelRun', this.sql.cancelRun, params);
    return rows[0] ? decodeRun(rows[0]) : null;
  }

  async cancelPendingRuns(triggerId: string, now: Date, retentionMs: number): Promise<number> {
    const params = [triggerId, now, new Date(now.getTime() + retentionMs)];
    const { rows } = await this.db.query<{ n: number }>('cancelPendingRuns', this.sql.cancelPendingRuns, params);
    return rows[0]?.n ?? 0;
  }

  async purgeExpiredRuns(now: Date, limit: number): Promise<number> {
    if (limit <= 0) return 0;
    const result = await this.db.query('purgeExpiredRuns', this.sql.purgeExpiredRuns, [now, limit]);
    return result.rowCount ?? 0;
  }
}
