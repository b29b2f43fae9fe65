import type { StandardSchemaV1 } from '@standard-schema/spec';
import { describe, expect, it } from 'vitest';
import { createScheduler, type Scheduler } from '../../scheduler.js';
import type { RunRecord } from '../../types.js';
import { fixtureDate } from '../fixtures.js';
import { TestClock } from '../test-clock.js';
import type { ContractContext } from './context.js';

/** Accepts any payload: the section is about who runs what, not validation (and needs no schema library). */
const anyPayload: StandardSchemaV1<unknown, unknown> = { '~standard': { version: 1, vendor: 'punctual-contract', validate: (value) => ({ value }) } };

interface Execution {
  runId: string;
  taskType: string;
  instance: string;
}

/**
 * Moves the clock 250 ms at a time until `done` holds (at most 400 steps). `done` reads the
 * store, which lets the store's real I/O (a database) progress between steps.
 */
async function driveUntil(clock: TestClock, done: () => Promise<boolean>, what: string): Promise<void> {
  for (let step = 0; step < 400; step++) {
    if (await done()) return;
    await clock.advance(250);
  }
  throw new Error(`${what}: not after 100 s of simulated time`);
}

/** Stops a scheduler while driving its clock (its writes and timers run on it). */
async function stopOn(clock: TestClock, scheduler: Scheduler): Promise<void> {
  let stopped = false;
  const stopping = scheduler.stop({ graceMs: 0 }).finally(() => (stopped = true));
  await driveUntil(clock, async () => stopped, `${scheduler.instanceId} stop`);
  await stopping;
}

/**
 * Rolling deploys through the whole engine on this store: two schedulers with different
 * handler maps share it. An instance claims (and claims at fire) only the task types it has a
 * handler for; a run no started instance can execute waits, pending, with no attempt counted.
 */
export function deployContract(ctx: ContractContext): void {
  describe('schedulers with different handlers (rolling deploy)', () => {
    it('runs every run on an instance that has its handler; runs without one wait, pending', { timeout: 60_000 }, async () => {
      const clock = new TestClock(fixtureDate(0));
      const executions: Execution[] = [];
      const handler = (instance: string, taskType: string) => ({
        schema: anyPayload,
        run: (_payload: unknown, task: { runId: string }) => void executions.push({ runId: task.runId, taskType, instance }),
      });
      const options = { store: ctx.store, clock, pollIntervalMs: 1_000, leaseMs: 600_000, metricsIntervalMs: 0 } as const;
      const old = createScheduler({ ...options, instanceId: 'deploy-old', handlers: { 'task-a': handler('deploy-old', 'task-a') } });
      const fresh = createScheduler({
        ...options,
        instanceId: 'deploy-new',
        handlers: { 'task-a': handler('deploy-new', 'task-a'), 'task-b': handler('deploy-new', 'task-b') },
      });
      const every = { every: 1_000 };
      const a = await fresh.triggers.create({ name: 'deploy-a', owner: 'owner-a', taskType: 'task-a', payload: {}, schedule: every, overlap: 'allow' });
      const b = await fresh.triggers.create({ name: 'deploy-b', owner: 'owner-a', taskType: 'task-b', payload: {}, schedule: every, overlap: 'allow' });
      await fresh.triggers.create({ name: 'deploy-e', owner: 'owner-a', taskType: 'task-b', payload: {}, schedule: { event: 'deploy.done' }, overlap: 'allow' });
      const runsOf = async (triggerId?: string): Promise<RunRecord[]> =>
        (await old.runs.list({ ...(triggerId ? { triggerId } : {}), limit: 500 })).items;
      try {
        // Only the old instance runs: it fires task-b's slots and takes its event and manual runs, and leaves them all pending.
        await old.start();
        await old.publish('deploy.done', {});
        await old.triggers.runNow(b.id);
        await driveUntil(clock, async () => (await runsOf(b.id)).length >= 4 && (await runsOf(a.id)).some((r) => r.status === 'completed'), 'slots fired by the old instance');
        await driveUntil(clock, async () => ((await old.health()).waitingForHandler['task-b']?.count ?? 0) >= 5, 'health() showing runs waiting for a handler');
        const waiting = (await runsOf()).filter((r) => r.taskType === 'task-b');
        expect(waiting.every((r) => r.status === 'pending' && r.attempt === 0 && r.attempts.length === 0)).toBe(true);
        expect(old.metrics().waitingForHandler['task-b']).toBeGreaterThanOrEqual(5);
        expect((await old.health()).waitingForHandler['task-a']).toBeUndefined();

        // The new instance joins and takes the waiting runs.
        await fresh.start();
        await driveUntil(clock, async () => (await runsOf(b.id)).filter((r) => r.status === 'completed').length >= 6, 'task-b runs on the new instance');
        await fresh.triggers.pause(a.id);
        await fresh.triggers.pause(b.id);
        await driveUntil(clock, async () => (await runsOf()).every((r) => r.status !== 'pending' && r.status !== 'running'), 'every run finished');
        await driveUntil(clock, async () => Object.keys((await old.health()).waitingForHandler).length === 0, 'the waiting count cleared');
      } finally {
        await stopOn(clock, old);
        await stopOn(clock, fresh);
      }

      const runs = await runsOf();
      expect(runs.filter((r) => r.status !== 'completed')).toEqual([]);
      expect(runs.every((r) => r.attempt === 1)).toBe(true);
      const perRun = new Map<string, Execution[]>();
      for (const e of executions) perRun.set(e.runId, [...(perRun.get(e.runId) ?? []), e]);
      expect(new Set(perRun.keys())).toEqual(new Set(runs.map((r) => r.id)));
      expect([...perRun.values()].every((list) => list.length === 1)).toBe(true);
      expect(executions.filter((e) => e.taskType === 'task-b' && e.instance !== 'deploy-new')).toEqual([]);
      expect(executions.some((e) => e.taskType === 'task-a' && e.instance === 'deploy-old')).toBe(true);
      expect(runs.filter((r) => r.taskType === 'task-b').length).toBeGreaterThanOrEqual(6);
    });
  });
}
