import { beforeEach, describe, expect, it } from 'vitest';
import type { RunFinish, Store } from '../../stores/types.js';
import type { AttemptRecord, RunRecord } from '../../types.js';
import { fixtureDate as at } from '../fixtures.js';
import { DAY, tokenOf, type ContractContext } from './context.js';

/** Renewing a lease and finishing an attempt, each only under the holder's token. */
export function finishContract(ctx: ContractContext): void {
  describe('leases and finishing', () => {
    holderCases(ctx);
    finishCases(ctx);
    finishDetailCases(ctx);
  });
}

/** Lease renewal and progress take the holder token. */
function holderCases(ctx: ContractContext): void {
  let store: Store;
  beforeEach(() => {
    store = ctx.store;
  });
  const { claimed } = ctx;

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

  it('stores progress only with the holder token', async () => {
    const run = await claimed();
    const progress = { percent: 40, note: 'page 4 of 10', at: at(3_000) };
    expect(await store.setProgress(run.id, 'wrong-token', progress)).toBe(false);
    expect((await store.getRun(run.id))?.progress).toBeUndefined();
    expect(await store.setProgress(run.id, tokenOf(run), progress)).toBe(true);
    expect((await store.getRun(run.id))?.progress).toEqual(progress);
    expect(await store.setProgress('missing', tokenOf(run), progress)).toBe(false);
  });
}

/** Completion and retry, with the token. */
function finishCases(ctx: ContractContext): void {
  let store: Store;
  beforeEach(() => {
    store = ctx.store;
  });
  const { claim, claimed, completion } = ctx;

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
}

/** Errors across attempts, deferrals, batches. */
function finishDetailCases(ctx: ContractContext): void {
  let store: Store;
  beforeEach(() => {
    store = ctx.store;
  });
  const { claim, claimed, completion } = ctx;

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
}
