/**
 * Property tests: random and malformed bodies on every write route never get a 5xx and never
 * write anything (checked through the admin list, the runs and the audit trail).
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { harness, notifyTrigger, type Harness } from './helpers.js';

const T = '/api/scheduler/triggers';
const RUNS = 25;
const CREATE_KEYS = ['name', 'owner', 'taskType', 'payload', 'schedule', 'priority', 'timeoutMs', 'retry', 'misfire', 'misfireGraceMs', 'overlap', 'paused', 'metadata', 'timing', 'pauseAfterFailures'];

let h: Harness;
let triggerId: string;
let runId: string;

beforeAll(async () => {
  h = await harness({ start: false });
});
afterAll(() => h.close());

type Method = 'post' | 'put' | 'delete';
/** Sends `body` as JSON text (raw strings as they are, so malformed JSON reaches the parser). */
const send = (method: Method, path: string, body: { json: unknown } | { raw: string }) =>
  h.http[method](path).set(h.a).set('Content-Type', 'application/json').send('raw' in body ? body.raw : JSON.stringify(body.json));

async function snapshot(): Promise<string> {
  const [triggers, audit] = await Promise.all([h.http.get(`${T}?limit=500`).set(h.admin), h.http.get('/api/scheduler/audit?limit=500').set(h.admin)]);
  const runs = await h.scheduler.runs.list({ limit: 500 });
  return JSON.stringify([triggers.body, audit.body, runs]);
}

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const parsesToObject = (s: string) => {
  try {
    return isPlainObject(JSON.parse(s));
  } catch {
    return false;
  }
};

/** JSON text that is not valid JSON, or not an object (an empty body is no body, which is fine). */
const malformed = fc.string({ minLength: 1 }).filter((s) => !parsesToObject(s)).map((raw) => ({ raw }));
/** Any JSON value that is not a plain object. */
const nonObject = fc.jsonValue().filter((v) => !isPlainObject(v)).map((json) => ({ json }));
/** A JSON object with at least one key the route does not know. */
const unknownKeys = (known: string[]) =>
  fc.dictionary(fc.string({ minLength: 1, maxLength: 12 }), fc.jsonValue(), { minKeys: 1, maxKeys: 4 }).filter((o) => Object.keys(o).some((k) => !known.includes(k))).map((json) => ({ json }));

/** One field of a valid create body set to a value that is invalid for it. */
const badField = fc.oneof(
  fc.record({ key: fc.constant('name'), value: fc.oneof(fc.string().filter((s) => !/^[A-Za-z0-9_-]{1,100}$/.test(s)), fc.integer(), fc.constant(null)) }),
  fc.record({ key: fc.constant('taskType'), value: fc.oneof(fc.string().filter((s) => !['notify', 'report', 'http-request'].includes(s)), fc.boolean()) }),
  fc.record({ key: fc.constant('payload'), value: fc.oneof(fc.constant(null), fc.integer(), fc.string(), fc.record({ to: fc.string().filter((s) => !s.includes('@')), subject: fc.string() })) }),
  fc.record({ key: fc.constant('schedule'), value: fc.oneof(fc.jsonValue().filter((v) => !isPlainObject(v)), fc.record({ cron: fc.constantFrom('61 * * * *', '* * *', 'every day', '') }), fc.record({ every: fc.constantFrom(0, -5, 'soon', '5 parsecs') }), fc.record({ at: fc.string().filter((s) => Number.isNaN(Date.parse(s))) }), fc.record({ manual: fc.constantFrom(false, 'yes', 1) })) }),
  fc.record({ key: fc.constant('priority'), value: fc.oneof(fc.integer({ min: 1_001 }), fc.double({ min: 0.1, max: 0.9 }), fc.string()) }),
  fc.record({ key: fc.constant('timeoutMs'), value: fc.oneof(fc.integer({ max: 0 }), fc.integer({ min: 86_400_001 })) }),
  fc.record({ key: fc.constant('retry'), value: fc.oneof(fc.record({ maxRetries: fc.integer({ min: 11 }) }), fc.record({ jitter: fc.double({ min: 0.3, max: 5, noNaN: true }) }), fc.string()) }),
  fc.record({ key: fc.constantFrom('misfire', 'overlap'), value: fc.oneof(fc.string().filter((s) => !['skip', 'once', 'all', 'queue', 'allow', 'cancel-previous'].includes(s)), fc.integer()) }),
  fc.record({ key: fc.constant('metadata'), value: fc.oneof(fc.array(fc.jsonValue()), fc.string(), fc.integer()) }),
  fc.record({ key: fc.constant('timing'), value: fc.oneof(fc.string(), fc.record({ maxRuns: fc.integer({ max: 0 }) }), fc.record({ startAt: fc.constant('2030-01-02T00:00:00Z'), endAt: fc.constant('2030-01-01T00:00:00Z') }), fc.record({ calendars: fc.array(fc.string(), { minLength: 1 }) })) }),
  fc.record({ key: fc.constant('pauseAfterFailures'), value: fc.oneof(fc.integer({ max: 0 }), fc.integer({ min: 1_001 }), fc.string()) }),
);

