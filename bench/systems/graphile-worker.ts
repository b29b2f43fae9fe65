/** graphile-worker 0.17: jobs added with addJobs, cron through a crontab, one runner. */
import type pg from 'pg';
import { Logger, makeWorkerUtils, run, type Runner, type TaskList, type WorkerUtils } from 'graphile-worker';
import { QueryTiming } from '../lib/pg-timing.js';
import { Countdown, LoopLag, RssSampler } from '../lib/probes.js';
import { progress } from '../lib/progress.js';
import { DATABASE_URL, dropSchemas } from '../lib/services.js';
import { chunks, nowMs, sleep } from '../lib/stats.js';
import type { Adapter, ConcurrencyParams, FanoutParams, LatenessParams, Outcome, ScaleParams, Setting, ThroughputParams, DelayedParams } from '../lib/types.js';
import { NotApplicable } from '../lib/types.js';
import { SCALE_PERIOD_MS, scaleFirstDue } from './common.js';
import { DueLog, scaleWindow } from './scale.js';
import { fanoutFigures, latenessFigures } from './figures.js';

const SCHEMA = 'graphile_worker_bench';
const silent = new Logger(() => () => undefined);

/** The worker options: defaults, or the settings of graphile-worker's performance page. */
function workerOptions(setting: Setting, concurrency: number): GraphileConfig.WorkerOptions {
  const base: GraphileConfig.WorkerOptions = { connectionString: DATABASE_URL, schema: SCHEMA, concurrentJobs: concurrency, logger: silent };
  if (setting === 'default') return base;
  return {
    ...base,
    maxPoolSize: Math.min(concurrency + 1, 51),
    pollInterval: 100,
    localQueue: { size: 500 },
    completeJobBatchDelay: 0,
    failJobBatchDelay: 0,
  };
}

async function utils(): Promise<WorkerUtils> {
  await dropSchemas(SCHEMA);
  const u = await makeWorkerUtils({ connectionString: DATABASE_URL, schema: SCHEMA, logger: silent });
  await u.migrate();
  return u;
}

async function addJobs(u: WorkerUtils, count: number, spec: (i: number) => { payload?: Record<string, unknown>; runAt?: Date }, task = 'noop'): Promise<number> {
  const started = nowMs();
  for (const [from, to] of chunks(count, 5_000)) {
    await u.addJobs(Array.from({ length: to - from }, (_, k) => ({ identifier: task, payload: {}, ...spec(from + k) })));
    if (to % 100_000 === 0) progress(`added ${to}/${count}`);
  }
  return (count / (nowMs() - started)) * 1000;
}

async function start(setting: Setting, concurrency: number, taskList: TaskList, extra: { crontab?: string; pgPool?: pg.Pool } = {}): Promise<Runner> {
  const { pgPool, ...rest } = extra;
  return run({ preset: { worker: workerOptions(setting, concurrency) }, taskList, noHandleSignals: true, ...(pgPool ? { pgPool } : {}), ...rest });
}

