/**
 * Automatic pause: with `pauseAfterFailures: n`, n consecutive runs that failed for good pause
 * the trigger, recorded in the audit trail with actor `system` and announced by
 * `trigger:paused` with the reason. A completed run resets the streak.
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { MINUTE, SECOND, record, testScheduler } from './helpers.js';

/** An every-minute trigger whose handler fails when `outcomes` says so (in order; then always fails). */
async function flaky(outcomes: ('ok' | 'fail')[], extra: object = {}) {
  let call = 0;
  const setup = testScheduler({
    handlers: {
      job: {
        schema: z.object({}),
        run: () => {
          if ((outcomes[call++] ?? 'fail') === 'fail') throw new Error(`boom ${call}`);
        },
      },
    },
  });
  const paused = record(setup.scheduler, 'trigger:paused');
  await setup.scheduler.start();
  const trigger = await setup.scheduler.triggers.create({
    name: 'flaky', owner: 'u1', taskType: 'job', payload: {}, schedule: { every: '1m' },
    retry: { maxRetries: 0 }, pauseAfterFailures: 3, ...extra,
  });
  return { ...setup, trigger, paused, calls: () => call };
}

describe('automatic pause after consecutive failures', () => {
  it('pauses after the 3rd failed run, with the reason, a system audit entry and trigger:paused', async () => {
    const { scheduler, clock, trigger, paused, calls } = await flaky([]);
    await clock.advance(2 * MINUTE + SECOND);
    expect(calls()).toBe(2);
    expect((await scheduler.triggers.get(trigger.id)).status).toBe('active');

    await clock.advance(MINUTE);
    const reason = 'paused automatically after 3 consecutive failed runs';
    expect(await scheduler.triggers.get(trigger.id)).toMatchObject({ status: 'paused', pausedReason: reason, autoPause: { afterFailures: 3, consecutiveFailures: 3 } });
    expect(paused).toHaveLength(1);
    expect(paused[0]).toMatchObject({ actor: 'system', reason, trigger: { id: trigger.id, status: 'paused' } });
    const [entry] = (await scheduler.audit.list({ triggerId: trigger.id, action: 'trigger.pause' })).items;
    expect(entry).toMatchObject({ actor: 'system', owner: 'u1', details: { reason, automatic: true } });

    await clock.advance(5 * MINUTE);
    expect(calls()).toBe(3); // nothing fires while paused
    const runs = await scheduler.runs.list({ triggerId: trigger.id });
    expect(runs.items.map((r) => r.status)).toEqual(['failed', 'failed', 'failed']);

    // Resuming starts it again with a fresh streak: three more failures pause it again.
    const resumed = await scheduler.triggers.resume(trigger.id);
    expect(resumed.autoPause).toEqual({ afterFailures: 3, consecutiveFailures: 0 });
    await clock.advance(MINUTE);
    expect(await scheduler.triggers.get(trigger.id)).toMatchObject({ status: 'active', autoPause: { consecutiveFailures: 2 } });
    await clock.advance(MINUTE);
    expect(await scheduler.triggers.get(trigger.id)).toMatchObject({ status: 'paused', autoPause: { consecutiveFailures: 3 } });
    await scheduler.stop();
  });

  it('resets the streak on a completed run', async () => {
    const { scheduler, clock, trigger, paused } = await flaky(['fail', 'fail', 'ok', 'fail', 'fail']);
    await clock.advance(5 * MINUTE + SECOND);
    expect(await scheduler.triggers.get(trigger.id)).toMatchObject({ status: 'active', autoPause: { consecutiveFailures: 2 } });
    expect(paused).toHaveLength(0);
    await clock.advance(MINUTE);
    expect(await scheduler.triggers.get(trigger.id)).toMatchObject({ status: 'paused', autoPause: { consecutiveFailures: 3 } });
    expect(paused).toHaveLength(1);
    await scheduler.stop();
  });

  it('counts a run only once it failed for good, after its retries', async () => {
    const { scheduler, clock, trigger, calls } = await flaky([], { retry: { maxRetries: 2, initialDelayMs: 1_000, multiplier: 1, jitter: 0 }, schedule: { every: '10m' } });
    await clock.advance(10 * MINUTE + 5 * SECOND); // one run: 3 attempts, one final failure
    expect(calls()).toBe(3);
    expect(await scheduler.triggers.get(trigger.id)).toMatchObject({ status: 'active', autoPause: { consecutiveFailures: 1 } });
    await clock.advance(20 * MINUTE);
    expect(calls()).toBe(9);
    expect((await scheduler.triggers.get(trigger.id)).status).toBe('paused');
    await scheduler.stop();
  });
});
