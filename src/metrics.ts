/** Upper bounds (ms) of the histogram buckets; the last bucket is +Inf. */
export const LATENCY_BUCKETS_MS = [1, 2, 5, 10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 30_000, 60_000, 300_000] as const;

export interface HistogramSnapshot {
  /** Bucket upper bounds in ms; `counts[i]` counts observations <= `buckets[i]` and > the previous bound. */
  buckets: readonly number[];
  /** One more entry than `buckets`: the +Inf bucket last. */
  counts: number[];
  count: number;
  sum: number;
  max: number;
}

export interface MetricsSnapshot {
  at: Date;
  instanceId: string;
  counters: {
    runsScheduled: number;
    runsStarted: number;
    runsCompleted: number;
    runsFailed: number;
    runsRetried: number;
    runsTimedOut: number;
    runsCancelled: number;
    runsSkipped: number;
    runsRecovered: number;
    leasesLost: number;
    slotsFired: number;
    slotsTakenElsewhere: number;
    storeErrors: number;
  };
  gauges: { running: number; queueDepth: number };
  /**
   * Due pending runs of task types this instance has no handler for, by task type (counted
   * every 10 s by the poll; see `HealthReport.waitingForHandler`). Empty when there are none.
   */
  waitingForHandler: Record<string, number>;
  /** Handler start minus the time the run was due (slot, or retry time). */
  dispatchLagMs: HistogramSnapshot;
  /** Handler duration. */
  runDurationMs: HistogramSnapshot;
}

export type Counter = keyof MetricsSnapshot['counters'];

export class Histogram {
  private readonly counts = new Array<number>(LATENCY_BUCKETS_MS.length + 1).fill(0);
  private count = 0;
  private sum = 0;
  private max = 0;

  observe(valueMs: number): void {
    const v = Math.max(0, valueMs);
    let i = 0;
    while (i < LATENCY_BUCKETS_MS.length && v > LATENCY_BUCKETS_MS[i]!) i++;
    this.counts[i]!++;
    this.count++;
    this.sum += v;
    if (v > this.max) this.max = v;
  }

  snapshot(): HistogramSnapshot {
    return { buckets: LATENCY_BUCKETS_MS, counts: [...this.counts], count: this.count, sum: this.sum, max: this.max };
  }
}

/** Counters and histograms of one scheduler instance. */
export class Metrics {
  readonly counters: MetricsSnapshot['counters'] = {
    runsScheduled: 0,
    runsStarted: 0,
    runsCompleted: 0,
    runsFailed: 0,
    runsRetried: 0,
    runsTimedOut: 0,
    runsCancelled: 0,
    runsSkipped: 0,
    runsRecovered: 0,
    leasesLost: 0,
    slotsFired: 0,
    slotsTakenElsewhere: 0,
    storeErrors: 0,
  };
  readonly dispatchLag = new Histogram();
  readonly runDuration = new Histogram();
  /** The most recent dispatch lag, for health(). */
  lastDispatchLagMs = 0;

  increment(counter: Counter, by = 1): void {
    this.counters[counter] += by;
  }

  snapshot(at: Date, instanceId: string, gauges: MetricsSnapshot['gauges'], waitingForHandler: Record<string, number>): MetricsSnapshot {
    return {
      at,
      instanceId,
      counters: { ...this.counters },
      gauges,
      waitingForHandler,
      dispatchLagMs: this.dispatchLag.snapshot(),
      runDurationMs: this.runDuration.snapshot(),
    };
  }
}
