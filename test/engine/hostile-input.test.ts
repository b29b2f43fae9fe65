/**
 * Hostile JSON through the public API on every reachable store (memory always, PostgreSQL and
 * MongoDB when their servers answer): create, update, runNow, runMany, publish, pause,
 * backfill and list filters. Each call either succeeds with the same stored value on every store, or throws a
 * typed error (ValidationError, NotFoundError, ConflictError) with the same issues on every
 * store and writes nothing: triggers, runs and audit entries are counted before and after.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createScheduler, isPunctualError, memoryStore, type Scheduler, type Store, type TaskContext } from 'punctual';
import { TestClock } from 'punctual/testing';
import { mongoStore } from '../../src/stores/mongo/index.js';
import { postgresStore } from '../../src/stores/postgres/index.js';
import { countAll, hostileJson, nest, unstorableString, withinLimits } from '../hostile-json.js';
import { mongoTarget, useDatabases } from '../mongo/databases.js';
import { connectPostgres, dropSchema, randomSchema } from '../postgres/harness.js';
import { HOUR, T0, testScheduler, track, waitForEvent } from './helpers.js';

const RUNS = 60;
const handlers = { anything: { schema: z.unknown(), run: async () => null } };
type Sched = Scheduler<{ anything: z.ZodUnknown }>;

const pool = await connectPostgres(4);
const mongo = mongoTarget();
const mongoDbs = useDatabases(mongo);

interface Target {
  name: string;
  scheduler: Sched;
  ids: { manual: string; cron: string };
}
const targets: Target[] = [];
const schema = randomSchema();

beforeAll(async () => {
  const stores: [string, Store][] = [['memory', memoryStore()]];
  if (pool) stores.push(['postgresql', postgresStore(pool, { schema })]);
  if (mongo) stores.push(['mongodb', mongoStore(mongoDbs.fresh())]);
  for (const [name, store] of stores) {
    const { scheduler } = testScheduler({ store, clock: new TestClock(T0), handlers });
    const base = { owner: 'owner-1', taskType: 'anything' as const, payload: {} };
    const manual = await scheduler.triggers.create({ ...base, name: 'manual', schedule: { manual: true } });
    const cron = await scheduler.triggers.create({ ...base, name: 'hourly', schedule: { cron: '0 * * * *' }, paused: true });
    await scheduler.triggers.create({ ...base, name: 'listener', schedule: { event: 'hostile.event' } });
    targets.push({ name, scheduler, ids: { manual: manual.id, cron: cron.id } });
  }
});

afterAll(async () => {
  if (pool) {
    await dropSchema(pool, schema);
    await pool.end();
  }
});

/** Fields whose error messages quote the given value. */
const QUOTING_FIELDS = ['name', 'taskType', 'priority', 'timeoutMs', 'misfireGraceMs', 'pauseAfterFailures', 'misfire', 'overlap'] as const;

type Op =
  | { kind: 'create-payload' | 'create-metadata' | 'update-payload' | 'update-metadata' | 'runNow' | 'runMany' | 'publish'; value: unknown }
  | { kind: 'create-field'; field: string; value: unknown }
  | { kind: 'pause'; value: unknown }
  | { kind: 'list'; value: unknown; filter: 'triggers.name' | 'runs.taskType' | 'audit.owner' }
  | { kind: 'backfill'; value: unknown; end: 'from' | 'to' };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constantFrom('create-payload', 'create-metadata', 'update-payload', 'update-metadata', 'runNow', 'runMany', 'publish' as const), value: hostileJson }),
  fc.record({ kind: fc.constant('create-field' as const), field: fc.constantFrom(...QUOTING_FIELDS, 'timing.startAt', 'schedule.timezone'), value: hostileJson }),
  fc.record({ kind: fc.constant('pause' as const), value: fc.oneof(unstorableString, fc.string({ maxLength: 20 }), hostileJson) }),
  fc.record({ kind: fc.constant('list' as const), value: fc.oneof(unstorableString, fc.string({ maxLength: 10 }), hostileJson), filter: fc.constantFrom('triggers.name' as const, 'runs.taskType' as const, 'audit.owner' as const) }),
  fc.record({ kind: fc.constant('backfill' as const), value: fc.oneof(hostileJson, unstorableString), end: fc.constantFrom('from' as const, 'to' as const) }),
);

type Outcome = { ok: true; stored: unknown } | { ok: false; error: string; issues: unknown };

/** The same JSON, so stores that differ only in key order or -0 compare equal. */
const normal = (value: unknown): unknown => (value === undefined ? undefined : JSON.parse(JSON.stringify(value)));

let names = 0;

