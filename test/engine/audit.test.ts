/**
 * Audit trail (R11): every change and manual run is recorded with its actor: the one given,
 * else the scoped view's owner, else `system`.
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { record, testScheduler } from './helpers.js';

function auditedScheduler() {
  return testScheduler({ handlers: { job: { schema: z.object({ n: z.number() }), run: () => undefined } } });
}

describe('audit trail', () => {
  it('records create, update, pause, resume, runNow, cancel and delete with the given actor', async () => {
    const { scheduler, clock } = auditedScheduler();
    const recorded = record(scheduler, 'audit:recorded');
    const by = { actor: 'admin-7' };
    // Entries list newest first by time; a millisecond between steps makes their order visible.
    const tick = () => clock.advance(1);
    const trigger = await scheduler.triggers.create({ name: 'job', owner: 'u1', taskType: 'job', payload: { n: 1 }, schedule: { every: '1h' } }, by);
    await tick();
    await scheduler.triggers.update(trigger.id, { payload: { n: 2 }, priority: 3 }, by);
    await tick();
    await scheduler.triggers.pause(trigger.id, { ...by, reason: 'maintenance' });
    await tick();
    await scheduler.triggers.resume(trigger.id, by);
    await tick();
    const run = await scheduler.triggers.runNow(trigger.id, by);
    await tick();
    await scheduler.runs.cancel(run.id, by);
    await tick();
    await scheduler.triggers.delete(trigger.id, by);

    const trail = (await scheduler.audit.list({ triggerId: trigger.id })).items.reverse();
    expect(trail.map((e) => [e.action, e.actor, e.owner])).toEqual([
      ['trigger.create', 'admin-7', 'u1'],
      ['trigger.update', 'admin-7', 'u1'],
      ['trigger.pause', 'admin-7', 'u1'],
      ['trigger.resume', 'admin-7', 'u1'],
      ['trigger.run', 'admin-7', 'u1'],
      ['run.cancel', 'admin-7', 'u1'],
      ['trigger.delete', 'admin-7', 'u1'],
    ]);
    expect(trail[1]?.details).toEqual({ fields: ['payload', 'priority'] });
    expect(trail[2]?.details).toEqual({ reason: 'maintenance' });
    expect(trail[4]?.runId).toBe(run.id);
    expect(trail[5]?.runId).toBe(run.id);
    expect(recorded.map((e) => e.entry.id)).toEqual(trail.map((e) => e.id));
    // Rejected calls record nothing, whatever the actor.
    await expect(scheduler.runs.cancel(run.id, { actor: '' })).rejects.toMatchObject({ name: 'ValidationError' });
    expect((await scheduler.audit.list()).items.length).toBe(7);
  });

  it('uses the scoped owner as actor, else "system"', async () => {
    const { scheduler, clock } = auditedScheduler();
    const scoped = scheduler.forOwner('u2');
    const mine = await scoped.triggers.create({ name: 'mine', taskType: 'job', payload: { n: 1 }, schedule: { manual: true } });
    await clock.advance(1);
    await scoped.triggers.runNow(mine.id);
    await clock.advance(1);
    await scoped.triggers.pause(mine.id);
    const admins = await scheduler.triggers.create({ name: 'admins', owner: 'u2', taskType: 'job', payload: { n: 1 }, schedule: { manual: true } });
    await clock.advance(1);
    await scheduler.triggers.runNow(admins.id);
    const delegated = await scoped.triggers.create({ name: 'delegated', taskType: 'job', payload: { n: 1 }, schedule: { manual: true } }, { actor: 'support-1' });

    const actors = async (triggerId: string) => (await scheduler.audit.list({ triggerId })).items.reverse().map((e) => [e.action, e.actor]);
    expect(await actors(mine.id)).toEqual([['trigger.create', 'u2'], ['trigger.run', 'u2'], ['trigger.pause', 'u2']]);
    expect(await actors(admins.id)).toEqual([['trigger.create', 'system'], ['trigger.run', 'system']]);
    expect(await actors(delegated.id)).toEqual([['trigger.create', 'support-1']]);
  });

  it('filters by owner and action, pages, and records nothing for a rejected change', async () => {
    const { scheduler } = auditedScheduler();
    for (const [i, owner] of ['u1', 'u2', 'u1'].entries()) {
      await scheduler.triggers.create({ name: `job-${i}`, owner, taskType: 'job', payload: { n: 1 }, schedule: { manual: true } });
    }
    await expect(scheduler.triggers.create({ name: 'bad', owner: 'u1', taskType: 'job', payload: { n: 'x' } as never, schedule: { manual: true } })).rejects.toMatchObject({
      name: 'ValidationError',
    });
    const trigger = (await scheduler.triggers.list({ owner: 'u2' })).items[0];
    await expect(scheduler.triggers.update(trigger?.id ?? '', { priority: 5000 })).rejects.toMatchObject({ name: 'ValidationError' });
    const all = await scheduler.audit.list();
    expect(all.items).toHaveLength(3);
    expect((await scheduler.audit.list({ owner: 'u1' })).items.length).toBe(2);
    expect((await scheduler.audit.list({ action: 'trigger.update' })).items.length).toBe(0);
    const first = await scheduler.audit.list({ limit: 2 });
    expect(first.items).toEqual(all.items.slice(0, 2));
    const page = await scheduler.audit.list({ limit: 2, cursor: first.nextCursor ?? '' });
    expect(page).toEqual({ items: all.items.slice(2), nextCursor: null });
    await expect(scheduler.audit.list({ limit: 0 })).rejects.toMatchObject({ name: 'ValidationError' });
  });

  it('rejects an invalid actor without changing anything', async () => {
    const { scheduler } = auditedScheduler();
    const trigger = await scheduler.triggers.create({ name: 'job', owner: 'u1', taskType: 'job', payload: { n: 1 }, schedule: { manual: true } });
    const bad = { actor: '' };
    await expect(scheduler.triggers.pause(trigger.id, bad)).rejects.toMatchObject({ name: 'ValidationError', issues: [{ path: 'actor' }] });
    await expect(scheduler.triggers.update(trigger.id, { priority: 9 }, bad)).rejects.toMatchObject({ name: 'ValidationError' });
    await expect(scheduler.triggers.runNow(trigger.id, bad)).rejects.toMatchObject({ name: 'ValidationError' });
    await expect(scheduler.triggers.delete(trigger.id, bad)).rejects.toMatchObject({ name: 'ValidationError' });
    await expect(
      scheduler.triggers.create({ name: 'other', owner: 'u1', taskType: 'job', payload: { n: 1 }, schedule: { manual: true } }, { actor: 'x'.repeat(201) }),
    ).rejects.toMatchObject({ name: 'ValidationError' });
    expect(await scheduler.triggers.get(trigger.id)).toMatchObject({ status: 'active', priority: 0, version: 1 });
    expect((await scheduler.triggers.list()).items.length).toBe(1);
    expect((await scheduler.runs.list()).items.length).toBe(0);
    expect((await scheduler.audit.list()).items.length).toBe(1);
  });
});
