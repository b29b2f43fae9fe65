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

/**
 * For a bulk insert (`insertMany` with `ordered: false`) that failed only on duplicate keys:
 * the input indexes of the duplicates. Null when the error is anything else (then rethrow it).
 */
export function duplicateKeyIndexes(error: unknown): Set<number> | null {
  if (typeof error !== 'object' || error === null) return null;
  const raw = (error as ErrorShape).writeErrors;
  if (raw === undefined || raw === null) return null;
  const writeErrors = (Array.isArray(raw) ? raw : [raw]) as { code?: unknown; index?: unknown }[];
  if (writeErrors.length === 0) return null;
  const indexes = new Set<number>();
  for (const writeError of writeErrors) {
    if (writeError?.code !== DUPLICATE_KEY || typeof writeError.index !== 'number') return null;
    indexes.add(writeError.index);
  }
  return indexes;
}

/** Wraps a driver error as a {@link StoreError} (punctual errors pass through unchanged). */
export function toStoreError(operation: string, error: unknown): Error {
  if (isPunctualError(error)) return error;
  const message = error instanceof Error ? error.message : String(error);
  const kind = classifyMongoError(error);
  return new StoreError(`MongoDB ${operation} failed (${kind}): ${message}`, { cause: error });
}
