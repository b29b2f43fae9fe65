/** BullMQ on Redis: Queue.addBulk for jobs, job schedulers for cron, one Worker. */
import { Queue, Worker, type Job, type JobsOptions, type WorkerOptions } from 'bullmq';
import { Redis } from 'ioredis';
import { progress } from '../lib/progress.js';
import { Countdown, LoopLag, RssSampler } from '../lib/probes.js';
import { REDIS_PREFIX, REDIS_URL } from '../lib/services.js';
import { chunks, nowMs, sleep } from '../lib/stats.js';
import type { Adapter, ConcurrencyParams, FanoutParams, LatenessParams, Outcome, ScaleParams, Setting, ThroughputParams, DelayedParams } from '../lib/types.js';
import { cronAtSecond, fanoutLeadMs, SCALE_PERIOD_MS, scaleFirstDue } from './common.js';
import { DueLog, scaleWindow } from './scale.js';
import { fanoutFigures, latenessFigures } from './figures.js';

const connection = (): Redis => new Redis(REDIS_URL, { maxRetriesPerRequest: null });

/** Tuned: completed and failed jobs are removed at once instead of kept in their sets. */
const jobOptions = (setting: Setting): JobsOptions => (setting === 'tuned' ? { removeOnComplete: true, removeOnFail: true } : {});

/** Deletes every key of the benchmark's prefix. */
async function flush(): Promise<void> {
  const redis = connection();
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${REDIS_PREFIX}:*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) await redis.unlink(...keys);
  } while (cursor !== '0');
  redis.disconnect();
}

interface Setup {
  queue: Queue;
  worker: (processor: (job: Job) => Promise<unknown>, options: Partial<WorkerOptions>) => Worker;
  close: () => Promise<void>;
}

async function setup(name: string): Promise<Setup> {
  await flush();
  const queue = new Queue(name, { connection: connection(), prefix: REDIS_PREFIX });
  await queue.waitUntilReady();
  const workers: Worker[] = [];
  return {
    queue,
    worker: (processor, options) => {
      const worker = new Worker(name, processor, { connection: connection(), prefix: REDIS_PREFIX, ...options });
      worker.on('error', () => undefined);
      workers.push(worker);
      return worker;
    },
    close: async () => {
      await Promise.all(workers.map((w) => w.close(true)));
      await queue.close();
      await flush();
    },
  };
}

async function addJobs(queue: Queue, count: number, options: (i: number) => JobsOptions, data: (i: number) => Record<string, unknown> = () => ({})): Promise<number> {
  const started = nowMs();
  for (const [from, to] of chunks(count, 5_000)) {
    await queue.addBulk(Array.from({ length: to - from }, (_, k) => ({ name: 'job', data: data(from + k), opts: options(from + k) })));
    if (to % 100_000 === 0) progress(`added ${to}/${count}`);
  }
  return (count / (nowMs() - started)) * 1000;
}

