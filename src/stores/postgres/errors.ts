import { ConflictError, PunctualError, StoreError } from '../../errors.js';

/**
 * What a PostgreSQL or driver error means to the store:
 * - `duplicate`: a unique constraint refused the write (SQLSTATE 23505);
 * - `transient`: the connection or the server is unavailable for now, or the transaction lost a
 *   race (serialization failure, deadlock); trying again later can succeed;
 * - `other`: anything else (a bug, a missing table, a permission problem).
 */
export type PgErrorKind = 'duplicate' | 'transient' | 'other';

const TRANSIENT_SQLSTATES = new Set([
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now
  '40001', // serialization_failure
  '40P01', // deadlock_detected
  '53300', // too_many_connections
]);

const TRANSIENT_SYSTEM_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

/**
 * Classifies an error thrown by `pg`. Pure: reads only `code`. SQLSTATE class 08 (connection
 * exception), 57P01-57P03, 40001, 40P01 and 53300 are transient, as are socket errors. An Error
 * without any code is also taken as transient: `pg` throws those for broken connections
 * ("Connection terminated unexpectedly", a pool connect timeout).
 * @example
 * classifyPgError({ code: '23505' }) // 'duplicate'
 * classifyPgError({ code: '57P01' }) // 'transient'
 */
export function classifyPgError(error: unknown): PgErrorKind {
  if (typeof error !== 'object' || error === null) return 'other';
  const code = (error as { code?: unknown }).code;
  if (code === '23505') return 'duplicate';
  if (typeof code === 'string') {
    if (code.startsWith('08') || TRANSIENT_SQLSTATES.has(code) || TRANSIENT_SYSTEM_CODES.has(code)) return 'transient';
    return 'other';
  }
  return error instanceof Error ? 'transient' : 'other';
}

/** The constraint behind a duplicate error, when PostgreSQL names it. */
export function violatedConstraint(error: unknown): string | undefined {
  const constraint = (error as { constraint?: unknown } | null)?.constraint;
  return typeof constraint === 'string' ? constraint : undefined;
}

/**
 * Turns a driver error into a punctual error: a duplicate trigger id or (owner, name) becomes a
 * ConflictError (message from `conflict`), everything else a StoreError wrapping the cause.
 * Punctual errors pass through unchanged.
 */
export function toStoreError(operation: string, error: unknown, conflict?: (constraint: string | undefined) => string): Error {
  if (error instanceof PunctualError) return error;
  const kind = classifyPgError(error);
  if (kind === 'duplicate' && conflict) return new ConflictError(conflict(violatedConstraint(error)));
  const message = error instanceof Error ? error.message : String(error);
  const hint = kind === 'transient' ? ' (PostgreSQL unreachable or busy; the scheduler retries)' : '';
  return new StoreError(`PostgreSQL store: ${operation} failed: ${message}${hint}`, { cause: error });
}
