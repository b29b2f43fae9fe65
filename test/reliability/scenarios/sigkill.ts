/**
 * Scenario 2, SIGKILL: one process starts alone and takes long runs (6 s handlers) of a manual
 * trigger; the three others join; the first is killed with SIGKILL while it holds them. The
 * survivors must recover each run once its lease expires and complete it as attempt 2 of the
 * same run id, with a `lease_expired` entry for attempt 1 in its history. The dead holder's
 * writes must be refused: the parent replays them with the old lease token (finish, renew,
 * progress), once while the new holder runs and once after it finished, and each must return
 * "not held" and change nothing.
 */
import { setTimeout as delay } from 'node:timers/promises';
import type { RunFinish } from 'punctual/store';
import type { RunRow } from '../database.js';
import { scenario, finish, type ScenarioResult } from '../harness.js';
import type { Settings } from '../settings.js';
import { TASK } from '../tasks.js';
import { createWorkload } from '../workload.js';

export function sigkill(settings: Settings): Promise<ScenarioResult> {
  const s = settings.sigkill;
  return scenario('sigkill', settings, {}, async (env) => {
    const { db, workers, result, log } = env;
    const [victim, ...survivors] = workers;
    if (!victim || survivors.length === 0) throw new Error('the SIGKILL scenario needs at least two processes');
    const violation = (message: string): void => void result.violations.push(message);

    await victim.start();
    const workload = await createWorkload(db.admin, s.triggers);
    const hold = await db.admin.triggers.create({
      name: 'hold', owner: 'reliability', taskType: TASK, payload: { sleepMs: s.holdMs }, schedule: { manual: true }, overlap: 'allow',
    });
    const ran = victim.next('ran');
    victim.send({ type: 'run-now', triggerId: hold.id, count: s.holdRuns });
    const holdIds = (await ran).runIds;
    const holdRuns = async (): Promise<RunRow[]> => (await db.runs()).filter((r) => holdIds.includes(r.id));
    const held = await db.until(async () => (await holdRuns()).every((r) => r.status === 'running' && r.instanceId === victim.instanceId), 10_000);
    if (!held) throw new Error(`${victim.name} did not start all ${s.holdRuns} long runs within 10 s`);

    await Promise.all(survivors.map((w) => w.start()));
    await delay(1_000);
    const before = new Map((await holdRuns()).map((r) => [r.id, r]));
    const runningOnVictim = (await db.runs()).filter((r) => r.status === 'running' && r.instanceId === victim.instanceId).length;
    const killAt = Date.now();
    const exit = await victim.kill();
    log(`killed ${victim.name} (pid ${victim.pid}) holding ${runningOnVictim} runs, ${s.holdRuns} of them long`);
    if (exit.signal !== 'SIGKILL') violation(`${victim.name} ended with ${exit.code ?? exit.signal} instead of SIGKILL`);

    // The takeover: every long run running again as attempt 2 under a new token (or done already).
    const takenOver = await db.until(
      async () => (await holdRuns()).every((r) => r.attempt === 2 && (r.status === 'completed' || (r.status === 'running' && r.leaseToken !== before.get(r.id)?.leaseToken))),
      settings.leaseMs + 10_000,
    );
    if (!takenOver) violation(`the long runs were not taken over within leaseMs + 10 s of the kill: ${JSON.stringify((await holdRuns()).map((r) => [r.status, r.attempt]))}`);
    const takeoverMs = Math.max(...(await holdRuns()).map((r) => (r.startedAt ?? killAt) - killAt));

    // The dead holder comes back (as the parent, with its old token) while the new holder runs.
    const staleWrite = (run: RunRow): RunFinish => ({
      runId: run.id, token: run.leaseToken as string, status: 'completed', finishedAt: new Date(), durationMs: 1, result: 'stale', expiresAt: new Date(Date.now() + 86_400_000),
    });
    const target = (await holdRuns()).find((r) => r.status === 'running');
    let whileRunning = 'not tried (the runs had finished already)';
    if (target) {
      const old = before.get(target.id) as RunRow;
      const snapshot = await db.runSnapshot(target.id, { ignoreLeaseExpiry: true });
      const finished = await db.store.finishRuns([staleWrite(old)]);
      const [renewed] = await db.store.renewLeases([{ runId: target.id, token: old.leaseToken as string, expiresAt: new Date(Date.now() + 60_000) }]);
      const progressed = await db.store.setProgress(target.id, old.leaseToken as string, { percent: 99, at: new Date() });
      const unchanged = snapshot === (await db.runSnapshot(target.id, { ignoreLeaseExpiry: true }));
      whileRunning = `finishRuns [${finished.join()}], renewLeases held ${renewed?.held}, setProgress ${progressed}, row unchanged ${unchanged}`;
      if (finished[0] !== false || renewed?.held || progressed || !unchanged) violation(`a stale write with the killed holder's token was accepted while the new holder ran: ${whileRunning}`);
    }

    const done = await db.until(async () => (await holdRuns()).every((r) => r.status === 'completed'), s.holdMs + settings.leaseMs + 20_000);
    const after = await holdRuns();
    if (!done) violation(`the taken-over runs did not complete: ${after.map((r) => `${r.id} ${r.status}`).join(', ')}`);
    const recoveryMs = Math.max(...after.map((r) => (r.finishedAt ?? Date.now()) - killAt));

    // And once more after they completed: every old token refused, every row unchanged.
    const snapshots = await Promise.all(after.map((r) => db.runSnapshot(r.id)));
    const refused = await db.store.finishRuns(after.map((r) => staleWrite(before.get(r.id) as RunRow)));
    const unchangedAfter = (await Promise.all(after.map((r) => db.runSnapshot(r.id)))).every((snap, i) => snap === snapshots[i]);
    if (refused.some(Boolean) || !unchangedAfter) violation(`stale finishes after completion: [${refused.join()}], rows unchanged ${unchangedAfter}`);

    const observed = await db.observed();
    for (const run of after) {
      const [first, second] = run.attempts;
      const executions = observed.filter((o) => o.runId === run.id);
      const ok =
        run.status === 'completed' && run.attempt === 2 &&
        first?.outcome === 'lease_expired' && first.instanceId === victim.instanceId &&
        second?.outcome === 'completed' && second.instanceId !== victim.instanceId &&
        executions.length === 2 && executions.some((o) => o.attempt === 1 && o.pid === victim.pid) && executions.some((o) => o.attempt === 2 && o.pid !== victim.pid);
      if (!ok) violation(`long run ${run.id}: ${run.status} attempt ${run.attempt}, history ${run.attempts.map((a) => `${a.attempt}:${a.outcome}@${a.instanceId}`).join(',')}, executions ${executions.map((o) => `${o.attempt}@${o.instance}`).join(',')}`);
    }

    const ending = await finish(env, workload);
    result.figures.recoveryMs = recoveryMs;
    result.figures.throughput = Math.round(ending.accounting.completed / ((ending.pausedAt - victim.startedAt) / 1_000));
    result.details.unshift(
      ['killed', `${victim.name} (pid ${victim.pid}) with ${runningOnVictim} running runs, ${s.holdRuns} of them ${s.holdMs} ms long; leaseMs ${settings.leaseMs}`],
      ['takeover (kill -> attempt 2 started)', `${takeoverMs} ms`],
      ['recovery (kill -> taken-over runs completed)', `${recoveryMs} ms`],
      ['stale writes while the new holder ran', whileRunning],
      ['stale finishes after completion', `[${refused.join()}], rows unchanged ${unchangedAfter}`],
    );
  });
}
