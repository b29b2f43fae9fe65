import { timingSafeEqual } from 'node:crypto';
import type { RequestHandler, Router } from 'express';
import type { Scheduler } from 'punctual';
import { principalOf } from '../auth.js';
import { HttpError } from '../errors.js';
import { ownerFilter, parseQuery } from '../input.js';
import { auditBody, pageBody } from '../serialize.js';

const AUDIT_ACTIONS = ['trigger.create', 'trigger.update', 'trigger.delete', 'trigger.pause', 'trigger.resume', 'trigger.run', 'trigger.backfill', 'run.cancel'] as const;

/**
 * GET /api/scheduler/health, for load balancers and probes: no token needed, 200 when the
 * scheduler runs and its store answers, 503 otherwise. Store error details stay in the logs.
 */
export function healthRoute(router: Router, scheduler: Scheduler, ...guards: RequestHandler[]): void {
  router.get('/api/scheduler/health', ...guards, async (_req, res) => {
    const report = await scheduler.health();
    // Error details (host names, driver messages) stay in the logs, not in a public probe.
    const { error: _hidden, ...store } = report.store;
    const { error: lockError, ...lockStore } = report.lockStore;
    res.status(report.status === 'ok' ? 200 : 503).json({ ...report, store, lockStore: { ...lockStore, failing: lockError !== undefined } });
  });
}

/**
 * GET /metrics in the Prometheus text format. Open by default (keep it on an internal network);
 * with `token` set it needs `Authorization: Bearer <token>`, as a Prometheus scrape config can send.
 */
export function metricsRoute(router: Router, handler: RequestHandler, token: string | undefined, ...guards: RequestHandler[]): void {
  const expected = token === undefined ? null : Buffer.from(`Bearer ${token}`);
  const check: RequestHandler = (req, _res, next) => {
    const given = Buffer.from(req.headers.authorization ?? '');
    if (expected && !(given.length === expected.length && timingSafeEqual(given, expected))) {
      throw new HttpError(401, 'UNAUTHENTICATED', 'The metrics token is required', { headers: { 'WWW-Authenticate': 'Bearer' } });
    }
    next();
  };
  router.get('/metrics', ...guards, check, handler);
}

/** GET /api/scheduler/audit: the audit trail (R11), admins only; others get 403. */
export function auditRoute(router: Router, scheduler: Scheduler): void {
  router.get('/api/scheduler/audit', async (req, res) => {
    if (!principalOf(res).admin) throw new HttpError(403, 'FORBIDDEN', 'The audit trail is for admins only');
    const q = parseQuery(req.query, { limit: 'int', cursor: 'cursor', owner: 'string', triggerId: 'string', action: AUDIT_ACTIONS });
    const owner = ownerFilter(res, q.owner);
    const page = await scheduler.audit.list({ ...q, ...(owner !== undefined ? { owner } : {}) });
    res.json(pageBody(page, auditBody));
  });
}
