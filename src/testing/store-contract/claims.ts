import { beforeEach, describe, expect, it } from 'vitest';
import type { Store } from '../../stores/types.js';
import type { RunRecord } from '../../types.js';
import { fixtureDate as at, makeRun } from '../fixtures.js';
import { DAY, ids, type ContractContext } from './context.js';

/** claimRuns: order, availability, limits and task types, only pending runs, one claimer per run; countDueRunsByType. */
export function claimContract(ctx: ContractContext): void {
  describe('claimRuns', () => {
    claimOrderCases(ctx);
    claimScopeCases(ctx);
  });
}

/** Priority, then availableAt; never before availableAt; `limit` and task types; pending runs only. */
function claimOrderCases(ctx: ContractContext): void {
  let store: Store;
  beforeEach(() => {
    store = ctx.store;
  });
  const { insertRuns, claim } = ctx;

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
}

/** Due pending runs counted by type; each run to one of many claimers. */
function claimScopeCases(ctx: ContractContext): void {
  let store: Store;
  beforeEach(() => {
    store = ctx.store;
  });
  const { insertRuns, claim } = ctx;

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
}
