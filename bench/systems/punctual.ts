/**
 * punctual on its memory store and on its PostgreSQL store, through the public API only:
 * `createScheduler`, `triggers.create`, `triggers.runNow`, and the `Store` interface (for a
 * timing wrapper and, in the scale scenario, for seeding the memory store).
 */
import type { StandardSchemaV1 } from '@standard-schema/spec';
import type pg from 'pg';
import type { SchedulerOptions, Store, TriggerRecord } from 'punctual';
import { progress } from '../lib/progress.js';
import { loadPunctual } from '../lib/punctual-lib.js';
import { QueryTiming } from '../lib/pg-timing.js';
import { StoreTiming } from '../lib/store-timing.js';
import { Countdown, LoopLag, RssSampler } from '../lib/probes.js';
import { dropSchemas, pool as newPool, sql } from '../lib/services.js';
import { inParallel, max, nowMs, percentile, sleep } from '../lib/stats.js';
import type { Adapter, ConcurrencyParams, DelayedParams, FanoutParams, LatenessParams, Outcome, ScaleParams, Setting, ThroughputParams } from '../lib/types.js';
import { cronAtSecond, fanoutLeadMs, SCALE_PERIOD_MS, scaleFirstDue } from './common.js';
import { DueLog, scaleWindow } from './scale.js';
import { fanoutFigures, latenessFigures } from './figures.js';

const { createScheduler, memoryStore, postgresStore } = await loadPunctual();
const SCHEMA = 'punctual_bench';
const OWNER = 'bench';

/** Any object payload: the benchmark measures the engine, not a validation library. */
const anyObject: StandardSchemaV1<Record<string, unknown>> = {
  '~standard': {
    version: 1,
    vendor: 'bench',
    validate: (value) =>
      typeof value === 'object' && value !== null ? { value: value as Record<string, unknown> } : { issues: [{ message: 'expected an object' }] },
  },
};

type Handler = (payload: Record<string, unknown>, ctx: { scheduledFor: Date }) => unknown;
type Kind = 'memory' | 'postgres';

/** Runs per `runMany` call when enqueueing. */
const BULK = 5_000;

/** What `tuned` changes: see SETTINGS. */
interface Tuning {
  poolMax: number;
  pollIntervalMs?: number;
  prefetch?: number;
}

const TUNING: Record<Setting, Tuning> = {
  default: { poolMax: 10 },
  // Polling is only the fallback (LISTEN/NOTIFY, in-process wake-ups): poll less, so fewer
  // window reloads and lease sweeps compete with the work; a pool large enough for claims,
  // batched finishes and firing at once.
  // and runs claimed ahead of free capacity, so the next batch is here when slots free.
  tuned: { poolMax: 20, pollIntervalMs: 5_000, prefetch: 1_000 },
};

/** A store and a way to make more views of the same data (a second "instance"). */
interface Backend {
  /** A store on the same data: the memory store itself, or a new PostgreSQL store on the pool. */
  store(): Store;
  close(): Promise<void>;
}

export async function backend(kind: Kind, setting: Setting, fresh = true, queries: QueryTiming | null = null): Promise<Backend> {
  if (kind === 'memory') {
    const store = memoryStore();
    return { store: () => store, close: async () => undefined };
  }
  if (fresh) await dropSchemas(SCHEMA);
  const pool: pg.Pool = queries ? queries.pool(TUNING[setting].poolMax) : newPool(TUNING[setting].poolMax);
  return { store: () => postgresStore(pool, { schema: SCHEMA }), close: () => pool.end() };
}

/** Store errors the schedulers reported (the engine retries them): shown in the notes. */
const storeErrors = new Map<string, number>();

function errorNotes(): string[] {
  return [...storeErrors.entries()].map(([what, n]) => `${n} store error(s), retried by the engine: ${what}`);
}

