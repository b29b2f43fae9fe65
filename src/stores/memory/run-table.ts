import { FINAL_RUN_STATUSES } from '../../types.js';
import type { RunRecord, RunStatus } from '../../types.js';
import type { ClaimRequest, DueRunCount, ExpiredLease, ExpiredLeaseClaim, LeaseRenewal, RunFinish, RunQuery } from '../types.js';
import { ClaimQueue } from './claim-queue.js';
import { IdSets } from './id-sets.js';
import { copy, copyAttempt, copyRun, keysetPage } from './records.js';
import { TimeIndex } from './time-index.js';

interface StoredRun {
  record: RunRecord;
  /** Write sequence number: index entries are live while it matches. */
  seq: number;
}

const FINAL = new Set<RunStatus>(FINAL_RUN_STATUSES);

/** A run that can be purged once `expiresAt` passes. */
function isExpiring(run: RunRecord): run is RunRecord & { expiresAt: Date } {
  return FINAL.has(run.status) && run.expiresAt !== null;
}

function isLeased(run: RunRecord): run is RunRecord & { lease: NonNullable<RunRecord['lease']> } {
  return run.status === 'running' && run.lease !== null;
}

/**
 * The memory store's runs. Besides the map by id it keeps: id sets per trigger and per owner
 * (history queries), a {@link ClaimQueue} of pending
 * runs, and {@link TimeIndex}es of running runs by lease expiry and of final runs by
 * `expiresAt`. Records are never mutated in place: every change stores a new object through
 * `put`, which re-indexes it. Inputs are copied in and results copied out.
 */
export class RunTable {
  private readonly runs = new Map<string, StoredRun>();
  private readonly idsByTrigger = new IdSets();
  private readonly idsByOwner = new IdSets();
  private readonly isLive = (ref: { id: string; seq: number }): boolean => this.runs.get(ref.id)?.seq === ref.seq;
  private readonly claimable = new ClaimQueue(this.isLive);
  private readonly leases = new TimeIndex(this.isLive);
  private readonly expiries = new TimeIndex(this.isLive);
  private readonly live = { pending: 0, leased: 0, expiring: 0 };
  private seq = 0;

  has(id: string): boolean {
    return this.runs.has(id);
  }

  /** Inserts a copy of `run` unless its id exists. */
  insert(run: RunRecord): boolean {
    if (this.runs.has(run.id)) return false;
    this.put(copyRun(run));
    return true;
  }

  get(id: string, owner?: string): RunRecord | null {
    const record = this.runs.get(id)?.record;
    if (!record || (owner !== undefined && record.owner !== owner)) return null;
    return copyRun(record);
  }

  /** One keyset page, newest `scheduledFor` first, then id descending. */
  list(query: RunQuery): RunRecord[] {
    const ids =
      query.triggerId !== undefined
        ? this.idsByTrigger.ids(query.triggerId)
        : query.owner !== undefined
          ? this.idsByOwner.ids(query.owner)
          : this.runs.keys();
    const from = query.from?.getTime();
    const to = query.to?.getTime();
    const matches: RunRecord[] = [];
    for (const id of ids) {
      const r = (this.runs.get(id) as StoredRun).record;
      if (query.owner !== undefined && r.owner !== query.owner) continue;
      if (query.triggerId !== undefined && r.triggerId !== query.triggerId) continue;
      if (query.status !== undefined && r.status !== query.status) continue;
      if (query.taskType !== undefined && r.taskType !== query.taskType) continue;
      if (query.source !== undefined && r.source !== query.source) continue;
      if (from !== undefined && r.scheduledFor.getTime() < from) continue;
      if (to !== undefined && r.scheduledFor.getTime() >= to) continue;
      matches.push(r);
    }
    const after = query.after ? ([query.after.scheduledFor.getTime(), query.after.id] as const) : undefined;
    return keysetPage(matches, (r) => [r.scheduledFor.getTime(), r.id], true, after, query.limit, copyRun);
  }

