/**
 * Overlap policy (B2) across two instances sharing a store (and so its lock store) and a test
 * clock. The handler waits on a Gate the test opens, so a run lasts exactly as long as the test
 * says; overlap.test.ts covers the single-instance timings.
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { memoryStore, type OverlapPolicy, type RunRecord, type ScheduleInput } from 'punctual';
import { TestClock } from 'punctual/testing';
import { Gate, MINUTE, SECOND, T0, testScheduler } from './helpers.js';

const LEASE_MS = 30 * SECOND;
const POLL_MS = SECOND;

interface Start {
  runId: string;
  slot: number;
  instance: string;
  at: number;
  signal: AbortSignal;
}

/** Two instances on one store; `maxConcurrentRuns: 1` makes the second run land on the other instance. */
function twoInstances(maxConcurrentRuns = 10, startAt = T0) {
  const clock = new TestClock(startAt);
  const store = memoryStore();
  const gate = new Gate();
  const starts: Start[] = [];
  const skipped: { runId: string; instance: string; reason: string }[] = [];
  const make = (instanceId: string) => {
    const { scheduler } = testScheduler({
      clock, store, instanceId, leaseMs: LEASE_MS, pollIntervalMs: POLL_MS, maxConcurrentRuns,
      handlers: {
        slow: {
          schema: z.object({}),
          run: async (_p, ctx) => {
            starts.push({ runId: ctx.runId, slot: ctx.scheduledFor.getTime() - T0, instance: instanceId, at: clock.now() - T0, signal: ctx.signal });
            await gate.wait(ctx.signal);
          },
        },
      },
    });
    scheduler.on('run:skipped', (e) => void skipped.push({ runId: e.run.id, instance: instanceId, reason: e.reason }));
    return scheduler;
  };
  const a = make('instance-a');
  const b = make('instance-b');
  const start = () => Promise.all([a.start(), b.start()]);
  const stop = () => Promise.all([a.stop({ graceMs: 0 }), b.stop({ graceMs: 0 })]);
  const create = (overlap: OverlapPolicy, schedule: ScheduleInput = { every: '1m' }) =>
    a.triggers.create({ name: 'slow', owner: 'u1', taskType: 'slow', payload: {}, schedule, overlap });
  const runs = async (triggerId: string): Promise<RunRecord[]> =>
    (await b.runs.list({ triggerId })).items.sort((x, y) => x.scheduledFor.getTime() - y.scheduledFor.getTime() || x.createdAt.getTime() - y.createdAt.getTime());
  return { clock, gate, starts, skipped, a, b, start, stop, create, runs };
}

const statuses = (runs: RunRecord[]) => runs.map((r) => [(r.scheduledFor.getTime() - T0) / MINUTE, r.status]);

