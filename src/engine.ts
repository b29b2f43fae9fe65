import type { EventBus } from './events.js';
import type { LockStore } from './locks/types.js';
import type { Metrics } from './metrics.js';
import type { ResolvedOptions } from './options.js';
import { randomId } from './random.js';
import type { HandlerRegistry } from './registry.js';
import { exponentialBackoff, DEFAULT_RETRY, toRetryPolicy, type RetryPolicy } from './retry.js';
import type { Store } from './stores/types.js';
import type { AuditEntry, RunRecord, RunSource, TriggerRecord } from './types.js';

/**
 * Everything the engine's parts draw on: the store, the registry, options, time. Built once by
 * `createScheduler`, which hands each part only the members it declares in its own narrow
 * context (`OutcomeContext`, `ExecutorContext`, ...); the API services take all of it.
 */
export interface Engine {
  readonly store: Store;
  readonly locks: LockStore;
  readonly registry: HandlerRegistry;
  readonly events: EventBus;
  readonly metrics: Metrics;
  readonly options: ResolvedOptions;
  /** The store is initialized (lazily, once). */
  ready(): Promise<void>;
  now(): Date;
  newId(): string;
}

/** What the API services (triggers, runs, publish) need beyond the {@link Engine}: telling the loops about their writes. */
export interface ApiContext extends Engine {
  /** Runs were added or made available here: claim now (or at `at`, for runs that become available later) without waiting for the poll. */
  wake(at?: Date): void;
  /** A trigger changed here: refresh the dispatcher's copy. */
  triggerChanged(trigger: TriggerRecord | null, id: string): void;
}

/** What appending an audit entry needs. */
export type AuditContext = Pick<Engine, 'store' | 'events' | 'now' | 'newId'>;

/** What choosing a run's retry policy needs. */
export interface RetryPolicyContext {
  readonly registry: Pick<HandlerRegistry, 'get'>;
  readonly options: Pick<ResolvedOptions, 'retry'>;
}

/** What building a new run needs: its handler's limits, the defaults, the random source, the time. */
export interface RunBuildContext extends RetryPolicyContext {
  readonly options: Pick<ResolvedOptions, 'retry' | 'random' | 'defaultTimeoutMs'>;
  now(): Date;
}

/** Appends an audit entry and emits `audit:recorded`. */
export async function recordAudit(ctx: AuditContext, entry: Omit<AuditEntry, 'id' | 'at'>): Promise<void> {
  const full: AuditEntry = { id: ctx.newId(), at: ctx.now(), ...entry };
  await ctx.store.appendAudit(full);
  ctx.events.emit('audit:recorded', { entry: full });
}

/** The retry policy that applies to a run: trigger override, else handler, else scheduler. */
export function retryPolicyFor(ctx: RetryPolicyContext, taskType: string, override: RunRecord['retry']): RetryPolicy {
  if (override) return exponentialBackoff({ ...DEFAULT_RETRY, ...override });
  return toRetryPolicy(ctx.registry.get(taskType)?.retry, ctx.options.retry);
}

/** The attempts a run of `taskType` gets: what `retryPolicyFor` allows, without building a policy for an override. */
function maxAttemptsFor(ctx: RetryPolicyContext, taskType: string, override: RunRecord['retry']): number {
  if (override) return (override.maxRetries ?? DEFAULT_RETRY.maxRetries) + 1;
  return retryPolicyFor(ctx, taskType, undefined).maxRetries + 1;
}

/** The id of the run for one slot of a trigger: the same on every instance, so a slot has one run. */
export function slotRunId(triggerId: string, slot: Date): string {
  return `${triggerId}@${slot.toISOString()}`;
}

/** Builds a new pending run of a trigger, created at `init.now` (default: the clock's now). */
export function buildRun(
  ctx: RunBuildContext,
  trigger: TriggerRecord,
  init: { id?: string; source: RunSource; scheduledFor: Date; availableAt?: Date; payload?: unknown; priority?: number; event?: RunRecord['event']; overlap?: RunRecord['overlap']; now?: Date },
): RunRecord {
  const handler = ctx.registry.get(trigger.taskType);
  const run: RunRecord = {
    id: init.id ?? `${trigger.id}@${randomId(ctx.options.random, 12)}`,
    triggerId: trigger.id,
    triggerName: trigger.name,
    owner: trigger.owner,
    taskType: trigger.taskType,
    payload: init.payload === undefined ? trigger.payload : init.payload,
    source: init.source,
    status: 'pending',
    priority: init.priority ?? trigger.priority,
    scheduledFor: init.scheduledFor,
    availableAt: init.availableAt ?? init.scheduledFor,
    attempt: 0,
    maxAttempts: maxAttemptsFor(ctx, trigger.taskType, trigger.retry),
    timeoutMs: trigger.timeoutMs ?? handler?.timeoutMs ?? ctx.options.defaultTimeoutMs,
    overlap: init.overlap ?? trigger.overlap,
    lease: null,
    startedAt: null,
    finishedAt: null,
    durationMs: null,
    instanceId: null,
    cancelRequested: false,
    attempts: [],
    createdAt: init.now ?? ctx.now(),
    expiresAt: null,
  };
  // Optional fields only when set, as before (the stores and events see the same keys).
  if (trigger.retry) run.retry = trigger.retry;
  if (trigger.autoPause) run.pauseAfterFailures = trigger.autoPause.afterFailures;
  if (init.event) run.event = init.event;
  return run;
}