async function apply(target: Target, operation: Op, name: string): Promise<unknown> {
  const { scheduler, ids } = target;
  const base = { owner: 'owner-1', name, taskType: 'anything' as const, payload: {}, schedule: { manual: true as const } };
  switch (operation.kind) {
    case 'create-payload':
      return scheduler.triggers.create({ ...base, payload: operation.value }).then((t) => t.payload);
    case 'create-metadata':
      return scheduler.triggers.create({ ...base, metadata: operation.value as Record<string, unknown> }).then((t) => scheduler.triggers.get(t.id)).then((t) => t.metadata);
    case 'create-field': {
      const [field, sub] = operation.field.split('.') as [string, string | undefined];
      const fields = sub ? { [field]: { ...(field === 'schedule' ? { cron: '0 * * * *' } : {}), [sub]: operation.value } } : { [field]: operation.value };
      return scheduler.triggers.create({ ...base, ...fields } as never).then((t) => scheduler.triggers.get(t.id)).then((t) => ({ name: t.name, priority: t.priority, schedule: t.schedule }));
    }
    case 'update-payload':
      return scheduler.triggers.update(ids.manual, { payload: operation.value }).then((t) => scheduler.triggers.get(t.id)).then((t) => t.payload);
    case 'update-metadata':
      return scheduler.triggers.update(ids.manual, { metadata: operation.value as Record<string, unknown> }).then((t) => scheduler.triggers.get(t.id)).then((t) => t.metadata);
    case 'runNow':
      return scheduler.triggers.runNow(ids.manual, { payload: operation.value }).then((r) => scheduler.runs.get(r.id)).then((r) => r.payload);
    case 'runMany': {
      const runs = await scheduler.triggers.runMany(ids.manual, [{ payload: operation.value }, { payload: operation.value, priority: 5 }]);
      return Promise.all(runs.map((r) => scheduler.runs.get(r.id).then((stored) => [stored.payload, stored.priority])));
    }
    case 'publish': {
      const result = await scheduler.publish('hostile.event', operation.value);
      return Promise.all(result.runs.map((r) => scheduler.runs.get(r.id).then((stored) => stored.event?.data)));
    }
    case 'pause': {
      const paused = await scheduler.triggers.pause(ids.manual, { reason: operation.value as string });
      await scheduler.triggers.resume(ids.manual);
      return [paused.status, paused.pausedReason];
    }
    case 'list': {
      const value = operation.value as string;
      if (operation.filter === 'triggers.name') return scheduler.triggers.list({ name: value }).then((p) => p.items.length);
      if (operation.filter === 'runs.taskType') return scheduler.runs.list({ taskType: value }).then((p) => p.items.length);
      return scheduler.audit.list({ owner: value }).then((p) => p.items.length);
    }
    case 'backfill': {
      const range = { from: new Date(T0 - 3 * HOUR), to: new Date(T0), [operation.end]: operation.value } as never;
      const result = await scheduler.triggers.backfill(ids.cron, range);
      return [result.slots, result.created.length, result.alreadyRun];
    }
  }
}

async function counts(target: Target): Promise<number[]> {
  const { scheduler, ids } = target;
  const [triggers, runs, audit, manual] = await Promise.all([
    countAll((page) => scheduler.triggers.list(page)),
    countAll((page) => scheduler.runs.list(page)),
    countAll((page) => scheduler.audit.list(page)),
    scheduler.triggers.get(ids.manual),
  ]);
  return [triggers, runs, audit, manual.version];
}

async function outcomeOn(target: Target, operation: Op, name: string): Promise<Outcome> {
  const before = await counts(target);
  try {
    return { ok: true, stored: normal(await apply(target, operation, name)) };
  } catch (error) {
    const typed = isPunctualError(error, 'ValidationError') || isPunctualError(error, 'NotFoundError') || isPunctualError(error, 'ConflictError');
    if (!typed) throw new Error(`${target.name}: ${operation.kind} threw an untyped error`, { cause: error });
    expect(await counts(target), `${target.name}: a rejected ${operation.kind} wrote something`).toEqual(before);
    return { ok: false, error: error.name, issues: 'issues' in error ? error.issues : [] };
  }
}

/** The field a rejection must name. */
function fieldOf(operation: Op): string {
  switch (operation.kind) {
    case 'create-field':
      return operation.field.split('.')[0] as string;
    case 'create-metadata':
    case 'update-metadata':
      return 'metadata';
    case 'runMany':
      return 'items.';
    case 'publish':
      return 'data';
    case 'pause':
      return 'reason';
    case 'backfill':
      return operation.end;
    case 'list':
      return operation.filter.split('.')[1] as string;
    default:
      return 'payload';
  }
}

/** What the limits say a payload-like operation should do, independently of the library. */
function expectedOk(operation: Op): boolean | null {
  if (!['create-payload', 'update-payload', 'runNow', 'runMany'].includes(operation.kind)) return null;
  return withinLimits((operation as { value: unknown }).value);
}

