/**
 * Fakes of the driver's collection calls, for unit tests that inject failures the MongoDB store
 * must survive (a write refused, a connection lost after a write applied). Each collection
 * method is a `vi.fn` the test scripts; a call nobody scripted fails the test loudly. Never used
 * in a contract test: the store contract runs against real servers only.
 */
import type { Db } from 'mongodb';
import { vi, type Mock } from 'vitest';
import { mongoStore, type MongoStore } from '../../src/stores/mongo/index.js';

const METHODS = [
  'find', 'findOne', 'insertOne', 'insertMany', 'replaceOne', 'updateOne', 'updateMany', 'deleteOne', 'deleteMany',
  'findOneAndUpdate', 'findOneAndDelete', 'countDocuments', 'createIndex', 'createIndexes', 'indexes', 'bulkWrite',
] as const;
export type FakeCollection = Record<(typeof METHODS)[number], Mock>;

export interface FakeDriver {
  store: MongoStore;
  triggers: FakeCollection;
  runs: FakeCollection;
  names: FakeCollection;
  locks: FakeCollection;
  audit: FakeCollection;
  /** `db.command` (hello, ping...). */
  command: Mock;
}

function fakeCollection(name: string): FakeCollection {
  const collection = {} as FakeCollection;
  for (const method of METHODS) {
    collection[method] = vi.fn(() => {
      throw new Error(`unexpected ${name}.${method} call`);
    });
  }
  return collection;
}

/** A cursor answering `toArray` with `docs` (what `find` returns). */
export function cursor(docs: readonly object[]): { toArray: () => Promise<object[]> } {
  return { toArray: () => Promise.resolve(docs.map((doc) => structuredClone(doc))) };
}

/** A MongoDB store over faked collections (prefix `punctual_`). */
export function fakeDriver(options: Parameters<typeof mongoStore>[1] = {}): FakeDriver {
  const byRole = { triggers: fakeCollection('triggers'), runs: fakeCollection('runs'), names: fakeCollection('names'), locks: fakeCollection('locks'), audit: fakeCollection('audit') };
  const command = vi.fn(() => Promise.reject(new Error('unexpected db.command call')));
  const db = {
    collection: (name: string) => {
      const role = name.replace(/^punctual_/, '').replace('trigger_names', 'names') as keyof typeof byRole;
      const collection = byRole[role];
      if (!collection) throw new Error(`unexpected collection ${name}`);
      return collection;
    },
    command,
  } as unknown as Db;
  return { store: mongoStore(db, options), ...byRole, command };
}

/** A server error as the driver raises it: `name`, `code`, optional fields. */
export function serverError(code: number, fields: Record<string, unknown> = {}): Error {
  return Object.assign(new Error(`server error ${code}`), { name: 'MongoServerError', code, ...fields });
}

/** A network error, after which the driver cannot tell whether the write applied. */
export function networkError(): Error {
  return Object.assign(new Error('connection reset'), { name: 'MongoNetworkError' });
}

/** The error of an unordered `insertMany` some of whose documents failed (index: code). */
export function bulkWriteError(failures: Record<number, number>): Error {
  const writeErrors = Object.entries(failures).map(([index, code]) => ({ index: Number(index), code, errmsg: `E${code}` }));
  return Object.assign(new Error('bulk write failed'), { name: 'MongoBulkWriteError', code: writeErrors[0]?.code, writeErrors });
}
