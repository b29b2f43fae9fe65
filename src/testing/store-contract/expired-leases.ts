import { beforeEach, describe, expect, it } from 'vitest';
import type { ExpiredLease, ExpiredLeaseClaim, RunFinish, Store } from '../../stores/types.js';
import type { AttemptRecord, RunRecord } from '../../types.js';
import { fixtureDate as at, makeRun } from '../fixtures.js';
import { DAY, ids, tokenOf, type ContractContext } from './context.js';

let takeovers = 0;

/** Takes expired leases over as a second instance, each call under a new token. */
function takeOverIn(ctx: ContractContext): (now: Date, limit?: number, extra?: Partial<ExpiredLeaseClaim>) => Promise<ExpiredLease[]> {
  return (now, limit = 10, extra = {}) =>
    ctx.store.claimExpiredLeases({ now, instanceId: 'instance-2', token: `takeover-${++takeovers}`, leaseMs: 30_000, limit, ...extra });
}

/** claimExpiredLeases: only lapsed leases, held under the new token, each by one caller; the policy is the engine's. */
export function expiredLeaseContract(ctx: ContractContext): void {
  describe('claimExpiredLeases', () => {
    takeoverCases(ctx);
    takeoverChoiceCases(ctx);
  });
}

/** When a lease counts as expired, and what a takeover changes. */
function takeoverCases(ctx: ContractContext): void {
  let store: Store;
  beforeEach(() => {
    store = ctx.store;
  });
  const { claim, claimed, completion } = ctx;
  const takeOver = takeOverIn(ctx);

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
}

/** Which runs are taken, and by whom. */
function takeoverChoiceCases(ctx: ContractContext): void {
  let store: Store;
  beforeEach(() => {
    store = ctx.store;
  });
  const { insertRuns, claimed, completion } = ctx;
  const takeOver = takeOverIn(ctx);

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
}
