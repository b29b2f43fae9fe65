/**
 * Stopping and starting the real PostgreSQL and Redis servers for the outage scenarios. Other
 * suites use the same servers, so every outage is short and `ensureServices()` runs in a
 * `finally` after each scenario (and on Ctrl-C) to bring both back whatever happened.
 */
import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const REDIS_PORT = new URL(REDIS_URL).port || '6379';
const REDIS_HOST = new URL(REDIS_URL).hostname || '127.0.0.1';

function pgVersion(): string {
  const versions = readdirSync('/etc/postgresql');
  if (!versions[0]) throw new Error('no cluster under /etc/postgresql: the outage scenarios need a local PostgreSQL cluster');
  return versions[0];
}

async function pgCtl(action: 'start' | 'stop'): Promise<void> {
  // `stop` uses the fast mode by default: open connections are terminated, as in a real restart.
  await run('pg_ctlcluster', ['--skip-systemctl-redirect', pgVersion(), 'main', action], { timeout: 60_000 });
}

export async function postgresReady(): Promise<boolean> {
  try {
    await run('pg_isready', ['-q', '-h', '127.0.0.1', '-p', '5432'], { timeout: 5_000 });
    return true;
  } catch {
    return false;
  }
}

export async function redisReady(): Promise<boolean> {
  try {
    const { stdout } = await run('redis-cli', ['-h', REDIS_HOST, '-p', REDIS_PORT, 'ping'], { timeout: 5_000 });
    return stdout.trim() === 'PONG';
  } catch {
    return false;
  }
}

/**
 * Polls `check` every 50 ms until it holds, while `command` (the stop or start command) runs:
 * resolves at the first success, which can come before the command returns (pg_ctlcluster
 * waits for more than the server accepting connections).
 */
async function until(check: () => Promise<boolean>, ms: number, what: string, command: Promise<unknown> = Promise.resolve()): Promise<void> {
  let failure: { error: unknown } | null = null;
  const done = command.catch((error: unknown) => {
    failure = { error };
  });
  const end = Date.now() + ms;
  while (!(await check())) {
    if (failure) throw (failure as { error: unknown }).error;
    if (Date.now() > end) throw new Error(`${what} within ${ms} ms`);
    await delay(50);
  }
  // Leave no command running behind the caller's back (its failure no longer matters once the check holds).
  await done;
}

/**
 * {@link until}, resolving with the earliest instant the server may have come back: when the
 * last check that failed began. A check (a process spawn and a connection) can take hundreds of
 * milliseconds on a loaded machine, and clients may reconnect before it answers; an instant
 * taken when the check returns would make them look as if they had reconnected before the
 * server was up.
 */
async function firstSuccess(check: () => Promise<boolean>, ms: number, what: string, command: Promise<unknown>): Promise<number> {
  let lastFailedAt = Date.now();
  const checkAndNote = async (): Promise<boolean> => {
    const startedAt = Date.now();
    if (await check()) return true;
    lastFailedAt = startedAt;
    return false;
  };
  await until(checkAndNote, ms, what, command);
  return lastFailedAt;
}

/** Resolves once PostgreSQL refuses connections. */
export async function stopPostgres(): Promise<void> {
  await until(async () => !(await postgresReady()), 30_000, 'PostgreSQL did not stop', pgCtl('stop'));
}

/** Resolves with the instant PostgreSQL first accepted connections. */
export async function startPostgres(): Promise<number> {
  return firstSuccess(postgresReady, 60_000, 'PostgreSQL did not come back', pgCtl('start'));
}

/** `SHUTDOWN NOSAVE`: every key is gone, as the suite's servers keep no data on disk. */
export async function stopRedis(): Promise<void> {
  await run('redis-cli', ['-h', REDIS_HOST, '-p', REDIS_PORT, 'shutdown', 'nosave']).catch(() => undefined);
  await until(async () => !(await redisReady()), 30_000, 'Redis did not stop');
}

/** Resolves with the instant Redis first answered PING. */
export async function startRedis(): Promise<number> {
  const command = run('redis-server', ['--daemonize', 'yes', '--bind', REDIS_HOST, '--port', REDIS_PORT, '--save', '', '--appendonly', 'no']);
  return firstSuccess(redisReady, 30_000, 'Redis did not come back', command);
}

/** Starts whichever server is down. Called in `finally` blocks: never throws, says what failed. */
export async function ensureServices(): Promise<string[]> {
  const problems: string[] = [];
  if (!(await postgresReady())) {
    await startPostgres().catch((error: unknown) => problems.push(`could not restart PostgreSQL: ${String(error)}`));
  }
  if (!(await redisReady())) {
    await startRedis().catch((error: unknown) => problems.push(`could not restart Redis: ${String(error)}`));
  }
  return problems;
}
