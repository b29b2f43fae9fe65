/**
 * Options are strict: an unknown key is a ValidationError naming it, never silently ignored.
 * Configuration errors and bad progress values carry typed issues too.
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createScheduler, isPunctualError, memoryStore } from 'punctual';
import { settle } from 'punctual/testing';
import { T0, testScheduler, waitForEvent } from './helpers.js';

const handlers = { work: { schema: z.object({}), run: () => undefined } };

describe('strict options', () => {
  it('rejects unknown keys in the options of runNow, runMany, list, backfill, publish, cancel and stop', async () => {
    const { scheduler, clock } = testScheduler({ handlers });
    const trigger = await scheduler.triggers.create({ name: 't', owner: 'u1', taskType: 'work', payload: {}, schedule: { every: '1h' } });
    await clock.advance(3 * 3_600_000);
    const run = await scheduler.triggers.runNow(trigger, { delayMs: 60_000 });
    const calls: [string, () => Promise<unknown>][] = [
      ['runNow', () => scheduler.triggers.runNow(trigger.id, { delay: 1 } as never)],
      ['runMany', () => scheduler.triggers.runMany(trigger.id, [{}], { delay: 1 } as never)],
      ['triggers.list', () => scheduler.triggers.list({ limt: 5 } as never)],
      ['runs.list', () => scheduler.runs.list({ state: 'pending' } as never)],
      ['audit.list', () => scheduler.audit.list({ who: 'x' } as never)],
      ['backfill', () => scheduler.triggers.backfill(trigger.id, { from: new Date(T0), to: new Date(T0 + 3_600_000), dryRun: true } as never)],
      ['publish', () => scheduler.publish('user.signup', {}, { key: 'x' } as never)],
      ['runs.cancel', () => scheduler.runs.cancel(run.id, { why: 'x' } as never)],
      ['stop', () => scheduler.stop({ grace: 5 } as never)],
    ];
    for (const [what, call] of calls) {
      const error = await call().then(() => null, (e: unknown) => e);
      expect(isPunctualError(error, 'ValidationError'), what).toBe(true);
      expect((error as { issues: { path: string; message: string }[] }).issues[0]?.message, what).toMatch(/^is not a known option; valid: /);
    }
    expect((await scheduler.runs.list({ triggerId: trigger.id })).items.length).toBe(1);
    expect((await scheduler.runs.get(run.id)).status).toBe('pending');
  });

  it('ConfigurationError lists every problem as issues with paths', () => {
    const error = (() => {
      try {
        createScheduler({ store: memoryStore(), handlers: { 'bad name!': { schema: z.object({}), run: () => undefined, concurrency: 0 } } });
      } catch (e) {
        return e;
      }
      return null;
    })();
    expect(error).toMatchObject({ name: 'ConfigurationError', code: 'CONFIGURATION' });
    expect((error as { issues: unknown[] }).issues).toEqual([
      { path: 'handlers.bad name!', message: expect.stringContaining('its name must be') },
      { path: 'handlers.bad name!.concurrency', message: expect.stringContaining('must be an integer >= 1') },
    ]);
  });

  it('ctx.progress outside 0..100 throws a ValidationError', async () => {
    let thrown: unknown;
    const { scheduler, clock } = testScheduler({
      handlers: {
        work: {
          schema: z.object({}),
          run: async (_payload, ctx) => {
            thrown = await ctx.progress(150).catch((e: unknown) => e);
          },
        },
      },
    });
    await scheduler.start();
    const done = waitForEvent(scheduler, 'run:completed', () => true, clock);
    await scheduler.enqueue('work', {});
    await done;
    await settle();
    expect(thrown).toMatchObject({ name: 'ValidationError', issues: [{ path: 'percent', message: 'must be a number from 0 to 100, got 150' }] });
    await scheduler.stop();
  });
});
