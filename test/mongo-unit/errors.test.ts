import { describe, expect, it } from 'vitest';
import { bulkInsertFailures, classifyMongoError, insertFailure, isDuplicateKeyError, toStoreError } from '../../src/stores/mongo/errors.js';
import { ConflictError } from '../../src/errors.js';

describe('classifyMongoError', () => {
  it.each([
    [{ code: 11000, name: 'MongoServerError' }, 'duplicate'],
    [{ code: 11000, name: 'MongoBulkWriteError', writeErrors: [{ code: 11000, index: 0 }] }, 'duplicate'],
    [{ name: 'MongoNetworkError' }, 'transient'],
    [{ name: 'MongoNetworkTimeoutError' }, 'transient'],
    [{ name: 'MongoServerSelectionError' }, 'transient'],
    [{ code: 10107, name: 'MongoServerError' }, 'transient'],
    [{ code: 13435 }, 'transient'],
    [{ code: 189 }, 'transient'],
    [{ code: 91 }, 'transient'],
    [{ code: 11600 }, 'transient'],
    [{ code: 11601 }, 'transient'],
    [{ name: 'MongoPoolClearedError' }, 'transient'],
    [{ name: 'MongoServerClosedError' }, 'transient'],
    [{ code: 6 }, 'transient'],
    [{ code: 7 }, 'transient'],
    [{ code: 89 }, 'transient'],
    [{ code: 9001 }, 'transient'],
    [{ code: 262 }, 'transient'],
    [{ code: 2, errorLabels: ['RetryableWriteError'] }, 'transient'],
    [{ code: 112, errorLabels: ['TransientTransactionError'] }, 'transient'],
    [{ code: 13, name: 'MongoServerError', errorLabels: [] }, 'fatal'],
    [{ code: 2, name: 'MongoServerError' }, 'fatal'],
    [new TypeError('bug'), 'fatal'],
    [null, 'fatal'],
    ['a string', 'fatal'],
  ] as const)('%o is %s', (error, expected) => {
    expect(classifyMongoError(error)).toBe(expected);
  });

  it('spots single-document duplicate key errors', () => {
    expect(isDuplicateKeyError({ code: 11000 })).toBe(true);
    expect(isDuplicateKeyError({ code: 11001 })).toBe(false);
  });
});

describe('bulkInsertFailures', () => {
  it('splits the write errors of an unordered insert into duplicates and other refusals', () => {
    expect(bulkInsertFailures({ code: 11000, writeErrors: [{ code: 11000, index: 0 }, { code: 11000, index: 3 }] })).toEqual({
      duplicates: new Set([0, 3]), failed: new Map(),
    });
    expect(bulkInsertFailures({ code: 11000, writeErrors: { code: 11000, index: 2 } })).toEqual({ duplicates: new Set([2]), failed: new Map() });
    expect(bulkInsertFailures({ code: 11000, writeErrors: [{ code: 11000, index: 0 }, { code: 121, index: 1, errmsg: 'Document failed validation' }] })).toEqual({
      duplicates: new Set([0]), failed: new Map([[1, 'Document failed validation (code 121)']]),
    });
  });

  it('returns null when nothing is known per document, so the error is rethrown', () => {
    expect(bulkInsertFailures({ code: 11000, writeErrors: [] })).toBeNull();
    expect(bulkInsertFailures({ code: 64, writeErrors: [{ code: 11000 }] })).toBeNull();
    expect(bulkInsertFailures({ name: 'MongoNetworkError' })).toBeNull();
    expect(bulkInsertFailures(null)).toBeNull();
  });

  it('names the refused runs in a StoreError', () => {
    const error = insertFailure([{ id: 'run-1' }, { id: 'run-2' }], new Map([[1, 'too large (code 10334)']]));
    expect(error).toMatchObject({ name: 'StoreError', message: 'MongoDB refused 1 run(s): "run-2": too large (code 10334). Nothing was written.' });
    expect(insertFailure([{ id: 'run-1' }, { id: 'run-2' }], new Map([[1, 'x']]), ['run-1']).message).toContain('Already claimed, so kept: "run-1".');
  });
});

describe('toStoreError', () => {
  it('wraps driver errors as StoreError with the cause and the class', () => {
    const cause = Object.assign(new Error('not primary'), { code: 10107 });
    const wrapped = toStoreError('claimRuns', cause);
    expect(wrapped).toMatchObject({ name: 'StoreError', code: 'STORE', cause });
    expect(wrapped.message).toBe('MongoDB claimRuns failed (transient): not primary');
  });

  it('lets punctual errors through', () => {
    const conflict = new ConflictError('taken');
    expect(toStoreError('insertTrigger', conflict)).toBe(conflict);
  });
});