export function bullmq(): Adapter {
  return {
    // Its delayed jobs are what the lateness scenario measures; here without cron triggers beside them.
    async delayed(p: DelayedParams, setting: Setting): Promise<Outcome> {
      return this.lateness({ ...p, cronTriggers: 0 }, setting);
    },
    async throughput(p: ThroughputParams, setting: Setting): Promise<Outcome> {
      const s = await setup('throughput');
      const enqueuePerSec = await addJobs(s.queue, p.jobs, () => jobOptions(setting));
      const count = new Countdown(p.jobs);
      const worker = s.worker(async () => void count.hit(), { concurrency: p.concurrency, autorun: false });
      const cpu = process.cpuUsage();
      const t0 = nowMs();
      void worker.run();
      await count.wait(p.capMs);
      const used = process.cpuUsage(cpu);
      await s.close();
      return { figures: { jobsPerSec: (count.count / (count.lastAt - t0)) * 1000, completed: count.count, enqueuePerSec, cpuUsPerJob: (used.user + used.system) / count.count } };
    },

    async lateness(p: LatenessParams, setting: Setting): Promise<Outcome> {
      const s = await setup('lateness');
      const late: number[] = [];
      const cron: number[] = [];
      let windowStart = Number.POSITIVE_INFINITY;
      let windowEnd = 0;
      const worker = s.worker(
        async (job) => {
          const now = nowMs();
          if (job.name === 'tick') {
            // A scheduler's job is created with its slot as timestamp + delay.
            const slot = job.timestamp + (job.opts.delay ?? 0);
            if (slot >= windowStart && slot <= windowEnd) cron.push(now - slot);
          } else late.push(now - (job.data as { due: number }).due);
        },
        { concurrency: p.concurrency },
      );
      await worker.waitUntilReady();
      const base = Math.ceil(nowMs()) + p.leadMs;
      windowStart = base;
      windowEnd = base + p.spanMs;
      const stamp = Date.now();
      await addJobs(
        s.queue,
        p.jobs,
        (i) => ({ ...jobOptions(setting), timestamp: stamp, delay: base + Math.round((i * p.spanMs) / p.jobs) - stamp }),
        (i) => ({ due: base + Math.round((i * p.spanMs) / p.jobs) }),
      );
      for (let i = 0; i < p.cronTriggers; i++) {
        await s.queue.upsertJobScheduler(`tick-${i}`, { pattern: '* * * * * *', tz: 'UTC' }, { name: 'tick', opts: jobOptions(setting) });
      }
      const notes = nowMs() > base ? ['enqueueing overran the lead time'] : [];
      await sleep(windowEnd - nowMs() + 200);
      const deadline = nowMs() + 10_000;
      while (late.length < p.jobs && nowMs() < deadline) await sleep(20);
      await s.close();
      return { figures: latenessFigures(late, cron, p.jobs), notes };
    },

    async fanout(p: FanoutParams, setting: Setting): Promise<Outcome> {
      const s = await setup('fanout');
      const due = Math.ceil((nowMs() + fanoutLeadMs('bullmq', p.triggers, p.marginMs)) / 1000) * 1000;
      const pattern = cronAtSecond(due);
      for (const [from, to] of chunks(p.triggers, 100)) {
        await Promise.all(
          Array.from({ length: to - from }, (_, k) => s.queue.upsertJobScheduler(`fan-${from + k}`, { pattern, tz: 'UTC' }, { name: 'fan', opts: jobOptions(setting) })),
        );
      }
      if (nowMs() > due - 500) throw new Error('creating the job schedulers overran the lead time');
      const late: number[] = [];
      const count = new Countdown(p.triggers);
      const worker = s.worker(async () => void (late.push(nowMs() - due), count.hit()), { concurrency: p.concurrency });
      await worker.waitUntilReady();
      await count.wait(due - nowMs() + p.capMs);
      await s.close();
      return { figures: fanoutFigures(late, p.triggers) };
    },

    async concurrency(p: ConcurrencyParams, setting: Setting): Promise<Outcome> {
      const s = await setup('concurrency');
      await addJobs(s.queue, p.runs, () => jobOptions(setting));
      const started = new Countdown(p.runs);
      const finished = new Countdown(p.runs);
      const worker = s.worker(async () => (started.hit(), await sleep(p.waitMs), finished.hit()), { concurrency: p.runs, autorun: false });
      const rss = new RssSampler().start();
      const lag = new LoopLag().start();
      const t0 = nowMs();
      void worker.run();
      await started.wait(p.capMs);
      await finished.wait(p.capMs);
      const loop = lag.stop();
      const memory = rss.stop();
      await s.close();
      return {
        figures: { allStartedMs: started.count === p.runs ? started.lastAt - t0 : null, started: started.count, lagP99Ms: loop.p99Ms, lagMaxMs: loop.maxMs, peakRssMb: memory.peakMb },
      };
    },

    async scale(p: ScaleParams, setting: Setting): Promise<Outcome> {
      const s = await setup('scale');
      const first = scaleFirstDue('bullmq', p.triggers, p.marginMs);
      const step = SCALE_PERIOD_MS / p.triggers;
      const seedStarted = nowMs();
      await addJobs(
        s.queue,
        p.triggers,
        (i) => {
          const stamp = Date.now();
          return { ...jobOptions(setting), timestamp: stamp, delay: Math.max(0, first + Math.floor(i * step) - stamp) };
        },
        (i) => ({ due: first + Math.floor(i * step) }),
      );
      const seedSec = (nowMs() - seedStarted) / 1000;
      const log = new DueLog();
      const window = await scaleWindow(
        first,
        p,
        async () => {
          const worker = s.worker(async (job) => void log.record((job.data as { due: number }).due), { concurrency: p.concurrency });
          await worker.waitUntilReady();
        },
        () => undefined,
      );
      await s.close();
      return {
        figures: { rssMb: window.rssMb, peakRssMb: window.peakRssMb, storeP99Ms: null, storeMaxMs: null, ...log.window(window.from, window.to), seedSec },
        notes: [`${p.triggers.toLocaleString('en-US')} delayed jobs (spread over 100 min); Redis command times are not measured`],
      };
    },
  };
}
