import type { Response, Router } from 'express';
import type { Scheduler, ScopedScheduler } from 'punctual';
import { principalOf } from '../auth.js';
import { invalid } from '../errors.js';
import { objectBody, ownerFilter, parseQuery } from '../input.js';
import { pageBody, runBody, triggerBody } from '../serialize.js';

export const TRIGGER_STATUSES = ['active', 'paused', 'completed'] as const;
export const RUN_STATUSES = ['pending', 'running', 'completed', 'failed', 'cancelled', 'timed_out', 'skipped'] as const;

const BASE = '/api/scheduler/triggers';

/**
 * Trigger routes (R1, R3, R16). Admins use the unscoped (admin) view; everyone else a view
 * scoped to their token's subject, so another owner's trigger is a 404 exactly like a missing one.
 */
export function triggerRoutes(router: Router, scheduler: Scheduler): void {
  const triggers = (res: Response) => {
    const { sub, admin } = principalOf(res);
    return admin ? scheduler.triggers : scheduler.forOwner(sub).triggers;
  };
  collectionRoutes(router, scheduler, triggers);
  itemRoutes(router, scheduler, triggers);
}

type TriggersOf = (res: Response) => Scheduler['triggers'] | ScopedScheduler['triggers'];

/** POST and GET /triggers: create (for oneself, or as an admin for anyone) and list. */
function collectionRoutes(router: Router, scheduler: Scheduler, triggers: TriggersOf): void {
  router.post(BASE, async (req, res) => {
    const { sub, admin } = principalOf(res);
    const body = plainObject(req.body, 'Invalid trigger');
    // Admins create for any owner (default: themselves); others always for themselves, and
    // naming another owner is a 400 from the scoped view.
    const trigger = admin
      ? await scheduler.triggers.create({ owner: sub, ...body }, { actor: sub })
      : await scheduler.forOwner(sub).triggers.create(body, { actor: sub });
    res.status(201).location(`${BASE}/${encodeURIComponent(trigger.id)}`).json(triggerBody(trigger));
  });

  router.get(BASE, async (req, res) => {
    const q = parseQuery(req.query, {
      limit: 'int',
      cursor: 'cursor',
      sort: ['createdAt', 'name'],
      order: ['asc', 'desc'],
      status: TRIGGER_STATUSES,
      taskType: 'string',
      name: 'string',
      namePrefix: 'string',
      owner: 'string',
    });
    const owner = ownerFilter(res, q.owner);
    const page = await triggers(res).list({ ...q, ...(owner !== undefined ? { owner } : {}) });
    res.json(pageBody(page, triggerBody));
  });

}

/** One trigger: read, change, delete, pause, resume, run now, and its history. */
function itemRoutes(router: Router, scheduler: Scheduler, triggers: TriggersOf): void {
  const runs = (res: Response) => {
    const { sub, admin } = principalOf(res);
    return admin ? scheduler.runs : scheduler.forOwner(sub).runs;
  };

  router.get(`${BASE}/:id`, async (req, res) => {
    res.json(triggerBody(await triggers(res).get(req.params.id)));
  });

  router.put(`${BASE}/:id`, async (req, res) => {
    const patch = plainObject(req.body, 'Invalid trigger update');
    if (Object.keys(patch).length === 0) throw invalid('Invalid trigger update', [{ path: 'body', message: 'must change at least one field' }]);
    const trigger = await triggers(res).update(req.params.id, patch, { actor: principalOf(res).sub });
    res.json(triggerBody(trigger));
  });

  router.delete(`${BASE}/:id`, async (req, res) => {
    objectBody(req.body, [], 'Invalid delete');
    await triggers(res).delete(req.params.id, { actor: principalOf(res).sub });
    res.status(204).end();
  });

  router.post(`${BASE}/:id/pause`, async (req, res) => {
    const { reason } = objectBody(req.body, ['reason'], 'Invalid pause');
    const trigger = await triggers(res).pause(req.params.id, { actor: principalOf(res).sub, ...(reason !== undefined ? { reason } : {}) });
    res.json(triggerBody(trigger));
  });

  router.post(`${BASE}/:id/resume`, async (req, res) => {
    objectBody(req.body, [], 'Invalid resume');
    res.json(triggerBody(await triggers(res).resume(req.params.id, { actor: principalOf(res).sub })));
  });

  router.post(`${BASE}/:id/execute`, async (req, res) => {
    // payload, priority, runAt, delayMs: punctual validates each and names the bad ones.
    const options = objectBody(req.body, ['payload', 'priority', 'runAt', 'delayMs'], 'Invalid execution');
    const run = await triggers(res).runNow(req.params.id, { ...options, actor: principalOf(res).sub });
    res.status(202).location(`/api/scheduler/runs/${encodeURIComponent(run.id)}`).json(runBody(run));
  });

  router.get(`${BASE}/:id/history`, async (req, res) => {
    const q = parseQuery(req.query, { limit: 'int', cursor: 'cursor', status: RUN_STATUSES });
    const trigger = await triggers(res).get(req.params.id); // 404 for another owner's trigger, not an empty page
    const page = await runs(res).list({ ...q, triggerId: trigger.id });
    res.json(pageBody(page, runBody));
  });
}

/** Create and update bodies must be JSON objects; punctual checks the fields and names each bad one. */
function plainObject(body: unknown, subject: string): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw invalid(subject, [{ path: 'body', message: 'must be a JSON object' }]);
  return body as Record<string, unknown>;
}