export function graphileWorker(): Adapter {
  return {
    // Its delayed jobs are what the lateness scenario measures; here without cron triggers beside them.
    async delayed(p: DelayedParams, setting: Setting): Promise<Outcome> {
      return this.lateness({ ...p, cronTriggers: 0 }, setting);
    },
    async throughput(p: ThroughputParams, setting: Setting): Promise<Outcome> {
      const u = await utils();
      const enqueuePerSec = await addJobs(u, p.jobs, () => ({}));
      await u.release();
      const count = new Countdown(p.jobs);
      const cpu = process.cpuUsage();
      const t0 = nowMs();
      const runner = await start(setting, p.concurrency, { noop: async () => void count.hit() });
      await count.wait(p.capMs);
      const used = process.cpuUsage(cpu);
      await runner.stop();
      return { figures: { jobsPerSec: (count.count / (count.lastAt - t0)) * 1000, completed: count.count, enqueuePerSec, cpuUsPerJob: (used.user + used.system) / count.count } };
    },

    async lateness(p: LatenessParams, setting: Setting): Promise<Outcome> {
      const u = await utils();
      const late: number[] = [];
      const runner = await start(setting, p.concurrency, { late: async (payload) => void late.push(nowMs() - (payload as { due: number }).due) });
      const base = Math.ceil(nowMs()) + p.leadMs;
      await addJobs(u, p.jobs, (i) => {
        const due = base + Math.round((i * p.spanMs) / p.jobs);
        return { payload: { due }, runAt: new Date(due) };
      }, 'late');
      const notes = nowMs() > base ? ['enqueueing overran the lead time'] : [];
      notes.push('cron: n/a (graphile-worker cron has minute resolution)');
      await sleep(base + p.spanMs - nowMs() + 200);
      const deadline = nowMs() + 10_000;
      while (late.length < p.jobs && nowMs() < deadline) await sleep(20);
      await runner.stop();
      await u.release();
      return { figures: latenessFigures(late, [], p.jobs), notes };
    },

    async fanout(p: FanoutParams, setting: Setting): Promise<Outcome> {
      if (p.triggers < 5_000) throw new NotApplicable('cron has minute resolution: waiting for the next minute does not fit --quick');
      const u = await utils();
      await u.release();
      // Cron items fire on minute boundaries: the first one at least 10 s away.
      const due = Math.ceil((nowMs() + 10_000) / 60_000) * 60_000;
      const d = new Date(due);
      const match = `${d.getUTCMinutes()} ${d.getUTCHours()} * * *`;
      const crontab = Array.from({ length: p.triggers }, (_, i) => `${match} fan ?id=fan-${i}`).join('\n');
      const late: number[] = [];
      const count = new Countdown(p.triggers);
      const previousTz = process.env.TZ;
      process.env.TZ = 'UTC';
      const runner = await start(setting, p.concurrency, { fan: async () => void (late.push(nowMs() - due), count.hit()) }, { crontab });
      progress(`waiting for ${d.toISOString()}`);
      await count.wait(due - nowMs() + p.capMs);
      await runner.stop();
      process.env.TZ = previousTz;
      return { figures: fanoutFigures(late, p.triggers), notes: ['crontab items fire on minute boundaries'] };
    },

    async concurrency(p: ConcurrencyParams, setting: Setting): Promise<Outcome> {
      const u = await utils();
      await addJobs(u, p.runs, () => ({}));
      await u.release();
      const started = new Countdown(p.runs);
      const finished = new Countdown(p.runs);
      const rss = new RssSampler().start();
      const lag = new LoopLag().start();
      const t0 = nowMs();
      const runner = await start(setting, p.runs, { noop: async () => (started.hit(), await sleep(p.waitMs), finished.hit()) });
      await started.wait(p.capMs);
      await finished.wait(p.capMs);
      const loop = lag.stop();
      const memory = rss.stop();
      await runner.stop();
      return {
        figures: { allStartedMs: started.count === p.runs ? started.lastAt - t0 : null, started: started.count, lagP99Ms: loop.p99Ms, lagMaxMs: loop.maxMs, peakRssMb: memory.peakMb },
      };
    },

    async scale(p: ScaleParams, setting: Setting): Promise<Outcome> {
      const u = await utils();
      const first = scaleFirstDue('graphile-worker', p.triggers, p.marginMs);
      const step = SCALE_PERIOD_MS / p.triggers;
      const seedStarted = nowMs();
      await addJobs(u, p.triggers, (i) => {
        const due = first + Math.floor(i * step);
        return { payload: { due }, runAt: new Date(due) };
      }, 'beat');
      await u.release();
      const seedSec = (nowMs() - seedStarted) / 1000;
      const timing = new QueryTiming();
      const pgPool = timing.pool(setting === 'tuned' ? Math.min(p.concurrency + 1, 51) : 10);
      const log = new DueLog();
      let runner: Runner | null = null;
      const window = await scaleWindow(
        first,
        p,
        async () => (runner = await start(setting, p.concurrency, { beat: async (payload) => void log.record((payload as { due: number }).due) }, { pgPool })),
        () => timing.start(),
      );
      const queries = timing.stop();
      await (runner as Runner | null)?.stop();
      await pgPool.end();
      return {
        figures: { rssMb: window.rssMb, peakRssMb: window.peakRssMb, storeP99Ms: queries.p99Ms, storeMaxMs: queries.maxMs, ...log.window(window.from, window.to), seedSec },
        notes: [`${p.triggers.toLocaleString('en-US')} future jobs (run_at spread over 100 min); graphile cron items live in the process, not the database`],
      };
    },
  };
}
