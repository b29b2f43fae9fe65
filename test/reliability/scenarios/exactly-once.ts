/**
 * Scenario 1, exactly once across processes: four scheduler processes share one schema; interval
 * triggers (1 s, 2 s) and cron triggers with seconds (every 1, 2, 5 s) fire until the slot
 * target is reached, while every process calls `runNow` on manual-only triggers (overlap
 * `queue`, so they contend for the trigger lock) and on some scheduled ones. Then every slot
 * between each trigger's first slot and its pause must have exactly one run, completed, executed
 * once (see checks.ts), and no two runs of a manual-only trigger may have run at the same time.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { overlappingExecutions } from '../checks.js';
import { scenario, finish, type ScenarioResult } from '../harness.js';
import type { Settings, TriggerShape } from '../settings.js';
import { createWorkload } from '../workload.js';

/** Slots per second of a trigger mix, from a one-minute preview of each shape. */
function slotRate(preview: (shape: TriggerShape) => Date[], shapes: TriggerShape[]): number {
  return shapes.reduce((sum, shape) => sum + (shape.count * preview(shape).length) / 60, 0);
}

export function exactlyOnce(settings: Settings): Promise<ScenarioResult> {
  const s = settings.exactlyOnce;
  return scenario('exactly-once', settings, {}, async (env) => {
    const { db, workers, result, log } = env;
    await Promise.all(workers.map((w) => w.start()));
    const workload = await createWorkload(db.admin, s.triggers, s.manualTriggers);
    const trafficFrom = Date.now();
    const now = new Date();
    const minuteLater = now.getTime() + 60_000;
    const rate = slotRate((shape) => db.admin.preview(shape.schedule, 1_000, now).filter((d) => d.getTime() <= minuteLater), s.triggers);
    log(`${workload.scheduled.length} scheduled triggers (~${rate.toFixed(0)} slots/s) and ${workload.manual.length} manual ones; target ${s.slots} slots`);

    const targets = [...workload.manual, ...workload.scheduled.filter((_, i) => i % 10 === 0)].map((t) => t.id);
    for (const w of workers) w.send({ type: 'manual', triggerIds: targets, everyMs: s.manualEveryMs });

    const deadline = trafficFrom + (3 * s.slots * 1_000) / rate + 30_000;
    let lastLog = Date.now();
    for (let fired = 0; fired < s.slots; fired = await db.countRuns('schedule')) {
      if (Date.now() > deadline) {
        result.violations.push(`only ${fired} of ${s.slots} slots fired by the deadline (3x the expected time)`);
        break;
      }
      if (Date.now() - lastLog > 10_000) {
        log(`${fired} slots fired`);
        lastLog = Date.now();
      }
      await delay(500);
    }

    const { accounting, pausedAt } = await finish(env, workload);
    const runs = await db.runs().catch(() => []);
    const perInstance = new Map<string, number>();
    for (const run of runs) if (run.instanceId) perInstance.set(run.instanceId, (perInstance.get(run.instanceId) ?? 0) + 1);
    const windowS = (pausedAt - trafficFrom) / 1_000;
    result.figures.throughput = Math.round(accounting.completed / windowS);
    result.details.unshift(
      ['traffic window', `${windowS.toFixed(1)} s, ${workload.scheduled.length} scheduled + ${workload.manual.length} manual triggers, leaseMs ${settings.leaseMs}, pollIntervalMs ${settings.pollIntervalMs}`],
      ['completed runs per process', workers.map((w) => `${w.name} ${perInstance.get(w.instanceId) ?? 0}`).join(', ')],
    );
    for (const w of workers) {
      if (!perInstance.get(w.instanceId)) result.violations.push(`${w.name} completed no run: it took no part`);
    }
    // The manual-only triggers (overlap queue) take their lock in PostgreSQL, which loses nothing here: never two at once.
    const overlaps = overlappingExecutions(runs, await db.observed().catch(() => []));
    for (const o of overlaps.slice(0, 10)) result.violations.push(`two runs of one trigger ran at once (overlap queue): ${o.text}`);
    result.details.push(['overlapping runs of one trigger', String(overlaps.length)]);
  });
}