export function scheduler(store: Store, setting: Setting, handlers: Record<string, Handler>, extra: Partial<SchedulerOptions> = {}) {
  const tuning = TUNING[setting];
  const instance = createScheduler({
    store,
    handlers: Object.fromEntries(Object.entries(handlers).map(([type, run]) => [type, { schema: anyObject, run }])),
    overlap: 'allow',
    ...(tuning.pollIntervalMs !== undefined ? { pollIntervalMs: tuning.pollIntervalMs } : {}),
    ...(tuning.prefetch !== undefined ? { prefetch: tuning.prefetch } : {}),
    ...extra,
  } as SchedulerOptions);
  instance.on('scheduler:error', ({ operation, error }) => {
    const what = `${operation}: ${error instanceof Error ? error.message.slice(0, 120) : String(error)}`;
    storeErrors.set(what, (storeErrors.get(what) ?? 0) + 1);
  });
  return instance;
}

/** Enqueues `count` immediate runs of one manual trigger with `runMany`, 5,000 per call (as the peers' bulk adds). */
export async function enqueueManualRuns(store: Store, setting: Setting, count: number): Promise<number> {
  const producer = scheduler(store, setting, { noop: () => undefined });
  const trigger = await producer.triggers.create({ name: 'bench', owner: OWNER, taskType: 'noop', payload: {}, schedule: { manual: true } });
  const started = nowMs();
  for (let done = 0; done < count; ) {
    const size = Math.min(BULK, count - done);
    await producer.triggers.runMany(trigger.id, Array.from({ length: size }, () => ({})));
    done += size;
    if (done % 5_000 === 0) progress(`enqueued ${done}/${count}`);
  }
  return (count / (nowMs() - started)) * 1000;
}

