import type { RequestHandler } from 'express';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics, type Metric } from 'prom-client';
import type { HistogramSnapshot, MetricsSnapshot, Scheduler } from 'punctual';

/** Prometheus metrics of one app: the scheduler's snapshot, run outcomes from its events, HTTP requests. */
export interface AppMetrics {
  readonly registry: Registry;
  /** Records one finished HTTP request; `route` is the route template, never the raw path. */
  observeRequest(method: string, route: string, status: number, seconds: number): void;
  /** GET /metrics: the Prometheus text format. */
  readonly handler: RequestHandler;
  /** Unsubscribes from the scheduler's events. */
  close(): void;
}

type CounterName = keyof MetricsSnapshot['counters'];

/** `runsStarted` -> `punctual_runs_started_total`. */
const counterName = (key: string): string => `punctual_${key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)}_total`;

export function createMetrics(scheduler: Scheduler, options: { defaultMetrics?: boolean } = {}): AppMetrics {
  // One registry per app, never prom-client's global one: two apps (or tests) in one process do not collide.
  const registry = new Registry();
  if (options.defaultMetrics) collectDefaultMetrics({ register: registry });

  const counterKeys = Object.keys(scheduler.metrics().counters) as CounterName[];
  for (const key of counterKeys) {
    new Counter({
      name: counterName(key),
      help: `punctual counter ${key} of this instance`,
      registers: [registry],
      collect() {
        this.reset();
        this.inc(scheduler.metrics().counters[key]);
      },
    });
  }
  new Gauge({
    name: 'punctual_running_runs',
    help: 'Runs executing on this instance',
    registers: [registry],
    collect() {
      this.set(scheduler.metrics().gauges.running);
    },
  });
  new Gauge({
    name: 'punctual_queue_depth',
    help: 'Triggers due within the look-ahead window',
    registers: [registry],
    collect() {
      this.set(scheduler.metrics().gauges.queueDepth);
    },
  });
  new Gauge({
    name: 'punctual_runs_waiting_for_handler',
    help: 'Due pending runs of task types this instance has no handler for (alert when it stays up: a forgotten deploy)',
    labelNames: ['task_type'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const [taskType, count] of Object.entries(scheduler.metrics().waitingForHandler)) this.set({ task_type: taskType }, count);
    },
  });
  registerSnapshotHistogram(registry, 'punctual_dispatch_lag_seconds', 'Handler start minus due time', () => scheduler.metrics().dispatchLagMs);
  registerSnapshotHistogram(registry, 'punctual_run_duration_seconds', 'Handler duration', () => scheduler.metrics().runDurationMs);

  // Fed by events: the snapshot has no per-task-type split, the events do.
  const outcomes = new Counter({
    name: 'punctual_run_outcomes_total',
    help: 'Finished attempts by task type and outcome, as seen by this instance',
    labelNames: ['task_type', 'outcome'] as const,
    registers: [registry],
  });
  const count = (outcome: string) => (event: { run: { taskType: string } }) => outcomes.inc({ task_type: event.run.taskType, outcome });
  const unsubscribe = [
    scheduler.on('run:completed', count('completed')),
    scheduler.on('run:failed', count('failed')),
    scheduler.on('run:retrying', count('retrying')),
    scheduler.on('run:timed-out', count('timed_out')),
    scheduler.on('run:cancelled', count('cancelled')),
    scheduler.on('run:skipped', count('skipped')),
  ];

  const requests = new Counter({
    name: 'http_requests_total',
    help: 'HTTP requests by method, route template and status',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [registry],
  });
  const durations = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request duration by method, route template and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });

  return {
    registry,
    observeRequest(method, route, status, seconds) {
      const labels = { method, route, status: String(status) };
      requests.inc(labels);
      durations.observe(labels, seconds);
    },
    handler: async (_req, res) => {
      const text = await registry.metrics();
      res.setHeader('Content-Type', registry.contentType);
      res.send(text);
    },
    close() {
      for (const off of unsubscribe) off();
    },
  };
}

/**
 * prom-client's Histogram only takes observations, but punctual already keeps the buckets, so
 * this collector reports them as they are: cumulative `_bucket{le}` series, `_sum`, `_count`, in seconds.
 */
function registerSnapshotHistogram(registry: Registry, name: string, help: string, read: () => HistogramSnapshot): void {
  const get = async () => {
    const h = read();
    const values: { metricName: string; labels: Record<string, string | number>; value: number }[] = [];
    let cumulative = 0;
    h.buckets.forEach((upperMs, i) => {
      cumulative += h.counts[i] ?? 0;
      values.push({ metricName: `${name}_bucket`, labels: { le: upperMs / 1_000 }, value: cumulative });
    });
    values.push({ metricName: `${name}_bucket`, labels: { le: '+Inf' }, value: h.count });
    values.push({ metricName: `${name}_sum`, labels: {}, value: h.sum / 1_000 });
    values.push({ metricName: `${name}_count`, labels: {}, value: h.count });
    return { name, help, type: 'histogram', aggregator: 'sum', values };
  };
  // A custom collector: the registry only calls `get()` (and `reset()`), which is all this needs.
  registry.registerMetric({ name, help, type: 'histogram', aggregator: 'sum', get, reset: () => {} } as unknown as Metric);
}
