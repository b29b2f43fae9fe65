/**
 * Agenda 6 with its PostgreSQL backend (LISTEN/NOTIFY), or its MongoDB backend when
 * MONGODB_URI is set. Agenda has no bulk enqueue: jobs are saved one by one, in parallel.
 */
import { Agenda, type AgendaBackend } from 'agenda';
import type pg from 'pg';
import { QueryTiming } from '../lib/pg-timing.js';
import { Countdown, LoopLag, RssSampler } from '../lib/probes.js';
import { progress } from '../lib/progress.js';
import { dropTables, pool as newPool, sql } from '../lib/services.js';
import { inParallel, nowMs, sleep } from '../lib/stats.js';
import type { Adapter, ConcurrencyParams, FanoutParams, LatenessParams, Outcome, ScaleParams, Setting, ThroughputParams, DelayedParams } from '../lib/types.js';
import { NotApplicable } from '../lib/types.js';
import { cronAtSecond, fanoutLeadMs, SCALE_PERIOD_MS, scaleFirstDue } from './common.js';
import { DueLog, scaleWindow } from './scale.js';
import { fanoutFigures, latenessFigures } from './figures.js';

const TABLE = 'agenda_bench';
type Kind = 'postgres' | 'mongo';

interface Setup {
  agenda: Agenda;
  close: () => Promise<void>;
}

/** Defaults but the scenario's concurrency; tuned: processEvery 100 ms and lock limits = concurrency. */
async function setup(kind: Kind, setting: Setting, concurrency: number, pgPool?: pg.Pool): Promise<Setup> {
  let backend: AgendaBackend;
  let close: () => Promise<void> = async () => undefined;
  if (kind === 'postgres') {
    await dropTables(TABLE, 'agenda_logs');
    const pool = pgPool ?? newPool(10);
    const { PostgresBackend } = await import('@agendajs/postgres-backend');
    backend = new PostgresBackend({ pool, tableName: TABLE, channelName: TABLE });
    close = async () => void (pgPool ? undefined : await pool.end());
  } else {
    const uri = process.env.MONGODB_URI;
    if (!uri) throw new NotApplicable('MONGODB_URI is not set');
    const { MongoBackend } = await import('@agendajs/mongo-backend');
    backend = new MongoBackend({ address: uri, collection: TABLE });
  }
  const agenda = new Agenda({
    backend,
    defaultConcurrency: concurrency,
    maxConcurrency: concurrency,
    ...(setting === 'tuned' ? { processEvery: 100, lockLimit: concurrency, defaultLockLimit: concurrency } : {}),
  });
  agenda.on('error', () => undefined);
  await agenda.ready;
  if (kind === 'mongo') await agenda.cancelAll();
  return {
    agenda,
    close: async () => {
      await agenda.stop(false).catch(() => undefined);
      await close();
    },
  };
}

async function save(count: number, build: (i: number) => Promise<unknown>): Promise<number> {
  const started = nowMs();
  let done = 0;
  await inParallel(count, 32, async (i) => {
    await build(i);
    if (++done % 5_000 === 0) progress(`saved ${done}/${count}`);
  });
  return (count / (nowMs() - started)) * 1000;
}

