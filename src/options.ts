import { hostname } from 'node:os';
import { buildCalendars, type Calendar, type CalendarDefinition } from './calendars.js';
import { systemClock, type Clock } from './clock.js';
import { ConfigurationError, type ValidationIssue } from './errors.js';
import { bool, INVALID, int as integer, oneOf, type Field } from './field-kit.js';
import type { LockStore } from './locks/types.js';
import { randomId, systemRandom, type RandomSource } from './random.js';
import { MAX_TIMEOUT_MS, type HandlersFor, type SchemaMap } from './registry.js';
import { DEFAULT_RETRY, exponentialBackoff, retryOptionIssues, toRetryPolicy, type RetryPolicy } from './retry.js';
import type { Store } from './stores/types.js';
import { MISFIRE_POLICIES, OVERLAP_POLICIES, type MisfirePolicy, type OverlapPolicy, type RetryOptions } from './types.js';

/**
 * A MongoDB `Db` (driver 6 or 7, `client.db(name)`), typed by the members punctual checks so
 * that these declarations do not need the `mongodb` package: any driver `Db` fits.
 */
export interface MongoDbLike {
  readonly databaseName: string;
  collection(name: string): unknown;
}

/**
 * Options of {@link createScheduler}. Every option but `handlers` has a default.
 * @example
 * createScheduler({ handlers, store: memoryStore(), maxConcurrentRuns: 500 })
 */
export interface SchedulerOptions<S extends SchemaMap = SchemaMap> {
  /** Task type -> { schema, run, concurrency?, timeoutMs?, priority?, retry? }. */
  handlers: HandlersFor<S>;
  /**
   * A MongoDB database (driver 6 or 7): shorthand for `store: mongoStore(db)`, whose lock store
   * (MongoDB TTL locks) becomes the default `lockStore`. The usual way to run punctual.
   */
  db?: MongoDbLike;
  /** Where triggers, runs and the audit trail live. Default: `mongoStore(db)` when `db` is given, else an in-process memory store. */
  store?: Store;
  /** Locks that keep a trigger from running twice at once across instances. Default: the store's own lock store, else an in-process one. */
  lockStore?: LockStore;
  /** This instance's name in history and locks. Default: `<hostname>-<pid>-<random>`. */
  instanceId?: string;
  /** Runs executing at once on this instance, 1..100,000. Default 100. */
  maxConcurrentRuns?: number;
  /**
   * Runs claimed ahead of free capacity and held on this instance until a slot frees, 0..10,000.
   * Default 0. With many short handlers on a remote store, the next batch is already here when
   * slots free, instead of one store round trip later. A held run is leased to this instance
   * (its attempt has begun); one not started within `leaseMs / 3` is handed back to the store.
   */
  prefetch?: number;
  /** How often the store is checked for work other instances added, ms (100..300,000). Default 1,000. Changes made through this instance wake it at once. */
  pollIntervalMs?: number;
  /** Lease (lock TTL) of a running run, ms (1,000..3,600,000); renewed at a third of it while the handler runs. Default 30,000. */
  leaseMs?: number;
  /** Default retry policy or options. Default: exponential, 3 retries from 1 s, x2, max 60 s, +-20% jitter. */
  retry?: RetryPolicy | RetryOptions;
  /** Execution limit when neither trigger nor handler sets one, ms (1..86,400,000). Default 3,600,000 (1 h). */
  defaultTimeoutMs?: number;
  /** Emit `metrics:snapshot` this often, ms; 0 turns it off. Default 60,000. */
  metricsIntervalMs?: number;
  /** Keep finished runs this long, ms. Default 90 days. */
  retentionMs?: number;
  /** Default misfire policy of new triggers. Default `once`. */
  misfire?: MisfirePolicy;
  /** A slot started later than this is missed and handled by the misfire policy, ms. Default 60,000. */
  misfireGraceMs?: number;
  /** Default overlap policy of new triggers. Default `queue`. */
  overlap?: OverlapPolicy;
  /**
   * Exclusion calendars that triggers reference by name in `timing.calendars`. Every
   * instance sharing a store must define the same calendars.
   * @example { 'fr-holidays': { timezone: 'Europe/Paris', dates: ['2026-12-25'] } }
   */
  calendars?: Record<string, CalendarDefinition>;
  /**
   * Whether a started scheduler keeps the Node process alive until `stop()` resolves. Default
   * true: a process whose only job is a scheduler (a worker) then stays up through store outages
   * of any length instead of exiting when the database closes its sockets. `false` leaves the
   * process free to exit when nothing else holds it (the scheduler's own timers never do), for
   * hosts that end by letting the event loop drain.
   */
  keepAlive?: boolean;
  /** Time source. Default: the system clock. */
  clock?: Clock;
  /** Random source (ids, jitter). Default: Math.random. */
  random?: RandomSource;
}

export interface ResolvedOptions {
  instanceId: string;
  maxConcurrentRuns: number;
  prefetch: number;
  pollIntervalMs: number;
  leaseMs: number;
  retry: RetryPolicy;
  defaultTimeoutMs: number;
  metricsIntervalMs: number;
  retentionMs: number;
  misfire: MisfirePolicy;
  misfireGraceMs: number;
  overlap: OverlapPolicy;
  keepAlive: boolean;
  clock: Clock;
  random: RandomSource;
  /** How far ahead the dispatcher loads due triggers. */
  lookaheadMs: number;
  calendars: Map<string, Calendar>;
}

