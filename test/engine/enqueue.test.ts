/**
 * Delayed one-off runs: `scheduler.enqueue`/`enqueueMany` (no trigger to name) and the run
 * time of `runNow`/`runMany`. On memory and PostgreSQL, several schedulers on one store.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { queueTriggerName, type Store } from 'punctual';
import { TestClock, settle } from 'punctual/testing';
import { MINUTE, SECOND, SLOW_TIME, T0, advanceUntil, testScheduler, waitForEvent } from './helpers.js';
import { STORE_CASES } from './store-cases.js';

let drops: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(drops.map((drop) => drop()));
  drops = [];
});

const handlers = {
  email: { schema: z.object({ to: z.string().email() }), run: () => undefined },
  sms: { schema: z.object({ phone: z.string().min(5) }), run: () => undefined },
};

describe.each(STORE_CASES)('enqueue on $name', (storeCase) => {
  async function instances(count: number) {
    const clock = new TestClock(T0);
    const db = await storeCase.open();
    drops.push(db.drop);
    const make = (store: Store) => testScheduler({ clock, store, ...SLOW_TIME, handlers }).scheduler;
    return { clock, schedulers: Array.from({ length: count }, () => make(db.store())) };
  }

  it('stores a run of the task type at its run time, under the owner queue trigger', async () => {
    const { schedulers: [s] } = await instances(1);
    const run = await s!.forOwner('u1').enqueue('email', { to: 'a@example.com' }, { delayMs: 20 * MINUTE, priority: 7 });
    expect(run).toMatchObject({ owner: 'u1', taskType: 'email', payload: { to: 'a@example.com' }, status: 'pending', priority: 7, source: 'manual' });
    expect(run.availableAt).toEqual(new Date(T0 + 20 * MINUTE));
    expect(run.scheduledFor).toEqual(new Date(T0 + 20 * MINUTE));
    const queue = await s!.triggers.get(run.triggerId);
    expect(queue).toMatchObject({ name: queueTriggerName('email'), owner: 'u1', schedule: { kind: 'manual' }, overlap: 'allow' });
    // Owner-scoped like every run.
    await expect(s!.forOwner('u2').runs.get(run.id)).rejects.toMatchObject({ name: 'NotFoundError' });
    expect((await s!.forOwner('u1').runs.get(run.id)).id).toBe(run.id);
    // The admin view enqueues for `system` unless told.
    expect((await s!.enqueue('email', { to: 'b@example.com' }, { runAt: '2026-01-02T00:00:00+01:00' })).owner).toBe('system');
    expect((await s!.enqueue('email', { to: 'b@example.com' }, { owner: 'u3', runAt: new Date(T0 + SECOND) })).availableAt).toEqual(new Date(T0 + SECOND));
  });

  it('returns the stored run for a repeated idempotency key, from any instance at once', async () => {
    const { schedulers } = await instances(4);
    const runs = await Promise.all(schedulers.map((s, i) => s.forOwner('u1').enqueue('email', { to: `n${i}@example.com` }, { idempotencyKey: 'order-42', delayMs: MINUTE })));
    expect(new Set(runs.map((r) => r.id)).size).toBe(1);
    expect(new Set(runs.map((r) => r.triggerId)).size).toBe(1);
    const [s] = schedulers;
    expect((await s!.runs.list({ owner: 'u1' })).items.length).toBe(1);
    expect((await s!.triggers.list({ owner: 'u1' })).items.length).toBe(1);
    // Keys are per owner and task type.
    const other = await s!.forOwner('u2').enqueue('email', { to: 'x@example.com' }, { idempotencyKey: 'order-42' });
    expect(other.id).not.toBe(runs[0]!.id);
    const again = await s!.forOwner('u1').enqueue('email', { to: 'changed@example.com' }, { idempotencyKey: 'order-42' });
    expect(again).toMatchObject({ id: runs[0]!.id, payload: runs[0]!.payload });
    const audit = await s!.audit.list({ owner: 'u1', action: 'trigger.run' });
    expect(audit.items.length).toBe(1);
  });

  it('enqueueMany stores every job in input order, validating all first', async () => {
    const { schedulers: [s] } = await instances(1);
    const u1 = s!.forOwner('u1');
    const bad = await u1
      .enqueueMany([{ taskType: 'email', payload: { to: 'a@example.com' } }, { taskType: 'sms', payload: { phone: '1' } }, { taskType: 'nope' as 'sms', payload: { phone: '12345' } }, { taskType: 'email', payload: { to: 'c@example.com' }, delayMs: -1 }])
      .catch((e: unknown) => e);
    expect(bad).toMatchObject({ name: 'ValidationError' });
    expect((bad as { issues: { path: string }[] }).issues.map((i) => i.path)).toEqual(['jobs.1.payload.phone', 'jobs.2.taskType', 'jobs.3.delayMs']);
    expect((await u1.runs.list()).items.length).toBe(0);

    const runs = await u1.enqueueMany([
      { taskType: 'sms', payload: { phone: '12345' }, delayMs: SECOND },
      { taskType: 'email', payload: { to: 'a@example.com' }, idempotencyKey: 'k' },
      { taskType: 'email', payload: { to: 'b@example.com' }, idempotencyKey: 'k' },
    ]);
    expect(runs.map((r) => r.taskType)).toEqual(['sms', 'email', 'email']);
    expect(runs[1]!.id).toBe(runs[2]!.id);
    expect((await u1.runs.list()).items.length).toBe(2);
  });

  it('rejects bad input with a ValidationError and writes nothing', async () => {
    const { schedulers: [s] } = await instances(1);
    const cases: [() => Promise<unknown>, string][] = [
      [() => s!.enqueue('email', { to: 'not-an-address' }), 'payload.to'],
      [() => s!.enqueue('email', { to: 'a@example.com' }, { runAt: new Date(T0), delayMs: 5 }), 'runAt'],
      [() => s!.enqueue('email', { to: 'a@example.com' }, { runAt: '2026-01-01 10:00' }), 'runAt'],
      [() => s!.enqueue('email', { to: 'a@example.com' }, { idempotencyKey: 'has space' }), 'idempotencyKey'],
      [() => s!.enqueue('email', { to: 'a@example.com' }, { delay: 5 } as never), 'delay'],
      [() => s!.enqueue('email', undefined as never), 'payload'],
      [() => s!.forOwner('u1').enqueue('email', { to: 'a@example.com' }, { owner: 'u2' }), 'owner'],
    ];
    for (const [call, path] of cases) await expect(call(), path).rejects.toMatchObject({ name: 'ValidationError', issues: [expect.objectContaining({ path })] });
    expect((await s!.runs.list()).items.length).toBe(0);
  });
});

describe('delayed runs start at their run time', () => {
  it('enqueue with delayMs runs after the delay, not before', async () => {
    const started: number[] = [];
    const clock = new TestClock(T0);
    const { scheduler } = testScheduler({ clock, ...SLOW_TIME, handlers: { email: { schema: z.object({ to: z.string() }), run: () => void started.push(clock.now()) } } });
    await scheduler.start();
    const done = waitForEvent(scheduler, 'run:completed', () => true, clock, 2 * MINUTE);
    await scheduler.enqueue('email', { to: 'a' }, { delayMs: 90 * SECOND });
    await clock.advance(89 * SECOND);
    await settle();
    expect(started).toEqual([]);
    await advanceUntil(clock, done, MINUTE);
    expect(started).toEqual([T0 + 90 * SECOND]);
    await scheduler.stop();
  });

  it('runNow and runMany take runAt or delayMs; unknown options are rejected', async () => {
    const started: string[] = [];
    const clock = new TestClock(T0);
    const { scheduler } = testScheduler({ clock, ...SLOW_TIME, handlers: { email: { schema: z.object({ to: z.string() }), run: (p) => void started.push(p.to) } } });
    const trigger = await scheduler.triggers.create({ name: 'mail', owner: 'u1', taskType: 'email', payload: { to: 'default' }, schedule: { manual: true }, overlap: 'allow' });
    const later = await scheduler.triggers.runNow(trigger, { delayMs: 10 * MINUTE, payload: { to: 'later' } });
    expect(later.availableAt).toEqual(new Date(T0 + 10 * MINUTE));
    const batch = await scheduler.triggers.runMany(trigger.id, [{ runAt: new Date(T0 + 5 * MINUTE), payload: { to: 'five' } }, { payload: { to: 'now' } }]);
    expect(batch.map((r) => r.availableAt.getTime())).toEqual([T0 + 5 * MINUTE, T0]);
    await expect(scheduler.triggers.runNow(trigger.id, { delayMS: 5 } as never)).rejects.toMatchObject({ name: 'ValidationError', issues: [{ path: 'delayMS' }] });
    await expect(scheduler.triggers.runMany(trigger.id, [{ wait: 5 } as never], { force: true } as never)).rejects.toMatchObject({ name: 'ValidationError', issues: [{ path: 'force' }] });
    await expect(scheduler.triggers.runMany(trigger.id, [{ wait: 5 } as never])).rejects.toMatchObject({ name: 'ValidationError', issues: [{ path: 'items.0.wait' }] });
    await expect(scheduler.triggers.runNow(trigger.id, { delayMs: 1.5 })).rejects.toMatchObject({ name: 'ValidationError', issues: [{ path: 'delayMs' }] });

    await scheduler.start();
    await settle();
    expect(started).toEqual(['now']);
    await clock.advance(5 * MINUTE);
    await settle();
    expect(started).toEqual(['now', 'five']);
    await advanceUntil(clock, waitForEvent(scheduler, 'run:completed', (e) => e.run.id === later.id, clock), 10 * MINUTE);
    expect(started).toEqual(['now', 'five', 'later']);
    await scheduler.stop();
  });
});
