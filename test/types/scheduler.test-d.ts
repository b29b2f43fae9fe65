/**
 * Type tests: the handler registry's schemas type every trigger's payload (input type) and
 * every handler's payload (output type). Checked by `vitest --typecheck` and `tsc`.
 */
import { describe, expectTypeOf, it } from 'vitest';
import { z } from 'zod';
import {
  createScheduler,
  defineHandler,
  type PayloadOf,
  type RunRecord,
  type Scheduler,
  type SchedulerEvents,
  type TaskContext,
  type TriggerRecord,
  type TypedTrigger,
  type UpsertResult,
} from 'punctual';

const reportSchema = z.object({ to: z.email(), copies: z.number().int().default(1) });
const resizeSchema = z.object({ url: z.url(), width: z.number() });

const scheduler = createScheduler({
  handlers: {
    'send-report': {
      schema: reportSchema,
      run: async (payload, ctx) => {
        // The handler sees the schema's output: defaults applied.
        expectTypeOf(payload).toEqualTypeOf<{ to: string; copies: number }>();
        expectTypeOf(ctx).toEqualTypeOf<TaskContext>();
        expectTypeOf(ctx.signal).toEqualTypeOf<AbortSignal>();
        expectTypeOf(ctx.attempt).toEqualTypeOf<number>();
      },
    },
    resize: defineHandler({
      schema: resizeSchema,
      run: (payload, ctx) => {
        expectTypeOf(payload).toEqualTypeOf<{ url: string; width: number }>();
        expectTypeOf(ctx).toEqualTypeOf<TaskContext>();
        return payload.width;
      },
    }),
  },
});

type Schemas = { 'send-report': typeof reportSchema; resize: typeof resizeSchema };

describe('triggers.create', () => {
  it('takes the payload type of the chosen task type (the schema input)', () => {
    expectTypeOf<PayloadOf<Schemas, 'send-report'>>().toEqualTypeOf<{ to: string; copies?: number | undefined }>();
    expectTypeOf(
      scheduler.triggers.create({ name: 'r', owner: 'u', taskType: 'send-report', payload: { to: 'a@example.com' }, schedule: { cron: '0 9 * * *' } }),
    ).toEqualTypeOf<Promise<TypedTrigger<Schemas, 'send-report'>>>();
    void scheduler.triggers.create({ name: 'r', owner: 'u', taskType: 'resize', payload: { url: 'https://x.test/a.png', width: 100 }, schedule: { every: '5m' } });
  });

  it('rejects a payload that does not match the schema', () => {
    void scheduler.triggers.create({
      name: 'r', owner: 'u', taskType: 'send-report', schedule: { manual: true },
      // @ts-expect-error `to` must be a string
      payload: { to: 42 },
    });
    void scheduler.triggers.create({
      name: 'r', owner: 'u', taskType: 'send-report', schedule: { manual: true },
      // @ts-expect-error `to` is required
      payload: { copies: 2 },
    });
    void scheduler.triggers.create({
      name: 'r', owner: 'u', taskType: 'resize', schedule: { manual: true },
      // @ts-expect-error another task type's payload
      payload: { to: 'a@example.com' },
    });
  });

  it('rejects an unknown task type', () => {
    // @ts-expect-error not a registered task type
    void scheduler.triggers.create({ name: 'r', owner: 'u', taskType: 'no-such-task', payload: { url: 'u', width: 1 }, schedule: { manual: true } });
  });

  it('requires an owner on the admin view, not on a scoped one', () => {
    // @ts-expect-error owner is missing
    void scheduler.triggers.create({ name: 'r', taskType: 'resize', payload: { url: 'https://x.test', width: 1 }, schedule: { manual: true } });
    void scheduler.forOwner('u').triggers.create({ name: 'r', taskType: 'resize', payload: { url: 'https://x.test', width: 1 }, schedule: { manual: true } });
    void scheduler.forOwner('u').triggers.create({
      name: 'r', taskType: 'resize', schedule: { manual: true },
      // @ts-expect-error the scoped view checks payloads too
      payload: { url: 'https://x.test' },
    });
  });

  it('rejects schedules of no known shape', () => {
    // @ts-expect-error `at` takes a Date or an ISO string
    void scheduler.triggers.create({ name: 'r', owner: 'u', taskType: 'resize', payload: { url: 'u', width: 1 }, schedule: { at: 5 } });
  });
});

