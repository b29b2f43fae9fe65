import { beforeEach, describe, expect, it } from 'vitest';
import type { Store } from '../../stores/types.js';
import type { RunRecord } from '../../types.js';
import { fixtureDate as at, makeRun } from '../fixtures.js';
import { cancelContract } from './cancels.js';
import { claimContract } from './claims.js';
import { tokenOf, type ContractContext } from './context.js';
import { expiredLeaseContract } from './expired-leases.js';
import { finishContract } from './finishes.js';

/** Runs: inserts, claims, leases, finishing, recovery, cancellation, counting and retention. */
export function runContract(ctx: ContractContext): void {
  describe('runs', () => runRecordCases(ctx));
  claimContract(ctx);
  finishContract(ctx);
  expiredLeaseContract(ctx);
  cancelContract(ctx);
}

/** Inserting and reading runs: ids, owners, copies, optional fields. */
function runRecordCases(ctx: ContractContext): void {
  let store: Store;
  beforeEach(() => {
    store = ctx.store;
  });
  const { insertRuns, claim, completion } = ctx;

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
}
