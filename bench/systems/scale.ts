import { RssSampler } from '../lib/probes.js';
import { max, nowMs, percentile, sleep } from '../lib/stats.js';

/** Handler starts of the scale scenario: due instant and start, ms. */
export class DueLog {
  private readonly due: number[] = [];
  private readonly started: number[] = [];

  record(due: number): void {
    this.due.push(due);
    this.started.push(nowMs());
  }

  /** Runs due within [from, to) and their lateness p99. */
  window(from: number, to: number): { fired: number; lateP99Ms: number | null; lateMaxMs: number | null } {
    const late: number[] = [];
    for (let i = 0; i < this.due.length; i++) {
      const due = this.due[i] as number;
      if (due >= from && due < to) late.push((this.started[i] as number) - due);
    }
    return { fired: late.length, lateP99Ms: percentile(late, 99), lateMaxMs: max(late) };
  }
}

/**
 * Waits for the first due instant, starts the worker, lets it run `warmupMs` (catching up on
 * whatever came due while seeding), then measures a window of `measureMs`: RSS sampled every
 * 200 ms (the last sample and the peak), and whatever the caller measures from `begin` on.
 */
export async function scaleWindow(
  first: number,
  p: { measureMs: number; warmupMs: number },
  startWorker: () => Promise<unknown>,
  begin: () => void,
): Promise<{ from: number; to: number; rssMb: number; peakRssMb: number }> {
  (globalThis as { gc?: () => void }).gc?.();
  await sleep(first - nowMs());
  await startWorker();
  await sleep(p.warmupMs);
  const rss = new RssSampler(200).start();
  const from = nowMs();
  begin();
  await sleep(p.measureMs);
  const to = nowMs();
  const memory = rss.stop();
  return { from, to, rssMb: memory.lastMb, peakRssMb: memory.peakMb };
}
