/**
 * Event triggers (R2): `publish` fires the active event triggers whose filter matches, stores
 * one run per (trigger, event) before it resolves, from any instance, and hands the event to
 * the handler as `ctx.event`. Debounce windows collapse events into one run at the window's end.
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { memoryStore, type ScheduleInput, type TaskContext, type TriggerSettings } from 'punctual';
import { TestClock } from 'punctual/testing';
import { HOUR, MINUTE, SECOND, T0, record, testScheduler, untilAborted } from './helpers.js';

type Seen = { trigger: string; event: TaskContext['event']; at: number; instance: string };

/** A scheduler whose `mail` handler records what it ran; `block` makes it wait until aborted. */
function eventScheduler(options: { clock?: TestClock; store?: ReturnType<typeof memoryStore>; instanceId?: string; block?: boolean } = {}) {
  const seen: Seen[] = [];
  const { block, ...rest } = options;
  const setup = testScheduler({
    ...rest,
    handlers: {
      mail: {
        schema: z.object({ template: z.string() }),
        run: async (_p, ctx) => {
          seen.push({ trigger: ctx.triggerName, event: ctx.event, at: setup.clock.now(), instance: setup.scheduler.instanceId });
          if (block) await untilAborted(ctx.signal);
        },
      },
    },
  });
  return { ...setup, seen };
}

const trigger = (name: string, schedule: ScheduleInput, extra: Partial<TriggerSettings> & { owner?: string } = {}) =>
  ({ name, owner: 'growth', taskType: 'mail' as const, payload: { template: name }, schedule, ...extra });

