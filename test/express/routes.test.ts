/** Every route's success path, list filters and pagination edges, and input errors with field paths. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { harness, notifyTrigger, type Harness } from './helpers.js';

let h: Harness;
beforeAll(async () => {
  h = await harness({ start: false });
});
afterAll(() => h.close());

const T = '/api/scheduler/triggers';

describe('trigger routes', () => {
  it('creates, reads, updates, pauses, resumes, executes, lists history and deletes', async () => {
    const at = '2031-05-01T09:30:00.000Z';
    const created = await h.http.post(T).set(h.a).send(notifyTrigger('lifecycle', { schedule: { at }, metadata: { team: 'ops' } })).expect(201);
    const id = created.body.id as string;
    expect(created.headers.location).toBe(`${T}/${id}`);
    expect(created.body).toMatchObject({ owner: 'user-a', name: 'lifecycle', status: 'active', schedule: { kind: 'once', at }, nextFireAt: at, version: 1 });
    expect(created.body.createdAt).toMatch(/^\d{4}-\d{2}-\d{2}T.*Z$/);
    expect(created.body).not.toHaveProperty('lease');

    expect((await h.http.get(`${T}/${id}`).set(h.a).expect(200)).body).toEqual(created.body);

    const updated = await h.http.put(`${T}/${id}`).set(h.a).send({ priority: 7, schedule: { cron: '0 9 * * 1-5', timezone: 'Europe/Paris' } }).expect(200);
    expect(updated.body).toMatchObject({ priority: 7, version: 2, schedule: { kind: 'cron', expression: '0 9 * * 1-5', timezone: 'Europe/Paris' } });

    const paused = await h.http.post(`${T}/${id}/pause`).set(h.a).send({ reason: 'holiday' }).expect(200);
    expect(paused.body).toMatchObject({ status: 'paused', pausedReason: 'holiday' });
    expect((await h.http.post(`${T}/${id}/resume`).set(h.a).expect(200)).body.status).toBe('active');

    const run = await h.http.post(`${T}/${id}/execute`).set(h.a).send({ payload: { to: 'b@example.com', subject: 'now' } }).expect(202);
    expect(run.body).toMatchObject({ triggerId: id, source: 'manual', status: 'pending', payload: { to: 'b@example.com', subject: 'now' } });
    expect(run.headers.location).toBe(`/api/scheduler/runs/${encodeURIComponent(run.body.id)}`);

    const history = await h.http.get(`${T}/${id}/history`).set(h.a).expect(200);
    expect(history.body).toEqual({ nextCursor: null, items: [expect.objectContaining({ id: run.body.id })] });
    expect((await h.http.get(`${T}/${id}/history?status=completed`).set(h.a).expect(200)).body).toEqual({ items: [], nextCursor: null });

    await h.http.delete(`${T}/${id}`).set(h.a).expect(204);
    await h.http.get(`${T}/${id}`).set(h.a).expect(404);
    // Deleting cancelled the pending run.
    expect((await h.http.get(`/api/scheduler/runs/${encodeURIComponent(run.body.id)}`).set(h.a).expect(200)).body.status).toBe('cancelled');
  });

  it('answers 409 for a name the owner already uses, but not for another owner', async () => {
    await h.http.post(T).set(h.a).send(notifyTrigger('dup')).expect(201);
    const conflict = await h.http.post(T).set(h.a).send(notifyTrigger('dup')).expect(409);
    expect(conflict.body.error.code).toBe('CONFLICT');
    await h.http.post(T).set(h.b).send(notifyTrigger('dup')).expect(201);
  });

  it('names every invalid field of a create, and writes nothing', async () => {
    const before = (await h.http.get('/api/scheduler/audit?limit=500').set(h.admin)).body.items.length;
    const res = await h.http
      .post(T)
      .set(h.a)
      .send({ name: 'bad name!', taskType: 'notify', payload: { to: 'not-an-email', subject: '' }, schedule: { cron: '61 * * * *' }, priority: 1e6, extra: 1 })
      .expect(400);
    expect(res.body.error.code).toBe('VALIDATION');
    const paths = res.body.error.issues.map((i: { path: string }) => i.path);
    expect(paths).toEqual(expect.arrayContaining(['extra', 'name', 'schedule.cron', 'payload.to', 'payload.subject', 'priority']));
    expect((await h.http.get('/api/scheduler/audit?limit=500').set(h.admin)).body.items.length).toBe(before);
  });

  it('refuses an empty update and unknown fields on bodyless routes', async () => {
    const id = (await h.http.post(T).set(h.a).send(notifyTrigger('strict')).expect(201)).body.id;
    expect((await h.http.put(`${T}/${id}`).set(h.a).send({}).expect(400)).body.error.issues).toEqual([{ path: 'body', message: 'must change at least one field' }]);
    expect((await h.http.put(`${T}/${id}`).set(h.a).send({ owner: 'user-b' }).expect(400)).body.error.issues[0].path).toBe('owner');
    expect((await h.http.post(`${T}/${id}/resume`).set(h.a).send({ force: true }).expect(400)).body.error.issues[0].path).toBe('force');
    expect((await h.http.post(`${T}/${id}/pause`).set(h.a).send({ reason: 42 }).expect(400)).body.error.issues[0].path).toBe('reason');
    expect((await h.http.post(`${T}/${id}/execute`).set(h.a).send({ payload: { to: 'x' } }).expect(400)).body.error.issues[0].path).toBe('payload.to');
    expect((await h.http.get(`${T}/${id}`).set(h.a)).body.version).toBe(1);
  });

  it('answers 400 for a malformed id', async () => {
    const res = await h.http.get(`${T}/${encodeURIComponent('bad id')}`).set(h.a).expect(400);
    expect(res.body.error.issues[0].path).toBe('id');
  });
});

describe('lists', () => {
  beforeAll(async () => {
    for (let i = 0; i < 7; i++) {
      const body = notifyTrigger(`page-${i}`, i % 2 ? { paused: true } : { taskType: 'report', payload: { windowHours: 1 } });
      await h.http.post(T).set(h.b).send(body).expect(201);
    }
  });
  const list = (query: string) => h.http.get(`${T}?${query}`).set(h.b);

  /** Every page of a listing, following nextCursor, as lists of names. */
  async function walk(query: string): Promise<string[][]> {
    const pages: string[][] = [];
    let cursor: string | null = null;
    do {
      const body: { items: { name: string }[]; nextCursor: string | null } = (await list(`${query}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`).expect(200)).body;
      pages.push(body.items.map((t) => t.name));
      cursor = body.nextCursor;
    } while (cursor !== null);
    return pages;
  }

  it('pages with limit and cursor, each trigger once, in the order asked', async () => {
    const all = (await list('limit=500').expect(200)).body;
    expect(all.nextCursor).toBeNull();
    expect(all.items.length).toBeGreaterThanOrEqual(7);
    const pages = await walk('limit=3');
    expect(pages.slice(0, -1).every((p) => p.length === 3)).toBe(true);
    expect(pages.flat()).toEqual(all.items.map((t: { name: string }) => t.name));
    expect((await walk('limit=2&sort=name&order=desc&namePrefix=page-')).flat()).toEqual(['page-6', 'page-5', 'page-4', 'page-3', 'page-2', 'page-1', 'page-0']);
    expect((await walk('limit=4&sort=createdAt&order=desc')).flat()).toEqual([...pages.flat()].reverse());
  });

  it('filters by status, task type, name and name prefix', async () => {
    expect((await list('status=paused').expect(200)).body.items.every((t: { status: string }) => t.status === 'paused')).toBe(true);
    expect((await list('status=paused').expect(200)).body.items).toHaveLength(3);
    expect((await list('taskType=report').expect(200)).body.items).toHaveLength(4);
    expect((await list('name=page-3').expect(200)).body.items.map((t: { name: string }) => t.name)).toEqual(['page-3']);
    expect((await list('name=nope').expect(200)).body).toEqual({ items: [], nextCursor: null });
    expect((await walk('namePrefix=page-&sort=name&limit=5')).flat()).toHaveLength(7);
    expect((await list('namePrefix=page-1').expect(200)).body.items.map((t: { name: string }) => t.name)).toEqual(['page-1']);
  });

  it('answers 400 for an altered cursor, or one from another query or owner', async () => {
    const cursor: string = (await list('limit=1').expect(200)).body.nextCursor;
    const altered = `${cursor.slice(0, -1)}${cursor.endsWith('A') ? 'B' : 'A'}`;
    const paths = async (res: { body: { error: { issues: { path: string }[] } } }) => res.body.error.issues.map((i) => i.path);
    expect(await paths(await list(`cursor=${encodeURIComponent(altered)}`).expect(400))).toEqual(['cursor']);
    expect(await paths(await list(`sort=name&cursor=${encodeURIComponent(cursor)}`).expect(400))).toEqual(['cursor']);
    expect(await paths(await h.http.get(`${T}?cursor=${encodeURIComponent(cursor)}`).set(h.a).expect(400))).toEqual(['cursor']);
    expect(await paths(await h.http.get(`${T}?cursor=${encodeURIComponent(cursor)}`).set(h.admin).expect(400))).toEqual(['cursor']);
    expect(await paths(await list(`cursor=${'x'.repeat(1_201)}`).expect(400))).toEqual(['cursor']);
  });

  it.each([
    ['limit=0', 'limit'],
    ['limit=501', 'limit'],
    ['limit=-1', 'limit'],
    ['limit=1.5', 'limit'],
    ['limit=abc', 'limit'],
    ['limit=', 'limit'],
    ['offset=3', 'offset'],
    ['limit=1&limit=2', 'limit'],
    ['status=sleeping', 'status'],
    ['sort=updatedAt', 'sort'],
    ['order=up', 'order'],
    ['namePrefix=a%25', 'namePrefix'],
  ])('answers 400 with the path for %s', async (query, path) => {
    const res = await list(query).expect(400);
    expect(res.body.error.issues.map((i: { path: string }) => i.path)).toContain(path);
  });
});

