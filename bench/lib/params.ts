import type { ScenarioParams } from './types.js';

/** The sizes the issue asks for. */
export const FULL: ScenarioParams = {
  throughput: { jobs: 20_000, concurrency: 50, capMs: 30_000 },
  lateness: { jobs: 500, spanMs: 20_000, leadMs: 2_000, cronTriggers: 5, concurrency: 50 },
  fanout: { triggers: 10_000, memoryTriggers: 100_000, concurrency: 1_000, capMs: 30_000, marginMs: 3_000 },
  concurrency: { runs: 10_000, waitMs: 5_000, capMs: 60_000 },
  scale: { triggers: 1_000_000, measureMs: 30_000, warmupMs: 5_000, marginMs: 5_000, concurrency: 50 },
  delayed: { jobs: 500, spanMs: 20_000, leadMs: 2_000, concurrency: 50 },
};

/** `--quick`: small sizes, one repetition, tuned settings only, so the whole run stays under two minutes. */
export const QUICK: ScenarioParams = {
  throughput: { jobs: 2_000, concurrency: 50, capMs: 3_000 },
  lateness: { jobs: 50, spanMs: 1_000, leadMs: 500, cronTriggers: 2, concurrency: 50 },
  fanout: { triggers: 1_000, memoryTriggers: 10_000, concurrency: 1_000, capMs: 3_000, marginMs: 1_000 },
  concurrency: { runs: 1_000, waitMs: 1_000, capMs: 5_000 },
  scale: { triggers: 20_000, measureMs: 2_000, warmupMs: 1_000, marginMs: 1_000, concurrency: 50 },
  delayed: { jobs: 50, spanMs: 1_000, leadMs: 500, concurrency: 50 },
};
