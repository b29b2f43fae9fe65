/**
 * Deployments.
 *
 * - rolling-deploy: four processes handle both task types (`record`, `record-v2`); after a few
 *   seconds of traffic (interval and cron triggers of both types, manual runs of both) a fifth
 *   process joins whose handlers lack `record-v2`, as an instance of the previous deploy would.
 *   Proves: no run fails and none is lost or duplicated (checks.ts); every `record-v2` execution
 *   was on a process with its handler; the joining process took part (ran `record` runs); its
 *   `health()` showed no error.
 * - worker-survives-restart: dedicated worker processes (test/support/dedicated-worker.ts: a
 *   started scheduler and nothing else holding the event loop, no IPC channel) on a private
 *   PostgreSQL that is stopped for a few seconds and started again. Proves: every process is
 *   still alive after the outage, reported `degraded` during it, and slots due after the restart
 *   run (once each); after SIGTERM (`stop()`) each exits by itself with code 0.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { DedicatedWorker, within, type Line } from '../../support/dedicated-worker-process.js';
import { Worker } from '../cluster.js';
import { finish, scenario, type Environment, type ScenarioResult } from '../harness.js';
import type { Settings } from '../settings.js';
import { TASK, TASK_V2 } from '../tasks.js';
import { createWorkload } from '../workload.js';
import { outage } from './outages.js';

async function runRollingDeploy(env: Environment): Promise<void> {
  const { db, workers, result, log, settings } = env;
  const s = settings.rollingDeploy;
  await Promise.all(workers.map((w) => w.start()));
  const workload = await createWorkload(db.admin, s.triggers, 0);
  const manualV1 = workload.scheduled.filter((t) => t.taskType === TASK).slice(0, 3);
  const manualV2 = workload.scheduled.filter((t) => t.taskType === TASK_V2).slice(0, 3);
  const trafficFrom = Date.now();
  for (const w of workers) w.send({ type: 'manual', triggerIds: [...manualV1, ...manualV2].map((t) => t.id), everyMs: s.manualEveryMs });
  log(`${workload.scheduled.length} triggers of ${TASK} and ${TASK_V2}; a process without a ${TASK_V2} handler joins in ${s.beforeMs} ms`);
  await delay(s.beforeMs);

  // The joining process: the same configuration, minus the handler of the newer task type.
  const template = workers[0]?.config;
  if (!template) throw new Error('no worker to copy the configuration from');
  const joining = new Worker({ ...template, index: workers.length, taskTypes: [TASK] });
  workers.push(joining);
  await joining.next('ready', 60_000);
  await joining.start();
  joining.send({ type: 'manual', triggerIds: manualV1.map((t) => t.id), everyMs: s.manualEveryMs });
  log(`${joining.name} (pid ${joining.pid}, handlers: ${TASK} only) joined`);
  await delay(s.afterMs);

  const ending = await finish(env, workload);
  result.figures.throughput = Math.round(ending.accounting.completed / ((ending.pausedAt - trafficFrom) / 1_000));
  const runs = await db.runs();
  const observed = await db.observed();
  const taskTypeOf = new Map(workload.scheduled.map((t) => [t.id, t.taskType]));
  const wrong = observed.filter((o) => o.instance === joining.instanceId && taskTypeOf.get(o.triggerId) === TASK_V2);
  for (const o of wrong.slice(0, 10)) result.violations.push(`${joining.name} executed ${o.runId} (${TASK_V2}) without a handler for it`);
  const failed = runs.filter((r) => r.status === 'failed');
  for (const r of failed.slice(0, 10)) result.violations.push(`run ${r.id} failed: ${r.error?.name}: ${r.error?.message}`);
  const byJoining = observed.filter((o) => o.instance === joining.instanceId).length;
  if (byJoining === 0) result.violations.push(`${joining.name} executed no run: it took no part`);
  const unhealthy = joining.health.filter((h) => h.status !== 'ok');
  if (unhealthy.length > 0) result.violations.push(`${joining.name} health() was ${unhealthy.map((h) => `${h.status} (${h.error ?? ''})`).join(', ')}`);
  const v2Runs = runs.filter((r) => taskTypeOf.get(r.triggerId) === TASK_V2);
  result.details.unshift(
    ['traffic', `${workload.scheduled.length} triggers (${v2Runs.length} ${TASK_V2} runs), ${workers.length - 1} processes with both handlers, ${joining.name} with ${TASK} only after ${s.beforeMs} ms, then ${s.afterMs} ms`],
    ['failed runs', String(failed.length)],
    [`executions on ${joining.name}`, `${byJoining} (${TASK} only; ${wrong.length} of ${TASK_V2})`],
  );
}

export function rollingDeploy(settings: Settings): Promise<ScenarioResult> {
  return scenario('rolling-deploy', settings, {}, runRollingDeploy);
}

async function runWorkerRestart(env: Environment): Promise<void> {
  const { db, result, log, settings, servers } = env;
  if (!servers) throw new Error('worker-survives-restart needs its private PostgreSQL');
  const { processes, outageMs } = settings.workerRestart;
  const dedicated = Array.from({ length: processes }, () => new DedicatedWorker(servers.postgres.url, db.schema, true));
  try {
    await Promise.all(dedicated.map((w) => w.next((l) => l.type === 'ready', 'ready')));
    await dedicated[0]?.next((l) => l.type === 'ran', 'a first run');
    log(`${processes} dedicated worker processes (pids ${dedicated.map((w) => w.pid).join(', ')}) running an every-second trigger`);
    const window = await outage(env, 'PostgreSQL', outageMs);
    const dead = dedicated.filter((w) => !w.alive);
    for (const w of dead) result.violations.push(`pid ${w.pid} exited during the outage (code ${await w.exited})`);
    const degraded = (w: DedicatedWorker): Line | undefined => w.lines.find((l) => l.type === 'health' && l.status === 'degraded' && l.at >= window.downAt);
    for (const w of dedicated.filter((x) => !degraded(x))) result.violations.push(`pid ${w.pid} never reported degraded during the outage`);
    // Two slots after the restart, wherever they ran.
    const after = (): Line[] => dedicated.flatMap((w) => w.lines.filter((l) => l.type === 'ran' && (l.scheduledFor ?? 0) >= window.upAt));
    for (let i = 0; i < 100 && after().length < 2; i++) await delay(100);
    if (after().length < 2) result.violations.push('no slot due after the restart ran within 10 s');
    const stillAlive = dedicated.filter((w) => w.alive).length;

    for (const w of dedicated) w.terminate();
    const exits = await Promise.all(dedicated.map((w) => within(w.exited, 30_000, `pid ${w.pid} exiting after stop()`).catch(() => 'hang' as const)));
    exits.forEach((code, i) => {
      if (code !== 0) result.violations.push(`pid ${dedicated[i]?.pid} ${code === 'hang' ? 'did not exit within 30 s of stop()' : `exited with ${code} after stop()`}`);
    });
    const ran = dedicated.flatMap((w) => w.lines.filter((l) => l.type === 'ran'));
    const runIds = ran.map((l) => l.runId);
    const repeated = runIds.length - new Set(runIds).size;
    if (repeated > 0) result.violations.push(`${repeated} runs executed more than once`);
    const runs = await db.runs();
    const open = runs.filter((r) => r.status !== 'completed');
    for (const r of open.slice(0, 5)) result.violations.push(`run ${r.id} ended ${r.status}`);
    Object.assign(result.figures, { runs: runs.length, executions: ran.length, duplicates: repeated, outageMs: window.upAt - window.downAt });
    result.details.push(
      ['processes alive after the outage', `${stillAlive} of ${processes}`],
      ['health() degraded', dedicated.map((w) => `pid ${w.pid} ${degraded(w) ? `+${(degraded(w)?.at ?? 0) - window.downAt} ms after the stop` : 'never'}`).join('; ')],
      ['exit after stop()', exits.map((code) => String(code)).join(', ')],
    );
  } finally {
    for (const w of dedicated) w.kill();
  }
}

export function workerSurvivesRestart(settings: Settings): Promise<ScenarioResult> {
  return scenario('worker-survives-restart', settings, { private: true, processes: 0 }, runWorkerRestart);
}
