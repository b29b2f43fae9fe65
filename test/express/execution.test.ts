/**
 * Runs through the API: a manual execute runs the handler and shows up in history; the example's
 * task types (HTTP call with timeout, notification, report); scheduled runs under a TestClock;
 * cancellation; metrics fed by all of it.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunRecord } from 'punctual';
import { TestClock } from 'punctual/testing';
import { harness, notifyTrigger, waitFor, type Harness } from './helpers.js';

const T = '/api/scheduler/triggers';
const received: { method: string; url: string; headers: IncomingMessage['headers'] }[] = [];
let target: Server;
let origin: string;
let h: Harness;
const notifications: Record<string, unknown>[] = [];

beforeAll(async () => {
  // The only server http-request tasks ever call in tests: local, and on the allow list.
  target = createServer((req, res) => {
    received.push({ method: req.method!, url: req.url!, headers: req.headers });
    if (req.url === '/hang') return; // never answers
    res.statusCode = req.url === '/gone' ? 410 : 200;
    res.end('ok');
  });
  await new Promise<void>((resolve) => target.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(target.address() as AddressInfo).port}`;
  h = await harness({
    allowedHttpOrigins: [origin],
    logger: (_level, message, fields) => {
      if (message === 'notification sent') notifications.push(fields ?? {});
    },
  });
});
afterAll(async () => {
  await h.close();
  target.closeAllConnections();
  await new Promise((resolve) => target.close(resolve));
});

const finished = (triggerId: string) =>
  waitFor<RunRecord>((listener) => {
    const offs = (['run:completed', 'run:failed', 'run:timed-out', 'run:cancelled'] as const).map((e) => h.scheduler.on(e, ({ run }) => listener(run)));
    return () => offs.forEach((off) => off());
  }, (run) => run.triggerId === triggerId);

const create = async (body: Record<string, unknown>) => (await h.http.post(T).set(h.a).send(body).expect(201)).body.id as string;

describe('manual execution', () => {
  it('runs an HTTP call on demand and shows it in history', async () => {
    const id = await create({ name: 'ping', taskType: 'http-request', payload: { url: `${origin}/ping`, method: 'POST', headers: { 'x-trace': 't1' } }, schedule: { manual: true } });
    const done = finished(id);
    const accepted = await h.http.post(`${T}/${id}/execute`).set(h.a).expect(202);
    await done;
    expect(received).toContainEqual(expect.objectContaining({ method: 'POST', url: '/ping', headers: expect.objectContaining({ 'x-trace': 't1' }) }));
    const history = await h.http.get(`${T}/${id}/history`).set(h.a).expect(200);
    expect(history.body.items).toEqual([expect.objectContaining({ id: accepted.body.id, status: 'completed', source: 'manual', result: { status: 200 }, attempt: 1 })]);
    expect(history.body.items[0].durationMs).toBeGreaterThanOrEqual(0);
  });

  it('sends a notification with the payload given to execute', async () => {
    const id = await create(notifyTrigger('notify-now'));
    const done = finished(id);
    await h.http.post(`${T}/${id}/execute`).set(h.a).send({ payload: { to: 'cto@example.com', subject: 'override' } }).expect(202);
    expect((await done).status).toBe('completed');
    expect(notifications).toContainEqual(expect.objectContaining({ to: 'cto@example.com', subject: 'override', owner: 'user-a' }));
  });

  it('counts the owner\'s runs in a report', async () => {
    const id = await create({ name: 'report', taskType: 'report', payload: { windowHours: 1 }, schedule: { manual: true } });
    const done = finished(id);
    await h.http.post(`${T}/${id}/execute`).set(h.a).expect(202);
    const run = await done;
    expect(run.status).toBe('completed');
    const stored = await h.http.get(`/api/scheduler/runs/${encodeURIComponent(run.id)}`).set(h.a).expect(200);
    expect(stored.body.result.byStatus.completed).toBeGreaterThanOrEqual(2);
    expect(stored.body.progress).toMatchObject({ percent: 100 });
  });
});

describe('the http-request task', () => {
  it('refuses URLs outside the allowed origins when the trigger is created', async () => {
    const res = await h.http.post(T).set(h.a).send({ name: 'metadata', taskType: 'http-request', payload: { url: 'http://169.254.169.254/latest' }, schedule: { manual: true } }).expect(400);
    expect(res.body.error.issues).toContainEqual(expect.objectContaining({ path: 'payload.url' }));
  });

  it('fails for good on a 4xx answer, without retrying', async () => {
    const id = await create({ name: 'gone', taskType: 'http-request', payload: { url: `${origin}/gone` }, schedule: { manual: true } });
    const done = finished(id);
    await h.http.post(`${T}/${id}/execute`).set(h.a).expect(202);
    expect(await done).toMatchObject({ status: 'failed', attempt: 1, error: { name: 'NonRetryableError' } });
  });

  it('times out a hanging call after its timeoutMs', async () => {
    const id = await create({ name: 'hang', taskType: 'http-request', payload: { url: `${origin}/hang`, timeoutMs: 100 }, schedule: { manual: true }, retry: { maxRetries: 0 } });
    const done = finished(id);
    await h.http.post(`${T}/${id}/execute`).set(h.a).expect(202);
    const run = await done;
    expect(run.status).toBe('failed');
    expect(run.error?.name).toBe('TimeoutError');
  });

  it('aborts a running call when its run is cancelled', async () => {
    const id = await create({ name: 'hang-cancel', taskType: 'http-request', payload: { url: `${origin}/hang`, timeoutMs: 60_000 }, schedule: { manual: true } });
    const started = waitFor<{ run: RunRecord }>((l) => h.scheduler.on('run:started', l), (e) => e.run.triggerId === id);
    const done = finished(id);
    const runId = (await h.http.post(`${T}/${id}/execute`).set(h.a).expect(202)).body.id;
    await started;
    const cancel = await h.http.post(`/api/scheduler/runs/${encodeURIComponent(runId)}/cancel`).set(h.a).expect(200);
    expect(cancel.body).toMatchObject({ status: 'running', cancelRequested: true });
    expect((await done).status).toBe('cancelled');
  });
});

describe('metrics', () => {
  it('exposes scheduler counters, histograms, run outcomes and HTTP requests', async () => {
    const text = (await h.http.get('/metrics').expect(200)).text;
    expect(text).toMatch(/^punctual_runs_completed_total [1-9]/m);
    expect(text).toMatch(/^punctual_run_duration_seconds_bucket\{le="\+Inf"\} [1-9]/m);
    expect(text).toMatch(/^punctual_dispatch_lag_seconds_count [1-9]/m);
    expect(text).toMatch(/^punctual_run_outcomes_total\{task_type="notify",outcome="completed"\} [1-9]/m);
    expect(text).toMatch(/^punctual_run_outcomes_total\{task_type="http-request",outcome="failed"\} [1-9]/m);
    expect(text).toMatch(/^http_requests_total\{method="POST",route="\/api\/scheduler\/triggers\/:id\/execute",status="202"\} [1-9]/m);
    expect(text).not.toMatch(/route="\/api\/scheduler\/triggers\/[a-z0-9]{10,}/); // templates, never raw ids
  });
});

describe('scheduled runs under a TestClock', () => {
  it('fires an interval trigger at each slot and lists the runs newest first', async () => {
    const clock = new TestClock(Date.UTC(2030, 0, 1, 12));
    const t = await harness({ clock });
    try {
      const id = (await t.http.post(T).set(t.a).send(notifyTrigger('every-minute', { schedule: { every: '1m' } })).expect(201)).body.id;
      expect((await t.http.get(`${T}/${id}`).set(t.a)).body.nextFireAt).toBe('2030-01-01T12:01:00.000Z');
      await clock.advance(60_000);
      await clock.advance(60_000);
      const history = await t.http.get(`${T}/${id}/history`).set(t.a).expect(200);
      expect(history.body.items.map((r: { scheduledFor: string; status: string; source: string }) => [r.scheduledFor, r.status, r.source])).toEqual([
        ['2030-01-01T12:02:00.000Z', 'completed', 'schedule'],
        ['2030-01-01T12:01:00.000Z', 'completed', 'schedule'],
      ]);
      expect((await t.http.get(`${T}/${id}`).set(t.a)).body).toMatchObject({ runCount: 2, nextFireAt: '2030-01-01T12:03:00.000Z' });
    } finally {
      await t.close();
    }
  });
});
