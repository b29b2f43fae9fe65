import type { TimerHandle } from './clock.js';
import type { ResolvedOptions } from './options.js';
import type { Reporter } from './reporter.js';
import type { RunFinish, Store } from './stores/types.js';

/** What the writer needs: `finishRuns` and a clock for its retries. */
export interface FinishWriterContext {
  readonly store: Pick<Store, 'finishRuns'>;
  readonly options: Pick<ResolvedOptions, 'clock'>;
}

interface Pending {
  finish: RunFinish;
  done: (held: boolean) => void;
}

const MAX_BATCH = 1_000;
const MAX_RETRY_DELAY_MS = 5_000;

/**
 * Writes run outcomes in batches (one store round trip for every outcome reached in the same
 * tick), and keeps retrying through a store outage so no outcome is dropped. The runs keep their
 * leases until written (see `Executor`), and a write waiting out its backoff goes as soon as
 * the store answers any call again (`retryNow`), well before another instance may take over an
 * expired lease (`LeaseRecovery` waits one lease once the store is back).
 */
export class FinishWriter {
  private queue: Pending[] = [];
  private flushing: Promise<void> | null = null;
  private retryTimer: TimerHandle | null = null;
  private failures = 0;
  private idle: (() => void)[] = [];

  constructor(
    private readonly ctx: FinishWriterContext,
    private readonly reporter: Reporter,
  ) {}

  write(finish: RunFinish, done: (held: boolean) => void): void {
    this.queue.push({ finish, done });
    if (!this.flushing && !this.retryTimer) this.flushing = Promise.resolve().then(() => this.flush());
  }

  /** Resolves when every queued outcome has been written (or refused). */
  drain(): Promise<void> {
    if (this.queue.length === 0 && !this.flushing && !this.retryTimer) return Promise.resolve();
    if (this.retryTimer) {
      this.ctx.options.clock.clearTimeout(this.retryTimer);
      this.retryTimer = null;
      this.flushing = this.flush();
    }
    return new Promise((resolve) => this.idle.push(resolve));
  }

  /** The store answered a call: a write waiting out its backoff goes now. */
  retryNow(): void {
    if (!this.retryTimer) return;
    this.ctx.options.clock.clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.flushing = this.flush();
  }

  /** Drops whatever could not be written (at shutdown); the leases of those runs will expire. */
  abandon(): void {
    if (this.retryTimer) this.ctx.options.clock.clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.queue = [];
    for (const resolve of this.idle.splice(0)) resolve();
  }

  private async flush(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, MAX_BATCH);
      let results: boolean[];
      try {
        results = await this.ctx.store.finishRuns(batch.map((p) => p.finish));
        this.failures = 0;
        this.reporter.succeeded('finishRuns');
      } catch (error) {
        this.queue.unshift(...batch);
        this.reporter.failed('finishRuns', error);
        this.failures++;
        this.flushing = null;
        const delay = Math.min(MAX_RETRY_DELAY_MS, 100 * 2 ** Math.min(this.failures, 6));
        this.retryTimer = this.ctx.options.clock.setTimeout(() => {
          this.retryTimer = null;
          this.flushing = this.flush();
        }, delay);
        return;
      }
      batch.forEach((p, i) => p.done(results[i] ?? false));
    }
    this.flushing = null;
    for (const resolve of this.idle.splice(0)) resolve();
  }
}
