import { describe, expect, it } from 'vitest';
import * as q from '../../src/stores/mongo/queries.js';
import type { RunFinish } from '../../src/stores/types.js';
import { fixtureDate as at, makeRun } from '../../src/testing/fixtures.js';
import { FINAL_RUN_STATUSES, type RunRecord } from '../../src/types.js';

const DAY = 86_400_000;

describe('MongoDB queries: triggers', () => {
  it('selects by id, at a version when given', () => {
    expect(q.triggerAtVersion('t1')).toEqual({ _id: 't1' });
    expect(q.triggerAtVersion('t1', 3)).toEqual({ _id: 't1', version: 3 });
  });

  it('finds active triggers due by a date, earliest first', () => {
    expect(q.dueTriggersFilter(at(10))).toEqual({ status: 'active', nextFireAt: { $lte: at(10) } });
    expect(q.DUE_TRIGGERS_SORT).toEqual({ nextFireAt: 1, _id: 1 });
  });

  it('finds the active triggers of an event', () => {
    expect(q.eventTriggersFilter('user.signup')).toEqual({ status: 'active', 'schedule.event': 'user.signup', 'schedule.kind': 'event' });
  });

  it('lists with only the filters given, by createdAt or name, then id', () => {
    const base = { sort: 'createdAt', order: 'asc', limit: 10 } as const;
    expect(q.triggerListFilter(base)).toEqual({});
    expect(q.triggerListFilter({ ...base, owner: 'o', status: 'paused', taskType: 't', name: 'n' })).toEqual({
      owner: 'o', status: 'paused', taskType: 't', name: 'n',
    });
    expect(q.triggerListSort(base)).toEqual({ createdAt: 1, _id: 1 });
    expect(q.triggerListSort({ sort: 'name', order: 'desc' })).toEqual({ name: -1, _id: -1 });
    expect(q.TRIGGER_LIST_SORT).toEqual({ createdAt: 1, _id: 1 });
  });

  it('filters a name prefix with an anchored regex whose metacharacters are escaped', () => {
    const base = { sort: 'name', order: 'asc', limit: 10 } as const;
    expect(q.triggerListFilter({ ...base, namePrefix: 'report_' })).toEqual({ name: { $regex: '^report_' } });
    expect(q.triggerListFilter({ ...base, namePrefix: 'a.b*' })).toEqual({ name: { $regex: '^a\\.b\\*' } });
    expect(q.triggerListFilter({ ...base, namePrefix: 'r', name: 'x' })).toEqual({ name: { $eq: 'x', $regex: '^r' } });
  });

  it('starts a page strictly after a position, in the order of the sort', () => {
    expect(q.triggerListFilter({ sort: 'createdAt', order: 'asc', limit: 10, owner: 'o', after: { value: at(5), id: 'b' } })).toEqual({
      owner: 'o', $or: [{ createdAt: { $gt: at(5) } }, { createdAt: at(5), _id: { $gt: 'b' } }],
    });
    expect(q.triggerListFilter({ sort: 'name', order: 'desc', limit: 10, after: { value: 'nm', id: 'b' } })).toEqual({
      $or: [{ name: { $lt: 'nm' } }, { name: 'nm', _id: { $lt: 'b' } }],
    });
  });
});

