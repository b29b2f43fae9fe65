import { isPunctualError, StoreError } from '../../errors.js';

/** Server error codes that mean "try again": failover, shutdown, network, time limits. */
export const TRANSIENT_ERROR_CODES: ReadonlySet<number> = new Set([
  6, // HostUnreachable
  7, // HostNotFound
  63, // StaleShardVersion
  64, // WriteConcernFailed / WriteConcernTimeout
  89, // NetworkTimeout
  91, // ShutdownInProgress
  134, // ReadConcernMajorityNotAvailableYet
  150, // StaleEpoch
  189, // PrimarySteppedDown
  262, // ExceededTimeLimit
  9001, // SocketException
  10058, // LegacyNotPrimary
  10107, // NotWritablePrimary
  11600, // InterruptedAtShutdown
  11601, // Interrupted
  11602, // InterruptedDueToReplStateChange
  13388, // StaleConfig
  13435, // NotPrimaryNoSecondaryOk
  13436, // NotPrimaryOrSecondary
]);

/** Driver error classes (by `name`) that mean the server could not be reached for now. */
export const TRANSIENT_ERROR_NAMES: ReadonlySet<string> = new Set([
  'MongoNetworkError',
  'MongoNetworkTimeoutError',
  'MongoServerSelectionError',
  'MongoOperationTimeoutError',
  'MongoPoolClearedError',
  'MongoServerClosedError',
]);

const TRANSIENT_LABELS = ['RetryableWriteError', 'TransientTransactionError'];

export const DUPLICATE_KEY = 11000;

export type MongoErrorClass = 'duplicate' | 'transient' | 'fatal';

interface ErrorShape {
  code?: unknown;
  name?: unknown;
  errorLabels?: unknown;
  writeErrors?: unknown;
}

/**
 * Sorts a driver error into what the store does with it: `duplicate` (a unique key, usually
 * `_id`, already exists: someone else got there first), `transient` (failover, network,
 * shutdown, time limit: the engine retries) or `fatal` (anything else: a bug, bad auth, a full
 * disk). Decided by the `code`, `name` and `errorLabels` fields only, so errors from another
 * copy of the driver, or plain error-shaped objects, classify the same.
 */
export function classifyMongoError(error: unknown): MongoErrorClass {
  if (typeof error !== 'object' || error === null) return 'fatal';
  const e = error as ErrorShape;
  if (e.code === DUPLICATE_KEY) return 'duplicate';
  if (typeof e.code === 'number' && TRANSIENT_ERROR_CODES.has(e.code)) return 'transient';
  if (typeof e.name === 'string' && TRANSIENT_ERROR_NAMES.has(e.name)) return 'transient';
  if (Array.isArray(e.errorLabels) && e.errorLabels.some((label) => TRANSIENT_LABELS.includes(label as string))) return 'transient';
  return 'fatal';
}

/** A duplicate-key error of a single-document write (insertOne, an upsert). */
export function isDuplicateKeyError(error: unknown): boolean {
  return classifyMongoError(error) === 'duplicate';
}

/** Per document, what an unordered bulk insert that reported write errors did not write. */
export interface BulkInsertFailures {
  /** Input indexes whose `_id` already existed. */
  duplicates: Set<number>;
  /** Input indexes that failed for another reason (too large, rejected by a validator...), with the server's message. */
  failed: Map<number, string>;
}

/**
 * Reads the write errors of a failed `insertMany(docs, { ordered: false })`: every document not
 * listed was inserted. Null when the error carries no write errors (network, write concern...):
 * then nothing is known per document, and the error is rethrown.
 */
export function bulkInsertFailures(error: unknown): BulkInsertFailures | null {
  if (typeof error !== 'object' || error === null || hasWriteConcernError(error)) return null;
  const raw = (error as ErrorShape).writeErrors;
  if (raw === undefined || raw === null) return null;
  const writeErrors = (Array.isArray(raw) ? raw : [raw]) as { code?: unknown; index?: unknown; errmsg?: unknown }[];
  if (writeErrors.length === 0) return null;
  const result: BulkInsertFailures = { duplicates: new Set(), failed: new Map() };
  for (const writeError of writeErrors) {
    if (typeof writeError?.index !== 'number') return null;
    if (writeError.code === DUPLICATE_KEY) result.duplicates.add(writeError.index);
    else result.failed.set(writeError.index, `${String(writeError.errmsg ?? 'write error')} (code ${String(writeError.code)})`);
  }
  return result;
}

/**
 * Whether a write error also carries a write-concern error: the writes it reports as done may
 * not be durable (a failover can roll them back), so nothing is known per document. The driver
 * keeps it in `result` when write errors are present, in the error itself otherwise.
 */
export function hasWriteConcernError(error: object): boolean {
  const e = error as { writeConcernError?: unknown; errInfo?: unknown; result?: { getWriteConcernError?: () => unknown } };
  if (e.writeConcernError) return true;
  const result = e.result;
  return typeof result?.getWriteConcernError === 'function' && Boolean(result.getWriteConcernError());
}

/** The error for runs the server refused (not duplicates); `kept`: runs of the batch that stay written. */
export function insertFailure(runs: readonly { id: string }[], failed: ReadonlyMap<number, string>, kept: readonly string[] = []): StoreError {
  const detail = [...failed].map(([index, message]) => `"${runs[index]?.id}": ${message}`).join('; ');
  const written = kept.length > 0 ? ` Already claimed, so kept: ${kept.map((id) => `"${id}"`).join(', ')}.` : ' Nothing was written.';
  return new StoreError(`MongoDB refused ${failed.size} run(s): ${detail}.${written}`);
}

/** A driver error in one line: its message and, when it has one, its code. */
export function describeMongoError(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const code = typeof error === 'object' && error !== null ? (error as ErrorShape).code : undefined;
  return typeof code === 'number' ? `${message} (code ${code})` : message;
}

/** Wraps a driver error as a {@link StoreError} (punctual errors pass through unchanged). */
export function toStoreError(operation: string, error: unknown): Error {
  if (isPunctualError(error)) return error;
  const message = error instanceof Error ? error.message : String(error);
  const kind = classifyMongoError(error);
  return new StoreError(`MongoDB ${operation} failed (${kind}): ${message}`, { cause: error });
}
