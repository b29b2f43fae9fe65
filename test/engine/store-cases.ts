/**
 * The stores an engine-level test runs on: memory always, PostgreSQL when it answers (a fresh
 * schema per test, dropped afterwards). Each scheduler of a test gets its own store object on
 * the same data, as separate service instances would.
 */
import { afterAll } from 'vitest';
import type pg from 'pg';
import { memoryStore, type Store } from 'punctual';
import { postgresStore } from 'punctual/postgres';
import { connectPostgres, dropSchema, randomSchema } from '../postgres/harness.js';

export interface StoreCase {
  name: string;
  /** A fresh database: `store()` gives a store object on it per call; `drop()` removes it. */
  open(): Promise<{ store: () => Store; drop: () => Promise<void> }>;
}

const pool: pg.Pool | null = await connectPostgres(10);
afterAll(async () => {
  await pool?.end();
});

const memory: StoreCase = {
  name: 'memory',
  open: async () => {
    const shared = memoryStore();
    return { store: () => shared, drop: async () => undefined };
  },
};

const postgres: StoreCase = {
  name: 'postgres',
  open: async () => {
    const db = pool as pg.Pool;
    const schema = randomSchema();
    return { store: () => postgresStore(db, { schema }), drop: () => dropSchema(db, schema) };
  },
};

/** Memory, plus PostgreSQL when it is reachable (its suites skip with a note otherwise). */
export const STORE_CASES: StoreCase[] = pool ? [memory, postgres] : [memory];
