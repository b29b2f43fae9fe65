/**
 * The servers the suite runs against. Scenarios without an outage use the machine's PostgreSQL
 * (`DATABASE_URL`) and never stop it. Scenarios that stop a server start their own private
 * PostgreSQL cluster and Redis on free ports (test/support/private-*.ts), restart only those,
 * and remove them at the end: the suite never stops, starts or reconfigures the machine's servers.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { missingPostgresBinaries, postgresAnswers, startPrivatePostgres, type PrivatePostgres } from '../support/private-postgres.js';
import { missingRedisBinary, startPrivateRedis, type PrivateRedis } from '../support/private-redis.js';
import type { PrivateServer } from '../support/free-port.js';

export const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** Whether the machine's PostgreSQL answers (checked once before the suite; never started by it). */
export function machinePostgresReady(): Promise<boolean> {
  return postgresAnswers(DATABASE_URL);
}

/** A server the suite may stop and start: a private one. */
export type RestartableServer = Pick<PrivateServer, 'ready' | 'stop' | 'start'>;

export interface PrivateServers {
  postgres: PrivatePostgres;
  redis?: PrivateRedis;
}

/** Why the private servers cannot be started here (what to install), or null. */
export function missingPrivateServers(redis: boolean): string | null {
  const missing = [missingPostgresBinaries(), redis ? missingRedisBinary() : null].filter((m): m is string => m !== null);
  return missing.length === 0 ? null : missing.join('; ');
}

/** Starts a private PostgreSQL (and Redis when asked); removes what it started if the second fails. */
export async function startPrivateServers(redis: boolean): Promise<PrivateServers> {
  const postgres = await startPrivatePostgres();
  if (!redis) return { postgres };
  try {
    return { postgres, redis: await startPrivateRedis() };
  } catch (error) {
    await postgres.remove();
    throw error;
  }
}

export async function removePrivateServers(servers: PrivateServers | null): Promise<void> {
  await Promise.all([servers?.postgres.remove(), servers?.redis?.remove()]);
}

/**
 * Polls `check` every 50 ms until it holds, while `command` (the stop or start command) runs:
 * resolves at the first success, which can come before the command returns (pg_ctl waits
 * for more than the server accepting connections).
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
 * Stops the server and resolves, once it refuses connections, with the latest instant it was
 * still up: when the last check that succeeded began. Starting the stop command (a process spawn
 * under `runuser`) can take seconds on a loaded machine; clients only see the outage from then.
 */
export async function stopServer(server: RestartableServer, name: string): Promise<number> {
  let lastUpAt = Date.now();
  const downAndNote = async (): Promise<boolean> => {
    const startedAt = Date.now();
    if (!(await server.ready())) return true;
    lastUpAt = startedAt;
    return false;
  };
  await until(downAndNote, 30_000, `${name} did not stop`, server.stop());
  return lastUpAt;
}

/**
 * Starts the server and resolves with the earliest instant it may have come back: when the last
 * check that failed began. A check can take hundreds of milliseconds on a loaded machine, and
 * clients may reconnect before it answers; an instant taken when the check returns would make
 * them look as if they had reconnected before the server was up.
 */
export async function startServer(server: RestartableServer, name: string): Promise<number> {
  let lastFailedAt = Date.now();
  const checkAndNote = async (): Promise<boolean> => {
    const startedAt = Date.now();
    if (await server.ready()) return true;
    lastFailedAt = startedAt;
    return false;
  };
  await until(checkAndNote, 60_000, `${name} did not come back`, server.start());
  return lastFailedAt;
}
