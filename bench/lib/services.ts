import pg from 'pg';

/** The PostgreSQL database the benchmark uses; created on first use. */
export const DATABASE_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/bench';
export const REDIS_URL = process.env.BENCH_REDIS_URL ?? process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
/** Prefix of every Redis key the benchmark writes; deleted before and after each BullMQ repetition. */
export const REDIS_PREFIX = 'punctual-bench';

/** Creates the benchmark database when it does not exist. */
export async function ensureDatabase(url = DATABASE_URL): Promise<void> {
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.slice(1));
  const probe = new pg.Client({ connectionString: url });
  try {
    await probe.connect();
    return;
  } catch (error) {
    if ((error as { code?: string }).code !== '3D000') throw error;
  } finally {
    await probe.end().catch(() => undefined);
  }
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const client = new pg.Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE "${name.replace(/"/g, '""')}"`);
  } catch (error) {
    if ((error as { code?: string }).code !== '42P04') throw error;
  } finally {
    await client.end();
  }
}

/** A pool on the benchmark database. */
export function pool(max: number): pg.Pool {
  return new pg.Pool({ connectionString: DATABASE_URL, max });
}

/** Runs one statement on a short-lived connection. */
export async function sql(text: string, values: unknown[] = []): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: DATABASE_URL });
  await client.connect();
  try {
    return await client.query(text, values);
  } finally {
    await client.end();
  }
}

/** Drops schemas (and everything in them), so the next repetition starts from empty tables. */
export async function dropSchemas(...schemas: string[]): Promise<void> {
  for (const schema of schemas) await sql(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
}

/** Drops tables in the public schema. */
export async function dropTables(...tables: string[]): Promise<void> {
  for (const table of tables) await sql(`DROP TABLE IF EXISTS "${table}" CASCADE`);
}

export async function serverVersions(): Promise<{ postgres: string | null; redis: string | null }> {
  return { postgres: await postgresVersion(), redis: await redisVersion() };
}

async function postgresVersion(): Promise<string | null> {
  try {
    return String((await sql('SHOW server_version')).rows[0]?.server_version ?? '') || null;
  } catch {
    return null;
  }
}

async function redisVersion(): Promise<string | null> {
  try {
    const { Redis } = await import('ioredis');
    const client = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null });
    await client.connect();
    const info = await client.info('server');
    client.disconnect();
    return /redis_version:(\S+)/.exec(info)?.[1] ?? null;
  } catch {
    return null;
  }
}
