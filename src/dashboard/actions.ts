/**
 * The dashboard's actions. Each is one call of the public API with the actor from the host's
 * `authorize` hook, so it lands in the audit trail like any other change.
 */
import { ConflictError, ValidationError } from '../errors.js';
import { runSummary, triggerSummary } from './summaries.js';
import type { View } from './view.js';

type Body = Record<string, unknown>;
export type Action = (view: View, id: string, body: Body) => Promise<unknown>;

function optionalText(body: Body, name: string): string | undefined {
  const value = body[name];
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string') throw ValidationError.from([{ path: name, message: 'must be a string' }], 'Invalid action');
  return value;
}

export const TRIGGER_ACTIONS: Record<string, Action> = {
  async pause(view, id, body) {
    const reason = optionalText(body, 'reason');
    return triggerSummary(await view.triggers.pause(id, { actor: view.actor, ...(reason ? { reason } : {}) }));
  },
  async resume(view, id) {
    return triggerSummary(await view.triggers.resume(id, { actor: view.actor }));
  },
  async run(view, id) {
    return runSummary(await view.triggers.runNow(id, { actor: view.actor }));
  },
  async backfill(view, id, body) {
    const result = await view.triggers.backfill(id, { actor: view.actor, from: body.from as string, to: body.to as string });
    return { slots: result.slots, created: result.created.length, alreadyRun: result.alreadyRun };
  },
  /** Delete asks for the trigger's name back, so a stray click cannot delete. */
  async delete(view, id, body) {
    const trigger = await view.triggers.get(id);
    if (body.confirm !== trigger.name) {
      throw ValidationError.from([{ path: 'confirm', message: 'must repeat the trigger name to confirm the deletion' }], 'Deletion not confirmed');
    }
    await view.triggers.delete(id, { actor: view.actor });
    return { deleted: id };
  },
};

export const RUN_ACTIONS: Record<string, Action> = {
  async cancel(view, id) {
    return runSummary(await view.runs.cancel(id, { actor: view.actor }));
  },
  /**
   * Retrying a failed run is a new manual run of its trigger with the failed run's payload and
   * priority (a finished run never runs again; its record stays as it was).
   */
  async retry(view, id) {
    const run = await view.runs.get(id);
    if (run.status !== 'failed' && run.status !== 'timed_out') {
      throw new ConflictError(`Run ${id} is ${run.status}; only failed and timed-out runs can be retried`);
    }
    return runSummary(await view.triggers.runNow(run.triggerId, { actor: view.actor, payload: run.payload, priority: run.priority }));
  },
};
