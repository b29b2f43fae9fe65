import { createScheduler } from 'punctual';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { mongoStore } from '../../src/stores/mongo/index.js';
import { mongoTarget, useDatabases } from './databases.js';

const target = mongoTarget();
const RUN_FOR_MS = 5_500;

describe.skipIf(!target)('two schedulers on one MongoDB database (real clock)', () => {
  const dbs = useDatabases(target);

  it('fires each slot of an every-second trigger exactly once', async () => {
    const db = dbs.fresh();
    const executions = new Map<string, number>();
    const handlers = {
      tick: {
        schema: z.object({}),
        run: async (_payload: unknown, ctx: { runId: string }) => {
          executions.set(ctx.runId, (executions.get(ctx.runId) ?? 0) + 1);
        },
      },
    };
    const make = (instanceId: string) => createScheduler({ store: mongoStore(db), handlers, instanceId, pollIntervalMs: 250, metricsIntervalMs: 0 });
    const schedulers = [make('instance-a'), make('instance-b')];
    try {
      await Promise.all(schedulers.map((s) => s.start()));
      const health = await schedulers[0]!.health();
      expect(health.store.kind).toBe('mongodb');
      expect(health.wakeups).toBe(target?.changeStreams ? 'notify' : 'poll');
      const trigger = await schedulers[1]!.triggers.create({ name: 'every-second', owner: 'owner-a', taskType: 'tick', payload: {}, schedule: { every: 1_000 } });
      await new Promise((resolve) => setTimeout(resolve, RUN_FOR_MS));
      await Promise.all(schedulers.map((s) => s.stop({ graceMs: 5_000 })));

      const history = await mongoStore(db).listRuns({ triggerId: trigger.id, limit: 500 });
      const slots = history.map((run) => run.scheduledFor.getTime()).sort((a, b) => a - b);
      expect(new Set(slots).size).toBe(slots.length);
      for (let i = 1; i < slots.length; i++) expect(slots[i]! - slots[i - 1]!).toBe(1_000);
      const completed = history.filter((run) => run.status === 'completed');
      expect(completed.length).toBeGreaterThanOrEqual(4);
      for (const run of completed) expect(executions.get(run.id), run.id).toBe(1);
      expect([...executions.values()].every((count) => count === 1)).toBe(true);
      expect(executions.size).toBe(completed.length);
    } finally {
      await Promise.all(schedulers.map((s) => s.stop({ graceMs: 0 }).catch(() => undefined)));
      await dbs.drop(db);
    }
  });
});
