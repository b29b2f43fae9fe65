/**
 * Owner isolation (R15, R16): the token subject is the owner; another owner's trigger or run
 * answers 404 exactly as a missing one does; admins see and act on everything.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { harness, notifyTrigger, type Harness } from './helpers.js';

let h: Harness;
let triggerId: string;
let runId: string;

beforeEach(async () => {
  h = await harness({ start: false }); // not started: runs stay pending, so cancel is deterministic
  triggerId = (await h.http.post('/api/scheduler/triggers').set(h.a).send(notifyTrigger('a-job')).expect(201)).body.id;
  runId = (await h.http.post(`/api/scheduler/triggers/${triggerId}/execute`).set(h.a).expect(202)).body.id;
});
afterEach(() => h.close());

type Call = [method: 'get' | 'put' | 'delete' | 'post', path: (trigger: string, run: string) => string, body?: object];
const CALLS: Record<string, Call> = {
  'get trigger': ['get', (t) => `/api/scheduler/triggers/${t}`],
  'update trigger': ['put', (t) => `/api/scheduler/triggers/${t}`, { priority: 5 }],
  'pause trigger': ['post', (t) => `/api/scheduler/triggers/${t}/pause`, { reason: 'x' }],
  'resume trigger': ['post', (t) => `/api/scheduler/triggers/${t}/resume`],
  'execute trigger': ['post', (t) => `/api/scheduler/triggers/${t}/execute`, {}],
  'trigger history': ['get', (t) => `/api/scheduler/triggers/${t}/history`],
  'get run': ['get', (_t, r) => `/api/scheduler/runs/${encodeURIComponent(r)}`],
  'cancel run': ['post', (_t, r) => `/api/scheduler/runs/${encodeURIComponent(r)}/cancel`],
  'delete trigger': ['delete', (t) => `/api/scheduler/triggers/${t}`],
};
const send = (call: Call, headers: Record<string, string>, trigger: string, run: string) => {
  const [method, path, body] = call;
  const req = h.http[method](path(trigger, run)).set(headers);
  return body ? req.send(body) : req;
};

describe('owner isolation', () => {
  it.each(Object.keys(CALLS))('%s: another owner gets the same 404 as for a missing id, and nothing changes', async (name) => {
    const call = CALLS[name]!;
    const auditBefore = (await h.http.get('/api/scheduler/audit?limit=500').set(h.admin)).body.items.length;
    const theirs = await send(call, h.b, triggerId, runId).expect(404);
    const missing = await send(call, h.b, 'missing-id', 'missing-id@2026-01-01T00:00:00.000Z').expect(404);
    const strip = (message: string) => message.replace(runId, 'ID').replace(triggerId, 'ID').replace('missing-id@2026-01-01T00:00:00.000Z', 'ID').replace('missing-id', 'ID');
    expect(theirs.body.error.code).toBe('NOT_FOUND');
    expect(strip(theirs.body.error.message)).toBe(strip(missing.body.error.message));
    expect((await h.http.get('/api/scheduler/audit?limit=500').set(h.admin)).body.items.length).toBe(auditBefore);
    expect((await h.http.get(`/api/scheduler/triggers/${triggerId}`).set(h.a)).body.version).toBe(1);
  });

  it.each(Object.keys(CALLS))('%s: the owner and an admin succeed', async (name) => {
    const call = CALLS[name]!;
    const owner = await send(call, h.a, triggerId, runId);
    expect(owner.status).toBeLessThan(300);
    const other = (await h.http.post('/api/scheduler/triggers').set(h.a).send(notifyTrigger('a-job-2')).expect(201)).body.id;
    const otherRun = (await h.http.post(`/api/scheduler/triggers/${other}/execute`).set(h.a).expect(202)).body.id;
    const admin = await send(call, h.admin, other, otherRun);
    expect(admin.status).toBeLessThan(300);
  });

  it.each(Object.keys(CALLS))('%s: no token gets 401', async (name) => {
    await send(CALLS[name]!, {}, triggerId, runId).expect(401);
  });

  it('lists only the caller\'s triggers; admins see all and may filter by owner', async () => {
    await h.http.post('/api/scheduler/triggers').set(h.b).send(notifyTrigger('b-job')).expect(201);
    const names = (res: { body: { items: { name: string }[] } }) => res.body.items.map((t) => t.name).sort();
    expect(names(await h.http.get('/api/scheduler/triggers').set(h.a))).toEqual(['a-job']);
    expect(names(await h.http.get('/api/scheduler/triggers').set(h.b))).toEqual(['b-job']);
    expect(names(await h.http.get('/api/scheduler/triggers').set(h.admin))).toEqual(['a-job', 'b-job']);
    expect(names(await h.http.get('/api/scheduler/triggers?owner=user-b').set(h.admin))).toEqual(['b-job']);
    expect(names(await h.http.get('/api/scheduler/triggers?owner=user-a').set(h.a))).toEqual(['a-job']);
    const refused = await h.http.get('/api/scheduler/triggers?owner=user-b').set(h.a).expect(400);
    expect(refused.body.error.issues).toEqual([{ path: 'owner', message: expect.any(String) }]);
  });

  it('creates for the caller; only admins may name another owner', async () => {
    const refused = await h.http.post('/api/scheduler/triggers').set(h.a).send(notifyTrigger('x', { owner: 'user-b' })).expect(400);
    expect(refused.body.error.issues.map((i: { path: string }) => i.path)).toEqual(['owner']);
    expect((await h.http.post('/api/scheduler/triggers').set(h.a).send(notifyTrigger('x', { owner: 'user-a' })).expect(201)).body.owner).toBe('user-a');
    expect((await h.http.post('/api/scheduler/triggers').set(h.admin).send(notifyTrigger('y', { owner: 'user-b' })).expect(201)).body.owner).toBe('user-b');
    expect((await h.http.post('/api/scheduler/triggers').set(h.admin).send(notifyTrigger('z')).expect(201)).body.owner).toBe('root');
    const audit = await h.http.get('/api/scheduler/audit?owner=user-b').set(h.admin).expect(200);
    expect(audit.body.items).toEqual([expect.objectContaining({ action: 'trigger.create', actor: 'root', owner: 'user-b' })]);
  });

  it('answers 403 for the admin-only audit trail, but 404 (never 403) for another owner\'s data', async () => {
    const forbidden = await h.http.get('/api/scheduler/audit').set(h.a).expect(403);
    expect(forbidden.body.error.code).toBe('FORBIDDEN');
    await h.http.get(`/api/scheduler/triggers/${triggerId}`).set(h.b).expect(404);
  });

  it('records every change with the token subject as the actor (R11)', async () => {
    await h.http.post(`/api/scheduler/triggers/${triggerId}/pause`).set(h.a).send({ reason: 'maintenance' }).expect(200);
    await h.http.post(`/api/scheduler/triggers/${triggerId}/resume`).set(h.admin).expect(200);
    await h.http.post(`/api/scheduler/runs/${encodeURIComponent(runId)}/cancel`).set(h.a).expect(200);
    await h.http.put(`/api/scheduler/triggers/${triggerId}`).set(h.a).send({ priority: 1 }).expect(200);
    await h.http.delete(`/api/scheduler/triggers/${triggerId}`).set(h.admin).expect(204);
    const trail = (await h.http.get(`/api/scheduler/audit?triggerId=${triggerId}`).set(h.admin).expect(200)).body.items;
    expect(trail.map((e: { action: string; actor: string }) => `${e.action} by ${e.actor}`).sort()).toEqual(
      ['run.cancel by user-a', 'trigger.create by user-a', 'trigger.delete by root', 'trigger.pause by user-a', 'trigger.resume by root', 'trigger.run by user-a', 'trigger.update by user-a'].sort(),
    );
  });
});
