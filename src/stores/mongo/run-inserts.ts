import type { Collection } from 'mongodb';
import type { RunRecord } from '../../types.js';
import { toRunDoc, type RunDoc } from './documents.js';
import { bulkInsertFailures, insertFailure, type BulkInsertFailures } from './errors.js';
import { withdrawRuns } from './slot-fires.js';

/** Inserts runs, unordered: one failure does not stop the others. Returns what was not written. */
export async function insertRunDocs(runs: Collection<RunDoc>, docs: readonly RunDoc[]): Promise<BulkInsertFailures> {
  if (docs.length > 0) {
    try {
      await runs.insertMany([...docs], { ordered: false });
    } catch (error) {
      const failures = bulkInsertFailures(error);
      if (failures) return failures;
      throw error;
    }
  }
  return { duplicates: new Set(), failed: new Map() };
}

/**
 * `Store.insertRuns`, unordered. When the server refuses some runs (too large, a validator), the
 * runs this call wrote are withdrawn while untouched and the call throws, so, as on the other
 * stores, a refused batch writes nothing (the error names any run already claimed elsewhere).
 */
export async function insertRuns(runs: Collection<RunDoc>, records: readonly RunRecord[]): Promise<boolean[]> {
  const { duplicates, failed } = await insertRunDocs(runs, records.map(toRunDoc));
  if (failed.size > 0) {
    const written = records.filter((_, i) => !duplicates.has(i) && !failed.has(i));
    const kept = await withdrawRuns(runs, written);
    throw insertFailure(records, failed, kept);
  }
  return records.map((_, i) => !duplicates.has(i));
}
