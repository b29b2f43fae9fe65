/**
 * Where the throughput scenario's time goes, from the store's side: runs scenario 1 (tuned
 * punctual settings) once on the PostgreSQL or memory store with every store call timed, and
 * prints per method the calls, rows, mean time and the share of the run during which at least
 * one call of it was in flight, the worker's CPU time per job and (on Linux) how busy the
 * machine's cores were. Run it on an otherwise idle machine, after `npm run bench` has built
 * punctual once:
 *
 *   npx tsx --tsconfig bench/tsconfig.json bench/store-calls.ts [postgres|memory] [jobs=20000] [concurrency=50]
 */
import { existsSync, readFileSync } from 'node:fs';
import type { Store } from 'punctual';
import { loadPunctual } from './lib/punctual-lib.js';
import { dropSchemas, ensureDatabase, pool as newPool } from './lib/services.js';
import { nowMs } from './lib/stats.js';

const [kind = 'postgres', jobsArg = '20000', concurrencyArg = '50'] = process.argv.slice(2);
const JOBS = Number(jobsArg);
const CONCURRENCY = Number(concurrencyArg);
const SCHEMA = 'punctual_bench_store_calls';
const BULK = 5_000;
const TIMED = ['claimRuns', 'finishRuns', 'renewLeases', 'claimExpiredLeases', 'findDueTriggers', 'fireSlots'] as const;

interface CallStats {
  calls: number;
  rows: number;
  totalMs: number;
  /** Time with at least one call in flight. */
  busyMs: number;
  inFlight: number;
  busySince: number;
}

/** Wraps the store's hot methods so each call is timed into `stats`. */
function timed(store: Store, stats: Map<string, CallStats>): void {
  const methods = store as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
  for (const name of TIMED) {
    const original = methods[name]?.bind(store);
    if (!original) continue;
    const entry: CallStats = { calls: 0, rows: 0, totalMs: 0, busyMs: 0, inFlight: 0, busySince: 0 };
    stats.set(name, entry);
    methods[name] = async (...args: unknown[]) => {
      const started = nowMs();
      if (entry.inFlight++ === 0) entry.busySince = started;
      try {
        const result = await original(...args);
        if (Array.isArray(result)) entry.rows += result.length;
        return result;
      } finally {
        const ended = nowMs();
        entry.calls++;
        entry.totalMs += ended - started;
        if (--entry.inFlight === 0) entry.busyMs += ended - entry.busySince;
      }
    };
  }
}

/** Busy and idle jiffies of all cores, from /proc/stat (null where there is none). */
function cpuTicks(): { busy: number; idle: number } | null {
  if (!existsSync('/proc/stat')) return null;
  const fields = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '').trim().split(/\s+/).slice(1).map(Number);
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0] = fields;
  return { busy: user + nice + system + irq + softirq, idle: idle + iowait };
}

const { createScheduler, memoryStore, postgresStore } = await loadPunctual();
const anyObject = { '~standard': { version: 1, vendor: 'bench', validate: (value: unknown) => ({ value }) } } as const;
let pool: ReturnType<typeof newPool> | null = null;
let store: Store;
if (kind === 'postgres') {
  await ensureDatabase();
  await dropSchemas(SCHEMA);
  pool = newPool(20);
  store = postgresStore(pool, { schema: SCHEMA });
} else store = memoryStore();

let started = 0;
let lastStart = 0;
let resolveDone: () => void = () => undefined;
const done = new Promise<void>((resolve) => (resolveDone = resolve));
const tuned = { store, overlap: 'allow', pollIntervalMs: 5_000, prefetch: 1_000 } as const;
const producer = createScheduler({ ...tuned, handlers: { noop: { schema: anyObject, run: () => undefined } } });
const trigger = await producer.triggers.create({ name: 'store-calls', owner: 'bench', taskType: 'noop', payload: {}, schedule: { manual: true } });
for (let queued = 0; queued < JOBS; queued += BULK) {
  await producer.triggers.runMany(trigger.id, Array.from({ length: Math.min(BULK, JOBS - queued) }, () => ({})));
}

const stats = new Map<string, CallStats>();
timed(store, stats);
const worker = createScheduler({
  ...tuned,
  maxConcurrentRuns: CONCURRENCY,
  handlers: {
    noop: {
      schema: anyObject,
      run: async () => {
        lastStart = nowMs();
        if (++started === JOBS) resolveDone();
      },
    },
  },
});
const ticksBefore = cpuTicks();
const cpuBefore = process.cpuUsage();
const t0 = nowMs();
await worker.start();
await done;
const elapsedMs = lastStart - t0;
const cpu = process.cpuUsage(cpuBefore);
const ticksAfter = cpuTicks();
await worker.stop({ graceMs: 1_000 });
await producer.stop();
if (pool) {
  await pool.end();
  await dropSchemas(SCHEMA);
}

console.log(`${kind} store, ${JOBS} no-op jobs, concurrency ${CONCURRENCY}, prefetch 1,000`);
console.log(`jobs/s ${Math.round((JOBS / elapsedMs) * 1000)}; ${elapsedMs.toFixed(0)} ms to the last handler start`);
console.log(`worker CPU ${(((cpu.user + cpu.system) / JOBS)).toFixed(1)} µs per job`);
if (ticksBefore && ticksAfter) {
  const busy = ticksAfter.busy - ticksBefore.busy;
  const all = busy + ticksAfter.idle - ticksBefore.idle;
  console.log(`machine: ${((100 * busy) / Math.max(1, all)).toFixed(0)} % of all cores busy (worker, database and anything else)`);
}
for (const [name, entry] of stats) {
  if (entry.calls === 0) continue;
  const share = (100 * entry.busyMs) / elapsedMs;
  console.log(`${name}: ${entry.calls} calls, ${entry.rows} rows, mean ${(entry.totalMs / entry.calls).toFixed(1)} ms, in flight ${share.toFixed(0)} % of the run`);
}
