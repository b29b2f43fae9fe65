/** Percentile `p` (0..100) of `values` by nearest rank; null for no values. */
export function percentile(values: readonly number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] ?? null;
}

export function max(values: readonly number[]): number | null {
  let result: number | null = null;
  for (const v of values) if (result === null || v > result) result = v;
  return result;
}

/** Median of the non-null values, with their min and max. */
export function summarize(values: readonly (number | null)[]): { median: number; min: number; max: number; n: number } | null {
  const present = values.filter((v): v is number => v !== null && Number.isFinite(v)).sort((a, b) => a - b);
  if (present.length === 0) return null;
  const mid = present.length >> 1;
  const median = present.length % 2 === 1 ? (present[mid] as number) : ((present[mid - 1] as number) + (present[mid] as number)) / 2;
  return { median, min: present[0] as number, max: present[present.length - 1] as number, n: present.length };
}

/** Wall-clock time in epoch milliseconds with sub-millisecond resolution. */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}

/** Runs `work(i)` for i in [0, count) with at most `parallel` calls in flight. */
export async function inParallel(count: number, parallel: number, work: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < count) {
      const i = next++;
      await work(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, count) }, lane));
}

/** Splits [0, count) into chunks of `size`: [start, end) pairs. */
export function chunks(count: number, size: number): [number, number][] {
  const result: [number, number][] = [];
  for (let start = 0; start < count; start += size) result.push([start, Math.min(count, start + size)]);
  return result;
}