  claim(request: ClaimRequest): RunRecord[] {
    const now = request.now.getTime();
    const { token, instanceId } = request;
    const expiresAt = now + request.leaseMs;
    return this.claimable.take(now, request.limit, request.taskTypes).map((entry) => {
      const run = this.record(entry.id);
      const next: RunRecord = {
        ...run,
        status: 'running',
        attempt: run.attempt + 1,
        startedAt: new Date(now),
        instanceId,
        lease: { token, instanceId, expiresAt: new Date(expiresAt) },
      };
      this.put(next);
      return copyRun(next);
    });
  }

  countDueByType(now: Date, exceptTypes: readonly string[]): DueRunCount[] {
    const counts = this.claimable.countAvailable(now.getTime(), new Set(exceptTypes));
    return [...counts].map(([taskType, { count, oldest }]) => ({ taskType, count, oldestAvailableAt: new Date(oldest) }));
  }

  renew(runId: string, token: string, expiresAt: Date): LeaseRenewal {
    const run = this.held(runId, token);
    if (!run) return { held: false, cancelRequested: false };
    this.put({ ...run, lease: { ...run.lease, expiresAt: new Date(expiresAt) } });
    return { held: true, cancelRequested: run.cancelRequested };
  }

  finish(finish: RunFinish): boolean {
    const run = this.held(finish.runId, finish.token);
    if (!run) return false;
    const attempts = finish.attemptRecord ? [...run.attempts, copyAttempt(finish.attemptRecord)] : run.attempts;
    let next: RunRecord;
    switch (finish.status) {
      case 'pending':
        next = {
          ...run,
          lease: null,
          attempts,
          status: 'pending',
          availableAt: new Date(finish.availableAt),
          attempt: finish.undoAttempt ? Math.max(0, run.attempt - 1) : run.attempt,
        };
        if (finish.error) next.error = copy(finish.error);
        break;
      case 'completed': {
        // A success clears the error an earlier attempt left: left out of a fresh copy rather
        // than deleted, which would turn the record into a slow hash-table object in V8.
        if ('error' in run) {
          const { error: _cleared, ...rest } = run;
          next = rest;
        } else next = { ...run };
        next.lease = null;
        next.attempts = attempts;
        next.status = 'completed';
        next.finishedAt = new Date(finish.finishedAt);
        next.durationMs = finish.durationMs;
        next.expiresAt = new Date(finish.expiresAt);
        if ('result' in finish) next.result = copy(finish.result);
        if (finish.progress) next.progress = copy(finish.progress);
        break;
      }
      default:
        next = { ...run, lease: null, attempts, status: finish.status, finishedAt: new Date(finish.finishedAt), durationMs: finish.durationMs };
        next.expiresAt = new Date(finish.expiresAt);
        next.error = copy(finish.error);
        if (finish.progress) next.progress = copy(finish.progress);
    }
    this.put(next);
    return true;
  }

  setProgress(runId: string, token: string, progress: NonNullable<RunRecord['progress']>): boolean {
    const run = this.held(runId, token);
    if (!run) return false;
    this.put({ ...run, progress: copy(progress) });
    return true;
  }

  claimExpiredLeases(request: ExpiredLeaseClaim): ExpiredLease[] {
    if (request.limit <= 0 || request.taskTypes?.length === 0) return [];
    const types = request.taskTypes ? new Set(request.taskTypes) : null;
    const due = this.leases.takeDue(request.now.getTime(), request.limit, (ref) => !types || types.has(this.record(ref.id).taskType));
    const expiresAt = request.now.getTime() + request.leaseMs;
    return due.map((ref) => {
      const run = this.record(ref.id) as RunRecord & { lease: NonNullable<RunRecord['lease']> };
      const next: RunRecord = { ...run, lease: { token: request.token, instanceId: request.instanceId, expiresAt: new Date(expiresAt) } };
      this.put(next);
      return { run: copyRun(next), expired: { instanceId: run.lease.instanceId, expiresAt: new Date(run.lease.expiresAt) } };
    });
  }

