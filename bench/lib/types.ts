/** The six scenarios of the benchmark (docs/benchmarks.md says what each measures). */
export const SCENARIOS = ['throughput', 'lateness', 'fanout', 'concurrency', 'scale', 'delayed'] as const;
export type ScenarioId = (typeof SCENARIOS)[number];

/** Each system runs once with its defaults and once with its best documented tuning. */
export type Setting = 'default' | 'tuned';

export interface ThroughputParams {
  /** Immediate jobs enqueued before the worker starts. */
  jobs: number;
  concurrency: number;
  /** Measurement stops here even if not every job ran (jobs/s is then computed from those that did). */
  capMs: number;
}

export interface LatenessParams {
  /** Delayed jobs, each due at a distinct instant. */
  jobs: number;
  /** The due instants are spread evenly over this span... */
  spanMs: number;
  /** ...starting this long after they were all enqueued. */
  leadMs: number;
  /** Every-second cron triggers running during the same span (systems with second-resolution cron). */
  cronTriggers: number;
  concurrency: number;
}

/** Delayed one-off jobs enqueued by task type (punctual's `enqueue`), the queues' delayed jobs. */
export interface DelayedParams {
  /** Jobs, each due at a distinct instant... */
  jobs: number;
  /** ...spread evenly over this span... */
  spanMs: number;
  /** ...starting this long after they were all enqueued. */
  leadMs: number;
  concurrency: number;
}

export interface FanoutParams {
  /** Cron triggers due in the same second (`memoryTriggers` on the memory store). */
  triggers: number;
  memoryTriggers: number;
  concurrency: number;
  capMs: number;
  /** Margin between the end of creating the triggers (estimated) and their due second. */
  marginMs: number;
}

export interface ConcurrencyParams {
  /** Runs due at once, each waiting `waitMs`; the worker's concurrency is `runs`. */
  runs: number;
  waitMs: number;
  capMs: number;
}

export interface ScaleParams {
  /** Stored triggers (or future jobs), `1 %` of them due per minute. */
  triggers: number;
  /** How long the instance runs while measured... */
  measureMs: number;
  /** ...after running this long (catching up on what came due while seeding). */
  warmupMs: number;
  /** Margin between the end of seeding (estimated) and the first due instant. */
  marginMs: number;
  concurrency: number;
}

export interface ScenarioParams {
  throughput: ThroughputParams;
  lateness: LatenessParams;
  fanout: FanoutParams;
  concurrency: ConcurrencyParams;
  scale: ScaleParams;
  delayed: DelayedParams;
}

/** What one repetition measured: named figures (null: not measurable here) and notes. */
export interface Outcome {
  figures: Record<string, number | null>;
  notes?: string[];
}

/** A scenario a system cannot run, with the reason shown in the table. */
export class NotApplicable extends Error {
  override readonly name = 'NotApplicable';
}

/** One system under test: each scenario method runs one repetition in a fresh process. */
export interface Adapter {
  throughput(params: ThroughputParams, setting: Setting): Promise<Outcome>;
  lateness(params: LatenessParams, setting: Setting): Promise<Outcome>;
  fanout(params: FanoutParams, setting: Setting): Promise<Outcome>;
  concurrency(params: ConcurrencyParams, setting: Setting): Promise<Outcome>;
  scale(params: ScaleParams, setting: Setting, rep: number): Promise<Outcome>;
  /** Delayed one-off jobs with no trigger or schedule to name: `enqueue` with a run time, a queue's delayed add. */
  delayed(params: DelayedParams, setting: Setting): Promise<Outcome>;
}

/** What the parent sends a child: one repetition of one scenario on one system and setting. */
export interface ChildSpec {
  system: string;
  scenario: ScenarioId;
  setting: Setting;
  rep: number;
  params: ScenarioParams[ScenarioId];
}

export type ChildMessage =
  | { type: 'progress'; text: string }
  | { type: 'result'; outcome: Outcome }
  | { type: 'skip'; reason: string }
  | { type: 'error'; message: string };
