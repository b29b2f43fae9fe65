import { max, percentile } from '../lib/stats.js';

/** Figures of the lateness scenario from handler-start-minus-due samples (delayed jobs and cron slots), ms. */
export function latenessFigures(late: number[], cron: number[], expected: number): Record<string, number | null> {
  return {
    p50Ms: percentile(late, 50),
    p95Ms: percentile(late, 95),
    p99Ms: percentile(late, 99),
    maxMs: max(late),
    started: late.length,
    expected,
    cronP50Ms: percentile(cron, 50),
    cronP99Ms: percentile(cron, 99),
    cronMaxMs: max(cron),
    cronRuns: cron.length,
  };
}

/** Figures of the fan-out scenario from handler-start-minus-due-second samples, ms. */
export function fanoutFigures(late: number[], expected: number): Record<string, number | null> {
  return {
    lastStartMs: late.length === expected ? max(late) : null,
    p50Ms: percentile(late, 50),
    p99Ms: percentile(late, 99),
    started: late.length,
    expected,
  };
}
