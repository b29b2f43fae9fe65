/**
 * Reproduction: a run keeps running after its trigger lock is lost, so a second run of the same
 * trigger (overlap `queue`) starts while the first still runs, for as long as the first lasts.
 *
 * src/executor.ts renewAll():
 *   `if (active.lock) active.lock = (await engine.locks.renew(...)) ?? active.lock;`
 * A `null` from renew() means the lock is gone (LockStore contract: "Null when lost"), but the
 * executor keeps the old lock object and carries on: nothing aborts the handler or reports it.
 * Here the lock key disappears as it does when Redis restarts without persistence (the suite's
 * redis-restart scenario shows the same end to end), is flushed, evicts it, or fails over to a
 * replica that had not received it.
 *
 *   node --import tsx test/reliability/repro/redis-lock-lost.ts
 */
import { setTimeout as delay } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { Redis } from 'ioredis';
import { z } from 'zod';
import { createScheduler, memoryStore } from 'punctual';
import { redisLockStore } from 'punctual/redis';
import { REDIS_URL } from '../services.js';

/** What went wrong, or null when the second run waited for the first. */
export async function redisLockLost(): Promise<string | null> {
  const prefix = `punctual-repro:${process.pid}:`;
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  const spans: { start: number; end: number }[] = [];
  const scheduler = createScheduler({
    store: memoryStore(),
    lockStore: redisLockStore(redis, { prefix }),
    leaseMs: 1_500, // lock renewed every 500 ms
    pollIntervalMs: 100,
    metricsIntervalMs: 0,
    handlers: {
      work: {
        schema: z.object({}),
        run: async (_payload, ctx) => {
          const start = Date.now();
          try {
            await delay(3_000, undefined, { signal: ctx.signal });
          } finally {
            spans.push({ start, end: Date.now() });
          }
        },
      },
    },
  });
  try {
    await scheduler.start();
    const trigger = await scheduler.triggers.create({ name: 'one-at-a-time', owner: 'repro', taskType: 'work', payload: {}, schedule: { manual: true }, overlap: 'queue' });
    await scheduler.triggers.runNow(trigger.id); // A takes the trigger lock
    await delay(300);
    await scheduler.triggers.runNow(trigger.id); // B must wait for it
    await delay(500);
    const keys = await redis.keys(`${prefix}held:*`);
    await redis.del(...keys); // the lock store loses A's lock
    await delay(6_000);
    spans.sort((x, y) => x.start - y.start);
    const [a, b] = spans;
    if (!a || !b) return `only ${spans.length} of the two runs ran`;
    // A holder learns of the loss at its next renewal at the latest (leaseMs / 3 = 500 ms).
    return b.start < a.end - 500 ? `B started ${a.end - b.start} ms before A ended: A's lock renewals returned null and A ran on` : null;
  } finally {
    await scheduler.stop();
    const left = await redis.keys(`${prefix}*`);
    if (left.length > 0) await redis.del(...left);
    redis.disconnect();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const finding = await redisLockLost();
  console.log(finding ? `REPRODUCED: ${finding}` : 'not reproduced');
  if (finding) process.exitCode = 1;
}
