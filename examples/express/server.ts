/**
 * The REST API as a runnable service: `npm run example:express`.
 *
 * Environment:
 * - PORT (3000), HOST (127.0.0.1)
 * - JWT_SECRET (HS256, 32+ bytes) or JWKS_URL; JWT_ISSUER, JWT_AUDIENCE; ADMIN_ROLE (scheduler-admin).
 *   Without either, outside production, a random secret is made and two tokens are printed.
 * - MONGODB_URI: MongoDB store; DATABASE_URL: PostgreSQL store; neither: the in-memory store.
 * - CORS_ORIGINS (comma-separated), RATE_LIMIT_PER_MINUTE (300), TRUST_PROXY (hops, e.g. 1),
 *   METRICS_TOKEN, HTTP_TASK_ALLOWED_ORIGINS (comma-separated origins `http-request` tasks may call).
 * - DASHBOARD_READ_ONLY=1: the dashboard at /admin/scheduler only shows; DASHBOARD_CSRF_SECRET (32+ bytes): the
 *   same on every instance behind one load balancer.
 */
import { randomBytes } from 'node:crypto';
import { SignJWT } from 'jose';
import { mongoStore } from 'punctual/mongodb';
import { createScheduler, memoryStore, type Store } from 'punctual';
import type { DashboardHandler } from 'punctual/dashboard';
import { createApp } from './app.js';
import { createHandlers, type RunHistory } from './handlers.js';
import { jsonLogger } from './logger.js';

const env = process.env;
const list = (value: string | undefined): string[] => (value ?? '').split(',').map((s) => s.trim()).filter(Boolean);
/** A positive integer from the environment; a typo stops the service rather than running with NaN. */
function intEnv(name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < 1) throw new Error(`${name} must be a positive integer, got ${JSON.stringify(raw)}`);
  return Number(raw);
}
/** TRUST_PROXY: a hop count (`1`) or Express's list form (`loopback, 10.0.0.0/8`). */
const trustProxy = (raw = env.TRUST_PROXY): number | string | false => (!raw ? false : /^\d+$/.test(raw) ? Number(raw) : raw);
const logger = jsonLogger;

/** The store named by the environment. Drivers are imported only when used. */
async function openStore(): Promise<Store> {
  if (env.MONGODB_URI) {
    const { MongoClient } = await import('mongodb');
    const client = await new MongoClient(env.MONGODB_URI).connect();
    return mongoStore(client.db(), { ownsClient: client }); // scheduler.stop() closes the client
  }
  if (env.DATABASE_URL) {
    const { default: pg } = await import('pg');
    // Not exported from the package entry yet: the source module, imported only when used.
    const { postgresStore } = await import('punctual/postgres');
    return postgresStore(new pg.Pool({ connectionString: env.DATABASE_URL, max: 10 }), { ownsPool: true });
  }
  return memoryStore();
}

const issuer = env.JWT_ISSUER ?? 'https://auth.example.com';
const audience = env.JWT_AUDIENCE ?? 'punctual-api';
let secret = env.JWT_SECRET;
const devSecret = !secret && !env.JWKS_URL;
if (devSecret) {
  if (env.NODE_ENV === 'production') throw new Error('Set JWT_SECRET or JWKS_URL in production');
  secret = randomBytes(32).toString('base64url');
}

const self: { scheduler?: RunHistory } = {};
const handlers = createHandlers({
  logger,
  allowedHttpOrigins: list(env.HTTP_TASK_ALLOWED_ORIGINS),
  scheduler: () => self.scheduler!,
});
const scheduler = createScheduler({ handlers, store: await openStore() });
self.scheduler = scheduler;
scheduler.on('scheduler:error', ({ error, source, operation }) => logger('error', 'scheduler error', { source, operation, error }));
scheduler.on('run:failed', ({ run, error }) => logger('warn', 'run failed', { runId: run.id, owner: run.owner, error }));
await scheduler.start();

const app = createApp({
  scheduler,
  auth: { ...(env.JWKS_URL ? { jwksUrl: env.JWKS_URL } : { secret: secret! }), issuer, audience, ...(env.ADMIN_ROLE ? { adminRole: env.ADMIN_ROLE } : {}) },
  ...(env.CORS_ORIGINS ? { cors: { origins: list(env.CORS_ORIGINS) } } : {}),
  rateLimit: { limit: intEnv('RATE_LIMIT_PER_MINUTE', 300) },
  trustProxy: trustProxy(),
  metrics: { defaultMetrics: true, ...(env.METRICS_TOKEN ? { token: env.METRICS_TOKEN } : {}) },
  logger,
  dashboard: { readOnly: env.DASHBOARD_READ_ONLY === '1', ...(env.DASHBOARD_CSRF_SECRET ? { csrfSecret: env.DASHBOARD_CSRF_SECRET } : {}) },
});

const port = intEnv('PORT', 3000);
const host = env.HOST ?? '127.0.0.1';
const server = app.listen(port, host, () => {
  const url = `http://${host}:${port}`;
  console.log(`punctual API listening on ${url} (store: ${env.MONGODB_URI ? 'mongodb' : env.DATABASE_URL ? 'postgres' : 'memory'})`);
  console.log(`  health:  curl ${url}/api/scheduler/health`);
  console.log(`  dashboard: ${url}/admin/scheduler/ (sign in with a token)`);
  if (devSecret) void printDevTokens(url);
});
// Slow clients must not hold connections forever (Node's defaults are 5 min and 1 min).
server.requestTimeout = 30_000;
server.headersTimeout = 10_000;

/** Development only: tokens for a user and an admin, signed with the random secret. */
async function printDevTokens(url: string): Promise<void> {
  const key = new TextEncoder().encode(secret);
  const sign = (sub: string, roles: string[]) =>
    new SignJWT({ roles }).setProtectedHeader({ alg: 'HS256' }).setSubject(sub).setIssuer(issuer).setAudience(audience).setIssuedAt().setExpirationTime('8h').sign(key);
  const user = await sign('demo-user', []);
  const admin = await sign('demo-admin', [env.ADMIN_ROLE ?? 'scheduler-admin']);
  console.log('  development tokens (random secret, valid 8 h):');
  console.log(`  export USER_TOKEN=${user}`);
  console.log(`  export ADMIN_TOKEN=${admin}`);
  console.log(`  curl -H "Authorization: Bearer $USER_TOKEN" ${url}/api/scheduler/triggers`);
}

let closing = false;
async function shutdown(signal: string): Promise<void> {
  if (closing) return;
  closing = true;
  logger('info', 'shutting down', { signal });
  (app.locals.dashboard as DashboardHandler | undefined)?.close(); // live streams would hold the server open
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await scheduler.stop({ graceMs: 10_000 });
  process.exit(0);
}
process.once('SIGINT', () => void shutdown('SIGINT'));
process.once('SIGTERM', () => void shutdown('SIGTERM'));
