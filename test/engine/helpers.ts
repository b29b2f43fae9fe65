/**
 * Shared helpers of the engine suite. Everything runs on a {@link TestClock}: nothing here
 * sleeps in real time, and a test moves time with `clock.advance(ms)` or {@link advanceUntil}.
 *
 * Importing this module installs an `afterEach` guard that fails any test leaving a started
 * scheduler behind (and stops it, so one leak does not spill into the next test).
 */
import { afterEach } from 'vitest';
import {
  createScheduler,
  memoryStore,
  seededRandom,
  type Scheduler,
  type SchedulerEventName,
  type SchedulerEvents,
  type SchedulerOptions,
  type SchemaMap,
  type Store,
} from 'punctual';
import { TestClock, settle } from 'punctual/testing';

/** Where every test clock starts unless told otherwise: 2026-01-01T00:00:00Z. */
export const T0 = Date.parse('2026-01-01T00:00:00Z');
export const SECOND = 1_000;
export const MINUTE = 60_000;
export const HOUR = 3_600_000;

/** Options that keep multi-day simulations cheap: few polls, rare lease renewals, no metrics timer. */
export const SLOW_TIME = { pollIntervalMs: 300_000, leaseMs: 3_600_000, metricsIntervalMs: 0 } as const;

// Schedulers started and not yet stopped in the current test, with the test clock they run on.
const running = new Map<Scheduler<SchemaMap>, TestClock | undefined>();

/** Lets the leak guard see a scheduler made without {@link testScheduler}. */
export function track<S extends SchemaMap>(scheduler: Scheduler<S>, clock?: TestClock): Scheduler<S> {
  const s = scheduler as unknown as Scheduler<SchemaMap>;
  scheduler.on('scheduler:started', () => void running.set(s, clock));
  scheduler.on('scheduler:stopped', () => void running.delete(s));
  return scheduler;
}

afterEach(async () => {
  if (running.size === 0) return;
  const leaked = [...running];
  running.clear();
  // Stop them so the leak stays in this test; their clocks are driven so pending writes can finish.
  await Promise.allSettled(leaked.map(([s, clock]) => (clock ? advanceUntil(clock, s.stop({ graceMs: 0 }), HOUR) : s.stop({ graceMs: 0 }))));
  throw new Error(`the test left ${leaked.length} started scheduler(s) behind (${leaked.map(([s]) => s.instanceId).join(', ')}); stop every scheduler a test starts`);
});

let seed = 1;
let instances = 0;

export interface TestSetup<S extends SchemaMap> {
  scheduler: Scheduler<S>;
  clock: TestClock;
  store: Store;
}

/**
 * A scheduler on a {@link TestClock} (new, at {@link T0}, unless given) with a fresh memory
 * store (unless given), a seeded random source and a readable instance id. Tracked by the
 * leak guard.
 */
export function testScheduler<S extends SchemaMap>(options: SchedulerOptions<S> & { clock?: TestClock }): TestSetup<S> {
  const clock = options.clock ?? new TestClock(T0);
  const store = options.store ?? memoryStore();
  instances++;
  const scheduler = createScheduler<S>({
    instanceId: `instance-${instances}`,
    random: seededRandom(seed++),
    ...options,
    clock,
    store,
  });
  track(scheduler, clock);
  return { scheduler, clock, store };
}

/**
 * Subscribes at once (call it before acting) and resolves with the first `name` event that
 * matches `predicate`. With a `clock` the timeout is in simulated time (drive it with
 * {@link advanceUntil} or `clock.advance`); without one it is a real-time safety net that
 * only fires when the event never comes.
 */
