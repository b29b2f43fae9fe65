import type { Clock, TimerHandle } from './clock.js';

/**
 * Wake-ups at given instants, at most one timer per instant: a retry or deferral coming due
 * (executor), a jittered run becoming claimable (dispatcher). A timer that fires a little early
 * (Node timers may fire a millisecond before the wall clock reaches `at`) waits again.
 */
export class WakeTimers {
  private readonly timers = new Map<number, TimerHandle>();

  constructor(
    private readonly clock: Clock,
    private readonly onWake: () => void,
  ) {}

  /** Calls `onWake` once the clock reaches `at` (epoch ms). */
  at(at: number): void {
    if (this.timers.has(at)) return;
    const timer = this.clock.setTimeout(() => {
      this.timers.delete(at);
      if (this.clock.now() < at) this.at(at);
      else this.onWake();
    }, at - this.clock.now());
    this.timers.set(at, timer);
  }

  /** Cancels every pending wake-up. */
  clear(): void {
    for (const timer of this.timers.values()) this.clock.clearTimeout(timer);
    this.timers.clear();
  }
}
