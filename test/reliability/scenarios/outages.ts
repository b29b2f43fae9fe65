/**
 * Scenarios 3 and 4, a server restart in the middle of runs: four processes run interval and
 * cron triggers (misfire `all`, so every slot due during the outage is still expected) plus
 * manual runs; some handlers take 0.5-1.5 s, so runs are executing when the server goes down.
 * The server stays down a few seconds and comes back. Then: no process crashed (each is alive
 * and exits 0 when stopped), nothing is lost or duplicated (checks.ts), and everything due
 * during the outage ran after it (catch-up time).
 *
 * - PostgreSQL: `health()` must report `degraded` during the outage and `ok` after it, in every
 *   process (each polls it every 200 ms and reports transitions).
 * - Redis (`lockStore: redisLockStore(redis)`, overlap `queue`, so every run takes its trigger's
 *   lock): ioredis must reconnect by itself. The servers keep no data on disk, so the restart
 *   loses every lock: a probe holds a trigger lock across it while a second run of that trigger
 *   waits. Two runs of one trigger may then overlap only until the holder's next lock renewal
 *   (leaseMs / 3), when it must learn that its lock is gone.
 *
 * In both, runs of a trigger with overlap `queue` must not overlap for longer than that.
 * Both run on private servers started for the scenario (services.ts): only those are restarted.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { overlappingExecutions } from '../checks.js';
import type { Worker } from '../cluster.js';
import type { ObservedRow, RunRow } from '../database.js';
import { finish, scenario, type Environment, type ScenarioResult } from '../harness.js';
import { startServer, stopServer } from '../services.js';
import type { Outage, Settings } from '../settings.js';
import { TASK } from '../tasks.js';
import { createWorkload } from '../workload.js';

export interface Window {
  downAt: number;
  upAt: number;
}

/**
 * Takes the scenario's private server down for `outageMs`; always brings it back, even when
 * stopping failed half-way. The window runs from the last instant the server was seen up to
 * the first it may have been back. Exported for the other scenarios that restart a server.
 */
export async function outage(env: Environment, server: 'PostgreSQL' | 'Redis', outageMs: number): Promise<Window> {
  const target = server === 'PostgreSQL' ? env.servers?.postgres : env.servers?.redis;
  if (!target) throw new Error(`the scenario has no private ${server} to restart (scenario options: private${server === 'Redis' ? ', redis' : ''})`);
  const stopAt = Date.now();
  let downAt: number;
  let upAt: number;
  try {
    downAt = await stopServer(target, server);
    env.log(`${server} down (${Date.now() - stopAt} ms to stop, up until +${downAt - stopAt} ms)`);
    await delay(Math.max(0, outageMs - (Date.now() - downAt)));
  } finally {
    // In the finally block so a failed stop still ends with the server up.
    upAt = await startServer(target, server);
  }
  env.log(`${server} back after ${upAt - downAt} ms`);
  return { downAt, upAt };
}

/**
 * Slots due during the outage, and how long after the restart the last run due before it
 * completed (the lock probe's runs, which sleep for seconds on purpose, left out).
 */
function catchUp(runs: RunRow[], window: Window, exclude: string | undefined): { dueDuring: number; catchUpMs: number } {
  const dueDuring = runs.filter((r) => r.source === 'schedule' && r.scheduledFor >= window.downAt && r.scheduledFor < window.upAt).length;
  const finished = runs.filter((r) => r.triggerId !== exclude && r.scheduledFor < window.upAt).map((r) => r.finishedAt ?? Number.POSITIVE_INFINITY);
  return { dueDuring, catchUpMs: Math.max(0, Math.max(...finished) - window.upAt) };
}

/**
 * How each process's `health()` went through the outage: when it turned degraded, and when ok
 * again, relative to the stop and the restart. `throughout`: degraded from the outage's first
 * second until the server was back (250 ms of slack: the suite sees the restart by polling).
 */
function healthThrough(w: Worker, window: Window): { degraded: boolean; recovered: boolean; throughout: boolean; text: string } {
  const during = w.health.find((t) => t.status === 'degraded' && t.at >= window.downAt && t.at <= window.upAt + 2_000);
  const okAgain = w.health.find((t) => t.status === 'ok' && t.at >= (during?.at ?? window.upAt));
  const throughout = during !== undefined && during.at <= window.downAt + 1_000 && (okAgain === undefined || okAgain.at >= window.upAt - 250);
  const signed = (ms: number): string => (ms < 0 ? `${ms}` : `+${ms}`);
  const text = during
    ? `${w.name} degraded ${signed(during.at - window.downAt)} ms after the stop, ok ${okAgain ? `${signed(okAgain.at - window.upAt)} ms after the restart` : 'never again'}`
    : `${w.name} never degraded`;
  return { degraded: during !== undefined, recovered: okAgain !== undefined, throughout, text };
}

