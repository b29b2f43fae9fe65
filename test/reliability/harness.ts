/**
 * What every scenario shares: a fresh schema (and Redis key prefix), four forked scheduler
 * processes, and the same ending (pause, drain, stop, account). `scenario()` always cleans up,
 * whatever happened: processes killed, schema dropped, keys deleted, private servers removed.
 * A scenario that restarts a server asks for private servers (`{ private: true }`); where their
 * binaries are missing it is skipped, with what to install.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { account, type Accounting } from './checks.js';
import { forkWorkers, killWorkers, stopWorkers, type Worker } from './cluster.js';
import { Database } from './database.js';
import type { WorkerSummary } from './protocol.js';
import { DATABASE_URL, missingPrivateServers, removePrivateServers, REDIS_URL, startPrivateServers, type PrivateServers } from './services.js';
import type { Settings } from './settings.js';
import { pauseAll, type Workload } from './workload.js';

/** The columns of the summary table; a scenario leaves out what it does not measure. */
export interface Figures {
  slots?: number;
  manual?: number;
  runs?: number;
  executions?: number;
  duplicates?: number;
  lost?: number;
  takeovers?: number;
  retries?: number;
  skipped?: number;
  /** Kill -> completion of the taken-over runs, ms. */
  recoveryMs?: number;
  /** Server down -> accepting again, ms. */
  outageMs?: number;
  /** Server back -> every slot due before that completed, ms. */
  catchUpMs?: number;
  /** Completed runs per second of traffic. */
  throughput?: number;
}

export interface ScenarioResult {
  name: string;
  figures: Figures;
  /** Further measured lines, printed under the scenario. */
  details: [string, string][];
  violations: string[];
  /** Shortcomings found that break no guarantee of SPEC.md (printed, not failing the suite). */
  notes: string[];
  /** Set when the scenario could not run here: why, and what to install. */
  skipped?: string;
  durationMs: number;
}

export interface Environment {
  settings: Settings;
  db: Database;
  workers: Worker[];
  /** Set when the scenario uses the Redis lock store. */
  redisPrefix?: string;
  /** Set with `{ private: true }`: the servers this scenario may stop and start. */
  servers?: PrivateServers;
  result: ScenarioResult;
  log(line: string): void;
}

export interface EnvironmentOptions {
  /** Use the Redis lock store. */
  redis?: boolean;
  /** Run on a private PostgreSQL (and Redis) started for this scenario, which it may restart. */
  private?: boolean;
  /** Scheduler processes to fork (default: the setting's). */
  processes?: number;
}