describe('update, runNow and events', () => {
  it('types a payload change by the new task type', () => {
    void scheduler.triggers.update('id', { taskType: 'resize', payload: { url: 'u', width: 2 } });
    // @ts-expect-error the payload must match the new task type
    void scheduler.triggers.update('id', { taskType: 'resize', payload: { to: 'a@example.com' } });
    void scheduler.triggers.update('id', { priority: 5 });
  });

  it('returns runs and types event payloads', () => {
    expectTypeOf(scheduler.triggers.runNow('id')).toEqualTypeOf<Promise<RunRecord>>();
    expectTypeOf(scheduler.triggers.runMany('id', [{}, { priority: 1 }])).toEqualTypeOf<Promise<RunRecord[]>>();
    void scheduler.triggers.runMany('id', [{ payload: { url: 'u', width: 1 } }, { payload: { to: 'a@example.com' } }]);
    // @ts-expect-error a payload of no registered task type
    void scheduler.triggers.runMany('id', [{ payload: { nope: true } }]);
    scheduler.on('run:completed', (event) => {
      expectTypeOf(event).toEqualTypeOf<SchedulerEvents['run:completed']>();
      expectTypeOf(event.durationMs).toEqualTypeOf<number>();
      expectTypeOf(event.run).toEqualTypeOf<RunRecord>();
    });
    // @ts-expect-error not an event name
    scheduler.on('run:exploded', () => undefined);
  });

  it('rejects a handler whose run does not accept the schema output', () => {
    createScheduler({
      handlers: {
        // @ts-expect-error `width` is a number, not a string
        resize: { schema: resizeSchema, run: (payload: { width: string }) => payload.width },
      },
    });
  });
});

describe('typed trigger handles, upsert and enqueue', () => {
  it("types runNow's and runMany's payload override by the handle's task type", async () => {
    const report = await scheduler.triggers.create({ name: 'r', owner: 'u', taskType: 'send-report', payload: { to: 'a@example.com' }, schedule: { manual: true } });
    expectTypeOf(report).toExtend<TriggerRecord>();
    expectTypeOf(report.payload).toEqualTypeOf<{ to: string; copies?: number | undefined }>();
    void scheduler.triggers.runNow(report, { payload: { to: 'b@example.com' }, delayMs: 1_000 });
    // @ts-expect-error a resize payload for a send-report trigger
    void scheduler.triggers.runNow(report, { payload: { url: 'https://x.test', width: 1 } });
    // @ts-expect-error a resize payload for a send-report trigger
    void scheduler.triggers.runMany(report, [{ payload: { url: 'https://x.test', width: 1 } }]);
    // An untyped record or an id accepts any registered payload.
    const stored: TriggerRecord = report;
    void scheduler.triggers.runNow(stored, { payload: { url: 'https://x.test', width: 1 } });
    void scheduler.triggers.runNow(report.id, { runAt: new Date() });
    // @ts-expect-error not an option
    void scheduler.triggers.runNow(report, { delay: 5 });
  });

  it('upsert returns what it did with a typed handle', () => {
    expectTypeOf(
      scheduler.triggers.upsert({ name: 'r', owner: 'u', taskType: 'resize', payload: { url: 'https://x.test', width: 1 }, schedule: { cron: '0 3 * * *' } }),
    ).toEqualTypeOf<Promise<UpsertResult<TypedTrigger<Schemas, 'resize'>>>>();
    void scheduler.forOwner('u').triggers.upsert({ name: 'r', taskType: 'resize', payload: { url: 'https://x.test', width: 1 }, schedule: { manual: true } });
    void scheduler.triggers.sync([{ name: 'r', owner: 'u', taskType: 'resize', payload: { url: 'https://x.test', width: 1 }, schedule: { manual: true } }], { owner: 'u', prune: 'delete' });
  });

  it("types enqueue's payload by the task type", () => {
    expectTypeOf(scheduler.enqueue('send-report', { to: 'a@example.com' }, { delayMs: 60_000, idempotencyKey: 'k1' })).toEqualTypeOf<Promise<RunRecord>>();
    // @ts-expect-error `to` must be a string
    void scheduler.enqueue('send-report', { to: 1 });
    // @ts-expect-error not a registered task type
    void scheduler.enqueue('nope', {});
    void scheduler.forOwner('u').enqueueMany([
      { taskType: 'resize', payload: { url: 'https://x.test', width: 1 } },
      { taskType: 'send-report', payload: { to: 'a@example.com' }, runAt: new Date() },
    ]);
    // @ts-expect-error the payload of the other task type
    void scheduler.enqueueMany([{ taskType: 'resize', payload: { to: 'a@example.com' } }]);
  });
});

describe('host code: Scheduler without a type argument takes unknown input', () => {
  it('passes request data through without a cast; punctual checks it at run time', () => {
    const host = (api: Scheduler, body: unknown, query: Record<string, string | number>) => {
      void api.triggers.create(body, { actor: 'u' });
      void api.triggers.upsert(body);
      void api.triggers.sync(body);
      void api.triggers.update('id', body);
      void api.triggers.list(query);
      void api.triggers.pause('id', body);
      void api.triggers.runNow('id', body);
      void api.triggers.runMany('id', body, body);
      void api.triggers.backfill('id', body);
      void api.forOwner('u').triggers.create(body);
      void api.enqueue(body, body, body);
      void api.forOwner('u').enqueueMany(body, body);
      expectTypeOf(api.triggers.create(body)).resolves.toExtend<TriggerRecord>();
    };
    // Every typed scheduler is such a Scheduler.
    host(scheduler, {}, {});
  });

  it('keeps the typed scheduler typed', () => {
    const body: unknown = {};
    // @ts-expect-error a typed scheduler wants a typed input
    void scheduler.triggers.create(body);
    // @ts-expect-error a typed scheduler wants a typed payload
    void scheduler.enqueue('send-report', body);
  });
});
