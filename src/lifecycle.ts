/** What starting and stopping do; the lifecycle decides when. */
export interface LifecycleSteps<StopOptions> {
  /** Brings everything up. A failure leaves nothing running (the steps undo their own work). */
  start(): Promise<void>;
  /** Brings everything down and releases resources; `wasStarted` is false after a failed or missing start. */
  stop(options: StopOptions, wasStarted: boolean): Promise<void>;
}

type State = 'idle' | 'started' | 'stopped';

/**
 * `start()` and `stop()` of a scheduler: idempotent, settled in call order, and repeatable (a
 * stopped scheduler starts again). Each call is queued behind the previous one; a call of the
 * same kind as the last queued one, still unsettled, shares its promise (its outcome, rejection
 * included). While started, one ref'd timer keeps the Node process alive until `stop()` resolves
 * (`keepAlive`); every other timer of the engine is unref'd.
 */
export class Lifecycle<StopOptions> {
  private state: State = 'idle';
  private tail: Promise<unknown> = Promise.resolve();
  private last: { kind: 'start' | 'stop'; promise: Promise<void>; settled: boolean } | null = null;
  private keepAliveTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly steps: LifecycleSteps<StopOptions>,
    private readonly keepAlive: boolean,
  ) {}

  get started(): boolean {
    return this.state === 'started';
  }

  start(): Promise<void> {
    return this.enqueue('start', async () => {
      if (this.state === 'started') return;
      await this.steps.start();
      this.state = 'started';
      // A ref'd timer that does nothing: the process stays up while the scheduler runs, through
      // store outages of any length, until stop() resolves. Hosts can opt out (`keepAlive: false`).
      if (this.keepAlive) this.keepAliveTimer = setInterval(() => undefined, 1_000_000_000);
    });
  }

  stop(options: StopOptions): Promise<void> {
    return this.enqueue('stop', async () => {
      if (this.state === 'stopped') return;
      const wasStarted = this.state === 'started';
      try {
        await this.steps.stop(options, wasStarted);
      } finally {
        this.state = 'stopped';
        if (this.keepAliveTimer) clearInterval(this.keepAliveTimer);
        this.keepAliveTimer = null;
      }
    });
  }

  private enqueue(kind: 'start' | 'stop', step: () => Promise<void>): Promise<void> {
    if (this.last && this.last.kind === kind && !this.last.settled) return this.last.promise;
    const entry = { kind, promise: Promise.resolve(), settled: false };
    entry.promise = this.tail.then(step).finally(() => {
      entry.settled = true;
    });
    // The next call waits for this one whatever its outcome.
    this.tail = entry.promise.catch(() => undefined);
    this.last = entry;
    return entry.promise;
  }
}
