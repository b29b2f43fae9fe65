/**
 * Misfire policy (B1) beyond an hour of downtime (misfire.test.ts covers that): `all` replays
 * only the last 24 hours of a two-day outage, and a trigger paused for three hours and then
 * resumed gets exactly the runs its policy promises, before its schedule carries on unchanged.
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { memoryStore, type MisfirePolicy, type RunRecord, type RunsApi } from 'punctual';
import { TestClock } from 'punctual/testing';
import { HOUR, MINUTE, SECOND, SLOW_TIME, T0, iso, record, testScheduler } from './helpers.js';

const handlers = { tick: { schema: z.object({}), run: () => undefined } };

/** Every run of a trigger, oldest slot first (pages through the 500-item limit). */
async function allRuns(scheduler: { runs: RunsApi }, triggerId: string): Promise<RunRecord[]> {
  const runs: RunRecord[] = [];
  for (let cursor: string | undefined; ; ) {
    const page = await scheduler.runs.list({ triggerId, limit: 500, ...(cursor ? { cursor } : {}) });
    runs.push(...page.items);
    if (page.nextCursor === null) break;
    cursor = page.nextCursor;
  }
  return runs.reverse();
}

const at = (ms: number): string => new Date(T0 + ms).toISOString();

describe('misfire all after two days of downtime', () => {
  it('runs the missed slots of the last 24 hours only, oldest first, then carries on', async () => {
    const clock = new TestClock(T0);
    const store = memoryStore();
    const { scheduler: before } = testScheduler({ clock, store, handlers, ...SLOW_TIME });
    await before.start();
    const trigger = await before.triggers.create({ name: 'tick', owner: 'u1', taskType: 'tick', payload: {}, schedule: { every: '1m' }, misfire: 'all', overlap: 'allow' });
    await before.stop();

    const down = 2 * 24 * HOUR + 30 * SECOND;
    clock.jumpTo(T0 + down);
    const { scheduler: after } = testScheduler({ clock, store, handlers, ...SLOW_TIME });
    const scheduled = record(after, 'run:scheduled');
    await after.start();
    await clock.advance(0);

    const runs = await allRuns(after, trigger.id);
    // Slots 24:01 .. 48:00 (1,440 of them); the 1,440 older ones are skipped without a run.
    const expected = Array.from({ length: 1_440 }, (_, i) => at(24 * HOUR + (i + 1) * MINUTE));
    expect(iso(runs.map((r) => r.scheduledFor))).toEqual(expected);
    expect(scheduled.map((e) => e.run.scheduledFor.toISOString())).toEqual(expected); // created oldest first
    expect(runs.every((r) => r.status === 'completed' && r.source === 'schedule')).toBe(true);
    const after2d = await after.triggers.get(trigger.id);
    expect(after2d.nextFireAt?.toISOString()).toBe(at(48 * HOUR + MINUTE));
    expect(after2d.runCount).toBe(1_440);
    await after.stop();
  });
});

describe('pause, then resume three hours later', () => {
  /** An hourly trigger paused at 0:30 and resumed at 3:30 (slots 1:00, 2:00 and 3:00 missed), then run to 4:30. */
  async function pausedThreeHours(misfire: MisfirePolicy) {
    const { scheduler, clock } = testScheduler({ handlers, ...SLOW_TIME, pollIntervalMs: MINUTE });
    const misfired = record(scheduler, 'trigger:misfired');
    await scheduler.start();
    const trigger = await scheduler.triggers.create({ name: 'hourly', owner: 'u1', taskType: 'tick', payload: {}, schedule: { every: '1h' }, misfire });
    await clock.advance(30 * MINUTE);
    await scheduler.triggers.pause(trigger.id, { reason: 'deploy', actor: 'ops' });
    await clock.advance(3 * HOUR);
    await scheduler.triggers.resume(trigger.id, { actor: 'ops' });
    await clock.advance(SECOND);
    const atResume = iso((await allRuns(scheduler, trigger.id)).map((r) => r.scheduledFor));
    const nextFireAt = (await scheduler.triggers.get(trigger.id)).nextFireAt?.toISOString();
    await clock.advance(HOUR);
    const runs = await allRuns(scheduler, trigger.id);
    await scheduler.stop();
    return { atResume, nextFireAt, runs, misfired };
  }

  it('once: one run, for 3:00, at the resume; then 4:00 on time', async () => {
    const { atResume, nextFireAt, runs, misfired } = await pausedThreeHours('once');
    expect(atResume).toEqual([at(3 * HOUR)]);
    expect(nextFireAt).toBe(at(4 * HOUR));
    expect(iso(runs.map((r) => r.scheduledFor))).toEqual([at(3 * HOUR), at(4 * HOUR)]);
    expect(runs.map((r) => r.status)).toEqual(['completed', 'completed']);
    expect(runs[0]?.startedAt?.getTime()).toBe(T0 + 3.5 * HOUR);
    expect(misfired).toEqual([{ triggerId: runs[0]?.triggerId, owner: 'u1', missedFrom: new Date(T0 + HOUR), policy: 'once', fired: new Date(T0 + 3 * HOUR) }]);
  });

  it('skip: no run for the missed slots; 4:00 on time', async () => {
    const { atResume, nextFireAt, runs, misfired } = await pausedThreeHours('skip');
    expect(atResume).toEqual([]);
    expect(nextFireAt).toBe(at(4 * HOUR));
    expect(iso(runs.map((r) => r.scheduledFor))).toEqual([at(4 * HOUR)]);
    expect(misfired.map((e) => [e.policy, e.fired])).toEqual([['skip', null]]);
  });

  it('all: runs for 1:00, 2:00 and 3:00 at the resume; then 4:00 on time', async () => {
    const { atResume, nextFireAt, runs } = await pausedThreeHours('all');
    expect(atResume).toEqual([at(HOUR), at(2 * HOUR), at(3 * HOUR)]);
    expect(nextFireAt).toBe(at(4 * HOUR));
    expect(iso(runs.map((r) => r.scheduledFor))).toEqual([at(HOUR), at(2 * HOUR), at(3 * HOUR), at(4 * HOUR)]);
    expect(runs.every((r) => r.status === 'completed')).toBe(true);
  });
});
