/**
 * A store outage longer than the lease must not run a finished handler again. The handler
 * finishes while the store is down; its outcome cannot be written and its lease lapses. When
 * the store answers again, the holder renews the lease and writes the outcome before any
 * instance (itself included) takes the lapsed lease over: recovery waits one full lease of a
 * store that answers. A run whose holder really died is still taken over then.
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { memoryStore, type Scheduler } from 'punctual';
import { TestClock } from 'punctual/testing';
import { SECOND, T0, faultyStore, record, sleepOn, testScheduler } from './helpers.js';

const LEASE_MS = 3 * SECOND;
const POLL_MS = SECOND;
const HANDLER_MS = 500;

/** Instances on one store behind one outage switch; every handler start is recorded. */
function cluster(count: number, handlerMs = HANDLER_MS) {
  const clock = new TestClock(T0);
  const { store, outage } = faultyStore(memoryStore());
  const starts: string[] = [];
  const instances = Array.from({ length: count }, (_, i) =>
    testScheduler({
      clock,
      store,
      instanceId: `node-${i + 1}`,
      leaseMs: LEASE_MS,
      pollIntervalMs: POLL_MS,
      metricsIntervalMs: 0,
      handlers: {
        job: {
          schema: z.object({}),
          run: async (_p, ctx) => {
            starts.push(`node-${i + 1}#${ctx.attempt}`);
            await sleepOn(clock, handlerMs, ctx.signal);
          },
        },
      },
    }).scheduler,
  );
  return { clock, store, outage, starts, instances };
}

/** Moves the clock in steps of 100 ms (store calls and timers interleave as they would). */
async function advanceInSteps(clock: TestClock, ms: number): Promise<void> {
  for (let left = ms; left > 0; left -= 100) await clock.advance(Math.min(100, left));
}

async function startRun(first: Scheduler): Promise<string> {
  const trigger = await first.triggers.create({ name: 'job', owner: 'u1', taskType: 'job', payload: {}, schedule: { manual: true } });
  return (await first.triggers.runNow(trigger.id)).id;
}

describe('an outage longer than the lease', () => {
  it.each([1, 3])('never runs a handler again that finished during the outage (%i instances, all cut off)', async (count) => {
    const { clock, outage, starts, instances } = cluster(count);
    const recovered = instances.map((s) => record(s, 'run:recovered'));
    const lost = instances.map((s) => record(s, 'run:lease-lost'));
    for (const s of instances) await s.start();
    const [first] = instances as [Scheduler];
    const runId = await startRun(first);
    await clock.advance(100);
    expect(starts).toEqual(['node-1#1']);

    outage.down = true; // the handler finishes 400 ms into an outage of 2.5 leases
    await advanceInSteps(clock, 2.5 * LEASE_MS);
    outage.down = false;
    const back = clock.now();
    await advanceInSteps(clock, POLL_MS);
    // The holder's queued outcome goes as soon as the store answers, not after its backoff.
    expect(await first.runs.get(runId)).toMatchObject({ status: 'completed', attempt: 1, instanceId: 'node-1' });
    await advanceInSteps(clock, 3 * LEASE_MS);

    expect(starts).toEqual(['node-1#1']);
    expect(recovered.flat()).toEqual([]);
    expect(lost.flat()).toEqual([]);
    const run = await first.runs.get(runId);
    expect(run.attempts.map((a) => [a.attempt, a.instanceId, a.outcome])).toEqual([[1, 'node-1', 'completed']]);
    expect(run.finishedAt?.getTime()).toBeLessThan(back);
    await Promise.all(instances.map((s) => s.stop()));
  });

  it('takes over a dead holder’s run one lease after the store is back, then retries it after backoff', async () => {
    const { clock, store, outage, starts, instances } = cluster(2);
    const [a, b] = instances as [Scheduler, Scheduler];
    const recovered = [record(a, 'run:recovered'), record(b, 'run:recovered')];
    const runId = await startRun(a); // not started yet: the run waits
    // A holder that claims the run and dies at once; its lease lapses during the outage below.
    const [claimed] = await store.claimRuns({ now: new Date(clock.now()), instanceId: 'dead', token: 'dead-token', leaseMs: 3 * LEASE_MS, limit: 1 });
    expect(claimed?.id).toBe(runId);
    for (const s of instances) await s.start();
    await advanceInSteps(clock, 2 * LEASE_MS); // both instances have seen the store for a full lease

    outage.down = true;
    await advanceInSteps(clock, 2 * LEASE_MS);
    outage.down = false;
    const back = clock.now();
    await advanceInSteps(clock, LEASE_MS - POLL_MS);
    expect(recovered.flat()).toEqual([]); // holding off: a cut-off holder would renew by now
    await advanceInSteps(clock, 2 * POLL_MS);
    const events = recovered.flat();
    expect(events.map((e) => [e.run.id, e.outcome])).toEqual([[runId, 'pending']]);
    expect(events[0]?.run.attempts.map((a) => [a.instanceId, a.outcome])).toEqual([['dead', 'lease_expired']]);
    expect(clock.now() - back).toBeGreaterThanOrEqual(LEASE_MS);
    await advanceInSteps(clock, 2 * SECOND);
    expect(starts).toHaveLength(1);
    expect(await a.runs.get(runId)).toMatchObject({ status: 'completed', attempt: 2 });
    await Promise.all(instances.map((s) => s.stop()));
  });

  it('aborts a handler still running when its lease lapses during the outage; it runs again (the documented case)', async () => {
    const { clock, outage, starts, instances } = cluster(1, 20 * SECOND);
    const [only] = instances as [Scheduler];
    const lost = record(only, 'run:lease-lost');
    await only.start();
    const runId = await startRun(only);
    await clock.advance(100);
    outage.down = true;
    await advanceInSteps(clock, 2 * LEASE_MS);
    outage.down = false;
    expect(lost.map((e) => e.runId)).toEqual([runId]);
    await advanceInSteps(clock, 2 * LEASE_MS + 25 * SECOND);
    expect(starts).toEqual(['node-1#1', 'node-1#2']);
    const run = await only.runs.get(runId);
    expect(run).toMatchObject({ status: 'completed', attempt: 2 });
    expect(run.attempts.map((a) => a.outcome)).toEqual(['lease_expired', 'completed']);
    await only.stop();
  });
});

