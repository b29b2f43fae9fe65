/**
 * punctual in one file: a scheduler on the embedded memory store, a few triggers of each
 * kind, and every run printed as it happens. Run with `npm run demo`; it stops by itself.
 */
import { z } from 'zod';
import { mongoStore } from 'punctual/mongodb';
import { createScheduler, memoryStore, NonRetryableError, type Store } from 'punctual';

const DEMO_SECONDS = Number(process.env.DEMO_SECONDS ?? 12);

/** MongoDB when MONGODB_URI is set, PostgreSQL when DATABASE_URL is set, else the embedded memory store. */
async function chooseStore(): Promise<{ store: Store; label: string }> {
  if (process.env.MONGODB_URI) {
    const { MongoClient } = await import('mongodb');
    const client = await MongoClient.connect(process.env.MONGODB_URI);
    return { store: mongoStore(client.db(), { collectionPrefix: 'punctual_demo_', ownsClient: client }), label: 'MongoDB' };
  }
  if (process.env.DATABASE_URL) {
    const { default: pg } = await import('pg');
    const { postgresStore } = await import('punctual/postgres');
    const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL });
    return { store: postgresStore(pool, { schema: 'punctual_demo', ownsPool: true }), label: 'PostgreSQL' };
  }
  return { store: memoryStore(), label: 'the embedded memory store' };
}

const { store, label } = await chooseStore();
// A fresh owner per run, so a persistent store can run the demo again (names are unique per owner).
const owner = `demo-${Date.now()}`;
console.log(`punctual demo on ${label}, ${DEMO_SECONDS} s\n`);

const scheduler = createScheduler({
  store,
  handlers: {
    'send-report': {
      schema: z.object({ to: z.string().email(), format: z.enum(['pdf', 'csv']).default('pdf') }),
      run: async (payload, ctx) => {
        await ctx.progress(50, 'rendering');
        return { sentTo: payload.to, format: payload.format };
      },
      concurrency: 5,
      timeoutMs: 10_000,
    },
    'flaky-sync': {
      schema: z.object({ source: z.string() }),
      run: async (_payload, ctx) => {
        if (ctx.attempt < 3) throw new Error(`upstream busy (attempt ${ctx.attempt})`);
        return { synced: true };
      },
      retry: { maxRetries: 3, initialDelayMs: 500, multiplier: 2, jitter: 0 },
    },
    'cleanup': {
      schema: z.object({ olderThanDays: z.number().int().positive() }),
      run: async (payload) => {
        if (payload.olderThanDays > 365) throw new NonRetryableError('refusing to delete more than a year');
        return { removed: 3 };
      },
    },
  },
  pollIntervalMs: 500,
  metricsIntervalMs: 0,
});

const started = Date.now();
const t = (): string => `+${((Date.now() - started) / 1000).toFixed(3)}s`;

scheduler.on('run:started', ({ run }) => console.log(`${t()} started   ${run.triggerName} (${run.source}, attempt ${run.attempt})`));
scheduler.on('run:completed', ({ run, result, durationMs }) =>
  console.log(`${t()} completed ${run.triggerName} in ${durationMs} ms -> ${JSON.stringify(result)}`),
);
scheduler.on('run:retrying', ({ run, error, retryAt }) =>
  console.log(`${t()} retrying  ${run.triggerName}: ${error.message}; next at ${retryAt.toISOString()}`),
);
scheduler.on('run:failed', ({ run, error }) => console.log(`${t()} failed    ${run.triggerName}: ${error.name}: ${error.message}`));

await scheduler.start();

const every2s = await scheduler.triggers.create({
  name: 'report-every-2s',
  owner,
  taskType: 'send-report',
  payload: { to: 'ops@example.com' },
  schedule: { cron: '*/2 * * * * *', timezone: 'Europe/Paris' },
});
await scheduler.triggers.create({
  name: 'sync-every-5s',
  owner,
  taskType: 'flaky-sync',
  payload: { source: 'crm' },
  schedule: { every: '5s' },
});
await scheduler.triggers.create({
  name: 'cleanup-once',
  owner,
  taskType: 'cleanup',
  payload: { olderThanDays: 30 },
  schedule: { at: new Date(Date.now() + 3_000) },
});
const manual = await scheduler.triggers.create({
  name: 'cleanup-manual',
  owner,
  taskType: 'cleanup',
  payload: { olderThanDays: 400 },
  schedule: { manual: true },
});

console.log('next fire times of report-every-2s:', (await scheduler.triggers.preview(every2s.id, 3)).map((d) => d.toISOString()));
console.log('weekday 09:00 Paris, next 3:', scheduler.preview({ cron: '0 9 * * 1-5', timezone: 'Europe/Paris' }, 3).map((d) => d.toISOString()));
await scheduler.triggers.runNow(manual.id, { actor: 'demo-user' });

await new Promise((resolve) => setTimeout(resolve, DEMO_SECONDS * 1_000));

const history = await scheduler.forOwner(owner).runs.list({ limit: 100 });
await scheduler.stop({ graceMs: 2_000 });
console.log(`\n${history.items.length} runs recorded:`);
for (const run of history.items.slice().reverse()) {
  console.log(`  ${run.scheduledFor.toISOString()}  ${run.triggerName.padEnd(16)} ${run.status.padEnd(10)} attempts=${run.attempt}`);
}
const { counters } = scheduler.metrics();
console.log(`\nmetrics: started=${counters.runsStarted} completed=${counters.runsCompleted} retried=${counters.runsRetried} failed=${counters.runsFailed}`);
