/**
 * docs/openapi.yaml agrees with the app: it is a valid OpenAPI 3.1 document, its (method, path)
 * pairs are exactly the app's routes, and real responses match its schemas.
 */
import { readFileSync } from 'node:fs';
import { Validator } from '@seriousme/openapi-schema-validator';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import type { Express } from 'express';
import type { Response } from 'supertest';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunRecord } from 'punctual';
import { createApp } from '../../examples/express/app.js';
import { OPENAPI_PATH, render } from '../../scripts/openapi.js';
import { AUDIENCE, ISSUER, SECRET, harness, notifyTrigger, testScheduler, waitFor, type Harness } from './helpers.js';

type Operation = { responses: Record<string, { $ref?: string; content?: Record<string, { schema: unknown }> }> };
interface Doc {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, unknown>; responses: Record<string, { content?: Record<string, { schema: unknown }> }> };
}
const doc = parse(readFileSync(new URL('../../docs/openapi.yaml', import.meta.url), 'utf8')) as Doc;
const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'];

/** Every (METHOD path) the app serves, read from Express's router stack, in OpenAPI path syntax. */
function appRoutes(app: Express): string[] {
  const found: string[] = [];
  const walk = (stack: { route?: { path: string; methods: Record<string, boolean> }; handle?: { stack?: unknown[] } }[]) => {
    for (const layer of stack) {
      if (layer.route) {
        for (const method of Object.keys(layer.route.methods)) found.push(`${method.toUpperCase()} ${layer.route.path.replace(/:(\w+)/g, '{$1}')}`);
      } else if (layer.handle?.stack) {
        walk(layer.handle.stack as typeof stack);
      }
    }
  };
  walk((app as unknown as { router: { stack: Parameters<typeof walk>[0] } }).router.stack);
  return found.sort();
}

const docRoutes = () =>
  Object.entries(doc.paths)
    .flatMap(([path, item]) => Object.keys(item).filter((m) => METHODS.includes(m)).map((m) => `${m.toUpperCase()} ${path}`))
    .sort();

describe('the OpenAPI document', () => {
  it('is a valid OpenAPI 3.1 document', async () => {
    const result = await new Validator().validate(doc as unknown as Record<string, unknown>);
    expect(result.errors).toBeUndefined();
    expect(result.valid).toBe(true);
  });

  it('has the request schemas of the field tables (run npm run openapi when this fails)', () => {
    const committed = readFileSync(OPENAPI_PATH, 'utf8');
    expect(render(committed) === committed, 'docs/openapi.yaml is stale: run npm run openapi').toBe(true);
  });

  it('lists exactly the routes the app serves', async () => {
    const scheduler = testScheduler();
    const app = createApp({ scheduler, auth: { secret: SECRET, issuer: ISSUER, audience: AUDIENCE } });
    // The dashboard's sign-in form is a page, documented in docs/dashboard.md, not an API route.
    expect(docRoutes()).toEqual(appRoutes(app).filter((route) => !route.includes(' /admin/scheduler/')));
    expect(appRoutes(app).filter((route) => route.includes(' /admin/scheduler/'))).toEqual(['GET /admin/scheduler/login', 'POST /admin/scheduler/login']);
    expect(docRoutes()).toHaveLength(21);
    await scheduler.stop();
  });
});

