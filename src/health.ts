import type { EventBus } from './events.js';
import type { LockStore } from './locks/types.js';
import type { Metrics } from './metrics.js';
import type { ResolvedOptions } from './options.js';
import type { Store } from './stores/types.js';
import { describeError } from './errors.js';
import type { WaitingRuns } from './waiting-runs.js';

/** What `scheduler.health()` reports. */
export interface HealthReport {
  /** `ok`: started and the store and lock store answer; `degraded`: store or lock-store errors; `stopped`: not started. */
  status: 'ok' | 'degraded' | 'stopped';
  instanceId: string;
  store: {
    kind: string;
    reachable: boolean;
    /** Round trip of the health check's ping, ms. */
    latencyMs: number | null;
    /** The latest store error, while the store is failing. */
    error?: { name: string; message: string; operation: string; since: Date };
    /** What this deployment lacks and what the store does instead (e.g. MongoDB without TTL indexes); absent when nothing. */
    notes?: string[];
  };
  /** The lock store, with its latest error while it is failing (e.g. Redis down). */
  lockStore: { kind: string; error?: { name: string; message: string; operation: string; since: Date } };
  /** `notify`: the store pushes changes; `poll`: changes from other instances are seen at the next poll. */
  wakeups: 'notify' | 'poll';
  /** Lateness of the most recent run start, ms. */
  dispatchLagMs: number;
  /** Triggers due within the look-ahead window. */
  queueDepth: number;
  /** Runs executing on this instance. */
  running: number;
  /**
   * Runs waiting for a handler, by task type: due pending runs of types this instance has no
   * handler for, with how many and since when the oldest was due. Counted every 10 s by the
   * poll. Another instance with the handler claims them within a poll, so a count that stays,
   * or an old `since`, means no running instance handles the type (a forgotten deploy). Such
   * runs are not failed or retried and no attempt is counted: they wait.
   */
  waitingForHandler: Record<string, WaitingRuns>;
}

type Source = 'store' | 'lockStore';

/** What health reads: the two stores it pings or names, the events and counters it reports, the clock and instance id. */
export interface HealthContext {
  readonly store: Pick<Store, 'ping' | 'kind' | 'notes'>;
  readonly locks: Pick<LockStore, 'kind'>;
  readonly events: Pick<EventBus, 'emit'>;
  readonly metrics: Pick<Metrics, 'increment' | 'lastDispatchLagMs'>;
  readonly options: Pick<ResolvedOptions, 'clock' | 'instanceId'>;
}

/** Tracks store and lock-store failures reported by the engine's loops, each cleared by a success of the same kind. */
export class Health {
  notifications = false;
  private readonly failures = new Map<Source, { error: unknown; operation: string; since: Date }>();

  constructor(private readonly ctx: HealthContext) {}

  failed(operation: string, error: unknown): void {
    this.ctx.metrics.increment('storeErrors');
    const source = sourceOf(operation);
    const current = this.failures.get(source);
    this.failures.set(source, { error, operation, since: current?.since ?? new Date(this.ctx.options.clock.now()) });
  }

  succeeded(operation: string): void {
    const source = sourceOf(operation);
    const failure = this.failures.get(source);
    if (!failure) return;
    this.failures.delete(source);
    this.ctx.events.emit('scheduler:recovered', { operation, downtimeMs: this.ctx.options.clock.now() - failure.since.getTime() });
  }

  async report(state: { running: number; queueDepth: number; started: boolean; waitingForHandler: Readonly<Record<string, WaitingRuns>> }): Promise<HealthReport> {
    const { ctx } = this;
    const started = ctx.options.clock.now();
    let reachable = true;
    let latencyMs: number | null = null;
    let pingError: unknown = null;
    try {
      await ctx.store.ping();
      latencyMs = ctx.options.clock.now() - started;
    } catch (error) {
      reachable = false;
      pingError = error;
    }
    const storeFailure = this.failures.get('store') ?? (pingError ? { error: pingError, operation: 'ping', since: new Date(ctx.options.clock.now()) } : null);
    const lockFailure = this.failures.get('lockStore');
    const describe = (f: { error: unknown; operation: string; since: Date }) => ({ ...describeError(f.error), operation: f.operation, since: f.since });
    const notes = ctx.store.notes?.() ?? [];
    return {
      status: !state.started ? 'stopped' : reachable && this.failures.size === 0 ? 'ok' : 'degraded',
      instanceId: ctx.options.instanceId,
      store: {
        kind: ctx.store.kind,
        reachable,
        latencyMs,
        ...(storeFailure ? { error: describe(storeFailure) } : {}),
        ...(notes.length > 0 ? { notes: [...notes] } : {}),
      },
      lockStore: { kind: ctx.locks.kind, ...(lockFailure ? { error: describe(lockFailure) } : {}) },
      wakeups: this.notifications ? 'notify' : 'poll',
      dispatchLagMs: ctx.metrics.lastDispatchLagMs,
      queueDepth: state.queueDepth,
      running: state.running,
      waitingForHandler: { ...state.waitingForHandler },
    };
  }
}

function sourceOf(operation: string): Source {
  return operation.startsWith('lock') ? 'lockStore' : 'store';
}
