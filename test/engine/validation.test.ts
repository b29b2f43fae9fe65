/**
 * Validation (R13, R14), as properties: any trigger input with at least one invalid field is
 * rejected with a ValidationError listing issues, and nothing is written; any invalid
 * scheduler option is a ConfigurationError.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { z } from 'zod';
import { createScheduler, memoryStore } from 'punctual';
import { testScheduler } from './helpers.js';

const schema = z.object({ to: z.email(), count: z.number().int().min(1) });
const handlers = { mail: { schema, run: () => undefined } };

const VALID = {
  name: 'weekday-report',
  owner: 'user-42',
  taskType: 'mail' as const,
  payload: { to: 'a@example.com', count: 1 },
  schedule: { cron: '0 9 * * 1-5', timezone: 'Europe/Paris' },
};

type Input = Record<string, unknown>;
type Mutation = [label: string, apply: (input: Input) => Input];
const set = (key: string, value: unknown): ((input: Input) => Input) => (input) => ({ ...input, [key]: value });

const NAME_OK = /^[A-Za-z0-9_-]{1,100}$/;
const badName = fc.oneof(
  fc.string().filter((s) => !NAME_OK.test(s)),
  fc.string({ minLength: 101, maxLength: 150, unit: fc.constantFrom('a', 'b', '-', '_', '1') }),
  fc.constantFrom('', 'has space', 'tab\there', 'émoji😀', 'a/b', 'a.b'),
  fc.constantFrom(null, 42, true, {}, ['x']),
);
const badCron = fc.constantFrom('', '* * *', '* * * * * * *', '61 * * * *', '* 24 * * *', '* * 32 * *', '* * * 13 *', '* * * * 8', '@daily', 'a b c d e', '*/0 * * * *', '0 0 30 2 *', 'H * * * *', '1,,2 * * * *');
const badZone = fc.oneof(fc.constantFrom('Mars/Olympus', 'UTC+25', 'Europe/Pariss', '', 'local', null, 7), fc.stringMatching(/^[A-Z][a-z]{3,8}\/[A-Z][a-z]{3,8}$/).filter((z) => !Intl.supportedValuesOf('timeZone').includes(z)));
const badSchedule = fc.oneof(
  fc.constantFrom(null, 'every minute', 42, [], {}, { manual: false }, { event: '' }, { at: 'tomorrow' }, { at: '2026-05-01T09:00:00' }, { at: '2026-02-30T09:00:00Z' }),
  fc.constantFrom({ every: -5 }, { every: 0 }, { every: 999 }, { every: 'soon' }, { every: '400d' }, { every: true }, { every: '1m', anchor: 'noon' }),
  fc.constantFrom({ cron: '0 * * * *', every: '1m' }, { manual: true, at: '2026-05-01T09:00:00Z' }, { cron: '0 * * * *', zone: 'UTC' }, { every: '1m', tz: 'UTC' }),
  badCron.map((cron) => ({ cron })),
  badZone.map((timezone) => ({ cron: '0 9 * * *', timezone })),
);
const badPayload = fc.oneof(
  fc.constantFrom(undefined, null, 'text', 42, [], {}, { to: 'a@example.com' }, { count: 1 }),
  fc.string().filter((s) => !z.email().safeParse(s).success).map((to) => ({ to, count: 1 })),
  fc.oneof(fc.integer({ max: 0 }), fc.double({ noInteger: true, noNaN: true }), fc.constant('1')).map((count) => ({ to: 'a@example.com', count })),
);
const notIntegerIn = (min: number, max: number) =>
  fc.oneof(
    fc.integer({ min: max + 1 }),
    fc.integer({ max: min - 1 }),
    fc.double({ noInteger: true }),
    fc.constantFrom('100', null, true, Number.POSITIVE_INFINITY),
  );
const KNOWN = new Set(['name', 'owner', 'taskType', 'payload', 'schedule', 'priority', 'timeoutMs', 'retry', 'misfire', 'misfireGraceMs', 'overlap', 'paused', 'metadata']);

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  badName.map((v): Mutation => ['name', set('name', v)]),
  badSchedule.map((v): Mutation => ['schedule', set('schedule', v)]),
  badPayload.map((v): Mutation => ['payload', set('payload', v)]),
  notIntegerIn(1, 86_400_000).map((v): Mutation => ['timeoutMs', set('timeoutMs', v)]),
  notIntegerIn(0, 10).map((v): Mutation => ['retry.maxRetries', set('retry', { maxRetries: v })]),
  fc.constantFrom({ jitter: 0.5 }, { multiplier: 0.5 }, { initialDelayMs: -1 }, { backoff: 'linear' }, 'fast', [], null).map((v): Mutation => ['retry', set('retry', v)]),
  notIntegerIn(-1000, 1000).map((v): Mutation => ['priority', set('priority', v)]),
  fc.constantFrom('never', 'later', '', 1).map((v): Mutation => ['misfire', set('misfire', v)]),
  fc.constantFrom('cancel', 'replace', '', null).map((v): Mutation => ['overlap', set('overlap', v)]),
  fc.constantFrom([], 'x', 1, { big: 'x'.repeat(20_000) }).map((v): Mutation => ['metadata', set('metadata', v)]),
  fc.constantFrom('', 'has space', 'x'.repeat(201), null).map((v): Mutation => ['owner', set('owner', v)]),
  fc.constantFrom('nope', '', 'MAIL', null).map((v): Mutation => ['taskType', set('taskType', v)]),
  fc.constantFrom('name', 'owner', 'taskType', 'schedule').map((key): Mutation => [key, ({ [key]: _removed, ...rest }) => rest]),
  fc
    .tuple(fc.string({ minLength: 1, maxLength: 20 }).filter((k) => !KNOWN.has(k) && k !== '__proto__'), fc.jsonValue().filter((v) => v !== undefined))
    .map(([key, value]): Mutation => [`unknown field ${key}`, set(key, value)]),
);

