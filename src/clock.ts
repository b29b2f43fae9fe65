/**
 * Time source. Everything in punctual that needs the current time or a timer asks a
 * `Clock`, so tests can drive time with `TestClock` (from `punctual/testing`) instead of sleeping.
 */
export interface Clock {
  /** Current time in epoch milliseconds. */
  now(): number;
  /** Calls `fn` once after `delayMs` (clamped to >= 0). Returns a handle for {@link Clock.clearTimeout}. */
  setTimeout(fn: () => void, delayMs: number): TimerHandle;
  /** Cancels a timer; unknown or already-fired handles are ignored. */
  clearTimeout(handle: TimerHandle): void;
}

/** Opaque timer handle returned by {@link Clock.setTimeout}. */
export type TimerHandle = { readonly __timer: unique symbol } | object;

/** Node's longest timer is 2^31-1 ms; longer waits are chained. */
const MAX_TIMER_MS = 2_147_483_647;

interface SystemTimer {
  timer: NodeJS.Timeout | undefined;
}

/** The real clock: `Date.now()` and Node timers. Timers are `unref`'d so they never keep a process alive. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout(fn, delayMs) {
    const handle: SystemTimer = { timer: undefined };
    const arm = (remaining: number): void => {
      const step = Math.min(Math.max(0, remaining), MAX_TIMER_MS);
      handle.timer = setTimeout(() => {
        if (remaining > MAX_TIMER_MS) arm(remaining - MAX_TIMER_MS);
        else fn();
      }, step);
      handle.timer.unref();
    };
    arm(delayMs);
    return handle;
  },
  clearTimeout(handle) {
    const timer = (handle as SystemTimer).timer;
    if (timer) clearTimeout(timer);
  },
};

/** Resolves after `ms` on the given clock. */
export function sleep(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const handle = clock.setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clock.clearTimeout(handle);
      resolve();
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
