/**
 * The reliability suite's MongoDB mode: the store's guarantees on a real replica set, with
 * separate OS processes. Runs when MONGODB_URI names a replica set member; otherwise it is
 * skipped with one line saying why (a failure with REQUIRE_MONGODB=1).
 * - exactly-once: four processes fire 1 s interval triggers; every slot has one run, completed,
 *   executed once.
 * - sigkill: a process holding long runs is killed; the others take them over after the lease
 *   (attempt 2), each run executed once per attempt.
 * - step-down: the primary steps down (replSetStepDown, forced) while four processes fire and
 *   run; afterwards the same exactly-once checks hold.
 */
import { setTimeout as delay } from 'node:timers/promises';
import type { RunRecord } from 'punctual';
import type { ScenarioResult } from '../harness.js';
import type { Settings } from '../settings.js';
import { TASK } from '../tasks.js';
import { MongoCluster, whyNoReplicaSet, type Observation } from './mongo-cluster.js';

type MongoScenario = (cluster: MongoCluster, settings: Settings, result: ScenarioResult) => Promise<void>;

export const MONGO_SCENARIOS = ['mongo-exactly-once', 'mongo-sigkill', 'mongo-step-down'];

/** Runs the MongoDB scenarios among `only` against MONGODB_URI, or returns [] after saying why they are skipped. */
export async function mongoScenarios(settings: Settings, only: readonly string[] = MONGO_SCENARIOS): Promise<ScenarioResult[]> {
  const scenarios: Record<string, MongoScenario> = { 'mongo-exactly-once': exactlyOnce, 'mongo-sigkill': sigkill, 'mongo-step-down': stepDown };
  const names = MONGO_SCENARIOS.filter((name) => only.includes(name));
  if (names.length === 0) return [];
  const uri = process.env.MONGODB_URI;
  const why = await whyNoReplicaSet(uri);
  if (why && process.env.REQUIRE_MONGODB === '1') {
    return [{ name: 'mongo', figures: {}, details: [], violations: [`REQUIRE_MONGODB=1, but the MongoDB scenarios cannot run: ${why}`], notes: [], durationMs: 0 }];
  }
  if (why) {
    console.log(`\nMongoDB scenarios skipped: ${why}; set MONGODB_URI=mongodb://localhost:27017/?replicaSet=rs0 to run them.`);
    return [];
  }
  const results: ScenarioResult[] = [];
  for (const name of names) {
    console.log(`\n== ${name}`);
    const result: ScenarioResult = { name, figures: {}, details: [], violations: [], notes: [], durationMs: 0 };
    const started = Date.now();
    const cluster = await MongoCluster.create(uri as string, settings);
    try {
      await (scenarios[name] as MongoScenario)(cluster, settings, result);
    } catch (error) {
      result.violations.push(`scenario failed: ${error instanceof Error ? error.stack : String(error)}`);
    } finally {
      const errors = await cluster.close();
      result.details.push(['store errors per process', errors.map((e, i) => `m${i} ${JSON.stringify(e)}`).join(', ')]);
      for (const w of cluster.workers) {
        const exit = await w.exited;
        if (exit.code !== 0 && exit.signal !== 'SIGKILL') result.violations.push(`${w.name} crashed (${exit.code ?? exit.signal})`);
      }
      result.durationMs = Date.now() - started;
    }
    results.push(result);
  }
  return results;
}

const SLOT_MS = 1_000;

/** Interval triggers for every worker to fire, running `sleepMs` each. */
async function createTriggers(cluster: MongoCluster, count: number, sleepMs: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const trigger = await cluster.admin.triggers.create({ name: `every-${i}`, owner: 'reliability', taskType: TASK, payload: { sleepMs }, schedule: { every: SLOT_MS }, overlap: 'allow' });
    ids.push(trigger.id);
  }
  return ids;
}

/** Pauses the triggers and waits until no run is pending or running. */
async function drain(cluster: MongoCluster, triggerIds: readonly string[], settings: Settings, result: ScenarioResult): Promise<RunRecord[]> {
  for (const id of triggerIds) await cluster.admin.triggers.pause(id);
  const idle = await cluster.until(async () => (await cluster.runs()).every((r) => r.status !== 'pending' && r.status !== 'running'), 4 * settings.leaseMs + 30_000);
  if (!idle) result.violations.push('runs still pending or running 30 s after the triggers were paused');
  return cluster.runs();
}