describe('trigger validation (property)', () => {
  it('accepts the base input the properties mutate', async () => {
    const { scheduler } = testScheduler({ handlers });
    await expect(scheduler.triggers.create(VALID)).resolves.toMatchObject({ name: 'weekday-report' });
  });

  it('rejects any input with an invalid field with a ValidationError, writing nothing', async () => {
    const { scheduler } = testScheduler({ handlers });
    await fc.assert(
      fc.asyncProperty(fc.array(mutation, { minLength: 1, maxLength: 3 }), async (mutations) => {
        const input = mutations.reduce<Input>((acc, [, apply]) => apply(acc), { ...VALID });
        const error = await scheduler.triggers.create(input as never).then(
          () => null,
          (e: unknown) => e as { name: string; code: string; issues: { path: string; message: string }[]; message: string },
        );
        expect(error, `accepted after ${mutations.map(([l]) => l).join(', ')}`).not.toBeNull();
        expect(error?.name).toBe('ValidationError');
        expect(error?.code).toBe('VALIDATION');
        expect(error?.issues.length).toBeGreaterThan(0);
        for (const issue of error?.issues ?? []) {
          expect(typeof issue.path).toBe('string');
          expect(issue.message.length).toBeGreaterThan(0);
        }
        expect((await scheduler.triggers.list()).items.length).toBe(0);
        expect((await scheduler.audit.list()).items.length).toBe(0);
        expect((await scheduler.runs.list()).items.length).toBe(0);
      }),
      { numRuns: 300 },
    );
  });

  it('rejects invalid updates the same way, leaving the trigger unchanged', async () => {
    const { scheduler } = testScheduler({ handlers });
    const trigger = await scheduler.triggers.create(VALID);
    await fc.assert(
      fc.asyncProperty(mutation, async ([, apply]) => {
        // Just the invalid field (owner is not updatable at all); a removal or undefined is no change.
        const patch = apply({});
        if (Object.values(patch).every((v) => v === undefined)) return;
        await expect(scheduler.triggers.update(trigger.id, patch as never)).rejects.toMatchObject({ name: 'ValidationError' });
        expect(await scheduler.triggers.get(trigger.id)).toEqual(trigger);
      }),
      { numRuns: 150 },
    );
    expect((await scheduler.audit.list()).items.length).toBe(1);
  });

  it('says what is wrong, naming the field and the bad value', async () => {
    const { scheduler } = testScheduler({ handlers });
    const error = (await scheduler.triggers
      .create({ ...VALID, name: 'bad name!', timeoutMs: 86_400_001, retry: { maxRetries: 11 }, schedule: { cron: '0 9 * * *', timezone: 'Mars/Olympus' } })
      .then(
        () => null,
        (e: unknown) => e,
      )) as { issues: { path: string; message: string }[]; message: string };
    expect(error.issues.map((i) => i.path).sort()).toEqual(['name', 'retry.maxRetries', 'schedule.timezone', 'timeoutMs']);
    expect(error.message).toContain('bad name!');
    expect(error.message).toContain('Mars/Olympus');
    expect(error.message).toContain('86400001');
  });

  it('checks ids before touching the store', async () => {
    const { scheduler } = testScheduler({ handlers });
    for (const id of ['', 'has space', 'x'.repeat(201), '../etc']) {
      await expect(scheduler.triggers.get(id)).rejects.toMatchObject({ name: 'ValidationError', issues: [{ path: 'id' }] });
      await expect(scheduler.runs.cancel(id)).rejects.toMatchObject({ name: 'ValidationError' });
    }
  });
});