export function punctual(kind: Kind): Adapter {
  return {
    async throughput(p: ThroughputParams, setting: Setting): Promise<Outcome> {
      const data = await backend(kind, setting);
      const enqueuePerSec = await enqueueManualRuns(data.store(), setting, p.jobs);
      const count = new Countdown(p.jobs);
      const worker = scheduler(data.store(), setting, { noop: async () => void count.hit() }, { maxConcurrentRuns: p.concurrency });
      const cpu = process.cpuUsage();
      const t0 = nowMs();
      await worker.start();
      await count.wait(p.capMs);
      const elapsed = count.lastAt - t0;
      const used = process.cpuUsage(cpu);
      await worker.stop({ graceMs: 1_000 });
      await data.close();
      return { figures: { jobsPerSec: (count.count / elapsed) * 1000, completed: count.count, enqueuePerSec, cpuUsPerJob: (used.user + used.system) / count.count } };
    },

    async lateness(p: LatenessParams, setting: Setting): Promise<Outcome> {
      const data = await backend(kind, setting);
      const late: number[] = [];
      const cron: number[] = [];
      let windowStart = Number.POSITIVE_INFINITY;
      let windowEnd = 0;
      const worker = scheduler(data.store(), setting, {
        late: (payload) => void late.push(nowMs() - (payload.due as number)),
        tick: (_payload, ctx) => {
          const slot = ctx.scheduledFor.getTime();
          if (slot >= windowStart && slot <= windowEnd) cron.push(nowMs() - slot);
        },
      }, { maxConcurrentRuns: p.concurrency });
      await worker.start();
      const base = Math.ceil(nowMs()) + p.leadMs;
      windowStart = base;
      windowEnd = base + p.spanMs;
      await inParallel(p.jobs, kind === 'memory' ? 1 : 16, (i) => {
        const due = base + Math.round((i * p.spanMs) / p.jobs);
        return worker.triggers.create({ name: `late-${i}`, owner: OWNER, taskType: 'late', payload: { due }, schedule: { at: new Date(due) } });
      });
      for (let i = 0; i < p.cronTriggers; i++) {
        await worker.triggers.create({ name: `tick-${i}`, owner: OWNER, taskType: 'tick', payload: {}, schedule: { cron: '* * * * * *', timezone: 'UTC' } });
      }
      const notes = nowMs() > base ? ['enqueueing overran the lead time'] : [];
      await sleep(windowEnd - nowMs() + 200);
      const deadline = nowMs() + 10_000;
      while (late.length < p.jobs && nowMs() < deadline) await sleep(20);
      await worker.stop({ graceMs: 1_000 });
      await data.close();
      return { figures: latenessFigures(late, cron, p.jobs), notes };
    },

    async delayed(p: DelayedParams, setting: Setting): Promise<Outcome> {
      const data = await backend(kind, setting);
      const late: number[] = [];
      const worker = scheduler(data.store(), setting, { late: (payload) => void late.push(nowMs() - (payload.due as number)) }, { maxConcurrentRuns: p.concurrency });
      await worker.start();
      const base = Math.ceil(nowMs()) + p.leadMs;
      const started = nowMs();
      // No trigger to name: one enqueueMany call per 5,000 jobs, as the peers' bulk adds.
      for (let done = 0; done < p.jobs; ) {
        const size = Math.min(BULK, p.jobs - done);
        const jobs = Array.from({ length: size }, (_, j) => {
          const due = base + Math.round(((done + j) * p.spanMs) / p.jobs);
          return { taskType: 'late', payload: { due }, runAt: new Date(due) };
        });
        await worker.forOwner(OWNER).enqueueMany(jobs);
        done += size;
      }
      const enqueuePerSec = (p.jobs / (nowMs() - started)) * 1000;
      const notes = nowMs() > base ? ['enqueueing overran the lead time'] : [];
      await sleep(base + p.spanMs - nowMs() + 200);
      const deadline = nowMs() + 10_000;
      while (late.length < p.jobs && nowMs() < deadline) await sleep(20);
      await worker.stop({ graceMs: 1_000 });
      await data.close();
      return { figures: { ...latenessFigures(late, [], p.jobs), enqueuePerSec }, notes: [...notes, ...errorNotes()] };
    },

    async fanout(p: FanoutParams, setting: Setting): Promise<Outcome> {
      const n = kind === 'memory' ? p.memoryTriggers : p.triggers;
      const data = await backend(kind, setting);
      const producer = scheduler(data.store(), setting, { fan: () => undefined });
      const due = Math.ceil((nowMs() + fanoutLeadMs(kind === 'memory' ? 'punctual-memory' : 'punctual-postgres', n, p.marginMs)) / 1000) * 1000;
      const schedule = { cron: cronAtSecond(due), timezone: 'UTC' };
      let created = 0;
      await inParallel(n, kind === 'memory' ? 1 : 32, async (i) => {
        await producer.triggers.create({ name: `fan-${i}`, owner: OWNER, taskType: 'fan', payload: {}, schedule });
        if (++created % 10_000 === 0) progress(`created ${created}/${n}`);
      });
      if (nowMs() > due - 500) throw new Error(`creating ${n} triggers overran the lead time; lower CREATE_RATE in systems/common.ts`);
      const late: number[] = [];
      const count = new Countdown(n);
      const timing = new StoreTiming();
      const worker = scheduler(timing.wrap(data.store()), setting, { fan: () => void (late.push(nowMs() - due), count.hit()) }, { maxConcurrentRuns: p.concurrency });
      await worker.start();
      await sleep(due - nowMs());
      timing.reset();
      await count.wait(p.capMs);
      await worker.stop({ graceMs: 1_000 });
      await data.close();
      return { figures: fanoutFigures(late, n), notes: [`store calls from the due second: ${timing.summary()}`, ...errorNotes()] };
    },

    async concurrency(p: ConcurrencyParams, setting: Setting): Promise<Outcome> {
      const data = await backend(kind, setting);
      await enqueueManualRuns(data.store(), setting, p.runs);
      const started = new Countdown(p.runs);
      const finished = new Countdown(p.runs);
      const worker = scheduler(
        data.store(),
        setting,
        { noop: async () => (started.hit(), await sleep(p.waitMs), finished.hit()) },
        { maxConcurrentRuns: p.runs },
      );
      const rss = new RssSampler().start();
      const lag = new LoopLag().start();
      const t0 = nowMs();
      await worker.start();
      await started.wait(p.capMs);
      await finished.wait(p.capMs);
      const loop = lag.stop();
      const memory = rss.stop();
      await worker.stop({ graceMs: 1_000 });
      await data.close();
      return {
        figures: { allStartedMs: started.count === p.runs ? started.lastAt - t0 : null, started: started.count, lagP99Ms: loop.p99Ms, lagMaxMs: loop.maxMs, peakRssMb: memory.peakMb },
      };
    },

    async scale(p: ScaleParams, setting: Setting): Promise<Outcome> {
      const queries = kind === 'postgres' ? new QueryTiming() : null;
      const data = await backend(kind, setting, true, queries);
      const seedStarted = nowMs();
      const first = await seedIntervalTriggers(kind, data.store(), setting, p.triggers, p.marginMs);
      const seedSec = (nowMs() - seedStarted) / 1000;
      const timing = new StoreTiming();
      const log = new DueLog();
      const worker = scheduler(timing.wrap(data.store()), setting, { beat: (_payload, ctx) => void log.record(ctx.scheduledFor.getTime()) }, { maxConcurrentRuns: p.concurrency });
      const window = await scaleWindow(first, p, () => worker.start(), () => {
        timing.reset();
        queries?.start();
      });
      const sqlTimes = queries?.stop();
      const calls = timing.all();
      await worker.stop({ graceMs: 1_000 });
      await data.close();
      return {
        figures: {
          rssMb: window.rssMb,
          peakRssMb: window.peakRssMb,
          // PostgreSQL: every SQL statement, timed at the connection, like the other PostgreSQL systems; memory: every store call.
          storeP99Ms: sqlTimes ? sqlTimes.p99Ms : percentile(calls, 99),
          storeMaxMs: sqlTimes ? sqlTimes.maxMs : max(calls),
          ...log.window(window.from, window.to),
          seedSec,
        },
        notes: [`store calls: ${timing.summary()}`, ...errorNotes()],
      };
    },
  };
}

