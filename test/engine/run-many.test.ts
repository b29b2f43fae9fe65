/**
 * `triggers.runMany`: a batch of manual runs in one store write, each with its own payload and
 * priority; bad items are all reported and nothing is written.
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { MAX_RUN_MANY } from 'punctual';
import { settle } from 'punctual/testing';
import { record, testScheduler } from './helpers.js';

function emailing() {
  const sent: string[] = [];
  const setup = testScheduler({
    maxConcurrentRuns: 1,
    handlers: {
      email: {
        schema: z.object({ to: z.string().email() }),
        run: (payload) => void sent.push(payload.to),
      },
    },
  });
  return { ...setup, sent };
}

describe('triggers.runMany', () => {
  it('creates one manual run per item, in one call, and runs them by priority', async () => {
    const { scheduler, sent } = emailing();
    const scheduled = record(scheduler, 'run:scheduled');
    const trigger = await scheduler.triggers.create({ name: 'mail', owner: 'u1', taskType: 'email', payload: { to: 'default@example.com' }, schedule: { manual: true }, overlap: 'allow' });
    const runs = await scheduler.triggers.runMany(trigger.id, [
      { payload: { to: 'a@example.com' } },
      {},
      { payload: { to: 'urgent@example.com' }, priority: 10 },
    ], { actor: 'ops' });
    expect(runs).toHaveLength(3);
    expect(runs.map((r) => [r.source, r.status, r.priority])).toEqual([
      ['manual', 'pending', 0],
      ['manual', 'pending', 0],
      ['manual', 'pending', 10],
    ]);
    expect(scheduled).toHaveLength(3);
    const audit = await scheduler.audit.list({ triggerId: trigger.id });
    expect(audit.items.filter((e) => e.action === 'trigger.run')).toEqual([expect.objectContaining({ actor: 'ops', details: { runs: 3 } })]);

    await scheduler.start();
    await settle();
    expect(sent[0]).toBe('urgent@example.com');
    expect([...sent].sort()).toEqual(['a@example.com', 'default@example.com', 'urgent@example.com']);
    await scheduler.stop();
  });

  it('reports every bad item by index and writes nothing', async () => {
    const { scheduler } = emailing();
    const trigger = await scheduler.triggers.create({ name: 'mail', owner: 'u1', taskType: 'email', payload: { to: 'default@example.com' }, schedule: { manual: true } });
    const error = await scheduler.triggers
      .runMany(trigger.id, [{ payload: { to: 'ok@example.com' } }, { payload: { to: 'not an address' } }, { priority: 1.5 }, null as never])
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'ValidationError' });
    expect((error as { issues: { path: string }[] }).issues.map((i) => i.path)).toEqual(['items.1.payload.to', 'items.2.priority', 'items.3']);
    expect((await scheduler.runs.list({ triggerId: trigger.id })).items.length).toBe(0);
    expect((await scheduler.audit.list({ triggerId: trigger.id })).items.map((e) => e.action)).toEqual(['trigger.create']);
  });

  it('takes 1 to MAX_RUN_MANY items', async () => {
    const { scheduler } = emailing();
    const trigger = await scheduler.triggers.create({ name: 'mail', owner: 'u1', taskType: 'email', payload: { to: 'default@example.com' }, schedule: { manual: true } });
    await expect(scheduler.triggers.runMany(trigger.id, [])).rejects.toMatchObject({ name: 'ValidationError', issues: [{ path: 'items' }] });
    await expect(scheduler.triggers.runMany(trigger.id, Array.from({ length: MAX_RUN_MANY + 1 }, () => ({})))).rejects.toMatchObject({ name: 'ValidationError' });
    expect(await scheduler.triggers.runMany(trigger.id, Array.from({ length: MAX_RUN_MANY }, () => ({})))).toHaveLength(MAX_RUN_MANY);
  });

  it("answers NotFoundError for another owner's trigger in a scoped view", async () => {
    const { scheduler } = emailing();
    const trigger = await scheduler.triggers.create({ name: 'mail', owner: 'u1', taskType: 'email', payload: { to: 'default@example.com' }, schedule: { manual: true } });
    await expect(scheduler.forOwner('u2').triggers.runMany(trigger.id, [{}])).rejects.toMatchObject({ name: 'NotFoundError' });
    expect(await scheduler.forOwner('u1').triggers.runMany(trigger.id, [{}])).toHaveLength(1);
  });
});