describe('real responses match the document', () => {
  const ajv = new Ajv2020({ allErrors: true, strict: true, strictTypes: false });
  addFormatsModule.default(ajv);
  // The components as one JSON Schema 2020-12 document: `#/components/schemas/X` -> `openapi#/$defs/X`.
  const rewrite = (schema: unknown) => JSON.parse(JSON.stringify(schema).replaceAll('"#/components/schemas/', '"openapi#/$defs/'));
  ajv.addSchema({ $id: 'openapi', $defs: rewrite(doc.components.schemas) });
  const validators = new Map<string, ValidateFunction>();
  const covered = new Set<string>();
  let h: Harness;

  beforeAll(async () => {
    h = await harness({ app: { bodyLimit: '8kb' } });
  });
  afterAll(() => h.close());

  /** Checks that the status is documented for the operation and the body matches its schema. */
  function check(method: string, template: string, res: Response): Response {
    const operation = doc.paths[template]?.[method];
    expect(operation, `${method} ${template} is documented`).toBeDefined();
    let response = operation!.responses[String(res.status)];
    expect(response, `${method} ${template} documents status ${res.status}`).toBeDefined();
    if (response!.$ref) response = doc.components.responses[response!.$ref.split('/').pop()!];
    const content = response!.content;
    if (!content) {
      expect(res.text ?? '').toBe('');
    } else if (content['application/json']) {
      const key = `${method} ${template} ${res.status}`;
      let validate = validators.get(key);
      if (!validate) validators.set(key, (validate = ajv.compile(rewrite(content['application/json'].schema))));
      expect(validate(res.body), `${key}: ${ajv.errorsText(validate.errors)}`).toBe(true);
    } else {
      expect(typeof res.text).toBe('string');
    }
    if (res.status < 300) covered.add(`${method.toUpperCase()} ${template}`);
    return res;
  }

  it('for every route, on success and on errors', async () => {
    const { http, a, b, admin } = h;
    const T = '/api/scheduler/triggers';
    const created = check('post', T, await http.post(T).set(a).send(notifyTrigger('doc', { schedule: { cron: '0 9 * * *' }, retry: { maxRetries: 1 }, metadata: { k: 'v' }, timing: { startAt: '2020-01-01T00:00:00Z', maxRuns: 5, jitterMs: 10 }, pauseAfterFailures: 3 })));
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    check('post', T, await http.post(T).set(a).send(notifyTrigger('once', { schedule: { at: '2031-01-01T00:00:00Z' } })));
    check('post', T, await http.post(T).set(a).send(notifyTrigger('evt', { schedule: { event: 'user.signup', filter: { plan: ['pro'] }, debounceMs: 1000 } })));
    check('post', T, await http.post(T).set(a).send(notifyTrigger('int', { schedule: { every: '5m' }, paused: true })));
    check('post', T, await http.post(T).set(a).send(notifyTrigger('doc')));
    check('post', T, await http.post(T).set(a).send({ name: 1 }));
    check('post', T, await http.post(T).set(a).send(notifyTrigger('big', { metadata: { x: 'y'.repeat(9_000) } })));
    check('post', T, await http.post(T).set(a).set('Content-Type', 'text/plain').send('hello'));
    check('post', T, await http.post(T).send(notifyTrigger('anon')));

    check('get', T, await http.get(T).set(a));
    const firstPage = check('get', T, await http.get(`${T}?owner=user-a&limit=2&status=active&taskType=notify&sort=name&order=desc`).set(admin));
    expect(firstPage.body.nextCursor).toEqual(expect.any(String));
    check('get', T, await http.get(`${T}?owner=user-a&limit=2&status=active&taskType=notify&sort=name&order=desc&cursor=${encodeURIComponent(firstPage.body.nextCursor)}`).set(admin));
    check('get', T, await http.get(`${T}?namePrefix=do`).set(a));
    check('get', T, await http.get(`${T}?cursor=${encodeURIComponent(firstPage.body.nextCursor)}`).set(a));
    check('get', T, await http.get(`${T}?limit=x`).set(a));
    check('get', `${T}/{id}`, await http.get(`${T}/${id}`).set(a));
    check('get', `${T}/{id}`, await http.get(`${T}/${id}`).set(b));
    check('put', `${T}/{id}`, await http.put(`${T}/${id}`).set(a).send({ priority: 2, overlap: 'skip' }));
    check('put', `${T}/{id}`, await http.put(`${T}/${id}`).set(a).send({}));
    check('post', `${T}/{id}/pause`, await http.post(`${T}/${id}/pause`).set(a).send({ reason: 'docs' }));
    check('post', `${T}/{id}/resume`, await http.post(`${T}/${id}/resume`).set(a));
    check('post', `${T}/{id}/resume`, await http.post(`${T}/${id}/resume`).set(b));

    const done = waitFor<{ run: RunRecord }>((l) => h.scheduler.on('run:completed', l), (e) => e.run.triggerId === id);
    const run = check('post', `${T}/{id}/execute`, await http.post(`${T}/${id}/execute`).set(a).send({}));
    expect(run.status).toBe(202);
    await done;
    check('post', `${T}/{id}/execute`, await http.post(`${T}/${id}/execute`).set(a).send({ payload: { to: 'x' } }));
    const runPath = `/api/scheduler/runs/${encodeURIComponent(run.body.id)}`;
    const finished = check('get', '/api/scheduler/runs/{runId}', await http.get(runPath).set(a));
    expect(finished.body).toMatchObject({ status: 'completed', attempts: [expect.objectContaining({ outcome: 'completed' })] });
    check('get', '/api/scheduler/runs/{runId}', await http.get(runPath).set(b));
    check('get', `${T}/{id}/history`, await http.get(`${T}/${id}/history?status=completed`).set(a));
    check('get', '/api/scheduler/runs', await http.get(`/api/scheduler/runs?triggerId=${encodeURIComponent(id)}&status=completed&source=manual&limit=1`).set(a));
    check('get', '/api/scheduler/runs', await http.get('/api/scheduler/runs?owner=user-a&taskType=notify').set(admin));
    check('get', '/api/scheduler/runs', await http.get('/api/scheduler/runs?owner=user-b').set(a));
    check('get', `${T}/{id}/history`, await http.get(`${T}/${id}/history?status=nope`).set(a));

    const byName = `${T}/by-name/{name}`;
    expect(check('put', byName, await http.put(`${T}/by-name/declared`).set(a).send({ taskType: 'notify', payload: { to: 'ops@example.com', subject: 'hi' }, schedule: { cron: '0 9 * * *' } })).status).toBe(201);
    expect(check('put', byName, await http.put(`${T}/by-name/declared`).set(a).send({ taskType: 'notify', payload: { to: 'ops@example.com', subject: 'hi' }, schedule: { cron: '0 9 * * *' } })).body.action).toBe('unchanged');
    check('put', byName, await http.put(`${T}/by-name/declared`).set(a).send({ taskType: 'notify', payload: {}, schedule: { cron: '0 9 * * *' } }));
    check('post', `${T}/{id}/execute-many`, await http.post(`${T}/${id}/execute-many`).set(a).send({ items: [{ delayMs: 60_000 }, { runAt: '2031-01-01T00:00:00Z', priority: 3 }] }));
    check('post', `${T}/{id}/execute-many`, await http.post(`${T}/${id}/execute-many`).set(a).send({ items: [{ wait: 1 }] }));
    check('post', `${T}/{id}/execute-many`, await http.post(`${T}/${id}/execute-many`).set(b).send({ items: [{}] }));
    check('post', `${T}/{id}/backfill`, await http.post(`${T}/${id}/backfill`).set(a).send({ from: '2020-01-01T00:00:00Z', to: '2020-01-03T00:00:00Z' }));
    check('post', `${T}/{id}/backfill`, await http.post(`${T}/${id}/backfill`).set(a).send({ from: 'yesterday', to: '2020-01-03T00:00:00Z' }));
    const job = check('post', '/api/scheduler/jobs', await http.post('/api/scheduler/jobs').set(a).send({ taskType: 'notify', payload: { to: 'ops@example.com', subject: 'later' }, delayMs: 3_600_000, idempotencyKey: 'doc-1' }));
    expect(job.status).toBe(202);
    check('post', '/api/scheduler/jobs', await http.post('/api/scheduler/jobs').set(admin).send({ owner: 'user-b', taskType: 'notify', payload: { to: 'ops@example.com', subject: 'x' }, runAt: '2031-01-01T00:00:00Z' }));
    check('post', '/api/scheduler/jobs', await http.post('/api/scheduler/jobs').set(a).send({ taskType: 'notify', payload: { to: 'ops@example.com', subject: 'x' }, delay: 5 }));
    check('post', '/api/scheduler/jobs/batch', await http.post('/api/scheduler/jobs/batch').set(a).send({ jobs: [{ taskType: 'notify', payload: { to: 'ops@example.com', subject: 'x' }, delayMs: 3_600_000 }] }));
    check('post', '/api/scheduler/jobs/batch', await http.post('/api/scheduler/jobs/batch').set(a).send({ jobs: [] }));
    check('post', '/api/scheduler/events', await http.post('/api/scheduler/events').set(a).send({ name: 'user.signup', data: { plan: 'pro' }, id: 'evt-1' }));
    check('post', '/api/scheduler/events', await http.post('/api/scheduler/events').set(a).send({ name: '' }));
    check('get', '/api/scheduler/audit', await http.get('/api/scheduler/audit?action=trigger.pause').set(admin));
    check('get', '/api/scheduler/audit', await http.get('/api/scheduler/audit').set(a));
    check('get', '/api/scheduler/health', await http.get('/api/scheduler/health'));
    check('get', '/metrics', await http.get('/metrics'));
    check('delete', `${T}/{id}`, await http.delete(`${T}/${id}`).set(a));
    check('delete', `${T}/{id}`, await http.delete(`${T}/${id}`).set(a));

    // A scheduler that is not started: its runs stay pending (to cancel one) and its health is 503.
    const idle = await harness({ start: false });
    try {
      const other = (await idle.http.post(T).set(a).send(notifyTrigger('to-cancel'))).body.id;
      const pending = (await idle.http.post(`${T}/${other}/execute`).set(a)).body.id;
      const cancel = `/api/scheduler/runs/${encodeURIComponent(pending)}/cancel`;
      expect(check('post', '/api/scheduler/runs/{runId}/cancel', await idle.http.post(cancel).set(a)).body.status).toBe('cancelled');
      check('post', '/api/scheduler/runs/{runId}/cancel', await idle.http.post(cancel).set(a));
      expect(check('get', '/api/scheduler/health', await idle.http.get('/api/scheduler/health')).status).toBe(503);
    } finally {
      await idle.close();
    }
    expect([...covered].sort()).toEqual(docRoutes());
  });
});
