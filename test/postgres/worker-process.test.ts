/**
 * A dedicated worker process (test/support/dedicated-worker.ts: a started scheduler and nothing
 * else holding the event loop) against a private PostgreSQL that is restarted under it. With the
 * default `keepAlive`, the process stays up through the outage, reports `degraded`, runs the
 * next slot once PostgreSQL is back, and exits by itself (code 0) after `stop()`. With
 * `keepAlive: false` it exits as soon as the restart closes its connections: that is what the
 * option opts out of.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DedicatedWorker } from '../support/dedicated-worker-process.js';
import { missingPostgresBinaries, startPrivatePostgres, type PrivatePostgres } from '../support/private-postgres.js';
import { within } from './harness.js';

const missing = missingPostgresBinaries();
if (missing) console.warn(`dedicated worker tests skipped: ${missing}`);

describe.skipIf(missing !== null)('a dedicated worker process through a PostgreSQL restart', () => {
  let server: PrivatePostgres;
  beforeAll(async () => {
    server = await startPrivatePostgres();
  }, 60_000);
  afterAll(async () => {
    await server?.remove();
  });

  it('stays alive, reports degraded, runs the next slot after the restart, and exits by itself after stop()', { timeout: 120_000 }, async () => {
    const worker = new DedicatedWorker(server.url, 'punctual_keepalive', true);
    try {
      await worker.next((l) => l.type === 'ran', 'a first run');
      const downAt = Date.now();
      await server.stop();
      await worker.next((l) => l.type === 'health' && l.status === 'degraded' && l.at >= downAt, 'health() degraded during the outage');
      // Polls keep failing (and being retried) well into the outage: the process is still there.
      await worker.next((l) => l.type === 'error' && l.at >= downAt + 2_000, 'store errors two seconds into the outage');
      expect(worker.alive).toBe(true);
      const upAt = Date.now();
      await server.start();
      await worker.next((l) => l.type === 'ran' && (l.scheduledFor ?? 0) >= upAt, 'a slot due after the restart, run');
      expect(worker.alive).toBe(true);
      await worker.next((l) => l.type === 'health' && l.status === 'ok' && l.at >= upAt, 'health() ok again');
      worker.terminate();
      expect(await within(worker.exited, 30_000, 'the worker exiting by itself after stop()')).toBe(0);
      expect(worker.lines.some((l) => l.type === 'stopped')).toBe(true);
    } finally {
      worker.kill();
    }
  });

  it('exits during the outage with keepAlive: false (the option opts out of staying alive)', { timeout: 120_000 }, async () => {
    const worker = new DedicatedWorker(server.url, 'punctual_no_keepalive', false);
    try {
      await worker.next((l) => l.type === 'ran', 'a first run');
      await server.stop();
      expect(await within(worker.exited, 30_000, 'the worker exiting once its connections closed')).toBe(0);
      expect(worker.lines.some((l) => l.type === 'stopped')).toBe(false);
    } finally {
      worker.kill();
      if (!(await server.ready())) await server.start();
    }
  });
});
