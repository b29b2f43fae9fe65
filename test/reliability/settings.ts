/**
 * The two settings of the suite. `short` is what CI runs (about two minutes on two cores) and
 * still exercises every guarantee; `full` (the default) is the documented measurement, with at
 * least 10,000 scheduled slots over four processes in the first scenario.
 */
import type { OverlapPolicy, ScheduleInput } from 'punctual';
import type { TaskType } from './tasks.js';

/** `count` triggers of one shape. Handlers sleep `sleepMs` (a range spreads them over the triggers). */
export interface TriggerShape {
  count: number;
  schedule: ScheduleInput;
  sleepMs: number | [number, number];
  overlap: OverlapPolicy;
  /** Default: the scheduler's (60 s). */
  misfireGraceMs?: number;
  /** Default `record`. */
  taskType?: TaskType;
}

export interface Settings {
  name: 'short' | 'full';
  processes: number;
  leaseMs: number;
  pollIntervalMs: number;
  poolMax: number;
  exactlyOnce: {
    /** Scheduled slots to reach before the triggers are paused. */
    slots: number;
    triggers: TriggerShape[];
    /** Manual-only triggers the processes call `runNow` on. */
    manualTriggers: number;
    /** Each process calls `runNow` this often, ms. */
    manualEveryMs: number;
  };
  sigkill: {
    /** Long runs the killed process holds. */
    holdRuns: number;
    holdMs: number;
    triggers: TriggerShape[];
  };
  /** PostgreSQL restart: overlap `allow`, so every slot must complete. */
  postgresOutage: Outage;
  /** Redis restart: overlap `queue`, so every run takes its trigger's lock in Redis. */
  redisOutage: Outage;
  /** An instance with fewer handlers joins after `beforeMs` of traffic; `afterMs` more follow. */
  rollingDeploy: { beforeMs: number; afterMs: number; triggers: TriggerShape[]; manualEveryMs: number };
  /** Dedicated worker processes (nothing else holding them) through a PostgreSQL restart. */
  workerRestart: { processes: number; outageMs: number };
}

export interface Outage {
  /** Traffic before the server goes down, ms. */
  beforeMs: number;
  /** How long the server stays down, ms. */
  outageMs: number;
  /** Traffic after it is back, ms. */
  afterMs: number;
  triggers: TriggerShape[];
  /** Each process calls `runNow` this often, ms. */
  manualEveryMs: number;
}

const SECOND = 1_000;

/** Both task types, half the triggers each: the joining instance handles only the first. */
function deployMix(scale: number): TriggerShape[] {
  return [
    { count: 10 * scale, schedule: { every: 1_000 }, sleepMs: [5, 100], overlap: 'allow', taskType: 'record' },
    { count: 10 * scale, schedule: { every: 1_000 }, sleepMs: [5, 100], overlap: 'allow', taskType: 'record-v2' },
    { count: 5 * scale, schedule: { cron: '*/2 * * * * *' }, sleepMs: [200, 800], overlap: 'allow', taskType: 'record-v2' },
  ];
}

/** The mix of the exactly-once scenario: about 107 slots a second. */
const exactlyOnceMix: TriggerShape[] = [
  { count: 50, schedule: { every: 1_000 }, sleepMs: [5, 100], overlap: 'allow' },
  { count: 30, schedule: { every: 2_000 }, sleepMs: [5, 100], overlap: 'allow' },
  { count: 30, schedule: { cron: '*/1 * * * * *' }, sleepMs: [5, 100], overlap: 'allow' },
  { count: 20, schedule: { cron: '*/2 * * * * *' }, sleepMs: [5, 100], overlap: 'allow' },
  { count: 10, schedule: { cron: '*/5 * * * * *' }, sleepMs: [5, 100], overlap: 'allow' },
];

/**
 * The outage scenarios: interval and cron triggers, some with handlers long enough to be
 * running when the server goes down.
 */
function outageMix(overlap: OverlapPolicy, scale: number): TriggerShape[] {
  return [
    { count: 20 * scale, schedule: { every: 1_000 }, sleepMs: [5, 100], overlap },
    { count: 10 * scale, schedule: { cron: '*/1 * * * * *' }, sleepMs: [5, 100], overlap },
    { count: 5 * scale, schedule: { every: 2_000 }, sleepMs: [500, 1_500], overlap },
  ];
}

export const SHORT: Settings = {
  name: 'short',
  processes: 4,
  leaseMs: 3 * SECOND,
  pollIntervalMs: 200,
  poolMax: 8,
  exactlyOnce: { slots: 2_000, triggers: exactlyOnceMix, manualTriggers: 10, manualEveryMs: 250 },
  sigkill: { holdRuns: 4, holdMs: 6 * SECOND, triggers: [{ count: 20, schedule: { every: 1_000 }, sleepMs: [5, 100], overlap: 'allow' }] },
  postgresOutage: { beforeMs: 5 * SECOND, outageMs: 3 * SECOND, afterMs: 8 * SECOND, triggers: outageMix('allow', 1), manualEveryMs: 500 },
  redisOutage: { beforeMs: 5 * SECOND, outageMs: 3 * SECOND, afterMs: 8 * SECOND, triggers: outageMix('queue', 1), manualEveryMs: 500 },
  rollingDeploy: { beforeMs: 5 * SECOND, afterMs: 10 * SECOND, triggers: deployMix(1), manualEveryMs: 500 },
  workerRestart: { processes: 2, outageMs: 3 * SECOND },
};

export const FULL: Settings = {
  name: 'full',
  processes: 4,
  leaseMs: 3 * SECOND,
  pollIntervalMs: 200,
  poolMax: 8,
  exactlyOnce: { slots: 10_000, triggers: exactlyOnceMix, manualTriggers: 10, manualEveryMs: 250 },
  sigkill: { holdRuns: 12, holdMs: 6 * SECOND, triggers: [{ count: 40, schedule: { every: 1_000 }, sleepMs: [5, 100], overlap: 'allow' }] },
  postgresOutage: { beforeMs: 10 * SECOND, outageMs: 5 * SECOND, afterMs: 15 * SECOND, triggers: outageMix('allow', 2), manualEveryMs: 250 },
  redisOutage: { beforeMs: 10 * SECOND, outageMs: 5 * SECOND, afterMs: 15 * SECOND, triggers: outageMix('queue', 2), manualEveryMs: 250 },
  rollingDeploy: { beforeMs: 10 * SECOND, afterMs: 20 * SECOND, triggers: deployMix(2), manualEveryMs: 250 },
  workerRestart: { processes: 4, outageMs: 10 * SECOND },
};