describe('hostile JSON through the library API', () => {
  it(`gives one typed answer on every store and writes nothing on rejection (${RUNS} inputs)`, { timeout: 120_000 }, async () => {
    expect(targets.map((t) => t.name)).toContain('memory');
    await fc.assert(
      fc.asyncProperty(op, async (operation) => {
        const name = `t${++names}`;
        const outcomes: Outcome[] = [];
        for (const target of targets) outcomes.push(await outcomeOn(target, operation, name));
        for (const [i, outcome] of outcomes.entries()) {
          expect(outcome, `${targets[i]?.name} differs from ${targets[0]?.name}`).toEqual(outcomes[0]);
        }
        const first = outcomes[0] as Outcome;
        const expected = expectedOk(operation);
        if (expected !== null) expect(first.ok, JSON.stringify(first).slice(0, 300)).toBe(expected);
        if (!first.ok && first.error === 'ValidationError') {
          // The error names the field it is about.
          const paths = (first.issues as { path: string }[]).map((i) => i.path);
          expect(paths.some((path) => path.startsWith(fieldOf(operation))), paths.join()).toBe(true);
        }
      }),
      { numRuns: RUNS },
    );
  });
});

/** What a handler of the finish-path test returns or throws, by payload. */
const OUTCOMES: Record<string, (ctx: TaskContext) => unknown> = {
  deep: () => nest(10_000, 'leaf', 'object'),
  nul: () => ({ text: 'a\u0000b' }),
  surrogate: () => ['\ud800'],
  cyclic: () => {
    const value: Record<string, unknown> = {};
    value.self = value;
    return value;
  },
  fine: () => ({ text: 'ok 🎉', big: 2 ** 60, keys: JSON.parse('{"__proto__":1,"constructor":2}') as unknown }),
  progressNul: async (ctx) => {
    await ctx.progress(50, 'half \u0000 way \ud800');
    return 'done';
  },
  throwsNul: () => {
    throw new Error('bad \u0000 input \udc00 here');
  },
};

describe('handler results and errors beyond the limits', () => {
  it('fail the run for good with a stored reason, the same on every store, and never block the finish', { timeout: 60_000 }, async () => {
    const stores: [string, () => Store][] = [['memory', () => memoryStore()]];
    if (pool) stores.push(['postgresql', () => postgresStore(pool, { schema: `${schema}_finish` })]);
    const seen: Record<string, unknown>[] = [];
    for (const [, makeStore] of stores) {
      // The real clock: PostgreSQL answers in real time, so simulated time would run ahead of it.
      const scheduler = track(createScheduler({
        store: makeStore(),
        pollIntervalMs: 100,
        metricsIntervalMs: 0,
        handlers: { outcome: { schema: z.object({ kind: z.enum(Object.keys(OUTCOMES) as [string, ...string[]]) }), retry: { maxRetries: 0 }, run: async ({ kind }, ctx) => OUTCOMES[kind]?.(ctx) } },
      }));
      await scheduler.start();
      const trigger = await scheduler.triggers.create({ owner: 'o', name: 'finish', taskType: 'outcome', payload: { kind: 'fine' }, schedule: { manual: true } });
      const result: Record<string, unknown> = {};
      for (const kind of Object.keys(OUTCOMES)) {
        const run = await scheduler.triggers.runNow(trigger.id, { payload: { kind } });
        await waitForEvent(scheduler, kind === 'fine' || kind === 'progressNul' ? 'run:completed' : 'run:failed', (e) => e.run.id === run.id);
        const stored = await scheduler.runs.get(run.id);
        result[kind] = normal({ status: stored.status, result: stored.result, error: stored.error, note: stored.progress?.note });
      }
      await scheduler.stop();
      seen.push(result);
    }
    if (pool) await dropSchema(pool, `${schema}_finish`);
    const [first] = seen as [Record<string, { status: string; note?: string; error?: { name: string; message: string } }>];
    for (const other of seen) expect(other).toEqual(first);
    expect(first.fine?.status).toBe('completed');
    for (const kind of ['deep', 'nul', 'surrogate', 'cyclic']) {
      expect(first[kind]?.status, kind).toBe('failed');
      expect(first[kind]?.error?.name, kind).toBe('NonRetryableError');
      expect(first[kind]?.error?.message, kind).toMatch(/^the handler's result cannot be stored \(result/);
    }
    expect(first.progressNul).toMatchObject({ status: 'completed', note: 'half \ufffd way \ufffd' });
    expect(first.throwsNul?.error).toEqual({ name: 'Error', message: 'bad \ufffd input \ufffd here' });
  });
});
