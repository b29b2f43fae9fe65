/**
 * What the suite's parent process (run.ts) and its scheduler processes (worker.ts) say to each
 * other over the IPC channel of `child_process.fork`. Plain JSON: instants are epoch ms.
 */

/** Everything a worker needs to build its scheduler; passed as JSON in `argv[2]`. */
export interface WorkerConfig {
  /** 0-based position among the suite's processes, for names in reports. */
  index: number;
  databaseUrl: string;
  schema: string;
  /** Set: use `redisLockStore` with this key prefix instead of the PostgreSQL locks table. */
  redis?: { url: string; prefix: string };
  leaseMs: number;
  pollIntervalMs: number;
  /** Size of the worker's pg pool (the store and the handlers share it). */
  poolMax: number;
  /** The task types it has handlers for. Default: every type of tasks.ts. */
  taskTypes?: string[];
}

export type ParentMessage =
  /** Start the scheduler. */
  | { type: 'start' }
  /** Call `triggers.runNow` on a random one of `triggerIds` every `everyMs` until `stop-manual`. */
  | { type: 'manual'; triggerIds: string[]; everyMs: number }
  | { type: 'stop-manual' }
  /** Call `triggers.runNow(triggerId)` `count` times at once; answered by `ran`. */
  | { type: 'run-now'; triggerId: string; count: number }
  /** Stop the scheduler, close the pool and Redis, send `summary`, exit. */
  | { type: 'stop' };

/** One transition of `scheduler.health().status` as seen by the worker's 200 ms poll. */
export interface HealthTransition {
  at: number;
  status: 'ok' | 'degraded' | 'stopped';
  /** The store error health reported, if any. */
  error?: string;
}

export interface WorkerSummary {
  instanceId: string;
  /** Ids of the manual runs `runNow` acknowledged. */
  manualRuns: string[];
  /** `runNow` calls that threw (store outages). */
  manualFailures: number;
  /** `scheduler:error` events per operation. */
  errors: Record<string, number>;
  /** `run:lease-lost` events. */
  leasesLost: number;
  /** `scheduler:recovered` events. */
  recoveries: number;
  /** ioredis `ready` events (the first connection included). */
  redisReady: number;
}

export type WorkerMessage =
  /** Modules loaded, pool (and Redis client) created; the scheduler is not started. */
  | { type: 'ready'; pid: number }
  | { type: 'started'; instanceId: string; at: number }
  | { type: 'health'; transition: HealthTransition }
  | { type: 'ran'; runIds: string[] }
  | { type: 'redis'; event: 'ready' | 'end'; at: number }
  | { type: 'summary'; summary: WorkerSummary }
  /** Something the worker could not do that the parent must know about (not a store outage). */
  | { type: 'problem'; message: string };
