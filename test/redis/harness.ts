/**
 * Redis for the lock store suite: one client per test file, a random key prefix per test.
 * Connects to `REDIS_URL` or redis://127.0.0.1:6379. When the server is not there the suite is
 * skipped with one line saying how to start it, except under `CI`, where it fails.
 */
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';

const URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const START = 'redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no';

/** A connected client when Redis answers, else null (after printing why the suite skips). */
export async function connectRedis(): Promise<Redis | null> {
  const redis = new Redis(URL, { lazyConnect: true, connectTimeout: 2_000, maxRetriesPerRequest: 1, retryStrategy: () => null });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    await redis.ping();
    return redis;
  } catch (error) {
    redis.disconnect();
    const reason = error instanceof Error ? error.message : String(error);
    if (process.env.CI) throw new Error(`Redis is required in CI but ${URL} is unreachable (${reason}); start it with ${START}`, { cause: error });
    warnOnce('redis', `Redis suites skipped: start it with ${START}`);
    return null;
  }
}

/** A key prefix no other test uses. */
export function randomPrefix(): string {
  return `punctual-test:${Math.random().toString(36).slice(2, 10)}:`;
}

/** Deletes every key under `prefix`. */
export async function deletePrefix(redis: Redis, prefix: string): Promise<void> {
  const keys: string[] = [];
  for await (const batch of redis.scanStream({ match: `${prefix}*`, count: 500 })) keys.push(...(batch as string[]));
  if (keys.length > 0) await redis.del(...keys);
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
