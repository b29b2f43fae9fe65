/**
 * Hostile requests on the memory and PostgreSQL stores: query parameters named like
 * Object.prototype members, and JSON bodies with deep nesting, NUL, lone surrogates,
 * prototype-named keys, numbers beyond 2^53, huge arrays and long strings in every field.
 * No answer is a 5xx, and a refused request writes nothing.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memoryStore, type Store } from 'punctual';
import { postgresStore } from '../../src/stores/postgres/index.js';
import { PROTOTYPE_NAMES, countAll, hostileJsonText } from '../hostile-json.js';
import { connectPostgres, dropSchema, randomSchema } from '../postgres/harness.js';
import { harness, notifyTrigger, type Harness } from './helpers.js';

const T = '/api/scheduler/triggers';
const RUNS = 40;
const pool = await connectPostgres(4);
const schemas: string[] = [];

afterAll(async () => {
  if (!pool) return;
  for (const schema of schemas) await dropSchema(pool, schema);
  await pool.end();
});

const stores: [string, () => Store][] = [['memory', () => memoryStore()]];
if (pool) {
  stores.push(['postgresql', () => {
    const schema = randomSchema();
    schemas.push(schema);
    return postgresStore(pool, { schema });
  }]);
}

/** Fields of a create body, and how a hostile value (JSON text) goes into it. */
const FIELDS: Record<string, (text: string) => string> = {
  name: (t) => `"name":${t}`,
  taskType: (t) => `"taskType":${t}`,
  priority: (t) => `"priority":${t}`,
  timeoutMs: (t) => `"timeoutMs":${t}`,
  misfireGraceMs: (t) => `"misfireGraceMs":${t}`,
  pauseAfterFailures: (t) => `"pauseAfterFailures":${t}`,
  misfire: (t) => `"misfire":${t}`,
  overlap: (t) => `"overlap":${t}`,
  'timing.startAt': (t) => `"timing":{"startAt":${t}}`,
  'schedule.timezone': (t) => `"schedule":{"cron":"0 * * * *","timezone":${t}}`,
  metadata: (t) => `"metadata":${t}`,
  'metadata.note': (t) => `"metadata":{"note":${t}}`,
  payload: (t) => `"payload":${t}`,
  'payload.subject': (t) => `"payload":{"to":"ops@example.com","subject":${t}}`,
  // Body keys named like Object.prototype members are unknown fields.
  ...Object.fromEntries(PROTOTYPE_NAMES.map((key) => [key, (t: string) => `"${key}":${t}`])),
  'schedule.constructor': (t) => `"schedule":{"manual":true,"constructor":${t}}`,
  'timing.__proto__': (t) => `"timing":{"__proto__":${t}}`,
};
const UPDATE_FIELDS = Object.keys(FIELDS);

describe.each(stores)('hostile requests on the %s store', (_name, makeStore) => {
  let h: Harness;
  let triggerId: string;
  let names = 0;

  beforeAll(async () => {
    h = await harness({ start: false, store: makeStore() });
    triggerId = (await h.http.post(T).set(h.a).send(notifyTrigger('target')).expect(201)).body.id;
  });
  afterAll(() => h.close());

  const raw = (method: 'post' | 'put', path: string, text: string) => h.http[method](path).set(h.a).set('Content-Type', 'application/json').send(text);

  async function counts(): Promise<number[]> {
    const [triggers, runs, audit, target] = await Promise.all([
      countAll((page) => h.scheduler.triggers.list(page)),
      countAll((page) => h.scheduler.runs.list(page)),
      countAll((page) => h.scheduler.audit.list(page)),
      h.scheduler.triggers.get(triggerId),
    ]);
    return [triggers, runs, audit, target.version];
  }

  /** Sends, checks there is no 5xx, and that a refusal (4xx) wrote nothing. */
  async function check(send: () => Promise<{ status: number; body: { error?: { code: string } } }>, accepted: number): Promise<number> {
    const before = await counts();
    const res = await send();
    expect(res.status, JSON.stringify(res.body).slice(0, 300)).toBeLessThan(500);
    if (res.status !== accepted) {
      expect([400, 413]).toContain(res.status);
      expect(await counts()).toEqual(before);
    }
    return res.status;
  }

  it('query parameters named like Object.prototype members get a 400, never a 5xx', async () => {
    const known = ['limit', 'cursor', 'offset', 'status', 'owner', 'name', 'namePrefix', 'sort', 'order', 'taskType', 'triggerId', 'action', 'source'];
    // Values as sent, already percent-encoded: NUL, an encoded lone surrogate, overlong and broken UTF-8.
    const value = fc.oneof(fc.string({ maxLength: 10 }).map(encodeURIComponent), fc.constantFrom('%00', 'a%00b', '%ED%A0%80', '%C0%80', '%FF', '%', 'x%2'));
    const params = fc.dictionary(fc.constantFrom(...PROTOTYPE_NAMES, ...known), value, { minKeys: 1, maxKeys: 4 });
    const routes = [T, `${T}/${triggerId}/history`, '/api/scheduler/runs', '/api/scheduler/audit'];
    await fc.assert(
      fc.asyncProperty(params, fc.constantFrom(...routes), fc.boolean(), async (query, route, asAdmin) => {
        const qs = Object.entries(query).map(([k, v]) => `${encodeURIComponent(k)}=${v}`).join('&');
        const res = await h.http.get(`${route}?${qs}`).set(asAdmin ? h.admin : h.a);
        expect(res.status, JSON.stringify(res.body).slice(0, 300)).toBeLessThan(500);
        if (Object.keys(query).some((k) => (PROTOTYPE_NAMES as readonly string[]).includes(k))) {
          expect(res.status).toBe(route.endsWith('/audit') && !asAdmin ? 403 : 400);
          expect(res.headers['cache-control']).toBe('no-store');
        }
      }),
      { numRuns: RUNS * 2 },
    );
  });

  it('create with hostile JSON in any field: 201 or 400/413, never a 5xx; a refusal writes nothing', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...Object.keys(FIELDS)), hostileJsonText, async (field, text) => {
        const base = JSON.stringify(notifyTrigger(`h${++names}`)).slice(0, -1);
        await check(() => raw('post', T, `${base},${FIELDS[field]!(text)}}`), 201);
      }),
      { numRuns: RUNS * 2 },
    );
  });

  it('PUT, pause and execute with hostile JSON: never a 5xx; a refusal writes nothing', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...UPDATE_FIELDS), hostileJsonText, async (field, text) => {
        await check(() => raw('put', `${T}/${triggerId}`, `{"priority":3,${FIELDS[field]!(text)}}`), 200);
        if ((await check(() => raw('post', `${T}/${triggerId}/pause`, `{"reason":${text}}`), 200)) === 200) {
          await h.http.post(`${T}/${triggerId}/resume`).set(h.a).expect(200);
        }
        await check(() => raw('post', `${T}/${triggerId}/execute`, `{"payload":${text}}`), 202);
        await check(() => raw('post', `${T}/${triggerId}/execute`, `{"payload":{"to":"ops@example.com","subject":${text}}}`), 202);
      }),
      { numRuns: RUNS },
    );
  });
});
