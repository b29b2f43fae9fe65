/**
 * Per-file MongoDB access for the MongoDB suites: the server comes from global-setup.ts
 * (`inject`), each test gets a database of its own with a random name, dropped afterwards.
 */
import { randomUUID } from 'node:crypto';
import { MongoClient, type Db } from 'mongodb';
import { afterAll, beforeAll, inject } from 'vitest';

export interface MongoTarget {
  uri: string;
  changeStreams: boolean;
}

/** The test server, or null when there is none (or globalSetup is not configured): skip. */
export function mongoTarget(): MongoTarget | null {
  const uri = inject('mongoUri');
  return typeof uri === 'string' && uri.length > 0 ? { uri, changeStreams: inject('mongoChangeStreams') === true } : null;
}

export interface TestDatabases {
  /** A new, empty database (created on first write). */
  fresh(): Db;
  /** Drops a database made by `fresh`. */
  drop(db: Db): Promise<void>;
}

/** Registers the connect and close hooks in the calling `describe`. */
export function useDatabases(target: MongoTarget | null): TestDatabases {
  let client: MongoClient | undefined;
  beforeAll(async () => {
    if (!target) return;
    client = new MongoClient(target.uri);
    await client.connect();
  });
  afterAll(async () => {
    await client?.close();
    client = undefined;
  });
  return {
    fresh() {
      if (!client) throw new Error('no MongoDB client: the suite should have been skipped');
      return client.db(`punctual_test_${randomUUID().replaceAll('-', '').slice(0, 16)}`);
    },
    async drop(db) {
      await db.dropDatabase();
    },
  };
}
