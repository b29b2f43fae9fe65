import { beforeEach, describe, expect, it } from 'vitest';
import { MAX_JSON_DEPTH } from '../../json-limits.js';
import { createScheduler } from '../../scheduler.js';
import type { Store } from '../../stores/types.js';
import type { RunRecord } from '../../types.js';
import { makeAudit, makeRun, makeTrigger } from '../fixtures.js';
import { tokenOf, type ContractContext } from './context.js';

/**
 * The JSON limits (json-limits.ts) are enforced by the engine before any store is called:
 * values beyond them never reach a store. Every value within them must come back exactly as
 * it went in, on every store. These values sit at the edges the limits allow.
 */
export function edgeJsonValues(): Record<string, unknown> {
  let deepest: unknown = 'bottom';
  // The field itself is one level, so the value inside a record field may nest one level less.
  for (let i = 1; i < MAX_JSON_DEPTH; i++) deepest = i % 2 === 0 ? [deepest] : { level: deepest };
  const prototypeNamed = JSON.parse('{"__proto__":{"polluted":true},"constructor":{"prototype":1},"toString":"s","hasOwnProperty":null,"valueOf":[1],"isPrototypeOf":false}') as unknown;
  return {
    deepest,
    prototypeNamed,
    numbers: [2 ** 53 + 2, 2 ** 64, -(2 ** 63), 1e300, -1.5e-300, Number.MAX_VALUE, Number.MIN_VALUE, 0.1 + 0.2, 0, -1],
    text: ['', 'é'.repeat(100_000), '𝄞 🎉 surrogate pairs', 'tab\tnew\nline \u0001 \u001f \u007f \u2028', '"quotes" \\ back'],
    big: new Array<number>(20_000).fill(7),
    'key with spaces, é and 𝄞': { '': 'empty key', '$dollar': 1, 'dotted.key': 2 },
  };
}

/** Stores hold every JSON value within the engine's limits exactly (payload, metadata, event data, result, audit details). */
export function jsonContract(ctx: ContractContext): void {
  describe('JSON at the edges of the input limits', () => {
    storedJsonCases(ctx);
    refusedJsonCases(ctx);
  });
}

/** Edge values come back exactly from triggers, runs and the audit trail. */
function storedJsonCases(ctx: ContractContext): void {
  let store: Store;
  beforeEach(() => {
    store = ctx.store;
  });

  it('keeps trigger payloads and metadata exactly', async () => {
    const values = edgeJsonValues();
    const trigger = makeTrigger({ payload: values, metadata: values });
    await store.insertTrigger(trigger);
    const got = await store.getTrigger(trigger.id);
    expect(got?.payload).toEqual(values);
    expect(got?.metadata).toEqual(values);
    expect(Object.getPrototypeOf((got?.payload as { prototypeNamed: object }).prototypeNamed)).not.toHaveProperty('polluted');
  });

  it('keeps run payloads, event data and results exactly', async () => {
    const values = edgeJsonValues();
    const run = makeRun({ payload: values, event: { name: 'edge.event', data: values, publishedAt: new Date(0) } });
    await ctx.insertRuns(run);
    const [claimed] = await ctx.claim(run.availableAt, 1);
    expect(claimed?.id).toBe(run.id);
    const held = claimed as RunRecord;
    expect(await store.finishRuns([{ ...ctx.completion(held, tokenOf(held)), result: values }])).toEqual([true]);
    const got = await store.getRun(run.id);
    expect(got?.payload).toEqual(values);
    expect(got?.event?.data).toEqual(values);
    expect(got?.result).toEqual(values);
  });

  it('keeps audit details exactly', async () => {
    const details = { reason: '𝄞 é "quoted"', fields: ['__proto__', 'constructor'], n: 2 ** 60 };
    const entry = makeAudit({ details });
    await store.appendAudit(entry);
    const entries = await store.listAudit({ limit: 10 });
    expect(entries.map((e) => e.details)).toEqual([details]);
  });
}

/** Values beyond the limits never reach the store. */
function refusedJsonCases(ctx: ContractContext): void {
  let store: Store;
  beforeEach(() => {
    store = ctx.store;
  });

  it('is never handed NUL, a lone surrogate or nesting beyond the limit: the engine refuses them first and nothing is written', async () => {
    const anything = { '~standard': { version: 1 as const, vendor: 'contract', validate: (value: unknown) => ({ value }) } };
    const scheduler = createScheduler({ store, handlers: { anything: { schema: anything, run: () => null } } });
    const trigger = await scheduler.triggers.create({ owner: 'owner-a', name: 'edge', taskType: 'anything', payload: {}, schedule: { event: 'edge.event' } });
    let tooDeep: unknown = 1;
    for (let i = 0; i <= MAX_JSON_DEPTH; i++) tooDeep = [tooDeep];
    const snapshot = () => Promise.all([store.listTriggers({ sort: 'createdAt', order: 'asc', limit: 500 }), store.listRuns({ limit: 500 }), store.listAudit({ limit: 500 })]);
    const before = await snapshot();
    for (const bad of [{ text: 'nul \u0000' }, { text: 'lone \ud800' }, JSON.parse('{"key \\u0000":1}') as unknown, tooDeep]) {
      const attempts = [
        () => scheduler.triggers.create({ owner: 'owner-a', name: 'edge-2', taskType: 'anything', payload: bad, schedule: { manual: true } }),
        () => scheduler.triggers.update(trigger.id, { metadata: { bad } }),
        () => scheduler.triggers.runNow(trigger.id, { payload: bad }),
        () => scheduler.publish('edge.event', bad),
      ];
      for (const attempt of attempts) await expect(attempt()).rejects.toMatchObject({ name: 'ValidationError' });
    }
    await expect(scheduler.triggers.pause(trigger.id, { reason: 'why \u0000' })).rejects.toMatchObject({ name: 'ValidationError', issues: [{ path: 'reason' }] });
    const after = await snapshot();
    expect(after).toEqual(before);
    expect((await store.getTrigger(trigger.id))?.version).toBe(trigger.version);
  });
}
