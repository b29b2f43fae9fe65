/**
 * Creating a scenario's triggers from their shapes, and pausing them all at the end. The first
 * slot of each trigger (its `nextFireAt` right after creation) is kept: with the final
 * `nextFireAt` after the pause it bounds the slots the trigger must have run.
 */
import type { Scheduler, TriggerRecord } from 'punctual';
import type { taskSchemas } from './tasks.js';
import { TASK } from './tasks.js';
import type { TriggerShape } from './settings.js';

export interface Workload {
  /** Triggers with a time schedule (interval, cron). */
  scheduled: TriggerRecord[];
  /** Manual-only triggers (targets of `runNow`). */
  manual: TriggerRecord[];
  /** Trigger id -> its first slot, epoch ms. */
  firstSlots: Map<string, number>;
}

type Admin = Scheduler<typeof taskSchemas>;

/** Runs `task` over `items`, `width` at a time. */
export async function inBatches<T, R>(items: readonly T[], width: number, task: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results: R[] = [];
  for (let i = 0; i < items.length; i += width) {
    results.push(...(await Promise.all(items.slice(i, i + width).map((item, j) => task(item, i + j)))));
  }
  return results;
}

function sleepOf(shape: TriggerShape, i: number): number {
  if (typeof shape.sleepMs === 'number') return shape.sleepMs;
  const [min, max] = shape.sleepMs;
  return Math.round(min + ((max - min) * (i % 10)) / 9);
}

export async function createWorkload(admin: Admin, shapes: TriggerShape[], manualTriggers = 0, manualSleepMs = 20): Promise<Workload> {
  const inputs = shapes.flatMap((shape, s) =>
    Array.from({ length: shape.count }, (_, i) => ({
      name: `s${s}-t${i}`,
      owner: 'reliability',
      taskType: shape.taskType ?? TASK,
      payload: { sleepMs: sleepOf(shape, i) },
      schedule: shape.schedule,
      overlap: shape.overlap,
      misfire: 'all' as const,
      ...(shape.misfireGraceMs !== undefined ? { misfireGraceMs: shape.misfireGraceMs } : {}),
    })),
  );
  const scheduled = await inBatches(inputs, 10, (input) => admin.triggers.create(input));
  const manual = await inBatches(Array.from({ length: manualTriggers }, (_, i) => i), 10, (i) =>
    admin.triggers.create({ name: `manual-${i}`, owner: 'reliability', taskType: TASK, payload: { sleepMs: manualSleepMs }, schedule: { manual: true }, overlap: 'queue' }),
  );
  const firstSlots = new Map<string, number>();
  for (const trigger of scheduled) {
    if (trigger.nextFireAt) firstSlots.set(trigger.id, trigger.nextFireAt.getTime());
  }
  return { scheduled, manual, firstSlots };
}

/** Pauses every scheduled trigger; resolves with the instant the last pause was stored. */
export async function pauseAll(admin: Admin, workload: Workload): Promise<number> {
  await inBatches(workload.scheduled, 10, (trigger) => admin.triggers.pause(trigger.id, { actor: 'reliability' }));
  return Date.now();
}
