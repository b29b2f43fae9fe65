/**
 * The dashboard handler over HTTP: page and assets with a strict CSP, the authorize hook, the
 * read-only mode, CSRF protection, and every action landing in the audit trail with the actor.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createDashboard } from 'punctual/dashboard';
import { as, dashboardHarness, T0, type DashboardHarness } from './helpers.js';

let h: DashboardHarness;
afterEach(() => h.close());

describe('page and assets', () => {
  beforeEach(async () => {
    h = await dashboardHarness();
  });

  it('serves the page with a strict CSP, no inline script or style, and assets from the package', async () => {
    const page = await h.http.get('/dash/').set(as('root', 'admin')).expect(200);
    const csp = page.headers['content-security-policy'];
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).toContain("frame-ancestors 'none'");
    expect(page.text).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(page.text).not.toMatch(/<style|style=/);
    expect(page.text).not.toMatch(/https?:\/\//);
    const js = /src="([^"]+app\.js\?v=[0-9a-f]+)"/.exec(page.text)![1]!;
    const asset = await h.http.get(js).expect(200);
    expect(asset.headers['content-type']).toContain('text/javascript');
    expect(asset.headers['cache-control']).toContain('immutable');
    expect(asset.text).not.toMatch(/https?:\/\/(?!preactjs|www\.w3\.org)/);
  });

  it('refuses a request the authorize hook refuses, and answers unknown routes with 404', async () => {
    const refused = await h.http.get('/dash/api/triggers').expect(403);
    expect(refused.body.error.code).toBe('FORBIDDEN');
    await h.http.get('/dash/').expect(403);
    expect((await h.http.get('/dash/api/nothing').set(as('root', 'admin')).expect(404)).body.error.code).toBe('NOT_FOUND');
    expect((await h.http.get('/dash/api/runs/%E0%A4%A').set(as('root', 'admin')).expect(400)).body.error.code).toBe('VALIDATION');
  });

  it('rejects bad options when created', () => {
    expect(() => createDashboard({ scheduler: h.scheduler } as never)).toThrow(/authorize must be a function/);
    expect(() => createDashboard({ scheduler: h.scheduler, authorize: () => null, basePath: 'admin/' })).toThrow(/basePath/);
    expect(() => createDashboard({ scheduler: h.scheduler, authorize: () => null, csrfSecret: 'short' })).toThrow(/32 bytes/);
  });
});

describe('actions', () => {
  let id: string;
  beforeEach(async () => {
    h = await dashboardHarness();
    id = (await h.scheduler.triggers.create({ name: 'nightly', owner: 'alice', taskType: 'report', payload: { to: 'x' }, schedule: { cron: '0 9 * * 1-5', timezone: 'Europe/Paris' } })).id;
  });

  const post = async (path: string, body: object, user = 'alice', role?: string) =>
    h.http.post(`/dash/api${path}`).set({ ...as(user, role), 'X-CSRF-Token': await h.csrf(user, role), Origin: h.url }).send(body);

  it('pause with a reason, resume, run now, backfill and delete go through the API and the audit trail with the actor', async () => {
    expect((await post(`/triggers/${id}/pause`, { reason: 'holiday freeze' })).body).toMatchObject({ status: 'paused', pausedReason: 'holiday freeze' });
    expect((await post(`/triggers/${id}/resume`, {}, 'root', 'admin')).body.status).toBe('active');
    const run = (await post(`/triggers/${id}/run`, {})).body;
    expect(run).toMatchObject({ source: 'manual', status: 'pending', triggerId: id });
    expect((await post(`/runs/${encodeURIComponent(run.id)}/cancel`, {})).body.status).toBe('cancelled');
    const backfill = await post(`/triggers/${id}/backfill`, { from: new Date(T0 - 3 * 86_400_000).toISOString(), to: new Date(T0).toISOString() });
    expect(backfill.body).toEqual({ slots: 2, created: 2, alreadyRun: 0 }); // Thursday and Friday 09:00 Paris
    const wrong = await post(`/triggers/${id}/delete`, { confirm: 'nightl' });
    expect(wrong.status).toBe(400);
    expect(wrong.body.error.issues[0].path).toBe('confirm');
    await h.scheduler.triggers.get(id);
    expect((await post(`/triggers/${id}/delete`, { confirm: 'nightly' })).body).toEqual({ deleted: id });
    const trail = (await h.scheduler.audit.list({ triggerId: id })).items.map((e) => `${e.action} by ${e.actor}`);
    expect(trail.sort()).toEqual(['run.cancel by alice', 'trigger.backfill by alice', 'trigger.create by system', 'trigger.delete by alice', 'trigger.pause by alice', 'trigger.resume by root', 'trigger.run by alice'].sort());
    const pause = (await h.scheduler.audit.list({ triggerId: id, action: 'trigger.pause' })).items[0]!;
    expect(pause.details).toEqual({ reason: 'holiday freeze' });
  });

  it('retries a failed run as a new manual run with its payload, and refuses to retry one that did not fail', async () => {
    const flaky = await h.scheduler.triggers.create({ name: 'flaky', owner: 'alice', taskType: 'flaky', payload: {}, schedule: { manual: true } });
    await h.scheduler.start();
    const failed = new Promise((resolve) => h.scheduler.once('run:failed', resolve));
    const first = await h.scheduler.triggers.runNow(flaky.id);
    await failed;
    expect((await post(`/runs/${encodeURIComponent(first.id)}/retry`, {})).body).toMatchObject({ triggerId: flaky.id, source: 'manual' });
    const done = await h.scheduler.runs.get(first.id);
    expect(done.status).toBe('failed');
    const pending = await h.scheduler.triggers.runNow(id);
    const refused = await post(`/runs/${encodeURIComponent(pending.id)}/retry`, {});
    expect(refused.status).toBe(409);
  });

  it('refuses an action without the CSRF token, with another user\'s token, or from another origin, and writes nothing', async () => {
    const headers = as('alice');
    const missing = await h.http.post(`/dash/api/triggers/${id}/pause`).set(headers).send({});
    expect([missing.status, missing.body.error.code]).toEqual([403, 'CSRF']);
    const stolen = await h.http.post(`/dash/api/triggers/${id}/pause`).set({ ...headers, 'X-CSRF-Token': await h.csrf('mallory') }).send({});
    expect([stolen.status, stolen.body.error.code]).toEqual([403, 'CSRF']);
    const token = await h.csrf('alice');
    const crossSite = await h.http.post(`/dash/api/triggers/${id}/pause`).set({ ...headers, 'X-CSRF-Token': token, Origin: 'https://evil.example' }).send({});
    expect([crossSite.status, crossSite.body.error.code]).toEqual([403, 'CSRF']);
    const fetchSite = await h.http.post(`/dash/api/triggers/${id}/pause`).set({ ...headers, 'X-CSRF-Token': token, 'Sec-Fetch-Site': 'cross-site' }).send({});
    expect(fetchSite.status).toBe(403);
    const nullOrigin = await h.http.post(`/dash/api/triggers/${id}/pause`).set({ ...headers, 'X-CSRF-Token': token, Origin: 'null' }).send({});
    expect(nullOrigin.status).toBe(403);
    const form = await h.http.post(`/dash/api/triggers/${id}/pause`).set({ ...headers, 'X-CSRF-Token': token }).type('form').send('reason=x');
    expect(form.status).toBe(415);
    expect((await h.scheduler.triggers.get(id)).status).toBe('active');
    expect((await h.scheduler.audit.list({ triggerId: id })).items.map((e) => e.action)).toEqual(['trigger.create']);
  });

  it('a look-only user and a read-only dashboard may look but not act', async () => {
    const viewer = await post(`/triggers/${id}/pause`, {}, 'alice', 'viewer');
    expect([viewer.status, viewer.body.error.code]).toEqual([403, 'FORBIDDEN']);
    await h.http.get(`/dash/api/triggers/${id}`).set(as('alice', 'viewer')).expect(200);
    await h.close();
    h = await dashboardHarness({ readOnly: true });
    const other = (await h.scheduler.triggers.create({ name: 'n', owner: 'alice', taskType: 'report', payload: { to: 'x' }, schedule: { manual: true } })).id;
    const readOnly = await post(`/triggers/${other}/run`, {}, 'root', 'admin');
    expect([readOnly.status, readOnly.body.error.code]).toEqual([403, 'READ_ONLY']);
    expect((await h.http.get('/dash/api/session').set(as('root', 'admin'))).body).toEqual({ actor: 'root', owner: null, canAct: false, readOnly: true });
    expect((await h.scheduler.runs.list()).items).toEqual([]);
  });
});
