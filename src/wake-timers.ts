import type { Clock, TimerHandle } from './clock.js';

/**
 * Wake-ups of the executor's claim loop: now (runs were stored here), or at given instants (a
 * retry or deferral coming due, a jittered run becoming claimable), at most one timer per
 * instant. Built before the parts that ask for wake-ups; the executor listens. A timer that
 * fires a little early (Node timers may fire a millisecond before the wall clock reaches `at`)
 * waits again. While stopped, no timer is armed.
 */
export class Wakeups {
  private readonly timers = new Map<number, TimerHandle>();
  private listener: (() => void) | null = null;
  private enabled = false;

  constructor(private readonly clock: Clock) {}

  /** The one listener (the executor). */
  onWake(listener: () => void): void {
    this.listener = listener;
  }

  /** Wakes the listener now. */
  now(): void {
    this.listener?.();
  }

  /** Wakes the listener once the clock reaches `at` (epoch ms). */
  at(at: number): void {
    if (!this.enabled || this.timers.has(at)) return;
    const timer = this.clock.setTimeout(() => {
      this.timers.delete(at);
      if (this.clock.now() < at) this.at(at);
      else this.listener?.();
    }, at - this.clock.now());
    this.timers.set(at, timer);
  }

  start(): void {
    this.enabled = true;
  }

  /** Cancels every pending wake-up; none is armed until `start`. */
  stop(): void {
    this.enabled = false;
    for (const timer of this.timers.values()) this.clock.clearTimeout(timer);
    this.timers.clear();
  }
}
