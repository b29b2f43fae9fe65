import type { Engine } from './engine.js';
import { describeError } from './errors.js';

/** What `scheduler.health()` reports (R12). */
export interface HealthReport {
  /** `ok`: started and the store answers; `degraded`: store errors; `stopped`: not started. */
  status: 'ok' | 'degraded' | 'stopped';
  instanceId: string;
  store: {
    kind: string;
    reachable: boolean;
    /** Round trip of the health check's ping, ms. */
    latencyMs: number | null;
    /** The latest store error, while the store is failing. */
    error?: { name: string; message: string; operation: string; since: Date };
  };
  /** `notify`: the store pushes changes; `poll`: changes from other instances are seen at the next poll. */
  wakeups: 'notify' | 'poll';
  /** Lateness of the most recent run start, ms. */
  dispatchLagMs: number;
  /** Triggers due within the look-ahead window. */
  queueDepth: number;
  /** Runs executing on this instance. */
  running: number;
}

/** Tracks store failures reported by the engine's loops. */
export class Health {
  notifications = false;
  private failure: { error: unknown; operation: string; since: Date } | null = null;

  constructor(private readonly engine: Engine) {}

  failed(operation: string, error: unknown): void {
    this.engine.metrics.increment('storeErrors');
    if (!this.failure) this.failure = { error, operation, since: this.engine.now() };
    else this.failure = { ...this.failure, error, operation };
  }

  succeeded(operation: string): void {
    if (!this.failure) return;
    const downtimeMs = this.engine.now().getTime() - this.failure.since.getTime();
    this.failure = null;
    this.engine.events.emit('scheduler:recovered', { operation, downtimeMs });
  }

  async report(state: { running: number; queueDepth: number; started: boolean }): Promise<HealthReport> {
    const { engine } = this;
    const started = engine.options.clock.now();
    let reachable = true;
    let latencyMs: number | null = null;
    let pingError: unknown = null;
    try {
      await engine.store.ping();
      latencyMs = engine.options.clock.now() - started;
    } catch (error) {
      reachable = false;
      pingError = error;
    }
    const failure = this.failure ?? (pingError ? { error: pingError, operation: 'ping', since: engine.now() } : null);
    return {
      status: !state.started ? 'stopped' : reachable && !this.failure ? 'ok' : 'degraded',
      instanceId: engine.options.instanceId,
      store: {
        kind: engine.store.kind,
        reachable,
        latencyMs,
        ...(failure ? { error: { ...describeError(failure.error), operation: failure.operation, since: failure.since } } : {}),
      },
      wakeups: this.notifications ? 'notify' : 'poll',
      dispatchLagMs: engine.metrics.lastDispatchLagMs,
      queueDepth: state.queueDepth,
      running: state.running,
    };
  }
}
