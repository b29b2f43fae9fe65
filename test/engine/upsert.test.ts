/**
 * `triggers.upsert` and `triggers.sync`: schedules declared in code, on every boot of every
 * instance. On memory and PostgreSQL, several schedulers on one store.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { UNDECLARED_REASON, type Store } from 'punctual';
import { TestClock, settle } from 'punctual/testing';
import { HOUR, MINUTE, T0, SLOW_TIME, advanceUntil, testScheduler, waitForEvent } from './helpers.js';
import { STORE_CASES } from './store-cases.js';

let drops: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(drops.map((drop) => drop()));
  drops = [];
});

describe.each(STORE_CASES)('declared triggers on $name', (storeCase) => {
  async function instances(count: number, clock = new TestClock(T0), run: (payload: { to: string }) => unknown = () => undefined) {
    const db = await storeCase.open();
    drops.push(db.drop);
    const make = (store: Store) =>
      testScheduler({ clock, store, ...SLOW_TIME, handlers: { report: { schema: z.object({ to: z.string().email() }), run: (payload) => run(payload) } } }).scheduler;
    return { clock, schedulers: Array.from({ length: count }, () => make(db.store())) };
  }
  const nightly = { name: 'nightly', owner: 'ops', taskType: 'report' as const, payload: { to: 'a@example.com' }, schedule: { cron: '0 3 * * *' } };

  it('creates, then writes nothing for identical input: same version, one audit entry', async () => {
    const { schedulers: [s], clock } = await instances(1);
    const first = await s!.triggers.upsert(nightly);
    expect(first.action).toBe('created');
    await clock.advance(MINUTE);
    const again = await s!.triggers.upsert({ ...nightly, payload: { to: 'a@example.com' } });
    expect(again).toMatchObject({ action: 'unchanged', trigger: { id: first.trigger.id, version: 1 } });
    const every = await s!.triggers.upsert({ name: 'every', owner: 'ops', taskType: 'report', payload: { to: 'a@example.com' }, schedule: { every: '5m' } });
    await clock.advance(7 * MINUTE);
    // An interval without an anchor keeps its stored anchor: a later boot does not shift its slots.
    expect(await s!.triggers.upsert({ name: 'every', owner: 'ops', taskType: 'report', payload: { to: 'a@example.com' }, schedule: { every: '5m' } })).toMatchObject({ action: 'unchanged', trigger: { version: every.trigger.version } });
    const audit = await s!.audit.list({ owner: 'ops' });
    expect(audit.items.map((e) => e.action)).toEqual(['trigger.create', 'trigger.create']);
  });

  it('changes only what differs, with one audit entry naming the fields', async () => {
    const { schedulers: [s], clock } = await instances(1);
    const { trigger } = await s!.triggers.upsert(nightly);
    const changed = await s!.triggers.upsert({ ...nightly, payload: { to: 'b@example.com' }, priority: 5 });
    expect(changed).toMatchObject({ action: 'updated', trigger: { id: trigger.id, version: 2, priority: 5, payload: { to: 'b@example.com' }, nextFireAt: trigger.nextFireAt } });
    // A setting left out of the declaration goes back to its default.
    await clock.advance(MINUTE);
    expect((await s!.triggers.upsert({ ...nightly, payload: { to: 'b@example.com' } })).trigger.priority).toBe(0);
    const updates = (await s!.audit.list({ triggerId: trigger.id, action: 'trigger.update' })).items;
    expect(updates.map((e) => e.details?.fields).reverse()).toEqual([['payload', 'priority'], ['priority']]);
  });

  it('is safe when every instance upserts at once: one trigger, one audit entry per real change', async () => {
    const { schedulers } = await instances(5);
    const created = await Promise.all(schedulers.map((s) => s.triggers.upsert(nightly)));
    expect(created.map((r) => r.action).sort()).toEqual(['created', 'unchanged', 'unchanged', 'unchanged', 'unchanged']);
    expect(new Set(created.map((r) => r.trigger.id)).size).toBe(1);
    const changed = await Promise.all(schedulers.map((s) => s.triggers.upsert({ ...nightly, schedule: { cron: '0 4 * * *' } })));
    expect(changed.map((r) => r.action).sort()).toEqual(['unchanged', 'unchanged', 'unchanged', 'unchanged', 'updated']);
    const [admin] = schedulers;
    expect((await admin!.triggers.list({ owner: 'ops' })).items.length).toBe(1);
    expect((await admin!.audit.list({ owner: 'ops' })).items.map((e) => e.action).sort()).toEqual(['trigger.create', 'trigger.update']);
    expect((await admin!.triggers.get(created[0]!.trigger.id)).version).toBe(2);
  });

  it('a changed schedule recomputes the next fire, except a due slot, which keeps its place', async () => {
    const { schedulers: [s], clock } = await instances(1);
    const { trigger } = await s!.triggers.upsert({ ...nightly, schedule: { cron: '0 * * * *' } });
    expect((await s!.triggers.upsert({ ...nightly, schedule: { cron: '15 * * * *' } })).trigger.nextFireAt).toEqual(new Date(T0 + 15 * MINUTE));
    await clock.advanceTo(T0 + 15 * MINUTE + 500); // due, not fired: no scheduler is started
    const { trigger: changed } = await s!.triggers.upsert({ ...nightly, schedule: { cron: '30 * * * *' } });
    expect(changed).toMatchObject({ id: trigger.id, version: 3, nextFireAt: new Date(T0 + 15 * MINUTE) });
  });

  it('leaves a paused trigger paused; a scoped view fills in its owner', async () => {
    const { schedulers: [s] } = await instances(1);
    const ops = s!.forOwner('ops');
    const { trigger } = await ops.triggers.upsert({ name: 'nightly', taskType: 'report', payload: { to: 'a@example.com' }, schedule: { cron: '0 3 * * *' } });
    expect(trigger.owner).toBe('ops');
    await ops.triggers.pause(trigger.id);
    expect(await ops.triggers.upsert(nightly)).toMatchObject({ action: 'unchanged', trigger: { status: 'paused' } });
    await expect(ops.triggers.upsert({ ...nightly, owner: 'someone-else' })).rejects.toMatchObject({ name: 'ValidationError', issues: [{ path: 'owner' }] });
    await expect(s!.triggers.upsert({ ...nightly, payload: { to: 'nope' } })).rejects.toMatchObject({ name: 'ValidationError', issues: [{ path: 'payload.to' }] });
    expect((await s!.audit.list({ owner: 'ops' })).items.map((e) => e.action).sort()).toEqual(['trigger.create', 'trigger.pause']);
  });

  it('sync makes the stored set the declared one, pausing what is no longer declared and resuming it when declared again', async () => {
    const { schedulers } = await instances(3);
    const [s] = schedulers;
    const declared = [nightly, { ...nightly, name: 'hourly', schedule: { cron: '0 * * * *' } }];
    const boots = await Promise.all(schedulers.map((x) => x.triggers.sync(declared, { owner: 'ops' })));
    expect(boots.flatMap((b) => b.results.map((r) => r.action)).filter((a) => a === 'created')).toHaveLength(2);
    const enqueued = await s!.enqueue('report', { to: 'q@example.com' }, { owner: 'ops' });

    const removed = await s!.triggers.sync([nightly], { owner: 'ops' });
    expect(removed.undeclared).toEqual([expect.objectContaining({ action: 'paused', trigger: expect.objectContaining({ name: 'hourly', status: 'paused', pausedReason: UNDECLARED_REASON }) })]);
    // The queue trigger of enqueue is never pruned.
    expect((await s!.runs.get(enqueued.id)).status).toBe('pending');
    const back = await s!.triggers.sync(declared, { owner: 'ops' });
    expect(back.results.map((r) => [r.trigger.name, r.action, r.trigger.status])).toEqual([
      ['nightly', 'unchanged', 'active'],
      ['hourly', 'updated', 'active'],
    ]);
    const deleted = await s!.triggers.sync([nightly], { owner: 'ops', prune: 'delete' });
    expect(deleted.undeclared.map((u) => [u.trigger.name, u.action])).toEqual([['hourly', 'deleted']]);
    expect((await s!.triggers.list({ owner: 'ops' })).items.map((t) => t.name).sort()).toEqual(['nightly', 'queue:report']);
  });

  it('sync validates every declaration first, and keeps to its name prefix', async () => {
    const { schedulers: [s] } = await instances(1);
    await s!.triggers.create({ ...nightly, name: 'made-by-ui' });
    const bad = await s!.triggers
      .sync([{ ...nightly, name: 'app-a' }, { ...nightly, name: 'app-b', schedule: { cron: 'nope' } }, { ...nightly, name: 'app-a' }, { ...nightly, name: 'other' }], { owner: 'ops', namePrefix: 'app-' })
      .catch((e: unknown) => e);
    expect(bad).toMatchObject({ name: 'ValidationError' });
    expect((bad as { issues: { path: string }[] }).issues.map((i) => i.path)).toEqual(['triggers.1.schedule.cron', 'triggers.2.name', 'triggers.3.name']);
    expect((await s!.triggers.list({ owner: 'ops' })).items.length).toBe(1);
    await s!.triggers.sync([{ ...nightly, name: 'app-a' }], { owner: 'ops', namePrefix: 'app-', prune: 'delete' });
    expect((await s!.triggers.list({ owner: 'ops' })).items.map((t) => t.name).sort()).toEqual(['app-a', 'made-by-ui']);
    await expect(s!.triggers.sync([nightly])).rejects.toMatchObject({ name: 'ValidationError', issues: [{ path: 'owner' }] });
    await expect(s!.triggers.sync([nightly], { owner: 'ops', prune: 'all' as never })).rejects.toMatchObject({ name: 'ValidationError', issues: [{ path: 'prune' }] });
  });
});

describe('declared schedules firing around a change', () => {
  const nightly = { name: 'nightly', owner: 'ops', taskType: 'report' as const, payload: { to: 'a@example.com' }, schedule: { cron: '0 3 * * *' } };
  async function memoryInstance(run: () => unknown = () => undefined) {
    const clock = new TestClock(T0);
    const { scheduler } = testScheduler({ clock, ...SLOW_TIME, handlers: { report: { schema: z.object({ to: z.string().email() }), run } } });
    return { clock, schedulers: [scheduler] };
  }

  it('a changed schedule keeps a due slot: it fires once, then the new schedule goes on', async () => {
    const { schedulers: [s], clock } = await memoryInstance();
    const { trigger } = await s!.triggers.upsert({ ...nightly, schedule: { cron: '0 * * * *' } });
    expect(trigger.nextFireAt).toEqual(new Date(T0 + HOUR));
    await clock.advanceTo(T0 + HOUR + 500); // due, not fired: the scheduler is not started
    const { trigger: changed } = await s!.triggers.upsert({ ...nightly, schedule: { cron: '30 * * * *' } });
    expect(changed.nextFireAt).toEqual(new Date(T0 + HOUR));
    const fired = waitForEvent(s!, 'run:completed', () => true, clock, 2 * HOUR);
    await s!.start();
    await advanceUntil(clock, fired, 2 * HOUR);
    await settle();
    expect((await s!.triggers.get(trigger.id)).nextFireAt).toEqual(new Date(T0 + HOUR + 30 * MINUTE));
    expect((await s!.runs.list({ triggerId: trigger.id })).items.map((r) => r.scheduledFor)).toEqual([new Date(T0 + HOUR)]);
    await s!.stop();
  });

  it('a changed schedule neither fires the running slot again nor loses the next one', async () => {
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    const { schedulers: [s], clock } = await memoryInstance(() => held);
    const { trigger } = await s!.triggers.upsert({ ...nightly, schedule: { cron: '0 * * * *' } });
    const started = waitForEvent(s!, 'run:started', () => true, clock, 2 * HOUR);
    await s!.start();
    await advanceUntil(clock, started, 2 * HOUR);
    expect(clock.now()).toBe(T0 + HOUR);
    const { trigger: changed } = await s!.triggers.upsert({ ...nightly, schedule: { cron: '0 */2 * * *' } });
    expect(changed.nextFireAt).toEqual(new Date(T0 + 2 * HOUR));
    release();
    await advanceUntil(clock, waitForEvent(s!, 'run:completed', (e) => e.run.scheduledFor.getTime() === T0 + 2 * HOUR, clock, 3 * HOUR), 3 * HOUR);
    await settle();
    const runs = (await s!.runs.list({ triggerId: trigger.id })).items;
    expect(runs.map((r) => [r.scheduledFor.getTime(), r.status]).reverse()).toEqual([
      [T0 + HOUR, 'completed'],
      [T0 + 2 * HOUR, 'completed'],
    ]);
    await s!.stop();
  });

});
