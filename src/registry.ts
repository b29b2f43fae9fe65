import type { StandardSchemaV1 } from '@standard-schema/spec';
import { ConfigurationError, ValidationError, type ValidationIssue } from './errors.js';
import { jsonIssue, preview } from './json-limits.js';
import { retryOptionIssues, type RetryPolicy } from './retry.js';
import type { RetryOptions, RunSource } from './types.js';

/** What a handler gets besides its payload. */
export interface TaskContext {
  /** Stable across attempts of this run: use it as an idempotency key. */
  runId: string;
  triggerId: string;
  triggerName: string;
  owner: string;
  taskType: string;
  /** 1 for the first attempt. */
  attempt: number;
  maxAttempts: number;
  /** The slot this run belongs to (request time for manual runs). */
  scheduledFor: Date;
  source: RunSource;
  /** Aborted on timeout, cancellation, lost lease or shutdown; `signal.reason` says which. */
  signal: AbortSignal;
  /** Records progress (0..100) with an optional note, visible in run history. */
  progress(percent: number, note?: string): Promise<void>;
  /** The published event, for event-triggered runs. */
  event?: { name: string; data: unknown; publishedAt: Date };
}

/**
 * One task type: how to validate its payload, how to run it, and its limits.
 * @example
 * {
 *   schema: z.object({ to: z.string().email() }),
 *   run: async (payload, ctx) => sendReport(payload.to, { signal: ctx.signal }),
 *   concurrency: 5,
 *   timeoutMs: 60_000,
 * }
 */
export interface HandlerDefinition<S extends StandardSchemaV1 = StandardSchemaV1> {
  /** Any Standard Schema (zod, valibot, arktype...). Checked at trigger creation and before each run. */
  schema: S;
  /** The work. Its resolved value is stored as the run's result (keep it small). */
  run: (payload: StandardSchemaV1.InferOutput<S>, ctx: TaskContext) => unknown;
  /** Max runs of this type at once on one instance. Default: no cap beyond `maxConcurrentRuns`. */
  concurrency?: number;
  /** Default execution limit for this type, ms, at most 86,400,000 (24 h). Default: the scheduler's `defaultTimeoutMs`. */
  timeoutMs?: number;
  /** Default priority of this type's runs; higher first. Default 0. */
  priority?: number;
  /** Retry policy or options for this type. Default: the scheduler's `retry`. */
  retry?: RetryPolicy | RetryOptions;
}

/** Task type name -> handler definition. */
export type HandlerMap = Record<string, HandlerDefinition>;

/** The schema map a handler map was built from. */
export type SchemaMap = Record<string, StandardSchemaV1>;

/** Handler definitions typed from their schemas, as `createScheduler` expects them. */
export type HandlersFor<S extends SchemaMap> = { [K in keyof S]: HandlerDefinition<S[K]> };

/** The payload a trigger of task type `K` accepts (the schema's input type). */
export type PayloadOf<S extends SchemaMap, K extends keyof S> = StandardSchemaV1.InferInput<S[K]>;

/**
 * Types one handler on its own, e.g. to keep it in its own module.
 * @example export const sendReport = defineHandler({ schema, run: async (p) => {...} });
 */
export function defineHandler<S extends StandardSchemaV1>(definition: HandlerDefinition<S>): HandlerDefinition<S> {
  return definition;
}

/** Limits shared with trigger validation. */
export const MAX_TIMEOUT_MS = 86_400_000;
export const TASK_TYPE_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$/;

/** Task type -> definition, validated once when the scheduler is created. */
export class HandlerRegistry {
  private readonly handlers = new Map<string, HandlerDefinition>();

  constructor(handlers: HandlerMap) {
    if (typeof handlers !== 'object' || handlers === null) {
      throw ConfigurationError.from([{ path: 'handlers', message: 'must be an object mapping task type names to { schema, run }' }]);
    }
    for (const [type, definition] of Object.entries(handlers)) {
      this.handlers.set(type, checkDefinition(type, definition));
    }
  }

  get types(): string[] {
    return [...this.handlers.keys()];
  }

  has(type: string): boolean {
    return this.handlers.has(type);
  }

  /** The definition, or undefined for an unknown type. */
  get(type: string): HandlerDefinition | undefined {
    return this.handlers.get(type);
  }

  /**
   * Validates `payload` against the JSON limits (see json-limits.ts), then the task type's
   * schema, which never sees a value beyond the limits. Returns the schema's output value;
   * throws ValidationError (paths prefixed with `payload`) when it does not match.
   */
  async validate(type: string, payload: unknown): Promise<unknown> {
    const definition = this.handlers.get(type);
    if (!definition) {
      throw ValidationError.from(
        [{ path: 'taskType', message: `unknown task type ${preview(type)}; registered: ${this.types.join(', ') || '(none)'}` }],
        'Invalid trigger',
      );
    }
    const beyondLimits = payload === undefined ? null : jsonIssue(payload, 'payload');
    if (beyondLimits) throw ValidationError.from([beyondLimits], `Invalid payload for task type ${preview(type)}`);
    let result = definition.schema['~standard'].validate(payload);
    if (result instanceof Promise) result = await result;
    if (result.issues) {
      throw ValidationError.from(result.issues.map(toIssue), `Invalid payload for task type ${preview(type)}`);
    }
    return result.value;
  }
}

function toIssue(issue: StandardSchemaV1.Issue): ValidationIssue {
  const segments = (issue.path ?? []).map((p) => String(typeof p === 'object' && p !== null ? p.key : p));
  return { path: ['payload', ...segments].join('.'), message: issue.message };
}

function checkDefinition(type: string, definition: HandlerDefinition): HandlerDefinition {
  const problems: ValidationIssue[] = [];
  const problem = (field: string, message: string): void => void problems.push({ path: `handlers.${type}${field ? `.${field}` : ''}`, message });
  if (!TASK_TYPE_PATTERN.test(type)) problem('', 'its name must be 1-100 letters, digits, ".", "_", ":" or "-"');
  if (typeof definition !== 'object' || definition === null) {
    throw ConfigurationError.from([{ path: `handlers.${type}`, message: 'must be an object { schema, run }' }], 'Invalid handler');
  }
  if (typeof definition.schema?.['~standard']?.validate !== 'function') {
    problem('schema', 'must be a Standard Schema (zod 3.24+, valibot, arktype...)');
  }
  if (typeof definition.run !== 'function') problem('run', 'must be a function (payload, ctx) => Promise');
  const { concurrency, timeoutMs, priority, retry } = definition;
  if (concurrency !== undefined && !(Number.isInteger(concurrency) && concurrency >= 1)) {
    problem('concurrency', `must be an integer >= 1, got ${String(concurrency)}`);
  }
  if (timeoutMs !== undefined && !(Number.isInteger(timeoutMs) && timeoutMs >= 1 && timeoutMs <= MAX_TIMEOUT_MS)) {
    problem('timeoutMs', `must be an integer from 1 to ${MAX_TIMEOUT_MS} (24 h), got ${String(timeoutMs)}`);
  }
  if (priority !== undefined && !(Number.isInteger(priority) && Math.abs(priority) <= 1_000)) {
    problem('priority', `must be an integer from -1000 to 1000, got ${String(priority)}`);
  }
  if (typeof retry !== 'function') {
    for (const issue of retryOptionIssues(retry, 'retry')) problem(issue.path, issue.message);
  }
  if (problems.length > 0) {
    throw ConfigurationError.from(problems, `Invalid handler ${JSON.stringify(type)}`);
  }
  return definition;
}
