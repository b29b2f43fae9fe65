/**
 * The private servers the outage tests restart: each starts on its own free port, survives a
 * restart as a real server does (PostgreSQL keeps its data, Redis without persistence loses its
 * keys), and is gone after remove().
 */
import { Redis } from 'ioredis';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { missingPostgresBinaries, startPrivatePostgres } from './private-postgres.js';
import { missingRedisBinary, startPrivateRedis } from './private-redis.js';

const noPostgres = missingPostgresBinaries();
const noRedis = missingRedisBinary();
if (noPostgres) console.warn(`private PostgreSQL tests skipped: ${noPostgres}`);
if (noRedis) console.warn(`private Redis tests skipped: ${noRedis}`);

describe.skipIf(noPostgres !== null)('private PostgreSQL', () => {
  it('starts on a free port, keeps its data through a restart, and is gone after remove()', async () => {
    const server = await startPrivatePostgres();
    try {
      expect(server.port).not.toBe(5432);
      const pool = new pg.Pool({ connectionString: server.url, max: 2 });
      pool.on('error', () => undefined);
      await pool.query('CREATE TABLE kept (n integer); INSERT INTO kept VALUES (7)');
      await server.restart();
      expect(await server.ready()).toBe(true);
      const { rows } = await pool.query('SELECT n FROM kept');
      expect(rows).toEqual([{ n: 7 }]);
      await pool.end();
    } finally {
      await server.remove();
    }
    expect(await server.ready()).toBe(false);
  }, 60_000);
});

describe.skipIf(noRedis !== null)('private Redis', () => {
  it('starts on a free port, comes back empty after a restart, and is gone after remove()', async () => {
    const server = await startPrivateRedis();
    try {
      expect(server.port).not.toBe(6379);
      const redis = new Redis(server.url, { maxRetriesPerRequest: 1 });
      redis.on('error', () => undefined);
      await redis.set('k', 'v');
      await server.stop();
      expect(await server.ready()).toBe(false);
      await server.start();
      await expect(redis.get('k')).resolves.toBeNull();
      redis.disconnect();
    } finally {
      await server.remove();
    }
    expect(await server.ready()).toBe(false);
  }, 60_000);
});
