/**
 * Reproduction: overlap `queue` skips a run that is being taken over, so a slot whose handler
 * already ran (and was cut short when its holder's lease expired) ends `skipped` and never
 * completes: "handlers run at least once" does not hold for it.
 *
 * src/overlap.ts anotherWaits(): a scheduled run within its misfire grace counts as "fresh", and
 * is skipped when an older run of the trigger waits, even when it is at attempt 2 or later
 * (`run.attempts` ends with `lease_expired`). The suite's redis-restart scenario met it in the
 * full setting (28 runs "ended skipped at attempt 2, history 1:lease_expired" after a 5 s Redis
 * outage); here the situation is built directly: another instance holds the trigger lock, an
 * older slot's run waits for its retry, and the run of the next slot comes back from a dead
 * holder.
 *
 *   node --import tsx test/reliability/repro/queue-skips-taken-over-run.ts
 */
import { setTimeout as delay } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { z } from 'zod';
import { createScheduler, memoryLockStore, memoryStore, type RunRecord, type TriggerRecord } from 'punctual';

function slotRun(trigger: TriggerRecord, slot: number, fields: Partial<RunRecord>): RunRecord {
  const at = new Date(slot);
  return {
    id: `${trigger.id}@${at.toISOString()}`, triggerId: trigger.id, triggerName: trigger.name, owner: trigger.owner, taskType: trigger.taskType,
    payload: {}, source: 'schedule', status: 'pending', priority: 0, scheduledFor: at, availableAt: at, attempt: 0, maxAttempts: 4,
    timeoutMs: 60_000, overlap: 'queue', lease: null, startedAt: null, finishedAt: null, durationMs: null, instanceId: null,
    cancelRequested: false, attempts: [], createdAt: at, expiresAt: null, ...fields,
  };
}

/** What went wrong, or null when the taken-over run was not skipped. */
export async function queueSkipsTakenOverRun(): Promise<string | null> {
  const store = memoryStore();
  const locks = memoryLockStore();
  const scheduler = createScheduler({
    store,
    lockStore: locks,
    leaseMs: 1_000,
    pollIntervalMs: 100,
    metricsIntervalMs: 0,
    handlers: { work: { schema: z.object({}), run: async () => undefined } },
  });
  try {
    const trigger = await scheduler.triggers.create({ name: 'queued', owner: 'repro', taskType: 'work', payload: {}, schedule: { every: '1h' }, overlap: 'queue', paused: true });
    const now = Date.now();
    // Another instance runs this trigger and holds its lock.
    await locks.acquire({ resource: `trigger:${trigger.id}`, owner: 'other-instance', token: 'other', ttlMs: 60_000, now: new Date(now) });
    // The slot before waits (for its retry backoff, then for that lock); the next slot was
    // running on an instance that died.
    const waiting = slotRun(trigger, now - 2_000, { attempt: 1, availableAt: new Date(now + 60_000) });
    const startedAt = new Date(now - 1_500);
    const takenOver = slotRun(trigger, now - 1_000, {
      status: 'running', attempt: 1, startedAt, instanceId: 'dead-instance',
      lease: { token: 'dead', instanceId: 'dead-instance', expiresAt: new Date(now - 500) },
    });
    await store.insertRuns([waiting, takenOver]);
    await scheduler.start();
    await delay(1_500);
    const run = await scheduler.runs.get(takenOver.id);
    const history = run.attempts.map((a) => `${a.attempt}:${a.outcome}`).join(', ');
    return run.status === 'skipped' ? `the run of slot ${takenOver.scheduledFor.toISOString()}, started by a holder that died, ended skipped (history ${history}; error ${run.error?.message})` : null;
  } finally {
    await scheduler.stop();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const finding = await queueSkipsTakenOverRun();
  console.log(finding ? `REPRODUCED: ${finding}` : 'not reproduced');
  if (finding) process.exitCode = 1;
}