async function runOutage(env: Environment, server: 'PostgreSQL' | 'Redis', o: Outage): Promise<void> {
  const { db, workers, result, log, settings } = env;
  await Promise.all(workers.map((w) => w.start()));
  const workload = await createWorkload(db.admin, o.triggers, 4);
  const trafficFrom = Date.now();
  const targets = [...workload.manual, ...workload.scheduled.filter((_, i) => i % 10 === 0)].map((t) => t.id);
  for (const w of workers) w.send({ type: 'manual', triggerIds: targets, everyMs: o.manualEveryMs });
  log(`${workload.scheduled.length} scheduled and ${workload.manual.length} manual triggers; ${server} goes down in ${o.beforeMs} ms`);

  const probe = server === 'Redis' ? await startLockProbe(env, o) : null;
  await delay(probe ? Math.max(0, o.beforeMs - (Date.now() - trafficFrom)) : o.beforeMs);
  const window = await outage(env, server, o.outageMs);
  await delay(o.afterMs);

  for (const w of workers) if (!w.alive) result.violations.push(`${w.name} (pid ${w.pid}) died during the ${server} outage: exit ${w.exit?.code ?? w.exit?.signal}`);
  const ending = await finish(env, workload, server === 'Redis' ? { allowOverlapSkips: true } : {});
  const runs = await db.runs();
  const { dueDuring, catchUpMs } = catchUp(runs, window, probe?.triggerId);
  result.figures.outageMs = window.upAt - window.downAt;
  result.figures.catchUpMs = catchUpMs;
  result.figures.throughput = Math.round(ending.accounting.completed / ((ending.pausedAt - trafficFrom) / 1_000));
  const health = workers.map((w) => healthThrough(w, window));
  result.details.unshift(
    ['outage', `${server} down ${window.upAt - window.downAt} ms, after ${o.beforeMs} ms of traffic, followed by ${o.afterMs} ms`],
    ['slots due during the outage', `${dueDuring}, all run late (catch-up ${catchUpMs} ms after the restart)`],
    ['health()', health.map((h) => h.text).join('; ')],
  );

  // One run at a time per trigger (overlap `queue`). A holder whose lock vanished (Redis lost
  // its data) can only learn it at its next renewal, every leaseMs / 3: that long both may run.
  const observed = await db.observed();
  const bound = Math.floor(settings.leaseMs / 3) + 500;
  const overlaps = overlappingExecutions(runs, observed);
  const tooLong = overlaps.filter((o) => o.ms > bound);
  for (const o of tooLong.slice(0, 10)) result.violations.push(`two runs of one trigger ran at once for more than ${bound} ms (overlap queue): ${o.text}`);
  if (tooLong.length > 10) result.violations.push(`... and ${tooLong.length - 10} more overlapping executions`);
  result.details.push([
    'overlapping runs of one trigger',
    overlaps.length === 0 ? 'none' : `${overlaps.length}, longest ${Math.max(...overlaps.map((o) => o.ms))} ms (allowed: ${bound} ms, one lock renewal)`,
  ]);

  if (server === 'PostgreSQL') {
    const outageS = (window.upAt - window.downAt) / 1_000;
    const perSecond = (operation: string): number =>
      Math.round(ending.summaries.reduce((n, s) => n + (s.errors[operation] ?? 0), 0) / Math.max(1, ending.summaries.length) / outageS);
    const fireRate = perSecond('dispatcher:fireSlots');
    result.details.push(['failed store calls per process per second of outage', `fireSlots ${fireRate}, claimRuns ${perSecond('executor:claimRuns')}, findDueTriggers ${perSecond('dispatcher:findDueTriggers')}`]);
    if (fireRate > 20) {
      result.notes.push(`the dispatcher retries a failed fireSlots at once, without backoff: ${fireRate} failed attempts (and scheduler:error events) per process per second while PostgreSQL was down`);
    }
    for (const [i, h] of health.entries()) {
      if (!h.degraded) result.violations.push(`${workers[i]?.name}: health() never reported degraded during the PostgreSQL outage`);
      else if (!h.throughout) result.violations.push(`${workers[i]?.name}: health() did not report degraded for the whole PostgreSQL outage (${h.text})`);
      else if (!h.recovered) result.violations.push(`${workers[i]?.name}: health() stayed degraded after PostgreSQL came back`);
    }
  } else {
    for (const w of workers) {
      if (!w.redisEvents.some((e) => e.event === 'ready' && e.at >= window.downAt)) result.violations.push(`${w.name}: ioredis did not reconnect after the restart`);
    }
    const lockErrors = ending.summaries.reduce((n, s) => n + (s.errors['executor:lock.acquire'] ?? 0), 0);
    result.details.push(
      ['ioredis reconnections', workers.map((w) => `${w.name} +${(w.redisEvents.find((e) => e.event === 'ready' && e.at >= window.downAt)?.at ?? NaN) - window.upAt} ms`).join(', ')],
      ['lock acquisitions refused by the outage (runs deferred)', String(lockErrors)],
      ['lock probe (a run holding its trigger lock across the restart)', probe ? probe.report(observed) : 'not run'],
      ['runs skipped by overlap queue (a run of the trigger was waiting)', skippedByPhase(runs, window)],
    );
    const hidden = workers.filter((_, i) => !health[i]?.throughout).map((w) => w.name);
    if (hidden.length > 0) {
      result.notes.push(`health() did not show the Redis outage in ${hidden.join(', ')}: it pings the store only, and the next successful store operation clears a lock-store error`);
    }
    if (ending.accounting.takeovers > 0) {
      const n = ending.accounting.takeovers;
      result.notes.push(
        `${n} run${n === 1 ? ' was' : 's were'} taken over although PostgreSQL was up and no process died: a live holder's lease expired (lock renewals held up by the outage delay lease renewals: repro/slow-lock-renewal.ts)`,
      );
    }
  }
}

