import { beforeEach, describe, expect, it } from 'vitest';
import type { ExpiredLease, ExpiredLeaseClaim, RunFinish, Store } from '../../stores/types.js';
import type { AttemptRecord, RunRecord } from '../../types.js';
import {
  fixtureDate as at,
  makeRun,
} from '../fixtures.js';
import { DAY, ids, tokenOf, type ContractContext } from './context.js';

/** Runs: inserts, claims, leases, finishing, recovery, cancellation, counting and retention. */
export function runContract(ctx: ContractContext): void {
  let store: Store;
  beforeEach(() => {
    store = ctx.store;
  });
  const { insertRuns, claim, claimed, completion } = ctx;

  describe('runs', () => {
    it('inserts runs, reporting existing ids as false without overwriting them', async () => {
      const a = makeRun();
      const b = makeRun();
      expect(await store.insertRuns([a])).toEqual([true]);
      expect(await store.insertRuns([{ ...a, payload: { changed: true } }, b])).toEqual([false, true]);
      expect(await store.getRun(a.id)).toEqual(a);
      expect(await store.getRun(b.id)).toEqual(b);
      expect(await store.insertRuns([])).toEqual([]);
    });

    it('gets a run scoped by owner, as a copy both ways', async () => {
      const run = makeRun({
        owner: 'owner-a',
        source: 'event',
        event: { name: 'user.signup', data: { userId: 'u1' }, publishedAt: at(-1_000) },
      });
      const expected = structuredClone(run);
      await insertRuns(run);
      run.priority = 99;
      const got = (await store.getRun(run.id, 'owner-a')) as RunRecord;
      expect(got).toEqual(expected);
      got.status = 'completed';
      got.attempts.push({ attempt: 1, instanceId: 'x', startedAt: at(), finishedAt: at(), outcome: 'completed' });
      expect(await store.getRun(run.id)).toEqual(expected);
      expect(await store.getRun(run.id, 'owner-b')).toBeNull();
      expect(await store.getRun('missing')).toBeNull();
    });

    it('keeps pauseAfterFailures and the cancel-previous policy through claims and finishes', async () => {
      const run = makeRun({ pauseAfterFailures: 3, overlap: 'cancel-previous' });
      await insertRuns(run);
      expect(await store.getRun(run.id)).toEqual(run);
      const [held] = await claim(run.availableAt, 1);
      expect(held).toMatchObject({ id: run.id, pauseAfterFailures: 3, overlap: 'cancel-previous' });
      expect(await store.finishRuns([completion(held as RunRecord, tokenOf(held))])).toEqual([true]);
      expect(await store.getRun(run.id)).toMatchObject({ status: 'completed', pauseAfterFailures: 3, overlap: 'cancel-previous' });
      const bare = makeRun();
      await insertRuns(bare);
      expect('pauseAfterFailures' in ((await store.getRun(bare.id)) as RunRecord)).toBe(false);
    });
  });

  describe('claimRuns', () => {
    it('claims the highest priority first, then the earliest availableAt, under a new lease', async () => {
      const low = makeRun({ priority: 0, availableAt: at(1_000) });
      const highLate = makeRun({ priority: 5, availableAt: at(9_000) });
      const highEarly = makeRun({ priority: 5, availableAt: at(2_000) });
      const middle = makeRun({ priority: 1, availableAt: at(5_000) });
      await insertRuns(low, highLate, highEarly, middle);
      const now = at(10_000);
      const got = await store.claimRuns({ now, instanceId: 'instance-1', token: 'token-a', leaseMs: 30_000, limit: 10 });
      expect(ids(got)).toEqual([highEarly.id, highLate.id, middle.id, low.id]);
      const first = got[0] as RunRecord;
      expect(first).toMatchObject({ status: 'running', attempt: 1, instanceId: 'instance-1', cancelRequested: false });
      expect(first.startedAt?.getTime()).toBe(now.getTime());
      expect(first.lease).toMatchObject({ token: 'token-a', instanceId: 'instance-1' });
      expect(first.lease?.expiresAt.getTime()).toBe(at(40_000).getTime());
      expect(await store.getRun(first.id)).toEqual(first);
      expect(await claim(at(20_000))).toEqual([]);
    });

    it('never claims a run before availableAt, nor lets it block available ones', async () => {
      const future = makeRun({ priority: 9, availableAt: at(20_000) });
      const ready = makeRun({ priority: 0, availableAt: at(5_000) });
      await insertRuns(future, ready);
      expect(ids(await claim(at(10_000)))).toEqual([ready.id]);
      expect(await claim(at(19_999))).toEqual([]);
      expect(ids(await claim(at(20_000)))).toEqual([future.id]);
    });

    it('takes at most `limit` runs, of the given task types only', async () => {
      const a = [1, 2, 3, 4, 5].map((i) => makeRun({ taskType: 'task-a', availableAt: at(i) }));
      const b = [6, 7, 8].map((i) => makeRun({ taskType: 'task-b', availableAt: at(i) }));
      const c = [9, 10].map((i) => makeRun({ taskType: 'task-c', availableAt: at(i), priority: 9 }));
      await insertRuns(...c, ...b, ...a);
      const now = at(1_000);
      expect(ids(await claim(now, 4, { taskTypes: ['task-a', 'task-b'] }))).toEqual(ids(a.slice(0, 4)));
      expect(await claim(now, 10, { taskTypes: [] })).toEqual([]);
      expect(ids(await claim(now, 10, { taskTypes: ['task-b'] }))).toEqual(ids(b));
      expect(ids(await claim(now, 10))).toEqual([...ids(c), a[4]?.id]);
    });

    it('counts due pending runs by task type, leaving out the given types', async () => {
      const b = [makeRun({ taskType: 'task-b', availableAt: at(300) }), makeRun({ taskType: 'task-b', availableAt: at(100), priority: 5 })];
      const c = makeRun({ taskType: 'task-c', availableAt: at(200) });
      const later = makeRun({ taskType: 'task-c', availableAt: at(5_000) });
      const handled = makeRun({ taskType: 'task-a', availableAt: at(0) });
      const running = makeRun({ taskType: 'task-b', availableAt: at(50) });
      await insertRuns(running);
      expect(ids(await claim(at(50), 1))).toEqual([running.id]);
      await insertRuns(...b, c, later, handled);
      const byType = async (now: Date, except: string[]) =>
        (await store.countDueRunsByType(now, except)).sort((x, y) => (x.taskType < y.taskType ? -1 : 1));
      expect(await byType(at(1_000), ['task-a'])).toEqual([
        { taskType: 'task-b', count: 2, oldestAvailableAt: at(100) },
        { taskType: 'task-c', count: 1, oldestAvailableAt: at(200) },
      ]);
      expect(await byType(at(1_000), ['task-a', 'task-b', 'task-c'])).toEqual([]);
      expect(await byType(at(150), [])).toEqual([
        { taskType: 'task-a', count: 1, oldestAvailableAt: at(0) },
        { taskType: 'task-b', count: 1, oldestAvailableAt: at(100) },
      ]);
      // A read: the runs are still claimable afterwards, in claim order.
      expect(ids(await claim(at(1_000), 10, { taskTypes: ['task-b'] }))).toEqual([b[1]?.id, b[0]?.id]);
    });

    it('claims only pending runs', async () => {
      const lease = { token: 'other-token', instanceId: 'instance-2', expiresAt: at(60_000) };
      await insertRuns(
        makeRun({ status: 'running', attempt: 1, startedAt: at(0), instanceId: 'instance-2', lease }),
        makeRun({ status: 'completed', attempt: 1, finishedAt: at(1), durationMs: 1, expiresAt: at(DAY) }),
        makeRun({ status: 'cancelled', finishedAt: at(1), expiresAt: at(DAY) }),
        makeRun({ status: 'skipped', expiresAt: at(DAY) }),
      );
      const pending = makeRun();
      await insertRuns(pending);
      expect(ids(await claim(at(1_000)))).toEqual([pending.id]);
    });

    it('hands every run to exactly one of many concurrent claimers', async () => {
      const runs = Array.from({ length: 200 }, (_, i) =>
        makeRun({ priority: i % 5, availableAt: at(i), taskType: i % 2 ? 'task-a' : 'task-b' }),
      );
      for (let i = 0; i < runs.length; i += 50) await insertRuns(...runs.slice(i, i + 50));
      const seen: string[] = [];
      const claimer = async (n: number): Promise<void> => {
        for (;;) {
          const got = await claim(at(1_000), 10, n % 3 === 0 ? { taskTypes: ['task-a', 'task-b'] } : {});
          if (got.length === 0) return;
          seen.push(...ids(got));
        }
      };
      await Promise.all(Array.from({ length: 8 }, (_, n) => claimer(n)));
      expect(seen).toHaveLength(200);
      expect(new Set(seen).size).toBe(200);
      expect(await store.listRuns({ status: 'running', limit: 500 })).toHaveLength(200);
    });
  });

  describe('leases and finishing', () => {
    it('renews a lease only with its token', async () => {
      const run = await claimed();
      expect((await ctx.renew(run.id, 'wrong-token', at(90_000))).held).toBe(false);
      expect(await store.getRun(run.id)).toEqual(run);
      expect(await ctx.renew(run.id, tokenOf(run), at(90_000))).toEqual({ held: true, cancelRequested: false });
      const renewed = await store.getRun(run.id);
      expect(renewed?.lease?.expiresAt.getTime()).toBe(at(90_000).getTime());
      expect(renewed?.lease).toMatchObject({ token: tokenOf(run), instanceId: 'instance-1' });
      expect((await ctx.renew('missing', tokenOf(run), at(90_000))).held).toBe(false);
    });

    it('completes a run only with its token, clearing the lease', async () => {
      const run = await claimed();
      expect(await store.finishRuns([completion(run, 'wrong-token')])).toEqual([false]);
      expect(await store.getRun(run.id)).toEqual(run);
      const attemptRecord: AttemptRecord = {
        attempt: 1, instanceId: 'instance-1', startedAt: at(), finishedAt: at(5_000), outcome: 'completed',
      };
      const progress = { percent: 100, note: 'done', at: at(5_000) };
      expect(await store.finishRuns([{ ...completion(run, tokenOf(run)), attemptRecord, progress }])).toEqual([true]);
      const done = (await store.getRun(run.id)) as RunRecord;
      expect(done).toMatchObject({ status: 'completed', durationMs: 5_000, result: { sent: 3 }, lease: null, attempt: 1, progress });
      expect(done.finishedAt?.getTime()).toBe(at(5_000).getTime());
      expect(done.expiresAt?.getTime()).toBe(at(DAY).getTime());
      expect(done.attempts).toEqual([attemptRecord]);
      expect(await store.finishRuns([completion(run, tokenOf(run))])).toEqual([false]);
      expect((await ctx.renew(run.id, tokenOf(run), at(90_000))).held).toBe(false);
    });

    it.each(['failed', 'timed_out', 'cancelled', 'skipped'] as const)('finishes as %s with its error', async (status) => {
      const run = await claimed();
      const error = { name: 'Error', message: `boom: ${status}` };
      const finish: RunFinish = {
        runId: run.id, token: tokenOf(run), status, finishedAt: at(2_000), durationMs: 2_000, error, expiresAt: at(DAY),
      };
      expect(await store.finishRuns([finish])).toEqual([true]);
      const done = (await store.getRun(run.id)) as RunRecord;
      expect(done).toMatchObject({ status, error, durationMs: 2_000, lease: null, attempts: [] });
      expect(done.finishedAt?.getTime()).toBe(at(2_000).getTime());
      expect(done.expiresAt?.getTime()).toBe(at(DAY).getTime());
    });

    it('puts a retry back to pending, claimable again at availableAt', async () => {
      const run = await claimed();
      const error = { name: 'TypeError', message: 'flaky' };
      const attemptRecord: AttemptRecord = {
        attempt: 1, instanceId: 'instance-1', startedAt: at(), finishedAt: at(1_000), outcome: 'retry', error,
      };
      const retry: RunFinish = { runId: run.id, token: tokenOf(run), status: 'pending', availableAt: at(10_000), error, attemptRecord };
      expect(await store.finishRuns([retry])).toEqual([true]);
      const waiting = (await store.getRun(run.id)) as RunRecord;
      expect(waiting).toMatchObject({ status: 'pending', lease: null, attempt: 1, error, attempts: [attemptRecord] });
      expect(waiting.availableAt.getTime()).toBe(at(10_000).getTime());
      expect(await claim(at(9_999))).toEqual([]);
      const [again] = await claim(at(10_000));
      expect(again).toMatchObject({ id: run.id, status: 'running', attempt: 2 });
      expect(tokenOf(again)).not.toBe(tokenOf(run));
      expect(await store.finishRuns([completion(run, tokenOf(run))])).toEqual([false]);
    });

    it('clears the error of an earlier attempt on completion, and keeps it through a retry without one', async () => {
      const run = await claimed();
      const error = { name: 'TypeError', message: 'flaky' };
      const retry: RunFinish = { runId: run.id, token: tokenOf(run), status: 'pending', availableAt: at(1_000), error };
      expect(await store.finishRuns([retry])).toEqual([true]);
      const [second] = await claim(at(1_000));
      expect(second).toMatchObject({ id: run.id, attempt: 2, error });
      const deferral: RunFinish = { runId: run.id, token: tokenOf(second), status: 'pending', availableAt: at(2_000), undoAttempt: true };
      expect(await store.finishRuns([deferral])).toEqual([true]);
      expect(await store.getRun(run.id)).toMatchObject({ status: 'pending', attempt: 1, error });
      const [third] = await claim(at(2_000));
      expect(await store.finishRuns([completion(third as RunRecord, tokenOf(third))])).toEqual([true]);
      const done = (await store.getRun(run.id)) as RunRecord;
      expect(done).toMatchObject({ status: 'completed', result: { sent: 3 }, attempt: 2 });
      expect('error' in done).toBe(false);
    });

    it('undoes the attempt of a deferral', async () => {
      const run = await claimed();
      const defer: RunFinish = { runId: run.id, token: tokenOf(run), status: 'pending', availableAt: at(5_000), undoAttempt: true };
      expect(await store.finishRuns([defer])).toEqual([true]);
      expect(await store.getRun(run.id)).toMatchObject({ status: 'pending', attempt: 0, attempts: [], lease: null });
      expect(await claim(at(5_000))).toMatchObject([{ id: run.id, attempt: 1 }]);
    });

    it('applies each finish of a batch on its own, in input order', async () => {
      const a = await claimed();
      const b = await claimed();
      const retryA: RunFinish = { runId: a.id, token: tokenOf(a), status: 'pending', availableAt: at(50_000) };
      const results = await store.finishRuns([completion(a, 'wrong-token'), completion(b, tokenOf(b)), retryA]);
      expect(results).toEqual([false, true, true]);
      expect(await store.getRun(a.id)).toMatchObject({ status: 'pending' });
      expect(await store.getRun(b.id)).toMatchObject({ status: 'completed' });
      expect(await store.finishRuns([])).toEqual([]);
    });

    it('stores progress only with the holder token', async () => {
      const run = await claimed();
      const progress = { percent: 40, note: 'page 4 of 10', at: at(3_000) };
      expect(await store.setProgress(run.id, 'wrong-token', progress)).toBe(false);
      expect((await store.getRun(run.id))?.progress).toBeUndefined();
      expect(await store.setProgress(run.id, tokenOf(run), progress)).toBe(true);
      expect((await store.getRun(run.id))?.progress).toEqual(progress);
      expect(await store.setProgress('missing', tokenOf(run), progress)).toBe(false);
    });
  });

  describe('claimExpiredLeases', () => {
    let takeovers = 0;
    const takeOver = (now: Date, limit = 10, extra: Partial<ExpiredLeaseClaim> = {}): Promise<ExpiredLease[]> =>
      store.claimExpiredLeases({ now, instanceId: 'instance-2', token: `takeover-${++takeovers}`, leaseMs: 30_000, limit, ...extra });

    it('leaves leases alone until they expire, renewals included', async () => {
      const run = await claimed();
      expect(await takeOver(at(29_999))).toEqual([]);
      await ctx.renew(run.id, tokenOf(run), at(60_000));
      expect(await takeOver(at(59_999))).toEqual([]);
      expect(await store.getRun(run.id)).toMatchObject({ status: 'running', lease: { token: tokenOf(run) } });
      expect(await takeOver(at(60_000))).toHaveLength(1);
    });

    it('holds an expired run under the new token, changing nothing but the lease', async () => {
      const run = await claimed();
      const [taken, ...rest] = await takeOver(at(35_000), 10, { token: 'new-token', leaseMs: 10_000 });
      expect(rest).toEqual([]);
      expect(taken?.expired).toEqual({ instanceId: 'instance-1', expiresAt: at(30_000) });
      const expected: RunRecord = { ...run, lease: { token: 'new-token', instanceId: 'instance-2', expiresAt: at(45_000) } };
      expect(taken?.run).toEqual(expected);
      expect(await store.getRun(run.id)).toEqual(expected);
      // The lapsed holder is refused; the new holder renews and writes the outcome.
      expect((await ctx.renew(run.id, tokenOf(run), at(90_000))).held).toBe(false);
      expect(await store.finishRuns([completion(run, tokenOf(run))])).toEqual([false]);
      expect(await takeOver(at(44_999))).toEqual([]);
      expect((await ctx.renew(run.id, 'new-token', at(50_000))).held).toBe(true);
      const lapsed: AttemptRecord = {
        attempt: 1, instanceId: 'instance-1', startedAt: run.startedAt ?? at(), finishedAt: at(35_000), outcome: 'lease_expired',
        error: { name: 'LeaseLostError', message: 'expired' },
      };
      const retry: RunFinish = { runId: run.id, token: 'new-token', status: 'pending', availableAt: at(37_000), error: lapsed.error, attemptRecord: lapsed };
      expect(await store.finishRuns([retry])).toEqual([true]);
      expect(await store.getRun(run.id)).toMatchObject({ status: 'pending', lease: null, attempt: 1, attempts: [lapsed] });
      expect(await claim(at(36_999))).toEqual([]);
      expect(await claim(at(37_000))).toMatchObject([{ id: run.id, attempt: 2 }]);
    });

    it('hands each expired run to one caller, and the taken lease expires again', async () => {
      const run = await claimed();
      const [first, second] = await Promise.all([takeOver(at(40_000)), takeOver(at(40_000))]);
      expect([...(first ?? []), ...(second ?? [])].map((taken) => taken.run.id)).toEqual([run.id]);
      expect(await takeOver(at(69_999))).toEqual([]);
      const [again] = await takeOver(at(70_000), 10, { instanceId: 'instance-3' });
      expect(again?.expired).toEqual({ instanceId: 'instance-2', expiresAt: at(70_000) });
    });

    it('takes only the listed task types, oldest expiry first, at most `limit`', async () => {
      const a = await claimed({ taskType: 'task-a', scheduledFor: at(0) });
      const b = await claimed({ taskType: 'task-b', scheduledFor: at(1_000) });
      const c = await claimed({ taskType: 'task-a', scheduledFor: at(2_000) });
      expect(await takeOver(at(60_000), 10, { taskTypes: [] })).toEqual([]);
      expect(await takeOver(at(60_000), 0)).toEqual([]);
      expect(ids((await takeOver(at(60_000), 10, { taskTypes: ['task-b', 'task-c'] })).map((t) => t.run))).toEqual([b.id]);
      expect(ids((await takeOver(at(60_000), 1, { taskTypes: ['task-a'] })).map((t) => t.run))).toEqual([a.id]);
      expect(ids((await takeOver(at(60_000), 10)).map((t) => t.run))).toEqual([c.id]);
      expect(await takeOver(at(60_000))).toEqual([]);
    });

    it('never takes pending or finished runs', async () => {
      const pending = makeRun({ scheduledFor: at(10_000) });
      await insertRuns(pending);
      const done = await claimed();
      expect(await store.finishRuns([completion(done, tokenOf(done))])).toEqual([true]);
      expect(await takeOver(at(DAY))).toEqual([]);
    });
  });

  describe('cancelRun', () => {
    it('cancels a pending run at once', async () => {
      const run = makeRun();
      await insertRuns(run);
      const cancelled = (await store.cancelRun(run.id, at(1_000), DAY)) as RunRecord;
      expect(cancelled).toMatchObject({ id: run.id, status: 'cancelled' });
      expect(cancelled.finishedAt?.getTime()).toBe(at(1_000).getTime());
      expect(cancelled.expiresAt?.getTime()).toBe(at(1_000 + DAY).getTime());
      expect(await store.getRun(run.id)).toEqual(cancelled);
      expect(await claim(at(2_000))).toEqual([]);
    });

    it('asks the holder of a running run to stop, through renewLeases', async () => {
      const run = await claimed({ owner: 'owner-a' });
      const requested = await store.cancelRun(run.id, at(1_000), DAY, 'owner-a');
      expect(requested).toMatchObject({ id: run.id, status: 'running', cancelRequested: true });
      expect(await ctx.renew(run.id, tokenOf(run), at(60_000))).toEqual({ held: true, cancelRequested: true });
      const finish: RunFinish = {
        runId: run.id, token: tokenOf(run), status: 'cancelled', finishedAt: at(2_000), durationMs: 2_000,
        error: { name: 'CancelledError', message: 'cancelled' }, expiresAt: at(DAY),
      };
      expect(await store.finishRuns([finish])).toEqual([true]);
      expect(await store.cancelRun(run.id, at(3_000), DAY)).toBeNull();
    });

    it("answers null for a missing run, another owner's run or a final run", async () => {
      const run = makeRun({ owner: 'owner-a' });
      const done = makeRun({ status: 'completed', finishedAt: at(1), durationMs: 1, expiresAt: at(DAY) });
      await insertRuns(run, done);
      expect(await store.cancelRun(run.id, at(1_000), DAY, 'owner-b')).toBeNull();
      expect(await store.getRun(run.id)).toEqual(run);
      expect(await store.cancelRun('missing', at(1_000), DAY)).toBeNull();
      expect(await store.cancelRun(done.id, at(1_000), DAY)).toBeNull();
      expect(await store.getRun(done.id)).toEqual(done);
    });
  });

  describe('cancelPendingRuns and purgeExpiredRuns', () => {
    it('cancels every pending run of one trigger in one call, and nothing else', async () => {
      const t1 = { triggerId: 'trg-cancel-1', taskType: 'task-a' };
      const done = makeRun({ ...t1, status: 'completed', finishedAt: at(0), expiresAt: at(DAY) });
      const other = makeRun({ triggerId: 'trg-cancel-2', taskType: 'task-b' });
      await insertRuns(makeRun(t1), makeRun(t1), makeRun(t1), done, other);
      const [running] = await claim(at(1_000), 1, { taskTypes: ['task-a'] });
      expect(await store.cancelPendingRuns('trg-cancel-1', at(5_000), 1_000)).toBe(2);
      expect(await ctx.countOf('trg-cancel-1', 'pending')).toBe(0);
      const cancelled = await store.listRuns({ triggerId: 'trg-cancel-1', status: 'cancelled', limit: 10 });
      expect(cancelled).toHaveLength(2);
      for (const run of cancelled) expect(run).toMatchObject({ finishedAt: at(5_000), expiresAt: at(6_000), lease: null });
      expect(await store.getRun((running as RunRecord).id)).toMatchObject({ status: 'running' });
      expect(await store.getRun(done.id)).toEqual(done);
      expect(await store.getRun(other.id)).toEqual(other);
      expect(await store.cancelPendingRuns('trg-cancel-1', at(6_000), 1_000)).toBe(0);
      expect(await store.cancelPendingRuns('trg-none', at(6_000), 1_000)).toBe(0);
    });

    it('purges only final runs whose expiresAt has passed, at most `limit`', async () => {
      const final = (status: RunRecord['status'], expiresAt: Date | null) => makeRun({ status, finishedAt: at(0), expiresAt });
      const completed = final('completed', at(1_000));
      const failed = final('failed', at(2_000));
      const cancelled = final('cancelled', at(5_000));
      const kept = final('timed_out', null);
      const pending = makeRun({ expiresAt: at(0), availableAt: at(2 * DAY) });
      await insertRuns(completed, failed, cancelled, kept, pending);
      const running = await claimed({ expiresAt: at(0) });
      expect(await store.purgeExpiredRuns(at(2_000), 1)).toBe(1);
      expect(await store.purgeExpiredRuns(at(2_000), 10)).toBe(1);
      expect(await store.purgeExpiredRuns(at(2_000), 10)).toBe(0);
      expect(await store.getRun(completed.id)).toBeNull();
      expect(await store.getRun(failed.id)).toBeNull();
      expect(await store.purgeExpiredRuns(at(DAY), 10)).toBe(1);
      expect(await store.getRun(cancelled.id)).toBeNull();
      for (const run of [kept, pending, running]) expect(await store.getRun(run.id)).not.toBeNull();
    });
  });

}
