/**
 * Missed slots after downtime (B1): a trigger is created, every instance stops, the clock
 * jumps an hour ahead (nothing ran meanwhile), and a new instance starts on the same store.
 * The trigger's misfire policy decides what the missed slots become.
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { memoryStore, type MisfirePolicy, type TaskContext } from 'punctual';
import { TestClock } from 'punctual/testing';
import { HOUR, MINUTE, SECOND, T0, iso, record, testScheduler } from './helpers.js';

/**
 * Creates an every-minute trigger at T0, stops, jumps to `T0 + downMs`, restarts and runs for
 * `runMs`; returns the runs of the slots up to the restart, and the order the handler saw them.
 */
async function afterDowntime(misfire: MisfirePolicy, downMs: number, { misfireGraceMs = 10 * SECOND, runMs = 0 } = {}) {
  const handled: string[] = [];
  const handlers = { tick: { schema: z.object({}), run: (_p: unknown, ctx: TaskContext) => void handled.push(ctx.scheduledFor.toISOString()) } };
  const clock = new TestClock(T0);
  const store = memoryStore();
  const { scheduler: before } = testScheduler({ clock, store, handlers });
  await before.start();
  const trigger = await before.triggers.create({ name: 'tick', owner: 'u1', taskType: 'tick', payload: {}, schedule: { every: '1m' }, misfire, misfireGraceMs });
  await before.stop();

  clock.jumpTo(T0 + downMs);
  const { scheduler: after } = testScheduler({ clock, store, handlers });
  const misfired = record(after, 'trigger:misfired');
  const scheduled = record(after, 'run:scheduled');
  await after.start();
  await clock.advance(0);
  const next = (await after.triggers.get(trigger.id)).nextFireAt;
  await clock.advance(runMs);
  const runs = await after.runs.list({ triggerId: trigger.id, to: new Date(T0 + downMs), limit: 500 });
  await after.stop();
  return {
    slots: iso(runs.items.map((r) => r.scheduledFor)).sort(),
    statuses: new Set(runs.items.map((r) => r.status)),
    handled: handled.filter((s) => Date.parse(s) <= T0 + downMs),
    scheduled: scheduled.map((e) => e.run.scheduledFor.toISOString()).filter((s) => Date.parse(s) <= T0 + downMs),
    misfired,
    next,
  };
}

const slot = (minutes: number): string => new Date(T0 + minutes * MINUTE).toISOString();

describe('misfire policy after an hour of downtime', () => {
  it('once: runs the most recent missed slot, once', async () => {
    const { slots, statuses, misfired, next } = await afterDowntime('once', HOUR + 30 * SECOND);
    expect(slots).toEqual([slot(60)]);
    expect(statuses).toEqual(new Set(['completed']));
    expect(misfired).toHaveLength(1);
    expect(misfired[0]).toMatchObject({ policy: 'once', missedFrom: new Date(slot(1)), fired: new Date(slot(60)) });
    expect(next?.toISOString()).toBe(slot(61));
  });

  it('skip: runs none of the missed slots and carries on from the next one', async () => {
    const { slots, misfired, next } = await afterDowntime('skip', HOUR + 30 * SECOND);
    expect(slots).toEqual([]);
    expect(misfired[0]).toMatchObject({ policy: 'skip', fired: null });
    expect(next?.toISOString()).toBe(slot(61));
  });

  it('all: runs every missed slot, oldest first', async () => {
    // Runs of one trigger queue behind each other (overlap `queue`): give them two minutes.
    const { slots, statuses, handled, scheduled, next } = await afterDowntime('all', HOUR + 30 * SECOND, { runMs: 2 * MINUTE });
    const missed = Array.from({ length: 60 }, (_, i) => slot(i + 1));
    expect(slots).toEqual(missed);
    expect(statuses).toEqual(new Set(['completed']));
    expect([...handled].sort()).toEqual(missed);
    expect(scheduled).toEqual(missed); // created oldest first
    expect(next?.toISOString()).toBe(slot(61));
  });

  it('skip: still runs a slot that is due within its grace period', async () => {
    const { slots, next } = await afterDowntime('skip', HOUR + 5 * SECOND, { misfireGraceMs: 10 * SECOND });
    expect(slots).toEqual([slot(60)]); // five seconds late, within the 10 s grace: not missed
    expect(next?.toISOString()).toBe(slot(61));
  });

  it('resumes the regular schedule after catching up', async () => {
    const handlers = { tick: { schema: z.object({}), run: () => undefined } };
    const clock = new TestClock(T0);
    const store = memoryStore();
    const { scheduler: before } = testScheduler({ clock, store, handlers });
    await before.start();
    const trigger = await before.triggers.create({ name: 'tick', owner: 'u1', taskType: 'tick', payload: {}, schedule: { every: '1m' } });
    await before.stop();
    clock.jumpTo(T0 + HOUR + 30 * SECOND);
    const { scheduler: after } = testScheduler({ clock, store, handlers });
    await after.start();
    await clock.advance(3 * MINUTE);
    const runs = await after.runs.list({ triggerId: trigger.id });
    // Default policy `once`: the latest missed slot, then the regular ones.
    expect(iso(runs.items.map((r) => r.scheduledFor)).sort()).toEqual([slot(60), slot(61), slot(62), slot(63)]);
    await after.stop();
  });
});