/** Runs one scenario in its own schema and processes; never throws: failures become violations. */
export async function scenario(
  name: string,
  settings: Settings,
  options: EnvironmentOptions,
  body: (env: Environment) => Promise<void>,
): Promise<ScenarioResult> {
  const started = Date.now();
  const result: ScenarioResult = { name, figures: {}, details: [], violations: [], notes: [], durationMs: 0 };
  const log = (line: string): void => console.log(`  [${name} +${((Date.now() - started) / 1_000).toFixed(1)}s] ${line}`);
  const missing = options.private ? missingPrivateServers(options.redis === true) : null;
  if (missing) {
    result.skipped = `needs a private server it can restart: ${missing}`;
    return result;
  }
  let servers: PrivateServers | null = null;
  let db: Database | null = null;
  let workers: Worker[] = [];
  const redisPrefix = options.redis ? `punctual-rel:${randomBytes(4).toString('hex')}:` : undefined;
  try {
    if (options.private) {
      servers = await startPrivateServers(options.redis === true);
      log(`private PostgreSQL on port ${servers.postgres.port}${servers.redis ? `, private Redis on port ${servers.redis.port}` : ''}`);
    }
    const databaseUrl = servers?.postgres.url ?? DATABASE_URL;
    const redisUrl = servers?.redis?.url ?? REDIS_URL;
    db = await Database.create(databaseUrl);
    log(`schema ${db.schema}${redisPrefix ? `, Redis prefix ${redisPrefix}` : ''}`);
    workers = await forkWorkers(
      Array.from({ length: options.processes ?? settings.processes }, (_, index) => ({
        index,
        databaseUrl,
        schema: (db as Database).schema,
        ...(redisPrefix ? { redis: { url: redisUrl, prefix: redisPrefix } } : {}),
        leaseMs: settings.leaseMs,
        pollIntervalMs: settings.pollIntervalMs,
        poolMax: settings.poolMax,
      })),
    );
    if (workers.length > 0) log(`${workers.length} processes forked: pids ${workers.map((w) => w.pid).join(', ')}`);
    await body({ settings, db, workers, result, log, ...(redisPrefix ? { redisPrefix } : {}), ...(servers ? { servers } : {}) });
  } catch (error) {
    result.violations.push(`scenario aborted: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  } finally {
    await killWorkers(workers);
    await db?.drop();
    // A private Redis goes with its keys; on the machine's, delete the scenario's keys.
    if (redisPrefix && !servers?.redis) await deleteKeys(REDIS_URL, redisPrefix).catch((error: unknown) => console.error(`could not delete ${redisPrefix}*: ${String(error)}`));
    await removePrivateServers(servers);
    result.durationMs = Date.now() - started;
  }
  return result;
}

export interface Ending {
  accounting: Accounting;
  pausedAt: number;
  summaries: WorkerSummary[];
}

/**
 * The common ending: stop manual runs, pause every trigger, wait until no run is open, stop
 * the processes (each must exit 0 by itself), then account from the tables.
 */
export async function finish(env: Environment, workload: Workload, options: { allowOverlapSkips?: boolean } = {}): Promise<Ending> {
  const { db, workers, result, settings } = env;
  for (const w of workers) if (w.alive) w.send({ type: 'stop-manual' });
  const pausedAt = await pauseAll(db.admin, workload);
  env.log('triggers paused; waiting for open runs to finish');
  const drainMs = 3 * settings.leaseMs + 30_000;
  if (!(await db.drained(drainMs))) {
    result.violations.push(`runs still pending or running ${drainMs} ms after the pause (hang): ${await db.countRuns('open')}`);
  }
  result.violations.push(...(await stopWorkers(workers)));
  const summaries = workers.flatMap((w) => (w.summary ? [w.summary] : []));
  const accounting = account({
    workload,
    triggers: await db.triggers(),
    runs: await db.runs(),
    observed: await db.observed(),
    acknowledged: summaries.flatMap((s) => s.manualRuns),
    pausedAt,
    ...(options.allowOverlapSkips ? { allowOverlapSkips: true } : {}),
  });
  result.violations.push(...accounting.violations);
  const { slots, manual, runs, executions, duplicates, lost, takeovers, retries, skipped } = accounting;
  Object.assign(result.figures, { slots, manual, runs, executions, duplicates, lost, takeovers, retries, skipped });
  const errors = new Map<string, number>();
  for (const s of summaries) for (const [op, n] of Object.entries(s.errors)) errors.set(op, (errors.get(op) ?? 0) + n);
  result.details.push(
    ['start lag of first attempts', `p50 ${accounting.lag.p50} ms, p99 ${accounting.lag.p99} ms, max ${accounting.lag.max} ms`],
    ['runNow failures (outage)', String(summaries.reduce((n, s) => n + s.manualFailures, 0))],
    ['lease-lost events', String(summaries.reduce((n, s) => n + s.leasesLost, 0))],
    ['runs taken over more than once', String(accounting.repeatedTakeovers)],
    ['scheduler:error events', errors.size === 0 ? 'none' : [...errors].map(([op, n]) => `${op} ${n}`).join(', ')],
  );
  return { accounting, pausedAt, summaries };
}

async function deleteKeys(url: string, prefix: string): Promise<void> {
  const redis = new Redis(url, { maxRetriesPerRequest: 1, lazyConnect: true });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    const keys: string[] = [];
    for await (const batch of redis.scanStream({ match: `${prefix}*`, count: 500 })) keys.push(...(batch as string[]));
    if (keys.length > 0) await redis.del(...keys);
  } finally {
    redis.disconnect();
  }
}
