import type { SlotFire, TriggerWrite } from '../stores/types.js';
import type { AuditEntry, RunRecord, TriggerRecord } from '../types.js';

/** The fixtures' epoch: 2026-01-01T00:00:00.000Z. */
const EPOCH = Date.UTC(2026, 0, 1);

/** Distinguishes this process's ids from those of other test processes sharing a database. */
const PREFIX = Math.random().toString(36).slice(2, 8);
let counter = 0;

/**
 * An instant `offsetMs` after the fixtures' epoch (2026-01-01T00:00:00Z); a new Date each call.
 * @example fixtureDate(60_000) // 2026-01-01T00:01:00Z
 */
export function fixtureDate(offsetMs = 0): Date {
  return new Date(EPOCH + offsetMs);
}

/**
 * A unique id such as `run-k3x9q1-000042`. Ids made later sort after earlier ones.
 * @example fixtureId('trg')
 */
export function fixtureId(kind: string): string {
  counter += 1;
  return `${kind}-${PREFIX}-${String(counter).padStart(6, '0')}`;
}

/**
 * A valid, active interval trigger (every minute, next slot at epoch + 1 min, version 1) with
 * a unique id and name; `overrides` replace any field.
 * @example
 * await store.insertTrigger(makeTrigger({ owner: 'user-1', nextFireAt: fixtureDate(0) }));
 */
export function makeTrigger(overrides: Partial<TriggerRecord> = {}): TriggerRecord {
  const id = overrides.id ?? fixtureId('trg');
  return {
    id,
    owner: 'owner-a',
    name: `name-${id}`,
    taskType: 'task-a',
    payload: { to: 'someone@example.com', count: 1 },
    schedule: { kind: 'interval', everyMs: 60_000, anchor: fixtureDate().toISOString() },
    status: 'active',
    nextFireAt: fixtureDate(60_000),
    priority: 0,
    misfire: 'once',
    misfireGraceMs: 60_000,
    overlap: 'queue',
    runCount: 0,
    createdAt: fixtureDate(),
    updatedAt: fixtureDate(),
    version: 1,
    ...overrides,
  };
}

/**
 * A valid pending run (scheduled and available at the epoch, attempt 0 of 3) with a unique id;
 * `overrides` replace any field. `availableAt` defaults to `scheduledFor`.
 * @example
 * await store.insertRuns([makeRun({ priority: 5 }), makeRun({ taskType: 'task-b' })]);
 */
export function makeRun(overrides: Partial<RunRecord> = {}): RunRecord {
  const scheduledFor = overrides.scheduledFor ?? fixtureDate();
  return {
    id: fixtureId('run'),
    triggerId: 'trg-fixture',
    triggerName: 'fixture',
    owner: 'owner-a',
    taskType: 'task-a',
    payload: { to: 'someone@example.com', count: 1 },
    source: 'schedule',
    status: 'pending',
    priority: 0,
    scheduledFor,
    availableAt: new Date(scheduledFor.getTime()),
    attempt: 0,
    maxAttempts: 3,
    timeoutMs: 60_000,
    retry: { maxRetries: 2, initialDelayMs: 1_000, multiplier: 2, maxDelayMs: 60_000, jitter: 0 },
    overlap: 'queue',
    lease: null,
    startedAt: null,
    finishedAt: null,
    durationMs: null,
    instanceId: null,
    cancelRequested: false,
    attempts: [],
    createdAt: fixtureDate(),
    expiresAt: null,
    ...overrides,
  };
}

/**
 * A valid audit entry (`trigger.create` by `user-1` at the epoch) with a unique id.
 * @example
 * await store.appendAudit(makeAudit({ action: 'trigger.pause', at: fixtureDate(1_000) }));
 */
export function makeAudit(overrides: Partial<AuditEntry> = {}): AuditEntry {
  return {
    id: fixtureId('aud'),
    at: fixtureDate(),
    actor: 'user-1',
    action: 'trigger.create',
    owner: 'owner-a',
    triggerId: 'trg-fixture',
    ...overrides,
  };
}

/**
 * The compare-and-set write that moves `trigger` to its next version with `changes` applied.
 * @example
 * await store.updateTrigger(makeTriggerWrite(trigger, { status: 'paused' }));
 */
export function makeTriggerWrite(trigger: TriggerRecord, changes: Partial<TriggerRecord> = {}): TriggerWrite {
  return { id: trigger.id, expectedVersion: trigger.version, next: { ...trigger, ...changes, version: trigger.version + 1 } };
}

/**
 * The run of `trigger`'s current slot (`nextFireAt`, or the epoch when null), with the
 * deterministic id the engine gives it: `<triggerId>@<slot ISO>`.
 * @example
 * const run = makeSlotRun(trigger);
 */
export function makeSlotRun(trigger: TriggerRecord, overrides: Partial<RunRecord> = {}): RunRecord {
  const slot = trigger.nextFireAt ?? fixtureDate();
  return makeRun({
    id: `${trigger.id}@${slot.toISOString()}`,
    triggerId: trigger.id,
    triggerName: trigger.name,
    owner: trigger.owner,
    taskType: trigger.taskType,
    priority: trigger.priority,
    scheduledFor: slot,
    ...overrides,
  });
}

/**
 * Firing `trigger`'s current slot with `run`: the trigger moves one minute on, its run count
 * and version up by one.
 * @example
 * await store.fireSlots([makeSlotFire(trigger, makeSlotRun(trigger))]); // ['fired']
 */
export function makeSlotFire(trigger: TriggerRecord, run: RunRecord | null): SlotFire {
  const nextFireAt = new Date((trigger.nextFireAt ?? fixtureDate()).getTime() + 60_000);
  const next = { ...trigger, nextFireAt, runCount: trigger.runCount + 1, version: trigger.version + 1 };
  return { triggerId: trigger.id, expectedVersion: trigger.version, next, run };
}
