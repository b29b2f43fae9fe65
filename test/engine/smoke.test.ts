import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createScheduler, memoryStore } from 'punctual';
import { TestClock } from 'punctual/testing';

describe('smoke', () => {
  it('fires an interval trigger at its slots and records history', async () => {
    const clock = new TestClock(Date.parse('2026-01-01T00:00:00Z'));
    const seen: string[] = [];
    const scheduler = createScheduler({
      clock,
      store: memoryStore(),
      handlers: {
        echo: { schema: z.object({ msg: z.string() }), run: async (p, ctx) => { seen.push(`${p.msg}@${ctx.scheduledFor.toISOString()}`); return 'ok'; } },
      },
    });
    await scheduler.start();
    const t = await scheduler.triggers.create({ name: 'every-minute', owner: 'u1', taskType: 'echo', payload: { msg: 'hi' }, schedule: { every: '1m' } });
    await clock.advance(180_000);
    expect(seen).toEqual(['hi@2026-01-01T00:01:00.000Z', 'hi@2026-01-01T00:02:00.000Z', 'hi@2026-01-01T00:03:00.000Z']);
    const history = await scheduler.runs.list({ triggerId: t.id });
    expect(history.items.map((r) => r.status)).toEqual(['completed', 'completed', 'completed']);
    await scheduler.stop();
    expect(clock.pendingTimers).toBe(0);
  });
});
