import type { Response, Router } from 'express';
import type { Scheduler } from 'punctual';
import { principalOf } from '../auth.js';
import { objectBody } from '../input.js';
import { runBody } from '../serialize.js';

const JOB_FIELDS = ['taskType', 'payload', 'runAt', 'delayMs', 'priority', 'idempotencyKey'];

/**
 * Jobs without a trigger (enqueue, now or later) and events. Non-admins enqueue and publish as
 * themselves; admins enqueue for any `owner` (default: themselves) and publish to every owner.
 */
export function jobRoutes(router: Router, scheduler: Scheduler): void {
  const queue = (res: Response, owner: unknown) => {
    const { sub, admin } = principalOf(res);
    // A non-admin naming another owner gets the scoped view's 400; so does an admin's `owner`
    // that is not a valid owner (forOwner validates it).
    return admin ? scheduler.forOwner(owner === undefined ? sub : (owner as string)) : scheduler.forOwner(sub);
  };

  router.post('/api/scheduler/jobs', async (req, res) => {
    const { taskType, payload, owner, ...options } = objectBody(req.body, [...JOB_FIELDS, 'owner'], 'Invalid enqueue');
    const { sub, admin } = principalOf(res);
    const run = await queue(res, owner).enqueue(taskType, payload, { ...options, ...(!admin && owner !== undefined ? { owner } : {}), actor: sub });
    res.status(202).location(`/api/scheduler/runs/${encodeURIComponent(run.id)}`).json(runBody(run));
  });

  router.post('/api/scheduler/jobs/batch', async (req, res) => {
    const { jobs, owner } = objectBody(req.body, ['jobs', 'owner'], 'Invalid enqueue');
    const { sub, admin } = principalOf(res);
    const runs = await queue(res, owner).enqueueMany(jobs, { ...(!admin && owner !== undefined ? { owner } : {}), actor: sub });
    res.status(202).json({ items: runs.map(runBody) });
  });

  router.post('/api/scheduler/events', async (req, res) => {
    const { name, data, id } = objectBody(req.body, ['name', 'data', 'id'], 'Invalid event');
    const { sub, admin } = principalOf(res);
    const options = id !== undefined ? { id: id as string } : {};
    const result = admin ? await scheduler.publish(name as string, data, options) : await scheduler.forOwner(sub).publish(name as string, data, options);
    res.status(202).json({ eventId: result.eventId, duplicates: result.duplicates, runs: result.runs.map(runBody) });
  });
}
