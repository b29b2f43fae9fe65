import type { EventBus } from './events.js';
import type { LockStore } from './locks/types.js';
import type { Metrics } from './metrics.js';
import type { ResolvedOptions } from './options.js';
import { randomId } from './random.js';
import type { HandlerRegistry } from './registry.js';
import { exponentialBackoff, DEFAULT_RETRY, toRetryPolicy, type RetryPolicy } from './retry.js';
import type { Store } from './stores/types.js';
import type { AuditEntry, RunRecord, RunSource, TriggerRecord } from './types.js';

/** What the engine's parts share: the store, the registry, options, time. Built once by `createScheduler`. */
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

/** Appends an audit entry and emits `audit:recorded`. */
export async function recordAudit(engine: Engine, entry: Omit<AuditEntry, 'id' | 'at'>): Promise<void> {
  const full: AuditEntry = { id: engine.newId(), at: engine.now(), ...entry };
  await engine.store.appendAudit(full);
  engine.events.emit('audit:recorded', { entry: full });
}

/** The retry policy that applies to a run: trigger override, else handler, else scheduler. */
export function retryPolicyFor(engine: Engine, taskType: string, override: RunRecord['retry']): RetryPolicy {
  if (override) return exponentialBackoff({ ...DEFAULT_RETRY, ...override });
  return toRetryPolicy(engine.registry.get(taskType)?.retry, engine.options.retry);
}

/** The id of the run for one slot of a trigger: the same on every instance, so a slot has one run. */
export function slotRunId(triggerId: string, slot: Date): string {
  return `${triggerId}@${slot.toISOString()}`;
}

/** Builds a new pending run of a trigger. */
export function buildRun(
  engine: Engine,
  trigger: TriggerRecord,
  init: { id?: string; source: RunSource; scheduledFor: Date; availableAt?: Date; payload?: unknown; priority?: number; event?: RunRecord['event']; overlap?: RunRecord['overlap'] },
): RunRecord {
  const handler = engine.registry.get(trigger.taskType);
  const now = engine.now();
  return {
    id: init.id ?? `${trigger.id}@${randomId(engine.options.random, 12)}`,
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
    maxAttempts: retryPolicyFor(engine, trigger.taskType, trigger.retry).maxRetries + 1,
    timeoutMs: trigger.timeoutMs ?? handler?.timeoutMs ?? engine.options.defaultTimeoutMs,
    ...(trigger.retry ? { retry: trigger.retry } : {}),
    overlap: init.overlap ?? trigger.overlap,
    ...(trigger.autoPause ? { pauseAfterFailures: trigger.autoPause.afterFailures } : {}),
    lease: null,
    startedAt: null,
    finishedAt: null,
    durationMs: null,
    instanceId: null,
    cancelRequested: false,
    attempts: [],
    ...(init.event ? { event: init.event } : {}),
    createdAt: now,
    expiresAt: null,
  };
}
