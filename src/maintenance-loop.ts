import type { TimerHandle } from './clock.js';
import type { EventBus } from './events.js';
import type { ResolvedOptions } from './options.js';
import type { Store } from './stores/types.js';
import type { MetricsSnapshot } from './metrics.js';
import type { Reporter } from './reporter.js';
import type { WaitingRunsCounter } from './waiting-runs.js';

/** What the loop needs: the store's change feed and purge, `metrics:snapshot`, its timing options. */
export interface MaintenanceContext {
  readonly store: Pick<Store, 'subscribe' | 'purgeExpiredRuns'>;
  readonly events: Pick<EventBus, 'emit'>;
  readonly options: Pick<ResolvedOptions, 'clock' | 'pollIntervalMs' | 'metricsIntervalMs'>;
}

/** Retention purge runs every this many polls. */
const PURGE_EVERY_POLLS = 60;

/** The loops the poll drives: the dispatcher's window and the executor's claims. */
export interface PolledLoops {
  dispatcher: { refresh(): Promise<void>; requestRefresh(): void };
  executor: { wake(): void };
  /** Takes over runs whose lease expired (`LeaseRecovery`). */
  recovery: { recover(): Promise<void> };
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
    private readonly ctx: MaintenanceContext,
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
    const { clock, metricsIntervalMs } = this.ctx.options;
    if (this.running && metricsIntervalMs > 0) this.metricsTimer = clock.setTimeout(() => this.emitMetrics(), metricsIntervalMs);
  }

  /** Clears the timers (a poll in flight does not re-arm) and closes the change feed. */
  async stop(): Promise<void> {
    this.running = false;
    const { clock } = this.ctx.options;
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
    await this.loops.recovery.recover();
    await this.countWaiting();
    if (this.polls % PURGE_EVERY_POLLS === 0) await this.purge();
    await this.loops.dispatcher.refresh();
    this.loops.executor.wake();
    if (this.running && generation === this.generation) {
      this.pollTimer = this.ctx.options.clock.setTimeout(() => void this.poll(generation), this.ctx.options.pollIntervalMs);
    }
  }

  /** Opens the store's change feed; a failed attempt is retried at the next poll. */
  private async subscribe(): Promise<void> {
    const { store } = this.ctx;
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

  private async countWaiting(): Promise<void> {
    try {
      await this.waiting.refresh();
    } catch (error) {
      this.reporter.failed('countDueRunsByType', error);
    }
  }

  private async purge(): Promise<void> {
    try {
      await this.ctx.store.purgeExpiredRuns(new Date(this.ctx.options.clock.now()), 10_000);
    } catch (error) {
      this.reporter.failed('purgeExpiredRuns', error);
    }
  }

  private emitMetrics(): void {
    this.metricsTimer = null;
    this.ctx.events.emit('metrics:snapshot', { snapshot: this.snapshot() });
    const { clock, metricsIntervalMs } = this.ctx.options;
    if (this.running) this.metricsTimer = clock.setTimeout(() => this.emitMetrics(), metricsIntervalMs);
  }
}