describe('POST /api/scheduler/triggers with bad bodies', () => {
  it('answers 400 to random and malformed bodies, and the store stays empty', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(malformed, nonObject, unknownKeys(CREATE_KEYS), fc.jsonValue().map((json) => ({ json }))), async (body) => {
        const res = await send('post', T, body);
        expect(res.status).toBe(400);
        expect(res.body.error.code).toBe('VALIDATION');
      }),
      { numRuns: RUNS * 3 },
    );
    expect((await h.http.get(T).set(h.admin)).body.items).toEqual([]);
    expect((await h.http.get('/api/scheduler/audit').set(h.admin)).body.items).toEqual([]);
  });

  it('answers 400 naming the field when one field of a valid body is bad, and writes nothing', async () => {
    await fc.assert(
      fc.asyncProperty(badField, async ({ key, value }) => {
        const res = await send('post', T, { json: { ...notifyTrigger('prop'), [key]: value } });
        expect(res.status).toBe(400);
        expect(res.body.error.issues.some((i: { path: string }) => i.path === key || i.path.startsWith(`${key}.`))).toBe(true);
      }),
      { numRuns: RUNS * 3 },
    );
    expect((await h.http.get(T).set(h.admin)).body.items).toEqual([]);
    expect((await h.http.get('/api/scheduler/audit').set(h.admin)).body.items).toEqual([]);
  });
});

describe('writes to an existing trigger with bad bodies', () => {
  beforeAll(async () => {
    triggerId = (await h.http.post(T).set(h.a).send(notifyTrigger('target')).expect(201)).body.id;
    runId = (await h.http.post(`${T}/${triggerId}/execute`).set(h.a).expect(202)).body.id;
  });

  const ROUTES: [string, Method, () => string, string[]][] = [
    ['PUT trigger', 'put', () => `${T}/${triggerId}`, CREATE_KEYS.filter((k) => k !== 'owner' && k !== 'paused')],
    ['DELETE trigger', 'delete', () => `${T}/${triggerId}`, []],
    ['pause', 'post', () => `${T}/${triggerId}/pause`, ['reason']],
    ['resume', 'post', () => `${T}/${triggerId}/resume`, []],
    ['execute', 'post', () => `${T}/${triggerId}/execute`, ['payload']],
    ['cancel run', 'post', () => `/api/scheduler/runs/${encodeURIComponent(runId)}/cancel`, []],
  ];

  it.each(ROUTES)('%s: 400 for random, malformed and unknown-field bodies; nothing changes', async (_name, method, path, known) => {
    const before = await snapshot();
    await fc.assert(
      fc.asyncProperty(fc.oneof(malformed, nonObject, unknownKeys(known)), async (body) => {
        const res = await send(method, path(), body);
        expect(res.status).toBe(400);
      }),
      { numRuns: RUNS * 2 },
    );
    expect(await snapshot()).toBe(before);
  });

  it('PUT with one bad field: 400 naming it; nothing changes', async () => {
    const before = await snapshot();
    await fc.assert(
      fc.asyncProperty(badField, async ({ key, value }) => {
        const res = await send('put', `${T}/${triggerId}`, { json: { priority: 3, [key]: value } });
        expect(res.status).toBe(400);
        expect(res.body.error.issues.some((i: { path: string }) => i.path === key || i.path.startsWith(`${key}.`))).toBe(true);
      }),
      { numRuns: RUNS * 2 },
    );
    expect(await snapshot()).toBe(before);
  });

  it('pause and execute with bad values for their fields: 400; nothing changes', async () => {
    const before = await snapshot();
    const badReason = fc.oneof(fc.integer(), fc.boolean(), fc.array(fc.string()), fc.string({ minLength: 501, maxLength: 600 }));
    const badPayload = badField.filter((f) => f.key === 'payload').map((f) => f.value);
    await fc.assert(
      fc.asyncProperty(badReason, badPayload, async (reason, payload) => {
        expect((await send('post', `${T}/${triggerId}/pause`, { json: { reason } })).status).toBe(400);
        expect((await send('post', `${T}/${triggerId}/execute`, { json: { payload } })).status).toBe(400);
      }),
      { numRuns: RUNS },
    );
    expect(await snapshot()).toBe(before);
  });
});