const KNOWN = new Set([
  'handlers', 'db', 'store', 'lockStore', 'instanceId', 'maxConcurrentRuns', 'prefetch', 'pollIntervalMs', 'leaseMs', 'retry',
  'defaultTimeoutMs', 'metricsIntervalMs', 'retentionMs', 'misfire', 'misfireGraceMs', 'overlap', 'calendars', 'keepAlive', 'clock',
  'random',
]);

/** Validates options and fills in defaults; throws one ConfigurationError listing every problem. */
export function resolveOptions(options: SchedulerOptions<SchemaMap>): ResolvedOptions {
  if (typeof options !== 'object' || options === null) {
    throw ConfigurationError.from([{ path: '', message: 'createScheduler needs an options object with at least { handlers }' }]);
  }
  const problems: ValidationIssue[] = [];
  const problem = (path: string, message: string): void => void problems.push({ path, message });
  for (const key of Object.keys(options)) {
    if (!KNOWN.has(key)) problem(key, `is not a known option; valid: ${[...KNOWN].join(', ')}`);
  }
  const checked = <T>(f: Field<T>, key: keyof SchedulerOptions, fallback: T): T => {
    const value = options[key] === undefined ? fallback : f.check(options[key], key, problems, undefined);
    return value === INVALID || value instanceof Promise ? fallback : value;
  };
  const maxConcurrentRuns = checked(integer(1, 100_000), 'maxConcurrentRuns', 100);
  const prefetch = checked(integer(0, 10_000), 'prefetch', 0);
  const pollIntervalMs = checked(integer(100, 300_000), 'pollIntervalMs', 1_000);
  const leaseMs = checked(integer(1_000, 3_600_000), 'leaseMs', 30_000);
  const defaultTimeoutMs = checked(integer(1, MAX_TIMEOUT_MS), 'defaultTimeoutMs', 3_600_000);
  const metricsIntervalMs = checked(integer(0, 86_400_000), 'metricsIntervalMs', 60_000);
  const retentionMs = checked(integer(60_000, 3_650 * 86_400_000), 'retentionMs', 90 * 86_400_000);
  const misfireGraceMs = checked(integer(0, 86_400_000), 'misfireGraceMs', 60_000);
  const misfire = checked(oneOf(MISFIRE_POLICIES), 'misfire', 'once');
  const overlap = checked(oneOf(OVERLAP_POLICIES), 'overlap', 'queue');
  if (typeof options.retry !== 'function') problems.push(...retryOptionIssues(options.retry, 'retry'));
  collaboratorProblems(options, problem);
  const keepAlive = checked(bool(), 'keepAlive', true);

  let calendars = new Map<string, Calendar>();
  try {
    calendars = buildCalendars(options.calendars);
  } catch (error) {
    if (error instanceof ConfigurationError && error.issues.length > 0) problems.push(...error.issues);
    else problem('calendars', error instanceof Error ? error.message : String(error));
  }
  if (problems.length > 0) throw ConfigurationError.from(problems);
  const random = options.random ?? systemRandom;
  return {
    instanceId: options.instanceId ?? `${hostname()}-${process.pid}-${randomId(random, 6)}`,
    maxConcurrentRuns,
    prefetch,
    pollIntervalMs,
    leaseMs,
    retry: toRetryPolicy(options.retry, exponentialBackoff(DEFAULT_RETRY)),
    defaultTimeoutMs,
    metricsIntervalMs,
    retentionMs,
    misfire,
    misfireGraceMs,
    overlap,
    keepAlive,
    clock: options.clock ?? systemClock,
    random,
    lookaheadMs: Math.max(2 * pollIntervalMs, 5_000),
    calendars,
  };
}

/** The instance id's characters, and the shape of the injected collaborators (clock, random, store, db, lock store). */
function collaboratorProblems(options: SchedulerOptions<SchemaMap>, problem: (path: string, message: string) => void): void {
  if (options.instanceId !== undefined && !(typeof options.instanceId === 'string' && /^[\w.:@-]{1,200}$/.test(options.instanceId))) {
    problem('instanceId', 'must be 1-200 letters, digits, ".", ":", "@", "_" or "-"');
  }
  if (options.clock !== undefined && typeof options.clock?.now !== 'function') problem('clock', 'must implement { now, setTimeout, clearTimeout }');
  if (options.random !== undefined && typeof options.random !== 'function') problem('random', 'must be a function returning a number in [0, 1)');
  if (options.store !== undefined && typeof options.store?.claimRuns !== 'function') problem('store', 'must implement the Store interface');
  if (options.db !== undefined && options.store !== undefined) problem('db', 'give either db (MongoDB) or store, not both');
  if (options.db !== undefined && typeof (options.db as { collection?: unknown } | null)?.collection !== 'function') problem('db', 'must be a MongoDB Db (client.db(name))');
  if (options.lockStore !== undefined && typeof options.lockStore?.acquire !== 'function') problem('lockStore', 'must implement the LockStore interface');
}
