/**
 * What each system runs with, per setting (shown in the report). "default" changes nothing but
 * what the scenario fixes (concurrency); "tuned" applies the system's own documented tuning.
 */
export const SETTINGS_TEXT: Record<string, { default: string; tuned: string }> = {
  'punctual-memory': {
    default: 'defaults (pollIntervalMs 1,000, leaseMs 30,000, prefetch 0); runs enqueued with triggers.runMany, 5,000 per call; maxConcurrentRuns = the scenario concurrency; triggers with overlap `allow`',
    tuned: 'as default, plus pollIntervalMs 5,000 (polling is only the fallback; fewer window reloads) and prefetch 1,000 (runs claimed ahead of free capacity)',
  },
  'punctual-postgres': {
    default: 'defaults (LISTEN/NOTIFY wake-ups, pollIntervalMs 1,000, leaseMs 30,000, prefetch 0), pg pool max 10; runs enqueued with triggers.runMany, 5,000 per call; maxConcurrentRuns = the scenario concurrency; triggers with overlap `allow`',
    tuned: 'as default, plus pg pool max 20, pollIntervalMs 5,000 (LISTEN/NOTIFY does the waking; fewer window reloads and lease sweeps) and prefetch 1,000 (the next claimed batch is on hand when slots free)',
  },
  bullmq: {
    default: 'Worker concurrency = the scenario concurrency; jobs added with addBulk, 5,000 per call; job schedulers (upsertJobScheduler) for cron',
    tuned: 'as default, plus removeOnComplete / removeOnFail on jobs (no completed-set bookkeeping)',
  },
  'graphile-worker': {
    default: 'concurrentJobs = the scenario concurrency, maxPoolSize 10, pollInterval 2,000; jobs added with addJobs, 5,000 per call',
    tuned: 'as default, plus the settings of graphile-worker\'s performance page (localQueue.size 500, completeJobBatchDelay 0, failJobBatchDelay 0, maxPoolSize = concurrency + 1, at most 51) and pollInterval 100 ms',
  },
  'pg-boss': {
    default: 'one work() loop with batchSize = the scenario concurrency, pollingIntervalSeconds 2; jobs added with insert(), 5,000 per call',
    tuned: 'as default, plus pollingIntervalSeconds 0.5 (the minimum)',
  },
  'agenda-postgres': {
    default: 'PostgresBackend (LISTEN/NOTIFY), processEvery 5 s; defaultConcurrency and maxConcurrency = the scenario concurrency',
    tuned: 'as default, plus processEvery 100 ms, lockLimit and defaultLockLimit = concurrency',
  },
  'agenda-mongo': {
    default: 'MongoBackend, processEvery 5 s; defaultConcurrency and maxConcurrency = the scenario concurrency',
    tuned: 'as default, plus processEvery 100 ms, lockLimit and defaultLockLimit = concurrency',
  },
};