  cancel(id: string, now: Date, retentionMs: number, owner?: string): RunRecord | null {
    const run = this.runs.get(id)?.record;
    if (!run || (owner !== undefined && run.owner !== owner)) return null;
    let next: RunRecord;
    if (run.status === 'pending') {
      const at = now.getTime();
      next = { ...run, status: 'cancelled', finishedAt: new Date(at), expiresAt: new Date(at + retentionMs), lease: null };
    } else if (run.status === 'running') {
      next = { ...run, cancelRequested: true };
    } else {
      return null;
    }
    this.put(next);
    return copyRun(next);
  }

  /** Cancels every pending run of a trigger; returns how many. */
  cancelPending(triggerId: string, now: Date, retentionMs: number): number {
    const at = now.getTime();
    let cancelled = 0;
    for (const id of [...this.idsByTrigger.ids(triggerId)]) {
      const run = this.record(id);
      if (run.status !== 'pending') continue;
      this.put({ ...run, status: 'cancelled', finishedAt: new Date(at), expiresAt: new Date(at + retentionMs), lease: null });
      cancelled++;
    }
    return cancelled;
  }

  purgeExpired(now: Date, limit: number): number {
    const expired = this.expiries.takeDue(now.getTime(), limit);
    for (const ref of expired) {
      this.unindex(this.record(ref.id));
      this.runs.delete(ref.id);
    }
    return expired.length;
  }

  /** The stored record if `token` holds the run's lease. */
  private held(runId: string, token: string): (RunRecord & { lease: NonNullable<RunRecord['lease']> }) | null {
    const run = this.runs.get(runId)?.record;
    return run && isLeased(run) && run.lease.token === token ? run : null;
  }

  private record(id: string): RunRecord {
    return (this.runs.get(id) as StoredRun).record;
  }

  /** Stores `record` (owned by the table from now on) and indexes it. */
  private put(record: RunRecord): void {
    const stored = this.runs.get(record.id);
    const previous = stored?.record;
    // A rewrite keeps its trigger and owner, so the id sets need no change (with tens of
    // thousands of runs per trigger, a delete and re-add there is a large part of a write).
    const moved = !previous || previous.triggerId !== record.triggerId || previous.owner !== record.owner;
    if (previous) {
      if (moved) this.unindex(previous);
      else this.uncount(previous);
    }
    const seq = ++this.seq;
    // The holder is the table's own: a rewrite updates it rather than allocating a new one.
    if (stored) {
      stored.record = record;
      stored.seq = seq;
    } else this.runs.set(record.id, { record, seq });
    if (moved) {
      this.idsByTrigger.add(record.triggerId, record.id);
      this.idsByOwner.add(record.owner, record.id);
    }
    if (record.status === 'pending') {
      this.claimable.add({
        id: record.id,
        seq,
        taskType: record.taskType,
        priority: record.priority,
        availableAt: record.availableAt.getTime(),
        scheduledFor: record.scheduledFor.getTime(),
      });
      this.live.pending++;
    } else if (isLeased(record)) {
      this.leases.add(record.lease.expiresAt.getTime(), record.id, seq);
      this.live.leased++;
    } else if (isExpiring(record)) {
      this.expiries.add(record.expiresAt.getTime(), record.id, seq);
      this.live.expiring++;
    }
    this.claimable.compactIfBloated(this.live.pending);
    this.leases.compactIfBloated(this.live.leased);
    this.expiries.compactIfBloated(this.live.expiring);
  }

  private unindex(record: RunRecord): void {
    this.idsByTrigger.remove(record.triggerId, record.id);
    this.idsByOwner.remove(record.owner, record.id);
    this.uncount(record);
  }

  /** Takes `record` out of the live tallies (its index entries go stale by themselves). */
  private uncount(record: RunRecord): void {
    if (record.status === 'pending') this.live.pending--;
    else if (isLeased(record)) this.live.leased--;
    else if (isExpiring(record)) this.live.expiring--;
  }
}
