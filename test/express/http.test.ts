/** The HTTP envelope: body limits, content types, request ids, security headers, CORS, rate limits, faults. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StoreError } from 'punctual';
import type { LogLevel } from '../../examples/express/logger.js';
import { bearer, harness, notifyTrigger, token, type Harness } from './helpers.js';

const T = '/api/scheduler/triggers';

describe('request envelope', () => {
  let h: Harness;
  const logs: { level: LogLevel; message: string; fields: Record<string, unknown> }[] = [];
  beforeAll(async () => {
    h = await harness({ start: false, logger: (level, message, fields = {}) => logs.push({ level, message, fields }), app: { cors: { origins: ['https://app.example.com'] } } });
  });
  afterAll(() => h.close());

  it('answers 413 for a body over 64 kb, and writes nothing', async () => {
    const big = notifyTrigger('big', { metadata: { blob: 'x'.repeat(70_000) } });
    const res = await h.http.post(T).set(h.a).send(big).expect(413);
    expect(res.body.error.code).toBe('PAYLOAD_TOO_LARGE');
    expect((await h.http.get(T).set(h.admin)).body.items).toEqual([]);
  });

  it('answers 400 for malformed JSON and 415 for a body that is not JSON', async () => {
    const bad = await h.http.post(T).set(h.a).set('Content-Type', 'application/json').send('{"name": ').expect(400);
    expect(bad.body.error).toMatchObject({ code: 'VALIDATION', issues: [{ path: 'body' }] });
    expect(bad.body.error.message).not.toMatch(/position|Unexpected/);
    const text = await h.http.post(T).set(h.a).set('Content-Type', 'text/plain').send('name=x').expect(415);
    expect(text.body.error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
    await h.http.post(T).set(h.a).set('Content-Type', 'application/json').send('"just a string"').expect(400);
    await h.http.post(T).set(h.a).set('Content-Type', 'application/json').send('[1,2]').expect(400);
  });

  it('echoes a sane X-Request-Id, replaces an unsafe one, and puts it in error bodies and logs', async () => {
    const echoed = await h.http.get(`${T}/missing`).set(h.a).set('X-Request-Id', 'req-123').expect(404);
    expect(echoed.headers['x-request-id']).toBe('req-123');
    expect(echoed.body.error.requestId).toBe('req-123');
    const replaced = await h.http.get(T).set(h.a).set('X-Request-Id', 'bad id\twith spaces').expect(200);
    expect(replaced.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(logs.some((l) => l.message === 'request' && l.fields.requestId === 'req-123' && l.fields.route === '/api/scheduler/triggers/:id' && l.fields.sub === 'user-a')).toBe(true);
  });

  it('answers unknown routes with the JSON error shape', async () => {
    const res = await h.http.get('/nowhere').expect(404);
    expect(res.body.error).toMatchObject({ code: 'NOT_FOUND', requestId: expect.any(String) });
  });

  it('sets security headers (helmet) and no X-Powered-By', async () => {
    const res = await h.http.get('/api/scheduler/health');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['strict-transport-security']).toBeDefined();
    expect(res.headers['content-security-policy']).toBeDefined();
    expect(res.headers['x-powered-by']).toBeUndefined();
  });

  it('allows only the configured CORS origins, preflight included', async () => {
    const preflight = await h.http
      .options(T)
      .set('Origin', 'https://app.example.com')
      .set('Access-Control-Request-Method', 'POST')
      .set('Access-Control-Request-Headers', 'authorization,content-type');
    expect(preflight.status).toBe(204);
    expect(preflight.headers['access-control-allow-origin']).toBe('https://app.example.com');
    expect(preflight.headers['access-control-allow-headers']).toMatch(/Authorization/);
    const other = await h.http.get(T).set(h.a).set('Origin', 'https://evil.example.com').expect(200);
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('answers a fault with a generic 500, logged with its stack and request id; a store outage with 503', async () => {
    const triggers = h.scheduler.triggers as unknown as Record<string, unknown>;
    triggers.list = async () => {
      throw new Error('connection to db:5432 failed, password=hunter2');
    };
    triggers.get = async () => {
      throw new StoreError('store is down');
    };
    try {
      const res = await h.http.get(T).set(h.admin).set('X-Request-Id', 'fault-1').expect(500);
      expect(res.body).toEqual({ error: { code: 'INTERNAL', message: 'Internal server error', requestId: 'fault-1' } });
      expect(JSON.stringify(res.body)).not.toMatch(/hunter2|stack|at /);
      const logged = logs.find((l) => l.level === 'error' && l.fields.requestId === 'fault-1');
      expect((logged?.fields.error as Error).message).toMatch(/hunter2/);
      expect((await h.http.get(`${T}/abc`).set(h.admin).expect(503)).body.error.code).toBe('UNAVAILABLE');
    } finally {
      delete triggers.list;
      delete triggers.get;
    }
  });
});

describe('rate limiting', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await harness({ start: false, app: { rateLimit: { limit: 3, windowMs: 60_000 } } });
  });
  afterAll(() => h.close());

  it('limits each token subject separately, with standard headers and the error shape', async () => {
    for (let i = 0; i < 3; i++) await h.http.get(T).set(h.a).expect(200);
    const limited = await h.http.get(T).set(h.a).expect(429);
    expect(limited.body.error.code).toBe('RATE_LIMITED');
    expect(limited.headers['retry-after']).toBeDefined();
    expect(limited.headers.ratelimit).toBeDefined();
    await h.http.get(T).set(h.b).expect(200);
    // The same subject with a fresh token is still the same caller.
    await h.http.get(T).set(bearer(await token('user-a', { claims: { jti: 'another' } }))).expect(429);
  });

  it('limits unauthenticated health checks by IP', async () => {
    for (let i = 0; i < 3; i++) await h.http.get('/api/scheduler/health');
    await h.http.get('/api/scheduler/health').expect(429);
  });
});

describe('metrics token', () => {
  it('protects /metrics when a token is configured', async () => {
    const h = await harness({ start: false, app: { metrics: { token: 'scrape-me' } } });
    try {
      await h.http.get('/metrics').expect(401);
      await h.http.get('/metrics').set(bearer('wrong')).expect(401);
      const res = await h.http.get('/metrics').set(bearer('scrape-me')).expect(200);
      expect(res.headers['content-type']).toMatch(/^text\/plain/);
    } finally {
      await h.close();
    }
  });
});