/**
 * Stores `count` interval triggers (every 100 minutes), their anchors 100 min / count apart
 * from a few seconds from now, so 1 % come due per minute. The first is created through the
 * API; the memory store is filled through `Store.insertTrigger` with copies of it, and
 * PostgreSQL with one INSERT ... SELECT of copies of its row. Returns when the first is due.
 */
async function seedIntervalTriggers(kind: Kind, store: Store, setting: Setting, count: number, marginMs: number): Promise<number> {
  const producer = scheduler(store, setting, { beat: () => undefined });
  const first = scaleFirstDue(`punctual-${kind}`, count, marginMs);
  const step = SCALE_PERIOD_MS / count;
  const template = await producer.triggers.create({
    name: 'beat-0',
    owner: OWNER,
    taskType: 'beat',
    payload: {},
    schedule: { every: SCALE_PERIOD_MS, anchor: new Date(first) },
  });
  if (kind === 'memory') {
    for (let i = 1; i < count; i++) {
      const at = new Date(first + Math.floor(i * step));
      const copy: TriggerRecord = {
        ...template,
        id: `${template.id}-${i}`,
        name: `beat-${i}`,
        schedule: { kind: 'interval', everyMs: SCALE_PERIOD_MS, anchor: at.toISOString() },
        nextFireAt: at,
      };
      await store.insertTrigger(copy);
      if (i % 200_000 === 0) progress(`seeded ${i}/${count}`);
    }
    return first;
  }
  const step10 = count / 10;
  for (let part = 0; part < 10; part++) {
    const from = Math.max(1, Math.floor(part * step10));
    const to = Math.floor((part + 1) * step10) - 1;
    await sql(
      `INSERT INTO ${SCHEMA}.triggers
       SELECT (jsonb_populate_record(t, jsonb_build_object(
         'id', t.id || '-' || g,
         'name', 'beat-' || g,
         'next_fire_at', $2::timestamptz + make_interval(secs => floor(g * $3::float8) / 1000.0),
         'schedule', jsonb_set(t.schedule, '{anchor}', to_jsonb(to_char(($2::timestamptz + make_interval(secs => floor(g * $3::float8) / 1000.0)) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')))
       ))).*
       FROM ${SCHEMA}.triggers t, generate_series($4::int, $5::int) g WHERE t.id = $1`,
      [template.id, new Date(first), step, from, to],
    );
    progress(`seeded ${to + 1}/${count}`);
  }
  await sql(`ANALYZE ${SCHEMA}.triggers`);
  return first;
}
