import { storableText } from './json-limits.js';

/** Machine-readable error codes. Match on `code` (or `name`), never on message text. */
export type PunctualErrorCode =
  | 'VALIDATION'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'CONFIGURATION'
  | 'NON_RETRYABLE'
  | 'TIMEOUT'
  | 'CANCELLED'
  | 'LEASE_LOST'
  | 'STORE'
  | 'STOPPED';

/**
 * Base class of every error punctual throws. `name` and `code` are set explicitly so checks
 * keep working when two copies of the package are loaded (ESM and CJS).
 */
export class PunctualError extends Error {
  readonly code: PunctualErrorCode;
  constructor(code: PunctualErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = 'PunctualError';
  }
}

/** One invalid field: a dotted path (e.g. `payload.to`) and what is wrong with it. */
export interface ValidationIssue {
  path: string;
  message: string;
}

/** Input was rejected. Nothing was written. `issues` lists every problem found. */
export class ValidationError extends PunctualError {
  readonly issues: readonly ValidationIssue[];
  constructor(message: string, issues: readonly ValidationIssue[] = [], options?: { cause?: unknown }) {
    super('VALIDATION', message, options);
    this.name = 'ValidationError';
    this.issues = issues;
  }

  /** Builds an error whose message lists each issue as `path: message`. */
  static from(issues: readonly ValidationIssue[], subject = 'Invalid input'): ValidationError {
    // Messages quote the bad values; keep each one short so a huge input cannot make a huge error.
    const short = (text: string): string => (text.length > 300 ? `${text.slice(0, 300)}…` : text);
    issues = issues.map((i) => ({ path: short(i.path), message: short(i.message) }));
    const detail = issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join('; ');
    return new ValidationError(`${subject}: ${detail}`, issues);
  }
}

/** The trigger or run does not exist, or belongs to another owner (the two are indistinguishable on purpose). */
export class NotFoundError extends PunctualError {
  constructor(message: string) {
    super('NOT_FOUND', message);
    this.name = 'NotFoundError';
  }
}

/** The write conflicts with existing data, e.g. a trigger name already used by the same owner. */
export class ConflictError extends PunctualError {
  constructor(message: string) {
    super('CONFLICT', message);
    this.name = 'ConflictError';
  }
}

/** `createScheduler` options (or a store's construction options) are invalid. `issues` lists every problem found. */
export class ConfigurationError extends PunctualError {
  readonly issues: readonly ValidationIssue[];
  constructor(message: string, issues: readonly ValidationIssue[] = []) {
    super('CONFIGURATION', message);
    this.name = 'ConfigurationError';
    this.issues = issues;
  }

  /** Builds an error whose message lists each issue as `path: message`. */
  static from(issues: readonly ValidationIssue[], subject = 'Invalid scheduler options'): ConfigurationError {
    const detail = issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join('; ');
    return new ConfigurationError(`${subject}: ${detail}`, issues);
  }
}

/**
 * Throw this from a handler to fail the run for good, without further retries.
 * @example
 * if (response.status === 404) throw new NonRetryableError('report template is gone');
 */
export class NonRetryableError extends PunctualError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('NON_RETRYABLE', message, options);
    this.name = 'NonRetryableError';
  }
}

/** The handler ran past its `timeoutMs`; its signal was aborted with this reason. */
export class TimeoutError extends PunctualError {
  constructor(message: string) {
    super('TIMEOUT', message);
    this.name = 'TimeoutError';
  }
}

/** The run was cancelled (by `runs.cancel`, an overlap policy or shutdown); the signal's reason. */
export class CancelledError extends PunctualError {
  constructor(message: string) {
    super('CANCELLED', message);
    this.name = 'CancelledError';
  }
}

/** This instance lost the run's lease (it expired or another instance took the run over). */
export class LeaseLostError extends PunctualError {
  constructor(message: string) {
    super('LEASE_LOST', message);
    this.name = 'LeaseLostError';
  }
}

/** A store or lock store operation failed (network, outage); the engine retries these itself. */
export class StoreError extends PunctualError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('STORE', message, options);
    this.name = 'StoreError';
  }
}

/** The scheduler is stopped or stopping and cannot take this call. */
export class StoppedError extends PunctualError {
  constructor(message: string) {
    super('STOPPED', message);
    this.name = 'StoppedError';
  }
}

const ERROR_CODES: ReadonlySet<string> = new Set<PunctualErrorCode>([
  'VALIDATION', 'NOT_FOUND', 'CONFLICT', 'CONFIGURATION', 'NON_RETRYABLE', 'TIMEOUT', 'CANCELLED', 'LEASE_LOST', 'STORE', 'STOPPED',
]);

/** The error classes by name, for {@link isPunctualError}. */
export interface PunctualErrorsByName {
  PunctualError: PunctualError;
  ValidationError: ValidationError;
  NotFoundError: NotFoundError;
  ConflictError: ConflictError;
  ConfigurationError: ConfigurationError;
  NonRetryableError: NonRetryableError;
  TimeoutError: TimeoutError;
  CancelledError: CancelledError;
  LeaseLostError: LeaseLostError;
  StoreError: StoreError;
  StoppedError: StoppedError;
}

/**
 * True for any punctual error, or for one of the given class name, across package copies (ESM
 * and CJS); false for driver errors that also carry a `code`. Narrows the type.
 * @example if (isPunctualError(error, 'ValidationError')) reply(400, error.issues);
 */
export function isPunctualError<N extends keyof PunctualErrorsByName = 'PunctualError'>(error: unknown, name?: N): error is PunctualErrorsByName[N] {
  if (typeof error !== 'object' || error === null) return false;
  const e = error as { code?: unknown; name?: unknown };
  if (typeof e.code !== 'string' || typeof e.name !== 'string' || !ERROR_CODES.has(e.code)) return false;
  return name === undefined || name === 'PunctualError' ? error instanceof Error : e.name === name;
}

/** Name and message of any thrown value, safe to store in history (no stack, no extra fields). */
export function describeError(error: unknown): { name: string; message: string } {
  if (error instanceof Error) return { name: storableText(truncate(safeString(error.name) || 'Error')), message: storableText(truncate(safeString(error.message))) };
  return { name: 'Error', message: storableText(truncate(typeof error === 'string' ? error : safeString(error))) };
}

function safeString(value: unknown): string {
  try {
    return String(value);
  } catch {
    return 'unknown error';
  }
}

function truncate(message: string): string {
  return message.length > 2_000 ? `${message.slice(0, 2_000)}…` : message;
}
