export { createScheduler } from './scheduler.js';
export type { Scheduler, ScopedScheduler, StopOptions } from './scheduler.js';
export type { AuditListQuery } from './audit-list.js';
export type { SchedulerOptions } from './options.js';
export { defineHandler } from './registry.js';
export type { HandlerDefinition, HandlerMap, HandlersFor, PayloadOf, SchemaMap, TaskContext } from './registry.js';
export type { CreateTriggerInput, UpdateTriggerInput, TriggerSettings, AnyPayload } from './trigger-input.js';
export type { ActorOptions } from './actor.js';
export type { TriggersApi, TriggerListQuery, RunNowOptions, RunManyItem, RunManyOptions, ScopedCreateTriggerInput } from './triggers.js';
export type { RunTimeOptions } from './manual-runs.js';
export { MAX_DELAY_MS } from './manual-runs.js';
export type { TypedTrigger, TriggerInputFor, TriggerRef, PayloadFor, UpsertAction, UpsertResult } from './trigger-handle.js';
export type { SyncOptions, SyncResult } from './trigger-sync.js';
export { MAX_SYNC_TRIGGERS, UNDECLARED_REASON } from './trigger-sync.js';
export type { EnqueueApi, EnqueueOptions, EnqueueJob, EnqueueManyOptions } from './enqueue.js';
export { MAX_ENQUEUE_MANY, queueTriggerName } from './enqueue.js';
export { MAX_RUN_MANY } from './triggers.js';
export { MAX_JSON_DEPTH, MAX_JSON_VALUES } from './json-limits.js';
export type { RunsApi, RunListQuery } from './runs.js';
export type { PublishOptions, PublishResult } from './publish.js';
export type { CalendarDefinition } from './calendars.js';
export type { BackfillRange, BackfillResult } from './triggers.js';
export type { TimingInput } from './trigger-input.js';
export { exponentialBackoff, constantBackoff, noRetry, DEFAULT_RETRY, MAX_RETRIES } from './retry.js';
export type { RetryPolicy, RetryContext } from './retry.js';
export type { SchedulerEvents, SchedulerEventName, SchedulerListener } from './events.js';
export type { MetricsSnapshot, HistogramSnapshot } from './metrics.js';
export type { HealthReport } from './health.js';
export type { WaitingRuns } from './waiting-runs.js';
export { parseSchedule, nextFireTime, previewSchedule } from './schedules/index.js';
export { systemClock } from './clock.js';
export type { Clock, TimerHandle } from './clock.js';
export { seededRandom, systemRandom } from './random.js';
export type { RandomSource } from './random.js';
export {
  PunctualError,
  ValidationError,
  NotFoundError,
  ConflictError,
  ConfigurationError,
  NonRetryableError,
  TimeoutError,
  CancelledError,
  LeaseLostError,
  StoreError,
  StoppedError,
  isPunctualError,
} from './errors.js';
export type { PunctualErrorCode, ValidationIssue } from './errors.js';
export { memoryStore } from './stores/memory/index.js';
export { memoryLockStore } from './locks/memory/index.js';
export type { MongoDbLike } from './options.js';
// The store interfaces stay here because `store` and `lockStore` options take them; the types their
// methods use are for store authors, in `punctual/store`.
export type { Store } from './stores/types.js';
export type { LockStore } from './locks/types.js';
export type * from './types.js';
export { FINAL_RUN_STATUSES, RUN_STATUSES, RUN_SOURCES, TRIGGER_STATUSES, MISFIRE_POLICIES, OVERLAP_POLICIES, AUDIT_ACTIONS } from './types.js';
export { NAME_PATTERN, OWNER_PATTERN, ID_PATTERN } from './trigger-input.js';
export type { PunctualErrorsByName } from './errors.js';
