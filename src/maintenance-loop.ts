import type { TimerHandle } from './clock.js';
import type { Engine } from './engine.js';
import type { MetricsSnapshot } from './metrics.js';
import type { Reporter } from './reporter.js';
import type { WaitingRunsCounter } from './waiting-runs.js';

/** Expired leases recovered per poll. */
const RECOVERY_BATCH = 500;
/** Retention purge runs every this many polls. */
const PURGE_EVERY_POLLS = 60;

/** The loops the poll drives: the dispatcher's window and the executor's claims. */
export interface PolledLoops {
  dispatcher: { refresh(): Promise<void>; requestRefresh(): void };
  executor: { wake(): void };
}

/**
 * The scheduler's periodic work while started: every `pollIntervalMs` it opens the store's change
 * feed if not yet open, recovers expired leases, counts runs waiting for a handler, purges
 * expired history (every 60 polls), refreshes the dispatcher's window and wakes the executor;
 * every `metricsIntervalMs` it emits `metrics:snapshot`. Every store error is reported and
 * retried at the next poll, so an outage of any length never stops the loop.
 */
export class MaintenanceLoop {
  private running = false;
  /** Incremented by each start: a poll of an earlier start that finishes late does not re-arm. */
  private generation = 0;
  private polls = 0;
  private pollTimer: TimerHandle | null = null;
  private metricsTimer: TimerHandle | null = null;
  private unsubscribe: (() => Promise<void>) | null = null;
  private subscribed = false;

  constructor(
    private readonly engine: Engine,
    private readonly reporter: Reporter,
    private readonly loops: PolledLoops,
    private readonly waiting: WaitingRunsCounter,
    private readonly wakeups: { set(active: boolean): void },
    private readonly snapshot: () => MetricsSnapshot,
  ) {}

  /** Opens the change feed, polls once (resolving after it), and arms the timers. */
  async start(): Promise<void> {
    this.running = true;
    this.generation++;
    this.polls = 0;
    this.waiting.reset();
    await this.subscribe();
    await this.poll(this.generation);
    const { clock, metricsIntervalMs } = this.engine.options;
    if (this.running && metricsIntervalMs > 0) this.metricsTimer = clock.setTimeout(() => this.emitMetrics(), metricsIntervalMs);
  }

  /** Clears the timers (a poll in flight does not re-arm) and closes the change feed. */
  async stop(): Promise<void> {
    this.running = false;
    const { clock } = this.engine.options;
    if (this.pollTimer) clock.clearTimeout(this.pollTimer);
    if (this.metricsTimer) clock.clearTimeout(this.metricsTimer);
    this.pollTimer = this.metricsTimer = null;
    const unsubscribe = this.unsubscribe;
    this.unsubscribe = null;
    this.subscribed = false;
    this.wakeups.set(false);
    if (unsubscribe) await unsubscribe().catch((error: unknown) => this.reporter.failed('unsubscribe', error));
  }

  private async poll(generation: number): Promise<void> {
    this.pollTimer = null;
    this.polls++;
    if (!this.subscribed) await this.subscribe();
    await this.recoverExpired();
    await this.countWaiting();
    if (this.polls % PURGE_EVERY_POLLS === 0) await this.purge();
    await this.loops.dispatcher.refresh();
    this.loops.executor.wake();
    if (this.running && generation === this.generation) {
      this.pollTimer = this.engine.options.clock.setTimeout(() => void this.poll(generation), this.engine.options.pollIntervalMs);
    }
  }

  /** Opens the store's change feed; a failed attempt is retried at the next poll. */
  private async subscribe(): Promise<void> {
    const { store } = this.engine;
    if (!store.subscribe || this.subscribed || !this.running) return;
    try {
      const unsubscribe = await store.subscribe(
        (change) => {
          if (change.kind === 'trigger') this.loops.dispatcher.requestRefresh();
          else this.loops.executor.wake();
        },
        (active) => this.wakeups.set(active),
      );
      if (!this.running) {
        // Stopped while the feed was opening: close it rather than leak it.
        await unsubscribe?.().catch((error: unknown) => this.reporter.failed('unsubscribe', error));
        return;
      }
      this.unsubscribe = unsubscribe;
      this.subscribed = true;
      this.wakeups.set(unsubscribe !== null);
    } catch (error) {
      this.reporter.failed('subscribe', error);
    }
  }

  private async recoverExpired(): Promise<void> {
    const { store, metrics, events, options } = this.engine;
    try {
      const recovered = await store.recoverExpiredLeases(this.engine.now(), RECOVERY_BATCH, options.retentionMs);
      this.reporter.succeeded('recoverExpiredLeases');
      for (const { run, outcome } of recovered) {
        metrics.increment('runsRecovered');
        events.emit('run:recovered', { run, outcome });
        if (outcome === 'failed') events.emit('run:failed', { run, error: run.error ?? { name: 'LeaseExpired', message: 'the run used all its attempts' } });
      }
    } catch (error) {
      this.reporter.failed('recoverExpiredLeases', error);
    }
  }

  private async countWaiting(): Promise<void> {
    try {
      await this.waiting.refresh();
    } catch (error) {
      this.reporter.failed('countDueRunsByType', error);
    }
  }

  private async purge(): Promise<void> {
    try {
      await this.engine.store.purgeExpiredRuns(this.engine.now(), 10_000);
    } catch (error) {
      this.reporter.failed('purgeExpiredRuns', error);
    }
  }

  private emitMetrics(): void {
    this.metricsTimer = null;
    this.engine.events.emit('metrics:snapshot', { snapshot: this.snapshot() });
    const { clock, metricsIntervalMs } = this.engine.options;
    if (this.running) this.metricsTimer = clock.setTimeout(() => this.emitMetrics(), metricsIntervalMs);
  }
}
