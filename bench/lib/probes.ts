import { monitorEventLoopDelay } from 'node:perf_hooks';
import { nowMs, sleep } from './stats.js';

/** Samples this process's RSS every `everyMs` until stopped; reports the peak and the last sample, in MB. */
export class RssSampler {
  private timer: NodeJS.Timeout | null = null;
  private peak = 0;
  private last = 0;

  constructor(private readonly everyMs = 50) {}

  start(): this {
    this.sample();
    this.timer = setInterval(() => this.sample(), this.everyMs);
    return this;
  }

  stop(): { peakMb: number; lastMb: number } {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.sample();
    return { peakMb: this.peak / 1_048_576, lastMb: this.last / 1_048_576 };
  }

  private sample(): void {
    this.last = process.memoryUsage.rss();
    if (this.last > this.peak) this.peak = this.last;
  }
}

/** Event-loop delay (perf_hooks.monitorEventLoopDelay, 10 ms resolution) over a window, in ms. */
export class LoopLag {
  private readonly histogram: ReturnType<typeof monitorEventLoopDelay> = monitorEventLoopDelay({ resolution: 10 });

  start(): this {
    this.histogram.reset();
    this.histogram.enable();
    return this;
  }

  stop(): { p50Ms: number; p99Ms: number; maxMs: number } {
    this.histogram.disable();
    // The histogram records the whole delay of each 10 ms tick; the lag is what exceeds it.
    const lag = (ns: number): number => Math.max(0, ns / 1e6 - 10);
    return { p50Ms: lag(this.histogram.percentile(50)), p99Ms: lag(this.histogram.percentile(99)), maxMs: lag(this.histogram.max) };
  }
}

/** Resolves when `done()` is true (checked every `everyMs`), or after `timeoutMs`; returns whether it finished. */
export async function waitFor(done: () => boolean, timeoutMs: number, everyMs = 5): Promise<boolean> {
  const deadline = nowMs() + timeoutMs;
  while (!done()) {
    if (nowMs() >= deadline) return false;
    await sleep(everyMs);
  }
  return true;
}

/** A counter of handler calls that resolves a promise when it reaches `target`. */
export class Countdown {
  count = 0;
  lastAt = 0;
  private resolve: (() => void) | null = null;
  readonly done: Promise<void>;

  constructor(readonly target: number) {
    this.done = new Promise((resolve) => (this.resolve = resolve));
    if (target <= 0) this.resolve?.();
  }

  hit(): void {
    this.count++;
    this.lastAt = nowMs();
    if (this.count === this.target) this.resolve?.();
  }

  /** Waits until the target or `timeoutMs`; returns whether the target was reached. */
  async wait(timeoutMs: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)));
    const result = await Promise.race([this.done.then(() => true as const), timedOut]);
    clearTimeout(timer);
    return result;
  }
}