describe('payloads at run time', () => {
  it('gives the handler the schema output, and revalidates the payload before each run', async () => {
    const store = memoryStore();
    const seen: unknown[] = [];
    const lenient = testScheduler({ store, handlers: { mail: { schema: z.object({ to: z.string(), count: z.number().default(1) }), run: () => undefined } } });
    const loose = await lenient.scheduler.triggers.create({ ...VALID, name: 'loose', payload: { to: 'not-an-email' } as never, schedule: { manual: true } });
    const fine = await lenient.scheduler.triggers.create({ ...VALID, name: 'fine', payload: { to: 'a@example.com' } as never, schedule: { manual: true } });

    // Another deployment registers the stricter schema: the stored payload no longer passes it.
    const strictSchema = z.object({ to: z.email(), count: z.number().int().min(1).default(3) });
    const { scheduler, clock } = testScheduler({ store, handlers: { mail: { schema: strictSchema, run: (payload) => void seen.push(payload) } } });
    await scheduler.start();
    const rejected = await scheduler.triggers.runNow(loose.id);
    const accepted = await scheduler.triggers.runNow(fine.id);
    await clock.advance(10_000);
    expect(await scheduler.runs.get(rejected.id)).toMatchObject({ status: 'failed', attempt: 1, error: { name: 'ValidationError' } });
    expect(await scheduler.runs.get(accepted.id)).toMatchObject({ status: 'completed' });
    expect(seen).toEqual([{ to: 'a@example.com', count: 3 }]);
    await scheduler.stop();
  });
});

describe('scheduler option validation (property)', () => {
  const badOption = fc.oneof(
    fc.constantFrom(0, -1, 100_001, 1.5, '10', null).map((v) => ({ maxConcurrentRuns: v })),
    fc.constantFrom(99, 300_001, 2.5, '1s').map((v) => ({ pollIntervalMs: v })),
    fc.constantFrom(999, 3_600_001, Number.NaN).map((v) => ({ leaseMs: v })),
    fc.constantFrom(0, 86_400_001).map((v) => ({ defaultTimeoutMs: v })),
    fc.constantFrom(-1, 0.5).map((v) => ({ metricsIntervalMs: v })),
    fc.constantFrom(1_000, -1).map((v) => ({ retentionMs: v })),
    fc.constantFrom('has space', '', 'x'.repeat(201), 5).map((v) => ({ instanceId: v })),
    fc.constantFrom('sometimes', 1).map((v) => ({ misfire: v })),
    fc.constantFrom('cancel', true).map((v) => ({ overlap: v })),
    fc.constantFrom({ maxRetries: 11 }, { jitter: 0.3 }, { unknown: 1 }, 'x').map((v) => ({ retry: v })),
    fc.constantFrom({}, 'clock', { now: 1 }).map((v) => ({ clock: v })),
    fc.constantFrom('random', 4).map((v) => ({ random: v })),
    fc.constantFrom({}, 'mongodb://').map((v) => ({ store: v })),
    fc.constantFrom({}, 'redis://').map((v) => ({ lockStore: v })),
    fc.string({ minLength: 1, maxLength: 12 }).filter((k) => !/^(handlers|store|lockStore|instanceId|maxConcurrentRuns|pollIntervalMs|leaseMs|retry|defaultTimeoutMs|metricsIntervalMs|retentionMs|misfire|misfireGraceMs|overlap|clock|random|__proto__)$/.test(k)).map((k) => ({ [k]: 1 })),
    fc
      .constantFrom<unknown>(
        { schema: {}, run: () => undefined },
        { schema, run: 'not a function' },
        { schema, run: () => undefined, concurrency: 0 },
        { schema, run: () => undefined, timeoutMs: 86_400_001 },
        { schema, run: () => undefined, priority: 1001 },
        { schema, run: () => undefined, retry: { maxRetries: 11 } },
        'handler',
      )
      .map((definition) => ({ handlers: { mail: definition } })),
    fc.constantFrom({ 'bad name!': { schema, run: () => undefined } }, null).map((h) => ({ handlers: h })),
  );

  it('throws a ConfigurationError for any invalid option', () => {
    fc.assert(
      fc.property(badOption, (bad) => {
        const create = (): unknown => createScheduler({ handlers, store: memoryStore(), ...bad } as never);
        expect(create).toThrow(expect.objectContaining({ name: 'ConfigurationError', code: 'CONFIGURATION' }));
      }),
      { numRuns: 200 },
    );
  });

  it('lists every problem in one error', () => {
    const error = (() => {
      try {
        createScheduler({ handlers, maxConcurrentRuns: 0, leaseMs: 5, colour: 'red' } as never);
      } catch (e) {
        return e as Error;
      }
      return null;
    })();
    expect(error?.message).toContain('maxConcurrentRuns');
    expect(error?.message).toContain('leaseMs');
    expect(error?.message).toContain('colour');
    expect((error as unknown as { issues: { path: string }[] }).issues.map((i) => i.path)).toEqual(['colour', 'maxConcurrentRuns', 'leaseMs']);
  });

  it('requires handlers', () => {
    expect(() => createScheduler({} as never)).toThrow(expect.objectContaining({ name: 'ConfigurationError' }));
    expect(() => createScheduler(undefined as never)).toThrow(expect.objectContaining({ name: 'ConfigurationError' }));
  });
});
