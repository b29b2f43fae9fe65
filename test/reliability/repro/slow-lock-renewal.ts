/**
 * Reproduction: a lock store that answers slowly for a few seconds (Redis down: ioredis holds a
 * command until a reconnection attempt fails) makes one instance run the same run several times
 * at once, each execution to completion, and can make the run fail for good, although the store
 * never failed and no process died.
 *
 * 1. src/executor.ts renewAll(): a run's store-lease renewal and its trigger-lock renewal are
 *    awaited in one Promise.all, and armRenewal() re-arms only when all of them settled. A lock
 *    renewal slower than about leaseMs - leaseMs / 3 delays every run's next lease renewal past
 *    its expiry; the run is recovered (`lease_expired`) and claimed again.
 * 2. src/executor.ts launch(): running runs are kept by run id (`this.active.set(run.id, ...)`,
 *    line 184). When this instance claims the run again while the first execution still runs,
 *    the new attempt replaces the old one's entry, so the old one is neither renewed nor aborted
 *    and runs on, at the same time as the new one; when it ends, `this.active.delete(run.id)`
 *    (line 189) removes the *new* attempt's entry, which is then never renewed either: its lease
 *    expires, and so on, attempt after attempt, until the run completes by luck or has used all
 *    its attempts and is marked `failed`.
 *
 *   node --import tsx test/reliability/repro/slow-lock-renewal.ts
 */
import { setTimeout as delay } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { z } from 'zod';
import { createScheduler, memoryLockStore, memoryStore, type LockStore } from 'punctual';
import type { Lock } from 'punctual/store';

export interface SlowLockFindings {
  /** The run did not end completed although its handler completed: a lost run (2). */
  lost: string | null;
  /** Attempts whose lease was gone ran to completion instead of being aborted: the run executed several times at once (2). */
  duplicated: string | null;
  /** The run lost its store lease only because the lock store was slow (1). */
  leaseLost: string | null;
}

export async function slowLockRenewal(): Promise<SlowLockFindings> {
  const locks = memoryLockStore();
  let slow = false;
  // The memory lock store, except that renewals take 2.5 s while `slow` is set.
  const slowLocks: LockStore = {
    kind: 'slow-memory',
    acquire: (request) => locks.acquire(request),
    renew: async (lock: Lock, ttlMs: number, now: Date) => {
      if (slow) await delay(2_500);
      return locks.renew(lock, ttlMs, now);
    },
    release: (lock) => locks.release(lock),
    close: () => locks.close(),
  };
  const executions: string[] = [];
  const scheduler = createScheduler({
    store: memoryStore(),
    lockStore: slowLocks,
    leaseMs: 1_500, // renewed every 500 ms
    pollIntervalMs: 100,
    metricsIntervalMs: 0,
    handlers: {
      work: {
        schema: z.object({}),
        run: async (_payload, ctx) => {
          try {
            await delay(4_000, undefined, { signal: ctx.signal });
            executions.push(`${ctx.attempt}:completed`);
          } catch (error) {
            executions.push(`${ctx.attempt}:aborted`);
            throw error;
          }
        },
      },
    },
  });
  try {
    await scheduler.start();
    const trigger = await scheduler.triggers.create({ name: 'slow-locks', owner: 'repro', taskType: 'work', payload: {}, schedule: { manual: true }, overlap: 'queue' });
    const { id } = await scheduler.triggers.runNow(trigger.id);
    await delay(300);
    slow = true; // slow, not failing, for 2.5 s
    await delay(2_500);
    slow = false;
    let run = await scheduler.runs.get(id);
    for (let waited = 0; waited < 40_000 && run.status !== 'completed' && run.status !== 'failed'; waited += 250) {
      await delay(250);
      run = await scheduler.runs.get(id);
    }
    const history = `history ${run.attempts.map((a) => `${a.attempt}:${a.outcome}`).join(', ')}; executions ${executions.join(', ')}`;
    const stale = executions.filter((e) => e.endsWith(':completed') && Number(e.split(':')[0]) !== (run.status === 'completed' ? run.attempt : -1));
    return {
      lost: run.status === 'completed' ? null : `the run ended ${run.status} at attempt ${run.attempt} after a 2.5 s slow-down of the lock store (${history})`,
      duplicated: stale.length > 0 ? `attempts ${stale.map((e) => e.split(':')[0]).join(', ')} ran to completion after their leases were gone, beside the next attempt, instead of being aborted (${history})` : null,
      leaseLost: run.attempt > 1 ? `a 2.5 s slow-down of the lock store cost the run its store lease (${history})` : null,
    };
  } finally {
    await scheduler.stop();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const findings = await slowLockRenewal();
  console.log(`lost run:            ${findings.lost ? `REPRODUCED: ${findings.lost}` : 'not reproduced'}`);
  console.log(`concurrent attempts: ${findings.duplicated ? `REPRODUCED: ${findings.duplicated}` : 'not reproduced'}`);
  console.log(`lease lost:          ${findings.leaseLost ? `REPRODUCED: ${findings.leaseLost}` : 'not reproduced'}`);
  if (findings.lost || findings.duplicated || findings.leaseLost) process.exitCode = 1;
}
