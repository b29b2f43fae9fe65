/** Declaring triggers by name, enqueueing jobs (now or later), batches, backfill and events over HTTP, each scoped to the caller. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { harness, notifyTrigger, type Harness } from './helpers.js';

let h: Harness;
beforeAll(async () => {
  h = await harness({ start: false });
});
afterAll(() => h.close());

const T = '/api/scheduler/triggers';
const notify = { taskType: 'notify', payload: { to: 'ops@example.com', subject: 'hello' } };

describe('schedules declared over HTTP', () => {
  it('PUT by name creates, then answers unchanged or updated; each owner has their own', async () => {
    const declared = { ...notify, schedule: { cron: '0 9 * * *' } };
    const created = await h.http.put(`${T}/by-name/report`).set(h.a).send(declared).expect(201);
    expect(created.body).toMatchObject({ action: 'created', trigger: { owner: 'user-a', name: 'report', version: 1 } });
    expect((await h.http.put(`${T}/by-name/report`).set(h.a).send(declared).expect(200)).body).toMatchObject({ action: 'unchanged', trigger: { version: 1 } });
    expect((await h.http.put(`${T}/by-name/report`).set(h.a).send({ ...declared, schedule: { cron: '0 10 * * *' } }).expect(200)).body).toMatchObject({ action: 'updated', trigger: { version: 2 } });
    // user-b's declaration of the same name is their own trigger.
    expect((await h.http.put(`${T}/by-name/report`).set(h.b).send(declared).expect(201)).body.trigger.owner).toBe('user-b');
    // An admin declares for any owner.
    expect((await h.http.put(`${T}/by-name/report`).set(h.admin).send({ ...declared, owner: 'user-b' }).expect(200)).body.action).toBe('unchanged');
    const wrongOwner = await h.http.put(`${T}/by-name/report`).set(h.a).send({ ...declared, owner: 'user-b' }).expect(400);
    expect(wrongOwner.body.error.code).toBe('VALIDATION');
    await h.http.put(`${T}/by-name/report`).set(h.a).send({ ...declared, name: 'other' }).expect(400);
    await h.http.put(`${T}/by-name/bad name`).set(h.a).send(declared).expect(400);
  });
});

describe('jobs over HTTP', () => {
  it('enqueues for the caller with a delay; a repeated idempotency key returns the same run; others get 404', async () => {
    const job = { ...notify, delayMs: 3_600_000, idempotencyKey: 'order-1' };
    const first = await h.http.post('/api/scheduler/jobs').set(h.a).send(job).expect(202);
    expect(first.body).toMatchObject({ owner: 'user-a', taskType: 'notify', status: 'pending', triggerName: 'queue:notify' });
    // An hour after the request (the real clock moves a little between validation and the write).
    expect(Math.abs(Date.parse(first.body.availableAt) - Date.parse(first.body.createdAt) - 3_600_000)).toBeLessThan(1_000);
    const again = await h.http.post('/api/scheduler/jobs').set(h.a).send(job).expect(202);
    expect(again.body.id).toBe(first.body.id);
    const path = `/api/scheduler/runs/${encodeURIComponent(first.body.id)}`;
    await h.http.get(path).set(h.b).expect(404);
    await h.http.get(path).set(h.a).expect(200);
    // Only admins enqueue for someone else.
    await h.http.post('/api/scheduler/jobs').set(h.a).send({ ...notify, owner: 'user-b' }).expect(400);
    expect((await h.http.post('/api/scheduler/jobs').set(h.admin).send({ ...notify, owner: 'user-b' }).expect(202)).body.owner).toBe('user-b');
    // An admin's owner that is not an owner string is refused, not silently replaced by the admin.
    await h.http.post('/api/scheduler/jobs').set(h.admin).send({ ...notify, owner: 123 }).expect(400);
    const bad = await h.http.post('/api/scheduler/jobs').set(h.a).send({ ...notify, runAt: '2031-01-01T00:00:00Z', delayMs: 1 }).expect(400);
    expect(bad.body.error.issues).toEqual([expect.objectContaining({ path: 'runAt' })]);
  });

  it('enqueues a batch in input order and names every bad job', async () => {
    const ok = await h.http.post('/api/scheduler/jobs/batch').set(h.b).send({ jobs: [{ ...notify, delayMs: 1_000 }, { ...notify, runAt: '2031-01-01T00:00:00Z' }] }).expect(202);
    expect(ok.body.items.map((r: { owner: string; availableAt: string }) => [r.owner, r.availableAt.slice(0, 4)])).toEqual([
      ['user-b', expect.any(String)],
      ['user-b', '2031'],
    ]);
    const bad = await h.http.post('/api/scheduler/jobs/batch').set(h.b).send({ jobs: [notify, { taskType: 'notify', payload: { to: 'x' } }] }).expect(400);
    expect(bad.body.error.issues.map((i: { path: string }) => i.path)).toContain('jobs.1.payload.to');
  });

  it('runs a trigger several times, backfills it, and publishes events only to the caller', async () => {
    const trigger = (await h.http.post(T).set(h.a).send(notifyTrigger('many', { schedule: { cron: '0 0 * * *' } })).expect(201)).body;
    const many = await h.http.post(`${T}/${trigger.id}/execute-many`).set(h.a).send({ items: [{ delayMs: 60_000 }, { priority: 5 }] }).expect(202);
    expect(many.body.items).toHaveLength(2);
    await h.http.post(`${T}/${trigger.id}/execute-many`).set(h.b).send({ items: [{}] }).expect(404);
    const later = await h.http.post(`${T}/${trigger.id}/execute`).set(h.a).send({ runAt: '2031-01-01T00:00:00Z' }).expect(202);
    expect(later.body.availableAt).toBe('2031-01-01T00:00:00.000Z');
    const backfill = await h.http.post(`${T}/${trigger.id}/backfill`).set(h.a).send({ from: '2020-01-01T00:00:00Z', to: '2020-01-04T00:00:00Z' }).expect(200);
    expect(backfill.body).toMatchObject({ slots: 3, alreadyRun: 0 });
    expect((await h.http.post(`${T}/${trigger.id}/backfill`).set(h.a).send({ from: '2020-01-01T00:00:00Z', to: '2020-01-04T00:00:00Z' }).expect(200)).body).toMatchObject({ alreadyRun: 3, created: [] });

    await h.http.post(T).set(h.a).send(notifyTrigger('on-signup-a', { schedule: { event: 'user.signup' } })).expect(201);
    await h.http.post(T).set(h.b).send(notifyTrigger('on-signup-b', { schedule: { event: 'user.signup' } })).expect(201);
    const mine = await h.http.post('/api/scheduler/events').set(h.a).send({ name: 'user.signup', data: { id: 1 }, id: 'e1' }).expect(202);
    expect(mine.body.runs.map((r: { owner: string }) => r.owner)).toEqual(['user-a']);
    expect((await h.http.post('/api/scheduler/events').set(h.a).send({ name: 'user.signup', id: 'e1' }).expect(202)).body).toMatchObject({ duplicates: 1, runs: [] });
    const everyone = await h.http.post('/api/scheduler/events').set(h.admin).send({ name: 'user.signup', id: 'e2' }).expect(202);
    expect(everyone.body.runs.map((r: { owner: string }) => r.owner).sort()).toEqual(['user-a', 'user-b']);
  });
});
