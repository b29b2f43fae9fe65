/**
 * Owner isolation (R15) on the dashboard's endpoints, as mounted in the Express example behind
 * its JWT check: another owner's trigger or run answers 404 exactly as a missing one does, lists,
 * the timeline and the live stream show only the caller's, and an admin sees everything.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { harness, notifyTrigger, token, type Harness } from '../express/helpers.js';

const API = '/admin/scheduler/api';
let h: Harness;
let triggerId: string;
let runId: string;

beforeEach(async () => {
  h = await harness({ start: false }); // not started: runs stay pending, so cancel is deterministic
  triggerId = (await h.http.post('/api/scheduler/triggers').set(h.a).send(notifyTrigger('a-job', { schedule: { every: '1h' } })).expect(201)).body.id;
  runId = (await h.http.post(`/api/scheduler/triggers/${triggerId}/execute`).set(h.a).expect(202)).body.id;
  await h.http.post('/api/scheduler/triggers').set(h.b).send(notifyTrigger('b-job', { schedule: { every: '2h' } })).expect(201);
});
afterEach(() => h.close());

async function csrf(headers: Record<string, string>): Promise<string> {
  const page = await h.http.get('/admin/scheduler/').set(headers).expect(200);
  return JSON.parse(/data-settings="([^"]*)"/.exec(page.text)![1]!.replace(/&quot;/g, '"')).csrf;
}

type Call = [method: 'get' | 'post', path: (trigger: string, run: string) => string, body?: object];
const CALLS: Record<string, Call> = {
  'trigger detail': ['get', (t) => `/triggers/${t}`],
  'trigger runs': ['get', (t) => `/triggers/${t}/runs`],
  'trigger audit': ['get', (t) => `/triggers/${t}/audit`],
  'run detail': ['get', (_t, r) => `/runs/${encodeURIComponent(r)}`],
  pause: ['post', (t) => `/triggers/${t}/pause`, { reason: 'x' }],
  resume: ['post', (t) => `/triggers/${t}/resume`, {}],
  'run now': ['post', (t) => `/triggers/${t}/run`, {}],
  backfill: ['post', (t) => `/triggers/${t}/backfill`, { from: '2025-12-01T00:00:00Z', to: '2025-12-01T03:00:00Z' }],
  delete: ['post', (t) => `/triggers/${t}/delete`, { confirm: 'a-job' }],
  'cancel run': ['post', (_t, r) => `/runs/${encodeURIComponent(r)}/cancel`, {}],
  'retry run': ['post', (_t, r) => `/runs/${encodeURIComponent(r)}/retry`, {}],
};

async function send(call: Call, headers: Record<string, string>, trigger: string, run: string) {
  const [method, path, body] = call;
  if (method === 'get') return h.http.get(`${API}${path(trigger, run)}`).set(headers);
  return h.http.post(`${API}${path(trigger, run)}`).set({ ...headers, 'X-CSRF-Token': await csrf(headers) }).send(body ?? {});
}

describe('dashboard owner isolation', () => {
  it.each(Object.keys(CALLS))('%s: another owner gets the same 404 as for a missing id, and nothing changes', async (name) => {
    const call = CALLS[name]!;
    const auditBefore = (await h.scheduler.audit.list({ limit: 500 })).items.length;
    const theirs = await send(call, h.b, triggerId, runId);
    const missing = await send(call, h.b, 'missing-id', 'missing-id@2026-01-01T00:00:00.000Z');
    expect([theirs.status, missing.status]).toEqual([404, 404]);
    const strip = (message: string) => message.replace(runId, 'ID').replace(triggerId, 'ID').replace('missing-id@2026-01-01T00:00:00.000Z', 'ID').replace('missing-id', 'ID');
    expect(theirs.body.error.code).toBe('NOT_FOUND');
    expect(strip(theirs.body.error.message)).toBe(strip(missing.body.error.message));
    expect((await h.scheduler.audit.list({ limit: 500 })).items).toHaveLength(auditBefore);
    expect((await h.scheduler.triggers.get(triggerId)).version).toBe(1);
    expect((await h.scheduler.runs.get(runId)).status).toBe('pending');
  });

  it('lists, searches, runs and the timeline show only the caller\'s; an admin sees all', async () => {
    const names = (body: { items: { name: string }[] }) => body.items.map((t) => t.name).sort();
    expect(names((await h.http.get(`${API}/triggers`).set(h.b).expect(200)).body)).toEqual(['b-job']);
    expect(names((await h.http.get(`${API}/triggers?q=job`).set(h.b).expect(200)).body)).toEqual(['b-job']);
    expect(names((await h.http.get(`${API}/triggers`).set(h.admin).expect(200)).body)).toEqual(['a-job', 'b-job']);
    expect(names((await h.http.get(`${API}/triggers?owner=user-a`).set(h.admin).expect(200)).body)).toEqual(['a-job']);
    const refused = await h.http.get(`${API}/triggers?owner=user-a`).set(h.b).expect(400);
    expect(refused.body.error.issues).toEqual([{ path: 'owner', message: expect.any(String) }]);
    expect((await h.http.get(`${API}/runs`).set(h.b).expect(200)).body.items).toEqual([]);
    expect((await h.http.get(`${API}/runs?triggerId=${triggerId}`).set(h.b).expect(200)).body.items).toEqual([]);
    expect((await h.http.get(`${API}/runs`).set(h.admin).expect(200)).body.items.map((r: { id: string }) => r.id)).toEqual([runId]);
    const owners = (body: { fires: { owner: string }[] }) => [...new Set(body.fires.map((f) => f.owner))].sort();
    expect(owners((await h.http.get(`${API}/upcoming`).set(h.b).expect(200)).body)).toEqual(['user-b']);
    expect(owners((await h.http.get(`${API}/upcoming`).set(h.admin).expect(200)).body)).toEqual(['user-a', 'user-b']);
  });

  it('keeps Health (every owner\'s numbers) to the admin view, and asks for a token', async () => {
    expect((await h.http.get(`${API}/health`).set(h.b).expect(403)).body.error.code).toBe('FORBIDDEN');
    expect((await h.http.get(`${API}/health`).set(h.admin).expect(200)).body.health.status).toBe('stopped');
    await h.http.get(`${API}/triggers`).expect(401);
    expect((await h.http.get('/admin/scheduler/').expect(303)).headers.location).toBe('/admin/scheduler/login');
  });

  it('the live stream of a scoped view carries only that owner\'s events', async () => {
    const events = await openStream(h.url, h.b);
    await h.scheduler.triggers.runNow(triggerId); // user-a's: not for user-b
    const own = await h.scheduler.forOwner('user-b').triggers.list();
    const mine = await h.scheduler.triggers.runNow(own.items[0]!.id);
    const first = await events.next();
    expect(first).toMatchObject({ event: 'run:scheduled', run: { id: mine.id, owner: 'user-b' } });
    events.close();
  });

  it('signs in through the form into an HttpOnly, SameSite=Strict cookie, and refuses a bad token', async () => {
    const bad = await h.http.post('/admin/scheduler/login').type('form').send({ token: 'not-a-token' }).expect(401);
    expect(bad.headers['set-cookie']).toBeUndefined();
    const elsewhere = await h.http.post('/admin/scheduler/login').set('Origin', 'https://evil.example').type('form').send({ token: await token('user-b') }).expect(403);
    expect(elsewhere.headers['set-cookie']).toBeUndefined();
    await h.http.post('/admin/scheduler/login').set('Sec-Fetch-Site', 'cross-site').set('Origin', 'null').type('form').send({ token: await token('user-b') }).expect(403);
    const good = await h.http.post('/admin/scheduler/login').set('Origin', h.url).type('form').send({ token: await token('user-b') }).expect(303);
    const cookie = good.headers['set-cookie']![0]!;
    expect(cookie).toMatch(/^punctual_dashboard=.+; HttpOnly; SameSite=Strict; Path=\/admin\/scheduler$/);
    const session = await h.http.get(`${API}/session`).set('Cookie', cookie.split(';')[0]!).expect(200);
    expect(session.body).toEqual({ actor: 'user-b', owner: 'user-b', canAct: true, readOnly: false });
  });
});

/** Opens the dashboard's event stream and hands out its `data:` payloads one by one. */
function openStream(url: string, headers: Record<string, string>): Promise<{ next(): Promise<unknown>; close(): void }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${url}${API}/events`, { headers }, (res: IncomingMessage) => {
      const queue: unknown[] = [];
      const waiting: ((value: unknown) => void)[] = [];
      let buffer = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffer += chunk;
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const frame = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const data = /^data: (.*)$/m.exec(frame)?.[1];
          if (data === undefined) continue;
          const value = JSON.parse(data);
          const taker = waiting.shift();
          if (taker) taker(value);
          else queue.push(value);
        }
      });
      resolve({
        next: () => (queue.length > 0 ? Promise.resolve(queue.shift()) : new Promise((r) => waiting.push(r))),
        close: () => req.destroy(),
      });
    });
    req.on('error', reject);
    req.end();
  });
}
