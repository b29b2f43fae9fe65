import { EventEmitter } from 'eventemitter3';
import type { MetricsSnapshot } from './metrics.js';
import type { AuditEntry, RunError, RunRecord, TriggerRecord } from './types.js';

/**
 * Every event punctual emits: `noun:verb` names, one payload object each.
 * Listeners may be async; a listener that throws or rejects never affects the engine (the
 * error is reported as `scheduler:error` with `source: 'listener'`).
 */
export interface SchedulerEvents {
  'scheduler:started': { instanceId: string };
  'scheduler:stopped': { instanceId: string };
  /** Something went wrong inside the engine (store outage, listener error). The engine carries on. */
  'scheduler:error': { error: unknown; source: 'store' | 'lock-store' | 'listener' | 'dispatcher' | 'executor'; operation: string };
  /** The store answered again after errors. */
  'scheduler:recovered': { operation: string; downtimeMs: number };
  /** Periodic metrics snapshot (every `metricsIntervalMs`). */
  'metrics:snapshot': { snapshot: MetricsSnapshot };

  'trigger:created': { trigger: TriggerRecord; actor: string };
  'trigger:updated': { trigger: TriggerRecord; previous: TriggerRecord; actor: string };
  'trigger:deleted': { trigger: TriggerRecord; actor: string };
  'trigger:paused': { trigger: TriggerRecord; actor: string; reason?: string };
  'trigger:resumed': { trigger: TriggerRecord; actor: string };
  /** The schedule has no more slots (a `once` trigger fired, an end date passed). */
  'trigger:completed': { trigger: TriggerRecord };
  /** Slots were missed (downtime, pause) and handled by the misfire policy. */
  'trigger:misfired': { triggerId: string; owner: string; missedFrom: Date; policy: TriggerRecord['misfire']; fired: Date | null };

  /** A run was created and waits to be claimed. */
  'run:scheduled': { run: RunRecord };
  'run:started': { run: RunRecord };
  'run:progress': { run: RunRecord; percent: number; note?: string };
  'run:completed': { run: RunRecord; result: unknown; durationMs: number };
  /** An attempt failed and another is scheduled. */
  'run:retrying': { run: RunRecord; error: RunError; nextAttempt: number; retryAt: Date };
  /** The run failed for good (last attempt, or a non-retryable error). */
  'run:failed': { run: RunRecord; error: RunError };
  'run:timed-out': { run: RunRecord; error: RunError };
  'run:cancelled': { run: RunRecord; reason: string };
  /** Overlap policy `skip`: the run was recorded as skipped. */
  'run:skipped': { run: RunRecord; reason: string };
  /** This instance lost a run's lease; its handler was aborted and its outcome discarded. */
  'run:lease-lost': { runId: string; instanceId: string };
  /** A run whose holder died was put back in the queue (or failed, out of attempts). */
  'run:recovered': { run: RunRecord; outcome: 'pending' | 'failed' };

  'audit:recorded': { entry: AuditEntry };
  /** `scheduler.publish` stored the runs of the matching event triggers. */
  'event:published': { name: string; eventId: string; runs: number };
}

export type SchedulerEventName = keyof SchedulerEvents;
export type SchedulerListener<E extends SchedulerEventName> = (event: SchedulerEvents[E]) => void | Promise<void>;

type Untyped = (event: unknown) => void;

/** The typed event bus with a safe emit. */
export class EventBus {
  private readonly emitter = new EventEmitter();
  private readonly wrapped = new Map<(...args: never[]) => unknown, Map<string, (event: never) => void>>();

  /** Subscribes; returns a function that unsubscribes. */
  on<E extends SchedulerEventName>(name: E, listener: SchedulerListener<E>): () => void {
    const safe = (event: SchedulerEvents[E]): void => {
      try {
        const result = listener(event);
        if (result && typeof (result as Promise<void>).catch === 'function') {
          (result as Promise<void>).catch((error: unknown) => this.listenerFailed(name, error));
        }
      } catch (error) {
        this.listenerFailed(name, error);
      }
    };
    let byName = this.wrapped.get(listener);
    if (!byName) this.wrapped.set(listener, (byName = new Map()));
    byName.set(name, safe as (event: never) => void);
    this.emitter.on(name, safe as Untyped);
    return () => this.off(name, listener);
  }

  /** Subscribes for one event only. */
  once<E extends SchedulerEventName>(name: E, listener: SchedulerListener<E>): () => void {
    const off = this.on(name, (event) => {
      off();
      return listener(event);
    });
    return off;
  }

  off<E extends SchedulerEventName>(name: E, listener: SchedulerListener<E>): void {
    const byName = this.wrapped.get(listener);
    const safe = byName?.get(name);
    if (!byName || !safe) return;
    byName.delete(name);
    if (byName.size === 0) this.wrapped.delete(listener);
    this.emitter.off(name, safe as Untyped);
  }

  /** Emits; never throws (listeners are wrapped). */
  emit<E extends SchedulerEventName>(name: E, event: SchedulerEvents[E]): void {
    if (this.emitter.listenerCount(name) === 0) return;
    this.emitter.emit(name, event);
  }

  /** Whether anyone listens: lets hot paths skip building a payload. */
  has(name: SchedulerEventName): boolean {
    return this.emitter.listenerCount(name) > 0;
  }

  removeAll(): void {
    this.emitter.removeAllListeners();
    this.wrapped.clear();
  }

  private listenerFailed(name: SchedulerEventName, error: unknown): void {
    if (name === 'scheduler:error') return; // never loop on a failing error listener
    this.emit('scheduler:error', { error, source: 'listener', operation: name });
  }
}
