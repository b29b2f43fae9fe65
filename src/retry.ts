import { ValidationError, type ValidationIssue } from './errors.js';
import { int, named, objectOf, type Field } from './field-kit.js';
import type { RandomSource } from './random.js';
import type { RetryOptions } from './types.js';

/** What a retry policy is told about the failed attempt. */
export interface RetryContext {
  /** The attempt that just failed, 1-based. */
  attempt: number;
  error: unknown;
  /** The injected random source, for jitter. */
  random: RandomSource;
}

/**
 * Decides whether and when a failed run is tried again: returns the delay in ms before the
 * next attempt, or `null` to fail the run for good. `maxRetries` bounds the attempts a run
 * may use (also when an instance dies holding it).
 * @example
 * const policy = exponentialBackoff({ maxRetries: 5, initialDelayMs: 500 });
 * // retries after ~0.5s, 1s, 2s, 4s, 8s (each +-20%), then fails
 */
export interface RetryPolicy {
  (context: RetryContext): number | null;
  readonly maxRetries: number;
}

/** The highest `maxRetries` accepted. */
export const MAX_RETRIES = 10;

export const DEFAULT_RETRY: Required<RetryOptions> = {
  maxRetries: 3,
  initialDelayMs: 1_000,
  multiplier: 2,
  maxDelayMs: 60_000,
  jitter: 0.2,
};

const MS_RULE = 'a number of ms from 0 to 86400000';

/** The retry options, field by field: checks, messages and JSON Schema. */
export const RETRY_FIELDS = {
  maxRetries: int(0, MAX_RETRIES),
  initialDelayMs: int(0, 86_400_000, { fraction: true, rule: MS_RULE }),
  multiplier: int(1, 100, { fraction: true }),
  maxDelayMs: int(0, 86_400_000, { fraction: true, rule: MS_RULE }),
  jitter: int(0, 0.2, { fraction: true, rule: 'a fraction from 0 to 0.2' }),
} satisfies { [K in keyof Required<RetryOptions>]: Field<number> };

/** `retry` of a trigger, a handler or the scheduler: an object of {@link RETRY_FIELDS}. */
export const retryField = named(
  'RetryOptions',
  objectOf(RETRY_FIELDS, {
    notObject: 'must be an object like { maxRetries: 3, initialDelayMs: 1000 }',
    unknownKey: (known) => `unknown option; valid: ${known.join(', ')}`,
  }),
);

/** Checks retry options; returns the issues found (empty when valid). */
export function retryOptionIssues(options: unknown, path: string): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  if (options !== undefined) retryField.check(options, path, issues, undefined);
  return issues;
}

/**
 * Exponential backoff: attempt n (1-based) waits `initialDelayMs * multiplier^(n-1)`, capped at
 * `maxDelayMs`, spread by +-`jitter`.
 * @example exponentialBackoff({ maxRetries: 3 }) // ~1s, ~2s, ~4s, then failed
 */
export function exponentialBackoff(options: RetryOptions = {}): RetryPolicy {
  const issues = retryOptionIssues(options, 'retry');
  if (issues.length > 0) throw ValidationError.from(issues, 'Invalid retry options');
  const o = { ...DEFAULT_RETRY, ...definedOnly(options) };
  const policy = ({ attempt, random }: RetryContext): number | null => {
    if (attempt > o.maxRetries) return null;
    const base = Math.min(o.maxDelayMs, o.initialDelayMs * o.multiplier ** (attempt - 1));
    const spread = o.jitter * (2 * random() - 1);
    return Math.max(0, Math.round(base * (1 + spread)));
  };
  return Object.assign(policy, { maxRetries: o.maxRetries });
}

/** The same delay every time. */
export function constantBackoff(delayMs: number, maxRetries = DEFAULT_RETRY.maxRetries): RetryPolicy {
  return exponentialBackoff({ maxRetries, initialDelayMs: delayMs, multiplier: 1, maxDelayMs: delayMs, jitter: 0 });
}

/** Never retry. */
export const noRetry: RetryPolicy = Object.assign(() => null, { maxRetries: 0 });

/** Accepts either a policy function or options for {@link exponentialBackoff}. */
export function toRetryPolicy(value: RetryPolicy | RetryOptions | undefined, fallback: RetryPolicy): RetryPolicy {
  if (value === undefined) return fallback;
  return typeof value === 'function' ? value : exponentialBackoff(value);
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
