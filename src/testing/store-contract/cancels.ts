import { beforeEach, describe, expect, it } from 'vitest';
import type { RunFinish, Store } from '../../stores/types.js';
import type { RunRecord } from '../../types.js';
import { fixtureDate as at, makeRun } from '../fixtures.js';
import { DAY, tokenOf, type ContractContext } from './context.js';

/** cancelRun, cancelPendingRuns and retention (purgeExpiredRuns). */
export function cancelContract(ctx: ContractContext): void {
  describe('cancelRun', () => cancelRunCases(ctx));
  describe('cancelPendingRuns and purgeExpiredRuns', () => retentionCases(ctx));
}

/** A pending run is cancelled at once, a running one asked to stop. */
function cancelRunCases(ctx: ContractContext): void {
  let store: Store;
  beforeEach(() => {
    store = ctx.store;
  });
  const { insertRuns, claim, claimed } = ctx;

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
}

/** Cancelling a deleted trigger's pending runs, and purging final runs past retention. */
function retentionCases(ctx: ContractContext): void {
  let store: Store;
  beforeEach(() => {
    store = ctx.store;
  });
  const { insertRuns, claim, claimed } = ctx;

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
}
