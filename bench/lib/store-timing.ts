import type { Store } from 'punctual';
import { nowMs, percentile } from './stats.js';

/** One method's calls: their times (ms), and how long at least one of them was in flight. */
interface MethodCalls {
  times: number[];
  busyMs: number;
  inFlight: number;
  busySince: number;
}

/** Times every call of a store's methods (the `Store` interface is public), in ms. */
export class StoreTiming {
  private readonly byMethod = new Map<string, MethodCalls>();

  wrap(store: Store): Store {
    return new Proxy(store, {
      get: (target, prop, receiver) => {
        const value = Reflect.get(target, prop, receiver) as unknown;
        if (typeof value !== 'function' || prop === 'subscribe' || prop === 'createLockStore' || prop === 'close' || prop === 'init') {
          return typeof value === 'function' ? value.bind(target) : value;
        }
        return async (...args: unknown[]) => {
          const calls = this.calls(String(prop));
          const started = nowMs();
          if (calls.inFlight++ === 0) calls.busySince = started;
          try {
            return await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
          } finally {
            const ended = nowMs();
            // Into the current record: a call that began before `reset` counts after it.
            this.calls(String(prop)).times.push(ended - started);
            if (--calls.inFlight === 0) calls.busyMs += ended - calls.busySince;
          }
        };
      },
    });
  }

  reset(): void {
    this.byMethod.clear();
  }

  all(): number[] {
    return [...this.byMethod.values()].flatMap((calls) => calls.times);
  }

  /** Per method, most called first: calls, mean ms, and ms with at least one call in flight. */
  methods(): { method: string; calls: number; meanMs: number; busyMs: number }[] {
    return this.called().map(([method, { times, busyMs }]) => ({ method, calls: times.length, meanMs: times.reduce((sum, t) => sum + t, 0) / times.length, busyMs }));
  }

  summary(): string {
    return this
      .called()
      .map(([method, { times }]) => `${method} x${times.length} p99 ${(percentile(times, 99) ?? 0).toFixed(1)} ms`)
      .join(', ');
  }

  /** The methods called, most called first. */
  private called(): [string, MethodCalls][] {
    return [...this.byMethod.entries()].filter(([, calls]) => calls.times.length > 0).sort((a, b) => b[1].times.length - a[1].times.length);
  }

  private calls(method: string): MethodCalls {
    let calls = this.byMethod.get(method);
    if (!calls) this.byMethod.set(method, (calls = { times: [], busyMs: 0, inFlight: 0, busySince: 0 }));
    return calls;
  }
}
