/**
 * One scheduler process of the reliability suite, forked by run.ts (`node --import tsx`, so the
 * pid the parent kills is the scheduler's own). It builds a scheduler on the shared PostgreSQL
 * schema (and Redis, when told), runs the `record` task, and obeys the parent's IPC messages.
 *
 * It installs no `uncaughtException` or `unhandledRejection` handler on purpose: anything the
 * library lets escape crashes the process, and the parent reports the exit code.
 */
import { setTimeout as delay } from 'node:timers/promises';
import pg from 'pg';
import { Redis } from 'ioredis';
import { createScheduler, type HandlersFor, type LockStore, type Scheduler, type TaskContext } from 'punctual';
import { postgresStore } from 'punctual/postgres';
import { redisLockStore } from 'punctual/redis';
import type { HealthTransition, ParentMessage, WorkerConfig, WorkerMessage, WorkerSummary } from './protocol.js';
import { TASK, TASK_RETRY, taskSchemas } from './tasks.js';

const config = JSON.parse(process.argv[2] ?? '{}') as WorkerConfig;
const send = (message: WorkerMessage): void => {
  if (process.connected) process.send?.(message);
};

const pool = new pg.Pool({ connectionString: config.databaseUrl, max: config.poolMax, connectionTimeoutMillis: 2_000 });
// The store adds its own listener too; this one covers the moments before start() and after stop().
pool.on('error', () => undefined);

let redis: Redis | null = null;
let lockStore: LockStore | undefined;
const summary: Omit<WorkerSummary, 'instanceId'> = { manualRuns: [], manualFailures: 0, errors: {}, leasesLost: 0, recoveries: 0, redisReady: 0 };

if (config.redis) {
  // maxRetriesPerRequest 1: while Redis is down a command fails after one reconnection attempt
  // instead of waiting in the offline queue; ioredis keeps reconnecting by itself.
  redis = new Redis(config.redis.url, { maxRetriesPerRequest: 1, connectTimeout: 1_000 });
  redis.on('error', () => undefined);
  redis.on('ready', () => {
    summary.redisReady++;
    send({ type: 'redis', event: 'ready', at: Date.now() });
  });
  redis.on('end', () => send({ type: 'redis', event: 'end', at: Date.now() }));
  lockStore = redisLockStore(redis, { prefix: config.redis.prefix });
}

const observed = `"${config.schema}".observed`;
const instanceId = `w${config.index}-${process.pid}`;

/** The `record` work, under whichever task type: one `observed` row per execution. */
const record = {
  schema: taskSchemas[TASK],
  retry: TASK_RETRY,
  run: async (payload: { sleepMs: number }, ctx: TaskContext): Promise<void> => {
    const { rows } = await pool.query<{ id: string }>(
      `INSERT INTO ${observed} (run_id, trigger_id, source, scheduled_for, attempt, pid, instance, started_at, sleep_ms)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`,
      [ctx.runId, ctx.triggerId, ctx.source, ctx.scheduledFor, ctx.attempt, process.pid, instanceId, new Date(), payload.sleepMs],
    );
    try {
      if (payload.sleepMs > 0) await delay(payload.sleepMs, undefined, { signal: ctx.signal });
    } finally {
      // Bookkeeping only: when it fails (an outage), the checks assume the full sleep.
      await pool.query(`UPDATE ${observed} SET ended_at = $2 WHERE id = $1`, [rows[0]?.id, new Date()]).catch(() => undefined);
    }
  },
};
// Handlers for the configured task types only (an instance of an older deploy lacks some).
const handlers = Object.fromEntries((config.taskTypes ?? Object.keys(taskSchemas)).map((type) => [type, record])) as unknown as HandlersFor<typeof taskSchemas>;

const scheduler: Scheduler<typeof taskSchemas> = createScheduler({
  instanceId,
  store: postgresStore(pool, { schema: config.schema }),
  ...(lockStore ? { lockStore } : {}),
  leaseMs: config.leaseMs,
  pollIntervalMs: config.pollIntervalMs,
  metricsIntervalMs: 0,
  misfire: 'all',
  handlers,
});

scheduler.on('scheduler:error', ({ operation }) => {
  summary.errors[operation] = (summary.errors[operation] ?? 0) + 1;
});
scheduler.on('run:lease-lost', () => {
  summary.leasesLost++;
});
scheduler.on('scheduler:recovered', () => {
  summary.recoveries++;
});

let running = true;

/** Polls `health()` every 200 ms and reports each change of status. */
async function watchHealth(): Promise<void> {
  let last: HealthTransition['status'] | null = null;
  while (running) {
    const report = await scheduler.health();
    if (report.status !== last && running) {
      last = report.status;
      const error = report.store.error ? `${report.store.error.operation}: ${report.store.error.message}` : undefined;
      send({ type: 'health', transition: { at: Date.now(), status: report.status, ...(error ? { error } : {}) } });
    }
    await delay(200);
  }
}

let manual: { triggerIds: string[]; everyMs: number } | null = null;

/** Issues manual runs while the parent wants them; failures (outages) are counted, not fatal. */
async function manualRuns(): Promise<void> {
  while (manual && running) {
    const { triggerIds, everyMs } = manual;
    const id = triggerIds[Math.floor(Math.random() * triggerIds.length)] as string;
    try {
      const run = await scheduler.triggers.runNow(id, { actor: instanceId });
      summary.manualRuns.push(run.id);
    } catch {
      summary.manualFailures++;
    }
    await delay(everyMs);
  }
}

async function stop(): Promise<void> {
  running = false;
  manual = null;
  await scheduler.stop({ graceMs: 15_000 });
  await pool.end();
  if (redis) await redis.quit().catch(() => redis?.disconnect());
  send({ type: 'summary', summary: { instanceId, ...summary } });
  // Exiting by itself (no process.exit) is part of the check: a timer or socket the library
  // leaves behind keeps the process alive, and the parent reports a hang.
  process.disconnect();
}

process.on('message', (message: ParentMessage) => {
  switch (message.type) {
    case 'start':
      void scheduler.start().then(() => {
        send({ type: 'started', instanceId, at: Date.now() });
        void watchHealth();
      });
      break;
    case 'manual':
      if (!manual) {
        manual = { triggerIds: message.triggerIds, everyMs: message.everyMs };
        void manualRuns();
      }
      manual = { triggerIds: message.triggerIds, everyMs: message.everyMs };
      break;
    case 'stop-manual':
      manual = null;
      break;
    case 'run-now':
      void Promise.all(Array.from({ length: message.count }, () => scheduler.triggers.runNow(message.triggerId, { actor: instanceId })))
        .then((runs) => send({ type: 'ran', runIds: runs.map((run) => run.id) }))
        .catch((error: unknown) => send({ type: 'problem', message: `runNow failed: ${String(error)}` }));
      break;
    case 'stop':
      void stop();
      break;
  }
});

send({ type: 'ready', pid: process.pid });
