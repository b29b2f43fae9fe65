/**
 * PostgreSQL for the store suites: one pool per test file, one fresh schema per test.
 * Connects to `DATABASE_URL` or postgres://postgres@127.0.0.1:5432/test. When the server is not
 * there the suites are skipped with one line saying how to start it, except under `CI`, where
 * a missing server fails the run.
 */
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

const URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const START = 'pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start';

/** A pool when PostgreSQL answers, else null (after printing why the suites skip). */
export async function connectPostgres(max = 20): Promise<pg.Pool | null> {
  const pool = new pg.Pool({ connectionString: URL, max, connectionTimeoutMillis: 2_000 });
  pool.on('error', () => undefined);
  try {
    await pool.query('SELECT 1');
    return pool;
  } catch (error) {
    await pool.end().catch(() => undefined);
    const reason = error instanceof Error ? error.message : String(error);
    if (process.env.CI) throw new Error(`PostgreSQL is required in CI but ${URL} is unreachable (${reason}); start it with ${START}`, { cause: error });
    warnOnce('postgresql', `PostgreSQL suites skipped: start it with ${START}`);
    return null;
  }
}

/** A schema name no other test uses. */
export function randomSchema(): string {
  return `punctual_t_${Math.random().toString(36).slice(2, 10)}`;
}

/** Drops a test schema and everything in it. */
export async function dropSchema(pool: pg.Pool, schema: string): Promise<void> {
  await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
}

/** Resolves with `promise`, or rejects after `ms` of real time with `what` in the message. */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: nothing within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Prints `line` once per test run, however many test files (each in its own process) skip. */
function warnOnce(key: string, line: string): void {
  try {
    writeFileSync(join(tmpdir(), `punctual-skip-${key}-${process.ppid}`), '', { flag: 'wx' });
  } catch {
    return;
  }
  console.warn(line);
}
