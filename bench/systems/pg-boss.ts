/** pg-boss 10: jobs added with insert(), one work() loop fetching batches. */
import PgBoss from 'pg-boss';
import { QueryTiming } from '../lib/pg-timing.js';
import { Countdown, LoopLag, RssSampler } from '../lib/probes.js';
import { progress } from '../lib/progress.js';
import { DATABASE_URL, dropSchemas } from '../lib/services.js';
import { chunks, nowMs, sleep } from '../lib/stats.js';
import type { Adapter, ConcurrencyParams, LatenessParams, Outcome, ScaleParams, Setting, ThroughputParams, DelayedParams } from '../lib/types.js';
import { NotApplicable } from '../lib/types.js';
import { SCALE_PERIOD_MS, scaleFirstDue } from './common.js';
import { DueLog, scaleWindow } from './scale.js';
import { latenessFigures } from './figures.js';

const SCHEMA = 'pgboss_bench';
const QUEUE = 'bench';

/** Polling interval of the work() loop: the default 2 s, or the minimum 0.5 s. */
const pollingIntervalSeconds = (setting: Setting): number => (setting === 'tuned' ? 0.5 : 2);

async function boss(db?: PgBoss.Db): Promise<PgBoss> {
  const instance = new PgBoss({ connectionString: DATABASE_URL, schema: SCHEMA, ...(db ? { db } : {}) });
  instance.on('error', () => undefined);
  await instance.start();
  await instance.createQueue(QUEUE);
  return instance;
}

async function insert(b: PgBoss, count: number, job: (i: number) => Omit<PgBoss.JobInsert, 'name'>): Promise<number> {
  const started = nowMs();
  for (const [from, to] of chunks(count, 5_000)) {
    await b.insert(Array.from({ length: to - from }, (_, k) => ({ name: QUEUE, ...job(from + k) })));
    if (to % 100_000 === 0) progress(`inserted ${to}/${count}`);
  }
  return (count / (nowMs() - started)) * 1000;
}

export function pgBoss(): Adapter {
  return {
    // Its delayed jobs are what the lateness scenario measures; here without cron triggers beside them.
    async delayed(p: DelayedParams, setting: Setting): Promise<Outcome> {
      return this.lateness({ ...p, cronTriggers: 0 }, setting);
    },
    async throughput(p: ThroughputParams, setting: Setting): Promise<Outcome> {
      await dropSchemas(SCHEMA);
      const b = await boss();
      const enqueuePerSec = await insert(b, p.jobs, () => ({}));
      const count = new Countdown(p.jobs);
      const cpu = process.cpuUsage();
      const t0 = nowMs();
      await b.work(QUEUE, { batchSize: p.concurrency, pollingIntervalSeconds: pollingIntervalSeconds(setting) }, async (jobs) => {
        for (const _ of jobs) count.hit();
      });
      await count.wait(p.capMs);
      const used = process.cpuUsage(cpu);
      await b.stop({ graceful: false, wait: false });
      const notes = count.count < p.jobs ? [`time-capped at ${p.capMs / 1000} s: jobs/s from the ${count.count} jobs run by then`] : [];
      return { figures: { jobsPerSec: (count.count / (count.lastAt - t0)) * 1000, completed: count.count, enqueuePerSec, cpuUsPerJob: (used.user + used.system) / count.count }, notes };
    },

    async lateness(p: LatenessParams, setting: Setting): Promise<Outcome> {
      await dropSchemas(SCHEMA);
      const b = await boss();
      const late: number[] = [];
      await b.work(QUEUE, { batchSize: p.concurrency, pollingIntervalSeconds: pollingIntervalSeconds(setting) }, async (jobs) => {
        const now = nowMs();
        for (const job of jobs) late.push(now - (job.data as { due: number }).due);
      });
      const base = Math.ceil(nowMs()) + p.leadMs;
      await insert(b, p.jobs, (i) => {
        const due = base + Math.round((i * p.spanMs) / p.jobs);
        return { data: { due }, startAfter: new Date(due) };
      });
      const notes = nowMs() > base ? ['enqueueing overran the lead time'] : [];
      notes.push('cron: n/a (pg-boss schedules have minute resolution, one per queue)');
      await sleep(base + p.spanMs - nowMs() + 200);
      const deadline = nowMs() + 10_000;
      while (late.length < p.jobs && nowMs() < deadline) await sleep(20);
      await b.stop({ graceful: false, wait: false });
      return { figures: latenessFigures(late, [], p.jobs), notes };
    },

    async fanout(): Promise<Outcome> {
      throw new NotApplicable('pg-boss 10 keeps one schedule per queue (minute resolution): 10,000 schedules would need 10,000 queues, each with its own polling worker');
    },

    async concurrency(p: ConcurrencyParams, setting: Setting): Promise<Outcome> {
      await dropSchemas(SCHEMA);
      const b = await boss();
      await insert(b, p.runs, () => ({}));
      const started = new Countdown(p.runs);
      const finished = new Countdown(p.runs);
      const rss = new RssSampler().start();
      const lag = new LoopLag().start();
      const t0 = nowMs();
      // pg-boss 10 has no per-job concurrency: one batch of `runs` jobs, handled all at once.
      await b.work(QUEUE, { batchSize: p.runs, pollingIntervalSeconds: pollingIntervalSeconds(setting) }, async (jobs) => {
        await Promise.all(jobs.map(async () => (started.hit(), await sleep(p.waitMs), finished.hit())));
      });
      await started.wait(p.capMs);
      await finished.wait(p.capMs);
      const loop = lag.stop();
      const memory = rss.stop();
      await b.stop({ graceful: false, wait: false });
      return {
        figures: { allStartedMs: started.count === p.runs ? started.lastAt - t0 : null, started: started.count, lagP99Ms: loop.p99Ms, lagMaxMs: loop.maxMs, peakRssMb: memory.peakMb },
        notes: ['one work() batch of all the jobs (pg-boss 10 has no per-job concurrency)'],
      };
    },

    async scale(p: ScaleParams, setting: Setting): Promise<Outcome> {
      await dropSchemas(SCHEMA);
      const timing = new QueryTiming();
      const pool = timing.pool(10);
      const b = await boss({ executeSql: (text, values) => pool.query(text, values) });
      const first = scaleFirstDue('pg-boss', p.triggers, p.marginMs);
      const step = SCALE_PERIOD_MS / p.triggers;
      const seedStarted = nowMs();
      await insert(b, p.triggers, (i) => {
        const due = first + Math.floor(i * step);
        return { data: { due }, startAfter: new Date(due) };
      });
      const seedSec = (nowMs() - seedStarted) / 1000;
      const log = new DueLog();
      const window = await scaleWindow(
        first,
        p,
        () =>
          b.work(QUEUE, { batchSize: p.concurrency, pollingIntervalSeconds: pollingIntervalSeconds(setting) }, async (jobs) => {
            for (const job of jobs) log.record((job.data as { due: number }).due);
          }),
        () => timing.start(),
      );
      const queries = timing.stop();
      await b.stop({ graceful: false, wait: false });
      await pool.end();
      return {
        figures: { rssMb: window.rssMb, peakRssMb: window.peakRssMb, storeP99Ms: queries.p99Ms, storeMaxMs: queries.maxMs, ...log.window(window.from, window.to), seedSec },
        notes: [`${p.triggers.toLocaleString('en-US')} future jobs (startAfter spread over 100 min)`],
      };
    },
  };
}
