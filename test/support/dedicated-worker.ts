/**
 * A dedicated worker process: its only job is a started scheduler on PostgreSQL. Nothing else
 * holds the event loop (no IPC channel, no stdin, no interval of its own that is ref'd), so the
 * process stays up only as long as the scheduler keeps it alive. It reports on stdout, one JSON
 * line per event: `ready`, `ran` (a slot's run executed), `health` (each change of status),
 * `error` (each `scheduler:error`), `stopped`. SIGTERM calls `stop()`, and nothing calls `process.exit`: the process must end by
 * itself once `stop()` resolves.
 *
 *   DATABASE_URL=... SCHEMA=... KEEP_ALIVE=true|false node --import tsx test/support/dedicated-worker.ts
 */
import type { StandardSchemaV1 } from '@standard-schema/spec';
import pg from 'pg';
import { ConflictError, createScheduler } from 'punctual';
import { postgresStore } from 'punctual/postgres';

const say = (message: Record<string, unknown>): void => void process.stdout.write(`${JSON.stringify({ ...message, at: Date.now() })}\n`);
const anyPayload: StandardSchemaV1<unknown, unknown> = { '~standard': { version: 1, vendor: 'test', validate: (value) => ({ value }) } };

const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 4, connectionTimeoutMillis: 2_000 });
const scheduler = createScheduler({
  store: postgresStore(pool, { schema: process.env.SCHEMA ?? 'punctual_worker' }),
  keepAlive: process.env.KEEP_ALIVE !== 'false',
  pollIntervalMs: 200,
  leaseMs: 3_000,
  metricsIntervalMs: 0,
  handlers: {
    tick: { schema: anyPayload, run: (_payload, ctx) => say({ type: 'ran', runId: ctx.runId, scheduledFor: ctx.scheduledFor.getTime() }) },
  },
});

scheduler.on('scheduler:error', ({ operation }) => say({ type: 'error', operation }));

let status = '';
// Unref'd: reporting must not be what keeps the process alive.
setInterval(() => {
  scheduler.health().then(
    (report) => {
      if (report.status !== status) say({ type: 'health', status: (status = report.status) });
    },
    () => undefined,
  );
}, 200).unref();

process.once('SIGTERM', () => {
  void scheduler.stop({ graceMs: 1_000 }).then(async () => {
    say({ type: 'stopped' });
    await pool.end();
  });
});

await scheduler.start();
// One trigger per schema: a second worker on the same schema finds it there.
await scheduler.triggers
  .create({ name: 'tick', owner: 'worker', taskType: 'tick', payload: {}, schedule: { every: 1_000 }, overlap: 'allow' })
  .catch((error: unknown) => {
    if (!(error instanceof ConflictError)) throw error;
  });
say({ type: 'ready', pid: process.pid });