/** Every slot between a trigger's first and last run has one run, completed, executed once per attempt. */
function checkExactlyOnce(runs: readonly RunRecord[], observed: readonly Observation[], triggerIds: readonly string[], result: ScenarioResult): void {
  const executions = new Map<string, Observation[]>();
  for (const o of observed) executions.set(o.runId, [...(executions.get(o.runId) ?? []), o]);
  let lost = 0;
  let duplicates = 0;
  for (const id of triggerIds) {
    const slots = runs.filter((r) => r.triggerId === id && r.source === 'schedule').map((r) => new Date(r.scheduledFor).getTime()).sort((a, b) => a - b);
    for (let i = 1; i < slots.length; i++) lost += Math.round(((slots[i] as number) - (slots[i - 1] as number)) / SLOT_MS) - 1;
  }
  for (const run of runs) {
    if (run.status !== 'completed') result.violations.push(`run ${run.id} ended ${run.status}`);
    const seen = (executions.get(run.id) ?? []).map((o) => o.attempt).sort((a, b) => a - b);
    const expected = Array.from({ length: run.attempt }, (_, i) => i + 1);
    if (JSON.stringify(seen) !== JSON.stringify(expected)) {
      duplicates += Math.max(0, seen.length - expected.length);
      result.violations.push(`run ${run.id} (attempt ${run.attempt}) executed as attempts [${seen.join(',')}]`);
    }
  }
  if (lost > 0) result.violations.push(`${lost} slot(s) without a run`);
  Object.assign(result.figures, { slots: runs.filter((r) => r.source === 'schedule').length, runs: runs.length, executions: observed.length, duplicates, lost });
}

async function exactlyOnce(cluster: MongoCluster, settings: Settings, result: ScenarioResult): Promise<void> {
  await Promise.all(cluster.workers.map((w) => w.start()));
  const triggerIds = await createTriggers(cluster, 20, 20);
  await delay(settings.name === 'short' ? 20_000 : 60_000);
  const runs = await drain(cluster, triggerIds, settings, result);
  checkExactlyOnce(runs, await cluster.observations(), triggerIds, result);
  for (const w of cluster.workers) if (!runs.some((r) => r.instanceId === w.instanceId)) result.violations.push(`${w.name} completed no run: it took no part`);
}

async function sigkill(cluster: MongoCluster, settings: Settings, result: ScenarioResult): Promise<void> {
  const [victim, ...survivors] = cluster.workers;
  if (!victim) throw new Error('no worker');
  await victim.start();
  const hold = await cluster.admin.triggers.create({ name: 'hold', owner: 'reliability', taskType: TASK, payload: { sleepMs: 6_000 }, schedule: { manual: true }, overlap: 'allow' });
  victim.send({ type: 'run-now', triggerId: hold.id, count: 4 });
  const ran = await victim.next();
  const holdIds = ran.type === 'ran' ? ran.runIds : [];
  const holdRuns = async () => (await cluster.runs()).filter((r) => holdIds.includes(r.id));
  if (!(await cluster.until(async () => (await holdRuns()).every((r) => r.status === 'running' && r.instanceId === victim.instanceId), 10_000))) {
    throw new Error('the victim did not start its long runs within 10 s');
  }
  await Promise.all(survivors.map((w) => w.start()));
  const killAt = Date.now();
  victim.process.kill('SIGKILL');
  await victim.exited;
  const done = await cluster.until(async () => (await holdRuns()).every((r) => r.status === 'completed'), settings.leaseMs + 30_000);
  if (!done) result.violations.push(`the long runs were not completed after the kill: ${(await holdRuns()).map((r) => `${r.status}@${r.attempt}`).join(', ')}`);
  result.figures.recoveryMs = Date.now() - killAt;
  const observed = await cluster.observations();
  for (const run of await holdRuns()) {
    const executions = observed.filter((o) => o.runId === run.id);
    const ok = run.attempt === 2 && run.attempts[0]?.outcome === 'lease_expired' && executions.length === 2 &&
      executions.some((o) => o.attempt === 1 && o.pid === victim.pid) && executions.some((o) => o.attempt === 2 && o.pid !== victim.pid);
    if (!ok) result.violations.push(`long run ${run.id}: attempt ${run.attempt}, executions ${executions.map((o) => `${o.attempt}@${o.instance}`).join(',')}`);
  }
  result.figures.takeovers = holdIds.length;
}

async function stepDown(cluster: MongoCluster, settings: Settings, result: ScenarioResult): Promise<void> {
  await Promise.all(cluster.workers.map((w) => w.start()));
  const triggerIds = await createTriggers(cluster, 20, 20);
  await delay(8_000);
  const at = Date.now();
  // The primary closes its connections while stepping down: the command itself may fail.
  await cluster.client.db('admin').command({ replSetStepDown: 5, secondaryCatchUpPeriodSecs: 0, force: true }).catch((error: unknown) => {
    result.details.push(['replSetStepDown answered', error instanceof Error ? error.message : String(error)]);
  });
  const back = await cluster.until(async () => (await cluster.client.db('admin').command({ hello: 1 })).isWritablePrimary === true, 60_000);
  if (!back) throw new Error('no writable primary within 60 s of the step-down');
  result.figures.outageMs = Date.now() - at;
  await delay(10_000);
  const runs = await drain(cluster, triggerIds, settings, result);
  checkExactlyOnce(runs, await cluster.observations(), triggerIds, result);
}