describe('runs, audit and health', () => {
  it('gets and cancels a run', async () => {
    const id = (await h.http.post(T).set(h.a).send(notifyTrigger('to-cancel')).expect(201)).body.id;
    const runId = (await h.http.post(`${T}/${id}/execute`).set(h.a).expect(202)).body.id;
    const path = `/api/scheduler/runs/${encodeURIComponent(runId)}`;
    expect((await h.http.get(path).set(h.a).expect(200)).body).toMatchObject({ id: runId, status: 'pending', attempts: [] });
    expect((await h.http.post(`${path}/cancel`).set(h.a).expect(200)).body.status).toBe('cancelled');
    await h.http.post(`${path}/cancel`).set(h.a).expect(409); // already finished
  });

  it('lists runs across triggers, newest first, each caller only their own', async () => {
    const mine = (await h.http.post(T).set(h.a).send(notifyTrigger('runs-list-a')).expect(201)).body.id;
    const theirs = (await h.http.post(T).set(h.b).send(notifyTrigger('runs-list-b')).expect(201)).body.id;
    for (let i = 0; i < 3; i++) await h.http.post(`${T}/${mine}/execute`).set(h.a).expect(202);
    await h.http.post(`${T}/${theirs}/execute`).set(h.b).expect(202);
    const seen: { id: string; owner: string; triggerId: string }[] = [];
    let cursor: string | null = null;
    do {
      const body: { items: typeof seen; nextCursor: string | null } = (await h.http.get(`/api/scheduler/runs?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`).set(h.a).expect(200)).body;
      seen.push(...body.items);
      cursor = body.nextCursor;
    } while (cursor !== null);
    expect(seen.filter((r) => r.triggerId === mine)).toHaveLength(3);
    expect(new Set(seen.map((r) => r.owner))).toEqual(new Set(['user-a']));
    expect(seen.some((r) => r.triggerId === theirs)).toBe(false);
    const admin = await h.http.get(`/api/scheduler/runs?triggerId=${encodeURIComponent(theirs)}`).set(h.admin).expect(200);
    expect(admin.body.items).toHaveLength(1);
    const other = await h.http.get(`/api/scheduler/runs?owner=${encodeURIComponent(admin.body.items[0].owner)}`).set(h.a).expect(400);
    expect(other.body.error.issues[0].path).toBe('owner');
  });

  it('lists the audit trail for admins, filtered and paged', async () => {
    const res = await h.http.get('/api/scheduler/audit?action=trigger.create&limit=2').set(h.admin).expect(200);
    expect(res.body.items).toHaveLength(2);
    expect(res.body.items.every((e: { action: string }) => e.action === 'trigger.create')).toBe(true);
    expect(res.body.nextCursor).toEqual(expect.any(String));
    const next = await h.http.get(`/api/scheduler/audit?action=trigger.create&limit=2&cursor=${encodeURIComponent(res.body.nextCursor)}`).set(h.admin).expect(200);
    const ids = [...res.body.items, ...next.body.items].map((e: { id: string }) => e.id);
    expect(new Set(ids).size).toBe(4);
    await h.http.get('/api/scheduler/audit?action=trigger.explode').set(h.admin).expect(400);
  });

  it('reports health without a token: 503 while stopped, 200 once started', async () => {
    const stopped = await h.http.get('/api/scheduler/health').expect(503);
    expect(stopped.body).toMatchObject({ status: 'stopped', store: { kind: 'memory', reachable: true } });
    const started = await harness();
    try {
      const ok = await started.http.get('/api/scheduler/health').expect(200);
      expect(ok.body).toMatchObject({ status: 'ok', running: 0, wakeups: 'poll' });
    } finally {
      await started.close();
    }
  });
});
