import type { Response, Router } from 'express';
import type { Scheduler } from 'punctual';
import { principalOf } from '../auth.js';
import { invalid } from '../errors.js';
import { objectBody } from '../input.js';
import { runBody, triggerBody } from '../serialize.js';

const BASE = '/api/scheduler/triggers';

/**
 * Declaring a trigger by name (upsert), several runs at once, and backfills. Owner scoping as
 * in routes/triggers.ts: admins use the admin view, everyone else their own.
 */
export function triggerActionRoutes(router: Router, scheduler: Scheduler): void {
  const triggers = (res: Response) => {
    const { sub, admin } = principalOf(res);
    return admin ? scheduler.triggers : scheduler.forOwner(sub).triggers;
  };

  router.put(`${BASE}/by-name/:name`, async (req, res) => {
    const { sub, admin } = principalOf(res);
    const body = req.body as unknown;
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw invalid('Invalid trigger', [{ path: 'body', message: 'must be a JSON object' }]);
    if ('name' in body) throw invalid('Invalid trigger', [{ path: 'name', message: 'is given by the path' }]);
    const input = { ...body, name: req.params.name };
    const { trigger, action } = admin
      ? await scheduler.triggers.upsert({ owner: sub, ...input }, { actor: sub })
      : await scheduler.forOwner(sub).triggers.upsert(input, { actor: sub });
    res.status(action === 'created' ? 201 : 200).location(`${BASE}/${encodeURIComponent(trigger.id)}`).json({ action, trigger: triggerBody(trigger) });
  });

  router.post(`${BASE}/:id/execute-many`, async (req, res) => {
    const { items, ignoreOverlap } = objectBody(req.body, ['items', 'ignoreOverlap'], 'Invalid runs');
    const runs = await triggers(res).runMany(req.params.id, items, { actor: principalOf(res).sub, ...(ignoreOverlap !== undefined ? { ignoreOverlap } : {}) });
    res.status(202).json({ items: runs.map(runBody) });
  });

  router.post(`${BASE}/:id/backfill`, async (req, res) => {
    const { from, to } = objectBody(req.body, ['from', 'to'], 'Invalid backfill range');
    const result = await triggers(res).backfill(req.params.id, { from, to, actor: principalOf(res).sub });
    res.json({ slots: result.slots, alreadyRun: result.alreadyRun, created: result.created.map(runBody) });
  });
}