describe('overlap policy across two instances', () => {
  it('skip: the overlapping slot is recorded skipped by the instance that claimed it', async () => {
    const { clock, gate, starts, skipped, start, stop, create, runs } = twoInstances();
    await start();
    const trigger = await create('skip');
    await clock.advanceTo(T0 + 2 * MINUTE + 5 * SECOND);
    expect(starts.map((s) => s.slot)).toEqual([MINUTE]);
    const [first, second] = await runs(trigger.id);
    expect(first?.status).toBe('running');
    expect(second).toMatchObject({ status: 'skipped', error: { name: 'Skipped' } });
    expect(skipped).toEqual([{ runId: second?.id, instance: second?.instanceId, reason: 'the previous run of this trigger was still running' }]);

    await gate.releaseAll();
    await clock.advanceTo(T0 + 3 * MINUTE + 5 * SECOND);
    expect(starts.map((s) => s.slot)).toEqual([MINUTE, 3 * MINUTE]);
    expect(statuses(await runs(trigger.id))).toEqual([[1, 'completed'], [2, 'skipped'], [3, 'running']]);
    await stop();
  });

  it('queue: one slot waits and runs after the first finishes; a third slot meanwhile is skipped', async () => {
    const { clock, gate, starts, skipped, start, stop, create, runs } = twoInstances();
    await start();
    const trigger = await create('queue');
    await clock.advanceTo(T0 + 3 * MINUTE + 5 * SECOND);
    expect(starts.map((s) => s.slot)).toEqual([MINUTE]);
    expect(statuses(await runs(trigger.id))).toEqual([[1, 'running'], [2, 'pending'], [3, 'skipped']]);
    expect(skipped.map((s) => s.reason)).toEqual(['a run of this trigger is already waiting']);

    await clock.advanceTo(T0 + 3 * MINUTE + 30 * SECOND);
    await gate.release(); // slot 1 ends at 3:30
    await clock.advance(POLL_MS);
    // The waiting slot is rechecked every pollIntervalMs: it starts within one poll of the lock's release.
    expect(starts.map((s) => s.slot)).toEqual([MINUTE, 2 * MINUTE]);
    expect(starts[1]?.at).toBeGreaterThanOrEqual(3 * MINUTE + 30 * SECOND);
    expect(starts[1]?.at).toBeLessThanOrEqual(3 * MINUTE + 30 * SECOND + POLL_MS);
    expect(gate.maxInside).toBe(1);
    await gate.releaseAll();
    await clock.advanceTo(T0 + 4 * MINUTE + 5 * SECOND);
    expect(statuses(await runs(trigger.id)).slice(0, 3)).toEqual([[1, 'completed'], [2, 'completed'], [3, 'skipped']]);
    await stop();
  });

  it('allow: the overlapping slot runs at the same time', async () => {
    const { clock, gate, starts, start, stop, create, runs } = twoInstances();
    await start();
    const trigger = await create('allow');
    await clock.advanceTo(T0 + 2 * MINUTE + 5 * SECOND);
    expect(starts.map((s) => [s.slot, s.at])).toEqual([[MINUTE, MINUTE], [2 * MINUTE, 2 * MINUTE]]);
    expect(gate.inside).toBe(2);
    expect(statuses(await runs(trigger.id))).toEqual([[1, 'running'], [2, 'running']]);
    await gate.releaseAll();
    await stop();
  });

  it('cancel-previous: the run on the other instance is aborted within leaseMs / 3, then the new one runs', async () => {
    // Started 3 s past the minute, each instance renews its leases at hh:mm:03, :13, :23 ...
    const { clock, starts, start, stop, create, runs } = twoInstances(1, T0 + 3 * SECOND);
    await start();
    const trigger = await create('cancel-previous', { cron: '* * * * *' });
    await clock.advanceTo(T0 + 2 * MINUTE - 1);
    const first = starts[0] as Start;
    expect(first).toMatchObject({ slot: MINUTE, at: MINUTE });
    // Its instance is full, so the other one claims slot 2:00 and asks for the cancel at 2:00.
    await clock.advanceTo(T0 + 2 * MINUTE + 2 * SECOND);
    expect(first.signal.aborted).toBe(false);
    await clock.advanceTo(T0 + 2 * MINUTE + LEASE_MS / 3);
    expect(first.signal.aborted).toBe(true);
    expect(first.signal.reason).toMatchObject({ name: 'CancelledError' });
    const [run1] = await runs(trigger.id);
    expect(run1).toMatchObject({ status: 'cancelled', instanceId: first.instance, error: { name: 'CancelledError' }, finishedAt: new Date(T0 + 2 * MINUTE + 3 * SECOND) });

    // The waiting slot starts once the lock is free: at once, or at its next recheck.
    const second = starts[1] as Start;
    expect(second.slot).toBe(2 * MINUTE);
    expect(second.at).toBeGreaterThanOrEqual(2 * MINUTE + 3 * SECOND);
    expect(second.at).toBeLessThanOrEqual(2 * MINUTE + 3 * SECOND + POLL_MS);
    expect(second.signal.aborted).toBe(false);
    expect(statuses(await runs(trigger.id))).toEqual([[1, 'cancelled'], [2, 'running']]);
    await stop();
  });

  it('cancel-previous on the same instance aborts the previous run at once', async () => {
    const { clock, starts, a, create, runs } = twoInstances();
    await a.start(); // only one instance runs
    const trigger = await create('cancel-previous');
    await clock.advanceTo(T0 + 2 * MINUTE);
    expect(starts[0]?.signal.reason).toMatchObject({ name: 'CancelledError' });
    await clock.advance(POLL_MS);
    expect(starts.map((s) => [s.slot, s.at])).toEqual([[MINUTE, MINUTE], [2 * MINUTE, 2 * MINUTE + POLL_MS]]);
    expect(statuses(await runs(trigger.id))).toEqual([[1, 'cancelled'], [2, 'running']]);
    expect((await runs(trigger.id))[0]?.finishedAt?.getTime()).toBe(T0 + 2 * MINUTE);
    await a.stop({ graceMs: 0 });
  });

  it('runNow obeys the policy, unless ignoreOverlap', async () => {
    const { clock, gate, starts, a, b, start, stop, create } = twoInstances();
    await start();
    const skip = await create('skip', { manual: true });
    const first = await a.triggers.runNow(skip.id);
    await clock.advance(POLL_MS);
    const refused = await b.triggers.runNow(skip.id);
    await clock.advance(POLL_MS);
    expect(await b.runs.get(refused.id)).toMatchObject({ status: 'skipped', source: 'manual' });
    const forced = await b.triggers.runNow(skip.id, { ignoreOverlap: true });
    await clock.advance(POLL_MS);
    expect(starts.map((s) => s.runId)).toEqual([first.id, forced.id]);
    expect(gate.inside).toBe(2);
    await gate.releaseAll();

    await b.triggers.update(skip.id, { overlap: 'queue' });
    const running = await a.triggers.runNow(skip.id);
    await clock.advance(POLL_MS);
    const waiting = await b.triggers.runNow(skip.id);
    await clock.advance(5 * POLL_MS);
    expect(await a.runs.get(waiting.id)).toMatchObject({ status: 'pending' });
    expect(starts.map((s) => s.runId)).toEqual([first.id, forced.id, running.id]);
    await gate.release();
    await clock.advance(POLL_MS);
    expect(starts.map((s) => s.runId)).toEqual([first.id, forced.id, running.id, waiting.id]);
    await gate.releaseAll();
    await clock.advance(POLL_MS);
    expect(await a.runs.get(waiting.id)).toMatchObject({ status: 'completed' });
    await stop();
  });
});