function skippedByPhase(runs: RunRow[], window: Window): string {
  const skipped = runs.filter((r) => r.status === 'skipped');
  const before = skipped.filter((r) => r.scheduledFor < window.downAt).length;
  const during = skipped.filter((r) => r.scheduledFor >= window.downAt && r.scheduledFor < window.upAt).length;
  return `${skipped.length}: ${before} due before the outage, ${during} during, ${skipped.length - before - during} after`;
}

/**
 * Starts a run that holds its trigger's lock across the Redis restart (it sleeps through the
 * outage and 4 s beyond), then a second run of the same trigger on another process, which must
 * wait for the lock. If the second one starts before the first ended, the trigger ran twice at once.
 */
async function startLockProbe(env: Environment, o: Outage): Promise<{ triggerId: string; report: (observed: ObservedRow[]) => string }> {
  const { db, workers } = env;
  const [first, second] = workers as [Worker, Worker];
  const sleepMs = o.beforeMs + o.outageMs + 4_000;
  const trigger = await db.admin.triggers.create({ name: 'lock-probe', owner: 'reliability', taskType: TASK, payload: { sleepMs }, schedule: { manual: true }, overlap: 'queue' });
  const ranA = first.next('ran');
  first.send({ type: 'run-now', triggerId: trigger.id, count: 1 });
  const [a] = (await ranA).runIds;
  await db.until(async () => (await db.runs()).some((r) => r.id === a && r.status === 'running'), 5_000);
  const ranB = second.next('ran');
  second.send({ type: 'run-now', triggerId: trigger.id, count: 1 });
  const [b] = (await ranB).runIds;
  return {
    triggerId: trigger.id,
    report: (observed) => {
      const execA = observed.find((row) => row.runId === a);
      const execB = observed.find((row) => row.runId === b);
      if (!execA || !execB) return `incomplete: A executed ${execA !== undefined}, B executed ${execB !== undefined}`;
      const gap = execB.startedAt - (execA.endedAt ?? execA.startedAt + execA.sleepMs);
      return gap >= 0 ? `B waited: started ${gap} ms after A ended` : `B started ${-gap} ms before A ended (A took the lock before the restart)`;
    },
  };
}

export function postgresRestart(settings: Settings): Promise<ScenarioResult> {
  return scenario('postgres-restart', settings, { private: true }, (env) => runOutage(env, 'PostgreSQL', settings.postgresOutage));
}

export function redisRestart(settings: Settings): Promise<ScenarioResult> {
  return scenario('redis-restart', settings, { redis: true, private: true }, (env) => runOutage(env, 'Redis', settings.redisOutage));
}