export function agenda(kind: Kind): Adapter {
  return {
    // Its delayed jobs are what the lateness scenario measures; here without cron triggers beside them.
    async delayed(p: DelayedParams, setting: Setting): Promise<Outcome> {
      return this.lateness({ ...p, cronTriggers: 0 }, setting);
    },
    async throughput(p: ThroughputParams, setting: Setting): Promise<Outcome> {
      const s = await setup(kind, setting, p.concurrency);
      const count = new Countdown(p.jobs);
      s.agenda.define('noop', async () => void count.hit(), { concurrency: p.concurrency });
      const enqueuePerSec = await save(p.jobs, (i) => s.agenda.create('noop', { i }).save());
      const cpu = process.cpuUsage();
      const t0 = nowMs();
      await s.agenda.start();
      await count.wait(p.capMs);
      const used = process.cpuUsage(cpu);
      await s.close();
      const notes = count.count < p.jobs ? [`time-capped at ${p.capMs / 1000} s: jobs/s from the ${count.count} jobs run by then`] : [];
      return { figures: { jobsPerSec: (count.count / (count.lastAt - t0)) * 1000, completed: count.count, enqueuePerSec, cpuUsPerJob: (used.user + used.system) / count.count }, notes };
    },

    async lateness(p: LatenessParams, setting: Setting): Promise<Outcome> {
      const s = await setup(kind, setting, p.concurrency);
      const late: number[] = [];
      s.agenda.define('late', async (job) => void late.push(nowMs() - (job.attrs.data as { due: number }).due), { concurrency: p.concurrency });
      await s.agenda.start();
      const base = Math.ceil(nowMs()) + p.leadMs;
      await save(p.jobs, (i) => {
        const due = base + Math.round((i * p.spanMs) / p.jobs);
        return s.agenda.schedule(new Date(due), 'late', { due });
      });
      const notes = nowMs() > base ? ['enqueueing overran the lead time'] : [];
      notes.push('cron: n/a (a repeated Agenda job does not tell which slot it runs for)');
      await sleep(base + p.spanMs - nowMs() + 200);
      const deadline = nowMs() + 10_000;
      while (late.length < p.jobs && nowMs() < deadline) await sleep(20);
      await s.close();
      return { figures: latenessFigures(late, [], p.jobs), notes };
    },

    async fanout(p: FanoutParams, setting: Setting): Promise<Outcome> {
      const s = await setup(kind, setting, p.concurrency);
      const late: number[] = [];
      const count = new Countdown(p.triggers);
      let due = 0;
      s.agenda.define('fan', async () => void (late.push(nowMs() - due), count.hit()), { concurrency: p.concurrency });
      due = Math.ceil((nowMs() + fanoutLeadMs(`agenda-${kind}`, p.triggers, p.marginMs)) / 1000) * 1000;
      const cron = cronAtSecond(due);
      await save(p.triggers, (i) => s.agenda.create('fan', { i }).repeatEvery(cron, { timezone: 'UTC' }).save());
      if (nowMs() > due - 500) throw new Error('creating the jobs overran the lead time');
      await s.agenda.start();
      await count.wait(due - nowMs() + p.capMs);
      await s.close();
      return { figures: fanoutFigures(late, p.triggers) };
    },

    async concurrency(p: ConcurrencyParams, setting: Setting): Promise<Outcome> {
      const s = await setup(kind, setting, p.runs);
      const started = new Countdown(p.runs);
      const finished = new Countdown(p.runs);
      s.agenda.define('noop', async () => (started.hit(), await sleep(p.waitMs), finished.hit()), { concurrency: p.runs });
      await save(p.runs, (i) => s.agenda.create('noop', { i }).save());
      const rss = new RssSampler().start();
      const lag = new LoopLag().start();
      const t0 = nowMs();
      await s.agenda.start();
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
      if (kind !== 'postgres') throw new NotApplicable('seeding a million jobs one save() at a time takes too long');
      const timing = new QueryTiming();
      const pool = timing.pool(10);
      const s = await setup(kind, setting, p.concurrency, pool);
      const log = new DueLog();
      s.agenda.define('beat', async (job) => void log.record((job.attrs.data as { due: number }).due), { concurrency: p.concurrency });
      const first = scaleFirstDue('agenda-postgres', p.triggers, p.marginMs);
      const step = SCALE_PERIOD_MS / p.triggers;
      const seedStarted = nowMs();
      // Agenda has no bulk insert: one job through the API, the rest copies of its row.
      const template = await s.agenda.schedule(new Date(first), 'beat', { due: first });
      const id = String(template.attrs._id);
      for (let part = 0; part < 10; part++) {
        const from = Math.max(1, Math.floor((part * p.triggers) / 10));
        const to = Math.floor(((part + 1) * p.triggers) / 10) - 1;
        await sql(
          `INSERT INTO ${TABLE}
           SELECT (jsonb_populate_record(t, jsonb_build_object(
             'id', gen_random_uuid(),
             'next_run_at', to_timestamp((($2::float8 + floor(g * $3::float8)) / 1000.0)),
             'data', jsonb_build_object('due', $2::float8 + floor(g * $3::float8))
           ))).*
           FROM ${TABLE} t, generate_series($4::int, $5::int) g WHERE t.id = $1::uuid`,
          [id, first, step, from, to],
        );
        progress(`seeded ${to + 1}/${p.triggers}`);
      }
      await sql(`ANALYZE ${TABLE}`);
      const seedSec = (nowMs() - seedStarted) / 1000;
      const window = await scaleWindow(first, p, () => s.agenda.start(), () => timing.start());
      const queries = timing.stop();
      await s.close();
      await pool.end();
      return {
        figures: { rssMb: window.rssMb, peakRssMb: window.peakRssMb, storeP99Ms: queries.p99Ms, storeMaxMs: queries.maxMs, ...log.window(window.from, window.to), seedSec },
        notes: [`${p.triggers.toLocaleString('en-US')} future jobs (nextRunAt spread over 100 min), seeded as copies of one saved job's row`],
      };
    },
  };
}
