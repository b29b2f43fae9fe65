import type { Response, Router } from 'express';
import type { Scheduler } from 'punctual';
import { principalOf } from '../auth.js';
import { objectBody, ownerFilter, parseQuery } from '../input.js';
import { pageBody, runBody } from '../serialize.js';
import { RUN_STATUSES } from './triggers.js';

const RUN_SOURCES = ['schedule', 'manual', 'event', 'backfill'] as const;

/**
 * Run history across triggers, a run's details and its cancellation (R6, B6). Another owner's
 * run is a 404, like a missing one.
 */
export function runRoutes(router: Router, scheduler: Scheduler): void {
  const runs = (res: Response) => {
    const { sub, admin } = principalOf(res);
    return admin ? scheduler.runs : scheduler.forOwner(sub).runs;
  };

  router.get('/api/scheduler/runs', async (req, res) => {
    const q = parseQuery(req.query, {
      limit: 'int', cursor: 'cursor', owner: 'string', triggerId: 'string', status: RUN_STATUSES, source: RUN_SOURCES, taskType: 'string',
    });
    const owner = ownerFilter(res, q.owner);
    const page = await runs(res).list({ ...q, ...(owner !== undefined ? { owner } : {}) });
    res.json(pageBody(page, runBody));
  });

  router.get('/api/scheduler/runs/:runId', async (req, res) => {
    res.json(runBody(await runs(res).get(req.params.runId)));
  });

  router.post('/api/scheduler/runs/:runId/cancel', async (req, res) => {
    objectBody(req.body, [], 'Invalid cancel');
    res.json(runBody(await runs(res).cancel(req.params.runId, { actor: principalOf(res).sub })));
  });
}
