/**
 * Owner scoping (R15): `forOwner(owner)` only ever sees and changes that owner's triggers and
 * runs; another owner's data answers NotFoundError, exactly as if it did not exist. The
 * unscoped scheduler is the admin view.
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { testScheduler } from './helpers.js';

async function twoOwners() {
  const { scheduler, clock } = testScheduler({
    handlers: { job: { schema: z.object({ n: z.number() }), run: () => undefined } },
  });
  const a = scheduler.forOwner('alice');
  const b = scheduler.forOwner('bob');
  const bobs = await b.triggers.create({ name: 'report', taskType: 'job', payload: { n: 1 }, schedule: { manual: true } });
  const bobsRun = await b.triggers.runNow(bobs.id);
  const alices = await a.triggers.create({ name: 'report', taskType: 'job', payload: { n: 2 }, schedule: { manual: true } });
  return { scheduler, clock, a, b, bobs, bobsRun, alices };
}

const notFound = { name: 'NotFoundError', code: 'NOT_FOUND' };

describe('owner scoping', () => {
  it('sets the owner of triggers created through a scoped view', async () => {
    const { bobs, alices, a } = await twoOwners();
    expect(bobs.owner).toBe('bob');
    expect(alices.owner).toBe('alice');
    expect(a.owner).toBe('alice');
    await expect(
      a.triggers.create({ name: 'other', owner: 'bob', taskType: 'job', payload: { n: 1 }, schedule: { manual: true } }),
    ).rejects.toMatchObject({ name: 'ValidationError', issues: [{ path: 'owner' }] });
    await a.triggers.create({ name: 'explicit', owner: 'alice', taskType: 'job', payload: { n: 1 }, schedule: { manual: true } });
  });

  it('answers NotFoundError for every trigger operation on another owner’s trigger', async () => {
    const { a, bobs, scheduler } = await twoOwners();
    await expect(a.triggers.get(bobs.id)).rejects.toMatchObject(notFound);
    await expect(a.triggers.update(bobs.id, { priority: 5 })).rejects.toMatchObject(notFound);
    await expect(a.triggers.pause(bobs.id)).rejects.toMatchObject(notFound);
    await expect(a.triggers.resume(bobs.id)).rejects.toMatchObject(notFound);
    await expect(a.triggers.runNow(bobs.id)).rejects.toMatchObject(notFound);
    await expect(a.triggers.preview(bobs.id)).rejects.toMatchObject(notFound);
    await expect(a.triggers.delete(bobs.id)).rejects.toMatchObject(notFound);
    // The same message as for an id that does not exist at all.
    const messageOf = (promise: Promise<unknown>): Promise<string> => promise.then(() => '', (error: Error) => error.message);
    const absent = await messageOf(a.triggers.get('no-such-trigger'));
    const foreign = await messageOf(a.triggers.get(bobs.id));
    expect(foreign).toBe(absent.replace('no-such-trigger', bobs.id));
    // Nothing changed.
    const unchanged = await scheduler.triggers.get(bobs.id);
    expect(unchanged).toMatchObject({ status: 'active', priority: 0, version: 1 });
    expect((await scheduler.runs.list({ triggerId: bobs.id })).items.length).toBe(1);
  });

  it('lists only the view’s own triggers and runs, whatever owner filter is passed', async () => {
    const { a, b, alices, bobs, bobsRun } = await twoOwners();
    const alicesRun = await a.triggers.runNow(alices.id);
    expect((await a.triggers.list()).items.map((t) => t.id)).toEqual([alices.id]);
    expect((await a.triggers.list({ owner: 'bob' })).items.map((t) => t.id)).toEqual([alices.id]);
    expect((await b.triggers.list({ name: 'report' })).items.map((t) => t.id)).toEqual([bobs.id]);
    expect((await a.runs.list()).items.map((r) => r.id)).toEqual([alicesRun.id]);
    expect((await a.runs.list({ owner: 'bob', triggerId: bobs.id })).items.length).toBe(0);
    expect((await b.runs.list()).items.map((r) => r.id)).toEqual([bobsRun.id]);
  });

  it('answers NotFoundError for another owner’s run, to get and to cancel', async () => {
    const { a, bobsRun, scheduler } = await twoOwners();
    await expect(a.runs.get(bobsRun.id)).rejects.toMatchObject(notFound);
    await expect(a.runs.cancel(bobsRun.id)).rejects.toMatchObject(notFound);
    expect((await scheduler.runs.get(bobsRun.id)).status).toBe('pending');
  });

  it('gives the admin view every owner’s triggers and runs, and an owner filter', async () => {
    const { scheduler, alices, bobs, bobsRun } = await twoOwners();
    expect((await scheduler.triggers.list()).items.map((t) => t.id).sort()).toEqual([alices.id, bobs.id].sort());
    expect((await scheduler.triggers.list({ owner: 'bob' })).items.map((t) => t.id)).toEqual([bobs.id]);
    expect((await scheduler.triggers.get(bobs.id)).owner).toBe('bob');
    expect((await scheduler.runs.get(bobsRun.id)).owner).toBe('bob');
    await scheduler.triggers.pause(bobs.id);
    expect((await scheduler.forOwner('bob').triggers.get(bobs.id)).status).toBe('paused');
  });

  it('keeps names unique per owner, and free across owners', async () => {
    const { a, b, scheduler } = await twoOwners();
    await expect(a.triggers.create({ name: 'report', taskType: 'job', payload: { n: 3 }, schedule: { manual: true } })).rejects.toMatchObject({
      name: 'ConflictError',
    });
    const carol = await scheduler.forOwner('carol').triggers.create({ name: 'report', taskType: 'job', payload: { n: 3 }, schedule: { manual: true } });
    expect(carol.owner).toBe('carol');
    // Renaming onto a taken name conflicts too; renaming onto another owner's name does not.
    const extra = await b.triggers.create({ name: 'extra', taskType: 'job', payload: { n: 4 }, schedule: { manual: true } });
    await expect(b.triggers.update(extra.id, { name: 'report' })).rejects.toMatchObject({ name: 'ConflictError' });
    const aExtra = await a.triggers.create({ name: 'extra', taskType: 'job', payload: { n: 4 }, schedule: { manual: true } });
    expect(aExtra.name).toBe('extra');
    expect((await scheduler.triggers.list({ name: 'report' })).items.length).toBe(3);
  });

  it('rejects an empty owner for a scoped view', () => {
    const { scheduler } = testScheduler({ handlers: { job: { schema: z.object({}), run: () => undefined } } });
    expect(() => scheduler.forOwner('')).toThrow(expect.objectContaining({ name: 'ValidationError' }));
  });
});