describe('MongoDB queries: runs', () => {
  it('lists runs with filters, a scheduledFor window, newest first', () => {
    expect(q.runListFilter({ limit: 1 })).toEqual({});
    expect(q.runListFilter({ owner: 'o', triggerId: 't', status: 'failed', taskType: 'x', source: 'manual', from: at(1), to: at(2), limit: 1 })).toEqual({
      owner: 'o', triggerId: 't', status: 'failed', taskType: 'x', source: 'manual', scheduledFor: { $gte: at(1), $lt: at(2) },
    });
    expect(q.runListFilter({ to: at(2), limit: 1 })).toEqual({ scheduledFor: { $lt: at(2) } });
    expect(q.runListFilter({ to: at(2), limit: 1, after: { scheduledFor: at(1), id: 'r' } })).toEqual({
      scheduledFor: { $lt: at(2) }, $or: [{ scheduledFor: { $lt: at(1) } }, { scheduledFor: at(1), _id: { $lt: 'r' } }],
    });
    expect(q.RUN_LIST_SORT).toEqual({ scheduledFor: -1, _id: -1 });
  });

  it('counts runs of a trigger in distinct statuses; scopes by owner', () => {
    expect(q.countRunsFilter('t', ['pending', 'pending', 'running'])).toEqual({ triggerId: 't', status: { $in: ['pending', 'running'] } });
    expect(q.runById('r')).toEqual({ _id: 'r' });
    expect(q.runById('r', 'o')).toEqual({ _id: 'r', owner: 'o' });
  });

  it('claims in three steps: candidates, a guarded update, the runs won', () => {
    const request = { now: at(0), instanceId: 'i1', token: 'tok', leaseMs: 30_000, limit: 5, taskTypes: ['a', 'b'] };
    expect(q.claimCandidatesFilter(request)).toEqual({ status: 'pending', availableAt: { $lte: at(0) }, taskType: { $in: ['a', 'b'] } });
    expect(q.claimCandidatesFilter({ now: at(0) })).toEqual({ status: 'pending', availableAt: { $lte: at(0) } });
    expect(q.CLAIM_SORT).toEqual({ priority: -1, availableAt: 1, scheduledFor: 1, _id: 1 });
    expect(q.claimFilter(['r1', 'r2'], request)).toEqual({
      _id: { $in: ['r1', 'r2'] }, status: 'pending', availableAt: { $lte: at(0) }, taskType: { $in: ['a', 'b'] },
    });
    expect(q.claimUpdate(request)).toEqual({
      $set: { status: 'running', lease: { token: 'tok', instanceId: 'i1', expiresAt: at(30_000) }, startedAt: at(0), instanceId: 'i1' },
      $inc: { attempt: 1 },
    });
    expect(q.claimedFilter(['r1'], 'tok')).toEqual({ _id: { $in: ['r1'] }, status: 'running', 'lease.token': 'tok' });
  });

  it('guards holder writes with the lease token', () => {
    expect(q.heldRun('r', 'tok')).toEqual({ _id: 'r', status: 'running', 'lease.token': 'tok' });
    expect(q.renewUpdate(at(5))).toEqual({ $set: { 'lease.expiresAt': at(5) } });
    expect(q.progressUpdate({ percent: 40, note: undefined, at: at(1) })).toEqual({ $set: { progress: { percent: 40, at: at(1) } } });
  });

  it('finishes a completed run: result, retention, attempt record, lease and earlier error cleared', () => {
    const attemptRecord = { attempt: 1, instanceId: 'i1', startedAt: at(0), finishedAt: at(5), outcome: 'completed' as const };
    const finish: RunFinish = {
      runId: 'r', token: 't', status: 'completed', finishedAt: at(5), durationMs: 5, result: { sent: 3 }, expiresAt: at(DAY), attemptRecord,
    };
    expect(q.finishUpdate(finish)).toEqual({
      $set: { status: 'completed', finishedAt: at(5), durationMs: 5, expiresAt: at(DAY), purgeAt: at(DAY), lease: null, result: { sent: 3 } },
      $unset: { error: '' },
      $push: { attempts: attemptRecord },
    });
    expect(q.finishUpdate({ ...finish, result: undefined, attemptRecord: undefined }).$set).not.toHaveProperty('result');
  });

  it('finishes a failed run with its error and progress', () => {
    const error = { name: 'Error', message: 'boom' };
    const progress = { percent: 50, at: at(2) };
    const update = q.finishUpdate({ runId: 'r', token: 't', status: 'timed_out', finishedAt: at(2), durationMs: 2, error, expiresAt: at(DAY), progress });
    expect(update).toEqual({
      $set: { status: 'timed_out', finishedAt: at(2), durationMs: 2, expiresAt: at(DAY), purgeAt: at(DAY), lease: null, error, progress },
    });
  });

  it('puts a retry back to pending, and undoes the attempt of a deferral', () => {
    const error = { name: 'TypeError', message: 'flaky' };
    expect(q.finishUpdate({ runId: 'r', token: 't', status: 'pending', availableAt: at(10), error })).toEqual({
      $set: { status: 'pending', availableAt: at(10), lease: null, error },
    });
    expect(q.finishUpdate({ runId: 'r', token: 't', status: 'pending', availableAt: at(10), undoAttempt: true })).toEqual({
      $set: { status: 'pending', availableAt: at(10), lease: null },
      $inc: { attempt: -1 },
    });
  });

  it('recovers an expired lease to pending, guarded by the same still-expired lease', () => {
    const lease = { token: 'old', instanceId: 'i1', expiresAt: at(30_000) };
    const run = makeRun({ status: 'running', attempt: 1, maxAttempts: 3, startedAt: at(0), instanceId: 'i1', lease }) as RunRecord & { lease: typeof lease };
    const write = q.recoveryWrite(run, at(40_000), DAY);
    expect(write.outcome).toBe('pending');
    expect(write.filter).toEqual({ _id: run.id, status: 'running', 'lease.token': 'old', 'lease.expiresAt': { $lte: at(40_000) } });
    expect(write.update.$set).toEqual({ status: 'pending', lease: null, availableAt: at(40_000) });
    expect(write.update.$push).toMatchObject({
      attempts: { attempt: 1, instanceId: 'i1', startedAt: at(0), finishedAt: at(40_000), outcome: 'lease_expired', error: { name: 'LeaseLostError' } },
    });
  });

  it('fails a recovered run out of attempts, with retention', () => {
    const lease = { token: 'old', instanceId: 'i1', expiresAt: at(30_000) };
    const run = makeRun({ status: 'running', attempt: 3, maxAttempts: 3, startedAt: at(10_000), lease }) as RunRecord & { lease: typeof lease };
    const write = q.recoveryWrite(run, at(40_000), 1_000);
    expect(write.outcome).toBe('failed');
    expect(write.update.$set).toMatchObject({
      status: 'failed', lease: null, finishedAt: at(40_000), durationMs: 30_000, expiresAt: at(41_000), purgeAt: at(41_000),
      error: { name: 'LeaseLostError' },
    });
    expect(q.expiredLeasesFilter(at(1))).toEqual({ status: 'running', 'lease.expiresAt': { $lte: at(1) } });
    expect(q.EXPIRED_LEASES_SORT).toEqual({ 'lease.expiresAt': 1, _id: 1 });
  });

  it('cancels pending runs at once and flags running ones', () => {
    expect(q.cancelPendingFilter('r', 'o')).toEqual({ _id: 'r', owner: 'o', status: 'pending' });
    expect(q.cancelPendingUpdate(at(0), 1_000)).toEqual({
      $set: { status: 'cancelled', finishedAt: at(0), expiresAt: at(1_000), purgeAt: at(1_000), lease: null },
    });
    expect(q.cancelRunningFilter('r')).toEqual({ _id: 'r', status: 'running' });
    expect(q.CANCEL_REQUEST_UPDATE).toEqual({ $set: { cancelRequested: true } });
  });

  it('purges only final runs past purgeAt', () => {
    expect(q.purgeableFilter(at(0))).toEqual({ purgeAt: { $lte: at(0) }, status: { $in: [...FINAL_RUN_STATUSES] } });
  });
});

describe('MongoDB queries: audit and pages', () => {
  it('lists audit entries with filters, newest first', () => {
    expect(q.auditListFilter({ owner: 'o', triggerId: 't', action: 'run.cancel', limit: 1 })).toEqual({
      owner: 'o', triggerId: 't', action: 'run.cancel',
    });
    expect(q.auditListFilter({ owner: 'o', limit: 1, after: { at: at(3), id: 'e' } })).toEqual({
      owner: 'o', $or: [{ at: { $lt: at(3) } }, { at: at(3), _id: { $lt: 'e' } }],
    });
    expect(q.AUDIT_LIST_SORT).toEqual({ at: -1, _id: -1 });
  });

  it('turns an event page\'s limit and offset into skip and limit; limit 0 reads nothing', () => {
    expect(q.pageWindow({ limit: 50, offset: 10 })).toEqual({ skip: 10, limit: 50 });
    expect(q.pageWindow({ limit: 0, offset: 0 })).toBeNull();
    expect(q.pageWindow({ limit: 5, offset: -3 })).toEqual({ skip: 0, limit: 5 });
  });
});
