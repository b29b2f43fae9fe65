import type { Clock, TimerHandle } from '../clock.js';

interface PendingTimer {
  id: number;
  at: number;
  fn: () => void;
}

/**
 * A manual clock for tests. Time stands still until {@link TestClock.advance} moves it;
 * timers due on the way fire in order, each at its own instant, with pending promise
 * callbacks flushed between them.
 * @example
 * const clock = new TestClock(Date.parse('2026-03-08T06:00:00Z'));
 * const scheduler = createScheduler({ clock, handlers });
 * await clock.advance(60_000);
 */
export class TestClock implements Clock {
  private current: number;
  private nextId = 1;
  private timers: PendingTimer[] = [];

  constructor(start: number | Date = Date.UTC(2026, 0, 1)) {
    this.current = typeof start === 'number' ? start : start.getTime();
  }

  now(): number {
    return this.current;
  }

  setTimeout(fn: () => void, delayMs: number): TimerHandle {
    const timer: PendingTimer = { id: this.nextId++, at: this.current + Math.max(0, delayMs), fn };
    this.timers.push(timer);
    return timer;
  }

  clearTimeout(handle: TimerHandle): void {
    const index = this.timers.indexOf(handle as PendingTimer);
    if (index >= 0) this.timers.splice(index, 1);
  }

  /** Number of timers not yet fired. A stopped scheduler leaves none. */
  get pendingTimers(): number {
    return this.timers.length;
  }

  /** The instant of the earliest pending timer, or null. */
  nextTimerAt(): number | null {
    const next = this.earliest();
    return next ? next.at : null;
  }

  /**
   * Moves time forward by `ms`, firing every timer that comes due on the way (including ones
   * set by the callbacks), then settles pending async work.
   */
  async advance(ms: number): Promise<void> {
    await this.advanceTo(this.current + ms);
  }

  /** Moves time to `instant` (never backwards), firing due timers in order. */
  async advanceTo(instant: number | Date): Promise<void> {
    const target = typeof instant === 'number' ? instant : instant.getTime();
    await settle();
    for (;;) {
      const next = this.earliest();
      if (!next || next.at > target) break;
      this.timers.splice(this.timers.indexOf(next), 1);
      this.current = Math.max(this.current, next.at);
      next.fn();
      await settle();
    }
    this.current = Math.max(this.current, target);
    await settle();
  }

  /** Sets the time without firing timers: simulates a clock jump (or a process that was asleep). */
  jumpTo(instant: number | Date): void {
    this.current = typeof instant === 'number' ? instant : instant.getTime();
  }

  private earliest(): PendingTimer | undefined {
    let best: PendingTimer | undefined;
    for (const t of this.timers) if (!best || t.at < best.at || (t.at === best.at && t.id < best.id)) best = t;
    return best;
  }
}

/** Lets pending promise callbacks and I/O callbacks run. */
export async function settle(rounds = 5): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}
