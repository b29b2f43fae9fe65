import type pg from 'pg';
import { pool as newPool } from './services.js';
import { max, nowMs, percentile } from './stats.js';

type QueryFn = (...args: unknown[]) => unknown;

/**
 * Times every SQL statement sent through a pool's connections (promise and callback forms),
 * from the call to the answer, while `active`: the "store query" figure of the PostgreSQL
 * systems, measured the same way for each of them.
 */
export class QueryTiming {
  active = false;
  private readonly times: number[] = [];

  /** A pool on the benchmark database whose connections are timed. */
  pool(maxConnections: number): pg.Pool {
    const pool = newPool(maxConnections);
    pool.on('connect', (client) => this.wrap(client));
    return pool;
  }

  start(): void {
    this.times.length = 0;
    this.active = true;
  }

  stop(): { p99Ms: number | null; maxMs: number | null; count: number } {
    this.active = false;
    return { p99Ms: percentile(this.times, 99), maxMs: max(this.times), count: this.times.length };
  }

  private wrap(client: pg.PoolClient): void {
    const original = client.query.bind(client) as QueryFn;
    const record = (started: number): void => {
      if (this.active) this.times.push(nowMs() - started);
    };
    (client as unknown as { query: QueryFn }).query = (...args: unknown[]) => {
      const first = args[0] as { submit?: unknown } | undefined;
      if (!this.active || typeof first?.submit === 'function') return original(...args);
      const started = nowMs();
      const last = args[args.length - 1];
      if (typeof last === 'function') {
        args[args.length - 1] = (...results: unknown[]) => {
          record(started);
          return (last as QueryFn)(...results);
        };
        return original(...args);
      }
      const result = original(...args) as Promise<unknown> | undefined;
      result?.then?.(
        () => record(started),
        () => record(started),
      );
      return result;
    };
  }
}