describe('event triggers', () => {
  it('fires only the active triggers whose filter matches, and passes the event to the handler', async () => {
    const { scheduler, clock, seen } = eventScheduler();
    await scheduler.start();
    const pro = await scheduler.triggers.create(trigger('pro', { event: 'user.signup', filter: { 'account.plan': ['pro', 'team'] } }));
    await scheduler.triggers.create(trigger('free-fr', { event: 'user.signup', filter: { 'account.plan': 'free', country: 'FR' } }));
    const any = await scheduler.triggers.create(trigger('any', { event: 'user.signup' }));
    await scheduler.triggers.create(trigger('deep', { event: 'user.signup', filter: { 'account.missing.path': 'x' } }));
    await scheduler.triggers.create(trigger('other', { event: 'user.deleted' }));
    const paused = await scheduler.triggers.create(trigger('paused', { event: 'user.signup' }));
    await scheduler.triggers.pause(paused.id);

    await clock.advance(5 * SECOND);
    const data = { userId: 'u1', account: { plan: 'pro' }, country: 'FR' };
    const result = await scheduler.publish('user.signup', data, { id: 'outbox-1' });
    expect(result.eventId).toBe('outbox-1');
    expect(result.duplicates).toBe(0);
    expect(result.runs.map((r) => r.triggerId).sort()).toEqual([pro.id, any.id].sort());
    expect(result.runs.map((r) => r.id).sort()).toEqual([`${pro.id}@event:outbox-1`, `${any.id}@event:outbox-1`].sort());
    expect(result.runs.every((r) => r.source === 'event' && r.scheduledFor.getTime() === T0 + 5 * SECOND)).toBe(true);

    await clock.advance(SECOND);
    expect(seen.map((s) => s.trigger).sort()).toEqual(['any', 'pro']);
    expect(seen[0]?.event).toEqual({ name: 'user.signup', data, publishedAt: new Date(T0 + 5 * SECOND) });
    expect((await scheduler.runs.list({ triggerId: paused.id })).items.length).toBe(0);

    // A list filter accepts each listed value; a value outside it matches nothing.
    expect((await scheduler.publish('user.signup', { account: { plan: 'team' } })).runs.map((r) => r.triggerId).sort()).toEqual([pro.id, any.id].sort());
    expect((await scheduler.publish('user.signup', { account: { plan: 'gold' } })).runs.map((r) => r.triggerId)).toEqual([any.id]);
    await scheduler.stop();
  });

  it('is durable: published on instance A, which stops at once, the run executes on instance B', async () => {
    const clock = new TestClock(T0);
    const store = memoryStore();
    const a = eventScheduler({ clock, store, instanceId: 'instance-a', block: true });
    const b = eventScheduler({ clock, store, instanceId: 'instance-b' });
    await Promise.all([a.scheduler.start(), b.scheduler.start()]);
    const welcome = await a.scheduler.triggers.create(trigger('welcome', { event: 'user.signup' }));
    const { runs } = await a.scheduler.publish('user.signup', { userId: 'u9' });
    await a.scheduler.stop({ graceMs: 0 });
    // A had claimed and started it; stopping A aborted its handler and handed the run back.
    expect(a.seen).toHaveLength(1);
    await clock.advance(2 * SECOND); // B's poll claims it
    expect(b.seen).toHaveLength(1);
    expect(b.seen[0]?.event).toMatchObject({ name: 'user.signup', data: { userId: 'u9' } });
    const run = await b.scheduler.runs.get(runs[0]?.id as string);
    expect(run).toMatchObject({ triggerId: welcome.id, status: 'completed', instanceId: 'instance-b', attempt: 1 });
    await b.scheduler.stop();
  });

  it('creates one run per (trigger, event id): a retried publish reports duplicates', async () => {
    const { scheduler, clock, seen } = eventScheduler();
    const published = record(scheduler, 'event:published');
    await scheduler.start();
    const welcome = await scheduler.triggers.create(trigger('welcome', { event: 'user.signup' }));
    const first = await scheduler.publish('user.signup', { userId: 'u1' }, { id: 'evt-42' });
    await clock.advance(SECOND);
    const again = await scheduler.publish('user.signup', { userId: 'u1' }, { id: 'evt-42' });
    expect(first).toMatchObject({ duplicates: 0, runs: [{ id: `${welcome.id}@event:evt-42` }] });
    expect(again).toMatchObject({ eventId: 'evt-42', duplicates: 1, runs: [] });
    await clock.advance(SECOND);
    expect(seen).toHaveLength(1);
    expect((await scheduler.runs.list({ triggerId: welcome.id })).items.length).toBe(1);
    expect(published.map((e) => e.runs)).toEqual([1, 0]);
    await scheduler.stop();
  });

  it('debounce: five events in one window make one run, at the window end, with the first event', async () => {
    // Started off the second, so the polls (every 1 s) do not line up with the window's end.
    const { scheduler, clock, seen } = eventScheduler({ clock: new TestClock(T0 + 400) });
    await scheduler.start();
    const digest = await scheduler.triggers.create(trigger('digest', { event: 'order.placed', debounceMs: MINUTE }));
    const results = [];
    for (let i = 1; i <= 5; i++) {
      await clock.advanceTo(T0 + i * 10 * SECOND);
      results.push(await scheduler.publish('order.placed', { order: i }));
    }
    expect(results.map((r) => [r.runs.length, r.duplicates])).toEqual([[1, 0], [0, 1], [0, 1], [0, 1], [0, 1]]);
    expect(results[0]?.runs[0]).toMatchObject({ id: `${digest.id}@window:${new Date(T0).toISOString()}`, scheduledFor: new Date(T0 + MINUTE) });

    await clock.advanceTo(T0 + MINUTE - 1);
    expect(seen).toHaveLength(0);
    // At the window's end exactly: publish arms a wake-up for it.
    await clock.advanceTo(T0 + MINUTE + SECOND);
    expect(seen).toEqual([{ trigger: 'digest', event: { name: 'order.placed', data: { order: 1 }, publishedAt: new Date(T0 + 10 * SECOND) }, at: expect.any(Number), instance: scheduler.instanceId }]);
    expect(seen[0]?.at).toBeGreaterThanOrEqual(T0 + MINUTE);
    expect(seen[0]?.at).toBe(T0 + MINUTE);

    // The next window gets its own run.
    await clock.advanceTo(T0 + MINUTE + 5 * SECOND);
    expect((await scheduler.publish('order.placed', { order: 6 })).runs).toHaveLength(1);
    await clock.advance(MINUTE);
    expect(seen.map((s) => (s.event?.data as { order: number }).order)).toEqual([1, 6]);
    await scheduler.stop();
  });

  it('forOwner(o).publish fires only o\'s triggers; scheduler.publish fires every owner\'s', async () => {
    const { scheduler } = eventScheduler();
    const mine = await scheduler.triggers.create(trigger('hook', { event: 'build.done' }, { owner: 'team-a' }));
    const theirs = await scheduler.triggers.create(trigger('hook', { event: 'build.done' }, { owner: 'team-b' }));
    const scoped = await scheduler.forOwner('team-a').publish('build.done', { ok: true });
    expect(scoped.runs.map((r) => [r.triggerId, r.owner])).toEqual([[mine.id, 'team-a']]);
    const all = await scheduler.publish('build.done', { ok: true });
    expect(all.runs.map((r) => r.triggerId).sort()).toEqual([mine.id, theirs.id].sort());
  });

  it('rejects a bad event name or data with a ValidationError and writes nothing', async () => {
    const { scheduler } = eventScheduler();
    const published = record(scheduler, 'event:published');
    await scheduler.triggers.create(trigger('welcome', { event: 'user.signup' }));
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    const bad: [string, unknown, object?][] = [
      ['user signup', {}],
      ['', {}],
      ['user.signup', { n: 10n }],
      ['user.signup', circular],
      ['user.signup', { blob: 'x'.repeat(300_000) }],
      ['user.signup', {}, { id: 'has space' }],
    ];
    for (const [name, data, options] of bad) {
      await expect(scheduler.publish(name, data, options)).rejects.toMatchObject({ name: 'ValidationError' });
    }
    expect((await scheduler.runs.list()).items.length).toBe(0);
    expect(published).toHaveLength(0);
  });

  it('applies timing.startAt and endAt by publish time', async () => {
    const { scheduler, clock } = eventScheduler();
    const bounded = await scheduler.triggers.create(
      trigger('bounded', { event: 'tick' }, { timing: { startAt: new Date(T0 + HOUR), endAt: new Date(T0 + 2 * HOUR) } }),
    );
    const counts: number[] = [];
    for (const at of [T0, T0 + HOUR - 1, T0 + HOUR, T0 + 90 * MINUTE, T0 + 2 * HOUR, T0 + 2 * HOUR + 1]) {
      await clock.advanceTo(at);
      counts.push((await scheduler.publish('tick', {})).runs.length);
    }
    expect(counts).toEqual([0, 0, 1, 1, 1, 0]);
    expect((await scheduler.runs.list({ triggerId: bounded.id })).items.length).toBe(3);
    expect((await scheduler.triggers.get(bounded.id)).status).toBe('active');
  });
});