export function waitForEvent<S extends SchemaMap, E extends SchedulerEventName>(
  scheduler: Scheduler<S>,
  name: E,
  predicate: (event: SchedulerEvents[E]) => boolean = () => true,
  clock?: TestClock,
  timeoutMs = clock ? 10 * MINUTE : 5_000,
): Promise<SchedulerEvents[E]> {
  return new Promise((resolve, reject) => {
    const fail = (): void => {
      off();
      reject(new Error(`no matching "${name}" event within ${timeoutMs} ms${clock ? ' of simulated time' : ''}`));
    };
    const simulated = clock?.setTimeout(fail, timeoutMs);
    const real = clock ? undefined : setTimeout(fail, timeoutMs).unref();
    const off = scheduler.on(name, (event) => {
      if (!predicate(event)) return;
      off();
      if (simulated) clock?.clearTimeout(simulated);
      if (real) clearTimeout(real);
      resolve(event);
    });
  });
}

/**
 * Moves the clock from timer to timer until `promise` settles, at most `maxMs` of simulated
 * time, and returns its outcome. Fails when it is still pending then.
 */
export async function advanceUntil<T>(clock: TestClock, promise: Promise<T>, maxMs = 10 * MINUTE): Promise<T> {
  let done = false;
  promise.then(
    () => (done = true),
    () => (done = true),
  );
  await settle();
  const end = clock.now() + maxMs;
  while (!done) {
    const next = clock.nextTimerAt();
    if (next === null || next > end) {
      await clock.advanceTo(end);
      break;
    }
    await clock.advanceTo(next);
  }
  if (!done) throw new Error(`still waiting after ${maxMs} ms of simulated time`);
  return promise;
}

/** Every `name` event from now on, in order. */
export function record<S extends SchemaMap, E extends SchedulerEventName>(scheduler: Scheduler<S>, name: E): SchedulerEvents[E][] {
  const seen: SchedulerEvents[E][] = [];
  scheduler.on(name, (event) => void seen.push(event));
  return seen;
}

/**
 * Resolves after `ms` on the test clock, like a handler doing slow work; rejects with the
 * signal's reason (and clears its timer) as soon as `signal` aborts.
 */
export function sleepOn(clock: TestClock, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = (): void => {
      clock.clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = clock.setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** A promise that settles only when the signal aborts, with its reason: a handler that waits to be stopped. */
export function untilAborted(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    if (signal.aborted) return reject(signal.reason);
    signal.addEventListener('abort', () => reject(signal.reason), { once: true });
  });
}

/**
 * Holds handlers until the test lets them go: `await gate.wait(ctx.signal)` inside a handler,
 * `gate.release()` (the oldest waiter) or `gate.releaseAll()` in the test. Counts how many
 * wait at once and the highest that count reached.
 */
export class Gate {
  private waiters: (() => void)[] = [];
  inside = 0;
  maxInside = 0;

  wait(signal?: AbortSignal): Promise<void> {
    this.inside++;
    this.maxInside = Math.max(this.maxInside, this.inside);
    return new Promise<void>((resolve, reject) => {
      const open = (): void => {
        signal?.removeEventListener('abort', onAbort);
        this.inside--;
        resolve();
      };
      const onAbort = (): void => {
        this.waiters = this.waiters.filter((w) => w !== open);
        this.inside--;
        reject(signal?.reason);
      };
      this.waiters.push(open);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  get waiting(): number {
    return this.waiters.length;
  }

  async release(count = 1): Promise<void> {
    for (const open of this.waiters.splice(0, count)) open();
    await settle();
  }

  async releaseAll(): Promise<void> {
    await this.release(this.waiters.length);
  }
}

/** The ISO strings of dates, for readable equality assertions. */
export function iso(dates: readonly Date[]): string[] {
  return dates.map((d) => d.toISOString());
}

/** Wraps a store so that every method rejects while `outage.down` is true (a store outage). */
export function faultyStore(inner: Store): { store: Store; outage: { down: boolean } } {
  const outage = { down: false };
  const store = new Proxy(inner, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        if (outage.down) return Promise.reject(new Error(`store unreachable (${String(property)})`));
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { store, outage };
}
